"""The ``nianbao`` command: a thin shell over the library."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nianbao import formats, pool, service
from nianbao.api import load_records
from nianbao.cli_db import DB_HELP
from nianbao.cli_db import open_db as _store
from nianbao.cli_zh import ChineseTyper, run
from nianbao.errors import reading_reference
from nianbao.extract.split import format_number
from nianbao.inputs import one_line, problem_text, shown, walk
from nianbao.limits import LIMITS, MiB
from nianbao.outputs import SEVERITY_RANK, json_line, json_text, sarif_frame, sarif_result, summary, text_line
from nianbao.pool import Isolation, failed_report, parse_many
from nianbao.readers import ReadError
from nianbao.record import Finding, Report
from nianbao.service import iter_paths
from nianbao.service import parse_path as parse

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table as RichTable

    from nianbao.rules import Config

# What `nianbao parse` imports is what it pays on every run (0.6 s before this list was cut):
# the rules (numpy among them), the writers (python-docx), the sample writer and the store are
# imported by the commands that use them, inside their bodies.

app = ChineseTyper(
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


def _isolation(jobs: int, timeout: float, memory: int, files: int) -> Isolation:
    """Workers for the run: ``--jobs`` (0: every core), never more than the files to read."""
    return Isolation(max(1, min(jobs or os.cpu_count() or 1, files)), timeout, memory * MiB)


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
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归读取）", parser=Path)],
    output_format: Annotated[ParseFormat, typer.Option("--format", "-f", help="输出格式")] = ParseFormat.jsonl,
    jobs: JobsOption = 0,
    timeout: TimeoutOption = LIMITS.seconds,
    memory: MemoryOption = LIMITS.memory_bytes // MiB,
) -> None:
    """读取年度报告，输出报告记录（每个文件一条，读完一个输出一个，顺序与文件顺序相同）。"""
    files = _walked(paths)
    progress = _Progress(len(files))
    isolation = _isolation(jobs, timeout, memory, len(files))
    if output_format is ParseFormat.table:
        from rich.console import Console

        console = Console()
        failed = False
        try:
            for report in parse_many(files, isolation, progress):
                failed = failed or bool(report.errors)
                progress.close()
                print_report(console, report)
        finally:
            progress.close()
        raise typer.Exit(1 if failed else 0)
    # The record's JSON is written by the worker that read the file: the parent only copies text.
    indent = 2 if output_format is ParseFormat.json else None
    outcomes = pool.run(partial(_record_json, indent=indent), files, isolation, progress)
    failed = False
    first = True
    if output_format is ParseFormat.json:
        sys.stdout.write("[")
    try:
        for path, outcome in zip(files, outcomes):
            if outcome.value is not None:
                text, errors = outcome.value
            else:
                assert outcome.failure is not None
                text, errors = json_text(failed_report(path, outcome.failure).to_dict(), indent=indent), True
            failed = failed or errors
            if output_format is ParseFormat.json:
                # The array is written as it grows: an interrupted run leaves every record before it.
                text = ("\n" if first else ",\n") + _indented(text)
            else:
                text += "\n"
            first = False
            sys.stdout.write(text)
            sys.stdout.flush()
    finally:
        progress.close()
    if output_format is ParseFormat.json:
        sys.stdout.write("\n]\n" if not first else "]\n")
    raise typer.Exit(1 if failed else 0)


def _record_json(path: Path, indent: int | None) -> tuple[str, bool]:
    """A worker's work for ``parse``: the file's record as JSON text, and whether it has errors."""
    report = parse(path)
    return json_text(report.to_dict(), indent=indent), bool(report.errors)


def _indented(text: str) -> str:
    return "  " + text.replace("\n", "\n  ")


def _codes(values: list[str] | None) -> tuple[str, ...]:
    """``--select AR,NA01 --select ST`` as ("AR", "NA01", "ST")."""
    return tuple(code.strip().upper() for v in values or () for code in v.split(",") if code.strip())


def _config(config_file: Path | None, select: list[str] | None = None, ignore: list[str] | None = None) -> Config:
    """The project file's rule choice with the command line's on top; a wrong one is a usage error."""
    from nianbao.rules import Config, ConfigError, checked, load_config

    try:
        config = load_config(config_file)
        if select or ignore:
            config = Config(
                _codes(select) or config.select, config.ignore + _codes(ignore), config.severity, config.aggregates
            )
        return checked(config)
    except ConfigError as exc:
        typer.echo(f"配置错误：{exc}", err=True)
        raise typer.Exit(2) from exc


def _read_and_check(path: Path, config: Config) -> tuple[Report, list[Finding]]:
    """A worker's work for ``check``: the file's record and the rules on that report alone."""
    from nianbao.rules import check  # imported by the parent already (``_config``): no import in the worker

    report = parse(path)
    return report, check(report, config)


@app.command("check")
def check_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="报告文件或文件夹（一起检查，可做跨年度、跨单位检查）；用 --db 时不需要", parser=Path),
    ] = None,
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
    db: Annotated[
        str | None, typer.Option("--db", help="检查数据库中的全部报告（数据库地址或 SQLite 文件），结果存入数据库")
    ] = None,
) -> None:
    """按审核规则检查年度报告，指出每个问题的位置（每个文件读完即输出，跨报告的检查在最后）。"""
    from nianbao.rules import check_across

    _one_source(paths, db)
    config = _config(config_file, select, ignore)
    if db is not None or not paths:
        if db is None:
            typer.echo("请给出要检查的文件或文件夹，或用 --db 检查数据库中的报告", err=True)
            raise typer.Exit(2)
        _check_store(db, config, output_format, fail_on)
    files = _walked(paths or [])
    printer = _FindingPrinter(output_format)
    reports: list[Report] = []
    progress = _Progress(len(files))
    outcomes = pool.run(
        partial(_read_and_check, config=config), files, _isolation(jobs, timeout, memory, len(files)), progress
    )
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


def _undated(finding: Finding) -> bool:
    """PU01's notice that a file carries no publication date: the same for most files of a batch."""
    return finding.rule == "PU01" and finding.severity == "notice"


