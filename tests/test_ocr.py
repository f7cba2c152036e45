"""Scanned reports read by OCR: scans made here from corpus records (tests/scans.py), read back.

Every cell must be right or abstained from with an RD20 finding naming it; at 150 dpi no wrong
cell the table's arithmetic (AR01–AR04) could have caught. OCR costs seconds a page, so each
variant reads only a few pages (the wide sweep is benchmarks/bench_ocr.py).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import scans
from conftest import corpus_or_skip, table_diffs, truth_report
from nianbao import parse
from nianbao.readers import ocr, sniff_format
from nianbao.render import write

NAME = "r001-huaian-city-2024"


def _need_ocr() -> None:
    if ocr.available():
        return
    if os.environ.get("NIANBAO_REQUIRE_OCR") == "1":
        pytest.fail(f"NIANBAO_REQUIRE_OCR=1 but OCR is not installed: {ocr.OCR_INSTALL_COMMAND}")
    pytest.skip(f"OCR is not installed ({ocr.OCR_INSTALL_COMMAND})")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus_or_skip()
    return write(truth_report(NAME), tmp_path_factory.mktemp("ocr") / f"{NAME}.pdf")


def _verdict(record: dict[str, Any], name: str = NAME) -> tuple[list[str], set[str]]:
    """The cells read wrong, and the cells abstained from: null or absent with a reading finding
    naming them (RD20 from OCR; RD07 from the extractor when a row's numbers cannot be placed; RD06
    when a row's label could not be read and the row is reported missing)."""
    abstained = {c for f in record["findings"] if f["rule"] in ("RD20", "RD07", "RD06") for c in f["cells"]}
    diffs = table_diffs(truth_report(name).to_dict(), record)
    wrong = [d for d in diffs if d.split(":")[0] not in abstained or _value(record, d.split(":")[0]) is not None]
    return wrong, abstained


def _assert_right_or_abstained(record: dict[str, Any], name: str = NAME) -> None:
    assert record["errors"] == []
    wrong, _ = _verdict(record, name)
    assert wrong == []
    for finding in record["findings"]:
        if finding["rule"] == "RD20":
            assert finding["cells"] and "未读取" in finding["message"]
            assert finding["location"]["page"] >= 1 and len(finding["location"]["bbox"]) == 4


def _value(record: dict[str, Any], path: str) -> Any:
    table, row, col = path.split("/")
    return ((record.get(table) or {}).get(row) or {}).get(col)


def test_images_are_sniffed_by_their_bytes_not_their_names() -> None:
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, "PNG")
    assert sniff_format(Path("scan.txt"), png.getvalue()[:16]) == "image"
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(jpeg, "JPEG")
    assert sniff_format(Path("scan"), jpeg.getvalue()[:16]) == "image"
    assert sniff_format(Path("scan.png"), b"%PDF-1.7\n") == "pdf"


def test_a_scan_without_ocr_installed_gets_rd03_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ocr, "available", lambda: False)
    page = Image.new("RGB", (850, 1100), "white")
    pdf = scans.save_pdf([page], tmp_path / "scan.pdf", 100)
    png = scans.save_png(page, tmp_path / "scan.png", 100)
    for path in (pdf, png):
        errors = parse(path).to_dict()["errors"]
        assert [e["rule"] for e in errors] == ["RD03"]
        assert ocr.OCR_INSTALL_COMMAND in errors[0]["message"]


@pytest.mark.slow
def test_200_dpi_scan_as_image_only_pdf(rendered: Path, tmp_path: Path) -> None:
    """Skewed, noisy, JPEG-compressed, a red seal over the table: every cell right or abstained."""
    _need_ocr()
    variant = scans.Variant(200, skew=-1.2, noise=8, jpeg=75, seal=True)
    pdf = scans.save_pdf(scans.scan_pages(rendered, variant, tmp_path), tmp_path / "scan.pdf", 200)
    record = parse(pdf).to_dict()
    _assert_right_or_abstained(record)
    assert any(f["rule"] == "RD21" for f in record["findings"])
    # Locations are in PDF points on the page, like a PDF with a text layer: the same page as the
    # text layer's, inside that page.
    from pypdf import PdfReader

    where = record["locations"]["table3/new/total"]
    assert where["page"] == parse(rendered).locations["table3/new/total"]["page"]
    width, height = (float(v) for v in PdfReader(pdf).pages[where["page"] - 1].mediabox[2:])
    box = where["bbox"]
    assert 0 <= box[0] < box[2] <= width + 1 and 0 <= box[1] < box[3] <= height + 1


