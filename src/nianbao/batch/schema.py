"""The Parquet schema of a batch output folder: records, cells, findings (one definition).

Every column is declared once here, with its Arrow type and a Chinese description; the writer
uses these schemas, DuckDB reads them, and ``docs/parquet.md`` is generated from them
(``python -m nianbao.batch.schema > docs/parquet.md``; a test fails when the page is stale).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from nianbao.agencies import agency_key
from nianbao.record import Finding, Report

SCHEMA_VERSION = "nianbao/batch/v1"

# Where each table's partitions live inside the output folder.
TABLE_DIRS = ("records", "cells", "findings", "collection")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    nullable: bool
    doc: str

    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable, metadata={"doc": self.doc})


_SECTION = pa.struct([("number", pa.int8()), ("title", pa.string()), ("text", pa.string())])

RECORDS: tuple[Column, ...] = (
    Column("sha256", pa.string(), False, "文件内容的 SHA-256（十六进制），记录的键；内容相同的文件只读一次"),
    Column("path", pa.string(), False, "读取时给出的文件路径（内容相同的多个文件取第一个）"),
    Column("format", pa.string(), False, "按内容识别的文件类型：txt、md、html、docx、pdf、doc、wps…"),
    Column("size", pa.int64(), False, "文件字节数"),
    Column("pages", pa.int32(), True, "PDF 页数；其他类型为空"),
    Column("agency", pa.string(), True, "机关名称（按标题印制，去掉空白）；未识别为空"),
    Column("agency_key", pa.string(), True, "跨报告比较用的机关名称（统一全角半角、去掉括号注释），按机关分组用"),
    Column("year", pa.int16(), True, "报告年度（数据所属年度）"),
    Column("template", pa.string(), True, "表格格式：2019（试行）或 2021（修订）；没有统计表为空"),
    Column("title", pa.string(), True, "报告标题"),
    Column("sections", pa.list_(_SECTION), False, "六个部分：编号、标准标题、正文"),
    Column("ok", pa.bool_(), False, "读取成功（没有读取错误 errors）"),
    Column("error_codes", pa.list_(pa.string()), False, "读取错误的代码（RD01…，含超时 RD14）"),
    Column("errors", pa.int32(), False, "错误级别的发现条数（读取错误与单份报告规则）"),
    Column("warnings", pa.int32(), False, "警告级别的发现条数"),
    Column("notices", pa.int32(), False, "提示级别的发现条数"),
    Column("read_seconds", pa.float64(), False, "读取并检查这份文件所用的秒数（工作进程内计时，墙钟时间）"),
    Column("cpu_seconds", pa.float64(), False, "读取并检查这份文件所用的 CPU 秒数（工作进程内，不受其他进程争用影响）"),
    Column("nianbao_version", pa.string(), False, "读取所用的 nianbao 版本"),
    Column(
        "record", pa.large_string(), False, "完整的报告记录 JSON（nianbao/report/v1，见 shared/spec/report-json.md）"
    ),
)

CELLS: tuple[Column, ...] = (
    Column("sha256", pa.string(), False, "所属记录（records.sha256）"),
    Column("cell", pa.string(), False, "单元格路径 table/row/column，如 table3/new/total"),
    Column("table", pa.string(), False, "表：table2、table3、table4"),
    Column("row", pa.string(), False, "行键，如 new、denied.state_secret、review"),
    Column("column", pa.string(), False, "列键，如 natural、total、issued"),
    Column("value", pa.float64(), True, "印制的数值（件数为整数值，金额可有小数）；空白或未读取为空"),
    Column(
        "state",
        pa.string(),
        False,
        "value 有数值；blank 印为空白（-、/、无）；unknown 读取时放弃（读取发现 RD… 指出该单元格且没有数值）",
    ),
    Column("location", pa.string(), True, "该数值在原文中的位置（JSON：行号，表格行列，或 PDF 页码与坐标）"),
)

FINDINGS: tuple[Column, ...] = (
    Column("sha256", pa.string(), False, "所属记录（records.sha256）"),
    Column("path", pa.string(), False, "所属文件路径"),
    Column(
        "scope",
        pa.string(),
        False,
        "reading 读取中的发现；report 单份报告规则；collection 跨报告规则（机关、年度分组）",
    ),
    Column("rule", pa.string(), False, "规则或读取代码，如 AR01、RD07、XY01"),
    Column("severity", pa.string(), False, "级别：error、warning、notice"),
    Column("message", pa.string(), False, "中文说明"),
    Column("cells", pa.list_(pa.string()), False, "涉及的单元格路径"),
    Column("location", pa.string(), True, "位置（JSON）"),
    Column("detail", pa.string(), True, "机器可读的补充信息（JSON，如连写数字的候选拆法）；没有为空"),
)

RECORD_OK = [c.name for c in RECORDS].index("ok")

TABLES: dict[str, tuple[Column, ...]] = {
    "records": RECORDS,
    "cells": CELLS,
    "findings": FINDINGS,
    "collection": FINDINGS,
}


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([c.field() for c in TABLES[table]], metadata={"schema": SCHEMA_VERSION})


# --- rows of one file -------------------------------------------------------------------------

Row = tuple[Any, ...]


@dataclass(frozen=True)
class FileRows:
    """One file's rows for the three tables, made in the worker (small to send back)."""

    sha256: str
    record: Row
    cells: tuple[Row, ...]
    findings: tuple[Row, ...]


