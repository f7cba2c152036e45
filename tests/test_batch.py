"""nianbao batch: Parquet output equal to reading in memory, on both engines; resume; a worker
killed mid-run; a file that hangs; stats and export through DuckDB; the schema's reference page."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from batch_readers import hanging_reader, logging_reader, reads, slow_reader
from nianbao.api import iter_paths, parse
from nianbao.authoring.sample import write_samples
from nianbao.batch.output import connect, done_keys, tidy
from nianbao.batch.run import run_batch
from nianbao.batch.schema import reference
from nianbao.rules import check_collection

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 sample reports in four formats, half with injected errors (cross-year ones too)."""
    folder = tmp_path_factory.mktemp("samples")
    write_samples(folder, 20, seed=7, error_rate=0.5, fmts=("txt", "md", "html", "docx"))
    return folder


def rows(out: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without what differs between runs (timings)."""
    con = connect(out)
    tables = {
        "records": "SELECT * EXCLUDE (read_seconds, cpu_seconds) FROM records",
        "cells": "SELECT * FROM cells",
        "findings": "SELECT * FROM findings",
    }
    result = {name: sorted(con.execute(q).fetchall(), key=repr) for name, q in tables.items()}
    con.close()
    return result


def in_memory(folder: Path, cross_agency: bool = False) -> set[tuple[str, str, str, tuple[str, ...]]]:
    """The findings ``nianbao check`` gives on the whole set at once (without XY04's comparisons
    across agencies unless ``cross_agency``: a batch makes them only when asked)."""
    reports = [parse(p) for p in iter_paths([folder])]
    return {
        (r.source.sha256, f.rule, f.message, tuple(f.cells))
        for r, found in zip(reports, check_collection(reports), strict=True)
        for f in found
        if cross_agency or not (f.rule == "XY04" and "同年另一机关" in f.message)
    }


def test_parquet_reference_is_current() -> None:
    assert (ROOT / "docs" / "parquet.md").read_text(encoding="utf-8") == reference(), (
        "docs/parquet.md is stale: python -m nianbao.batch.schema > docs/parquet.md"
    )


def test_local_engine_equals_reading_in_memory(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_batch([samples], out, jobs=2, chunk=6, cross_agency=True)
    assert (summary.found, summary.read, summary.failed, summary.partitions) == (20, 20, 0, 4)
    got = rows(out)
    assert len(got["records"]) == 20
    reports = {r.source.sha256: r for r in map(parse, iter_paths([samples]))}
    cells = {(sha, cell): value for sha, cell, *_, value, state, _loc in got["cells"]}
    for sha, report in reports.items():
        for table in ("table2", "table3", "table4"):
            for row, cols in (getattr(report, table) or {}).items():
                for col, value in cols.items():
                    assert cells.pop((sha, f"{table}/{row}/{col}")) == value
    assert not cells
    con = connect(out)
    found = {
        (s, r, m, tuple(c))
        for s, r, m, c in con.execute("SELECT sha256, rule, message, cells FROM findings").fetchall()
    }
    assert found == in_memory(samples, cross_agency=True)
    assert {r for _, r, _, _ in found} & {"XY01", "PU01"}  # the collection step ran
    assert con.execute("SELECT count(*) FROM findings WHERE scope = 'collection'").fetchone()[0] > 0


def test_duplicate_contents_are_read_once(samples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(samples, folder)
    first = sorted(folder.glob("0*.txt"))[0]
    shutil.copy(first, folder / f"copy_{first.name}")
    summary = run_batch([folder], tmp_path / "out", jobs=1)
    assert (summary.found, summary.read, summary.duplicates) == (21, 20, 1)


def test_resumed_run_reads_only_the_files_not_done(samples: Path, tmp_path: Path) -> None:
    out, log1, log2 = tmp_path / "out", tmp_path / "log1", tmp_path / "log2"
    log1.mkdir()
    log2.mkdir()
    script = (
        "import functools, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from batch_readers import slow_reader; from nianbao.batch.run import run_batch;"
        "run_batch([sys.argv[2]], Path(sys.argv[3]), jobs=1, chunk=3,"
        " reader=functools.partial(slow_reader, log=Path(sys.argv[4]), seconds=0.15))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.Popen(
        [sys.executable, "-c", script, str(ROOT / "tests"), str(samples), str(out), str(log1)], env=env
    )
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "records").glob("part-*.parquet"))) < 2:
            assert run.poll() is None and time.monotonic() < deadline, "the first run ended before it was interrupted"
            time.sleep(0.02)
    finally:
        workers = psutil.Process(run.pid).children(recursive=True)
        run.send_signal(signal.SIGKILL)
        run.wait()
        for worker in workers:  # forked workers would wait for the dead parent forever
            with contextlib.suppress(psutil.Error):
                worker.kill()
    done = done_keys(out)
    assert 6 <= len(done) < 20
    summary = run_batch([samples], out, jobs=2, reader=functools.partial(logging_reader, log=log2))
    names = {p.name: p for p in iter_paths([samples])}
    all_sha = {parse(p).source.sha256: name for name, p in names.items()}
    assert sorted(reads(log2)) == sorted(name for sha, name in all_sha.items() if sha not in done)
    assert summary.skipped == len(done)
    records = rows(out)["records"]
    assert sorted(r[0] for r in records) == sorted(all_sha)  # every file exactly once


def test_a_folder_written_with_other_rules_is_not_resumed(samples: Path, tmp_path: Path) -> None:
    from nianbao.batch.output import MismatchError
    from nianbao.rules import Config

    out = tmp_path / "out"
    run_batch([sorted(samples.glob("0*"))[0]], out, jobs=1)
    with pytest.raises(MismatchError, match="config"):
        run_batch([samples], out, jobs=1, config=Config(ignore=("PU",)))


def test_local_worker_killed_mid_run_leaves_every_file_once(samples: Path, tmp_path: Path) -> None:
    out, log = tmp_path / "out", tmp_path / "log"
    log.mkdir()
    killed: list[int] = []

    def kill_a_worker() -> None:
        deadline = time.monotonic() + 30
        while len(list(log.iterdir())) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        workers = psutil.Process().children()  # nianbao.pool's workers, forked from this process
        if workers:
            workers[0].kill()
            killed.append(workers[0].pid)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    summary = run_batch([samples], out, jobs=2, chunk=4, reader=functools.partial(slow_reader, log=log, seconds=0.1))
    killer.join()
    assert killed, "no worker was killed"
    assert summary.failed == 0 and summary.read == 20  # the file being read when it died, read again
    records = rows(out)["records"]
    assert len(records) == len({r[0] for r in records}) == 20


def test_a_file_that_hangs_times_out_and_the_others_finish(samples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(samples, folder)
    shutil.copy(sorted(folder.glob("0*.txt"))[0], folder / "99999_HANG.txt")
    (folder / "99999_HANG.txt").write_text(
        (folder / "99999_HANG.txt").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    start = time.monotonic()
    summary = run_batch([folder], tmp_path / "out", jobs=2, timeout=2.0, reader=hanging_reader)
    assert time.monotonic() - start < 30
    assert (summary.read, summary.timeouts, summary.failed) == (21, 1, 1)
    con = connect(tmp_path / "out")
    failed = con.execute("SELECT path, error_codes FROM records WHERE NOT ok").fetchall()
    assert [(Path(p).name, codes) for p, codes in failed] == [("99999_HANG.txt", ["RD14"])]
    message = con.execute("SELECT message FROM findings WHERE rule = 'RD14'").fetchone()[0]
    assert "时间超过上限（2 秒）" in message
    assert con.execute("SELECT count(*) FROM records WHERE ok").fetchone()[0] == 20


def test_a_file_that_hangs_inside_a_group_fails_alone_and_its_group_is_read(samples: Path, tmp_path: Path) -> None:
    """The local engine's worker reads a group of files: the hanging one (fourth of the first group)
    gets the time-out, the files read before it and after it are read again and written once."""
    folder = tmp_path / "in"
    shutil.copytree(samples, folder)
    hang = folder / "00003_HANG.txt"
    hang.write_text(sorted(folder.glob("0*.txt"))[0].read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert sorted(p.name for p in iter_paths([folder])).index(hang.name) == 3
    summary = run_batch([folder], tmp_path / "out", jobs=2, timeout=2.0, chunk=8, reader=hanging_reader)
    assert (summary.read, summary.timeouts, summary.failed) == (21, 1, 1)
    records = rows(tmp_path / "out")["records"]
    assert len(records) == len({r[0] for r in records}) == 21
    failed = [(Path(r[1]).name, r[12]) for r in records if not r[11]]
    assert failed == [(hang.name, ["RD14"])]


def test_unfinished_chunks_are_not_read_and_are_tidied(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_batch([samples], out, jobs=1, chunk=10, collection=False)
    before = rows(out)
    part = next((out / "cells").glob("part-*.parquet"))
    shutil.copy(part, out / "cells" / "part-unfinished.parquet")  # cells written, records not
    (out / "records" / "part-x.parquet.tmp").write_bytes(b"half a file")
    assert rows(out) == before
    assert tidy(out) == 2
    assert rows(out) == before


def test_parquet_rows_are_the_rows_metrics_make_from_reports(samples: Path, tmp_path: Path) -> None:
    from nianbao.batch.query import findings_by_record, metric_rows, reports
    from nianbao.metrics import cell_paths, rollup, rows_with_directory
    from nianbao.stats_view import rollup_json

    out = tmp_path / "out"
    run_batch([samples], out, jobs=2)
    parsed = sorted((parse(p) for p in iter_paths([samples])), key=lambda r: r.source.path)
    expected = rows_with_directory([r for r in parsed if not r.errors], {})
    got = metric_rows(out)
    assert rollup_json(rollup(got)) == rollup_json(rollup(expected))
    # The rows hold the cells the metrics read (and every key that is no cell path).
    wanted = set(cell_paths())
    for row in expected:
        for key in [k for k in row if "/" in k and k not in wanted]:
            del row[key]
        row["unknown"] = row["unknown"] & wanted
    assert got == expected
    rebuilt = sorted(reports(out), key=lambda r: r.source.path)
    assert [r.to_dict() for r in rebuilt] == [r.to_dict() for r in parsed]
    found = findings_by_record(out)
    assert {(sha, f.rule, f.message, f.cells) for sha, fs in found.items() for f in fs} == in_memory(samples)


@pytest.mark.slow
def test_two_worker_dask_cluster_gives_the_rows_of_the_local_engine(samples: Path, tmp_path: Path) -> None:
    run_batch([samples], tmp_path / "local", jobs=2, chunk=7)
    summary = run_batch([samples], tmp_path / "dask", engine="dask", jobs=2, chunk=7)
    assert summary.read == 20
    assert rows(tmp_path / "dask") == rows(tmp_path / "local")


@pytest.mark.slow
def test_shipped_bytes_give_the_same_rows(samples: Path, tmp_path: Path) -> None:
    run_batch([samples], tmp_path / "local", jobs=1)
    run_batch([samples], tmp_path / "dask", engine="dask", jobs=1, ship_bytes=True)
    assert rows(tmp_path / "dask") == rows(tmp_path / "local")


@pytest.mark.slow
def test_dask_worker_killed_mid_run_leaves_every_file_once(samples: Path, tmp_path: Path) -> None:
    from distributed import Client

    from nianbao.batch.dask_engine import start_cluster

    log = tmp_path / "log"
    log.mkdir()
    cluster = start_cluster(2)
    client = Client(cluster)
    killed: list[int] = []
    try:
        pids = list(client.run(os.getpid).values())

        def kill_a_worker() -> None:
            deadline = time.monotonic() + 60
            while len(list(log.iterdir())) < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

        killer = threading.Thread(target=kill_a_worker)
        killer.start()
        summary = run_batch(
            [samples],
            tmp_path / "out",
            engine="dask",
            client=client,
            reader=functools.partial(slow_reader, log=log, seconds=0.1),
        )
        killer.join()
    finally:
        client.close()
        cluster.close()
    assert killed
    assert summary.read == 20 and summary.failed == 0
    records = rows(tmp_path / "out")["records"]
    assert len(records) == len({r[0] for r in records}) == 20


def test_the_commands(samples: Path, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from nianbao.cli import app

    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(app, ["batch", str(samples), "--out", str(out), "--jobs", "2", "--chunk", "8"])
    assert done.exit_code == 0, done.output
    assert "本次读取 20 个" in done.output and "写入 3 个分区" in done.output
    again = runner.invoke(app, ["batch", str(samples), "--out", str(out), "--jobs", "2"])
    assert "本次读取 0 个" in again.output and "跳过 20 个" in again.output
    from_parquet = runner.invoke(app, ["stats", "--from", str(out), "--format", "json"])
    from_files = runner.invoke(app, ["stats", str(samples), "--format", "json"])
    assert from_parquet.exit_code == 0, from_parquet.output
    assert json.loads(from_parquet.output) == json.loads(from_files.output)
    for what in ("data", "findings"):
        a, b = tmp_path / f"{what}-parquet.csv", tmp_path / f"{what}-files.csv"
        assert runner.invoke(app, ["export", "--from", str(out), "--what", what, "--out", str(a)]).exit_code == 0
        assert runner.invoke(app, ["export", str(samples), "--what", what, "--out", str(b)]).exit_code == 0
        assert sorted(a.read_text(encoding="utf-8").splitlines()) == sorted(b.read_text(encoding="utf-8").splitlines())
    assert runner.invoke(app, ["stats", "--from", str(samples)]).exit_code == 2
    assert runner.invoke(app, ["stats"]).exit_code == 2