@pytest.mark.slow
def test_150_dpi_scan_has_no_wrong_cell_the_arithmetic_could_catch(rendered: Path, tmp_path: Path) -> None:
    _need_ocr()
    variant = scans.Variant(150, skew=1.5, noise=12, jpeg=60, seal=True)
    pdf = scans.save_pdf(scans.scan_pages(rendered, variant, tmp_path), tmp_path / "scan.pdf", 150)
    record = parse(pdf).to_dict()
    wrong, _ = _verdict(record)
    # Every cell of tables 三 and 四 is in an AR01–AR04 relation; table 二's cells are in none.
    assert [w for w in wrong if not w.startswith("table2/")] == []


@pytest.mark.slow
def test_300_dpi_png_page_read_by_its_bytes(rendered: Path, tmp_path: Path) -> None:
    """One page as a PNG named .jpg: every value read from it right or abstained; locations in
    pixels of the image."""
    _need_ocr()
    variant = scans.Variant(300, skew=2.0, noise=6, jpeg=85, seal=True)
    first = scans.scan_pages(rendered, variant, tmp_path)[0]
    path = scans.save_png(first, tmp_path / "page1.jpg", 300)
    record = parse(path).to_dict()
    wrong, _ = _verdict(record)
    assert [w for w in wrong if "<missing>" not in w] == []
    assert record["table2"]["normative_documents"] == {"issued": 8, "repealed": 26, "in_force": 66}
    box = record["locations"]["table2/normative_documents/in_force"]["bbox"]
    assert 0 <= box[0] < box[2] <= first.width and 0 <= box[1] < box[3] <= first.height


@pytest.mark.slow
@pytest.mark.parametrize("turn", [90, 180])
def test_a_turned_page_is_read_upright(rendered: Path, tmp_path: Path, turn: int) -> None:
    _need_ocr()
    variant = scans.Variant(200, turn=turn)
    first = scans.scan_pages(rendered, variant, tmp_path)[0]
    record = parse(scans.save_png(first, tmp_path / "page1.png", 200)).to_dict()
    assert record["table2"]["regulations"] == {"issued": 1, "repealed": 0, "in_force": 11}
    # The location is on the image as stored (turned), not on the upright view.
    box = record["locations"]["table2/regulations/in_force"]["bbox"]
    assert 0 <= box[0] < box[2] <= first.width and 0 <= box[1] < box[3] <= first.height
    assert any(
        f"旋转 {(360 - turn) % 360} 度" in f["message"] or f"旋转 {turn} 度" in f["message"] for f in record["findings"]
    )


@pytest.mark.slow
def test_mixed_pdf_reads_only_its_scanned_page_by_ocr(rendered: Path, tmp_path: Path) -> None:
    _need_ocr()
    from pypdf import PdfReader, PdfWriter

    scanned = scans.save_pdf(scans.scan_pages(rendered, scans.Variant(200, noise=6), tmp_path), tmp_path / "s.pdf", 200)
    text, image = PdfReader(rendered), PdfReader(scanned)
    writer = PdfWriter()
    writer.add_page(text.pages[0])
    writer.add_page(image.pages[1])
    for page in text.pages[2:]:
        writer.add_page(page)
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as out:
        writer.write(out)
    record = parse(mixed).to_dict()
    _assert_right_or_abstained(record)
    notes = [f["message"] for f in record["findings"] if f["rule"] == "RD21"]
    assert len(notes) == 1 and notes[0].startswith("第 2 页是扫描页")