class _FindingPrinter:
    """Findings written as they come, file by file, in every format (SARIF's results one by one
    between the log's head and tail), and the count by severity at the end."""

    def __init__(self, output_format: CheckFormat) -> None:
        self.format = output_format
        self.counts: dict[str, int] = {}
        self.worst = -1
        self.results = 0
        self.undated = 0  # files whose PU01 could not be checked: said once, at the end
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
            elif _undated(f):
                self.undated += 1
            else:
                out.append(text_line(path, f) + "\n")
        if self.format is CheckFormat.text and out:
            out.append("\n")
        sys.stdout.write("".join(out))
        sys.stdout.flush()

    def close(self, files: int) -> None:
        if self.format is CheckFormat.sarif:
            sys.stdout.write(("\n" if self.results else "") + self.tail + "\n")
        elif self.format is CheckFormat.text:
            if self.undated:
                sys.stdout.write(
                    f"PU01 notice 有 {self.undated} 份报告的文件中没有发布日期，无法检查是否按期发布"
                    "（网页的发布时间、文件的生成日期或落款日期晚于期限时会逐份指出）\n\n"
                )
            sys.stdout.write(summary(self.counts, files) + "\n")


def _one_source(paths: list[Path] | None, db: str | None, source: Path | None = None) -> None:
    """Reports come from files, a store (--db) or a batch output (--from): two at once is a usage
    error, not one of them silently ignored."""
    given = [what for what, on in (("文件或文件夹", bool(paths)), ("--db", db is not None), ("--from", source is not None)) if on]
    if len(given) > 1:
        typer.echo(f"{'与'.join(given)} 只能给出一种：报告来自文件、数据库（--db）或 nianbao batch 的输出（--from）", err=True)
        raise typer.Exit(2)


