"""Exports people open in Excel: 数据明细, 问题清单 (the 整改清单), 指标, 报送情况.

Each export is a list of :class:`Sheet` (typed columns with two-level Chinese headers, and rows
keyed by column key), built from plain inputs (report records, findings, a metrics rollup), and
written by :func:`write` as xlsx (frozen headers, filters, widths, number formats), CSV (UTF-8 with
BOM so Excel shows the Chinese), Parquet (typed columns; column names are the keys, the Chinese
header is kept in each field's metadata) or JSON (per sheet: its columns, and its rows as arrays).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nianbao import formats
from nianbao.agencies import agency_key
from nianbao.compare import Comparison, cell_specs
from nianbao.metrics import GROUPINGS, METRIC_BY_KEY, Rollup, UnitMetrics, flat_values, unknown_cells
from nianbao.model import Location
from nianbao.record import Finding, Report
from nianbao.rules.collection import deadline, publication_date

# Column types: str, int (a count), float (money), num (int or float), pct (a ratio shown as %).
NUMBER_FORMATS = {"int": "#,##0", "float": "#,##0.00", "num": "General", "pct": "0.0%"}
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "notice": "提示"}
REVIEW_PENDING = "待处理"
FORMATS = (".xlsx", ".csv", ".parquet", ".json")


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the upper header (a group of columns, merged in xlsx), or the only one
    sub: str = ""  # the lower header; "" for a single-level column
    type: str = "str"
    width: float = 12

    @property
    def label(self) -> str:
        return f"{self.header}·{self.sub}" if self.sub else self.header


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        return [_typed(c, row.get(c.key)) for c in self.columns]


def _typed(column: Column, value: Any) -> Any:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if column.type == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if column.type == "str" and not isinstance(value, str):
        return str(value)
    return value


# --- writers -------------------------------------------------------------------------------------


def write(sheets: Sequence[Sheet], out: Path) -> None:
    """Write by the file's suffix; CSV and Parquet hold the first sheet (each export's main one)."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"不支持的导出格式：{out.suffix}（可用 {'、'.join(FORMATS)}）")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        write_xlsx(sheets, out)
    elif suffix == ".json":
        write_json(sheets, out)
    elif suffix == ".csv":
        write_csv(sheets[0], out)
    else:
        write_parquet(sheets[0], out)


def _two_levels(sheet: Sheet) -> bool:
    return any(c.sub for c in sheet.columns)


def _header_runs(columns: Sequence[Column]) -> list[tuple[int, int, str]]:
    """(first, last, header) for each run of neighbouring columns under one upper header."""
    runs: list[tuple[int, int, str]] = []
    for i, c in enumerate(columns):
        if runs and c.sub and runs[-1][2] == c.header and columns[i - 1].sub:
            runs[-1] = (runs[-1][0], i, c.header)
        else:
            runs.append((i, i, c.header))
    return runs


# xlsxwriter's constant_memory mode writes each row to a temporary file as it goes instead of
# holding every cell of the workbook until it closes (see docs/performance.md for what it costs).
CONSTANT_MEMORY = os.environ.get("NIANBAO_XLSX_CONSTANT_MEMORY", "1") == "1"


def write_xlsx(sheets: Sequence[Sheet], out: Path, constant_memory: bool | None = None) -> None:
    import xlsxwriter

    low = CONSTANT_MEMORY if constant_memory is None else constant_memory
    book = xlsxwriter.Workbook(str(out), {"nan_inf_to_errors": True, "constant_memory": low})
    head = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True}
    )
    formats = {t: book.add_format({"num_format": f}) for t, f in NUMBER_FORMATS.items()}
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name[:31])
        levels = 2 if _two_levels(sheet) else 1
        _xlsx_headers(ws, sheet, levels, head)
        for c, column in enumerate(sheet.columns):
            ws.set_column(c, c, column.width, formats.get(column.type))
        styles = [formats.get(column.type) for column in sheet.columns]
        for r, row in enumerate(sheet.rows, start=levels):
            for c, value in enumerate(sheet.values(row)):
                if isinstance(value, str):
                    ws.write_string(r, c, value, wrap if "\n" in value else None)
                elif value is not None:
                    ws.write_number(r, c, value, styles[c])
        ws.freeze_panes(levels, 0)
        ws.autofilter(levels - 1, 0, levels - 1 + len(sheet.rows), len(sheet.columns) - 1)
    book.close()


