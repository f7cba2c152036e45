"""``nianbao batch``: a corpus of any size read and checked into partitioned Parquet.

The parent walks the paths, hashes each file (the record key), skips contents already in the
output or already seen in this run, and hands the rest to an engine (local worker processes, or
Dask). Results come back as small row sets; every ``chunk`` files become one partition. Memory is
bounded by the chunk size and the tasks in flight, never by the corpus. After the reading, the
collection rules run over the Parquet, one group at a time (``collect.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nianbao import __version__, pool
from nianbao.api import iter_paths, parse
from nianbao.batch.collect import run_collection
from nianbao.batch.output import check_settings, done_keys, locked, tidy, write_chunk
from nianbao.batch.schema import RECORD_OK, SCHEMA_VERSION, FileRows
from nianbao.batch.work import DEFAULT_CONFIG, Reader, Task, failed_rows, path_key, read_task
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


def local_engine(tasks: Iterable[Task], func: Callable[[Task], FileRows], isolation: Isolation) -> Results:
    """Worker processes of ``nianbao.pool`` (per-file time limit and memory ceiling). Files whose
    worker died are read once more at the end; what fails again is recorded with its failure."""
    again: list[Task] = []
    for source, last in ((tasks, False), (again, True)):
        given: dict[int, Task] = {}  # the pool numbers items in the order it takes them

        def numbered(source: Iterable[Task] = source, given: dict[int, Task] = given) -> Iterator[Task]:
            for index, task in enumerate(source):
                given[index] = task
                yield task

        for outcome in pool.run(func, numbered(), isolation):
            task = given.pop(outcome.index)
            if outcome.value is not None:
                yield task, outcome.value
            else:
                assert outcome.failure is not None
                if outcome.failure.rule in RETRIED and not last:
                    again.append(task)
                else:
                    yield task, outcome.failure
        if not again:
            return


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
        tasks = _tasks(paths, done_keys(out), walk, ship_bytes)
        func = functools.partial(read_task, config=config, reader=reader)
        isolation = Isolation(jobs, timeout or 0.0, memory_mb * MiB)
        results: Results
        if engine == "dask":
            from nianbao.batch.dask_engine import dask_engine

            results = dask_engine(tasks, func, isolation, scheduler=scheduler, client=client)
        else:
            results = local_engine(tasks, func, isolation)
        buffer: list[FileRows] = []
        read = failed = timeouts = partitions = 0
        for task, result in results:
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
        collection_start = time.perf_counter()
        found_collection = run_collection(out, config, cross_agency) if collection else 0
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
    )
