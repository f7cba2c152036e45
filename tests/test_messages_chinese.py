"""No user-facing message is English or a library's internals (#17): every finding and reading error
that `check` gives on hostile files, the corpus and the examples reads in Chinese."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, corpus_or_skip
from hostile import CASES

# What a Chinese message may still hold in Latin letters: codes, units, formats, products, and
# whatever it quotes from the file (paths are removed before the look).
_ALLOWED = """PDF DOC DOCX WPS HTML XML JSON CSV OCR LibreOffice Word Excel UTF GBK GB BOM TOML Markdown MHT RTF ZIP
MB KB FIFO word document xml xl workbook pip install nianbao ocr dev timeout memory jobs"""
ALLOWED = set(_ALLOWED.split())
EXCEPTION_NAME = re.compile(r"\b[A-Z][a-z]+(?:Error|Exception|Warning)\b|Traceback|errno", re.I)
WORD = re.compile(r"[A-Za-z]{3,}")


def _english(message: str) -> list[str]:
    text = re.sub(r"(?:[\w.~-]*/)+[^\s，。；：）)”]*", " ", message)  # paths and the names in them
    text = re.sub(r"[\w.-]+\.(?:txt|md|html|htm|pdf|docx|doc|wps|xlsx|json|js|mht|rtf|csv)\b", " ", text)
    text = re.sub(r"\b[A-Z]{2}\d{2}\b|\btable[234]/\S+", " ", text)  # codes and cell paths
    return [w for w in WORD.findall(text) if w not in ALLOWED]


def test_every_message_is_chinese(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for case in CASES:
        case.build(folder)
    paths = [str(p) for p in sorted(folder.iterdir())]
    paths += [str(ROOT / "examples" / "reports"), str(corpus_or_skip() / "real"), str(corpus_or_skip() / "seeds")]
    run = subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "check", "--format", "jsonl", "--timeout", "60", *paths],
        capture_output=True,
        timeout=900,
        check=False,
    )
    assert b"Traceback" not in run.stderr
    lines = [json.loads(line) for line in run.stdout.decode("utf-8").splitlines()]
    assert len(lines) > 50
    messages = {line["message"] for line in lines}
    assert [m for m in messages if EXCEPTION_NAME.search(m)] == []
    assert {m: _english(m) for m in messages if _english(m)} == {}


def _broken_lists(folder: Path) -> list[Path]:
    """Agency lists (名录) a reviewer might give by mistake: not a workbook, not a known encoding,
    without the 名称 header, a Word document."""
    not_a_workbook = folder / "名录.xlsx"
    not_a_workbook.write_bytes(b"\xff\xfe\x00 not a zip")
    unknown_encoding = folder / "名录.csv"
    unknown_encoding.write_bytes(bytes(range(128, 256)) * 20)
    no_header = folder / "无表头.csv"
    no_header.write_text("x,y\n1,2\n", encoding="utf-8")
    a_document = folder / "名录.docx"  # neither workbook nor CSV: said so, not "unknown encoding"
    a_document.write_bytes(b"PK\x03\x04 a word document")
    return [not_a_workbook, unknown_encoding, no_header, a_document]


def test_a_broken_agency_list_is_a_usage_error_in_chinese(tmp_path: Path) -> None:
    report = ROOT / "examples" / "reports"
    for broken in _broken_lists(tmp_path):
        for args in (
            ["agencies", "import", str(broken), "--db", f"sqlite:///{tmp_path / 'x.db'}"],
            ["stats", "--agencies", str(broken), str(report)],
        ):
            run = subprocess.run([sys.executable, "-m", "nianbao.cli", *args], capture_output=True, timeout=120)
            err = run.stderr.decode("utf-8")
            assert run.returncode == 2, (args, err)
            assert "Traceback" not in err and "名录" in err
            assert not EXCEPTION_NAME.search(err) and _english(err) == [], err
