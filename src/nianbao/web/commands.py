"""``nianbao serve`` and ``nianbao users``: the web app's commands, added to the CLI by
:func:`register`. FastAPI and uvicorn are imported only when a command runs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from nianbao.cli_db import DB_HELP, open_db
from nianbao.cli_zh import ChineseTyper

ROLE_HELP = "角色：管理员、审核员 或 查看者"


def _password(from_stdin: bool) -> str:
    """A new password, from standard input or asked twice; one under 8 characters is a usage error."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = str(typer.prompt("密码", hide_input=True, confirmation_prompt="再输入一次"))
    if len(password) < 8:
        typer.echo("密码至少 8 个字符", err=True)
        raise typer.Exit(2)
    return password


def register(app: typer.Typer) -> None:
    users = ChineseTyper(help="网页版的用户：添加、列出、改密码、停用。", no_args_is_help=True)
    app.add_typer(users, name="users")

    @app.command("serve")
    def serve(
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        host: Annotated[
            str, typer.Option("--host", help="监听地址；127.0.0.1 时无需登录，其他地址需要登录")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="端口")] = 8000,
        workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="同时读取上传文件的进程数")] = 2,
        ssl_certfile: Annotated[str | None, typer.Option("--ssl-certfile", help="证书文件（启用加密连接）")] = None,
        ssl_keyfile: Annotated[str | None, typer.Option("--ssl-keyfile", help="证书的私钥文件")] = None,
        allow_http: Annotated[
            bool,
            typer.Option("--allow-http", help="非本机地址也允许不加密的连接登录（仅限可信内网）"),
        ] = False,
    ) -> None:
        """启动网页版（审核、上传、比对、统计、导出、填报）；浏览器打开 http://127.0.0.1:8000 。"""
        import uvicorn

        from nianbao.web.app import create_app
        from nianbao.web.backend import StoreBackend
        from nianbao.web.settings import WebSettings

        settings = WebSettings(host=host, port=port, db=db, workers=workers, http_cookies=allow_http)
        backend = StoreBackend(open_db(db, create=True))  # a new database is filled by uploads
        if settings.login_required and not backend.has_admin():
            typer.echo(
                f"服务绑定在 {host}（非本机地址）需要登录，但数据库中还没有管理员。"
                "请先运行：nianbao users add 用户名 --role 管理员",
                err=True,
            )
            raise typer.Exit(2)
        if settings.login_required and not ssl_certfile and not allow_http:
            typer.echo(
                "提示：登录 Cookie 只通过 HTTPS 发送。请用 --ssl-certfile/--ssl-keyfile 启用 HTTPS，"
                "或放在 HTTPS 反向代理之后；可信内网可加 --allow-http。",
                err=True,
            )
        scheme = "https" if ssl_certfile else "http"
        typer.echo(f"nianbao 网页版：{scheme}://{host if ':' not in host else f'[{host}]'}:{port}/", err=True)
        uvicorn.run(
            create_app(settings, backend),
            host=host,
            port=port,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            log_level="warning",
            server_header=False,
        )

    @users.command("add")
    def users_add(
        name: Annotated[str, typer.Argument(help="用户名")],
        role: Annotated[str, typer.Option("--role", help=ROLE_HELP)] = "审核员",
        region: Annotated[
            str | None, typer.Option("--region", help="地区范围：行政区划代码前缀（如 3602）；不填为全部地区")
        ] = None,
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行）")] = False,
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    ) -> None:
        """添加用户（密码只保存加盐散列）。"""
        from nianbao.store import StoreError

        password = _password(password_stdin)
        with open_db(db, create=True) as store:
            try:
                row = store.add_user(name, password, role, region or None)
            except StoreError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from exc
            store.audit("命令行", "user.add", name, {"role": role, "region": region})
        typer.echo(f"已添加用户 {row.name}（{row.role}{'，地区 ' + row.region_scope if row.region_scope else ''}）")

    @users.command("list")
    def users_list(db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None) -> None:
        """列出用户。"""
        with open_db(db) as store:
            for u in store.users():
                state = "" if u.active else "\t已停用"
                sys.stdout.write(f"{u.name}\t{u.role}\t{u.region_scope or '全部地区'}{state}\n")

    @users.command("passwd")
    def users_passwd(
        name: Annotated[str, typer.Argument(help="用户名")],
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行）")] = False,
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    ) -> None:
        """修改用户密码。"""
        from nianbao.store import StoreError

        password = _password(password_stdin)
        with open_db(db) as store:
            try:
                store.set_password(name, password)
            except StoreError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from exc
            store.audit("命令行", "user.passwd", name, {})
        typer.echo(f"已修改 {name} 的密码")

    @users.command("disable")
    def users_disable(
        name: Annotated[str, typer.Argument(help="用户名")],
        enable: Annotated[bool, typer.Option("--enable", help="重新启用")] = False,
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    ) -> None:
        """停用（或 --enable 重新启用）用户。"""
        from nianbao.store import StoreError

        with open_db(db) as store:
            try:
                store.set_active(name, enable)
            except StoreError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from exc
            store.audit("命令行", "user.enable" if enable else "user.disable", name, {})
        typer.echo(f"已{'启用' if enable else '停用'} {name}")
