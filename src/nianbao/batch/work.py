"""What a worker does with one file: read it, run the report-scope rules, make its rows.

The reading goes through ``parse`` (``nianbao.api``) by default; the batch runner takes any
module-level ``reader(path) -> Report`` so that a test can put in a reader that hangs.
When the engine ships the bytes to a remote worker, the file is read from them (no shared folder).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nianbao import __version__
from nianbao.api import parse
from nianbao.batch.schema import FileRows, file_rows
from nianbao.extract import extract
from nianbao.readers import ReadError, read_document, sniff_format
from nianbao.record import Finding, Report, Source
from nianbao.rules import Config, check

Reader = Callable[[Path], Report]
DEFAULT_CONFIG = Config()

# Reading codes this module gives (RD14 is the time limit in the range the team contract gives
# helper TRUST for reading limits; the code and its message move to nianbao.limits when merged).
TIMEOUT_CODE = "RD14"
CRASH_CODE = "RD01"


@dataclass(frozen=True)
class Task:
    """One file to read: its path, the content's sha256 and size, and its bytes when shipped."""

    path: str
    sha256: str
    size: int
    data: bytes | None = None


def parse_data(path: Path, data: bytes) -> Report:
    """``parse`` of bytes already in memory (the shipped-bytes case; no temporary file)."""
    digest = hashlib.sha256(data).hexdigest()
    sniffed = sniff_format(path, data[:2048])
    fmt = sniffed or path.suffix.lower().lstrip(".")
    try:
        doc = read_document(path, data, sniffed)
    except ReadError as exc:
        return Report(Source(str(path), fmt, digest), errors=(Finding(exc.code, "error", exc.message),))
    except Exception as exc:  # a reader's library choked on a hostile or broken file
        error = Finding("RD01", "error", f"文件无法读取（{type(exc).__name__}）")
        return Report(Source(str(path), fmt, digest), errors=(error,))
    return extract(doc, Source(str(path), doc.format, digest, doc.pages))


def read_task(task: Task, config: Config = DEFAULT_CONFIG, reader: Reader = parse) -> FileRows:
    """Read and check one file into its rows (runs in the worker)."""
    start = time.perf_counter()
    path = Path(task.path)
    report = parse_data(path, task.data) if task.data is not None else reader(path)
    if report.source.sha256 != task.sha256 and not report.source.sha256:
        report = _with_sha(report, task.sha256)
    checked = check(report, config)
    return file_rows(report, checked, time.perf_counter() - start, task.size, __version__)


def read_tasks(tasks: list[Task], config: Config = DEFAULT_CONFIG, reader: Reader = parse) -> list[FileRows]:
    """A group of files in one call (one Dask task reads several files)."""
    return [read_task(t, config, reader) for t in tasks]


def _with_sha(report: Report, sha256: str) -> Report:
    src = report.source
    return Report(Source(src.path, src.format, sha256, src.pages), errors=report.errors, findings=report.findings)


def failed_rows(task: Task, kind: str, detail: str, timeout: float | None) -> FileRows:
    """The rows of a file the worker did not finish: a record with one reading error."""
    if kind == "timeout":
        error = Finding(
            TIMEOUT_CODE, "error", f"读取超过时间限制（{timeout:g} 秒），已停止读取该文件；其余文件照常读取"
        )
    elif kind == "crashed":
        error = Finding(CRASH_CODE, "error", f"读取该文件时工作进程异常退出（重试后仍失败，{detail}）")
    else:
        error = Finding(CRASH_CODE, "error", f"文件无法读取（{detail}）")
    path = Path(task.path)
    fmt = sniff_format(path, b"") or path.suffix.lower().lstrip(".")
    report = Report(Source(task.path, fmt, task.sha256), errors=(error,))
    return file_rows(report, [error], 0.0, task.size, __version__)
