"""Marks drawn over a PDF's text: a fake bold's second copy of each glyph, a watermark.

A fake bold draws a run twice a fraction of a point apart; read as it is, 淮安 becomes 淮淮安安 and
a printed 26 becomes 2266. A watermark's oblique characters fall into the cells they cross.
"""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from conftest import corpus_cases, needs_libreoffice, table_diffs, truth_report
from nianbao import parse
from nianbao.render import write
from pdf_edit import add_watermark, draw_text_twice

pytestmark = [needs_libreoffice, pytest.mark.libreoffice]


@pytest.mark.parametrize("shift", [(0.3, 0.0), (0.6, 0.0), (0.25, 0.25), (0.9, 0.4)])
@pytest.mark.parametrize("name", corpus_cases(["r001-huaian-city-2024"]))
def test_text_drawn_twice_reads_once(name: str, shift: tuple[float, float], tmp_path: Path) -> None:
    upright = write(truth_report(name), tmp_path / "once.pdf")
    twice = draw_text_twice(upright, tmp_path / "twice.pdf", *shift)
    with pdfplumber.open(upright) as once_pdf, pdfplumber.open(twice) as twice_pdf:
        assert len(twice_pdf.pages[0].chars) == 2 * len(once_pdf.pages[0].chars)  # the fixture doubles the text
    before, after = parse(upright).to_dict(), parse(twice).to_dict()
    assert after["errors"] == []
    assert table_diffs(truth_report(name).to_dict(), after) == []
    for key in ("agency", "year", "title", "sections", "labels"):
        assert after[key] == before[key], key


@pytest.mark.parametrize("name", corpus_cases(["r001-huaian-city-2024", "r008-pingtan-2024"]))
def test_figures_drawn_twice_read_once(name: str, tmp_path: Path) -> None:
    # Only the figures drawn bold, the labels once: read as it is, a printed 26 became 2266 (83 cells
    # of r001 wrong before the fix), not an unread row.
    upright = write(truth_report(name), tmp_path / "once.pdf")
    twice = draw_text_twice(upright, tmp_path / "twice.pdf", 0.3, font="DejaVu")
    record = parse(twice).to_dict()
    assert record["errors"] == []
    assert table_diffs(truth_report(name).to_dict(), record) == []


@pytest.mark.parametrize("degrees", [45, 30, 60])
@pytest.mark.parametrize("stamp", ["2025", "2024120"])
@pytest.mark.parametrize("name", corpus_cases(["r001-huaian-city-2024"]))
def test_a_watermark_across_the_page_is_not_read(name: str, stamp: str, degrees: int, tmp_path: Path) -> None:
    # A date stamped aslant across every page: before the fix its digits joined the cells they
    # crossed (565 read for a printed 56) and rows and a section were lost.
    upright = write(truth_report(name), tmp_path / "plain.pdf")
    stamped = add_watermark(upright, tmp_path / "stamped.pdf", stamp, degrees)
    before, after = parse(upright).to_dict(), parse(stamped).to_dict()
    assert after["errors"] == []
    assert table_diffs(truth_report(name).to_dict(), after) == []
    for key in ("agency", "year", "title", "sections", "labels", "findings"):
        assert after[key] == before[key], key


@pytest.mark.parametrize("size", [48, 36])
@pytest.mark.parametrize("stamp", ["2025", "2024120"])
@pytest.mark.parametrize("name", corpus_cases(["r001-huaian-city-2024"]))
def test_a_level_watermark_over_a_table_is_not_read(name: str, stamp: str, size: int, tmp_path: Path) -> None:
    # Printed level, a watermark cannot be told by its angle; over a table its glyphs are several
    # times the cells' size. Before the fix a 48-point "2025" made a printed 3001 read 253001.
    upright = write(truth_report(name), tmp_path / "plain.pdf")
    stamped = add_watermark(upright, tmp_path / "stamped.pdf", stamp, 0, size)
    record = parse(stamped).to_dict()
    assert record["errors"] == []
    assert table_diffs(truth_report(name).to_dict(), record) == []
