"""Hostile input never stops a batch, hangs it, floods it or passes as a success (#17).

Every case of ``hostile.py`` is generated here, placed before a valid report, and given to
``parse --format json`` and ``check --format jsonl`` with a time limit per case: each exits within
it, prints no traceback, writes valid UTF-8 JSON, gives the hostile file a record with a Chinese
error (or reads it exactly, for files whose type or encoding was judged by the name), and reads the
valid report after it exactly. The commands run in this process (typer's runner; the reading runs
in nianbao.pool's worker processes as always); one test runs every case through the real command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hostile import CASES, Case, good
from nianbao import parse
from nianbao.cli import app

PER_CASE_SECONDS = 60
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _tables(record: dict[str, Any]) -> tuple[object, ...]:
    return record["agency"], record["year"], record["table2"], record["table3"], record["table4"]


def _invoke(*args: str | Path) -> tuple[int, bytes, float]:
    started = time.monotonic()
    result = CliRunner().invoke(app, [os.fspath(a) for a in args], catch_exceptions=True)
    elapsed = time.monotonic() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout_bytes, elapsed


def _expect_record(case: Case, record: dict[str, Any], expected: dict[str, Any]) -> None:
    errors = record["errors"]
    for finding in errors + record["findings"]:
        assert CHINESE.search(finding["message"]), finding
    if case.codes:
        assert errors and {e["rule"] for e in errors} <= case.codes, errors
    else:
        assert errors == [], errors
        assert _tables(record)[2:] == _tables(expected)[2:] or case.warning
    if case.warning:
        assert case.warning in {f["rule"] for f in record["findings"]}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_file_then_a_valid_report(tmp_path: Path, case: Case) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hostile = case.build(folder)
    after = good(tmp_path, "after.txt")
    expected = parse(after).to_dict()

    code, out, elapsed = _invoke("parse", "--format", "json", "--jobs", "2", "--timeout", "30", hostile, after)
    assert elapsed < PER_CASE_SECONDS
    assert code in (0, 1)
    records = json.loads(out.decode("utf-8"))  # strict UTF-8, valid JSON (no Infinity)
    assert len(records) == 2
    _expect_record(case, records[0], expected)
    assert records[1]["errors"] == [] and _tables(records[1]) == _tables(expected)

    code, out, elapsed = _invoke("check", "--format", "jsonl", "--jobs", "2", "--timeout", "30", hostile, after)
    assert elapsed < PER_CASE_SECONDS
    assert code in (0, 1)
    lines = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert all(CHINESE.search(line["message"]) for line in lines)
    after_path = str(after)
    assert not [x for x in lines if x["path"] == after_path and x["rule"].startswith("RD")]
    if case.codes:
        assert {x["rule"] for x in lines if x["path"] != after_path} & case.codes


@pytest.mark.slow
def test_every_case_through_the_command(tmp_path: Path) -> None:
    """The real command, in a process of its own: every hostile file, each followed by a valid
    report, in one run; no traceback, valid UTF-8 JSON, every valid report read exactly."""
    given: list[Path] = []
    for number, case in enumerate(CASES):
        folder = tmp_path / f"{number:02d}"
        folder.mkdir()
        given += [case.build(folder), good(folder, "after.txt")]
    expected = parse(given[1]).to_dict()
    command = [sys.executable, "-m", "nianbao.cli", "parse", "--format", "json", "--jobs", "2", "--timeout", "30"]
    result = subprocess.run(
        [*command, *map(os.fsencode, given)], capture_output=True, timeout=PER_CASE_SECONDS * 4, check=False
    )
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    records = json.loads(result.stdout.decode("utf-8"))
    assert len(records) == len(given)
    for case, record, after in zip(CASES, records[0::2], records[1::2]):
        _expect_record(case, record, expected)
        assert after["errors"] == [] and _tables(after) == _tables(expected), case.name


def test_a_file_name_with_a_line_break_forges_no_line(tmp_path: Path) -> None:
    # An empty file: its RD01 error is the line that names it (a clean report's only finding, the
    # missing publication date, is said once for the whole run).
    forged = tmp_path / "x.txt\n伪造.txt:1: AR01 error 伪造的发现.txt"
    forged.write_text("", encoding="utf-8")
    code, out, _ = _invoke("check", "--jobs", "1", forged, good(tmp_path, "ok.txt"))
    assert code == 1  # the empty file is an error
    lines = out.decode("utf-8").splitlines()
    assert not [line for line in lines if line.startswith("伪造")]
    assert any("x.txt\\n伪造" in line for line in lines)  # the name, escaped, on the line of its finding
    assert all("x.txt\\n伪造" in line for line in lines if "伪造" in line)
    assert lines[-1].startswith("共检查 2 份报告")


def test_a_folder_walk_does_not_follow_links_out_of_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    good(outside, "secret.txt")
    folder = tmp_path / "folder"
    folder.mkdir()
    good(folder, "report.txt")
    os.symlink(outside / "secret.txt", folder / "link.txt")
    os.symlink(outside, folder / "linked_folder")
    (folder / "notes.xyz").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["parse", str(folder), "--jobs", "1"])
    paths = [json.loads(line)["source"]["path"] for line in result.stdout.splitlines()]
    assert paths == [str(folder / "report.txt")]
    assert "link.txt" in result.stderr and "文件夹之外" in result.stderr
    assert "notes.xyz" in result.stderr and "不是报告文件类型" in result.stderr


def test_a_folder_holding_no_report_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    for command in ("parse", "check"):
        result = CliRunner().invoke(app, [command, str(tmp_path)])
        assert result.exit_code == 2
        assert "文件夹中没有报告文件" in result.stderr
        missing = CliRunner().invoke(app, [command, str(tmp_path / "nosuch.txt")])
        assert missing.exit_code == 2 and "路径不存在" in missing.stderr
