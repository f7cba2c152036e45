"""The local engine: worker processes with a per-item time limit, replaced when they die.

A small stand-in for ``nianbao.pool`` (helper TRUST's child-process mechanism with time and
memory limits); ``map_unordered`` is the one call the batch runner makes, so the pool can be
swapped for it. ``concurrent.futures.ProcessPoolExecutor`` cannot stop one hung task, so each
worker here is its own process with a pipe: the parent sends items (a few ahead, so a worker never
waits for the next), keeps when the head item started (when the item before it came back), and
kills a worker whose head item runs over the limit. A worker that dies (killed, out of memory)
is replaced; its head item is tried once more, then reported as crashed.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

AHEAD = 2  # items sent to a worker beyond the one it works on


@dataclass(frozen=True)
class Failed:
    """An item the pool could not finish: ``kind`` is "timeout", "crashed" or "error"."""

    kind: str
    detail: str = ""


def _worker_main(conn: Connection, func: Callable[[Any], Any]) -> None:
    try:
        conn.send(("ready", None))  # the time limit counts from here, not from a slow start
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if item is None:
            return
        try:
            result: Any = ("ok", func(item))
        except Exception as exc:  # the function's own failure is a result, the worker lives on
            result = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Worker(Generic[T]):
    process: BaseProcess
    conn: Connection
    queue: deque[T] = field(default_factory=deque)
    head_started: float = 0.0
    ready: bool = False


def _context() -> Any:
    # forkserver: children fork from a clean server process (no threads of the parent), cheaply.
    # The server imports the reading code once, so a new worker starts in milliseconds.
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["nianbao.batch.work"])
    return ctx


class LocalPool(Generic[T, R]):
    """``jobs`` worker processes running ``func`` (a module-level function) on items."""

    def __init__(self, func: Callable[[T], R], jobs: int, timeout: float | None = None, retries: int = 1) -> None:
        self.func = func
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.retries = retries
        self._ctx = _context()
        self._workers: list[_Worker[T]] = []
        self.pids: list[int] = []  # live worker pids (for tests and progress)

    def _start(self) -> _Worker[T]:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, self.func), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _stop(self, worker: _Worker[T], kill: bool) -> None:
        if kill:
            worker.process.kill()
        else:
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.conn.send(None)
        worker.process.join(5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def map_unordered(self, items: Iterable[T]) -> Iterator[tuple[T, R | Failed]]:
        """(item, result or Failed) for every item, in the order they finish."""
        pending = iter(items)
        retry: deque[T] = deque()
        tries: dict[int, int] = {}
        self._workers = [w for w in self._workers if w.process.is_alive()]
        self._workers += [self._start() for _ in range(self.jobs - len(self._workers))]
        exhausted = False
        try:
            while True:
                # Keep every worker fed.
                for w in self._workers:
                    while len(w.queue) <= AHEAD:
                        if retry:
                            item = retry.popleft()
                        elif not exhausted:
                            try:
                                item = next(pending)
                            except StopIteration:
                                exhausted = True
                                break
                        else:
                            break
                        if not w.queue:
                            w.head_started = time.monotonic()
                        w.queue.append(item)
                        try:
                            w.conn.send(item)
                        except (BrokenPipeError, OSError):
                            break  # the worker died: its queue is taken back below
                self.pids = [w.process.pid or 0 for w in self._workers]
                busy = [w for w in self._workers if w.queue]
                if not busy:
                    return
                wait_for = None
                timed = [w for w in busy if w.ready]
                if self.timeout is not None and timed:
                    now = time.monotonic()
                    wait_for = max(0.0, min(w.head_started + self.timeout - now for w in timed))
                signalled = wait([x for w in busy for x in (w.conn, w.process.sentinel)], wait_for)
                now = time.monotonic()
                for i, w in enumerate(self._workers):
                    if not w.queue:
                        continue
                    if w.conn in signalled:
                        try:
                            while w.conn.poll():
                                status, value = w.conn.recv()
                                if status == "ready":
                                    w.ready, w.head_started = True, now
                                    continue
                                item = w.queue.popleft()
                                w.head_started = now
                                yield item, (value if status == "ok" else Failed("error", value))
                            continue
                        except (EOFError, OSError):
                            pass  # died: handled below
                    dead = w.process.sentinel in signalled or not w.process.is_alive()
                    late = w.ready and self.timeout is not None and now - w.head_started >= self.timeout
                    if not (dead or late):
                        continue
                    head = w.queue.popleft()
                    retry.extendleft(reversed(w.queue))
                    w.queue.clear()
                    self._stop(w, kill=True)
                    self._workers[i] = self._start()
                    if late and not dead:
                        yield head, Failed("timeout", f"{self.timeout:g}")
                    else:
                        key = id(head)
                        tries[key] = tries.get(key, 0) + 1
                        if tries[key] > self.retries:
                            yield head, Failed("crashed", f"exit code {w.process.exitcode}")
                        else:
                            retry.appendleft(head)
        finally:  # workers left with work (the caller stopped early) are stopped; the rest stay
            for w in [w for w in self._workers if w.queue]:
                self._stop(w, kill=True)
            self._workers = [w for w in self._workers if not w.queue]

    def close(self) -> None:
        for w in self._workers:
            self._stop(w, kill=False)
        self._workers = []
        self.pids = []

    def __enter__(self) -> LocalPool[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
