"""Reports per second with 1 and 2 reading processes (``--jobs``), per format, and their ratio.

    python benchmarks/bench_jobs.py [--count 2000] [--pdf 12] [--rounds 3]
    python benchmarks/bench_jobs.py --count 5000 --formats txt --rounds 3   # text at 5,000 files

Synthetic reports (random valid records written by nianbao's renderers, as bench_parse.py makes
them; PDFs are the corpus's r001 copied, or LibreOffice-rendered when the corpus is absent) are
read three ways:

- ``in-process``: each file read and its record written as JSON in a loop in this process, no
  pool (the work alone);
- ``pool jobs=N``: ``nianbao.pool`` with N workers, each record's JSON written by the worker, as
  ``nianbao parse`` does (the reading plus the pool's cost);
- ``command jobs=N``: the whole ``nianbao parse FOLDER --jobs N > /dev/null`` process, start-up
  included (what a user waits for).

Each figure is the best of ``--rounds`` runs (the machine's two vCPUs are shared with other work;
the best run is the least disturbed). The ratio is jobs=2 over jobs=1. CPU milliseconds per report
(user + system, of every process of the run) say what the pool costs whatever the machine's load:
the reading's own CPU time is the in-process figure.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_parse import CORPUS, random_record

from nianbao import pool
from nianbao.cli import _record_json
from nianbao.render import write


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of every finished process it started
    (workers are reaped by the pool, the command by subprocess: their time is counted here)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best(rounds: int, run: partial[object]) -> tuple[float, float, object]:
    """(wall-clock seconds, CPU seconds, what ``run`` returned) of the least disturbed of ``rounds`` runs."""
    times = []
    for _ in range(rounds):
        start, cpu = time.perf_counter(), cpu_seconds()
        value = run()
        times.append((time.perf_counter() - start, cpu_seconds() - cpu, value))
    return min(times, key=lambda t: t[0])


def in_process(paths: list[Path]) -> None:
    for path in paths:
        _record_json(path, None)  # the reading and the record's JSON, as the command does


def pooled(paths: list[Path], jobs: int) -> None:
    for outcome in pool.run(partial(_record_json, indent=None), paths, pool.Isolation(jobs=jobs)):
        assert outcome.value is not None


# The command run as `python -m nianbao.cli`, and then its own CPU time (not its workers') printed.
_PARENT_CPU = """
import resource, runpy, sys
sys.argv = ["nianbao", *sys.argv[1:]]
try:
    runpy.run_module("nianbao.cli", run_name="__main__")
except SystemExit:
    pass
own = resource.getrusage(resource.RUSAGE_SELF)
sys.stderr.write(f"PARENT_CPU {own.ru_utime + own.ru_stime}\\n")
"""


def command(folder: Path, jobs: int) -> float:
    """The whole ``nianbao parse FOLDER --jobs N > /dev/null``; the CPU seconds of its own process."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with open(os.devnull, "wb") as sink:
        run = subprocess.run(
            [sys.executable, "-c", _PARENT_CPU, "parse", str(folder), "--jobs", str(jobs)],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env=env,
        )
    return float(run.stderr.rsplit("PARENT_CPU ", 1)[1])


def overhead(items: int = 20_000) -> None:
    """The pool's own cost per item: ``str`` of an int as the work, CPU time of the parent and of
    the workers (reaped at the end of the run) per item."""
    for jobs in (1, 2):
        parent, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        for _ in pool.run(str, range(items), pool.Isolation(jobs=jobs)):
            pass
        parent2, children2 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        p_us = 1e6 * (parent2.ru_utime + parent2.ru_stime - parent.ru_utime - parent.ru_stime) / items
        w_us = 1e6 * (children2.ru_utime + children2.ru_stime - children.ru_utime - children.ru_stime) / items
        print(f"pool overhead, jobs={jobs}: parent {p_us:.1f} us CPU per item, workers {w_us:.1f} us CPU per item")


def make(folder: Path, suffix: str, count: int, rng: random.Random) -> list[Path]:
    folder.mkdir()
    if suffix == ".pdf":
        real = CORPUS / "real" / "r001-huaian-city-2024.pdf"
        if real.is_file():
            return [Path(shutil.copy(real, folder / f"r{i:05d}.pdf")) for i in range(count)]
    return [write(random_record(rng), folder / f"r{i:05d}{suffix}") for i in range(count)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000, help="reports per text format")
    ap.add_argument("--docx", type=int, default=500, help="DOCX reports")
    ap.add_argument("--pdf", type=int, default=12, help="PDF reports")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--formats", default="txt,md,html,docx,pdf")
    args = ap.parse_args()
    rng = random.Random(2024)
    print(f"CPUs: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}")
    print(
        "| format | reports | in-process /s | pool jobs=1 /s | pool jobs=2 /s | ratio "
        "| command jobs=1 /s | command jobs=2 /s | ratio | CPU ms/report: in-process, pool 1, pool 2, command 2 "
        "| of which the command's own process (jobs=2) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="nianbao-jobs-") as tmp:
        for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
            count = {"docx": args.docx, "pdf": args.pdf}.get(fmt, args.count)
            folder = Path(tmp) / fmt
            paths = make(folder, f".{fmt}", count, rng)
            alone = best(args.rounds, partial(in_process, paths))
            one = best(args.rounds, partial(pooled, paths, 1))
            two = best(args.rounds, partial(pooled, paths, 2))
            c1 = best(args.rounds, partial(command, folder, 1))
            c2 = best(args.rounds, partial(command, folder, 2))
            rate = [count / wall for wall, _, _ in (alone, one, two, c1, c2)]
            cpu = " / ".join(f"{1000 * used / count:.2f}" for _, used, _ in (alone, one, two, c2))
            parent = 1000 * cast(float, c2[2]) / count  # the command's own process
            print(
                f"| {fmt} | {count} | {rate[0]:.1f} | {rate[1]:.1f} | {rate[2]:.1f} | {rate[2] / rate[1]:.2f} "
                f"| {rate[3]:.1f} | {rate[4]:.1f} | {rate[4] / rate[3]:.2f} | {cpu} | {parent:.2f} |",
                flush=True,
            )
    overhead()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