def test_missing_model_files_are_named_not_downloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need_ocr()
    monkeypatch.setattr(ocr, "_ENGINE", None)
    monkeypatch.setattr(ocr, "model_dir", lambda: tmp_path)
    png = scans.save_png(Image.new("RGB", (400, 300), "white"), tmp_path / "page.png", 100)
    errors = parse(png).to_dict()["errors"]
    assert [e["rule"] for e in errors] == ["RD03"]
    assert "模型文件缺失" in errors[0]["message"] and "PP-OCRv6_det_small.onnx" in errors[0]["message"]


def test_a_scanned_page_among_text_pages_without_ocr_gets_rd22(
    rendered: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PdfReader, PdfWriter

    monkeypatch.setattr(ocr, "available", lambda: False)
    blank = scans.save_pdf([Image.new("RGB", (850, 1100), "white")], tmp_path / "blank.pdf", 100)
    writer = PdfWriter()
    for page in PdfReader(rendered).pages:
        writer.add_page(page)
    writer.add_page(PdfReader(blank).pages[0])
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as out:
        writer.write(out)
    record = parse(mixed).to_dict()
    assert record["errors"] == [] and table_diffs(truth_report(NAME).to_dict(), record) == []
    notes = [f for f in record["findings"] if f["rule"] == "RD22"]
    scanned = len(PdfReader(rendered).pages) + 1  # the blank scan comes after the rendered pages
    assert len(notes) == 1 and notes[0]["message"].startswith(f"第 {scanned} 页是扫描页")
    assert ocr.OCR_INSTALL_COMMAND in notes[0]["message"]


# More corpus records, each with its own layout, at one resolution each (OCR costs about 2 s a
# page): the 2019 format (政府集中采购 in table 二), a table 三 whose 法人 columns are printed
# empty, and a seed with a carry-forward in one column.
OTHER_RECORDS = [
    ("r007-pingtan-2019", 200),
    ("r015-shuyang-fgj-2023", 300),
    ("003_85a44054a9ef54a3", 150),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "dpi"), OTHER_RECORDS)
def test_other_corpus_records_scanned(name: str, dpi: int, tmp_path: Path) -> None:
    """At 200 and 300 dpi every cell right or abstained from; at 150 dpi no wrong cell that the
    table's arithmetic could have caught."""
    _need_ocr()
    corpus_or_skip()
    rendered = write(truth_report(name), tmp_path / f"{name}.pdf")
    variant = scans.Variant(dpi, skew=-1.2, noise=8, jpeg=75, seal=True)
    pdf = scans.save_pdf(scans.scan_pages(rendered, variant, tmp_path), tmp_path / "scan.pdf", dpi)
    record = parse(pdf).to_dict()
    wrong, abstained = _verdict(record, name)
    if dpi >= 200:
        _assert_right_or_abstained(record, name)
    else:
        assert [w for w in wrong if not w.startswith("table2/")] == []
    # Not a test that abstains its way through: nearly every cell is read.
    cells = sum(
        len(cols)
        for t in ("table2", "table3", "table4")
        for cols in (truth_report(name).to_dict().get(t) or {}).values()
    )
    assert len(abstained) <= cells // 10


@pytest.mark.slow
def test_a_table_printed_without_rules_is_read_from_box_geometry(rendered: Path, tmp_path: Path) -> None:
    """The tables' rules erased from the page: cells come from the text boxes' rows and columns.
    Every cell right or abstained from, most of them read."""
    _need_ocr()
    variant = scans.Variant(200, rules=False)
    pages = scans.scan_pages(rendered, variant, tmp_path)
    pdf = scans.save_pdf(pages, tmp_path / "unruled.pdf", 200)
    # The page really has no rules left for the ruled-table finder.
    import numpy as np

    assert ocr.ruled_tables(ocr.ink(np.asarray(pages[1])[:, :, ::-1].copy()))[0] == []
    record = parse(pdf).to_dict()
    _assert_right_or_abstained(record)
    _, abstained = _verdict(record)
    assert len(abstained) <= 40  # of 200 cells
    assert record["table3"]["new"]["total"] == 3119
