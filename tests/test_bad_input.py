"""Bad input never stops a batch: each file gets a record with located Chinese errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from builders import valid_report
from conftest import needs_libreoffice, truth_names, truth_report
from nianbao import parse
from nianbao.render import write


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *args], capture_output=True, text=True, timeout=120)


# Crawler-style text of an old report (made up here): its statistics table runs 2018 and
# cumulative figures together, after a section title that names 行政复议 and 行政诉讼.
_OLD_STATISTICS = (
    "某县2018年度政府信息公开工作年度报告 本报告所列数据的统计期限自2018年1月1日起至2018年12月31日止。"
    "一、概述 本年度主动公开政府信息1200条。三、依申请公开情况 本年度受理申请3件。"
    "四、因政府信息公开申请行政复议、提起行政诉讼的情况 本年度未发生。五、主要问题和改进措施 无。"
    "六、政府信息公开情况统计表 指标名称计量单位2018年度历年累计主动公开文件数条120085001"
    "其中：1.政府网站公开数条120085002.政府公报公开数条00受理依申请公开信息总数条33"
    "对申请的答复总数条33行政复议数件00行政诉讼数件00\n"
)


def test_no_table_values_from_a_report_before_the_national_format(tmp_path: Path) -> None:
    path = tmp_path / "old_statistics.txt"
    path.write_text(_OLD_STATISTICS, encoding="utf-8")
    record = parse(path)
    assert (record.table2, record.table3, record.table4) == (None, None, None)


def test_another_table_after_section_four_is_not_table4(tmp_path: Path) -> None:
    # A 2024 report that prints no table 四: section 四's title names 行政复议 and 行政诉讼, and a
    # table of something else (short labels, more than fifteen numbers) follows. None of its
    # numbers is a table 四 value.
    rows = "".join(f"| 整改事项{name} | {i * 3} |\n" for i, name in enumerate("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午"))
    text = (
        "某区教育局2024年政府信息公开工作年度报告\n一、总体情况\n本年度主动公开信息120条。\n"
        "四、政府信息公开行政复议、行政诉讼情况\n本年度未发生。\n"
        f"五、存在的主要问题及改进情况\n\n| 事项 | 件数 |\n|---|---|\n{rows}\n六、其他需要报告的事项\n无。\n"
    )
    path = tmp_path / "no_table4.md"
    path.write_text(text, encoding="utf-8")
    table4 = parse(path).table4
    assert table4 is None or all(v is None for group in table4.values() for v in group.values())


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("empty.txt", b"", "RD01"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj <<>> garbage", "RD01"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "RD01"),
        ("notes.txt", "会议纪要：今天讨论了食堂菜单。".encode(), "RD04"),
        ("old.txt", "某某局2017年政府信息公开工作年度报告\n一、概述\n二、主动公开情况\n".encode(), "RD10"),
        # A pre-2019 report whose old 统计表 follows a section title naming 行政复议: not table 四.
        pytest.param("old_statistics.txt", _OLD_STATISTICS.encode(), "RD10", id="old-statistics-table"),
        ("data.xyz", b"\x00\x01", "RD04"),
    ],
)
def test_bad_file_gets_error_record(tmp_path: Path, filename: str, content: bytes, code: str) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    record = parse(path).to_dict()
    assert [e["rule"] for e in record["errors"]] == [code]
    assert all(e["severity"] == "error" and e["message"] for e in record["errors"])


def test_image_only_pdf(tmp_path: Path) -> None:
    # A page with drawing but no text layer, as a scan would be.
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R>>endobj\n"
        b"4 0 obj<</Length 21>>stream\n0 0 m 100 100 l S\nendstream endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF"
    )
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf)
    assert [e["rule"] for e in parse(path).to_dict()["errors"]] == ["RD03"]


def test_batch_goes_on_and_exit_code_says_some_failed(tmp_path: Path) -> None:
    (tmp_path / "a_empty.txt").write_bytes(b"")
    if truth_names():
        write(truth_report(truth_names()[0]), tmp_path / "b_good.html")
    result = _cli("parse", str(tmp_path))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1
    expected = ["a_empty.txt", "b_good.html"] if truth_names() else ["a_empty.txt"]
    assert [Path(r["source"]["path"]).name for r in lines] == expected
    assert lines[0]["errors"][0]["rule"] == "RD01"


def test_exit_codes_ok_and_usage(tmp_path: Path) -> None:
    names = truth_names()
    if names:
        good = write(truth_report(names[0]), tmp_path / "good.txt")
        assert _cli("parse", str(good), "--format", "json").returncode == 0
        table = _cli("parse", str(good), "--format", "table")
        assert table.returncode == 0 and "表三" in table.stdout
    assert _cli("parse", str(tmp_path / "missing.txt")).returncode == 2
    assert _cli("parse", str(tmp_path), "--format", "xml").returncode == 2


def _without_text_mapping(source: Path, target: Path, font_names: set[str]) -> Path:
    """The PDF with the named fonts' ToUnicode maps removed: their glyphs can no longer be read
    as characters (pdfminer prints ``(cid:N)``), as in PDFs whose embedded fonts lack the map."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=PdfReader(source))
    for page in writer.pages:
        fonts = page["/Resources"]["/Font"]
        for key in fonts:
            font = fonts[key].get_object()
            if str(font.get("/BaseFont", "")).lstrip("/") in font_names and "/ToUnicode" in font:
                del font[NameObject("/ToUnicode")]
    writer.write(target)
    return target