def _check_store(db: str, config: Config, output_format: CheckFormat, fail_on: Severity) -> None:
    """``check --db``: every rule over the stored reports; findings stored and printed (those
    reviewed as 已忽略 are left out of the listing and the exit code)."""
    from nianbao.store import DISMISSED

    with _store(db) as store:
        service.check_store(store, config)
        rows = store.findings()
        checked = store.counts()["reports"]
    listed = [r for r in rows if r.status != DISMISSED]
    by_file: dict[str, list[Finding]] = {}
    for row in listed:
        by_file.setdefault(row.file_name, []).append(row.finding())
    printer = _FindingPrinter(output_format)
    for name, findings in by_file.items():
        printer.file(name, findings)
    printer.close(checked)
    if len(listed) < len(rows) and output_format is CheckFormat.text:
        sys.stdout.write(f"另有 {len(rows) - len(listed)} 条已忽略的问题未列出\n")
    threshold = SEVERITY_RANK[fail_on.value]
    raise typer.Exit(1 if any(SEVERITY_RANK.get(r.severity, 0) >= threshold for r in listed) else 0)




@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归读取）", parser=Path)],
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    jobs: JobsOption = 0,
    timeout: TimeoutOption = LIMITS.seconds,
    memory: MemoryOption = LIMITS.memory_bytes // MiB,
) -> None:
    """把报告导入数据库：每个文件一行结果（新增 / 未变化 / 新版本 / 失败）。同一文件再次导入不重复保存。"""
    from nianbao.store import FAILED, ImportOutcome

    def line(o: ImportOutcome) -> str:
        if o.status == FAILED:
            return f"{o.status}\t{o.name}\t{o.reason}"
        what = " ".join(x for x in (o.agency or "（未识别机关）", f"{o.year} 年度" if o.year else "（未识别年度）"))
        return f"{o.status}\t{o.name}\t{what}"

    files = _walked(paths)
    config = None  # the rules run on `check --db`, not on import (reading alone sets its pace)
    isolation = _isolation(jobs, timeout, memory, len(files))
    with _store(db, create=True) as store:
        if sys.stderr.isatty():  # rich only for a progress bar someone sees (its import is start-up)
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (TextColumn("导入"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            # Drawn as files are stored, not by rich's refresh thread: with a thread running, the
            # reading workers would come from a fork server instead of a fork (see pool._context).
            with Progress(*columns, console=Console(stderr=True), transient=True, auto_refresh=False) as progress:
                task = progress.add_task("导入", total=len(files))
                drawn = [0.0]

                def advance(_: ImportOutcome) -> None:
                    progress.advance(task)
                    if time.monotonic() - drawn[0] > 0.1:
                        drawn[0] = time.monotonic()
                        progress.refresh()

                outcomes = service.import_paths(store, files, config=config, on_outcome=advance, isolation=isolation)
            for o in outcomes:
                sys.stdout.write(line(o) + "\n")
        else:

            def show(o: ImportOutcome) -> None:
                sys.stdout.write(line(o) + "\n")
                sys.stdout.flush()

            outcomes = service.import_paths(store, files, config=config, on_outcome=show, isolation=isolation)
    counts = {s: sum(o.status == s for o in outcomes) for s in dict.fromkeys(o.status for o in outcomes)}
    typer.echo("，".join(f"{s} {n}" for s, n in counts.items()) or "没有找到报告文件", err=True)
    raise typer.Exit(1 if any(o.status == FAILED for o in outcomes) else 0)


agencies_app = ChineseTyper(help="机关名录：导入名录，列出未匹配的报告标题。", invoke_without_command=True)
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
        typer.echo(f"名录无法读取：{problem_text(exc)}", err=True)
        raise typer.Exit(2) from exc
    with _store(db, create=True) as store:
        result = store.import_agencies(rows)
    typer.echo(
        f"名录导入完成：新增 {result.added} 个机关，更新 {result.updated} 个，合并报告标题中的机关 {result.merged} 个"
    )
    if result.unknown_parents:
        typer.echo(f"以下上级机关不在名录中：{'、'.join(result.unknown_parents)}", err=True)
    for warning in _agency_list_warnings(rows):
        typer.echo(warning, err=True)


def _agency_list_warnings(rows: list[dict[str, str | None]]) -> list[str]:
    """What in an agency list is imported but probably a mistake: a name given twice (its last
    row is kept) and 上级 chains that come back to where they started."""
    from nianbao.agencies import agency_key

    names: dict[str, list[str]] = {}
    parent: dict[str, str] = {}
    for row in rows:
        name = (row.get("名称") or "").strip()
        if name:
            key = agency_key(name)
            names.setdefault(key, []).append(name)
            parent[key] = agency_key((row.get("上级") or "").strip())
    warnings = [f"名录中“{given[0]}”出现 {len(given)} 次，以最后一行为准" for given in names.values() if len(given) > 1]
    looped: set[str] = set()
    for start in parent:
        chain, key = [start], parent[start]
        while key in parent and key not in chain:
            chain.append(key)
            key = parent[key]
        if key == start and start not in looped:
            looped.update(chain)
            shown = " → ".join(names[k][-1] for k in [*chain, start])
            warnings.append(f"名录的上下级关系成环：{shown}（请检查“上级”列）")
    return warnings


@app.command("codes")
def codes_command() -> None:
    """列出全部读取代码（RD，即 docs/reading-codes.md 的内容）。"""
    sys.stdout.write(reading_reference())


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
    from nianbao.authoring.workbook import blank_report, write_template  # openpyxl: slow to import

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
    from nianbao.render import write
    from nianbao.rules import check

    date = _signing_date(signed)
    try:
        reports = load_records(source)
    except (ValueError, OSError) as exc:
        typer.echo(f"无法读取记录文件 {source}：{problem_text(exc)}", err=True)
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


def _prepare_folder(out: Path, example: str = "报告.docx") -> None:
    """The output's folder, created when missing; a clear message when it cannot be."""
    if out.is_dir():
        typer.echo(f"输出路径 {out} 是一个文件夹：请给出文件名，如 {out / example}", err=True)
        raise typer.Exit(2)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        typer.echo(f"无法创建输出文件夹 {out.parent}：{exc.strerror or exc}", err=True)
        raise typer.Exit(2) from exc


# authoring.sample.DEFAULT_FORMATS, written out: the sample writer imports the writers (python-docx),
# which every other command would otherwise import for this default (tests/test_startup.py keeps them equal).
SAMPLE_DEFAULT = "txt,md,html,docx"


@app.command("sample")
def sample_command(
    count: Annotated[int, typer.Option("--count", min=1, help="报告份数")],
    out: Annotated[Path, typer.Option("--out", help="输出文件夹")],
    seed: Annotated[int, typer.Option("--seed", help="随机种子（相同种子生成相同的报告）")] = 0,
    error_rate: Annotated[float, typer.Option("--error-rate", min=0.0, max=1.0, help="注入错误的报告比例")] = 0.2,
    formats_: Annotated[
        str, typer.Option("--formats", help="文件格式，逗号分隔：txt,md,html,docx,pdf,doc")
    ] = SAMPLE_DEFAULT,
) -> None:
    """生成逼真的样本报告集与 manifest.jsonl（真实记录和注入的错误）。"""
    from nianbao.authoring.sample import FORMATS as SAMPLE_FORMATS
    from nianbao.authoring.sample import write_samples

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
    from nianbao.rules.docs import rules_reference

    sys.stdout.write(rules_reference())


# --- compare, stats, export (STATS) ----------------------------------------------------------------


def load_reports(paths: list[Path] | None, db: str | None = None) -> list[Report]:
    """The records the compare / stats / export commands work on: the files given, read now, or
    with ``--db`` the active version of every report stored (the one place they get records from)."""
    if db is not None:
        with _store(db) as store:
            return [r for a in store.iter_active(with_record=True) if (r := a.stored()) is not None]
    if not paths:
        typer.echo("请给出报告文件或文件夹，或用 --db 使用数据库中的报告、用 --from 使用 nianbao batch 的输出", err=True)
        raise typer.Exit(2)
    return [parse(p) for p in iter_paths(paths)]


def _stored_units(db: str) -> dict[str, Any]:
    """Region and level of the stored agencies (from an imported agency list), by normalised name."""
    from nianbao.metrics import directory

    with _store(db) as store:
        rows = [
            {"名称": a.name, "级别": a.level, "行政区划代码": a.region_code, "别名": "、".join(a.aliases)}
            for a in store.agencies()
        ]
    return directory(rows)


def _stored_findings(db: str) -> tuple[list[tuple[Report, list[Finding]]], Callable[[Report, Finding], tuple[str, str]]]:
    """The findings of the last ``check --db`` with each one's review status and comment."""
    with _store(db) as store:
        records = service.report_heads(store)
        rows = store.findings()
    grouped: dict[int, list[Finding]] = {}
    review: dict[tuple[str, str], tuple[str, str]] = {}
    for row in rows:
        finding = row.finding()
        grouped.setdefault(row.version_id, []).append(finding)
        report = records.get(row.version_id)
        if report is not None:
            review[(report.source.sha256, finding.fingerprint)] = (row.status, row.comment)
    items = [(records[v], fs) for v, fs in grouped.items() if v in records]
    return items, lambda report, f: review.get((report.source.sha256, f.fingerprint), ("待处理", ""))


def _units(path: Path | None) -> dict[str, Any]:
    from nianbao.metrics import directory

    if path is None:
        return {}
    try:
        return directory(service.read_agency_rows(path))
    except (OSError, ValueError, KeyError) as exc:
        typer.echo(f"无法读取机关名录 {path}：{problem_text(exc)}", err=True)
        raise typer.Exit(2) from exc


AgencyList = Annotated[
    Path | None,
    typer.Option(
        "--agencies", help="机关名录（.csv 或 .xlsx，列：名称、级别、行政区划代码、别名），提供地区和级别", exists=True
    ),
]


class CompareFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"
    xlsx = "xlsx"


# The output file's extension of each compare format (the first one is the one suggested).
_COMPARE_SUFFIXES = {
    ".txt": CompareFormat.text,
    ".json": CompareFormat.json,
    ".html": CompareFormat.html,
    ".htm": CompareFormat.html,
    ".xlsx": CompareFormat.xlsx,
}


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        _write_output(lambda: out.write_text(text, encoding="utf-8"), out)


def _write_output(write: Callable[[], object], out: Path) -> None:
    """Run ``write`` (which writes ``out``); a file that cannot be written is a Chinese error."""
    try:
        write()
    except Exception as exc:  # an OSError, or xlsxwriter's FileCreateError raised from one
        cause = exc if isinstance(exc, OSError) else exc.__context__
        if not isinstance(cause, OSError):
            raise
        typer.echo(f"无法写入 {out}：{cause.strerror or '文件系统拒绝写入'}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"已生成 {out}", err=True)


@app.command("compare")
def compare_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="两份报告（或与 --all 一起：文件或文件夹）；用 --db 时不需要", exists=True)
    ] = None,
    output_format: Annotated[
        CompareFormat | None, typer.Option("--format", "-f", help="输出格式（默认按 --out 的扩展名，否则 text）")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（xlsx 必须指定）")] = None,
    every: Annotated[bool, typer.Option("--all", help="比较每个机关的相邻年度")] = False,
    db: Annotated[str | None, typer.Option("--db", help="使用数据库中的报告；" + DB_HELP)] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="与 --db 一起：比较这个机关的报告")] = None,
    years: Annotated[
        tuple[int, int] | None, typer.Option("--years", help="与 --agency 一起：比较的两个年度，如 2023 2024")
    ] = None,
) -> None:
    """比较两份报告：三张表逐格对比、结转链条、规范性文件存量、正文逐部分相似度和照搬的句子。"""
    from nianbao import compare as cmp
    from nianbao.exports import comparison_sheets, write_xlsx

    _one_source(paths, db)
    if years is not None and agency is None:
        typer.echo("--years 需要与 --agency 一起使用（比较这个机关的两个年度）", err=True)
        raise typer.Exit(2)
    if output_format is None:  # by the output file's extension: never text in a file named .xlsx
        suffix = out.suffix.lower() if out is not None else ""
        output_format = _COMPARE_SUFFIXES.get(suffix, CompareFormat.text)
    if out is not None:
        _prepare_folder(out, "比较" + next(s for s, f in _COMPARE_SUFFIXES.items() if f is output_format))
    reports = load_reports(paths, db)
    if agency is not None:
        reports = _agency_reports(reports, agency, years, every, db)
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
        _write_output(lambda: write_xlsx(comparison_sheets(comparisons), out), out)
        return
    render = {"text": cmp.to_text, "json": cmp.to_json, "html": cmp.to_html}[output_format.value]
    _emit(render(comparisons), out)


