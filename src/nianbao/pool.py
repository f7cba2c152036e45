"""Reading files in child processes, each file under a time limit and a memory ceiling.

One mechanism for every shell: ``nianbao parse/check --jobs N``, a web worker, a Dask task.

- :func:`run` keeps ``jobs`` long-lived worker processes (forked once, reused for file after file:
  the text reader does about 1,000 reports a second, so a process per file would cost more than
  the reading) and yields one :class:`Outcome` per item, in the order of the items, each as soon
  as it and every item before it are done (streaming: a hang costs only the results behind it,
  for at most the time limit).
- A worker runs under a memory ceiling (its address space, ``RLIMIT_AS``, raised by the ceiling
  over what it holds when it starts). A file that runs past the time limit has its worker killed
  (with everything it started: LibreOffice too); a file that runs out of memory or kills its
  worker gets its failure, and the worker is replaced. The other files go on.
- :func:`read_isolated` reads one file under the same limits in a child process of its own: what
  a web worker or a Dask task calls for one file; :func:`parse_many` is ``run`` over
  :func:`nianbao.api.parse`.

The work function given to :func:`run` is the test hook: a test passes one that sleeps.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import faulthandler
import math
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import connection
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, TypeVar

# Imported here, never in a worker: an import in a forked child can fail on the import lock's
# state copied from the parent (KeyError in importlib's module lock).
try:
    import resource
except ImportError:  # not on Windows: no memory ceiling there
    resource = None  # type: ignore[assignment]

from nianbao.api import parse
from nianbao.errors import reading
from nianbao.inputs import shown
from nianbao.limits import LIMITS, RD_CRASH, RD_MEMORY, RD_TIME, size_text
from nianbao.record import Finding, Report, Source

T = TypeVar("T")
R = TypeVar("R")

# Items handed to a worker ahead of the one it is reading, so it never waits for the parent: many
# when its items take milliseconds (text reports: the parent's wake-ups would otherwise pace the
# worker), few when they take longer (a queue behind a file that hangs waits for its time limit).
_AHEAD_FAST = 8
_AHEAD_SLOW = 2
_FAST_SECONDS = 0.01
# Results kept waiting for an earlier item (a slow file) before no more items are handed out.
_WINDOW_PER_JOB = 256


@dataclass(frozen=True)
class Isolation:
    """Per-file limits of a run: how many workers, seconds per file, bytes of memory per worker."""

    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    seconds: float = LIMITS.seconds
    memory_bytes: int = LIMITS.memory_bytes
    start_method: str | None = None  # "fork", "forkserver" or "spawn"; None: see _context
    ahead: int | None = None  # items handed to a worker at a time; None: by how long items take
    window: int | None = None  # results held for an earlier, slower item; None: 256 a job


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """One item's result (``value``), or why there is none (``failure``: RD14, RD15 or RD19)."""

    index: int
    value: R | None = None
    failure: Finding | None = None
    parts: int = 0  # on a failure: the parts of the item done before it (see :func:`tick`)


def time_failure(seconds: float) -> Finding:
    return reading(RD_TIME, seconds=seconds)


def memory_failure(memory_bytes: int) -> Finding:
    return reading(RD_MEMORY, size=size_text(memory_bytes))


def crash_failure(detail: str) -> Finding:
    return reading(RD_CRASH, "process", why=detail)


def failed_report(path: str | Path, failure: Finding) -> Report:
    """The record of a file whose reading did not finish."""
    return Report(source=Source(shown(path), Path(path).suffix.lower().lstrip("."), "", None), errors=(failure,))


# ---------------------------------------------------------------------------------------------
# The worker side


def _limit_memory(memory_bytes: int) -> None:
    """Cap this process's address space at what it holds now plus ``memory_bytes`` (soft limit
    only: a program it starts, LibreOffice, may raise it back for itself)."""
    if resource is None:
        return
    try:
        with open("/proc/self/statm") as handle:
            held = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        held = 0
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = held + memory_bytes
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the process that started it dies. A parent killed
    with SIGKILL cannot stop its workers, and each worker, holding copies of its siblings' pipe
    ends, would wait on its pipe for ever (seen after killed batch runs)."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pipe's end still stops an orderly parent's workers
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(0)


_PR_SET_PDEATHSIG = 1


# In a worker: where :func:`tick` reports, and the item being worked on.
_TICKS: Connection | None = None
_ITEM = -1


def tick() -> None:
    """Said by a work function after each part of a long item (each file of a batch's group):
    the time limit counts from here again, so it stays a limit per file, and when the item fails
    the parent knows how many parts were done, hence which one failed. Nothing outside a worker."""
    if _TICKS is not None:
        _TICKS.send((_ITEM, "tick", None))


