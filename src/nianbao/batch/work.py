"""What a worker does with one file: read it, run the report-scope rules, make its rows; and with
a group of files (the local engine): read each, write the group's partitions, report their count.

The reading goes through ``parse`` (``nianbao.api``) by default; the batch runner takes any
module-level ``reader(path) -> Report`` so that a test can put in a reader that hangs.
When the engine ships the bytes to a remote worker, the file is read from them (no shared folder).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from nianbao import __version__, pool
from nianbao.api import parse
from nianbao.batch.output import chunk_tables, write_tables
from nianbao.batch.schema import RECORD_OK, FileRows, file_rows
from nianbao.inputs import shown
from nianbao.readers import sniff_format
from nianbao.record import Finding, Report, Source
from nianbao.rules import Config, check

Reader = Callable[[Path], Report]
DEFAULT_CONFIG = Config()
SLICE = 32  # files of a group held as rows before they become Arrow tables


@dataclass(frozen=True)
class Task:
    """One file to read: its path, the content's sha256 and size, and its bytes when shipped."""

    path: str
    sha256: str
    size: int
    data: bytes | None = None


def _from_bytes(task: Task, data: bytes, reader: Reader) -> Report:
    """The record of shipped bytes: written under the file's own name in a private temporary
    folder (readers such as LibreOffice's need a file), read, and given back its real path."""
    with tempfile.TemporaryDirectory(prefix="nianbao-batch-") as folder:
        local = Path(folder) / (Path(task.path).name or "report")
        local.write_bytes(data)
        report = reader(local)
    return dataclasses.replace(report, source=dataclasses.replace(report.source, path=shown(task.path)))


def read_task(task: Task, config: Config = DEFAULT_CONFIG, reader: Reader = parse) -> FileRows:
    """Read and check one file into its rows (runs in the worker)."""
    start, cpu = time.perf_counter(), time.process_time()
    report = _from_bytes(task, task.data, reader) if task.data is not None else reader(Path(task.path))
    if report.source.sha256 != task.sha256:
        # A file refused or unreadable has no digest of its own; a file changed since it was
        # hashed keeps the key it was walked with, so that a resumed run knows it as done.
        report = dataclasses.replace(report, source=dataclasses.replace(report.source, sha256=task.sha256))
    checked = check(report, config)
    return file_rows(report, checked, time.perf_counter() - start, time.process_time() - cpu, task.size, __version__)


def failed_rows(task: Task, failure: Finding) -> FileRows:
    """The rows of a file whose reading did not finish (time limit, memory ceiling, a crash)."""
    path = Path(task.path)
    fmt = sniff_format(path, b"") or path.suffix.lower().lstrip(".")
    report = Report(Source(shown(task.path), fmt, task.sha256), errors=(failure,))
    return file_rows(report, [failure], 0.0, 0.0, task.size, __version__)


def path_key(path: Path) -> str:
    """The key of a file that cannot be hashed (refused or unreadable): made from its path."""
    import hashlib

    return hashlib.sha256(b"path:" + os.fsencode(path)).hexdigest()


@dataclass(frozen=True)
class Written:
    """A group of files read, checked and written as one partition by a worker: all the parent
    hears of it (the rows stay in the worker, which is what lets the parent keep up with two)."""

    partition: str
    files: int
    failed: int  # records with a reading error


def read_group(tasks: list[Task], out: Path, func: Callable[[Task], FileRows]) -> Written:
    """One item of the local engine: each file read by ``func`` (``pool.tick`` after each, so the
    time limit stays per file), then the group's partitions written. Every ``SLICE`` files the
    rows become Arrow tables: a group of 500 files held as Python rows added 130 MiB to a worker."""
    # Arrow's default allocator (mimalloc) kept 20–25 MiB a worker after its tables were written;
    # the C library's gives the memory back. The worker is the batch's alone, so is its allocator.
    pa.set_memory_pool(pa.system_memory_pool())
    keys: list[str] = []
    parts: list[dict[str, pa.Table]] = []
    rows: list[FileRows] = []
    failed = 0
    for task in tasks:
        try:
            row = func(task)
        except MemoryError:
            raise  # a heap that ran out: the pool ends this worker and the parent blames this file
        except Exception:  # as the pool records a work function that raises
            row = failed_rows(task, pool.crash_failure("程序内部错误"))
        keys.append(row.sha256)
        failed += not row.record[RECORD_OK]
        rows.append(row)
        if len(rows) >= SLICE:
            parts.append(chunk_tables(rows))
            rows = []
        pool.tick()
    if rows:
        parts.append(chunk_tables(rows))
    return Written(write_tables(out, keys, parts), len(keys), failed)
