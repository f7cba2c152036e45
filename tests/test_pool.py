"""nianbao.pool: files read in worker processes under a time limit and a memory ceiling (#14, #17)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builders import valid_report
from conftest import CORPUS
from nianbao import pool
from nianbao.cli import app
from nianbao.model import Document
from nianbao.readers import EXTENSIONS, READERS
from nianbao.render import write

ROOT = Path(__file__).resolve().parents[1]


def _work(item: int) -> int:
    if item == 3:
        time.sleep(60)  # hangs
    if item == 5:
        bytearray(3 << 30)  # over the memory ceiling
    if item == 7:
        os.kill(os.getpid(), signal.SIGSEGV)  # the worker dies
    if item == 8:
        raise ValueError("a bug")
    return item * 2


def test_failures_are_outcomes_in_order_and_the_rest_finish() -> None:
    started = time.monotonic()
    outcomes = list(pool.run(_work, range(12), pool.Isolation(jobs=2, seconds=2, memory_bytes=1 << 30)))
    assert time.monotonic() - started < 30
    assert [o.index for o in outcomes] == list(range(12))
    failed = {o.index: o.failure.rule for o in outcomes if o.failure is not None}
    assert failed == {3: "RD14", 5: "RD15", 7: "RD19", 8: "RD19"}
    assert [o.value for o in outcomes if o.failure is None] == [i * 2 for i in range(12) if i not in failed]
    assert all("\u4e00" <= o.failure.message[0] <= "\u9fff" for o in outcomes if o.failure is not None)


def _slow_then_fast(item: int) -> int:
    if item == 0:
        time.sleep(3)
    return item


@pytest.fixture(autouse=True)
def _forked_workers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers forked, as the command line starts them. Earlier tests in the same session leave
    threads behind (a Dask client's, a web server's), and the pool then starts workers from a fork
    server, which neither sees this module's test readers nor pickles its lambdas. The fork-server
    path has its own test (``start_method="forkserver"``)."""
    import multiprocessing

    if "fork_server" in request.node.name:
        return
    real = pool._context
    monkeypatch.setattr(pool, "_context", lambda method: real(method) if method else multiprocessing.get_context("fork"))


def test_results_stream_as_soon_as_those_before_them_are_done() -> None:
    started = time.monotonic()
    seen: list[tuple[int, float]] = []
    for outcome in pool.run(lambda i: i, range(3), pool.Isolation(jobs=1, seconds=10)):
        seen.append((outcome.index, time.monotonic() - started))
    assert [i for i, _ in seen] == [0, 1, 2]
    started = time.monotonic()
    first = next(iter(pool.run(_slow_then_fast, [1, 0, 2], pool.Isolation(jobs=2, seconds=10))))
    assert first.value == 1 and time.monotonic() - started < 2.5  # not held back by the slow item after it


def _sleeping_reader(path: Path, data: bytes) -> Document:
    time.sleep(120)
    raise AssertionError("not reached")


def _reports(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = [
        write(valid_report(year=2019 + i % 6), folder / f"r{i}.{fmt}")
        for i, fmt in enumerate(["txt", "html", "md", "docx"] * 2)
    ]
    return paths


def test_a_file_that_hangs_gets_the_time_limit_error_and_the_others_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(READERS, "slow", _sleeping_reader)  # the test hook: a reader that hangs
    monkeypatch.setitem(EXTENSIONS, ".slow", "slow")
    paths = _reports(tmp_path / "in")
    hang = tmp_path / "hangs.slow"
    hang.write_text("不会读完", encoding="utf-8")
    given = [*paths[:3], hang, *paths[3:]]
    started = time.monotonic()
    result = CliRunner().invoke(app, ["parse", "--jobs", "2", "--timeout", "3", *map(str, given)])
    assert time.monotonic() - started < 60
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"]["path"] for r in records] == list(map(str, given))
    assert [e["rule"] for e in records[3]["errors"]] == ["RD14"]
    assert "3 秒" in records[3]["errors"][0]["message"]
    assert all(not r["errors"] and r["table3"] for i, r in enumerate(records) if i != 3)
    assert result.exit_code == 1


def _hungry_reader(path: Path, data: bytes) -> Document:
    blocks = [bytearray(1 << 20) for _ in range(4096)]  # 4 GB, a page at a time
    raise AssertionError(f"not reached {len(blocks)}")


def test_a_file_over_the_memory_ceiling_gets_its_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(READERS, "hungry", _hungry_reader)
    monkeypatch.setitem(EXTENSIONS, ".hungry", "hungry")
    hungry = tmp_path / "a.hungry"
    hungry.write_text("x", encoding="utf-8")
    after = write(valid_report(), tmp_path / "b.txt")
    result = CliRunner().invoke(app, ["parse", "--jobs", "1", "--memory", "512", str(hungry), str(after)])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["rule"] for e in records[0]["errors"]] == ["RD15"]
    assert "内存超过上限（512 MB）" in records[0]["errors"][0]["message"]
    assert records[1]["errors"] == [] and records[1]["table3"]