def _serve(conn: Connection, work: Callable[[Any], Any], memory_bytes: int) -> None:
    """A worker's loop: (index, item) in, (index, kind, value) out, until told to stop."""
    _die_with_parent()
    faulthandler.disable()  # a worker that dies prints nothing: its file gets RD19 instead
    with contextlib.suppress(OSError):
        os.setsid()  # its own process group: a kill on time-out takes what it started with it
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
    if memory_bytes > 0:
        _limit_memory(memory_bytes)
    global _TICKS, _ITEM
    _TICKS = conn
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, item = message
        _ITEM = index
        try:
            reply: tuple[int, str, Any] = (index, "ok", work(item))
        except MemoryError:
            reply = (index, "memory", None)
        except Exception as exc:  # the work function's own failure: reported, never printed
            reply = (index, "error", type(exc).__name__)
        try:
            conn.send(reply)
        except MemoryError:
            reply = (index, "memory", None)
            with contextlib.suppress(Exception):
                conn.send(reply)
        except (OSError, ValueError):
            return
        if reply[1] == "memory":
            return  # a heap that ran out is not trusted with the next file: the parent starts a new worker


# ---------------------------------------------------------------------------------------------
# The parent side


def _context(method: str | None) -> Any:
    """How workers are started. Forking is fastest (the worker has everything imported), but a
    process with other threads (a web server, a Dask worker) is forked with their locks held: then
    workers come from a fork server (a clean single-threaded process), and ``work`` and the items
    must pickle (a top-level function or a functools.partial of one)."""
    if method is None:
        if not sys.platform.startswith("linux"):
            method = "spawn"
        else:
            method = "fork" if threading.active_count() == 1 else "forkserver"
    return multiprocessing.get_context(method)


class _Worker:
    def __init__(
        self, work: Callable[[Any], Any], memory_bytes: int, method: str | None = None, ahead: int | None = None
    ) -> None:
        context = _context(method)
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, work, memory_bytes), daemon=True)
        self.process.start()
        child.close()
        self.pending: deque[int] = deque()  # items handed over, oldest (being read) first
        self.since = time.monotonic()  # when the oldest pending item was started
        self.broken = False  # its pipe is closed: nothing more is handed over
        self.typical = 1.0  # seconds an item takes (moving average): how many to hand over ahead
        self.fixed_ahead = ahead

    @property
    def ahead(self) -> int:
        if self.fixed_ahead is not None:
            return self.fixed_ahead
        return _AHEAD_FAST if self.typical < _FAST_SECONDS else _AHEAD_SLOW

    def took(self) -> None:
        """An item finished: the next starts now."""
        now = time.monotonic()
        self.typical = 0.8 * self.typical + 0.2 * (now - self.since)
        self.since = now

    def give(self, index: int, item: Any) -> bool:
        """Hand an item over; False when the worker has gone (it may have ended itself after its
        last reply, still to be read): the item stays pending and is read again elsewhere."""
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append(index)
        try:
            self.conn.send((index, item))
        except (OSError, ValueError):
            self.broken = True
        return not self.broken

    def stop(self, kill: bool = False) -> None:
        if not kill:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            self.process.join(timeout=1)
        if self.process.is_alive() and self.process.pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)  # the worker and what it started
            with contextlib.suppress(OSError):
                self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def run(
    work: Callable[[T], R],
    items: Iterable[T],
    isolation: Isolation | None = None,
    on_done: Callable[[int], None] | None = None,
) -> Iterator[Outcome[R]]:
    """``work(item)`` for every item, in worker processes under the per-item limits; outcomes in
    the order of the items, each yielded as soon as it and those before it are done.

    ``work`` must not raise for a bad item (``api.parse`` never does); if it does, the item's
    outcome is an RD19 failure. ``on_done(n)`` is called with the count of items finished.
    An item made of parts (a group of files) calls :func:`tick` after each: the time limit is then
    one part's, and a failed item's outcome says how many parts were done.
    """
    isolation = isolation or Isolation()
    jobs = max(1, isolation.jobs)
    source = enumerate(items)
    retry: deque[tuple[int, T]] = deque()
    given: dict[int, T] = {}  # items handed to a worker and not yet finished
    done: dict[int, Outcome[R]] = {}
    next_out = 0
    finished = 0
    exhausted = False
    ticks: dict[int, int] = {}  # parts done of the items being worked on

    def start() -> _Worker:
        return _Worker(work, isolation.memory_bytes, isolation.start_method, isolation.ahead)

    workers = [start() for _ in range(jobs)]
    window = isolation.window or _WINDOW_PER_JOB * jobs

    def replace(worker: _Worker, kill: bool) -> _Worker:
        worker.stop(kill=kill)
        for index in worker.pending:  # items queued behind the failed one are read again
            retry.append((index, given[index]))
        worker.pending.clear()
        return start()

    def finish(index: int, outcome: Outcome[R]) -> None:
        nonlocal finished
        given.pop(index, None)
        parts = ticks.pop(index, 0)
        done[index] = dataclasses.replace(outcome, parts=parts) if outcome.failure is not None else outcome
        finished += 1
        if on_done is not None:
            on_done(finished)

    try:
        while True:
            for worker in workers:
                while not worker.broken and len(worker.pending) < worker.ahead and len(given) + len(done) < window:
                    if retry:
                        index, item = retry.popleft()
                    elif not exhausted:
                        try:
                            index, item = next(source)
                        except StopIteration:
                            exhausted = True
                            break
                    else:
                        break
                    given[index] = item
                    if not worker.give(index, item):
                        break
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            busy = [w for w in workers if w.pending]
            if not busy:
                if exhausted and not retry:
                    return
                continue
            now = time.monotonic()
            timeout = max(0.0, min(w.since + isolation.seconds for w in busy) - now) if isolation.seconds > 0 else None
            _wait(busy, timeout)
            for position, worker in enumerate(workers):
                if not worker.pending:
                    continue
                dead = recycle = False
                try:
                    while worker.pending and worker.conn.poll():
                        index, kind, value = worker.conn.recv()
                        if kind == "tick":  # a part of the item done: its time limit starts again
                            ticks[index] = ticks.get(index, 0) + 1
                            worker.since = time.monotonic()
                            continue
                        worker.pending.popleft()
                        worker.took()
                        if kind == "ok":
                            finish(index, Outcome(index, value=value))
                        elif kind == "memory":
                            finish(index, Outcome(index, failure=memory_failure(isolation.memory_bytes)))
                            recycle = True  # the worker has ended itself
                            break
                        else:
                            finish(index, Outcome(index, failure=crash_failure("程序内部错误")))
                except (EOFError, OSError, ValueError, MemoryError):
                    dead = True  # the worker died while (or before) sending
                if recycle:
                    workers[position] = replace(worker, kill=False)
                elif dead or worker.broken or (worker.pending and not worker.process.is_alive()):
                    if worker.pending:
                        index = worker.pending.popleft()
                        finish(index, Outcome(index, failure=_death(worker, isolation)))
                    workers[position] = replace(worker, kill=True)
                elif worker.pending and isolation.seconds > 0 and time.monotonic() - worker.since > isolation.seconds:
                    index = worker.pending.popleft()
                    finish(index, Outcome(index, failure=time_failure(isolation.seconds)))
                    workers[position] = replace(worker, kill=True)
    finally:
        for worker in workers:
            worker.stop(kill=bool(worker.pending))


