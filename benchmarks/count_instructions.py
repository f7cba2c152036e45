"""Instructions per report, counted by valgrind: a figure the neighbour on a shared core cannot move.

    python benchmarks/count_instructions.py [--count 60] [--formats txt,md,html]

Wall-clock figures on this machine swing by up to 2x from one second to the next (its two vCPUs
share a core with someone else), so comparing two versions of the code by seconds needs many
runs. Callgrind counts the instructions the CPU executes instead, which repeats to the last few
digits. Each format is parsed twice under callgrind, once with an extra pass over the batch and once
without; the difference divided by the batch size is the cost of one warm report.

Needs valgrind (``apt-get install valgrind``); it is a developer's tool, not part of the tests.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_parse import random_record

from nianbao.render import write

_WORK = """
import sys
from pathlib import Path
from nianbao import parse
paths = sorted(Path(sys.argv[1]).glob("*." + sys.argv[2]))
for p in paths:  # warm the caches
    parse(p)
for _ in range(int(sys.argv[3])):
    for p in paths:
        parse(p)
"""


def collected(folder: Path, fmt: str, passes: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", _WORK]
    run = subprocess.run(
        [*command, str(folder), fmt, str(passes)],
        capture_output=True,
        text=True,
        check=True,
    )
    m = re.search(r"Collected : (\d+)", run.stderr)
    if not m:
        raise SystemExit(f"callgrind printed no count:\n{run.stderr[-2000:]}")
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=60, help="synthetic reports per format")
    ap.add_argument("--formats", default="txt,md,html")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    rng = random.Random(2024)
    print("| format | reports | million instructions per report |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="nianbao-instr-") as tmp:
        for fmt in args.formats.split(","):
            folder = Path(tmp) / fmt
            folder.mkdir()
            for i in range(args.count):
                write(random_record(rng), folder / f"r{i:04d}.{fmt}")
            per_report = (collected(folder, fmt, 1) - collected(folder, fmt, 0)) / args.count
            print(f"| {fmt} | {args.count} | {per_report / 1e6:.2f} |", flush=True)


if __name__ == "__main__":
    main()
