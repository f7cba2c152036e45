"""Upload jobs: the files of an upload read in worker processes by ``nianbao.pool`` (each file
under a time limit and a memory ceiling; a file that hangs or exhausts memory gets its own error
and the others go on), while the page polls the job's state. A reload shows the job where it is
(jobs live in the server process, by id).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from nianbao import pool, service
from nianbao.record import Report

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


def _parse_item(item: tuple[bytes, str]) -> dict[str, Any]:
    """What a worker does with one uploaded file: its record, as plain data."""
    data, name = item
    return service.parse_bytes(data, name).to_dict()


def parse_all(files: list[tuple[bytes, str]], limits: ParseLimits, workers: int) -> Any:
    """Records of the files in order (as dicts), each read in a worker process under the limits."""
    isolation = pool.Isolation(workers, limits.seconds, limits.memory_mb * 1024 * 1024)
    for outcome in pool.run(_parse_item, files, isolation):
        if outcome.value is not None:
            yield outcome.value
        else:
            assert outcome.failure is not None
            yield pool.failed_report(files[outcome.index][1], outcome.failure).to_dict()


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
    """Upload jobs of this server process, read one job at a time by ``workers`` processes."""

    def __init__(self, workers: int, limits: ParseLimits, keep: int = 50) -> None:
        self.limits = limits
        self.workers = max(1, workers)
        self.keep = keep
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nianbao-upload")
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
        queued = [i for i in job.items if i.state == "queued"]
        if queued:
            self._runner.submit(self._read, queued, known)
        return job

    def _read(self, items: list[JobItem], known: Any) -> None:
        for item in items:
            item.state = "reading"
        try:
            records = parse_all([(i.data, i.name) for i in items], self.limits, self.workers)
            for item, record in zip(items, records, strict=False):
                self._done(item, record, known)
        except Exception:  # the pool itself failed: every file still unread says so
            for item in items:
                if item.state == "reading":
                    item.state, item.message = "failed", "读取服务出错（程序内部错误），请重新上传"

    @staticmethod
    def _done(item: JobItem, record: dict[str, Any], known: Any) -> None:
        report = Report.from_dict(record)
        item.key = report.source.sha256
        item.agency = report.agency or ""
        item.year = report.year
        item.record = record
        if report.errors:
            item.state = "failed"
            item.message = "；".join(f"{e.rule} {e.message}" for e in report.errors)
            item.errors = len(report.errors)
        elif (stored := known(item.key)) is not None:
            item.state, item.key = "duplicate", stored
            item.message = "此文件已保存过"
        else:
            item.state = "read"
        if item.state != "read":
            item.data = b""  # kept only for a file still to be saved

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def shutdown(self) -> None:
        self._runner.shutdown(wait=False, cancel_futures=True)
