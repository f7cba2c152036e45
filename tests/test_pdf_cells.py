"""The PDF reader's own cell-text extraction gives exactly what pdfplumber's Table.extract() gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pdfplumber.utils.text import extract_text

from conftest import needs_libreoffice, source_of, truth_report
from nianbao.readers.pdf import _TABLE_SETTINGS, _cell_text, cell_texts
from nianbao.render import write


def _assert_same_as_pdfplumber(path: Path) -> None:
    tables = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for found in page.find_tables(_TABLE_SETTINGS):
                assert cell_texts(found) == found.extract(), f"page {page.page_number}"
                tables += 1
    assert tables >= 2


def test_real_pdf_cells() -> None:
    _assert_same_as_pdfplumber(source_of("r001-huaian-city-2024"))


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["r007-pingtan-2019", "r015-shuyang-fgj-2023"])
def test_rendered_pdf_cells(name: str, tmp_path: Path) -> None:
    _assert_same_as_pdfplumber(write(truth_report(name), tmp_path / f"{name}.pdf"))


def _char(text: str, x0: float, top: float, width: float, upright: bool) -> dict[str, Any]:
    return {
        "text": text,
        "x0": x0,
        "x1": x0 + width,
        "top": top,
        "bottom": top + 10.5,
        "doctop": top,
        "upright": upright,
    }


_CHARS = st.builds(
    _char,
    st.sampled_from(["1", "2", "0", ".", "件", "公", " ", "ﬁ", "", "(cid:3)"]),
    st.floats(0, 60, allow_nan=False).map(lambda v: round(v, 2)),
    st.floats(0, 8, allow_nan=False).map(lambda v: round(v, 2)),
    st.floats(4, 11, allow_nan=False).map(lambda v: round(v, 2)),
    st.sampled_from([True, True, True, False]),
)


@given(st.lists(_CHARS, min_size=1, max_size=8))
def test_cell_text_is_pdfplumbers_text(chars: list[dict[str, Any]]) -> None:
    assert _cell_text(chars) == extract_text(chars)


@given(st.lists(st.sampled_from("0123456789"), min_size=1, max_size=9), st.floats(0, 2.9))
def test_a_printed_number_takes_the_direct_join(digits: list[str], gap: float) -> None:
    chars = [_char(d, 100 + i * (5.5 + gap), 40.0, 5.5, True) for i, d in enumerate(digits)]
    assert _cell_text(chars) == extract_text(chars) == "".join(digits)


_PLACED = st.lists(
    st.tuples(st.sampled_from("0１2"), st.floats(0, 6, allow_nan=False), st.floats(0, 6, allow_nan=False)), max_size=12
)


@given(_PLACED)
def test_a_copy_is_a_character_within_a_point_of_one_kept(placed: list[tuple[str, float, float]]) -> None:
    # drawn_again, against the definition checked pair by pair: in (character, x) order, a character
    # is a copy when one kept before it is the same character less than a point across and down.
    from nianbao.readers.pdf_views import drawn_again

    chars = [{"text": t, "x0": x, "top": y} for t, x, y in placed]
    kept: list[int] = []
    copies: set[int] = set()
    for i in sorted(range(len(chars)), key=lambda i: (placed[i], i)):
        text, x, y = placed[i]
        if any(placed[k][0] == text and 0 <= x - placed[k][1] < 1 and abs(y - placed[k][2]) < 1 for k in kept):
            copies.add(i)
        else:
            kept.append(i)
    assert drawn_again(chars) == copies
