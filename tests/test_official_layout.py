"""What a person sees on a rendered report: the 党政机关公文 layout (GB/T 9704-2012) of the PDF.

Corpus records and sample records are rendered to DOCX and PDF once each (LibreOffice costs
seconds a conversion), turned into page images with pdftoppm, and measured: the page size and the
版心 (from the text's and the tables' positions), the title centred on page 1 (in the image's ink),
the embedded fonts Simplified-Chinese ones (pdffonts), every 表三 row label within two lines, 表三's
header rows on every page it spans, the 落款 on the last page. The documents still read back to
their records.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from builders import valid_report, with_section
from conftest import CORPUS, needs_libreoffice, table_diffs
from nianbao import formats, parse
from nianbao.authoring.sample import generate
from nianbao.numbers import normalize_label
from nianbao.record import Report
from nianbao.render import official, write
from nianbao.rules import check_collection

MM = 72 / 25.4  # points per millimetre
LEFT, TOP = official.LEFT_MM, official.TOP_MM
RIGHT = LEFT + official.TEXT_WIDTH_MM  # the 版心's right edge, from the page's left
BOTTOM = TOP + official.TEXT_HEIGHT_MM
PITCH_PT = official.LINE_PITCH_TWIPS / 20
SC_FONTS = ("UMingCN", "UKaiCN", "WenQuanYiZenHei")

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils (pdftoppm, pdffonts) is not installed: apt-get install poppler-utils",
)


def _rich_report() -> Report:
    """The valid report with longer sections (a full page of text, 二级标题) and a signing date."""
    long = (
        "本机关坚持以公开为常态、不公开为例外，持续深化政务公开，依法保障人民群众的知情权、参与权、表达权和监督权。"
        * 14
    )
    report = with_section(valid_report(), 1, "（一）主动公开情况。" + long + "\n（二）依申请公开情况\n" + long)
    return Report.from_dict({**report.to_dict(), "meta": {"signed": "2025年1月20日"}})


def _sample_report() -> Report:
    return next(s for s in generate(3, seed=4, error_rate=0.0) if s.report.template == "2021").report


def _cases() -> list[Any]:
    cases: list[Any] = [pytest.param("rich", id="rich-2024"), pytest.param("sample", id="sample")]
    for name in ("r001-huaian-city-2024", "r007-pingtan-2019"):
        skip = pytest.mark.skipif(not (CORPUS / "truth" / f"{name}.json").exists(), reason="the corpus is absent")
        cases.append(pytest.param(name, id=name, marks=skip))
    return cases


def _record(name: str) -> Report:
    if name == "rich":
        return _rich_report()
    if name == "sample":
        return _sample_report()
    from conftest import truth_report

    return truth_report(name)


@dataclass(frozen=True)
class Rendered:
    report: Report
    pdf: Path
    docx: Path
    images: list[Path]


_CACHE: dict[str, Rendered] = {}


@pytest.fixture
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    name = request.param
    if name not in _CACHE:
        folder = tmp_path_factory.mktemp(name)
        report = _record(name)
        pdf = write(report, folder / "report.pdf")
        docx = write(report, folder / "report.docx")
        subprocess.run(["pdftoppm", "-r", "40", "-gray", str(pdf), str(folder / "page")], check=True)
        _CACHE[name] = Rendered(report, pdf, docx, sorted(folder.glob("page-*.pgm")))
    return _CACHE[name]


layout = pytest.mark.parametrize("rendered", _cases(), indirect=True)
pytestmark = [needs_libreoffice, needs_poppler, pytest.mark.libreoffice, pytest.mark.slow]


def _lines(page: Any) -> list[dict[str, Any]]:
    return [line for line in page.extract_text_lines(return_chars=True) if line["text"].strip()]


def _body_lines(page: Any) -> list[dict[str, Any]]:
    """Lines of 三号 text (the body, headings, 落款), not the title, tables or page number."""
    return [line for line in _lines(page) if abs(line["chars"][0]["size"] - official.SANHAO) < 0.5]


def _landscape(page: Any) -> bool:
    return bool(page.width > page.height)


def _table3_pages(pdf: Any) -> list[Any]:
    """The pages 表三 is printed on: the turned pages, which hold it alone."""
    return [p for p in pdf.pages if _landscape(p)]


@layout
def test_page_size_and_margins(rendered: Rendered) -> None:
    with pdfplumber.open(rendered.pdf) as pdf:
        portrait = [p for p in pdf.pages if not _landscape(p)]
        landscape = [p for p in pdf.pages if _landscape(p)]
        assert portrait and landscape, "表三 goes on a landscape page, the rest on A4 upright"
        for page in portrait:
            assert abs(page.width / MM - 210) < 1 and abs(page.height / MM - 297) < 1
        for page in landscape:
            assert abs(page.width / MM - 297) < 1 and abs(page.height / MM - 210) < 1
        lines = [(page, line) for page in portrait for line in _body_lines(page)]
        # 订口: unindented lines start at 28 mm; justified lines end at 156 mm further.
        assert abs(min(line["x0"] for _, line in lines) / MM - LEFT) < 1
        # A line that its paragraph continues (the next starts unindented) is justified to the edge.
        wrapped = [
            line
            for page in portrait
            for line, after in itertools.pairwise(_body_lines(page))
            if abs(after["x0"] / MM - LEFT) < 0.5
        ]
        assert wrapped and all(abs(line["x1"] / MM - RIGHT) < 1 for line in wrapped)
        # 天头 and the 版心's foot: the text lies in 22 lines of 28.95 pt from 37 mm down to 262 mm.
        # (The first line's glyphs stand in its 28.95 pt line, which starts at the 天头.)
        starts = 0
        for page in portrait:
            body, every = _body_lines(page), _lines(page)
            if not body:
                continue
            assert max(line["bottom"] for line in body) / MM <= BOTTOM + 0.5
            rules = page.rects + page.lines
            first = every[0]["top"] == body[0]["top"]
            if first and not (rules and min(r["top"] for r in rules) < body[0]["top"]):
                starts += 1
                assert TOP - 0.5 <= body[0]["top"] / MM <= TOP + (PITCH_PT - official.SANHAO) / MM + 0.5
        assert starts, "a page that begins with a line of text"
        # The tables fill the 版心's width: their rules at 28 mm and 184 mm (upright), 37 mm and
        # 262 mm on the turned page, whose 版心 starts 28 mm from the top.
        for page in portrait:
            rules = page.rects + page.lines
            if rules:
                assert abs(min(r["x0"] for r in rules) / MM - LEFT) < 1
                assert abs(max(r["x1"] for r in rules) / MM - RIGHT) < 1
        for page in landscape:
            rules = page.rects + page.lines
            assert abs(min(r["x0"] for r in rules) / MM - TOP) < 1
            assert abs(max(r["x1"] for r in rules) / MM - BOTTOM) < 1
            assert abs(min(r["top"] for r in rules) / MM - LEFT) < 1


@pytest.mark.parametrize("rendered", ["rich"], indirect=True)
def test_lines_of_28_characters_and_22_lines_a_page(rendered: Rendered) -> None:
    # The record with a page's worth of text: the standard's grid of 22 lines of 28 characters.
    with pdfplumber.open(rendered.pdf) as pdf:
        widths = [
            len(line["chars"])
            for page in pdf.pages
            for line in _body_lines(page)
            if line["x1"] / MM > RIGHT - 1 and re.fullmatch(r"[\u4e00-\u9fff，、。；：“”《》（）]+", line["text"])
        ]
        assert widths and max(widths) == official.CHARS_PER_LINE, widths
        full = max((p for p in pdf.pages if not _landscape(p)), key=lambda p: len(_body_lines(p)))
        lines = _body_lines(full)
        assert len(lines) == official.LINES_PER_PAGE
        steps = [b["top"] - a["top"] for a, b in itertools.pairwise(lines)]
        assert all(abs(step - PITCH_PT) < 0.1 for step in steps), steps


def _pgm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    fields = data.split(maxsplit=4)
    assert fields[0] == b"P5"
    width, height = int(fields[1]), int(fields[2])
    return width, height, fields[4][: width * height]


@layout
def test_title_centred_on_page_one_as_seen(rendered: Rendered) -> None:
    # In the page image: the ink of the title's lines, from 37 mm down to the first body line.
    width, _height, pixels = _pgm(rendered.images[0])
    per_mm = width / 210
    top, bottom = int(TOP * per_mm), int((TOP + 25) * per_mm)
    columns = [x for y in range(top, bottom) for x in range(width) if pixels[y * width + x] < 128]
    assert columns, "no ink where the title is printed"
    centre = (min(columns) + max(columns)) / 2 / per_mm
    assert abs(centre - (LEFT + RIGHT) / 2) < 1.5, f"title centred at {centre:.1f} mm"
    with pdfplumber.open(rendered.pdf) as pdf:
        title = [line for line in _lines(pdf.pages[0]) if line["chars"][0]["size"] > official.SANHAO + 2]
        assert title, "a title in 二号"
        for line in title:
            assert abs((line["x0"] + line["x1"]) / 2 / MM - (LEFT + RIGHT) / 2) < 1


@layout
def test_fonts_are_simplified_chinese_and_embedded(rendered: Rendered) -> None:
    out = subprocess.run(["pdffonts", str(rendered.pdf)], capture_output=True, text=True, check=True).stdout
    fonts = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert fonts
    for row in fonts:
        name = row[0].split("+", 1)[-1]
        assert name.startswith(SC_FONTS), f"{name} is not a Simplified-Chinese font"
        assert "yes" in row[-5:-3][0], f"{name} is not embedded"
        assert not re.search(r"jp|JP|TC|tc|HK|hk|KR|kr|TW", name)
    # The DOCX names the fonts of the standard.
    xml = zipfile.ZipFile(rendered.docx).read("word/document.xml").decode("utf-8")
    for font in (official.FONT_TITLE, official.FONT_BODY, official.FONT_HEADING1):
        assert f'w:eastAsia="{font}"' in xml


@layout
def test_table3_labels_within_two_lines_and_headers_on_every_page(rendered: Rendered) -> None:
    labels = {normalize_label(r.label) for r in formats.TABLE3_ROWS}
    seen: set[str] = set()
    with pdfplumber.open(rendered.pdf) as pdf:
        pages = _table3_pages(pdf)
        assert pages and all(_landscape(p) for p in pages)
        for page in pages:
            cells = [cell for table in page.find_tables() for row in table.extract() for cell in row if cell]
            top = {normalize_label(cell.replace("\n", "")) for cell in cells[:14]}
            for header in ("申请人情况", "法人或其他组织", "自然人", "商业企业", "总计"):
                assert header in top, f"page {page.page_number}: 表三's header row ({header}) not repeated"
            for cell in cells:
                if normalize_label(cell.replace("\n", "")) in labels:
                    seen.add(normalize_label(cell.replace("\n", "")))
                    assert cell.count("\n") <= 1, f"{cell!r} takes {cell.count(chr(10)) + 1} lines"
    expected = {normalize_label(formats.TABLE3_ROW_BY_KEY[k].label) for k in rendered.report.table3 or {}}
    assert expected <= seen, expected - seen


@pytest.mark.parametrize("rendered", ["rich"], indirect=True)
def test_table3_runs_over_pages_with_its_header(rendered: Rendered) -> None:
    # Not every record's 表三 needs two pages; the 2021 format's 25 rows do, so the header repeats.
    with pdfplumber.open(rendered.pdf) as pdf:
        assert len(_table3_pages(pdf)) >= 2


@layout
def test_signature_on_the_last_page(rendered: Rendered) -> None:
    report = rendered.report
    with pdfplumber.open(rendered.pdf) as pdf:
        last = _body_lines(pdf.pages[-1])
    agency, date = last[-2], last[-1]
    assert agency["text"].replace(" ", "") == report.agency
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", date["text"].replace(" ", ""))
    # 成文日期右空四字; the agency centred over it.
    assert abs(date["x1"] / MM - (RIGHT - 4 * official.SANHAO / MM)) < 1.5
    assert abs((agency["x0"] + agency["x1"]) / 2 - (date["x0"] + date["x1"]) / 2) / MM < 3


@layout
def test_rendered_documents_read_back(rendered: Rendered) -> None:
    expected = rendered.report
    for path in (rendered.pdf, rendered.docx):
        back = parse(path)
        assert back.errors == ()
        assert (back.agency, back.year) == (expected.agency, expected.year)
        assert table_diffs(expected.to_dict(), back.to_dict()) == []
        if expected.sections:
            assert [(s.number, s.text) for s in back.sections] == [(s.number, s.text) for s in expected.sections]


@layout
def test_metadata_is_the_reports_and_the_renderings(rendered: Rendered) -> None:
    import docx

    now = dt.datetime.now(dt.UTC)
    core = docx.Document(str(rendered.docx)).core_properties
    assert core.author == rendered.report.agency and rendered.report.agency
    assert core.title.endswith("政府信息公开工作年度报告")
    created = core.created.replace(tzinfo=dt.UTC) if core.created.tzinfo is None else core.created
    assert abs((created - now).total_seconds()) < 3600 and core.modified == core.created
    with pdfplumber.open(rendered.pdf) as pdf:
        info = pdf.metadata
    assert info["Author"] == rendered.report.agency and info["Title"] == core.title
    assert str(info["CreationDate"]).startswith(f"D:{dt.datetime.now().astimezone():%Y%m}")


def test_a_fresh_rendering_is_not_late_for_its_file_date(tmp_path: Path) -> None:
    # The file's date is the rendering's (today); the report was signed on 20 January 2025,
    # before its deadline: nianbao's rules must not call it late for the date of the file.
    pdf = write(valid_report(), tmp_path / "report.pdf", signed=dt.date(2025, 1, 20))
    report = parse(pdf)
    assert "file_date" not in report.meta and report.meta["rendered"] == dt.date.today().isoformat()
    assert report.meta["signed"] == "2025-01-20"
    [findings] = check_collection([report])
    assert [f for f in findings if f.rule == "PU01" and f.severity != "notice"] == []
