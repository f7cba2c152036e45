"""Instructions per report, counted by valgrind: a figure the neighbour on a shared core cannot move.

    python benchmarks/count_instructions.py [--count 60] [--formats txt,md,html]
    python benchmarks/count_instructions.py --formats pdf [--pdf 3]

Wall-clock figures on this machine swing by up to 2x from one second to the next (its two vCPUs
share a core with someone else), so comparing two versions of the code by seconds needs many
runs. Callgrind counts the instructions the CPU executes instead, which repeats to the last few
digits. Each format is parsed twice under callgrind, once with an extra pass over the batch and once
without; the difference divided by the batch size is the cost of one warm report. The corpus's
files of each format (beside the project) are counted the same way.

For PDF the same count is taken for pdfplumber alone doing the same page work (bench_parse's
baseline) on the same files, the corpus's PDFs and ``--pdf`` synthetic ones, and the ratio is
printed: the 1.2x aim without the host's noise.

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
from bench_parse import CORPUS, random_record

from nianbao.render import write

_WORK = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from bench_parse import pdfplumber_alone
from nianbao import parse
work = pdfplumber_alone if sys.argv[5] == "pdfplumber" else parse
paths = sorted(Path(sys.argv[1]).glob("*." + sys.argv[2]))
for p in paths:  # warm the caches
    work(p)
for _ in range(int(sys.argv[3])):
    for p in paths:
        work(p)
"""


def callgrind_count(script: str, *args: str) -> int:
    """Instructions the interpreter executes running ``script`` with ``args``, counted by callgrind."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", script]
    run = subprocess.run([*command, *args], capture_output=True, text=True, check=True)
    m = re.search(r"Collected : (\d+)", run.stderr)
    if not m:
        raise SystemExit(f"callgrind printed no count:\n{run.stderr[-2000:]}")
    return int(m.group(1))


def collected(folder: Path, fmt: str, passes: int, work: str = "nianbao") -> int:
    return callgrind_count(_WORK, str(folder), fmt, str(passes), str(Path(__file__).parent), work)


def per_file(folder: Path, fmt: str, count: int, work: str = "nianbao") -> float:
    return (collected(folder, fmt, 1, work) - collected(folder, fmt, 0, work)) / count


def _corpus_copy(folder: Path, fmt: str) -> int:
    """The corpus's files of one format (seeds and real reports) copied into ``folder``."""
    files = sorted(CORPUS.glob(f"*/*.{fmt}"))
    if files:
        folder.mkdir()
        for p in files:
            shutil.copy(p, folder / p.name)
    return len(files)


def pdf_rows(tmp: Path, synthetic: int, rng: random.Random) -> list[str]:
    """nianbao against pdfplumber alone, per PDF: the corpus's and ``synthetic`` rendered ones."""
    batches: list[tuple[str, Path, int]] = []
    corpus = _corpus_copy(tmp / "corpus-pdf", "pdf")
    if corpus:
        batches.append(("corpus", tmp / "corpus-pdf", corpus))
    if synthetic:
        folder = tmp / "synthetic-pdf"
        folder.mkdir()
        for i in range(synthetic):
            write(random_record(rng), folder / f"p{i:03d}.pdf")
        batches.append(("synthetic", folder, synthetic))
    rows = []
    for label, folder, count in batches:
        ours, base = per_file(folder, "pdf", count), per_file(folder, "pdf", count, "pdfplumber")
        rows.append(f"| pdf, {label} | {count} | {ours / 1e6:.1f} | {base / 1e6:.1f} | {ours / base:.3f} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=60, help="synthetic reports per format")
    ap.add_argument("--formats", default="txt,md,html")
    ap.add_argument("--pdf", type=int, default=3, help="synthetic PDFs (with pdf in --formats)")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    rng = random.Random(2024)
    formats = args.formats.split(",")
    with tempfile.TemporaryDirectory(prefix="nianbao-instr-") as tmp:
        text_formats = [f for f in formats if f != "pdf"]
        if text_formats:
            print("| format | reports | million instructions per report |")
            print("|---|---|---|")
        for fmt in text_formats:
            folder = Path(tmp) / fmt
            folder.mkdir()
            for i in range(args.count):
                write(random_record(rng), folder / f"r{i:04d}.{fmt}")
            print(f"| {fmt}, synthetic | {args.count} | {per_file(folder, fmt, args.count) / 1e6:.2f} |", flush=True)
            corpus = _corpus_copy(Path(tmp) / f"corpus-{fmt}", fmt)
            if corpus:
                print(f"| {fmt}, corpus | {corpus} | {per_file(Path(tmp) / f'corpus-{fmt}', fmt, corpus) / 1e6:.2f} |")
        if "pdf" in formats:
            print("| PDFs | files | nianbao, M instructions per file | pdfplumber alone | ratio |")
            print("|---|---|---|---|---|")
            for row in pdf_rows(Path(tmp), args.pdf, rng):
                print(row, flush=True)


if __name__ == "__main__":
    main()
