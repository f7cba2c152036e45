"""The ``nianbao`` command: a thin shell over the library."""

from __future__ import annotations

import os
import sys
import time
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from nianbao import formats, pool
from nianbao.api import load_record, parse
from nianbao.authoring.sample import DEFAULT_FORMATS, write_samples
from nianbao.authoring.sample import FORMATS as SAMPLE_FORMATS
from nianbao.authoring.workbook import blank_report, write_template
from nianbao.extract.split import format_number
from nianbao.inputs import one_line, shown, walk
from nianbao.limits import LIMITS, MiB
from nianbao.outputs import SEVERITY_RANK, json_line, json_text, sarif_frame, sarif_result, summary, text_line
from nianbao.pool import Isolation, failed_report, parse_many
from nianbao.readers import ReadError
from nianbao.record import Finding, Report
from nianbao.render import write
from nianbao.rules import Config, check, check_across, load_config
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


JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=0, help="同时读取的进程数（默认 0：本机全部处理器核心）")]
TimeoutOption = Annotated[float, typer.Option("--timeout", min=0.0, help="每个文件的读取时间上限（秒，0 表示不限）")]
MemoryOption = Annotated[int, typer.Option("--memory", min=0, help="每个读取进程的内存上限（MB，0 表示不限）")]


def _isolation(jobs: int, timeout: float, memory: int) -> Isolation:
    return Isolation(jobs or os.cpu_count() or 1, timeout, memory * MiB)


def _walked(paths: list[Path]) -> list[Path]:
    """The files to read; a path that does not exist, or a folder holding no report file, is a
    usage error (exit 2); files a folder walk leaves out are listed on stderr with the reason."""
    found = walk(paths)
    for skipped in found.skipped:
        typer.echo(f"跳过 {one_line(shown(skipped.path))}：{skipped.reason}", err=True)
    problems = [f"路径不存在：{one_line(shown(p))}" for p in found.missing]
    problems += [f"文件夹中没有报告文件：{one_line(shown(p))}" for p in found.empty_folders]
    if problems or not found.files:
        for problem in problems or ["没有给出要读取的报告文件"]:
            typer.echo(problem, err=True)
        raise typer.Exit(2)
    return list(found.files)


