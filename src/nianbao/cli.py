"""The ``nianbao`` command: a thin shell over the library."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from nianbao import formats, service
from nianbao.api import iter_paths, load_record, parse
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

if TYPE_CHECKING:
    from nianbao.store import Store

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
        list[Path] | None,
        typer.Argument(help="报告文件或文件夹（一起检查，可做跨年度、跨单位检查）；用 --db 时不需要", exists=True),
    ] = None,
    output_format: Annotated[CheckFormat, typer.Option("--format", "-f", help="输出格式")] = CheckFormat.text,
    select: Annotated[list[str] | None, typer.Option("--select", help="只运行这些规则（代码或组，如 AR,NA01）")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="不运行这些规则（代码或组）")] = None,
    fail_on: Annotated[Severity, typer.Option("--fail-on", help="发现达到此级别时退出码为 1")] = Severity.error,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="项目文件（默认当前目录的 nianbao.toml）")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="检查数据库中的全部报告（数据库地址或 SQLite 文件），结果存入数据库")
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
    if db is not None or not paths:
        if db is None:
            typer.echo("请给出要检查的文件或文件夹，或用 --db 检查数据库中的报告", err=True)
            raise typer.Exit(2)
        _check_store(db, config, output_format, fail_on)
    files = list(iter_paths(paths or []))
    reports = [parse(p) for p in files]
    results = [(str(p), fs) for p, fs in zip(files, check_collection(reports, config), strict=True)]
    _print_findings(results, output_format)
    threshold = SEVERITY_RANK[fail_on.value]
    failed = any(SEVERITY_RANK.get(f.severity, 0) >= threshold for _, fs in results for f in fs)
    raise typer.Exit(1 if failed else 0)


def _check_store(db: str, config: Config, output_format: CheckFormat, fail_on: Severity) -> None:
    """``check --db``: every rule over the stored reports; findings stored and printed (those
    reviewed as 已忽略 are left out of the listing and the exit code)."""
    from nianbao.store import DISMISSED

    with _store(db) as store:
        service.check_store(store, config)
        rows = store.findings()
    shown = [r for r in rows if r.status != DISMISSED]
    by_file: dict[str, list[Finding]] = {}
    for row in shown:
        by_file.setdefault(row.file_name, []).append(row.finding())
    _print_findings(list(by_file.items()), output_format)
    if len(shown) < len(rows) and output_format is CheckFormat.text:
        sys.stdout.write(f"另有 {len(rows) - len(shown)} 条已忽略的问题未列出\n")
    threshold = SEVERITY_RANK[fail_on.value]
    raise typer.Exit(1 if any(SEVERITY_RANK.get(r.severity, 0) >= threshold for r in shown) else 0)


def _store(db: str | None) -> Store:
    try:
        return service.open_store(db)
    except Exception as exc:  # a bad URL, a server that does not answer, a file that is no database
        typer.echo(
            f"无法打开数据库 {db or ''}：{type(exc).__name__}：{str(exc).splitlines()[0] if str(exc) else ''}", err=True
        )
        raise typer.Exit(2) from exc


DB_HELP = "数据库：SQLite 文件或地址（如 postgresql+psycopg://用户@主机/库）；默认环境变量 NIANBAO_DB，否则当前目录的 nianbao.db"


@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归读取）", exists=True)],
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="并行读取的进程数（默认全部 CPU 核）")] = None,
) -> None:
    """把报告导入数据库：每个文件一行结果（新增 / 未变化 / 新版本 / 失败）。同一文件再次导入不重复保存。"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from nianbao.store import FAILED, ImportOutcome

    def line(o: ImportOutcome) -> str:
        if o.status == FAILED:
            return f"{o.status}\t{o.name}\t{o.reason}"
        what = " ".join(x for x in (o.agency or "（未识别机关）", f"{o.year} 年度" if o.year else "（未识别年度）"))
        return f"{o.status}\t{o.name}\t{what}"

    files = list(iter_paths(paths))
    try:
        config = load_config(None)
    except (ValueError, OSError) as exc:
        typer.echo(f"配置文件错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    with _store(db) as store:
        if sys.stderr.isatty():
            columns = (TextColumn("导入"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task("导入", total=len(files))
                outcomes = service.import_paths(store, files, jobs, config, on_outcome=lambda _: progress.advance(task))
            for o in outcomes:
                sys.stdout.write(line(o) + "\n")
        else:

            def show(o: ImportOutcome) -> None:
                sys.stdout.write(line(o) + "\n")
                sys.stdout.flush()

            outcomes = service.import_paths(store, files, jobs, config, on_outcome=show)
    counts = {s: sum(o.status == s for o in outcomes) for s in dict.fromkeys(o.status for o in outcomes)}
    typer.echo("，".join(f"{s} {n}" for s, n in counts.items()) or "没有找到报告文件", err=True)
    raise typer.Exit(1 if any(o.status == FAILED for o in outcomes) else 0)


agencies_app = typer.Typer(help="机关名录：导入名录，列出未匹配的报告标题。", invoke_without_command=True)
app.add_typer(agencies_app, name="agencies")


@agencies_app.callback()
def agencies_command(
    ctx: typer.Context,
    unmatched: Annotated[
        bool, typer.Option("--unmatched", help="列出与名录中任何机关都不匹配的报告标题及最接近的候选")
    ] = False,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """列出数据库中的机关（--unmatched：未匹配名录的报告标题）。"""
    if ctx.invoked_subcommand is not None:
        return
    with _store(db) as store:
        if unmatched:
            rows = store.unmatched()
            if not any(a.listed for a in store.agencies()):
                typer.echo("尚未导入机关名录（nianbao agencies import 名录.xlsx），以下机关均来自报告标题：", err=True)
            for u in rows:
                near = "、".join(u.candidates) if u.candidates else "（无相近名称）"
                sys.stdout.write(f"{u.title}\t{u.reports} 份报告\t最接近：{near}\n")
            typer.echo(f"共 {len(rows)} 个未匹配的机关名称", err=True)
            return
        for a in store.agencies():
            origin = "名录" if a.listed else "标题"
            extra = "\t".join(x or "" for x in (a.level, a.region_code, "、".join(a.aliases)))
            sys.stdout.write(f"{a.name}\t{origin}\t{extra}\n")


@agencies_app.command("import")
def agencies_import_command(
    path: Annotated[
        Path, typer.Argument(help="机关名录 .xlsx 或 .csv（列：名称、上级、级别、行政区划代码、别名）", exists=True)
    ],
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """导入机关名录：建立上下级关系，按规范化名称和别名匹配报告标题。"""
    try:
        rows = service.read_agency_rows(path)
    except (ValueError, OSError) as exc:
        typer.echo(f"名录无法读取：{exc}", err=True)
        raise typer.Exit(2) from exc
    with _store(db) as store:
        result = store.import_agencies(rows)
    typer.echo(
        f"名录导入完成：新增 {result.added} 个机关，更新 {result.updated} 个，合并报告标题中的机关 {result.merged} 个"
    )
    if result.unknown_parents:
        typer.echo(f"以下上级机关不在名录中：{'、'.join(result.unknown_parents)}", err=True)


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


# --- compare, stats, export (STATS) ----------------------------------------------------------------


def load_reports(paths: list[Path]) -> list[Report]:
    """The records the compare / stats / export commands work on: the files given, read now.

    The one place these commands get records from (the store will supply them here with ``--db``)."""
    return [parse(p) for p in iter_paths(paths)]


class CompareFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"
    xlsx = "xlsx"


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"已生成 {out}", err=True)


@app.command("compare")
def compare_command(
    paths: Annotated[list[Path], typer.Argument(help="两份报告（或与 --all 一起：文件或文件夹）", exists=True)],
    output_format: Annotated[CompareFormat, typer.Option("--format", "-f", help="输出格式")] = CompareFormat.text,
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（xlsx 必须指定）")] = None,
    every: Annotated[bool, typer.Option("--all", help="比较每个机关的相邻年度")] = False,
) -> None:
    """比较两份报告：三张表逐格对比、结转链条、规范性文件存量、正文逐部分相似度和照搬的句子。"""
    from nianbao import compare as cmp
    from nianbao.exports import comparison_sheets, write_xlsx

    reports = load_reports(paths)
    if not every and len(reports) != 2:
        typer.echo(f"需要正好两份报告（收到 {len(reports)} 份）；比较多份报告的相邻年度请加 --all", err=True)
        raise typer.Exit(2)
    if output_format is CompareFormat.xlsx and out is None:
        typer.echo("xlsx 格式需要用 --out 指定输出文件", err=True)
        raise typer.Exit(2)
    unreadable = [r for r in reports if r.errors]
    for r in unreadable:
        typer.echo(f"{r.source.path}: {r.errors[0].rule} {r.errors[0].message}", err=True)
    if unreadable and not every:
        raise typer.Exit(1)
    comparisons = cmp.compare_all(reports) if every else [cmp.compare(reports[0], reports[1])]
    if output_format is CompareFormat.xlsx:
        assert out is not None
        write_xlsx(comparison_sheets(comparisons), out)
        typer.echo(f"已生成 {out}", err=True)
        return
    render = {"text": cmp.to_text, "json": cmp.to_json, "html": cmp.to_html}[output_format.value]
    _emit(render(comparisons), out)


class GroupBy(StrEnum):
    region = "region"
    level = "level"
    year = "year"


class StatsFormat(StrEnum):
    text = "text"
    json = "json"


def _metric_keys(values: list[str] | None) -> tuple[str, ...] | None:
    from nianbao.metrics import METRIC_BY_KEY, METRICS

    if not values:
        return None
    by_name = {m.name: m.key for m in METRICS}
    keys = [by_name.get(v.strip(), v.strip()) for value in values for v in value.split(",") if v.strip()]
    unknown = [k for k in keys if k not in METRIC_BY_KEY]
    if unknown:
        typer.echo(f"未知的指标：{'、'.join(unknown)}（见 nianbao metrics）", err=True)
        raise typer.Exit(2)
    return tuple(keys)


@app.command("stats")
def stats_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹", exists=True)],
    by: Annotated[GroupBy, typer.Option("--by", help="汇总分组：region 地区、level 级别、year 年度")] = GroupBy.year,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="只计算这些指标（键或中文名，逗号分隔）")] = None,
    min_n: Annotated[int, typer.Option("--min-n", min=0, help="参加排名的单位至少有这么多新收申请")] = 30,
    top: Annotated[int, typer.Option("--top", min=1, help="每项排名显示前几名")] = 10,
    output_format: Annotated[StatsFormat, typer.Option("--format", "-f", help="输出格式")] = StatsFormat.text,
) -> None:
    """统计指标：每个单位、按地区/级别/年度汇总（比率为分子之和除以分母之和）、逐年变化、排名。"""
    from nianbao.metrics import rollup, row_of
    from nianbao.stats_view import rollup_json, rollup_text

    keys = _metric_keys(metric)
    reports = [r for r in load_reports(paths) if not r.errors]
    result = rollup([row_of(r) for r in reports], by=by.value, min_n=min_n, keys=keys)
    if output_format is StatsFormat.json:
        sys.stdout.write(rollup_json(result) + "\n")
    else:
        sys.stdout.write(rollup_text(result, top, ranked=keys))


@app.command("metrics")
def metrics_command() -> None:
    """列出全部统计指标及其公式和口径（Markdown，即 docs/metrics.md 的内容）。"""
    from nianbao.metrics import metrics_reference

    sys.stdout.write(metrics_reference())


class ExportWhat(StrEnum):
    data = "data"
    findings = "findings"
    metrics = "metrics"
    coverage = "coverage"


@app.command("export")
def export_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹", exists=True)],
    what: Annotated[
        ExportWhat, typer.Option("--what", help="data 数据明细、findings 问题清单、metrics 指标、coverage 报送情况")
    ],
    out: Annotated[Path, typer.Option("--out", help="输出文件：.xlsx .csv .parquet .json")],
    by: Annotated[GroupBy, typer.Option("--by", help="指标的汇总分组")] = GroupBy.year,
    min_n: Annotated[int, typer.Option("--min-n", min=0, help="指标排名的最少新收申请数")] = 30,
    config_file: Annotated[Path | None, typer.Option("--config", help="项目文件（问题清单用）")] = None,
) -> None:
    """导出 Excel 等格式：数据明细、问题清单（整改清单）、指标、报送情况。"""
    from nianbao import exports
    from nianbao.metrics import rollup, row_of

    if out.suffix.lower() not in exports.FORMATS:
        typer.echo(f"不支持的导出格式：{out.suffix}（可用 {'、'.join(exports.FORMATS)}）", err=True)
        raise typer.Exit(2)
    reports = load_reports(paths)
    readable = [r for r in reports if not r.errors]
    if what is ExportWhat.data:
        sheets = exports.data_sheet(readable)
    elif what is ExportWhat.findings:
        findings = check_collection(reports, load_config(config_file))
        sheets = exports.findings_sheet(zip(reports, findings, strict=True))
    elif what is ExportWhat.metrics:
        sheets = exports.metrics_sheet(rollup([row_of(r) for r in readable], by=by.value, min_n=min_n))
    else:
        sheets = exports.coverage_sheet(readable)
    exports.write(sheets, out)
    typer.echo(f"已导出 {len(sheets[0].rows)} 行到 {out}")


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


# --- the web app: nianbao serve, nianbao users (src/nianbao/web/commands.py) ----------------------
from nianbao.web.commands import register as _register_web  # noqa: E402

_register_web(app)


if __name__ == "__main__":
    app()
