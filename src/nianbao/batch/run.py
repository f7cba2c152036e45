"""``nianbao batch``: a corpus of any size read and checked into partitioned Parquet.

The parent walks the paths, hashes each file (the record key), skips contents already in the
output or already seen in this run, and hands the rest to an engine. The local engine hands each
worker process a group of ``chunk`` files, and the worker reads them and writes the group's
partitions itself, sending back only their name and counts: the parent, which did the Arrow and
Parquet work of every file before, spent 1.4–1.8 ms per report against the worker's 2.2 and kept
two workers from running at full speed. A file whose reading fails (time limit, memory, a killed
worker) is recorded by the parent and the rest of its group read again as a new group. The Dask
engine sends rows back (its workers may not share the output folder) and the parent writes every
``chunk`` of them. Memory is bounded by the chunk size and the tasks in flight, never by the
corpus. After the reading, the collection rules run over the Parquet, one group at a time
(``collect.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from nianbao import __version__, pool
from nianbao.api import iter_paths, parse
from nianbao.batch.collect import run_collection
from nianbao.batch.output import check_settings, done_keys, locked, partition_name, tidy, write_chunk
from nianbao.batch.schema import RECORD_OK, SCHEMA_VERSION, FileRows
from nianbao.batch.work import DEFAULT_CONFIG, Reader, Task, Written, failed_rows, path_key, read_group, read_task
from nianbao.inputs import refusal
from nianbao.limits import LIMITS, RD_CRASH, RD_MEMORY, RD_TIME, MiB
from nianbao.pool import Isolation
from nianbao.record import Finding
from nianbao.rules import Config

ENGINES = ("local", "dask")
DEFAULT_CHUNK = 500
# Failures that may be the machine's rather than the file's (a worker killed from outside, the
# out-of-memory killer): such files are read once more, after the others, before being recorded.
RETRIED = (RD_MEMORY, RD_CRASH)


@dataclass(frozen=True)
class Summary:
    found: int  # files walked
    skipped: int  # already in the output (resumed)
    duplicates: int  # same content as another file of this run
    read: int  # files read in this run
    failed: int  # of them, records with a reading error
    timeouts: int
    partitions: int
    collection_findings: int
    seconds: float  # the whole run
    collection_seconds: float  # of which the rules across reports
    reading_cpu_seconds: float = 0.0  # this process's CPU time while the files were read (not the workers')


def settings(config: Config) -> dict[str, Any]:
    """What a folder's rows depend on: the schema, the nianbao version, the rule configuration."""
    return {
        "schema": SCHEMA_VERSION,
        "nianbao": __version__,
        "config": json.loads(json.dumps(dataclasses.asdict(config), sort_keys=True)),
    }


def _hash(path: Path) -> tuple[str, int] | None:
    """The content's sha256 and size; None for what is not to be opened here (a device, a FIFO,
    a looping link, a file over the size cap) or cannot be: the worker's reader then says why."""
    if refusal(path) is not None:
        return None
    try:
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256")
        return digest.hexdigest(), path.stat().st_size
    except OSError:
        return None


@dataclass
class _Walk:
    found: int = 0
    skipped: int = 0
    duplicates: int = 0


def _tasks(paths: Iterable[str | Path], done: set[str], walk: _Walk, ship: bool) -> Iterator[Task]:
    """Files to read, hashed as they are walked; contents done or seen already are skipped."""
    seen: set[str] = set()
    for path in iter_paths(paths):
        walk.found += 1
        hashed = _hash(path)
        sha, size = hashed if hashed is not None else (path_key(path), 0)
        if sha in done:
            walk.skipped += 1
            continue
        if sha in seen:
            walk.duplicates += 1
            continue
        seen.add(sha)
        yield Task(str(path), sha, size, path.read_bytes() if ship and hashed else None)


Results = Iterator[tuple[Task, FileRows | Finding]]
# What the local engine yields: a group written by its worker, or a file whose reading failed.
Events = Iterator[Written | tuple[Task, Finding]]


def local_engine(
    tasks: Iterable[Task], func: Callable[[Task], FileRows], isolation: Isolation, out: Path, chunk: int
) -> Events:
    """Worker processes of ``nianbao.pool`` (per-file time limit and memory ceiling), a group of
    ``chunk`` files at a time, each group written by its worker. When a group fails, its failing
    file is told by the pool (the files done before it) and the others are read again as a new
    group, after the rest; a file whose worker died (memory, a kill) is read once more on its own
    before its failure is recorded."""
    work = functools.partial(read_group, out=out, func=func)
    one_each = dataclasses.replace(isolation, ahead=1)  # a group is long: none waits behind another
    source: Iterable[list[Task]] = _groups(tasks, chunk, isolation.jobs)
    retried: set[str] = set()
    while True:
        later: list[list[Task]] = []
        given: dict[int, list[Task]] = {}  # the pool numbers items in the order it takes them

        def numbered(
            source: Iterable[list[Task]] = source, given: dict[int, list[Task]] = given
        ) -> Iterator[list[Task]]:
            for index, group in enumerate(source):
                given[index] = group
                yield group

        for outcome in pool.run(work, numbered(), one_each):
            group = given.pop(outcome.index)
            if outcome.value is not None:
                yield outcome.value
            else:
                assert outcome.failure is not None
                yield from _failed_group(out, group, outcome.failure, outcome.parts, retried, later)
        if not later:
            return
        source = later


