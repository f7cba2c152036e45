"""``stats`` and ``export`` over a store of 10,000 reports, and ``stats --from`` over a batch output.

    flock /work/bench.lock python benchmarks/bench_stats_store.py [--count 10000] [--db FILE]
        [--batch /tmp/h14bench/out-mixed-20000] [--skip-cli]

The store is an SQLite file built once from ``authoring.sample.generate`` (every level of unit, a
third in multi-year series, a fifth with an injected error; each stored with its per-report check
findings and an agency list giving region and level) and kept under /tmp between runs. Each step
runs once, in this process (no Python start-up), timed by CPU time of this process and wall time
(the host is shared: wall is inflated by the other jobs); then the whole commands are timed as
child processes (wall, CPU and peak memory from /usr/bin/time).
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


def command(label: str, args: list[str], env: dict[str, str] | None = None) -> None:
    """A whole ``nianbao`` command in a child process, under /usr/bin/time: wall, the child's CPU
    (user + system) and its peak memory (maximum resident set; a child forked from this process
    would start from this process's)."""
    if not Path("/usr/bin/time").exists():
        print(f"{label:<52} not timed: /usr/bin/time is not installed (apt-get install time)", flush=True)
        return
    wall = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%U %S %M", sys.executable, "-m", "nianbao.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    user, system, peak = done.stderr.strip().splitlines()[-1].split()
    print(
        f"{label:<52} {float(user) + float(system):7.2f} s CPU {time.perf_counter() - wall:7.2f} s wall  "
        f"{int(peak) / 1024:6.0f} MB peak  (exit {done.returncode})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--db", type=Path, default=None, help="the SQLite file (built when absent)")
    parser.add_argument("--batch", type=Path, default=Path("/tmp/h14bench/out-mixed-20000"))
    parser.add_argument("--skip-cli", action="store_true", help="do not time the whole commands")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--no-before", action="store_true", help="do not time the old way (every record loaded)")
    args = parser.parse_args()
    db: Path = args.db or Path(tempfile.gettempdir()) / f"nianbao-bench-stats-{args.count}.db"
    if not db.exists():
        timed(f"build {db}", lambda: build(db, args.count))
    if args.build_only:
        return
    run(db, args.batch, args.skip_cli, not args.no_before)


def run(db: Path, batch: Path, skip_cli: bool, before: bool) -> None:
    from typer.testing import CliRunner

    from nianbao import exports, metrics
    from nianbao.batch.query import metric_rows
    from nianbao.cli import app
    from nianbao.stats_view import rollup_text

    url = f"sqlite:///{db}"
    print(f"load average {os.getloadavg()}; store {db} ({db.stat().st_size / 1e6:.0f} MB)", flush=True)
    store = service.open_store(url)
    print(f"{store.counts()}", flush=True)
    timed("service.stats, all metrics, by year + text", lambda: rollup_text(service.stats(store)))
    timed("service.stats, one metric (substantive_rate) + text",
          lambda: rollup_text(service.stats(store, keys=["substantive_rate"]), ranked=["substantive_rate"]))
    for by in ("region", "level"):
        timed(f"service.stats, all metrics, by {by} + text", lambda by=by: rollup_text(service.stats(store, by=by)))
    rows = timed("  of which: rows by SQL (service.metric_rows)", lambda: service.metric_rows(store))
    timed("  of which: rollup, all metrics", lambda: metrics.rollup(rows))
    if before:
        timed("before: every record loaded, rows, rollup + text", lambda: rollup_text(_in_memory(store)))
    runner = CliRunner()
    invoke = lambda *args: runner.invoke(app, list(args), catch_exceptions=False)  # noqa: E731
    timed("stats --db (the command's function, no start-up)", lambda: invoke("stats", "--db", url))
    timed("stats --db --format json", lambda: invoke("stats", "--db", url, "--format", "json"))
    with tempfile.TemporaryDirectory() as tmp:
        for what, suffix in (("data", ".xlsx"), ("data", ".csv"), ("data", ".parquet"), ("metrics", ".xlsx"),
                             ("findings", ".xlsx"), ("coverage", ".xlsx")):
            out = Path(tmp) / f"{what}{suffix}"
            timed(f"export --what {what} --db {suffix}", lambda w=what, o=out: invoke("export", "--what", w, "--db", url, "--out", str(o)))
            print(f"{'':<52} {out.stat().st_size / 1e6:7.1f} MB", flush=True)
        sheets = exports.data_sheet(a.record for a in store.iter_active(with_record=True) if a.record)
        for low in (False, True):
            out = Path(tmp) / f"low{low}.xlsx"
            timed(f"  write data .xlsx, constant_memory={low}", lambda o=out, low=low: exports.write_xlsx(sheets, o, low))
    if batch.exists():
        rows = timed(f"stats --from rows ({batch.name})", lambda: metric_rows(batch))
        timed("stats --from rollup, all metrics + text", lambda: rollup_text(metrics.rollup(rows)))
    if skip_cli:
        return
    command("nianbao stats --db (whole command)", ["stats", "--db", url])
    command("nianbao stats --db --metric substantive_rate", ["stats", "--db", url, "--metric", "substantive_rate"])
    command("nianbao stats --db --by region", ["stats", "--db", url, "--by", "region"])
    with tempfile.TemporaryDirectory() as tmp:
        for low in ("0", "1"):
            command(f"nianbao export --what data .xlsx (constant_memory={low})",
                    ["export", "--what", "data", "--db", url, "--out", f"{tmp}/d.xlsx"], {"NIANBAO_XLSX_CONSTANT_MEMORY": low})
    if batch.exists():
        command(f"nianbao stats --from {batch}", ["stats", "--from", str(batch)])


def _in_memory(store: Any) -> Any:
    """stats --db as it was: every active record unpacked, rows made from the reports."""
    from nianbao import metrics

    units = metrics.directory(
        {"名称": a.name, "级别": a.level, "行政区划代码": a.region_code, "别名": "、".join(a.aliases)}
        for a in store.agencies()
    )
    reports = [a.record for a in store.iter_active(with_record=True)]
    return metrics.rollup(metrics.rows_with_directory(reports, units))


if __name__ == "__main__":
    main()
