"""Bad input never stops a batch: each file gets a record with located Chinese errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import truth_names, truth_report
from nianbao import parse
from nianbao.render import write


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("empty.txt", b"", "RD01"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj <<>> garbage", "RD01"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "RD01"),
        ("notes.txt", "会议纪要：今天讨论了食堂菜单。".encode(), "RD04"),
        ("old.txt", "某某局2017年政府信息公开工作年度报告\n一、概述\n二、主动公开情况\n".encode(), "RD10"),
        ("data.xyz", b"\x00\x01", "RD04"),
    ],
)
def test_bad_file_gets_error_record(tmp_path: Path, filename: str, content: bytes, code: str) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    record = parse(path).to_dict()
    assert [e["rule"] for e in record["errors"]] == [code]
    assert all(e["severity"] == "error" and e["message"] for e in record["errors"])


def test_image_only_pdf(tmp_path: Path) -> None:
    # A page with drawing but no text layer, as a scan would be.
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R>>endobj\n"
        b"4 0 obj<</Length 21>>stream\n0 0 m 100 100 l S\nendstream endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF"
    )
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf)
    assert [e["rule"] for e in parse(path).to_dict()["errors"]] == ["RD03"]


def test_batch_goes_on_and_exit_code_says_some_failed(tmp_path: Path) -> None:
    (tmp_path / "a_empty.txt").write_bytes(b"")
    if truth_names():
        write(truth_report(truth_names()[0]), tmp_path / "b_good.html")
    result = _cli("parse", str(tmp_path))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1
    expected = ["a_empty.txt", "b_good.html"] if truth_names() else ["a_empty.txt"]
    assert [Path(r["source"]["path"]).name for r in lines] == expected
    assert lines[0]["errors"][0]["rule"] == "RD01"


def test_exit_codes_ok_and_usage(tmp_path: Path) -> None:
    names = truth_names()
    if names:
        good = write(truth_report(names[0]), tmp_path / "good.txt")
        assert _cli("parse", str(good), "--format", "json").returncode == 0
        table = _cli("parse", str(good), "--format", "table")
        assert table.returncode == 0 and "表三" in table.stdout
    assert _cli("parse", str(tmp_path / "missing.txt")).returncode == 2
    assert _cli("parse", str(tmp_path), "--format", "xml").returncode == 2
