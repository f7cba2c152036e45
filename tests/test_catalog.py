"""The catalogues of codes: every reading code the code can emit is catalogued with its severity, the
reference is current, and a rule choice naming no real code is refused, never passed in silence."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from builders import valid_report
from conftest import ROOT, source_of, truth_names
from hostile import CASES
from nianbao import parse
from nianbao.authoring.sample import write_samples
from nianbao.errors import (
    CONFIG_CODES,
    READING_CODES,
    SEVERITIES,
    CatalogError,
    config_message,
    message_follows,
    read_error,
    reading,
    reading_message,
    reading_reference,
    reading_table,
)
from nianbao.record import Finding, Report
from nianbao.rules import REGISTRY, Config, ConfigError, check, check_collection, checked, load_config
from nianbao.rules.base import Context, rule
from test_rules import FAIL as RULE_CASES

SOURCE = ROOT / "src" / "nianbao"


def _sources() -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted(SOURCE.rglob("*.py"))]


def test_reading_reference_is_current() -> None:
    current = (ROOT / "docs" / "reading-codes.md").read_text(encoding="utf-8")
    assert current == reading_reference(), "docs/reading-codes.md is stale: run `nianbao codes > docs/reading-codes.md`"


def test_every_reading_code_in_the_code_is_catalogued() -> None:
    named = {code for _, text in _sources() for code in re.findall(r"\bRD\d\d\b", text)}
    assert named, "the scan found no reading code at all"
    assert sorted(named - set(READING_CODES)) == []


def test_findings_spelled_in_place_use_a_severity_their_code_allows() -> None:
    # Finding("RD07", "warning", ...) where a site still spells its finding (the OCR reader's
    # internal marker of cells it leaves to the extractor): the code is declared, at that severity.
    pairs = [
        (path.name, code, severity)
        for path, text in _sources()
        for code, severity in re.findall(r'Finding\(\s*"([A-Z]{2}\d\d)",\s*"(\w+)"', text)
    ]
    declared = {**{c: r.severities for c, r in READING_CODES.items()}, **{c: r.severities for c, r in REGISTRY.items()}}
    wrong = [p for p in pairs if p[2] not in declared.get(p[1], ())]
    assert wrong == []


# The code, then what follows it: a template key ("none"), a field (table=), or a key in a variable.
_CALL_RE = re.compile(r'\b(?:reading|read_error|reading_message)\(\s*("RD\d\d"|[A-Z][A-Z_]+)(?:,\s*("\w*"|\w+=?))?')
_CONSTANT_RE = re.compile(r'^([A-Z][A-Z_]+) = "(RD\d\d)"$', re.M)


def test_every_code_and_template_an_emitting_site_names_is_catalogued() -> None:
    # A site names its code literally ("RD07") or by a module constant (RD_LIMIT = "RD16").
    constants = {name: code for _, text in _sources() for name, code in _CONSTANT_RE.findall(text)}
    calls = [(path.name, code, key) for path, text in _sources() for code, key in _CALL_RE.findall(text)]
    assert len(calls) > 60, "the scan found too few emitting sites"
    unknown = []
    for name, named, then in calls:
        if then and not then.startswith('"') and not then.endswith("="):
            continue  # the key is chosen at run time (inputs._refused): the runs below meet it
        key = then.strip('"') if then.startswith('"') else ""
        code = named.strip('"') if named.startswith('"') else constants.get(named, named)
        try:
            READING_CODES[code].template(key)
        except (KeyError, CatalogError):
            unknown.append((name, named, key))
    assert unknown == []


def test_reading_and_rule_codes_do_not_overlap() -> None:
    assert not set(READING_CODES) & set(REGISTRY)
    assert all(code.startswith("RD") for code in READING_CODES)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[check]\nselct = ["AR"]\n', "不认识的设置：selct"),
        ("[chek]\n", "不认识的设置：chek"),
        ('[check]\nselect = "AR"\n', "select 应为一个列表"),
        ('[check]\nselect = ["ZZ99"]\n', "没有这样的规则或代码：ZZ99"),
        ('[check.severity]\nNA05 = "loud"\n', "未知的级别 loud"),
        ('[check\nselect = ["AR"]\n', "第 1 行写法有误"),
        ('[[check.aggregate]]\nmembers = ["甲*"]\n', "缺少汇总报告的机关名称"),
    ],
)
def test_a_project_file_nianbao_cannot_follow_is_refused(toml: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "nianbao.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_a_named_project_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="找不到项目文件"):
        load_config(tmp_path / "nosuch.toml")


def test_known_codes_and_groups_pass() -> None:
    config = Config(select=("AR", "NA01", "RD07"), ignore=("RD",), severity={"ST": "notice"})
    assert checked(config) == config


def test_the_cli_refuses_an_unknown_rule_code(tmp_path: Path) -> None:
    report = tmp_path / "a.txt"
    report.write_text("不是报告", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "check", str(report), "--select", "ZZ99"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "没有这样的规则或代码：ZZ99" in run.stderr


def test_readme_reading_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- reading-codes:", 1)[1].split("<!-- /reading-codes -->", 1)[0]
    shown = [line for line in block.splitlines() if line.startswith("|")]
    assert shown == reading_table(), (
        "README's reading-code table is stale: paste the table of `nianbao codes`"
    )


# --- the helper -------------------------------------------------------------------------------


def test_the_helper_fills_a_template_at_its_severity() -> None:
    finding = reading("RD05", "no_tables")
    assert (finding.rule, finding.severity) == ("RD05", "error")
    split = reading("RD07", "none", table="表二", title="规章", printed="1234", cells=["table2/regulations/issued"])
    assert split.severity == "warning" and split.cells == ("table2/regulations/issued",)
    assert split.message == "表二“规章”行的数字“1234”无法拆分为本行应有的数值，该行未读取，请对照原件核实。"
    assert message_follows("RD07", split.message)
    error = read_error("RD16", what="文件大小", found="3 MB", limit="1 MB")
    assert (error.code, error.message) == ("RD16", "文件大小超过上限（3 MB，上限 1 MB），文件未读取")


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: reading("RD99"), "not a catalogued reading code"),
        (lambda: reading("RD07", "nosuch", table="", title="", printed=""), "no message template"),
        (lambda: reading("RD07", "none", table="表二", title="规章"), "missing fields ['printed']"),
        (lambda: reading("RD08", printed="1", row="2"), "unknown fields ['row']"),
        (lambda: reading("RD08", printed="1", severity="error"), "never 'error'"),
        (lambda: read_error("RD08", printed="1"), "never an error"),
        (lambda: config_message("CF99"), "not a catalogued project-file error"),
        (lambda: config_message("CF01"), "missing fields ['path']"),
    ],
)
def test_the_helper_refuses_what_the_catalogue_does_not_hold(call: Callable[[], object], says: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(says)):
        call()


def test_a_template_matches_only_its_own_wording() -> None:
    assert message_follows("RD14", reading_message("RD14", seconds=2.5))
    assert not message_follows("RD14", "读取时间超过上限，已停止")
    assert not message_follows("RD99", "任何信息")


# --- the rules framework ------------------------------------------------------------------------


def test_a_rule_emitting_what_it_did_not_declare_becomes_an_internal_error_record() -> None:
    @rule("ZZ01", "越界的规则", "notice", ("table3",), messages=("示例",))
    def rogue(ctx: Context) -> Iterator[Finding]:
        yield ctx.finding("示例")
        yield Finding("AR01", "error", "冒用其他规则的代码")
        yield Finding("ZZ01", "error", "未声明的级别")

    try:
        found = [f for f in check(valid_report()) if f.rule in ("ZZ01", "AR01", "RD19")]
    finally:
        del REGISTRY["ZZ01"]
    assert [(f.rule, f.severity) for f in found] == [("ZZ01", "notice"), ("RD19", "error"), ("RD19", "error")]
    assert "规则 ZZ01 程序内部错误（给出了未声明的代码 AR01）" in found[1].message
    assert "代码 ZZ01 给出了未声明的级别 error" in found[2].message


def test_a_rule_whose_message_does_not_fit_its_template_stops_with_an_internal_error_record() -> None:
    @rule("ZZ02", "信息不合模板的规则", "notice", ("table3",), messages=("表三“{row}”行有误",))
    def misfit(ctx: Context) -> Iterator[Finding]:
        yield ctx.say(1, row="予以公开")
        yield ctx.say(1, column="自然人")  # the template names {row}, not {column}
        yield ctx.say(1, row="never reached")

    try:
        found = [f for f in check(valid_report()) if f.rule in ("ZZ02", "RD19")]
    finally:
        del REGISTRY["ZZ02"]
    assert [(f.rule, f.message) for f in found] == [
        ("ZZ02", "表三“予以公开”行有误"),
        ("RD19", "规则 ZZ02 程序内部错误（信息与声明的模板不符），该发现未报告；请把文件提交给 nianbao 的维护者"),
    ]


def test_every_rule_declares_its_messages_and_what_else_it_emits() -> None:
    for declared in REGISTRY.values():
        assert declared.messages, declared.code
        assert set(declared.severities) <= set(SEVERITIES), declared.code
        assert set(declared.also_codes) <= set(READING_CODES), declared.code


# --- what is emitted ----------------------------------------------------------------------------

_EXCEPTION_NAME_RE = re.compile(r"\b\w*(?:Error|Exception|Warning)\b|Traceback|errno \d", re.I)


def outside_the_catalogue(findings: Iterable[tuple[str, str, str]]) -> list[str]:
    """(code, severity, message) triples whose code is not declared at that severity, whose message
    does not follow one of its code's templates, or that name an exception."""
    wrong: list[str] = []
    for code, severity, message in findings:
        if code in READING_CODES:
            severities, follows = READING_CODES[code].severities, message_follows(code, message)
        elif code in REGISTRY:
            severities, follows = REGISTRY[code].severities, REGISTRY[code].follows_template(message)
        else:
            wrong.append(f"{code}: not declared")
            continue
        if severity not in severities:
            wrong.append(f"{code} {severity}: severity not declared")
        if not follows:
            wrong.append(f"{code}: {message!r} follows no template of the code")
        if _EXCEPTION_NAME_RE.search(message):
            wrong.append(f"{code}: {message!r} names an exception")
    return wrong


