"""The Dask engine: groups of files read on ``dask.distributed`` workers.

A LocalCluster by default (``jobs`` worker processes, one thread each), or an existing cluster
by its scheduler's address. Workers need nianbao installed and the files: the same paths (a
shared folder) or the bytes shipped in the task (``ship_bytes``). A few groups per worker are in
flight at a time, so the parent holds a bounded number of results. When a worker dies, the
scheduler runs its groups again elsewhere; the parent writes a group's rows only once, when its
result arrives. Inside a worker, a group is read through ``nianbao.pool`` (a child process with
the per-file time limit and memory ceiling) when the worker may start processes (the
LocalCluster here is started so; for a cluster of your own, set ``distributed.worker.daemon:
false``), otherwise in the worker's own thread without them.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from nianbao import pool
from nianbao.batch.schema import FileRows
from nianbao.batch.work import Task
from nianbao.pool import Isolation, crash_failure
from nianbao.record import Finding

GROUP = 16  # files per Dask task
IN_FLIGHT = 3  # tasks per worker thread held by the scheduler at a time

Outcome = tuple[Task, FileRows | Finding]


def read_group(tasks: list[Task], func: Callable[[Task], FileRows], isolation: Isolation) -> list[Outcome]:
    """One Dask task: a group of files, each read by ``func`` under the limits when the worker may
    have children."""
    out: list[Outcome] = []
    if not mp.current_process().daemon:
        for o in pool.run(func, tasks, Isolation(1, isolation.seconds, isolation.memory_bytes)):
            out.append((tasks[o.index], o.value if o.value is not None else o.failure or crash_failure("?")))
        return out
    for task in tasks:
        try:
            out.append((task, func(task)))
        except Exception:
            out.append((task, crash_failure("程序内部错误")))
    return out


def start_cluster(jobs: int) -> Any:
    """A LocalCluster of ``jobs`` single-threaded worker processes that may start children."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.daemon": False}):
        return LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )


def dask_engine(
    tasks: Iterator[Task],
    func: Callable[[Task], FileRows],
    isolation: Isolation,
    *,
    scheduler: str | None = None,
    client: Any = None,
) -> Iterator[Outcome]:
    """(task, rows or its failure) for every task, as groups finish on the cluster."""
    from distributed import Client, as_completed

    cluster = None
    own_client = client is None
    if client is None:
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = start_cluster(isolation.jobs)
            client = Client(cluster)
    try:
        threads = max(1, sum(client.nthreads().values()))
        groups = iter(lambda: list(islice(tasks, GROUP)), [])
        futures = as_completed()
        owner: dict[str, list[Task]] = {}

        def submit(group: list[Task]) -> None:
            future = client.submit(read_group, group, func, isolation, pure=False)
            owner[future.key] = group
            futures.add(future)

        for group in islice(groups, threads * IN_FLIGHT):
            submit(group)
        for future in futures:
            group = owner.pop(future.key)
            try:
                outcomes: list[Outcome] = future.result()
            except Exception:  # KilledWorker: the group killed every worker it ran on
                outcomes = [(t, crash_failure("Dask 集群未能完成这组文件的读取：工作进程退出或连接中断")) for t in group]
            future.release()
            yield from outcomes
            nxt = next(groups, None)
            if nxt:
                submit(nxt)
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
