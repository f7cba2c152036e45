"""The ``nianbao`` command: a thin shell over the library."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from nianbao import formats
from nianbao.api import iter_paths, parse
from nianbao.extract.split import format_number
from nianbao.record import Report

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="nianbao：读取、检查、比较和撰写政府信息公开工作年度报告。",
)


class ParseFormat(StrEnum):
    jsonl = "jsonl"
    json = "json"
    table = "table"


@app.callback()
def main() -> None:
    """nianbao 命令行。"""


@app.command("parse")
def parse_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归读取）", exists=True)],
    output_format: Annotated[ParseFormat, typer.Option("--format", "-f", help="输出格式")] = ParseFormat.jsonl,
) -> None:
    """读取年度报告，输出报告记录（每个文件一条）。"""
    console = Console()
    failed = False
    records: list[dict[str, object]] = []
    for path in iter_paths(paths):
        report = parse(path)
        failed = failed or bool(report.errors)
        if output_format is ParseFormat.jsonl:
            sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        elif output_format is ParseFormat.json:
            records.append(report.to_dict())
        else:
            print_report(console, report)
    if output_format is ParseFormat.json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    raise typer.Exit(1 if failed else 0)


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def print_report(console: Console, report: Report) -> None:
    title = f"{report.agency or '（未识别机关）'} {report.year or '????'} 年度报告 · {report.source.path}"
    console.rule(title)
    for error in report.errors:
        console.print(f"[red]{error.rule} {error.message}[/red]")
    if report.table2:
        console.print(_table2(report))
    if report.table3:
        console.print(_table3(report))
    if report.table4:
        console.print(_table4(report))
    for f in report.findings:
        if f.rule != "VA02":
            console.print(f"[yellow]{f.rule} {f.severity}[/yellow] {f.message}")


def _table2(report: Report) -> RichTable:
    assert report.table2 is not None
    t = RichTable(title=f"表二 主动公开政府信息情况（{report.template} 格式）")
    t.add_column("信息内容")
    t.add_column("数值")
    for spec in formats.TABLE2_ROWS[report.template or "2021"]:
        row = report.table2.get(spec.key)
        if row is not None:
            t.add_row(spec.label, "　".join(f"{c.label}：{_fmt(row.get(c.key))}" for c in spec.columns))
    return t


def _table3(report: Report) -> RichTable:
    assert report.table3 is not None
    t = RichTable(title="表三 收到和处理政府信息公开申请情况")
    t.add_column("行", overflow="fold", min_width=16)
    for col in formats.TABLE3_COLUMNS:
        t.add_column(col.label, justify="right")
    for spec in formats.TABLE3_ROWS:
        row = report.table3.get(spec.key)
        if row is not None:
            t.add_row(spec.label, *(_fmt(row.get(c.key)) for c in formats.TABLE3_COLUMNS))
    return t


def _table4(report: Report) -> RichTable:
    assert report.table4 is not None
    t = RichTable(title="表四 政府信息公开行政复议、行政诉讼情况")
    t.add_column("")
    for outcome in formats.TABLE4_OUTCOMES:
        t.add_column(outcome.label, justify="right")
    for group in formats.TABLE4_GROUPS:
        row = report.table4.get(group.key, {})
        t.add_row(group.label, *(_fmt(row.get(o.key)) for o in formats.TABLE4_OUTCOMES))
    return t


if __name__ == "__main__":
    app()
