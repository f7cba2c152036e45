"""The ``nianbao`` command: a thin shell over the library."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from nianbao import formats
from nianbao.api import iter_paths, load_records, parse
from nianbao.authoring.sample import DEFAULT_FORMATS, write_samples
from nianbao.authoring.sample import FORMATS as SAMPLE_FORMATS
from nianbao.authoring.workbook import blank_report, write_template
from nianbao.extract.split import format_number
from nianbao.outputs import SEVERITY_RANK, json_line, sarif, summary, text_line
from nianbao.readers import ReadError
from nianbao.record import Finding, Report
from nianbao.render import write
from nianbao.rules import Config, check, check_collection, load_config
from nianbao.rules.docs import rules_reference

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="nianbao：读取、检查、比较和撰写政府信息公开工作年度报告。",
)


class ParseFormat(StrEnum):
    jsonl = "jsonl"
    json = "json"
    table = "table"


class CheckFormat(StrEnum):
    text = "text"
    jsonl = "jsonl"
    sarif = "sarif"


class Severity(StrEnum):
    error = "error"
    warning = "warning"
    notice = "notice"


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


def _codes(values: list[str] | None) -> tuple[str, ...]:
    """``--select AR,NA01 --select ST`` as ("AR", "NA01", "ST")."""
    return tuple(code.strip().upper() for v in values or () for code in v.split(",") if code.strip())


@app.command("check")
def check_command(
    paths: Annotated[
        list[Path], typer.Argument(help="报告文件或文件夹（一起检查，可做跨年度、跨单位检查）", exists=True)
    ],
    output_format: Annotated[CheckFormat, typer.Option("--format", "-f", help="输出格式")] = CheckFormat.text,
    select: Annotated[list[str] | None, typer.Option("--select", help="只运行这些规则（代码或组，如 AR,NA01）")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="不运行这些规则（代码或组）")] = None,
    fail_on: Annotated[Severity, typer.Option("--fail-on", help="发现达到此级别时退出码为 1")] = Severity.error,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="项目文件（默认当前目录的 nianbao.toml）")
    ] = None,
) -> None:
    """按审核规则检查年度报告，指出每个问题的位置。"""
    try:
        config = load_config(config_file)
    except (ValueError, OSError) as exc:
        typer.echo(f"配置文件错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    if select or ignore:
        config = Config(
            _codes(select) or config.select, config.ignore + _codes(ignore), config.severity, config.aggregates
        )
    files = list(iter_paths(paths))
    reports = [parse(p) for p in files]
    results = [(str(p), fs) for p, fs in zip(files, check_collection(reports, config), strict=True)]
    _print_findings(results, output_format)
    threshold = SEVERITY_RANK[fail_on.value]
    failed = any(SEVERITY_RANK.get(f.severity, 0) >= threshold for _, fs in results for f in fs)
    raise typer.Exit(1 if failed else 0)


def _print_findings(results: list[tuple[str, list[Finding]]], output_format: CheckFormat) -> None:
    if output_format is CheckFormat.sarif:
        sys.stdout.write(json.dumps(sarif(results), ensure_ascii=False, indent=2) + "\n")
        return
    counts: dict[str, int] = {}
    for path, findings in results:
        for f in findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
            if output_format is CheckFormat.jsonl:
                sys.stdout.write(json.dumps(json_line(path, f), ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(text_line(path, f) + "\n")
        if output_format is CheckFormat.text and findings:
            sys.stdout.write("\n")
    if output_format is CheckFormat.text:
        sys.stdout.write(summary(counts, len(results)) + "\n")


@app.command("template")
def template_command(
    year: Annotated[int, typer.Option("--year", help="报告年度（决定使用 2019 或 2021 格式）", min=2019, max=2100)],
    agency: Annotated[str, typer.Option("--agency", help="机关名称")],
    out: Annotated[Path, typer.Option("--out", help="输出的 Excel 文件（.xlsx）")],
) -> None:
    """生成填报用 Excel：三张表按全国格式排版，合计为公式，输入有校验，各部分文字各一页。"""
    if out.suffix.lower() != ".xlsx":
        typer.echo("输出文件应为 .xlsx", err=True)
        raise typer.Exit(2)
    write_template(blank_report(agency, year), out)
    typer.echo(f"已生成 {out}")


@app.command("render")
def render_command(
    source: Annotated[
        Path,
        typer.Argument(help="填好的 Excel（.xlsx）、报告记录（.json）或 parse --format json 输出的数组", exists=True),
    ],
    out: Annotated[Path, typer.Option("--out", help="输出文件：.docx .html .md .txt .pdf .doc")],
    force: Annotated[bool, typer.Option("--force", help="即使有错误级别的问题也输出")] = False,
    pick: Annotated[
        int | None, typer.Option("--pick", min=1, help="记录文件有多份报告时只生成第几份（从 1 起）")
    ] = None,
    signed: Annotated[
        str | None, typer.Option("--date", help="落款日期，如 2025-01-20（默认取记录中的落款日期，否则为今天）")
    ] = None,
) -> None:
    """把填报表或报告记录写成可发布的年度报告（党政机关公文格式）；有错误级别问题时拒绝输出（除非 --force）。

    记录文件有多份报告时逐份生成，文件名加序号、机关和年度；用 --pick 只生成其中一份。"""
    if out.suffix.lower() not in (".docx", ".html", ".htm", ".md", ".txt", ".pdf", ".doc"):
        typer.echo(f"不支持的输出格式：{out.suffix or '（无扩展名）'}；可用 .docx .html .md .txt .pdf .doc", err=True)
        raise typer.Exit(2)
    date = _signing_date(signed)
    try:
        reports = load_records(source)
    except (ValueError, OSError) as exc:
        typer.echo(f"无法读取记录文件 {source}：{exc}", err=True)
        raise typer.Exit(2) from exc
    if pick is not None:
        if pick > len(reports):
            typer.echo(f"{source} 只有 {len(reports)} 份报告，没有第 {pick} 份", err=True)
            raise typer.Exit(2)
        reports = [reports[pick - 1]]
    targets = [out] if len(reports) == 1 else [_numbered(out, n, r) for n, r in enumerate(reports, start=1)]
    _prepare_folder(out)
    failed = False
    for report, target in zip(reports, targets, strict=True):
        errors = [f for f in check(report) if f.severity == "error"]
        if errors and not force:
            for f in check(report):
                if f.severity == "error" or f.rule.startswith("RD"):
                    typer.echo(text_line(str(source), f))
            typer.echo(
                f"{_name(report)}：有 {len(errors)} 个错误级别的问题，未生成报告；改正后重试，或用 --force 强制生成。",
                err=True,
            )
            failed = True
            continue
        try:
            write(report, target, date)
        except ReadError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from exc
        except OSError as exc:
            typer.echo(f"无法写入 {target}：{exc.strerror or exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"已生成 {target}")
    raise typer.Exit(1 if failed else 0)


def _signing_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", text)
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])) if m else None
    except ValueError:
        pass
    typer.echo(f"落款日期无法识别：{text}（应如 2025-01-20 或 2025年1月20日）", err=True)
    raise typer.Exit(2)


def _name(report: Report) -> str:
    return f"{report.agency or '（未识别机关）'}{report.year or ''}"


def _numbered(out: Path, n: int, report: Report) -> Path:
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", _name(report))
    return out.with_name(f"{out.stem}-{n}-{safe}{out.suffix}")


def _prepare_folder(out: Path) -> None:
    """The output's folder, created when missing; a clear message when it cannot be."""
    if out.is_dir():
        typer.echo(f"输出路径 {out} 是一个文件夹：请给出文件名，如 {out / ('报告' + '.docx')}", err=True)
        raise typer.Exit(2)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        typer.echo(f"无法创建输出文件夹 {out.parent}：{exc.strerror or exc}", err=True)
        raise typer.Exit(2) from exc