@needs_libreoffice
@pytest.mark.libreoffice
def test_digits_in_a_font_without_text_mapping_are_not_read(tmp_path: Path) -> None:
    import pdfplumber

    source = write(valid_report(), tmp_path / "report.pdf")
    with pdfplumber.open(source) as pdf:
        digit_fonts = {c["fontname"] for page in pdf.pages for c in page.chars if c["text"].isdigit()}
    record = parse(_without_text_mapping(source, tmp_path / "unmapped.pdf", digit_fonts)).to_dict()
    assert "RD13" in {f["rule"] for f in record["findings"]}  # type: ignore[index]
    for table in ("table2", "table3", "table4"):
        for row in (record[table] or {}).values():  # type: ignore[union-attr]
            assert set(row.values()) <= {None}, f"{table}: a number read from glyphs without a mapping"


def test_unreadable_characters_in_a_number(tmp_path: Path) -> None:
    # U+FFFD where a character could not be read: a value with one is unknown, never its legible
    # digits ("\ufffd0" is not 0), and the other cells of its row keep their places.
    from nianbao.render import to_html

    page = to_html(valid_report()).decode("utf-8")
    row = page.index("本年新收")
    page = page[:row] + page[row:].replace("<td>10</td>", "<td>\ufffd0</td>", 1)
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    record = parse(path).to_dict()
    new = record["table3"]["new"]  # type: ignore[index]
    assert new["natural"] is None
    assert (new["commercial"], new["total"]) == (2, 12)
    rd13 = [f for f in record["findings"] if f["rule"] == "RD13"]  # type: ignore[union-attr]
    assert len(rd13) == 1 and "1 个字符无法识别" in rd13[0]["message"]


def test_a_byte_that_does_not_decode_in_a_gbk_page(tmp_path: Path) -> None:
    # A GBK page with one broken byte where a digit was (a damaged download): the decoder puts
    # U+FFFD there, and the number is unknown, not the digit left beside it.
    from nianbao.render import to_html

    page = to_html(valid_report(), encoding="gbk")
    row = page.index("本年新收".encode("gbk"))
    cell = page.index(b"<td>10</td>", row)
    broken = page[: cell + 4] + b"\xff" + page[cell + 5 :]
    path = tmp_path / "page.html"
    path.write_bytes(broken)
    record = parse(path).to_dict()
    assert record["table3"]["new"]["natural"] is None  # type: ignore[index]
    assert record["table3"]["new"]["total"] == 12  # type: ignore[index]
    assert "RD13" in {f["rule"] for f in record["findings"]}  # type: ignore[union-attr]
