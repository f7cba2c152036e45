"""Import speed and size of the store, against reading alone, on a ``nianbao sample`` set.

    python benchmarks/bench_store.py [--count 1000] [--samples DIR] [--pg URL] [--jobs 1 2] [--repeat 3] [--commands]
    python benchmarks/bench_store.py --samples DIR --writes 40     # the writing path alone

For each job count: reading alone (parse in ``nianbao parse``'s pool, ``pool.run``, which import
reads in too), reading with the per-report rules (what ``check`` adds; import leaves them to
``check --db``), then ``import`` into a fresh SQLite file and a fresh PostgreSQL database (a
throwaway cluster as in the tests, or ``--pg``/``NIANBAO_TEST_PG``), then ``check --db`` over
what was stored. Sizes: the database's bytes per report (SQLite: the file after a checkpoint;
PostgreSQL: pg_database_size less an empty database's), beside the source files' own bytes per
report (the store keeps each original file). One run each (wall clock), or with ``--repeat N``
the best of N runs of parse alone and of each import (``check --db`` and parse + check run
once): on a shared machine, read the ratios more than the seconds.

A second table gives CPU milliseconds per report (this process and its pool workers, from
getrusage; for PostgreSQL also the server processes serving the import's database, from /proc):
what the work costs whatever else the machine runs. With ``--commands`` a third table times the
whole commands as a user runs them, start-up included: ``nianbao parse --jobs N`` (records to
/dev/null) and ``nianbao import --jobs N`` into a fresh database. The import's aim (issue #12):
within 1.3× of parse alone at the same job count.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from nianbao import pool, service
from nianbao.authoring.sample import write_samples
from nianbao.rules import Config, check

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _parse(path: str) -> int:
    return len(service.parse_path(path).sections)


def _parse_check(path: str) -> int:
    return len(check(service.parse_path(path), Config()))


def cpu() -> float:
    """CPU seconds of this process and of its children waited for (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def server_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL processes serving ``database`` (their titles name it)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            title = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in f"{title} ":
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def pooled(files: list[str], work: Callable[[str], int], jobs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``work`` over the files in ``nianbao parse``'s pool (``pool.run``,
    ``jobs`` worker processes under the default limits), which import reads in too."""
    start, start_cpu = time.perf_counter(), cpu()
    for outcome in pool.run(work, files, pool.Isolation(jobs)):
        assert outcome.value is not None, outcome.failure
    return time.perf_counter() - start, cpu() - start_cpu


def command_seconds(args: list[str], repeat: int) -> float:
    """The best wall seconds of ``repeat`` runs of a ``nianbao`` command, start-up included; its
    standard output thrown away (``parse`` writes every record there). Bytecode may be cached,
    as in an installed nianbao (this machine's shells set PYTHONDONTWRITEBYTECODE)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src")
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "nianbao.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        if done.returncode != 0:  # a failed command is no timing
            raise SystemExit(f"nianbao {' '.join(args)} ended with {done.returncode}: {done.stderr.decode()[-500:]}")
        best = min(best, time.perf_counter() - start)
    return best


def commands(folder: Path, work: Path, server: object, jobs_counts: list[int], repeat: int) -> None:
    """Whole commands: ``nianbao import --jobs N`` into a fresh database beside ``nianbao parse
    --jobs N`` over the same folder (its JSON lines written to /dev/null)."""
    from pgcluster import fresh_database

    print()
    print("Whole commands, start-up included (best of", repeat, "runs, each import into a fresh database):")
    print("| jobs | `nianbao parse` | `nianbao import` SQLite | ratio | `nianbao import` PostgreSQL | ratio |")
    print("|---|---|---|---|---|---|")
    for jobs in jobs_counts:
        parse_s = command_seconds(["parse", "--jobs", str(jobs), str(folder)], repeat)
        lite_s = pg_s = math.inf
        for again in range(repeat):
            db = work / f"command-{jobs}-{again}.db"
            lite_s = min(lite_s, command_seconds(["import", "--jobs", str(jobs), "--db", str(db), str(folder)], 1))
            pg_s = min(
                pg_s, command_seconds(["import", "--jobs", str(jobs), "--db", fresh_database(server), str(folder)], 1)
            )
        print(
            f"| {jobs} | {parse_s:.2f} s | {lite_s:.2f} s | {lite_s / parse_s:.2f}× | {pg_s:.2f} s | {pg_s / parse_s:.2f}× |"
        )


def import_into(url: str, files: list[str], jobs: int, checking: bool = True) -> tuple[float, float, float, int]:
    """(import seconds, import CPU seconds (with the server's), check --db seconds, files stored:
    new reports and new versions of one)."""
    store = service.open_store(url)
    database = (make_url(url).database or "") if url.startswith("postgresql") else ""
    start, start_cpu = time.perf_counter(), cpu() + (server_cpu(database) if database else 0.0)
    outcomes = service.import_paths(store, files, jobs=jobs)
    imported = time.perf_counter() - start
    imported_cpu = cpu() + (server_cpu(database) if database else 0.0) - start_cpu
    start = time.perf_counter()
    if checking:
        service.check_store(store)
    checked = time.perf_counter() - start
    store.close()
    return imported, imported_cpu, checked, sum(o.status in ("新增", "新版本") for o in outcomes)


def sqlite_bytes(path: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path.stat().st_size


def pg_bytes(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    engine.dispose()
    return size


def writes(files: list[str], work: Path, pg: str | None) -> None:
    """Milliseconds per report of reading, and of ``Store.add`` alone into SQLite and PostgreSQL."""
    from pgcluster import cluster, fresh_database

    start = time.perf_counter()
    reports = [service.parse_path(f) for f in files]
    print(f"reading: {(time.perf_counter() - start) / len(files) * 1000:.1f} ms a report")
    datas = [Path(f).read_bytes() for f in files]
    if pg:
        os.environ["NIANBAO_TEST_PG"] = pg
    with cluster() as server:
        for name, url in (("SQLite", f"sqlite:///{work / 'writes.db'}"), ("PostgreSQL", fresh_database(server))):
            store = service.open_store(url)
            start = time.perf_counter()
            for report, data in zip(reports, datas, strict=True):
                store.add(report, data)
            print(f"{name} Store.add: {(time.perf_counter() - start) / len(files) * 1000:.1f} ms a report")
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--samples", type=Path, help="an existing sample folder (else one is written)")
    parser.add_argument("--pg", help="a PostgreSQL server URL where databases may be created")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--commands", action="store_true", help="also time the whole commands, parse and import")
    parser.add_argument("--repeat", type=int, default=1, help="parse and import N times, keep the best (a busy host)")
    parser.add_argument(
        "--writes", type=int, metavar="N", help="only time Store.add on N reports already read (the writing path)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nianbao-bench-store-"))
    samples = args.samples or work / "samples"
    if args.samples is None:
        start = time.perf_counter()
        write_samples(samples, args.count, seed=1, error_rate=0.2)
        print(f"wrote {args.count} sample reports in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    files = [str(p) for p in sorted(samples.iterdir()) if p.suffix != ".jsonl"]
    if args.writes:
        writes(files[: args.writes], work, args.pg)
        return
    n = len(files)
    source_bytes = sum(Path(f).stat().st_size for f in files)
    print(f"{n} reports, source files {source_bytes / n / 1024:.1f} KiB per report")

    from pgcluster import cluster, fresh_database

    if args.pg:
        os.environ["NIANBAO_TEST_PG"] = args.pg
    print(f"commit {commit()}, load average before: {load()}")
    with cluster() as server:
        empty = pg_bytes(fresh_database(server))
        print(
            "| jobs | parse alone | parse + check | SQLite import | ratio | PostgreSQL import | ratio | check --db SQLite | check --db PostgreSQL |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        sizes: dict[str, float] = {}
        cpus: list[str] = []
        for jobs in args.jobs:
            parse_s, parse_cpu = pooled(files, _parse, jobs)
            check_s, _ = pooled(files, _parse_check, jobs)
            db_file = work / f"bench-{jobs}.db"
            lite, lite_cpu, lite_check, stored = import_into(f"sqlite:///{db_file}", files, jobs)
            assert stored == n, f"{stored} of {n} stored"
            sizes["SQLite"] = sqlite_bytes(db_file) / n
            url = fresh_database(server)
            pg, pg_cpu, pg_check, stored = import_into(url, files, jobs)
            assert stored == n, f"{stored} of {n} stored"
            sizes["PostgreSQL"] = (pg_bytes(url) - empty) / n
            for again in range(1, args.repeat):  # the best of the runs: what the host's other load took least from
                parse_s, parse_cpu = (min(a, b) for a, b in zip((parse_s, parse_cpu), pooled(files, _parse, jobs)))
                again_file = f"sqlite:///{work / f'bench-{jobs}-{again}.db'}"
                lite, lite_cpu = (
                    min(a, b) for a, b in zip((lite, lite_cpu), import_into(again_file, files, jobs, False))
                )
                url = fresh_database(server)
                pg, pg_cpu = (min(a, b) for a, b in zip((pg, pg_cpu), import_into(url, files, jobs, False)))
            print(
                f"| {jobs} | {n / parse_s:.0f}/s | {n / check_s:.0f}/s | {n / lite:.0f}/s | {lite / parse_s:.2f}× "
                f"| {n / pg:.0f}/s | {pg / parse_s:.2f}× | {lite_check:.1f} s | {pg_check:.1f} s |"
            )
            ms = 1000 / n
            cpus.append(
                f"| {jobs} | {parse_cpu * ms:.2f} | {lite_cpu * ms:.2f} | {lite_cpu / parse_cpu:.2f}× "
                f"| {pg_cpu * ms:.2f} | {pg_cpu / parse_cpu:.2f}× |"
            )
        print()
        print("CPU ms per report (this process, its workers; PostgreSQL: and the server's processes):")
        print("| jobs | parse alone | SQLite import | ratio | PostgreSQL import | ratio |")
        print("|---|---|---|---|---|---|")
        print("\n".join(cpus))
        for name, size in sizes.items():
            print(f"{name}: {size / 1024:.1f} KiB per report ({size / (source_bytes / n):.1f}× the source file)")
        if args.commands:
            commands(samples, work, server, args.jobs, args.repeat)
    print(f"load average after: {load()}")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def commit() -> str:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    main()