def _parse_output(*args: str) -> list[str]:
    result = CliRunner().invoke(app, ["parse", *args])
    assert result.exit_code in (0, 1)
    return result.stdout.splitlines()


def test_the_order_of_parse_jobs_2_equals_jobs_1(tmp_path: Path) -> None:
    given = [str(p) for p in _reports(tmp_path / "in")]
    given.append(str(ROOT / "examples" / "reports"))
    if (CORPUS / "real").is_dir():
        given.append(str(CORPUS / "real"))
    one = _parse_output("--jobs", "1", *given)
    two = _parse_output("--jobs", "2", *given)
    assert len(one) > 10
    for a, b in zip(one, two):
        assert json.loads(a) == json.loads(b), json.loads(a)["source"]["path"]
    assert one == two
    for fmt in ("json",):
        assert _parse_output("--jobs", "1", "--format", fmt, *given) == _parse_output(
            "--jobs", "2", "--format", fmt, *given
        )


def test_check_output_is_the_same_whatever_the_jobs(tmp_path: Path) -> None:
    given = [str(ROOT / "examples" / "reports")]
    for fmt in ("text", "jsonl", "sarif"):
        one = CliRunner().invoke(app, ["check", "--jobs", "1", "--format", fmt, *given])
        two = CliRunner().invoke(app, ["check", "--jobs", "2", "--format", fmt, *given])
        assert one.stdout == two.stdout and one.exit_code == two.exit_code
        if fmt == "sarif":
            assert json.loads(one.stdout)["runs"][0]["results"]


def test_one_file_read_isolated(tmp_path: Path) -> None:
    path = write(valid_report(), tmp_path / "r.html")
    report = pool.read_isolated(path, pool.Isolation(jobs=1, seconds=30))
    assert report.errors == () and report.table3 == valid_report().table3


def test_workers_from_a_fork_server_in_a_process_with_threads(tmp_path: Path) -> None:
    # A web server or a Dask worker has threads: its workers come from a fork server, not a fork.
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert pool._context(None).get_start_method() == "forkserver"
        path = write(valid_report(), tmp_path / "r.txt")
        reports = list(pool.parse_many([path, path], pool.Isolation(jobs=2, seconds=60)))
        assert [r.table3 for r in reports] == [valid_report().table3] * 2
    finally:
        stop.set()
        thread.join()


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    """A parent killed with SIGKILL leaves no worker behind waiting on its pipe for ever."""
    script = (
        "import time\n"
        "from nianbao import pool\n"
        "for _ in pool.run(time.sleep, [30] * 4, pool.Isolation(jobs=2, seconds=60)):\n"
        "    pass\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = [pid for pid in _children(parent.pid)]
        assert len(workers) >= 2, "the pool's workers did not start"
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _parts(item: list[float]) -> int:
    """An item made of parts: each sleeps its seconds (inf: hangs), then says it is done."""
    for seconds in item:
        time.sleep(3600 if seconds == float("inf") else seconds)
        pool.tick()
    return len(item)


def test_an_item_of_parts_has_the_time_limit_per_part_and_names_the_failing_one() -> None:
    isolation = pool.Isolation(jobs=2, seconds=1.0, memory_bytes=0, ahead=1)
    started = time.monotonic()
    # five parts of 0.4 s (2 s in all, past the 1 s limit) finish; a hang after two parts fails
    outcomes = list(pool.run(_parts, [[0.4] * 5, [0.05, 0.05, float("inf"), 0.05]], isolation))
    assert time.monotonic() - started < 20
    assert outcomes[0].value == 5 and outcomes[0].failure is None
    assert outcomes[1].failure is not None and outcomes[1].failure.rule == "RD14"
    assert outcomes[1].parts == 2  # the third part was the one being read


@pytest.mark.parametrize("seconds", [1e12, float("inf")])
def test_a_time_limit_too_large_to_wait_for_is_no_limit(seconds: float) -> None:
    """`--timeout 1e12` or `inf`: the parent waits an hour at a time instead of overflowing poll's milliseconds."""
    outcomes = list(pool.run(abs, [-1, -2, -3], pool.Isolation(jobs=2, seconds=seconds)))
    assert [o.value for o in outcomes] == [1, 2, 3]
