"""The catalogues of codes: every reading code the code can emit is catalogued with its severity, the
reference is current, and a rule choice naming no real code is refused, never passed in silence."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from nianbao.errors import READING_CODES, reading_reference
from nianbao.rules import REGISTRY, Config, ConfigError, checked, load_config

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


def test_reading_findings_use_a_severity_their_code_allows() -> None:
    # Finding("RD05", "warning", ...) and ReadingCode's severities must agree wherever a code is literal.
    pairs = [
        (path.name, code, severity)
        for path, text in _sources()
        for code, severity in re.findall(r'Finding\(\s*"(RD\d\d)",\s*"(\w+)"', text)
    ]
    assert len(pairs) > 10
    wrong = [p for p in pairs if p[2] not in READING_CODES[p[1]].severities]
    assert wrong == []


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
    assert shown == [line for line in reading_reference().splitlines() if line.startswith("|")], (
        "README's reading-code table is stale: paste the table of `nianbao codes`"
    )
