"""PDF-to-Markdown conversions that print the tables in pieces, each under a heading of its own.

A converter that cannot read a table's header writes one table per row group under a heading
(``### 一、本年新收政府信息公开申请数量``), invents column names (``| 类别 | 数据1 | 数据2 | …``) and
splits table 四 into its three parts (``### 行政诉讼（未经复议直接起诉）``), with the page numbers
(``— 5 —``) left between the pieces. Such files are built here from a record, in that shape, and
must read back to the same values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builders import valid_report
from conftest import corpus_cases, table_diffs, truth_report
from nianbao import formats, parse
from nianbao.record import Report

Number = int | float | None


def _cell(value: Number) -> str:
    return "" if value is None else str(value)


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows] + [""]


def _table2(report: Report) -> list[str]:
    lines: list[str] = []
    rows = formats.TABLE2_ROWS[report.template or "2021"]
    for item in dict.fromkeys(spec.item for spec in rows):
        specs = [spec for spec in rows if spec.item == item]
        header = ["信息内容", *[c.label for c in specs[0].columns]]
        body = [[s.label, *[_cell((report.table2 or {})[s.key][c.key]) for c in s.columns]] for s in specs]
        lines += [f"### {formats.TABLE2_ITEM_HEADING.format(item=item)}", *_md_table(header, body)]
    return lines


def _table3(report: Report) -> list[str]:
    """One piece per top row and one per group of sub-rows, with made-up column names."""
    header = ["类别", *[f"数据{i}" for i in range(1, 7)], "总计"]
    order = formats.TABLE3_ORDER_SPLIT if report.template == "2021" else formats.TABLE3_ORDER_SINGLE
    pieces: dict[str, list[list[str]]] = {}
    for key in order:
        row = formats.TABLE3_ROW_BY_KEY[key]
        values = (report.table3 or {})[key]
        heading = row.group if row.number else row.label  # sub-rows (1.属于国家秘密…) under their group
        pieces.setdefault(heading, []).append([row.label, *[_cell(values[c.key]) for c in formats.TABLE3_COLUMNS]])
    lines: list[str] = []
    for page, (heading, body) in enumerate(pieces.items(), start=4):
        # A page number the conversion left between two pieces.
        lines += [f"### {heading}", *_md_table(header, body), f"— {page} —", ""]
    return lines


def _table4(report: Report) -> list[str]:
    lines: list[str] = []
    header = [o.label for o in formats.TABLE4_OUTCOMES]
    for group in formats.TABLE4_GROUPS:
        first, _, part = group.label.partition("·")
        heading = f"{first}（{part}）" if part else first
        values = (report.table4 or {})[group.key]
        lines += [f"### {heading}", *_md_table(header, [[_cell(values[o.key]) for o in formats.TABLE4_OUTCOMES]])]
    return lines


def fragmented_markdown(report: Report) -> str:
    """The report as such a conversion prints it (a truth record has tables only: its sections
    are the bare headings)."""
    lines = [f"# {report.title or f'{report.agency}{report.year}年政府信息公开工作年度报告'}", ""]
    texts = {s.number: s.text for s in report.sections}
    tables = {2: _table2, 3: _table3, 4: _table4}
    for section in formats.SECTIONS:
        numeral = formats.CHINESE_SECTION_NUMERALS[section.number - 1]
        lines += [f"## {numeral}、{section.title}", "", texts.get(section.number, ""), ""]
        if section.number in tables:
            lines += tables[section.number](report)
    return "\n".join(lines)


def _assert_reads_back(report: Report, path: Path) -> None:
    path.write_text(fragmented_markdown(report), encoding="utf-8")
    record = parse(path).to_dict()
    assert record["errors"] == []
    assert [f["rule"] for f in record["findings"] if f["rule"] in ("RD07", "RD08")] == []
    assert table_diffs(report.to_dict(), record) == []


def test_pieces_with_made_up_column_names_read_back(tmp_path: Path) -> None:
    _assert_reads_back(valid_report(), tmp_path / "pieces.md")


@pytest.mark.parametrize("name", corpus_cases())
def test_corpus_records_in_pieces_read_back(name: str, tmp_path: Path) -> None:
    _assert_reads_back(truth_report(name), tmp_path / f"{name}.md")


def test_table4_in_three_pieces_keeps_its_order(tmp_path: Path) -> None:
    report = valid_report()
    table4 = {
        "review": {"upheld": 27, "corrected": 10, "other": 9, "pending": 15, "total": 61},
        "litigation_direct": {"upheld": 3, "corrected": 0, "other": 0, "pending": 0, "total": 3},
        "litigation_after_review": {"upheld": 8, "corrected": 0, "other": 1, "pending": 1, "total": 10},
    }
    report = Report.from_dict({**report.to_dict(), "table4": table4})
    path = tmp_path / "t4.md"
    path.write_text(fragmented_markdown(report), encoding="utf-8")
    assert parse(path).table4 == table4


def test_a_row_printed_short_is_not_called_run_together(tmp_path: Path) -> None:
    # Two cells printed for three columns: the message quotes them as printed, cell by cell.
    path = tmp_path / "short.md"
    text = fragmented_markdown(valid_report()).replace(
        "| 行政规范性文件 | 3 | 1 | 20 |", "| 行政规范性文件 | 3 | 120 |"
    )
    path.write_text(text, encoding="utf-8")
    (finding,) = [f for f in parse(path).findings if f.rule == "RD07"]
    assert "（“3 120”）少于本行的单元格" in finding.message
    assert finding.detail["printed"] == "3 120"


@pytest.mark.parametrize("name", corpus_cases())
def test_pieces_with_a_page_header_between_them(name: str, tmp_path: Path) -> None:
    # A converter that keeps the PDF's page headers: after each page number, the next page's
    # running title and the stamp a browser prints (address, date, time). The stamp's digits are
    # not values: before, each was read as a row of numbers (RD08).
    report = truth_report(name)
    header = f"{report.agency}{report.year}年政府信息公开工作年度报告\n\nhttps://www.gov.cn/zwgk/ 2025/1/20 上午10:30\n"
    text = re.sub(r"(— \d+ —\n)", lambda m: m[1] + "\n" + header, fragmented_markdown(report))
    assert text.count("10:30") >= 2
    path = tmp_path / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    record = parse(path).to_dict()
    assert record["errors"] == []
    assert [f["rule"] for f in record["findings"] if f["rule"] in ("RD07", "RD08")] == []
    assert table_diffs(report.to_dict(), record) == []
