"""Reports per second with 1 and 2 reading processes (``--jobs``), per format, and their ratio.

    python benchmarks/bench_jobs.py [--count 2000] [--pdf 12] [--rounds 3]

Synthetic reports (random valid records written by nianbao's renderers, as bench_parse.py makes
them; PDFs are the corpus's r001 copied, or LibreOffice-rendered when the corpus is absent) are
read three ways:

- ``in-process``: ``api.parse`` in a loop in this process, no pool (the reading alone);
- ``pool jobs=N``: ``nianbao.pool`` with N workers, each record's JSON written by the worker, as
  ``nianbao parse`` does (the reading plus the pool's cost);
- ``command jobs=N``: the whole ``nianbao parse FOLDER --jobs N > /dev/null`` process, start-up
  included (what a user waits for).

Each figure is the best of ``--rounds`` runs (the machine's two vCPUs are shared with other work;
the best run is the least disturbed). The ratio is jobs=2 over jobs=1.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_parse import CORPUS, random_record

from nianbao import parse, pool
from nianbao.cli import _record_json
from nianbao.render import write


def best(rounds: int, run: partial[object]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def in_process(paths: list[Path]) -> None:
    for path in paths:
        parse(path)


def pooled(paths: list[Path], jobs: int) -> None:
    for outcome in pool.run(partial(_record_json, indent=None), paths, pool.Isolation(jobs=jobs)):
        assert outcome.value is not None


def command(folder: Path, jobs: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with open(os.devnull, "wb") as sink:
        subprocess.run(
            [sys.executable, "-m", "nianbao.cli", "parse", str(folder), "--jobs", str(jobs)],
            stdout=sink,
            check=False,
            env=env,
        )


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
        "| format | reports | in-process /s | pool jobs=1 /s | pool jobs=2 /s | ratio | command jobs=1 /s | command jobs=2 /s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="nianbao-jobs-") as tmp:
        for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
            count = {"docx": args.docx, "pdf": args.pdf}.get(fmt, args.count)
            folder = Path(tmp) / fmt
            paths = make(folder, f".{fmt}", count, rng)
            alone = count / best(args.rounds, partial(in_process, paths))
            one = count / best(args.rounds, partial(pooled, paths, 1))
            two = count / best(args.rounds, partial(pooled, paths, 2))
            c1 = count / best(args.rounds, partial(command, folder, 1))
            c2 = count / best(args.rounds, partial(command, folder, 2))
            print(
                f"| {fmt} | {count} | {alone:.1f} | {one:.1f} | {two:.1f} | {two / one:.2f} | {c1:.1f} | {c2:.1f} | {c2 / c1:.2f} |",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