@app.command("sample")
def sample_command(
    count: Annotated[int, typer.Option("--count", min=1, help="报告份数")],
    out: Annotated[Path, typer.Option("--out", help="输出文件夹")],
    seed: Annotated[int, typer.Option("--seed", help="随机种子（相同种子生成相同的报告）")] = 0,
    error_rate: Annotated[float, typer.Option("--error-rate", min=0.0, max=1.0, help="注入错误的报告比例")] = 0.2,
    formats_: Annotated[str, typer.Option("--formats", help="文件格式，逗号分隔：txt,md,html,docx,pdf,doc")] = ",".join(
        DEFAULT_FORMATS
    ),
) -> None:
    """生成逼真的样本报告集与 manifest.jsonl（真实记录和注入的错误）。"""
    chosen = tuple(f.strip().lower() for f in formats_.split(",") if f.strip())
    unknown = [f for f in chosen if f not in SAMPLE_FORMATS]
    if unknown or not chosen:
        typer.echo(f"不支持的格式：{','.join(unknown) or '（空）'}；可用 {','.join(SAMPLE_FORMATS)}", err=True)
        raise typer.Exit(2)
    manifest = write_samples(out, count, seed, error_rate, chosen)
    typer.echo(f"已生成 {count} 份报告，清单见 {manifest}")


@app.command("rules")
def rules_command() -> None:
    """列出全部审核规则（Markdown，即 docs/rules.md 的内容）。"""
    sys.stdout.write(rules_reference())


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
