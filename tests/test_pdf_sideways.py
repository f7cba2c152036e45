"""PDF pages whose text runs sideways: turned with /Rotate, or drawn across the sheet.

A corpus report is rendered to PDF by LibreOffice, then some of its pages are turned a quarter.
Read back, it must give the same record as the upright PDF, with every location moved exactly as
the page was turned (so it still points at the cell as the page is shown).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import RectangleObject

from conftest import corpus_cases, needs_libreoffice, table_diffs, truth_report
from nianbao import parse
from nianbao.render import write

pytestmark = [needs_libreoffice, pytest.mark.libreoffice]

# The corpus reports whose every cell is printed (blank cells read the same either way) and whose
# table 三 breaks over two pages in the rendering, so a table runs from one kind of page on.
_NAMES = ["r001-huaian-city-2024", "r008-pingtan-2024"]


def _turned(source: Path, target: Path, pages: set[int], how: str) -> Path:
    """The PDF with the given pages (1-based) turned: by /Rotate 90 or 270, or drawn sideways."""
    writer = PdfWriter(clone_from=PdfReader(source))
    for number, page in enumerate(writer.pages, start=1):
        if number not in pages:
            continue
        if how == "drawn":  # the content turned a quarter anticlockwise onto a landscape sheet
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            page.add_transformation(Transformation().rotate(90).translate(tx=height, ty=0))
            page.mediabox = RectangleObject([0, 0, height, width])
            page.cropbox = RectangleObject([0, 0, height, width])
        else:
            page.rotate(int(how))
    writer.write(target)
    return target


def _shown(box: list[float], how: str, width: float, height: float) -> list[float]:
    """Where an upright page's box lies once the page is turned ``how`` (page width × height)."""
    x0, top, x1, bottom = box
    if how == "90":  # clockwise, as a viewer shows /Rotate 90
        return [height - bottom, x0, height - top, x1]
    return [top, width - x1, bottom, width - x0]  # anticlockwise: /Rotate 270 and the drawn turn


@pytest.fixture(scope="module")
def upright(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("upright")
    return {name: write(truth_report(name), folder / f"{name}.pdf") for name in _NAMES}


def _values_and_places(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    record = parse(path).to_dict()
    assert record["errors"] == []
    return record, record["locations"]


@pytest.mark.parametrize("how", ["90", "270", "drawn"])
@pytest.mark.parametrize("name", corpus_cases(_NAMES))
def test_sideways_pages_read_as_upright(name: str, how: str, upright: dict[str, Path], tmp_path: Path) -> None:
    source = upright[name]
    # Each page's own size: the rendering prints 表三 on landscape pages between upright ones.
    sizes = {n: (float(p.mediabox.width), float(p.mediabox.height)) for n, p in enumerate(PdfReader(source).pages, 1)}
    count = len(sizes)
    turned_pages = set(range(2, count + 1))  # the first page stays upright: the table runs onto turned pages
    before, places = _values_and_places(source)
    after, turned_places = _values_and_places(_turned(source, tmp_path / f"{how}.pdf", turned_pages, how))

    assert table_diffs(truth_report(name).to_dict(), after) == []
    assert (after["agency"], after["year"]) == (before["agency"], before["year"])
    assert [(s["number"], s["text"]) for s in after["sections"]] == [
        (s["number"], s["text"]) for s in before["sections"]
    ]
    pages_of_values = {place["page"] for place in places.values()}
    assert 1 in pages_of_values and pages_of_values & turned_pages, "the values should lie on both kinds of page"
    for key, place in places.items():
        moved = turned_places[key]
        assert moved["page"] == place["page"]
        want = place["bbox"] if place["page"] not in turned_pages else _shown(place["bbox"], how, *sizes[place["page"]])
        assert moved["bbox"] == pytest.approx(want, abs=0.15), key
