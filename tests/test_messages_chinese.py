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
_ALLOWED = """PDF DOC DOCX WPS HTML XML JSON OCR LibreOffice Word Excel UTF GBK GB BOM TOML Markdown MHT RTF ZIP
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
