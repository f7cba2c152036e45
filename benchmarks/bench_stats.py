"""Metrics, rollups and exports over many records held in memory (no reading, no database).

    python benchmarks/bench_stats.py [--count 10000]

Records come from ``authoring.sample.generate`` (every level of unit, a third in multi-year
series). Each step is timed by CPU time of this process (the host is shared: wall time is also
printed, and is what a user waits) and once.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nianbao import exports
from nianbao.authoring.sample import generate
from nianbao.metrics import rollup, row_of


def timed(label: str, step: Callable[[], Any]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    print(f"{label:<44} {time.process_time() - cpu:7.2f} s CPU {time.perf_counter() - wall:7.2f} s wall")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10000)
    args = parser.parse_args()
    reports = [s.report for s in generate(args.count, seed=1, error_rate=0.2)]
    print(f"{len(reports)} records")
    rows = timed("records -> rows (flat cells + metadata)", lambda: [row_of(r) for r in reports])
    timed("rollup by year, all 22 metrics", lambda: rollup(rows, by="year"))
    one = timed("rollup by year, one metric", lambda: rollup(rows, by="year", keys=["substantive_rate"]))
    result = rollup(rows, by="year")
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".xlsx", ".csv", ".parquet", ".json"):
            out = Path(tmp) / f"data{suffix}"
            timed(f"export data {suffix}", lambda out=out: exports.write(exports.data_sheet(reports), out))
            print(f"{'':<44} {out.stat().st_size / 1e6:7.1f} MB")
        timed("export metrics .xlsx", lambda: exports.write(exports.metrics_sheet(result), Path(tmp) / "m.xlsx"))
    assert one.total.units == len(reports)


if __name__ == "__main__":
    main()