def _wait(busy: list[_Worker], timeout: float | None) -> None:
    """Until a worker's pipe has a message or a worker has ended, or ``timeout`` seconds pass.
    ``multiprocessing``'s own ``wait`` builds and tears down a selector on every call, and the parent
    waits three or four times per text report: 0.35 s of its CPU over 5,000 reports, a quarter of
    what it spent. (No ``poll`` on Windows: ``wait`` there.)"""
    if not hasattr(select, "poll"):
        connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout and min(timeout, _LONGEST_WAIT))
        return
    poller = select.poll()
    for w in busy:
        poller.register(w.conn.fileno(), select.POLLIN)
        poller.register(w.process.sentinel, select.POLLIN)
    # Woken at least once an hour: a limit of 10^12 seconds (or inf) is no number of milliseconds poll takes.
    poller.poll(None if timeout is None else max(0, math.ceil(min(timeout, _LONGEST_WAIT) * 1000)))


_LONGEST_WAIT = 3600.0


def _death(worker: _Worker, isolation: Isolation) -> Finding:
    worker.process.join(timeout=1)
    code = worker.process.exitcode
    if code == -signal.SIGKILL:
        # Killed from outside while reading: on Linux, the kernel's out-of-memory killer.
        return memory_failure(isolation.memory_bytes)
    if code is not None and code < 0:
        return crash_failure(f"信号 {-code}")
    return crash_failure(f"退出码 {code}")


# ---------------------------------------------------------------------------------------------
# Reading reports


def _parse(path: str | Path) -> Report:
    return parse(path)


def parse_many(
    paths: Iterable[str | Path], isolation: Isolation | None = None, on_done: Callable[[int], None] | None = None
) -> Iterator[Report]:
    """The record of every file, in order, each read under the limits in a worker process."""
    listed = list(paths)
    for outcome in run(_parse, listed, isolation, on_done):
        if outcome.value is not None:
            yield outcome.value
        else:
            assert outcome.failure is not None
            yield failed_report(listed[outcome.index], outcome.failure)


def read_isolated(path: str | Path, isolation: Isolation | None = None) -> Report:
    """One file read under the limits in a child process: for a web worker or a Dask task."""
    isolation = isolation or Isolation(jobs=1)
    return next(parse_many([path], dataclasses.replace(isolation, jobs=1)))
