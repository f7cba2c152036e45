"""Word features found in agencies' DOCX files, added to rendered reports by editing their XML:
content controls around rows and cells (form templates), text boxes (a red header's 文件 line),
tracked changes (a report edited with 修订 on, sent before the changes were accepted)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from builders import valid_report
from conftest import corpus_cases, table_diffs, truth_report
from docx_edit import edit_docx, w
from nianbao import parse
from nianbao.model import Paragraph
from nianbao.readers.docx import read_docx
from nianbao.record import Report
from nianbao.render import write

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _edited(report: Report, tmp_path: Path, change: Callable[[etree._Element], None]) -> Path:
    return edit_docx(write(report, tmp_path / "source.docx"), tmp_path / "edited.docx", change)


def _in_content_control(el: etree._Element) -> None:
    sdt = etree.Element(w("sdt"))
    etree.SubElement(sdt, w("sdtPr"))
    content = etree.SubElement(sdt, w("sdtContent"))
    el.addprevious(sdt)
    content.append(el)


def _value_cells_in_controls(root: etree._Element) -> None:
    for tc in list(root.iter(w("tc"))):
        if "".join(tc.itertext()).strip().replace(".", "").isdigit():
            _in_content_control(tc)


def _rows_in_controls(root: etree._Element) -> None:
    for tr in list(root.iter(w("tr"))):
        _in_content_control(tr)


def _assert_reads_back(report: Report, path: Path) -> dict[str, object]:
    record = parse(path).to_dict()
    assert record["errors"] == []
    assert table_diffs(report.to_dict(), record) == []
    return record


@pytest.mark.parametrize("name", corpus_cases())
def test_value_cells_inside_content_controls(name: str, tmp_path: Path) -> None:
    report = truth_report(name)
    _assert_reads_back(report, _edited(report, tmp_path, _value_cells_in_controls))


@pytest.mark.parametrize("name", corpus_cases())
def test_rows_inside_content_controls(name: str, tmp_path: Path) -> None:
    report = truth_report(name)
    _assert_reads_back(report, _edited(report, tmp_path, _rows_in_controls))


def test_a_text_box_is_read_once(tmp_path: Path) -> None:
    # Word stores a text box twice: the drawing (mc:Choice) and a VML copy (mc:Fallback).
    def add_text_box(root: etree._Element) -> None:
        title = next(root.iter(w("p")))
        alternate = etree.SubElement(etree.SubElement(title, w("r")), f"{{{MC}}}AlternateContent")
        for branch in ("Choice", "Fallback"):
            box = etree.SubElement(etree.SubElement(alternate, f"{{{MC}}}{branch}"), w("txbxContent"))
            run = etree.SubElement(etree.SubElement(box, w("p")), w("r"))
            etree.SubElement(run, w("t")).text = "示例市教育局文件"

    path = _edited(valid_report(), tmp_path, add_text_box)
    first = read_docx(path, path.read_bytes()).blocks[0]
    assert isinstance(first, Paragraph)
    assert first.text.count("示例市教育局文件") == 1


def _row_labelled(root: etree._Element, label: str) -> etree._Element:
    return next(tr for tr in root.iter(w("tr")) if label in "".join(tr.itertext()))


def _tracked_edits(root: etree._Element) -> None:
    # 予以公开: the old row (figures one higher) deleted under tracking, the new row inserted after.
    row = _row_labelled(root, "予以公开")
    old = copy.deepcopy(row)
    for t in old.iter(w("t")):
        if t.text and t.text.isdigit():
            t.text = str(int(t.text) + 1)
    properties = old.find(w("trPr"))
    if properties is None:
        properties = etree.Element(w("trPr"))
        old.insert(0, properties)
    etree.SubElement(properties, w("del"))
    row.addprevious(old)
    # 本年新收, natural persons: "10" typed over a deleted "11"; a moved-away "5" in the next cell.
    new = _row_labelled(root, "本年新收")
    cells = new.findall(w("tc"))
    deleted = etree.SubElement(etree.SubElement(cells[1].find(w("p")), w("del")), w("r"))
    etree.SubElement(deleted, w("delText")).text = "11"
    moved = etree.SubElement(etree.SubElement(cells[2].find(w("p")), w("moveFrom")), w("r"))
    etree.SubElement(moved, w("t")).text = "5"


def test_tracked_changes_are_read_as_accepted(tmp_path: Path) -> None:
    report = valid_report()
    _assert_reads_back(report, _edited(report, tmp_path, _tracked_edits))


def _inside_a_frame_table(root: etree._Element) -> None:
    # The whole document inside a one-cell table (a frame some templates draw around the page).
    body = root.find(w("body"))
    assert body is not None
    content = [child for child in body if child.tag != w("sectPr")]
    frame = etree.Element(w("tbl"))
    etree.SubElement(frame, w("tblPr"))
    cell = etree.SubElement(etree.SubElement(frame, w("tr")), w("tc"))
    cell.extend(content)
    etree.SubElement(cell, w("p"))  # a cell ends with a paragraph
    body.insert(0, frame)


@pytest.mark.parametrize("name", corpus_cases())
def test_report_inside_a_frame_table(name: str, tmp_path: Path) -> None:
    report = truth_report(name)
    _assert_reads_back(report, _edited(report, tmp_path, _inside_a_frame_table))


def test_sections_inside_a_frame_table(tmp_path: Path) -> None:
    report = valid_report()
    record = _assert_reads_back(report, _edited(report, tmp_path, _inside_a_frame_table))
    assert [s["text"] for s in record["sections"]] == [s.text for s in report.sections]  # type: ignore[union-attr]