def _json(value: object) -> str | None:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None


def finding_row(sha256: str, path: str, scope: str, f: Finding) -> Row:
    return (
        sha256,
        path,
        scope,
        f.rule,
        f.severity,
        f.message,
        list(f.cells),
        _json(f.location),
        _json(f.detail),
    )


def cell_rows(report: Report) -> list[Row]:
    """Every cell the record holds, in table, row and column order as read."""
    # As metrics.unknown_cells: named by a reading finding and holding no number.
    unknown = {c for f in report.findings if f.rule.startswith("RD") for c in f.cells}
    out: list[Row] = []
    for table in ("table2", "table3", "table4"):
        for row, cols in (getattr(report, table) or {}).items():
            for col, value in cols.items():
                path = f"{table}/{row}/{col}"
                state = "unknown" if path in unknown else ("blank" if value is None else "value")
                number = None if value is None else float(value)
                out.append(
                    (report.source.sha256, path, table, row, col, number, state, _json(report.locations.get(path)))
                )
    return out


def file_rows(report: Report, checked: list[Finding], seconds: float, cpu: float, size: int, version: str) -> FileRows:
    """The rows of one read and checked file. ``checked``: reading findings then report rules."""
    sha = report.source.sha256
    path = report.source.path
    counts = {s: sum(1 for f in checked if f.severity == s) for s in ("error", "warning", "notice")}
    record: Row = (
        sha,
        path,
        report.source.format or "",
        size,
        report.source.pages,
        report.agency,
        (agency_key(report.agency) or None) if report.agency else None,
        report.year,
        report.template,
        report.title or None,
        [{"number": s.number, "title": s.title, "text": s.text} for s in report.sections],
        not report.errors,
        [e.rule for e in report.errors],
        counts["error"],
        counts["warning"],
        counts["notice"],
        seconds,
        cpu,
        version,
        json.dumps(report.to_dict(), ensure_ascii=False),
    )
    findings = tuple(finding_row(sha, path, "reading" if f.rule.startswith("RD") else "report", f) for f in checked)
    return FileRows(sha, record, tuple(cell_rows(report)), findings)


def to_table(table: str, rows: list[Row]) -> pa.Table:
    """Rows (tuples in column order) as an Arrow table of the declared schema."""
    schema = arrow_schema(table)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
    )


# --- the reference page -----------------------------------------------------------------------

_INTRO = {
    "records": "每个文件（按内容去重）一行。",
    "cells": "每份记录的每个单元格一行（记录中没有的行不出现）。",
    "findings": "读取中的发现（RD…）与单份报告规则的发现，每条一行。",
    "collection": "跨报告规则（XY、PU）的发现，列与 findings 相同；读取完成后按机关、按年度分组检查得出，每次运行重新生成。",
}


def _type_name(t: pa.DataType) -> str:
    return str(t).replace("<item: ", "<").replace("element: ", "")


def reference() -> str:
    """docs/parquet.md, generated from the column definitions above."""
    lines = [
        "# 批处理输出的 Parquet 格式（`nianbao batch`）",
        "",
        "<!-- Generated by `python -m nianbao.batch.schema > docs/parquet.md`; do not edit by hand. -->",
        "",
        f"格式版本 `{SCHEMA_VERSION}`（写在每个 Parquet 文件的元数据 `schema` 中）。输出文件夹：",
        "",
        "```",
        "输出文件夹/",
        "  batch.json                     写成这些数据的格式版本、nianbao 版本和规则设置；设置不同时拒绝接着写",
        "  records/part-<块>.parquet      每块文件一份；同一块的三张表文件名相同",
        "  cells/part-<块>.parquet",
        "  findings/part-<块>.parquet",
        "  collection/CURRENT             当前一代跨报告规则发现所在的子文件夹名",
        "  collection/gen-<代>/part-<序号>.parquet  跨报告规则的发现（每次运行重新生成一代，写完后才切换 CURRENT）",
        "```",
        "",
        "一块文件读完后依次写 cells、findings、records（各自先写临时文件再改名）；records 文件存在即表示该块已完成。"
        "中断后重新运行时，先删除没有 records 文件的块和临时文件，再跳过 records 中已有 sha256 的文件，所以每个文件"
        "在输出中恰好出现一次。读取时以 records 为准（cells、findings 只取 records 中有的 sha256）。",
        "",
        "用 DuckDB 直接查询：",
        "",
        "```sql",
        "SELECT year, sum(value) FROM read_parquet('输出文件夹/cells/*.parquet') JOIN read_parquet('输出文件夹/records/*.parquet')",
        "  USING (sha256) WHERE cell = 'table3/new/total' GROUP BY year ORDER BY year;",
        "```",
        "",
    ]
    for table, columns in TABLES.items():
        lines += [f"## {table}", "", _INTRO[table], "", "| 列 | 类型 | 可空 | 说明 |", "|---|---|---|---|"]
        for c in columns:
            lines.append(f"| `{c.name}` | `{_type_name(c.type)}` | {'是' if c.nullable else '否'} | {c.doc} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference(), end="")