def _agency_reports(reports: list[Report], agency: str, years: tuple[int, int] | None, every: bool, db: str | None) -> list[Report]:
    """The reports of ``agency`` (in a store: by its listed name or an alias) in year order: the
    two ``years``, else the last two (all with --all). An agency or a year with no report is a
    usage error that says what there is."""
    from nianbao.agencies import agency_key

    name = agency
    if db is not None:
        with _store(db) as store:
            found = store.agency_by_name(agency)
        if found is None:
            typer.echo(f"数据库中没有机关“{agency}”（nianbao agencies 列出库中的机关）", err=True)
            raise typer.Exit(2)
        name = found.name
    chosen = sorted((r for r in reports if agency_key(r.agency) == agency_key(name)), key=lambda r: r.year or 0)
    held = "、".join(str(r.year) for r in chosen if r.year) or "无"
    if not chosen:
        typer.echo(f"没有“{agency}”的报告", err=True)
        raise typer.Exit(2)
    if years is not None:
        missing = [str(y) for y in dict.fromkeys(years) if y not in {r.year for r in chosen}]
        if missing or years[0] == years[1]:
            why = f"没有 {'、'.join(missing)} 年度的报告" if missing else "两个年度相同"
            typer.echo(f"{name}{why}（有报告的年度：{held}）", err=True)
            raise typer.Exit(2)
        return [r for r in chosen if r.year in years]
    if not every and len(chosen) < 2:
        typer.echo(f"{name}只有一份报告（{held} 年度），无法比较", err=True)
        raise typer.Exit(2)
    return chosen if every else chosen[-2:]


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
    paths: Annotated[
        list[Path] | None, typer.Argument(help="报告文件或文件夹（用 --db 或 --from 时不给）", exists=True)
    ] = None,
    by: Annotated[GroupBy, typer.Option("--by", help="汇总分组：region 地区、level 级别、year 年度")] = GroupBy.year,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="只计算这些指标（键或中文名，逗号分隔）")] = None,
    min_n: Annotated[int, typer.Option("--min-n", min=0, help="参加排名的单位至少有这么多新收申请")] = 30,
    top: Annotated[int, typer.Option("--top", min=1, help="每项排名显示前几名")] = 10,
    output_format: Annotated[StatsFormat, typer.Option("--format", "-f", help="输出格式")] = StatsFormat.text,
    agencies: AgencyList = None,
    db: Annotated[str | None, typer.Option("--db", help="使用数据库中的报告；" + DB_HELP)] = None,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="改从 nianbao batch 的输出文件夹读取记录（通过 DuckDB 读 Parquet，不再读取文件）"),
    ] = None,
) -> None:
    """统计指标：每个单位、按地区/级别/年度汇总（比率为分子之和除以分母之和）、逐年变化、排名。"""
    from nianbao.metrics import rollup, rows_with_directory
    from nianbao.stats_view import rollup_json, rollup_text

    _one_source(paths, db, source)
    keys = _metric_keys(metric)
    units = _units(agencies)
    if source is not None:
        from nianbao.batch.query import metric_rows

        rows = metric_rows(_batch_dir(source, paths), units, keys)
        result = rollup(rows, by=by.value, min_n=min_n, keys=keys)
    elif db is not None:  # by SQL from the stored cells; region and level from the stored agency list
        with _store(db) as store:
            result = service.stats(store, by=by.value, keys=keys, min_n=min_n, units=units if agencies else None)
    else:
        loaded = load_reports(paths, db)
        reports = [r for r in loaded if not r.errors]
        if len(reports) < len(loaded):
            typer.echo(f"{len(loaded) - len(reports)} 个文件无法读取，未计入统计（用 nianbao check 查看原因）", err=True)
        result = rollup(rows_with_directory(reports, units), by=by.value, min_n=min_n, keys=keys)
    stored = db is not None and source is None
    if by is not GroupBy.year and (all(getattr(u, by.value) is None for u in result.units) if stored else not units):
        how = "nianbao agencies import 名录.xlsx --db …" if stored else "--agencies 名录.xlsx"
        typer.echo(
            f"提示：没有机关名录（{how}），各单位的{'地区' if by is GroupBy.region else '级别'}未知", err=True
        )
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
    what: Annotated[
        ExportWhat, typer.Option("--what", help="data 数据明细、findings 问题清单、metrics 指标、coverage 报送情况")
    ],
    out: Annotated[Path, typer.Option("--out", help="输出文件：.xlsx .csv .parquet .json")],
    paths: Annotated[
        list[Path] | None, typer.Argument(help="报告文件或文件夹（用 --db 或 --from 时不给）", exists=True)
    ] = None,
    by: Annotated[GroupBy, typer.Option("--by", help="指标的汇总分组")] = GroupBy.year,
    min_n: Annotated[int, typer.Option("--min-n", min=0, help="指标排名的最少新收申请数")] = 30,
    config_file: Annotated[Path | None, typer.Option("--config", help="项目文件（问题清单用）")] = None,
    agencies: AgencyList = None,
    db: Annotated[
        str | None, typer.Option("--db", help="使用数据库中的报告（问题清单为最近一次 check --db 的结果及审核状态）；" + DB_HELP)
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option("--from", help="改从 nianbao batch 的输出文件夹读取记录（通过 DuckDB 读 Parquet，不再读取文件）"),
    ] = None,
) -> None:
    """导出 Excel 等格式：数据明细、问题清单（整改清单）、指标、报送情况（有名录时列出没有年报的机关）。"""
    from nianbao import exports
    from nianbao.metrics import rollup, rows_with_directory

    _one_source(paths, db, source)
    if out.suffix.lower() not in exports.FORMATS:
        typer.echo(f"不支持的导出格式：{out.suffix or '（文件名没有扩展名）'}（可用 {'、'.join(exports.FORMATS)}）", err=True)
        raise typer.Exit(2)
    if what is ExportWhat.findings and db is not None:
        items, review = _stored_findings(db)
        exports.write(exports.findings_sheet(items, review), out)
        typer.echo(f"已导出 {sum(len(fs) for _, fs in items)} 行到 {out}")
        if not items:
            typer.echo("数据库中没有发现记录：如果还没有检查，先运行 nianbao check --db 再导出问题清单", err=True)
        return
    if db is not None and source is None and what is ExportWhat.metrics:
        # by SQL from the stored cells, no record unpacked (the data sheet reads records: unpacking
        # them costs less than fetching their two hundred cells a report row by row)
        with _store(db) as store:
            units = _units(agencies) if agencies else None
            sheets = exports.metrics_sheet(service.stats(store, by=by.value, min_n=min_n, units=units))
        exports.write(sheets, out)
        typer.echo(f"已导出 {len(sheets[0].rows)} 行到 {out}")
        return
    if source is not None:
        from nianbao.batch.query import findings_by_record
        from nianbao.batch.query import reports as batch_reports

        reports = sorted(batch_reports(_batch_dir(source, paths)), key=lambda r: r.source.path)
    else:
        reports = load_reports(paths, db)
    readable = [r for r in reports if not r.errors]
    units = _units(agencies) if agencies or db is None else _stored_units(db)
    if what is ExportWhat.data:
        sheets = exports.data_sheet(readable)
    elif what is ExportWhat.findings and source is not None:  # checked when the batch ran
        found = findings_by_record(source)
        sheets = exports.findings_sheet((r, found.get(r.source.sha256, [])) for r in reports)
    elif what is ExportWhat.findings:
        from nianbao.rules import check_collection

        findings = check_collection(reports, _config(config_file))
        sheets = exports.findings_sheet(zip(reports, findings, strict=True))
    elif what is ExportWhat.metrics:
        rows = rows_with_directory(readable, units)
        sheets = exports.metrics_sheet(rollup(rows, by=by.value, min_n=min_n))
    else:
        names = sorted({u.name for u in units.values()})
        sheets = exports.coverage_sheet(readable, agencies=names)
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
    from rich.table import Table as RichTable

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
    from rich.table import Table as RichTable

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
    from rich.table import Table as RichTable

    assert report.table4 is not None
    t = RichTable(title="表四 政府信息公开行政复议、行政诉讼情况")
    t.add_column("")
    for outcome in formats.TABLE4_OUTCOMES:
        t.add_column(outcome.label, justify="right")
    for group in formats.TABLE4_GROUPS:
        row = report.table4.get(group.key, {})
        t.add_row(group.label, *(_fmt(row.get(o.key)) for o in formats.TABLE4_OUTCOMES))
    return t