# The smallest group cut at the end of a run (unless the chunk is smaller): a partition per handful of
# files would cost more in file writes than the balance between workers gains.
MIN_GROUP = 16


def _groups(tasks: Iterable[Task], size: int, jobs: int) -> Iterator[list[Task]]:
    """Groups of ``size`` files, then, once the walk is seen to end (it is looked ahead by a group
    per worker), halving: each group is the remainder's share of one worker, so the workers finish
    together instead of one reading the last whole group alone (1,000 text files in groups of 500
    on two workers: 500, 250, 125, … instead of 500 and 500 then nothing to balance a slow one)."""
    ahead: deque[Task] = deque()
    source = iter(tasks)
    ended = False
    smallest = min(size, MIN_GROUP)
    while True:
        while not ended and len(ahead) < size * jobs:
            task = next(source, None)
            if task is None:
                ended = True
            else:
                ahead.append(task)
        if not ahead:
            return
        n = size if not ended else min(size, max(smallest, -(-len(ahead) // jobs)))
        yield [ahead.popleft() for _ in range(min(n, len(ahead)))]


def _failed_group(
    out: Path, group: list[Task], failure: Finding, parts: int, retried: set[str], later: list[list[Task]]
) -> Events:
    """What a failed group leaves: its failing file's failure (or a retry), the others for later."""
    name = partition_name([t.sha256 for t in group])
    if (out / "records" / name).is_file():  # written before its worker was stopped: done
        ok = pq.read_table(out / "records" / name, columns=["ok"]).column("ok").to_pylist()
        yield Written(name, len(ok), ok.count(False))
        return
    if parts >= len(group):  # every file read, the partition not written (stopped while writing)
        parts = len(group) - 1  # the last file is blamed: the loop ends, each failure removes a file
    bad = group[parts]
    rest = group[:parts] + group[parts + 1 :]
    if failure.rule in RETRIED and bad.sha256 not in retried:
        retried.add(bad.sha256)
        later.append([bad])
    else:
        yield bad, failure
    if rest:
        later.append(rest)


def run_batch(
    paths: Iterable[str | Path],
    out: Path,
    *,
    engine: str = "local",
    jobs: int | None = None,
    timeout: float | None = 60.0,
    chunk: int = DEFAULT_CHUNK,
    memory_mb: int = LIMITS.memory_bytes // MiB,
    scheduler: str | None = None,
    ship_bytes: bool = False,
    config: Config = DEFAULT_CONFIG,
    reader: Reader = parse,
    collection: bool = True,
    cross_agency: bool = False,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Read and check every file under ``paths`` into ``out``; resume where a run stopped.

    ``client``: a ``distributed.Client`` to use with the Dask engine instead of starting one.
    """
    if engine not in ENGINES:
        raise ValueError(f"未知的引擎：{engine}（可用 {'、'.join(ENGINES)}）")
    start = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    with locked(out):
        check_settings(out, settings(config))
        tidy(out)
        walk = _Walk()
        reading_cpu = time.process_time()
        tasks = _tasks(paths, done_keys(out), walk, ship_bytes)
        func = functools.partial(read_task, config=config, reader=reader)
        isolation = Isolation(jobs, timeout or 0.0, memory_mb * MiB)
        if engine == "dask":
            from nianbao.batch.dask_engine import dask_engine

            results: Events | Results = dask_engine(tasks, func, isolation, scheduler=scheduler, client=client)
        else:
            results = local_engine(tasks, func, isolation, out, chunk)
        buffer: list[FileRows] = []
        read = failed = timeouts = partitions = 0
        for event in results:
            if isinstance(event, Written):
                read += event.files
                failed += event.failed
                partitions += 1
                if progress:
                    progress(read)
                continue
            task, result = event
            if isinstance(result, Finding):
                timeouts += result.rule == RD_TIME
                result = failed_rows(task, result)
            read += 1
            failed += not result.record[RECORD_OK]
            buffer.append(result)
            if progress:
                progress(read)
            if len(buffer) >= chunk:
                write_chunk(out, buffer)
                partitions += 1
                buffer = []
        if buffer:
            write_chunk(out, buffer)
            partitions += 1
        tidy(out)  # what a worker stopped while writing left (temporary files, a half-written group)
        reading_cpu = time.process_time() - reading_cpu
        collection_start = time.perf_counter()
        found_collection = run_collection(out, config, cross_agency, jobs) if collection else 0
        collection_seconds = time.perf_counter() - collection_start
    return Summary(
        walk.found,
        walk.skipped,
        walk.duplicates,
        read,
        failed,
        timeouts,
        partitions,
        found_collection,
        time.perf_counter() - start,
        collection_seconds,
        reading_cpu,
    )
