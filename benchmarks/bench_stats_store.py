"""``stats`` and ``export`` over a store of 10,000 reports, and ``stats --from`` over a batch output.

    flock /work/bench.lock python benchmarks/bench_stats_store.py [--count 10000] [--db FILE]
        [--batch /tmp/h14bench/out-mixed-20000] [--skip-cli]

The store is an SQLite file built once from ``authoring.sample.generate`` (every level of unit, a
third in multi-year series, a fifth with an injected error; each stored with its per-report check
findings and an agency list giving region and level) and kept under /tmp between runs. Each step
runs once, in this process (no Python start-up), timed by CPU time of this process and wall time
(the host is shared: wall is inflated by the other jobs); then the whole commands are timed as
child processes (wall, and the child's CPU from ``os.wait4``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from nianbao import service
from nianbao.authoring.sample import generate
from nianbao.record import Source
from nianbao.rules import Config, check

LEVELS = ("省级", "市级", "县级", "乡镇")


def build(db: Path, count: int) -> None:
    """The sample reports into a fresh SQLite file (records, cells, findings) and an agency list.

    Units that happen to share a name are renamed apart (each sample is its own report); every
    40th report is stored twice, an earlier version with one cell changed first, so that a
    fortieth of the reports have an inactive version."""
    tmp = db.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    store = service.open_store(f"sqlite:///{tmp}")
    names: dict[str, int] = {}  # the names given so far, with how many units bear them
    previous: tuple[str, int] = ("", 0)
    name = ""
    for i, sample in enumerate(generate(count, seed=1, error_rate=0.2)):
        report = sample.report
        printed = report.agency or ""
        if (printed, (report.year or 0) - 1) != previous:  # a new unit's first report
            names[printed] = names.get(printed, 0) + 1
            name = printed if names[printed] == 1 else f"甲{names[printed]}{printed}"
        previous = (printed, report.year or 0)
        report = replace(report, agency=name)
        if i % 40 == 0 and report.table3 and "new" in report.table3:
            _store(store, replace(report, table3={**report.table3, "new": {**report.table3["new"], "total": 1}}), i)
        _store(store, report, i)
    rows = [
        {"名称": n, "级别": LEVELS[k % 4], "行政区划代码": f"{110000 + (k % 31) * 10000}", "上级": None, "别名": None}
        for k, n in enumerate(store_names(store))
    ]
    store.import_agencies(rows[: len(rows) * 9 // 10])  # a tenth of the units are not on the list
    store.close()
    tmp.rename(db)


def store_names(store: Any) -> list[str]:
    return sorted({r.agency for r in store.reports() if r.agency})


def _store(store: Any, report: Any, i: int) -> None:
    body = json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True).encode()
    source = Source(f"{i:05d}_{report.agency}{report.year}.json", "json", hashlib.sha256(body).hexdigest())
    report = replace(report, source=source)
    store.add(report, None, check(report, Config()))


def timed(label: str, step: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    print(f"{label:<52} {time.process_time() - cpu:7.2f} s CPU {time.perf_counter() - wall:7.2f} s wall", flush=True)
    return result


def command(label: str, args: list[str]) -> None:
    """A whole ``nianbao`` command in a child process: wall and the child's CPU (user + system)."""
    wall = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "nianbao.cli", *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    print(f"{label:<52} {cpu:7.2f} s CPU {time.perf_counter() - wall:7.2f} s wall  (exit {code})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--db", type=Path, default=None, help="the SQLite file (built when absent)")
    parser.add_argument("--batch", type=Path, default=Path("/tmp/h14bench/out-mixed-20000"))
    parser.add_argument("--skip-cli", action="store_true", help="do not time the whole commands")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    db: Path = args.db or Path(tempfile.gettempdir()) / f"nianbao-bench-stats-{args.count}.db"
    if not db.exists():
        timed(f"build {db}", lambda: build(db, args.count))
    if args.build_only:
        return
    run(db, args.batch, args.skip_cli)


def run(db: Path, batch: Path, skip_cli: bool) -> None:
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main()