# --- batch: a corpus into Parquet (helper BATCH, #14); stats/export --from read it ------------


class BatchEngine(StrEnum):
    local = "local"
    dask = "dask"


@app.command("batch")
def batch_command(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归读取）", exists=True)],
    out: Annotated[Path, typer.Option("--out", help="输出文件夹（分区 Parquet：报告记录、单元格、发现三张表）")],
    engine: Annotated[BatchEngine, typer.Option("--engine", help="local：本机多进程；dask：Dask 集群")] = (
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
        typer.Option("--cross-agency", help="XY04 也比较同一年不同机关的正文（按模板撰写的报告相似的很多，耗时较长）"),
    ] = False,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="项目文件（默认当前目录的 nianbao.toml）")
    ] = None,
) -> None:
    """批量读取并检查大量报告，写成分区 Parquet；中断后重新运行会跳过已完成的文件。"""
    from nianbao.batch import run_batch
    from nianbao.batch.output import BusyError, MismatchError
    from nianbao.rules import load_config

    try:
        config = load_config(config_file)
    except (ValueError, OSError) as exc:
        typer.echo(f"配置文件错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    if engine is BatchEngine.local and scheduler:
        typer.echo("--scheduler 只用于 --engine dask", err=True)
        raise typer.Exit(2)
    tty = sys.stderr.isatty()

    def progress(done: int) -> None:  # called per group of files (their worker wrote them), or per file
        if tty:
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


def _batch_dir(source: Path, paths: list[Path] | None = None) -> Path:
    """``--from``'s folder, checked (and not given together with files)."""
    if paths:
        typer.echo("--from 与报告文件不能同时给出", err=True)
        raise typer.Exit(2)
    if not (source / "records").is_dir():
        typer.echo(f"{source} 不是 nianbao batch 的输出文件夹（缺少 records/）", err=True)
        raise typer.Exit(2)
    return source


# --- the web app: nianbao serve, nianbao users (src/nianbao/web/commands.py) ----------------------
from nianbao.web.commands import register as _register_web  # noqa: E402

_register_web(app)


def entry() -> None:
    """The ``nianbao`` program: the app, with usage errors in Chinese."""
    sys.exit(run(app))


if __name__ == "__main__":
    entry()
