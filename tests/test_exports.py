"""Exports: each xlsx opens in LibreOffice and reads back (openpyxl) to the values; CSV has a BOM;
Parquet columns are typed; the 问题清单 carries the columns reviewers send back."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from conftest import corpus_or_skip, needs_libreoffice_calc, truth_names, truth_report
from nianbao import exports, parse
from nianbao.compare import compare
from nianbao.metrics import flat_values, rollup, row_of
from nianbao.readers.office import find_soffice
from nianbao.record import Report
from nianbao.rules import check_collection


def _reports() -> list[Report]:
    return [truth_report(n) for n in truth_names()] or [truth_report("r001-huaian-city-2024")]


def _sheets() -> dict[str, list[exports.Sheet]]:
    reports = _reports()
    return {
        "data": exports.data_sheet(reports),
        "findings": exports.findings_sheet(zip(reports, check_collection(reports), strict=True)),
        "metrics": exports.metrics_sheet(rollup([row_of(r) for r in reports], by="year", min_n=30)),
        "coverage": exports.coverage_sheet(reports),
        "compare": exports.comparison_sheets([compare(reports[0], reports[1])]),
    }


def _rows(path: Path, sheet: str, levels: int) -> list[list[Any]]:
    ws = load_workbook(path)[sheet]
    return [[_near(v) for v in r] for r in ws.iter_rows(min_row=levels + 1, values_only=True)]


def _expected(sheet: exports.Sheet) -> list[list[Any]]:
    return [[_near(v) for v in sheet.values(r)] for r in sheet.rows]


def _near(value: Any) -> Any:
    """A ratio to 12 significant digits (a spreadsheet keeps 15; 1/17 comes back in its last digit)."""
    return float(f"{value:.12g}") if isinstance(value, float) else value


def test_xlsx_reads_back_with_headers_frozen_and_filtered(tmp_path: Path) -> None:
    for what, sheets in _sheets().items():
        out = tmp_path / f"{what}.xlsx"
        exports.write(sheets, out)
        book = load_workbook(out)
        assert book.sheetnames == [s.name for s in sheets]
        for sheet in sheets:
            levels = 2 if any(c.sub for c in sheet.columns) else 1
            ws = book[sheet.name]
            assert ws.freeze_panes == f"A{levels + 1}" and ws.auto_filter.ref, what
            assert _rows(out, sheet.name, levels) == _expected(sheet), f"{what}/{sheet.name}"


def test_data_export_has_two_level_headers_in_the_national_order(tmp_path: Path) -> None:
    reports = _reports()
    (sheet,) = exports.data_sheet(reports)
    out = tmp_path / "data.xlsx"
    exports.write([sheet], out)
    ws = load_workbook(out)["数据明细"]
    headers = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(2, c).value}
    assert ws.cell(1, 1).value == "文件" and "A1:A2" in {str(r) for r in ws.merged_cells.ranges}
    col = [c.key for c in sheet.columns].index("table3/granted/natural") + 1
    assert (ws.cell(1, col).value, ws.cell(2, col).value) == ("表三 （一）予以公开", "自然人")
    assert ws.cell(1, col).coordinate in {str(r).split(":")[0] for r in ws.merged_cells.ranges}  # spans its 7 columns
    keys = [c.key for c in sheet.columns]
    assert keys.index("table2/regulations/issued") < keys.index("table3/new/natural") < keys.index("table4/review/upheld")
    assert "总计" in headers
    r001 = next(i for i, r in enumerate(reports) if r.agency == "淮安市人民政府")
    row = dict(zip(keys, [c.value for c in ws[r001 + 3]], strict=False))
    assert {k: row[k] for k in flat_values(reports[r001])} == flat_values(reports[r001])
    assert ws.cell(r001 + 3, keys.index("table2/fees/amount_10k_yuan") + 1).number_format == "#,##0.00"


def test_csv_is_utf8_with_bom(tmp_path: Path) -> None:
    (sheet,) = _sheets()["coverage"]
    out = tmp_path / "coverage.csv"
    exports.write([sheet], out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == [c.header for c in sheet.columns] and len(rows) == 1 + len(sheet.rows)
    (data,) = _sheets()["data"]
    exports.write([data], tmp_path / "data.csv")
    two = list(csv.reader((tmp_path / "data.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert two[1][[c.key for c in data.columns].index("table3/new/total")] == "总计"  # the second header row


def test_parquet_columns_are_typed(tmp_path: Path) -> None:
    (sheet,) = _sheets()["data"]
    out = tmp_path / "data.parquet"
    exports.write([sheet], out)
    table = pq.read_table(out)
    types = {f.name: str(f.type) for f in table.schema}
    assert types["agency"] == "string" and types["year"] == "int64"
    assert types["table3/new/total"] == "int64" and types["table2/fees/amount_10k_yuan"] == "double"
    assert table.schema.field("table3/new/total").metadata == {b"label": "表三 一、本年新收政府信息公开申请数量·总计".encode()}
    assert table.to_pylist() == [dict(zip([c.key for c in sheet.columns], sheet.values(r), strict=True)) for r in sheet.rows]
    odd = exports.Sheet("x", (exports.Column("n", "件数", type="int"),), [{"n": 3}, {"n": 1.5}, {"n": None}])
    exports.write([odd], tmp_path / "odd.parquet")  # a fraction in a count column: read as printed, as a float
    assert pq.read_table(tmp_path / "odd.parquet").column("n").to_pylist() == [3.0, 1.5, None]
    (metrics, _) = _sheets()["metrics"]
    exports.write([metrics], tmp_path / "m.parquet")
    assert str(pq.read_table(tmp_path / "m.parquet").schema.field("granted_rate").type) == "double"


def test_findings_list_has_the_columns_to_send_back(tmp_path: Path) -> None:
    report = parse(corpus_or_skip() / "seeds" / "002_59838382079b1902.txt")
    findings = check_collection([report])[0]
    assert findings
    (sheet,) = exports.findings_sheet([(report, findings)], review=lambda r, f: ("已确认", "请整改"))
    out = tmp_path / "问题清单.json"
    exports.write([sheet], out)
    (data,) = json.loads(out.read_text(encoding="utf-8"))
    headers = [c["header"] for c in data["columns"]]
    assert headers == ["文件", "单位", "年度", "规则", "级别", "问题", "单元格", "原文位置", "审核状态", "审核意见",
                       "责任人", "整改时限", "整改情况"]
    rows = [dict(zip([c["key"] for c in data["columns"]], r, strict=True)) for r in data["rows"]]
    assert rows[0]["status"] == "已确认" and rows[0]["owner"] is None and rows[0]["severity"] in ("错误", "警告", "提示")
    assert len(rows) == len(findings) and any(r["location"].startswith("第 ") for r in rows)


def test_coverage_marks_missing_years_and_publication_in_time() -> None:
    (sheet,) = exports.coverage_sheet(
        [parse(corpus_or_skip() / "real" / "r015-shuyang-fgj-2023.html")], agencies=["某县教育局"], years=[2023, 2024]
    )
    got = {(r["agency"], r["year"]): (r["has_report"], r["on_time"]) for r in sheet.rows}
    assert got == {
        ("沭阳县发展和改革局", 2023): ("有", "是"),  # published 2024-01-17, due 2024-01-31
        ("沭阳县发展和改革局", 2024): ("缺", "未报送"),
        ("某县教育局", 2023): ("缺", "未报送"),
        ("某县教育局", 2024): ("缺", "未报送"),
    }


@needs_libreoffice_calc
@pytest.mark.libreoffice
def test_every_xlsx_export_opens_in_libreoffice(tmp_path: Path) -> None:
    sheets = _sheets()
    files = []
    for what, book in sheets.items():
        files.append(tmp_path / f"{what}.xlsx")
        exports.write(book, files[-1])
    target = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"  # every sheet, raw values
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as profile:
        cmd = [find_soffice() or "soffice", f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
               "--norestore", "--convert-to", target, "--outdir", str(tmp_path / "csv"), *map(str, files)]
        subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    for what, book in sheets.items():
        for sheet in book:
            produced = tmp_path / "csv" / f"{what}-{sheet.name}.csv"
            assert produced.exists(), f"LibreOffice did not open {what}.xlsx ({sheet.name})"
            levels = 2 if any(c.sub for c in sheet.columns) else 1
            rows = list(csv.reader(produced.read_text(encoding="utf-8").splitlines()))[levels:]
            got = [v for row in rows for v in row]
            want = [v for row in _expected(sheet) for v in row]
            assert len(got) == len(want) and all(map(_same, got, want)), f"{what}/{sheet.name}"


def _same(text: str, value: Any) -> bool:
    """A cell as LibreOffice writes it into CSV (a percentage keeps its format: 50%) against the value."""
    if value is None or isinstance(value, str):
        return text == (value or "")
    number = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    return number == pytest.approx(value, rel=1e-9)


def test_cli_export(tmp_path: Path) -> None:
    corpus = corpus_or_skip()
    out = tmp_path / "指标.xlsx"
    result = subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "export", str(corpus / "seeds"), "--what", "metrics", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0 and "已导出" in result.stdout, result.stderr
    assert load_workbook(out).sheetnames == ["指标", "排名"]
