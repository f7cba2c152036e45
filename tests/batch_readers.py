"""Readers for the batch tests, importable by worker processes (a reader must be module-level).

Each records the files it reads in a folder (one empty file per read, so several processes can
write at once; given with ``functools.partial``) and can be slowed down or made to hang.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from nianbao.api import parse
from nianbao.record import Report


def _log(path: Path, log: Path | None) -> None:
    if log is not None:
        (log / f"{path.name}.{uuid.uuid4().hex}").touch()


def logging_reader(path: Path, log: Path | None = None) -> Report:
    _log(path, log)
    return parse(path)


def slow_reader(path: Path, log: Path | None = None, seconds: float = 0.2) -> Report:
    """Reads as ``parse`` does, ``seconds`` per file: a run long enough to be interrupted."""
    _log(path, log)
    time.sleep(seconds)
    return parse(path)


def hanging_reader(path: Path, log: Path | None = None) -> Report:
    """Hangs on a file whose name contains HANG; reads the others."""
    _log(path, log)
    if "HANG" in path.name:
        time.sleep(3600)
    return parse(path)


def reads(log: Path) -> list[str]:
    """The names of the files read, once per read."""
    return sorted(p.name.rsplit(".", 1)[0] for p in log.iterdir())
