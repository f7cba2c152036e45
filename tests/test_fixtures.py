"""Every format, built from the corpus data: render a truth record, read it back, same values."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from conftest import CORPUS, corpus_cases, needs_libreoffice, table_diffs, truth_names, truth_report
from nianbao import parse
from nianbao.render import to_html, write


def _assert_reads_back(name: str, path: Path) -> dict[str, object]:
    record = parse(path).to_dict()
    expected = truth_report(name).to_dict()
    assert record["errors"] == []
    assert (record["agency"], record["year"]) == (expected["agency"], expected["year"])
    assert table_diffs(expected, record) == []
    return record


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html", ".docx"])
@pytest.mark.parametrize("name", corpus_cases())
def test_rendered_file_reads_back(name: str, suffix: str, tmp_path: Path) -> None:
    _assert_reads_back(name, write(truth_report(name), tmp_path / f"{name}{suffix}"))


@pytest.mark.parametrize("name", corpus_cases())
def test_gbk_html_page(name: str, tmp_path: Path) -> None:
    data = to_html(truth_report(name), encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = tmp_path / f"{name}.shtml"
    path.write_bytes(data)
    record = _assert_reads_back(name, path)
    assert record["locations"]["table3/new/natural"] == {"table": 1, "row": 3, "col": 3}


def test_html_table_inside_a_script_string(tmp_path: Path) -> None:
    import json

    page = to_html(truth_report("r001-huaian-city-2024")).decode("utf-8")
    body = page[page.index("<body>") + 6 : page.index("</body>")]
    wrapper = f"<html><body><div id='c'></div><script>var content = {json.dumps(body)};</script></body></html>"
    path = tmp_path / "script.html"
    path.write_text(wrapper, encoding="utf-8")
    _assert_reads_back("r001-huaian-city-2024", path)


def test_docx_has_merged_cells(tmp_path: Path) -> None:
    path = write(truth_report("r001-huaian-city-2024"), tmp_path / "merged.docx")
    xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
    assert "gridSpan" in xml and "vMerge" in xml
    record = _assert_reads_back("r001-huaian-city-2024", path)
    assert record["locations"]["table4/review/total"] == {"table": 2, "row": 3, "col": 4}


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["r001-huaian-city-2024", "r015-shuyang-fgj-2023", "r007-pingtan-2019"])
def test_pdf_with_table_broken_over_pages(name: str, tmp_path: Path) -> None:
    record = _assert_reads_back(name, write(truth_report(name), tmp_path / f"{name}.pdf"))
    locations = record["locations"]
    assert isinstance(locations, dict)
    pages = {loc["page"] for path, loc in locations.items() if path.startswith("table3/")}
    assert len(pages) >= 2, "the fixture should break table 三 over two pages"


@needs_libreoffice
@pytest.mark.libreoffice
def test_pdf_with_header_rows_repeated_on_each_page(tmp_path: Path) -> None:
    # Word's 标题行重复: table 三's three header rows printed again at the top of every page.
    from docx_edit import edit_docx, w
    from nianbao.readers.office import convert

    name = "r001-huaian-city-2024"

    def repeat_header(root: etree._Element) -> None:
        table3 = list(root.iter(w("tbl")))[1]
        for row in table3.findall(w("tr"))[:3]:
            properties = row.find(w("trPr"))
            if properties is None:
                properties = etree.Element(w("trPr"))
                row.insert(0, properties)
            if properties.find(w("tblHeader")) is None:  # the official layout repeats them already
                etree.SubElement(properties, w("tblHeader"))

    source = write(truth_report(name), tmp_path / "source.docx")
    pdf = convert(edit_docx(source, tmp_path / f"{name}.docx", repeat_header), "pdf", tmp_path)
    with pdfplumber.open(pdf) as document:
        pages = [page.extract_text() or "" for page in document.pages]
    assert sum("申请人情况" in text for text in pages) >= 2, "the header should be printed on two pages"
    _assert_reads_back(name, pdf)


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("footer", ["— {page} —", "第 {page} 页 共 {pages} 页"])
@pytest.mark.parametrize("name", corpus_cases(["r001-huaian-city-2024", "r008-pingtan-2024", "r015-shuyang-fgj-2023"]))
def test_pdf_with_a_page_header_and_footer(name: str, footer: str, tmp_path: Path) -> None:
    # Word's running lines on every page: the report's title and a line with a date and a time
    # above, the page number below. Before they were dropped, the header between table 三's two
    # pages kept apart the two parts of the row broken over the page (its values lost, RD06), and
    # its date was read as a row of numbers (RD08).
    from docx_edit import with_running_lines
    from nianbao.readers.office import convert

    report = truth_report(name)
    plain = write(report, tmp_path / "plain.pdf")
    source = write(report, tmp_path / "source.docx")
    header = [f"{report.agency}{report.year}年政府信息公开工作年度报告", "https://www.gov.cn/zwgk/ 2025/1/20 10:30"]
    pdf = convert(with_running_lines(source, tmp_path / f"{name}.docx", header, footer), "pdf", tmp_path)
    with pdfplumber.open(pdf) as document:
        assert all("10:30" in (page.extract_text() or "") for page in document.pages)
    before, after = parse(plain).to_dict(), parse(pdf).to_dict()
    assert table_diffs(report.to_dict(), after) == []
    for key in ("agency", "year", "title", "labels"):
        assert after[key] == before[key], key
    assert [(s["number"], s["text"]) for s in after["sections"]] == [
        (s["number"], s["text"]) for s in before["sections"]
    ]
    # The header moves the page's content down: the findings are the same but for their places.
    unplaced = [{k: v for k, v in f.items() if k != "location"} for f in after["findings"]]
    assert unplaced == [{k: v for k, v in f.items() if k != "location"} for f in before["findings"]]


def _without_rules(keep_horizontal: bool) -> Callable[[etree._Element], None]:
    """Tables drawn without vertical rules, or without any rule at all."""

    def change(root: etree._Element) -> None:
        from docx_edit import w

        for table in root.iter(w("tbl")):
            properties = table.find(w("tblPr"))
            assert properties is not None
            for old in [*properties.findall(w("tblBorders")), *properties.findall(w("tblStyle"))]:
                properties.remove(old)
            borders = etree.SubElement(properties, w("tblBorders"))
            for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
                drawn = keep_horizontal and side in ("top", "bottom", "insideH")
                etree.SubElement(borders, w(side), {w("val"): "single" if drawn else "nil", w("sz"): "4"})
        for cell_borders in list(root.iter(w("tcBorders"))):
            cell_borders.getparent().remove(cell_borders)  # type: ignore[union-attr]

    return change


# The reports whose tables print every cell: a table without rules gives no position to a blank.
_ALL_CELLS_PRINTED = [
    n for n in truth_names() if n.startswith("00") or n in ("r001-huaian-city-2024", "r008-pingtan-2024")
]


def _pdf_without_rules(name: str, keep_horizontal: bool, tmp_path: Path) -> Path:
    # No ruled table for pdfplumber to find: each row is a text line with its cells spaced apart,
    # and the label of a row may wrap onto the next line. Rows must not be joined as wrapped text.
    from docx_edit import edit_docx
    from nianbao.readers.office import convert

    source = write(truth_report(name), tmp_path / "source.docx")
    edited = edit_docx(source, tmp_path / f"{name}.docx", _without_rules(keep_horizontal))
    pdf = convert(edited, "pdf", tmp_path)
    with pdfplumber.open(pdf) as document:
        assert not any(page.find_tables() for page in document.pages)
    return pdf


def _read_without_rules(name: str, keep_horizontal: bool, tmp_path: Path) -> None:
    _assert_reads_back(name, _pdf_without_rules(name, keep_horizontal, tmp_path))


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", corpus_cases([n for n in truth_names() if n not in _ALL_CELLS_PRINTED]))
def test_pdf_without_rules_and_blank_cells_gives_no_wrong_number(name: str, tmp_path: Path) -> None:
    # Blank cells of a table without rules leave no trace on the line: a row short of values is
    # abstained from (its cells null, with a reading finding), never filled by the next rows.
    expected = truth_report(name).to_dict()
    record = parse(_pdf_without_rules(name, False, tmp_path)).to_dict()
    flagged = {cell for finding in record["findings"] for cell in finding["cells"]}  # type: ignore[union-attr]
    for table in ("table2", "table3", "table4"):
        for row, cells in expected[table].items():
            for col, want in cells.items():
                have = ((record[table] or {}).get(row) or {}).get(col)  # type: ignore[union-attr]
                assert have in (want, None), f"{table}/{row}/{col}: read {have!r}, printed {want!r}"
                if have is None and want is not None:
                    path = f"{table}/{row}/{col}"
                    assert path in flagged, f"{path} abstained from without a reading finding"


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", corpus_cases(_ALL_CELLS_PRINTED))
def test_pdf_of_tables_without_rules(name: str, tmp_path: Path) -> None:
    _read_without_rules(name, False, tmp_path)


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", corpus_cases([n for n in _ALL_CELLS_PRINTED if n.startswith("r")]))
def test_pdf_of_tables_with_horizontal_rules_only(name: str, tmp_path: Path) -> None:
    _read_without_rules(name, True, tmp_path)


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["001_17c512892160a454", "r008-pingtan-2024"])
def test_doc_through_libreoffice(name: str, tmp_path: Path) -> None:
    path = write(truth_report(name), tmp_path / f"{name}.doc")
    assert path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    record = _assert_reads_back(name, path)
    assert record["source"]["format"] == "doc"  # type: ignore[index]


@needs_libreoffice
@pytest.mark.libreoffice
def test_wps_file_through_libreoffice(tmp_path: Path) -> None:
    # Kingsoft WPS files are OLE documents that LibreOffice detects by content.
    doc = write(truth_report("r015-shuyang-fgj-2023"), tmp_path / "report.doc")
    wps = doc.rename(tmp_path / "report.wps")
    record = _assert_reads_back("r015-shuyang-fgj-2023", wps)
    assert record["source"]["format"] == "wps"  # type: ignore[index]


@needs_libreoffice
@pytest.mark.libreoffice
def test_encrypted_pdf_is_an_error_not_a_crash(tmp_path: Path) -> None:
    from nianbao.readers.office import convert
    from nianbao.render import to_docx

    source = tmp_path / "locked.docx"
    to_docx(truth_report("000_ad76ac4b2ae56493"), source)
    options = (
        '{"EncryptFile":{"type":"boolean","value":"true"},"DocumentOpenPassword":{"type":"string","value":"secret"}}'
    )
    pdf = convert(source, f"pdf:writer_pdf_Export:{options}", tmp_path)
    record = parse(pdf).to_dict()
    assert [e["rule"] for e in record["errors"]] == ["RD02"]


def test_2024_report_printing_the_2019_layouts(tmp_path: Path) -> None:
    """A 2021-or-later report that still prints the 2019 表二 and a single （六）其他处理 row."""
    report = truth_report("r007-pingtan-2019")
    mixed = dataclasses.replace(report, year=2024)
    record = parse(write(mixed, tmp_path / "mixed.docx")).to_dict()
    assert (record["year"], record["template"]) == (2024, "2019")
    assert "other_handling" in record["table3"] and "other_handling.other" not in record["table3"]  # type: ignore[operator]
    assert table_diffs(mixed.to_dict(), record) == []


@pytest.mark.parametrize("suffix", [".html", ".docx", ".txt"])
def test_row_labels_are_kept_as_printed(suffix: str, tmp_path: Path) -> None:
    # The record's labels are the printed row labels (normalised), number and words included:
    # "3.危及“三安全一稳定”", not the label words the row was found by ("三安全一稳定”").
    from builders import valid_report
    from nianbao import formats
    from nianbao.numbers import normalize_label

    labels = parse(write(valid_report(), tmp_path / f"report{suffix}")).to_dict()["labels"]
    assert isinstance(labels, dict)
    printed = {f"table3/{row.key}": normalize_label(row.label) for row in formats.TABLE3_ROWS}
    read = {path: label for path, label in labels.items() if path.startswith("table3/")}
    assert len(read) == len(formats.TABLE3_ORDER_SPLIT)
    assert read == {path: printed[path] for path in read}


def _kangxi_forms() -> dict[str, str]:
    """Each character that has a Kangxi radical form (工 -> ⼯, 行 -> ⾏), mapped to that form."""
    import unicodedata

    forms: dict[str, str] = {}
    for code in range(0x2F00, 0x2FD6):
        forms.setdefault(unicodedata.normalize("NFKC", chr(code)), chr(code))
    return forms


def _with_kangxi_text_map(source: Path, target: Path) -> Path:
    """The PDF with its fonts' text maps giving Kangxi radicals for the characters that have one,
    as the maps of some fonts in PDFs exported from WPS and Word do: the glyphs are unchanged."""
    from pypdf import PdfReader, PdfWriter

    forms = {f"{ord(k):04X}": f"{ord(v):04X}" for k, v in _kangxi_forms().items()}
    writer = PdfWriter(clone_from=PdfReader(source))
    for page in writer.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if "/ToUnicode" in font:
                cmap = font["/ToUnicode"].get_object()
                text = cmap.get_data().decode("latin-1")
                changed = re.sub(r"(<[0-9A-F]+>\s*<)([0-9A-F]{4})>", lambda m: m[1] + forms.get(m[2], m[2]) + ">", text)
                cmap.set_data(changed.encode("latin-1"))
    writer.write(target)
    return target


@pytest.mark.parametrize("suffix", [".txt", ".html", ".docx", ".pdf"])
def test_kangxi_radicals_read_as_the_characters_they_show(suffix: str, tmp_path: Path) -> None:
    # PDF fonts' text maps often give Kangxi radicals for ordinary characters (⼯作 for 工作, ⾏政 for
    # 行政), and text copied from such PDFs keeps them. They look the same; the record must not
    # hold them, or a search of the section texts for 工作 misses them.
    from builders import valid_report
    from nianbao.readers.office import find_soffice

    if suffix == ".pdf" and find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    clean = write(valid_report(), tmp_path / f"clean{suffix}")
    if suffix == ".pdf":
        kangxi = _with_kangxi_text_map(clean, tmp_path / "kangxi.pdf")
    elif suffix == ".docx":
        kangxi = tmp_path / "kangxi.docx"
        with zipfile.ZipFile(clean) as src, zipfile.ZipFile(kangxi, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "word/document.xml":
                    data = data.decode("utf-8").translate(str.maketrans(_kangxi_forms())).encode("utf-8")
                dst.writestr(item, data)
    else:
        kangxi = tmp_path / f"kangxi{suffix}"
        kangxi.write_text(clean.read_text(encoding="utf-8").translate(str.maketrans(_kangxi_forms())), encoding="utf-8")
    before, after = parse(clean).to_dict(), parse(kangxi).to_dict()
    texts = [section["text"] for section in after["sections"]]  # type: ignore[union-attr]
    assert any(c in text for text in texts for c in "工行") and not any(c in text for text in texts for c in "⼯⾏")
    for key in before:
        if key not in ("source", "locations"):
            assert after[key] == before[key], key


@pytest.mark.parametrize(
    "name", corpus_cases([n for n in truth_names() if not (CORPUS / "real" / f"{n}.pdf").exists()])
)
def test_kangxi_radicals_in_the_corpus_files(name: str, tmp_path: Path) -> None:
    # The same on the real files: seeds, crawler dumps with headings and tables run into one line,
    # the PDF-to-Markdown file and the saved page, each with every character that has a Kangxi form
    # written in that form.
    from conftest import source_of

    source = source_of(name)  # the corpus PDF's text map is changed in the test above, on a rendered report
    kangxi = tmp_path / source.name
    kangxi.write_bytes(source.read_bytes().decode("utf-8").translate(str.maketrans(_kangxi_forms())).encode("utf-8"))
    before, after = parse(source).to_dict(), parse(kangxi).to_dict()
    for key in before:
        if key not in ("source", "locations"):
            assert after[key] == before[key], key


_COMPATIBLE_CHARACTERS = st.characters(min_codepoint=0x2E80, max_codepoint=0x2FDF) | st.characters(
    min_codepoint=0xF900, max_codepoint=0xFAFF
)


@given(st.text(max_size=40), _COMPATIBLE_CHARACTERS, st.text(max_size=40))
def test_the_quick_look_for_kangxi_radicals_misses_none(before: str, odd: str, after: str) -> None:
    from nianbao.numbers import holds_compatible

    assert holds_compatible(before + odd + after)
