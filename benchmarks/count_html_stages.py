"""Instructions per stage of reading one HTML page, counted by valgrind (see count_instructions.py).

    python benchmarks/count_html_stages.py [PAGE]     # default: the corpus's r015

Each stage is run 20 and 40 times in a loop under callgrind; the difference divided by 20 is the
cost of one warm pass of that stage alone. The stages add up to about the whole parse (hashing
the bytes and building the record are not counted here). Needs valgrind.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_parse import CORPUS
from count_instructions import callgrind_count

STAGES = ("utf8", "parse", "grids", "walk", "extract", "whole")

_WORK = """
import sys
from pathlib import Path
from nianbao import parse
from nianbao.extract import extract
from nianbao.readers import html
from nianbao.record import Source

page = Path(sys.argv[1])
data = page.read_bytes()
utf8 = html.utf8_html(data)
root = html._parse(utf8)
tables = list(root.iter("table"))
doc = html.read_html(page, data)
source = Source(str(page), "html", "", None)


def walk():
    walker = html._Walker()
    walker.walk(root.find("body"))
    walker.flush()


STAGES = {
    "utf8": lambda: html.utf8_html(data),
    "parse": lambda: html._parse(utf8),
    "grids": lambda: [html.build_grid(t, i) for i, t in enumerate(tables)],
    "walk": walk,  # includes the grids
    "extract": lambda: extract(doc, source),
    "whole": lambda: parse(page),
}
stage = STAGES[sys.argv[2]]
for _ in range(int(sys.argv[3])):
    stage()
"""


def collected(page: Path, stage: str, passes: int) -> int:
    return callgrind_count(_WORK, str(page), stage, str(passes))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("page", nargs="?", default=str(CORPUS / "real" / "r015-shuyang-fgj-2023.html"))
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    page = Path(args.page)
    print(f"| stage of reading {page.name} | million instructions per pass |")
    print("|---|---|")
    for stage in STAGES:
        per_pass = (collected(page, stage, 40) - collected(page, stage, 20)) / 20
        print(f"| {stage} | {per_pass / 1e6:.2f} |", flush=True)


if __name__ == "__main__":
    main()