def _triples(findings: Iterable[Finding]) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity, f.message) for f in findings]


def test_every_finding_on_the_corpus_is_declared_and_follows_its_template() -> None:
    names = truth_names()
    if not names:
        pytest.skip("the real corpus is not beside the project")
    reports = [parse(source_of(name)) for name in names]
    read = [f for r in reports for f in (*r.errors, *r.findings)]
    checked = [f for fs in check_collection(reports) for f in fs]
    assert checked and outside_the_catalogue(_triples([*read, *checked])) == []
    assert not [f for f in checked if f.rule == "RD19"]


def test_every_finding_on_generated_reports_is_declared_and_follows_its_template(tmp_path: Path) -> None:
    # Generated reports with injected errors, several years of one agency each: the rules across
    # reports (XY, PU) and the arithmetic rules fire here as they do not on the clean corpus.
    folder = write_samples(tmp_path / "samples", 24, seed=7, error_rate=0.5, fmts=("txt", "md", "html", "docx")).parent
    reports = [parse(p) for p in sorted(folder.iterdir()) if p.name != "manifest.jsonl"]
    read = [f for r in reports for f in (*r.errors, *r.findings)]
    checked = [f for fs in check_collection(reports) for f in fs]
    assert {f.rule[:2] for f in checked} >= {"AR", "PU"}
    assert outside_the_catalogue(_triples([*read, *checked])) == []


