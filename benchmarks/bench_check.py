"""How `nianbao check` grows with the batch: wall time for the first N files of a sample set.

    python benchmarks/bench_check.py --out /tmp/s5k --count 5000 --sizes 500,1000,2000,5000 --jobs 2

Writes the sample set first when the folder is empty (``nianbao sample --formats txt``), then runs
the real command, every rule on, in a child process per size, and prints one line per size:
files, seconds, files/s, and seconds per 1,000 files (flat when the growth is linear).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "nianbao-bench-check")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--sizes", default="500,1000,2000,5000")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    files = sorted(args.out.glob("*.txt")) if args.out.is_dir() else []
    if len(files) < args.count:
        subprocess.run(
            [sys.executable, "-m", "nianbao.cli", "sample", "--count", str(args.count), "--out", str(args.out)]
            + ["--seed", str(args.seed), "--formats", "txt"],
            check=True,
        )
        files = sorted(args.out.glob("*.txt"))
    print("files\tseconds\tfiles/s\ts per 1000")
    for size in (int(s) for s in args.sizes.split(",")):
        chosen = [str(f) for f in files[:size]]
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "nianbao.cli", "check", "--jobs", str(args.jobs), "--format", "jsonl", *chosen],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        seconds = time.perf_counter() - started
        if run.returncode not in (0, 1):
            raise SystemExit(run.stderr.decode("utf-8", "replace"))
        print(f"{len(chosen)}\t{seconds:.1f}\t{len(chosen) / seconds:.0f}\t{seconds / len(chosen) * 1000:.1f}")


if __name__ == "__main__":
    main()
