"""A throwaway PostgreSQL server for the store's tests.

``NIANBAO_TEST_PG`` (an SQLAlchemy URL of a server where the tests may create databases) is used
when set. Otherwise a cluster is made with ``initdb`` in a temporary folder and started with
``pg_ctl``, listening on a Unix socket in that folder only (no TCP port). ``initdb`` refuses to
run as root, so under root (CI) the server runs as the ``postgres`` user (or ``nobody``) through
``runuser``. Without PostgreSQL the tests skip with the reason, unless
``NIANBAO_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REQUIRED = os.environ.get("NIANBAO_REQUIRE_POSTGRES") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail when PostgreSQL is required."""
    if REQUIRED:
        pytest.fail(f"NIANBAO_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _server_user() -> str | None:
    """Who runs the server: the current user, or under root an unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


@contextmanager
def cluster() -> Iterator[str]:
    """A server's base URL (database ``postgres``), for the duration of the block."""
    given = os.environ.get("NIANBAO_TEST_PG")
    if given:
        yield given
        return
    bin_dir = _bin_dir()
    if bin_dir is None:
        unavailable("PostgreSQL is not installed (no initdb; apt-get install postgresql)")
        return
    user = _server_user()
    if os.geteuid() == 0 and user is None:
        unavailable("running as root without a postgres or nobody account to run the server")
        return
    folder = Path(tempfile.mkdtemp(prefix="nianbao-pg-"))
    data, log = folder / "data", folder / "server.log"
    if user is not None:
        info = pwd.getpwnam(user)
        os.chown(folder, info.pw_uid, info.pw_gid)
        folder.chmod(0o700)
    prefix = ["runuser", "-u", user, "--"] if user is not None else []
    options = (
        f"-k {folder} -c listen_addresses='' -p 5432 -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120, check=False)

    try:
        made = run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "nianbao",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if made.returncode != 0:
            unavailable(f"initdb failed: {made.stderr.strip()[-500:]}")
        started = run(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"
        )
        if started.returncode != 0:
            text = log.read_text(errors="replace") if log.exists() else started.stderr
            unavailable(f"pg_ctl could not start the server: {text.strip()[-500:]}")
        try:
            yield f"postgresql+psycopg://nianbao@/postgres?host={folder}&port=5432"
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(base_url: str) -> str:
    """A new empty database on the server; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)
