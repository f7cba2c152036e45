"""Opening the store a command's ``--db`` names (the CLI's commands and the web app's, ``serve``
and ``users``): a database that cannot be opened is a usage error that says why, in Chinese."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from nianbao import service

if TYPE_CHECKING:
    from nianbao.store import Store

DB_HELP = "数据库：SQLite 文件或地址（如 postgresql+psycopg://用户@主机/库）；默认环境变量 NIANBAO_DB，否则当前目录的 nianbao.db"


def open_db(db: str | None, create: bool = False) -> Store:
    """The store ``--db`` (else NIANBAO_DB, else ./nianbao.db) names. Only the commands that fill a
    store (``create``: import, agencies import, serve, users add) make a new SQLite file: a
    mistyped name given to check, stats or export is an error, not an empty database reported on.
    One that cannot be opened is a usage error (exit 2) that says why, in Chinese."""
    from sqlalchemy.engine import make_url

    from nianbao.store import resolve_url

    named = db or os.environ.get("NIANBAO_DB") or "nianbao.db"
    try:
        url = make_url(resolve_url(db))
    except Exception as exc:  # sqlalchemy's ArgumentError: not a URL it can parse
        typer.echo(f"数据库地址无法识别：{named}（SQLite 文件路径，或 postgresql+psycopg://用户@主机/库）", err=True)
        raise typer.Exit(2) from exc
    if url.drivername == "postgresql":  # SQLAlchemy's default driver is psycopg2; nianbao ships psycopg 3
        url = url.set(drivername="postgresql+psycopg")
    sqlite = url.get_backend_name() == "sqlite"
    path = Path(url.database) if sqlite and url.database and url.database != ":memory:" else None
    if path is not None and (why := _unusable_sqlite_path(path, create)):
        typer.echo(f"无法打开数据库 {named}：{why}", err=True)
        raise typer.Exit(2)
    try:
        return service.open_store(url.render_as_string(hide_password=False))
    except Exception as exc:  # a server that does not answer, a driver not installed, a file that is no database
        typer.echo(f"无法打开数据库 {named}：{_open_failure(exc, sqlite)}", err=True)
        raise typer.Exit(2) from exc


def _unusable_sqlite_path(path: Path, create: bool) -> str:
    """Why an SQLite file cannot be opened for this command ("" when it can)."""
    if path.is_dir():
        return "这是一个文件夹，请给出数据库文件名（如 nianbao.db）"
    if not path.exists() and not create:
        return "文件不存在（先用 nianbao import 导入报告；文件名是否写错？）"
    if not path.exists() and not path.parent.is_dir():
        return f"文件夹 {path.parent} 不存在"
    return ""


def _open_failure(exc: Exception, sqlite: bool) -> str:
    """The cause of a store that would not open, in words (the driver's own message is English)."""
    name = type(exc).__name__
    if name in ("NoSuchModuleError", "ArgumentError", "ModuleNotFoundError", "ImportError"):
        return "不支持的数据库类型：只支持 SQLite 文件和 PostgreSQL（postgresql+psycopg://用户@主机/库）"
    if sqlite:
        return "文件不是 SQLite 数据库，或不是 nianbao 的数据库，或没有读写权限"
    return "无法连接 PostgreSQL 服务器（地址、端口、用户、口令或库名有误，或服务器没有运行）"