class _Progress:
    """“已读取 k/N 份” on stderr, redrawn at most ten times a second, only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.shown_at = 0.0
        self.on = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if self.on and (now - self.shown_at > 0.1 or done == self.total):
            self.shown_at = now
            width = 30
            filled = width * done // max(self.total, 1)
            sys.stderr.write(f"\r读取 [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.on:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


@app.command("parse")
def parse_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归读取）")],
    output_format: Annotated[ParseFormat, typer.Option("--format", "-f", help="输出格式")] = ParseFormat.jsonl,
    jobs: JobsOption = 0,
    timeout: TimeoutOption = LIMITS.seconds,
    memory: MemoryOption = LIMITS.memory_bytes // MiB,
) -> None:
    """读取年度报告，输出报告记录（每个文件一条，读完一个输出一个，顺序与文件顺序相同）。"""
    files = _walked(paths)
    console = Console()
    failed = False
    progress = _Progress(len(files))
    first = True
    if output_format is ParseFormat.json:
        sys.stdout.write("[")
    try:
        for report in parse_many(files, _isolation(jobs, timeout, memory), progress):
            failed = failed or bool(report.errors)
            if output_format is ParseFormat.table:
                progress.close()
                print_report(console, report)
                continue
            if output_format is ParseFormat.json:
                # The array is written as it grows: an interrupted run leaves every record before it.
                text = ("\n" if first else ",\n") + _indented(json_text(report.to_dict(), indent=2))
            else:
                text = json_text(report.to_dict()) + "\n"
            first = False
            sys.stdout.write(text)
            sys.stdout.flush()
    finally:
        progress.close()
    if output_format is ParseFormat.json:
        sys.stdout.write("\n]\n" if not first else "]\n")
    raise typer.Exit(1 if failed else 0)


def _indented(text: str) -> str:
    return "  " + text.replace("\n", "\n  ")


def _codes(values: list[str] | None) -> tuple[str, ...]:
    """``--select AR,NA01 --select ST`` as ("AR", "NA01", "ST")."""
    return tuple(code.strip().upper() for v in values or () for code in v.split(",") if code.strip())


def _read_and_check(path: Path, config: Config) -> tuple[Report, list[Finding]]:
    """A worker's work for ``check``: the file's record and the rules on that report alone."""
    report = parse(path)
    return report, check(report, config)


@app.command("check")
def check_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（一起检查，可做跨年度、跨单位检查）")],
    output_format: Annotated[CheckFormat, typer.Option("--format", "-f", help="输出格式")] = CheckFormat.text,
    select: Annotated[list[str] | None, typer.Option("--select", help="只运行这些规则（代码或组，如 AR,NA01）")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="不运行这些规则（代码或组）")] = None,
    fail_on: Annotated[Severity, typer.Option("--fail-on", help="发现达到此级别时退出码为 1")] = Severity.error,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="项目文件（默认当前目录的 nianbao.toml）")
    ] = None,
    jobs: JobsOption = 0,
    timeout: TimeoutOption = LIMITS.seconds,
    memory: MemoryOption = LIMITS.memory_bytes // MiB,
) -> None:
    """按审核规则检查年度报告，指出每个问题的位置（每个文件读完即输出，跨报告的检查在最后）。"""
    try:
        config = load_config(config_file)
    except (ValueError, OSError) as exc:
        typer.echo(f"配置文件错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    if select or ignore:
        config = Config(
            _codes(select) or config.select, config.ignore + _codes(ignore), config.severity, config.aggregates
        )
    files = _walked(paths)
    printer = _FindingPrinter(output_format)
    reports: list[Report] = []
    progress = _Progress(len(files))
    outcomes = pool.run(partial(_read_and_check, config=config), files, _isolation(jobs, timeout, memory), progress)
    try:
        for path, outcome in zip(files, outcomes):
            if outcome.value is not None:
                report, findings = outcome.value
            else:
                assert outcome.failure is not None
                report, findings = failed_report(path, outcome.failure), [outcome.failure]
            reports.append(report)
            printer.file(report.source.path, findings)
    finally:
        progress.close()
    for report, across in zip(reports, check_across(reports, config), strict=True):
        printer.file(report.source.path, across)
    printer.close(len(reports))
    threshold = SEVERITY_RANK[fail_on.value]
    raise typer.Exit(1 if printer.worst >= threshold else 0)


class _FindingPrinter:
    """Findings written as they come, file by file, in every format (SARIF's results one by one
    between the log's head and tail), and the count by severity at the end."""

    def __init__(self, output_format: CheckFormat) -> None:
        self.format = output_format
        self.counts: dict[str, int] = {}
        self.worst = -1
        self.results = 0
        if output_format is CheckFormat.sarif:
            self.head, self.tail = sarif_frame()
            sys.stdout.write(self.head)

    def file(self, path: str, findings: list[Finding]) -> None:
        out: list[str] = []
        for f in findings:
            self.counts[f.severity] = self.counts.get(f.severity, 0) + 1
            self.worst = max(self.worst, SEVERITY_RANK.get(f.severity, 0))
            if self.format is CheckFormat.jsonl:
                out.append(json_text(json_line(path, f)) + "\n")
            elif self.format is CheckFormat.sarif:
                out.append(("\n" if not self.results else ",\n") + json_text(sarif_result(path, f)))
                self.results += 1
            else:
                out.append(text_line(path, f) + "\n")
        if self.format is CheckFormat.text and findings:
            out.append("\n")
        sys.stdout.write("".join(out))
        sys.stdout.flush()

    def close(self, files: int) -> None:
        if self.format is CheckFormat.sarif:
            sys.stdout.write(("\n" if self.results else "") + self.tail + "\n")
        elif self.format is CheckFormat.text:
            sys.stdout.write(summary(self.counts, files) + "\n")


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
    source: Annotated[Path, typer.Argument(help="填好的 Excel（.xlsx）或报告记录（.json）", exists=True)],
    out: Annotated[Path, typer.Option("--out", help="输出文件：.docx .html .md .txt .pdf .doc")],
    force: Annotated[bool, typer.Option("--force", help="即使有错误级别的问题也输出")] = False,
) -> None:
    """把填报表或报告记录写成可发布的年度报告；有错误级别问题时拒绝输出（除非 --force）。"""
    if out.suffix.lower() not in (".docx", ".html", ".htm", ".md", ".txt", ".pdf", ".doc"):
        typer.echo(f"不支持的输出格式：{out.suffix}", err=True)
        raise typer.Exit(2)
    report = load_record(source)
    errors = [f for f in check(report) if f.severity == "error"]
    if errors and not force:
        for f in errors:
            typer.echo(text_line(str(source), f))
        typer.echo(f"有 {len(errors)} 个错误级别的问题，未生成报告；改正后重试，或用 --force 强制生成。", err=True)
        raise typer.Exit(1)
    try:
        write(report, out)
    except ReadError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"已生成 {out}")


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


# --- batch: a corpus into Parquet; stats and export from it (helper BATCH, #14) ----------------


class BatchEngine(StrEnum):
    local = "local"
    dask = "dask"


class StatsFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("batch")
def batch_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归读取）", exists=True)],
    out: Annotated[Path, typer.Option("--out", help="输出文件夹（分区 Parquet：records、cells、findings）")],
    engine: Annotated[BatchEngine, typer.Option("--engine", help="local：本机多进程；dask：dask.distributed 集群")] = (
        BatchEngine.local
    ),
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="已有 Dask 集群的调度器地址，如 tcp://10.0.0.5:8786（默认在本机启动）"),
    ] = None,
    jobs: JobsOption = 0,
    timeout: TimeoutOption = LIMITS.seconds,
    memory: MemoryOption = LIMITS.memory_bytes // MiB,
    chunk: Annotated[int, typer.Option("--chunk", min=1, help="每个分区的文件数（决定内存上限）")] = 500,
    ship_bytes: Annotated[
        bool, typer.Option("--ship-bytes", help="把文件内容随任务发给 Dask 工作进程（工作机没有共享文件夹时）")
    ] = False,
    cross_agency: Annotated[
        bool,
        typer.Option("--cross-agency", help="XY04 也比较同一年不同机关的正文（两两比较，耗时随每年报告数的平方增长）"),
    ] = False,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="项目文件（默认当前目录的 nianbao.toml）")
    ] = None,
) -> None:
    """批量读取并检查大量报告，写成分区 Parquet；中断后重新运行会跳过已完成的文件。"""
    from nianbao.batch import run_batch
    from nianbao.batch.output import BusyError, MismatchError

    try:
        config = load_config(config_file)
    except (ValueError, OSError) as exc:
        typer.echo(f"配置文件错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    if engine is BatchEngine.local and scheduler:
        typer.echo("--scheduler 只用于 --engine dask", err=True)
        raise typer.Exit(2)
    tty = sys.stderr.isatty()

    def progress(done: int) -> None:
        if tty and done % 100 == 0:
            sys.stderr.write(f"\r已读取 {done} 个文件")
            sys.stderr.flush()

    try:
        s = run_batch(
            paths,
            out,
            engine=engine.value,
            jobs=jobs or None,
            timeout=timeout or None,
            memory_mb=memory,
            chunk=chunk,
            scheduler=scheduler,
            ship_bytes=ship_bytes,
            config=config,
            cross_agency=cross_agency,
            progress=progress,
        )
    except (BusyError, MismatchError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if tty:
        sys.stderr.write("\n")
    typer.echo(
        f"共 {s.found} 个文件：本次读取 {s.read} 个（读取失败 {s.failed} 个，其中超时 {s.timeouts} 个），"
        f"此前已完成而跳过 {s.skipped} 个，内容重复 {s.duplicates} 个；写入 {s.partitions} 个分区，"
        f"跨报告规则发现 {s.collection_findings} 条；用时 {s.seconds:.1f} 秒。输出：{out}"
    )
    raise typer.Exit(1 if s.failed else 0)


def _batch_dir(source: Path) -> Path:
    if not (source / "records").is_dir():
        typer.echo(f"{source} 不是 nianbao batch 的输出文件夹（缺少 records/）", err=True)
        raise typer.Exit(2)
    return source


@app.command("stats")
def stats_command(
    source: Annotated[Path, typer.Option("--from", help="nianbao batch 的输出文件夹（通过 DuckDB 读取 Parquet）")],
    output_format: Annotated[StatsFormat, typer.Option("--format", "-f", help="输出格式")] = StatsFormat.text,
) -> None:
    """统计：报告份数、各年度申请与复议诉讼合计、发现按级别和规则计数。"""
    import json

    from nianbao.batch.query import TOTALS, stats

    result = stats(_batch_dir(source))
    if output_format is StatsFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    console = Console()
    console.print(
        f"报告 {result.records} 份，读取失败 {result.failed} 份；格式："
        + "，".join(f"{f} {n}" for f, n in result.by_format)
    )
    t = RichTable(title="各年度合计（只计读出数值的单元格）")
    t.add_column("年度")
    for row in result.by_year:
        t.add_column(str(row[0] or "未识别"), justify="right")
    for i, name in enumerate(["报告份数", *(name for _, name in TOTALS)]):
        t.add_row(name, *(_fmt(row[i + 1]) for row in result.by_year))
    console.print(t)
    console.print("发现：" + ("，".join(f"{s} {n}" for s, n in result.findings) or "无"))
    rules = RichTable(title="发现最多的规则")
    for name in ("规则", "级别", "条数"):
        rules.add_column(name)
    for rule, severity, n in result.rules[:15]:
        rules.add_row(rule, severity, str(n))
    console.print(rules)


@app.command("export")
def export_command(
    source: Annotated[Path, typer.Option("--from", help="nianbao batch 的输出文件夹（通过 DuckDB 读取 Parquet）")],
    out: Annotated[Path, typer.Option("--out", help="导出文件：.csv .parquet .jsonl .json")],
    table: Annotated[
        str,
        typer.Option(
            "--table",
            help="records 每份报告一行；cells 每个单元格一行；findings 每条发现一行；wide 每份报告一行、每个单元格一列",
        ),
    ] = "records",
) -> None:
    """把批处理结果导出为 CSV、Parquet 或 JSON。"""
    from nianbao.batch.query import export

    try:
        count = export(_batch_dir(source), out, table)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"已导出 {count} 行到 {out}")


if __name__ == "__main__":
    app()