def _xlsx_headers(ws: Any, sheet: Sheet, levels: int, head: Any) -> None:
    if levels == 1:
        for c, column in enumerate(sheet.columns):
            ws.write(0, c, column.header, head)
        return
    # Row 0 whole, then row 1: in constant_memory mode a row is written out when the next one
    # starts, so a header spanning both rows is written in row 0 and its merge declared after.
    ws.set_row(0, 30)
    runs = _header_runs(sheet.columns)
    for first, last, header in runs:
        if first == last or not sheet.columns[first].sub:
            ws.write(0, first, header, head)
        else:
            ws.merge_range(0, first, 0, last, header, head)
    for c, column in enumerate(sheet.columns):
        ws.write(1, c, column.sub, head)  # "" for a one-level column: a blank cell in the header style
    for first, _, _ in runs:
        if not sheet.columns[first].sub:
            ws.merge.append([0, first, 1, first])  # xlsxwriter writes these ranges when the book closes


def write_csv(sheet: Sheet, out: Path) -> None:
    """UTF-8 with BOM (Excel then shows the Chinese); two header rows when the headers have two levels."""
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([c.header for c in sheet.columns])
        if _two_levels(sheet):
            w.writerow([c.sub for c in sheet.columns])
        for row in sheet.rows:
            w.writerow(["" if v is None else v for v in sheet.values(row)])


def write_parquet(sheet: Sheet, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "num": pa.float64(), "pct": pa.float64()}
    columns = list(zip(*(sheet.values(r) for r in sheet.rows), strict=True)) or [() for _ in sheet.columns]
    fields = [
        # A count column holding a fraction (a misprinted cell read as printed) becomes a float column.
        pa.field(c.key, pa.float64() if c.type == "int" and any(isinstance(v, float) for v in values)
                 else types[c.type], metadata={"label": c.label})
        for c, values in zip(sheet.columns, columns, strict=True)
    ]
    arrays = [
        pa.array([_parquet_value(c, v) for v in values], type=f.type)
        for c, f, values in zip(sheet.columns, fields, columns, strict=True)
    ]
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={"sheet": sheet.name}))
    pq.write_table(table, out)


def _parquet_value(column: Column, value: Any) -> Any:
    if value is None or column.type == "str" or (column.type == "int" and isinstance(value, int)):
        return value
    return float(value)


def write_json(sheets: Sequence[Sheet], out: Path) -> None:
    data = [
        {
            "sheet": s.name,
            "columns": [{"key": c.key, "header": c.label, "type": c.type} for c in s.columns],
            "rows": [s.values(r) for r in s.rows],  # in the order of "columns" (pandas' "split" orient)
        }
        for s in sheets
    ]
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


# --- 数据明细 ----------------------------------------------------------------------------------------

_REPORT_COLUMNS = (
    Column("file", "文件", type="str", width=28),
    Column("agency", "单位", type="str", width=24),
    Column("year", "年度", type="int", width=7),
    Column("template", "格式", type="str", width=7),
)


def data_sheet(reports: Iterable[Report]) -> list[Sheet]:
    """One row per report; every cell of the three tables in the national order (2021 表二, then 2019)."""
    only_2019 = {s.path for s in cell_specs(("2019",))} - {s.path for s in cell_specs(("2021",))}
    money = {f"table2/{r.key}/{c}" for rows in formats.TABLE2_ROWS.values() for r in rows for c in r.money_columns}
    cells = tuple(
        Column(
            s.path,
            f"{s.table} {s.row}{'（2019格式）' if s.path in only_2019 else ''}",
            s.column,
            "float" if s.path in money else "int",
            9,
        )
        for s in cell_specs()
    )
    unread = Column("unknown", "未能读取的单元格", type="str", width=30)
    rows = [
        {
            "file": r.source.path,
            "agency": r.agency,
            "year": r.year,
            "template": r.template,
            **flat_values(r),
            "unknown": "、".join(sorted(unknown_cells(r))),
        }
        for r in reports
    ]
    return [Sheet("数据明细", (*_REPORT_COLUMNS, unread, *cells), rows)]


# --- 问题清单 ----------------------------------------------------------------------------------------

Review = Callable[[Report, Finding], tuple[str, str]]


def describe_location(location: Location) -> str:
    """Where a value stands in the source, in Chinese: 第 143 行; 第 2 页; 第 1 个表格第 3 行第 2 列."""
    if not location:
        return ""
    if "line" in location:
        return f"第 {location['line']} 行"
    if "page" in location:
        return f"第 {location['page']} 页"
    if {"table", "row", "col"} <= set(location):
        return f"第 {location['table'] + 1} 个表格第 {location['row'] + 1} 行第 {location['col'] + 1} 列"
    return json.dumps(location, ensure_ascii=False)


