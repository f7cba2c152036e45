"""The PDF reader's own cell-text extraction gives exactly what pdfplumber's Table.extract() gives."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from conftest import needs_libreoffice, source_of, truth_report
from nianbao.readers.pdf import _TABLE_SETTINGS, cell_texts
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