@pytest.mark.parametrize(("code", "change", "cell"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_every_rule_case_is_declared_and_follows_its_template(
    code: str, change: Callable[[Report], Report], cell: str
) -> None:
    found = check(change(valid_report()))
    assert code in {f.rule for f in found}
    assert outside_the_catalogue(_triples(found)) == []


@pytest.mark.slow
def test_every_finding_on_the_hostile_suite_is_declared_and_follows_its_template(tmp_path: Path) -> None:
    given: list[Path] = []
    for number, case in enumerate(CASES):
        folder = tmp_path / f"{number:02d}"
        folder.mkdir()
        given.append(case.build(folder))
    command = [sys.executable, "-m", "nianbao.cli", "check", "--format", "jsonl", "--jobs", "2", "--timeout", "30"]
    run = subprocess.run([*command, *map(os.fsencode, given)], capture_output=True, timeout=900, check=False)
    assert b"Traceback" not in run.stderr
    lines = [json.loads(line) for line in run.stdout.decode("utf-8").splitlines()]
    assert {x["rule"] for x in lines} >= {"RD01", "RD16", "RD17"}
    assert outside_the_catalogue((x["rule"], x["severity"], x["message"]) for x in lines) == []


def test_every_project_file_error_is_raised_somewhere_and_catalogued() -> None:
    raised = {code for _, text in _sources() for code in re.findall(r'ConfigError\(\s*"(CF\d\d)"', text)}
    assert raised == set(CONFIG_CODES)