_FINDING_COLUMNS = (
    Column("file", "文件", type="str", width=28),
    Column("agency", "单位", type="str", width=24),
    Column("year", "年度", type="int", width=7),
    Column("rule", "规则", type="str", width=7),
    Column("severity", "级别", type="str", width=7),
    Column("message", "问题", type="str", width=60),
    Column("cells", "单元格", type="str", width=26),
    Column("location", "原文位置", type="str", width=20),
    Column("status", "审核状态", type="str", width=9),
    Column("comment", "审核意见", type="str", width=24),
    Column("owner", "责任人", type="str", width=10),
    Column("due", "整改时限", type="str", width=11),
    Column("remedy", "整改情况", type="str", width=30),
)


def findings_sheet(items: Iterable[tuple[Report, Sequence[Finding]]], review: Review | None = None) -> list[Sheet]:
    """One row per finding, with its review status and empty 责任人 / 整改时限 / 整改情况 to fill in."""
    rows = []
    for report, findings in items:
        for f in findings:
            status, comment = review(report, f) if review else (REVIEW_PENDING, "")
            rows.append(
                {
                    "file": report.source.path,
                    "agency": report.agency,
                    "year": report.year,
                    "rule": f.rule,
                    "severity": SEVERITY_NAMES.get(f.severity, f.severity),
                    "message": f.message,
                    "cells": "、".join(f.cells),
                    "location": describe_location(f.location),
                    "status": status,
                    "comment": comment,
                }
            )
    return [Sheet("问题清单", _FINDING_COLUMNS, rows)]


# --- 指标 ------------------------------------------------------------------------------------------


def metrics_sheet(result: Rollup) -> list[Sheet]:
    """Per unit, per group and overall (one sheet), and the rankings."""
    head = (
        Column("scope", "范围", type="str", width=12),
        Column("agency", "单位或分组", type="str", width=24),
        Column("year", "年度", type="int", width=7),
        Column("region", "地区", type="str", width=10),
        Column("level", "级别", type="str", width=8),
        Column("units", "报告数", type="int", width=7),
    )
    metric_columns = tuple(
        Column(k, METRIC_BY_KEY[k].name, METRIC_BY_KEY[k].unit, "pct" if METRIC_BY_KEY[k].is_ratio else "num", 11)
        for k in result.metrics
    )
    notes = Column("notes", "说明", type="str", width=50)
    rows = [_unit_row(u, result.metrics) for u in result.units]
    scope = f"按{GROUPINGS[result.by]}汇总"
    for g in (*result.groups, result.total):
        row: dict[str, Any] = {
            "scope": scope if g is not result.total else "全部合计",
            "agency": g.group,
            "units": g.units,
        }
        row.update({k: g.values[k].value for k in result.metrics})
        row["notes"] = _notes(g.values, result.metrics)
        rows.append(row)
    ranking = Sheet(
        "排名",
        (
            Column("year", "年度", type="int", width=7),
            Column("metric", "指标", type="str", width=16),
            Column("rank", "名次", type="int", width=6),
            Column("agency", "单位", type="str", width=24),
            Column("value", "数值", type="num", width=10),
            Column("applications", "新收申请数", type="int", width=10),
        ),
        [
            {
                "year": r.year,
                "metric": METRIC_BY_KEY[r.metric].name,
                "rank": r.rank,
                "agency": r.agency,
                "value": r.value,
                "applications": r.applications,
            }
            for r in result.rankings
        ],
    )
    return [Sheet("指标", (*head, *metric_columns, notes), rows), ranking]


def _unit_row(u: UnitMetrics, keys: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "scope": "单位",
        "agency": u.agency,
        "year": u.year,
        "region": u.region,
        "level": u.level,
        "units": 1,
    }
    row.update({k: u.values[k].value for k in keys})
    row["notes"] = _notes(u.values, keys)
    return row


