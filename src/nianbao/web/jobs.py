"""Upload jobs: files read in background worker processes, each with a time and a memory limit,
while the page polls the job's state. A reload shows the job where it is (jobs live in the server
process, by id).

``parse_isolated`` is the one place that runs a reader away from the server; it is built on
``multiprocessing`` until ``nianbao.pool`` (one child-process mechanism for the CLI, the web and
Dask) is merged, and is swapped for it then.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from nianbao.record import Finding, Report, Source

RD_TIME = "RD14"
RD_MEMORY = "RD15"
RD_CRASH = "RD19"

STATES = {
    "queued": "排队中",
    "reading": "读取中",
    "read": "已读取，待保存",
    "failed": "读取失败",
    "duplicate": "重复（已保存过）",
    "saved": "已保存",
    "refused": "未接收",
}


@dataclass(frozen=True)
class ParseLimits:
    seconds: float = 60.0
    memory_mb: int = 1536


def _parse_bytes(data: bytes, name: str) -> Report:
    from nianbao import api

    parse_bytes = getattr(api, "parse_bytes", None)
    if parse_bytes is not None:
        result: Report = parse_bytes(data, name)
        return result
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="nianbao-upload-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        report = api.parse(path)
    return replace(report, source=replace(report.source, path=name))


def _child(conn: multiprocessing.connection.Connection, data: bytes, name: str, memory_mb: int) -> None:
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    try:
        conn.send(("ok", _parse_bytes(data, name).to_dict()))
    except MemoryError:
        conn.send(("memory", None))
    except BaseException as exc:  # anything else: this file's failure, never the server's
        conn.send(("crash", type(exc).__name__))
    finally:
        conn.close()


def _failed(data: bytes, name: str, code: str, message: str) -> dict[str, Any]:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    return Report(Source(name, "", digest), errors=(Finding(code, "error", message),)).to_dict()


_context: Any = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
if os.name == "posix":
    _context.set_forkserver_preload(["nianbao.api", "nianbao.web.jobs"])


def parse_isolated(data: bytes, name: str, limits: ParseLimits) -> dict[str, Any]:
    """The record (as a dict) of one file read in a child process with a time and memory limit.
    A file that runs out of time or memory, or kills its reader, gets a record with an error."""
    receive, send = _context.Pipe(duplex=False)
    child = _context.Process(target=_child, args=(send, data, name, limits.memory_mb), daemon=True)
    child.start()
    send.close()
    try:
        if receive.poll(limits.seconds):
            try:
                status, payload = receive.recv()
            except EOFError:
                status, payload = "crash", "EOFError"
        else:
            child.kill()
            return _failed(data, name, RD_TIME, f"读取超过 {limits.seconds:g} 秒，已停止（文件可能过大或结构异常）")
    finally:
        child.join(5)
        if child.is_alive():
            child.kill()
        receive.close()
    if status == "ok":
        record: dict[str, Any] = payload
        return record
    if status == "memory":
        return _failed(data, name, RD_MEMORY, f"读取所需内存超过 {limits.memory_mb} MB，已停止")
    return _failed(data, name, RD_CRASH, f"读取意外中止（{payload}）")


@dataclass
class JobItem:
    index: int
    name: str
    state: str = "queued"
    message: str = ""
    agency: str = ""
    year: int | None = None
    key: str = ""
    errors: int = 0
    record: dict[str, Any] | None = None
    data: bytes = b""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "state": self.state,
            "state_zh": STATES.get(self.state, self.state),
            "message": self.message,
            "agency": self.agency,
            "year": self.year,
            "key": self.key,
            "errors": self.errors,
        }


@dataclass
class Job:
    id: str
    user: str
    items: list[JobItem] = field(default_factory=list)
    message: str = ""

    @property
    def done(self) -> bool:
        return all(i.state not in ("queued", "reading") for i in self.items)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.state] = out.get(item.state, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner": self.user,
            "done": self.done,
            "message": self.message,
            "counts": self.counts(),
            "items": [i.to_dict() for i in self.items],
        }


class Jobs:
    """Upload jobs of this server process; at most ``workers`` files are read at once."""

    def __init__(self, workers: int, limits: ParseLimits, keep: int = 200) -> None:
        self.limits = limits
        self.keep = keep
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="nianbao-parse")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, user: str, files: list[tuple[str, bytes]], refused: list[tuple[str, str]], known: Any) -> Job:
        job = Job(uuid.uuid4().hex[:16], user)
        for name, data in files:
            job.items.append(JobItem(len(job.items), name, data=data))
        for name, message in refused:
            job.items.append(JobItem(len(job.items), name, "refused", message))
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                self._jobs.pop(next(iter(self._jobs)))
        for item in job.items:
            if item.state == "queued":
                self._pool.submit(self._read, item, known)
        return job

    def _read(self, item: JobItem, known: Any) -> None:
        item.state = "reading"
        record = parse_isolated(item.data, item.name, self.limits)
        report = Report.from_dict(record)
        item.key = report.source.sha256
        item.agency = report.agency or ""
        item.year = report.year
        item.record = record
        if report.errors:
            item.state = "failed"
            item.message = "；".join(f"{e.rule} {e.message}" for e in report.errors)
            item.errors = len(report.errors)
        elif known(item.key):
            item.state = "duplicate"
            item.message = "此文件已保存过"
        else:
            item.state = "read"

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
