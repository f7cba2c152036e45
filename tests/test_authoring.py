"""Writing reports: the fill-in workbook, render, and realistic sample sets with known errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from builders import valid_report, with_cells
from conftest import needs_libreoffice, needs_libreoffice_calc
from nianbao import formats, parse
from nianbao.authoring.sample import write_samples
from nianbao.authoring.workbook import MAP_SHEET, TABLE_SHEETS, blank_report, read_workbook, write_template
from nianbao.readers.office import convert
from nianbao.render import write
from nianbao.rules import check_collection


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *args], capture_output=True, text=True, timeout=300)


# --- the workbook ------------------------------------------------------------------------------


def test_template_layout_formulas_and_validation(tmp_path: Path) -> None:
    path = tmp_path / "填报.xlsx"
    assert _cli("template", "--year", "2024", "--agency", "示例区教育委员会", "--out", str(path)).returncode == 0
    wb = load_workbook(path)
    assert [s for s in wb.sheetnames if s in TABLE_SHEETS] == list(TABLE_SHEETS)
    assert sum(1 for s in wb.sheetnames if any(sec.title[:6] in s for sec in formats.SECTIONS)) == 6
    t3 = wb[TABLE_SHEETS[1]]
    assert len(t3.merged_cells.ranges) >= 10  # the national header: 申请人情况, 法人或其他组织, 三、本年度办理结果 …
    assert t3["A1"].value == formats.TABLE3_HEADER_NOTE
    mapping = {row[0]: (row[1], row[2]) for row in wb[MAP_SHEET].iter_rows(min_row=2, values_only=True)}
    sheet, cell = mapping["table3/new/total"]
    assert str(wb[sheet][cell].value).startswith("=SUM(")
    sheet, cell = mapping["table3/total/natural"]
    assert str(wb[sheet][cell].value).startswith("=")
    rules = [dv for dv in t3.data_validations.dataValidation if dv.type == "whole"]
    assert rules and any(cell in str(dv.sqref) for dv in rules for _, cell in [mapping["table3/new/natural"]])
    assert wb[MAP_SHEET].sheet_state == "hidden"


def test_2019_or_2021_format_by_year(tmp_path: Path) -> None:
    write_template(blank_report("示例局", 2020), tmp_path / "old.xlsx")
    write_template(blank_report("示例局", 2021), tmp_path / "new.xlsx")
    old = {r[0] for r in load_workbook(tmp_path / "old.xlsx")[MAP_SHEET].iter_rows(min_row=2, values_only=True)}
    new = {r[0] for r in load_workbook(tmp_path / "new.xlsx")[MAP_SHEET].iter_rows(min_row=2, values_only=True)}
    assert "table2/licensing/previous_items" in old and "table3/other_handling/natural" in old
    assert "table2/regulations/issued" in new and "table3/other_handling.no_fee/natural" in new


def _fill(path: Path, values: dict[str, Any]) -> None:
    wb = load_workbook(path)
    mapping = {row[0]: (row[1], row[2]) for row in wb[MAP_SHEET].iter_rows(min_row=2, values_only=True)}
    for cell_path, value in values.items():
        sheet, cell = mapping[cell_path]
        if not str(wb[sheet][cell].value or "").startswith("="):
            wb[sheet][cell] = value
    for number, text in enumerate(valid_report().sections, start=1):
        wb[next(s for s in wb.sheetnames if s.startswith(formats.CHINESE_SECTION_NUMERALS[number - 1] + "、"))][
            "A2"
        ] = text.text
    wb.save(path)


def _inputs(report: Any) -> dict[str, Any]:
    return {
        f"{t}/{row}/{col}": v
        for t in ("table2", "table3", "table4")
        for row, cols in (getattr(report, t) or {}).items()
        for col, v in cols.items()
    }


def test_filled_workbook_renders_and_reads_back(tmp_path: Path) -> None:
    report = valid_report()
    path = tmp_path / "filled.xlsx"
    write_template(blank_report(report.agency or "", 2024), path)
    _fill(path, _inputs(report))
    record = read_workbook(path)
    assert (record.table2, record.table3, record.table4) == (report.table2, report.table3, report.table4)
    out = tmp_path / "report.docx"
    result = _cli("render", str(path), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    back = parse(out)
    assert (back.table2, back.table3, back.table4) == (report.table2, report.table3, report.table4)
    assert [s.text for s in back.sections] == [s.text for s in report.sections]


@needs_libreoffice_calc
@pytest.mark.libreoffice
def test_libreoffice_calculates_the_totals(tmp_path: Path) -> None:
    report = valid_report()
    path = tmp_path / "filled.xlsx"
    write_template(blank_report(report.agency or "", 2024), path)
    _fill(path, {p: v for p, v in _inputs(report).items() if not p.endswith("/total") and "/total/" not in p})
    recalculated = convert(path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "calc")
    cached = load_workbook(recalculated, data_only=True)
    mapping = {row[0]: (row[1], row[2]) for row in cached[MAP_SHEET].iter_rows(min_row=2, values_only=True)}
    for cell_path in ("table3/total/total", "table3/new/total", "table4/review/total"):
        sheet, cell = mapping[cell_path]
        assert cached[sheet][cell].value == report.value(cell_path)
    assert read_workbook(recalculated).table3 == report.table3


def test_render_refuses_a_wrong_record_unless_forced(tmp_path: Path) -> None:
    wrong = with_cells(valid_report(), table3__granted__total=8)
    record = tmp_path / "wrong.json"
    record.write_text(json.dumps(wrong.to_dict(), ensure_ascii=False), encoding="utf-8")
    refused = _cli("render", str(record), "--out", str(tmp_path / "x.html"))
    assert refused.returncode == 1 and "AR03 error" in refused.stdout and not (tmp_path / "x.html").exists()
    forced = _cli("render", str(record), "--out", str(tmp_path / "x.html"), "--force")
    assert forced.returncode == 0 and parse(tmp_path / "x.html").table3 == wrong.table3


@needs_libreoffice
@pytest.mark.libreoffice
def test_rendered_docx_converts_to_pdf_with_tables_in_order(tmp_path: Path) -> None:
    docx = write(valid_report(), tmp_path / "report.docx")
    pdf = convert(docx, "pdf", tmp_path)
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        text = "".join((page.extract_text() or "") for page in doc.pages).replace("\n", "").replace(" ", "")
        cells = "".join(
            (cell or "").replace("\n", "")
            for page in doc.pages
            for table in page.find_tables()
            for row in table.extract()
            for cell in row
        )
    headings = [f"{formats.CHINESE_SECTION_NUMERALS[s.number - 1]}、{s.title}" for s in formats.SECTIONS]
    positions = [text.find(h) for h in headings]
    assert -1 not in positions and positions == sorted(positions), dict(zip(headings, positions, strict=True))
    order = [
        "第二十条第（一）项",
        "本年制发件数",
        "一、本年新收政府信息公开申请数量",
        "（七）总计",
        "四、结转下年度继续办理",
        "复议后起诉",
    ]
    positions = [cells.find(marker) for marker in order]
    assert -1 not in positions and positions == sorted(positions), dict(zip(order, positions, strict=True))


# --- sample sets ---------------------------------------------------------------------------------


def _manifest(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]


def _assert_sample_set(directory: Path) -> None:
    rows = _manifest(directory)
    reports = [parse(directory / row["file"]) for row in rows]
    for row, report in zip(rows, reports, strict=True):
        got = report.to_dict()
        for key in ("agency", "year", "template", "table2", "table3", "table4"):
            assert got[key] == row["record"][key], f"{row['file']}: {key}"
        assert [(s["number"], s["text"]) for s in got["sections"]] == [
            (s["number"], s["text"]) for s in row["record"]["sections"]
        ], row["file"]
    for row, findings in zip(rows, check_collection(reports), strict=True):
        for injected in row["injected"]:
            assert any(f.rule == injected["rule"] and set(injected["cells"]) <= set(f.cells) for f in findings), (
                f"{row['file']}: {injected} not found"
            )
        if not row["injected"]:
            assert [f.message for f in findings if f.severity == "error"] == [], row["file"]


def test_sample_set_reads_exactly_and_errors_are_found(tmp_path: Path) -> None:
    result = _cli("sample", "--count", "120", "--out", str(tmp_path), "--seed", "7", "--error-rate", "0.3")
    assert result.returncode == 0, result.stderr
    rows = _manifest(tmp_path)
    assert len(rows) == 120
    assert {r["injected"][0]["rule"] for r in rows if r["injected"]} >= {"AR01", "NA01", "ST01", "XY01"}
    assert {Path(r["file"]).suffix for r in rows} == {".txt", ".md", ".html", ".docx"}
    assert {r["record"]["template"] for r in rows} == {"2019", "2021"}
    _assert_sample_set(tmp_path)


@needs_libreoffice
@pytest.mark.libreoffice
def test_sample_set_as_pdf_and_doc(tmp_path: Path) -> None:
    write_samples(tmp_path, 4, seed=11, error_rate=0.5, fmts=("pdf", "doc"))
    _assert_sample_set(tmp_path)


def test_sample_is_reproducible(tmp_path: Path) -> None:
    write_samples(tmp_path / "a", 10, seed=5)
    write_samples(tmp_path / "b", 10, seed=5)
    assert (tmp_path / "a" / "manifest.jsonl").read_text() == (tmp_path / "b" / "manifest.jsonl").read_text()


def test_sample_rejects_unknown_format(tmp_path: Path) -> None:
    assert _cli("sample", "--count", "1", "--out", str(tmp_path), "--formats", "rtf").returncode == 2