def _notes(values: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return "；".join(f"{METRIC_BY_KEY[k].name}：{values[k].reason}" for k in keys if values[k].reason)


# --- 报送情况 ----------------------------------------------------------------------------------------


def coverage_sheet(reports: Iterable[Report], agencies: Iterable[str] = (), years: Iterable[int] = ()) -> list[Sheet]:
    """Every agency (given, or seen in the reports) × year: has it a report, and was it published in time."""
    found: dict[tuple[str, int], Report] = {}
    names: dict[str, str] = {agency_key(a): a for a in agencies}
    for r in reports:
        if r.agency and r.year and not r.errors:
            names.setdefault(agency_key(r.agency), r.agency)
            found.setdefault((agency_key(r.agency), r.year), r)
    seen = [y for _, y in found]
    span = sorted(set(years)) or (list(range(min(seen), max(seen) + 1)) if seen else [])
    rows = [_coverage_row(names[key], year, found.get((key, year))) for key in sorted(names) for year in span]
    columns = (
        Column("agency", "单位", type="str", width=24),
        Column("year", "年度", type="int", width=7),
        Column("has_report", "是否有年报", type="str", width=10),
        Column("file", "文件", type="str", width=28),
        Column("published", "发布日期", type="str", width=12),
        Column("deadline", "规定期限", type="str", width=12),
        Column("on_time", "按期发布", type="str", width=20),
    )
    return [Sheet("报送情况", columns, rows)]


def _coverage_row(agency: str, year: int, report: Report | None) -> dict[str, Any]:
    if report is None:
        return {"agency": agency, "year": year, "has_report": "缺", "on_time": "未报送"}
    due = deadline(report)
    published = publication_date(report)
    if published is None:
        on_time = "未知（文件中没有发布日期）"
    else:
        on_time = "是" if due is None or published[0] <= due else "否（逾期）"
    return {
        "agency": agency,
        "year": year,
        "has_report": "有",
        "file": report.source.path,
        "published": published[0].isoformat() if published else None,
        "deadline": due.isoformat() if due else None,
        "on_time": on_time,
    }


# --- 比较 ------------------------------------------------------------------------------------------


def comparison_sheets(comparisons: list[Comparison]) -> list[Sheet]:
    """Comparisons as sheets: 单元格对比, 结转链条, 规范性文件存量, 正文对比 (every comparison's rows)."""
    pair = [Column("a", "前一份", "机关年度", "str", 24), Column("b", "后一份", "机关年度", "str", 24)]
    names = [{"a": c.a.name, "b": c.b.name} for c in comparisons]
    cells = Sheet(
        "单元格对比",
        (
            *pair,
            Column("table", "单元格", "表", "str", 6),
            Column("row", "单元格", "行", "str", 36),
            Column("column", "单元格", "列", "str", 14),
            Column("before", "数值", "前一份", "num", 12),
            Column("after", "数值", "后一份", "num", 12),
            Column("change", "数值", "变化", "num", 10),
            Column("note", "数值", "说明", "str", 16),
        ),
        [
            {
                **n,
                "table": x.spec.table,
                "row": x.spec.row,
                "column": x.spec.column,
                "before": x.before,
                "after": x.after,
                "change": x.change,
                "note": "、".join(s for s in (x.before_state, x.after_state) if s),
            }
            for n, c in zip(names, comparisons)
            for x in c.cells
        ],
    )
    chain = Sheet(
        "结转链条",
        (
            *pair,
            Column("column", "结转链条", "列", "str", 14),
            Column("cf", "结转链条", "上年结转下年度", "num", 14),
            Column("ci", "结转链条", "本年上年结转", "num", 14),
            Column("ok", "结转链条", "结论", "str", 10),
        ),
        [
            {
                **n,
                "column": x.label,
                "cf": x.carried_forward,
                "ci": x.carried_in,
                "ok": "断裂" if x.broken else ("一致" if x.known else "无法判断"),
            }
            for n, c in zip(names, comparisons)
            for x in c.chain
        ],
    )
    stock = Sheet(
        "规范性文件存量",
        (
            *pair,
            Column("row", "存量", "项目", "str", 14),
            Column("before", "存量", "去年现行有效", "num", 12),
            Column("issued", "存量", "本年制发", "num", 10),
            Column("repealed", "存量", "本年废止", "num", 10),
            Column("expected", "存量", "应为", "num", 10),
            Column("now", "存量", "本年现行有效", "num", 12),
            Column("ok", "存量", "结论", "str", 10),
        ),
        [
            {
                **n,
                "row": x.label,
                "before": x.in_force_before,
                "issued": x.issued,
                "repealed": x.repealed,
                "expected": x.expected,
                "now": x.in_force,
                "ok": "不衔接" if x.broken else ("衔接" if x.known else "无法判断"),
            }
            for n, c in zip(names, comparisons)
            for x in c.stock
        ],
    )
    texts = Sheet(
        "正文对比",
        (
            *pair,
            Column("section", "正文", "部分", "str", 30),
            Column("score", "正文", "相似度", "pct", 10),
            Column("copied", "正文", "照搬句数", "int", 10),
            Column("sentences", "正文", "照搬的句子", "str", 80),
        ),
        [
            {**n, "section": s.title, "score": s.similarity, "copied": len(s.copied), "sentences": "\n".join(s.copied)}
            for n, c in zip(names, comparisons)
            for s in c.sections
        ],
    )
    return [cells, chain, stock, texts]
