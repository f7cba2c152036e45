"""check on the real corpus: the seeds are error-free; the defects the corpus README names are found."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import corpus_cases, source_of, truth_names
from nianbao import parse
from nianbao.rules import check

SEEDS = [n for n in truth_names() if n[:3].isdigit()]
# Defects the corpus README and shared/spec/rules.md name for the seeds.
EXPECTED = {
    "000_ad76ac4b2ae56493": {"ST03", "ST04"},
    "001_17c512892160a454": {"ST03"},
    "002_59838382079b1902": {"NA04", "ST03"},
    "003_85a44054a9ef54a3": {"NA04", "ST03"},
    "004_b2720cebb43aa7da": {"ST04"},
}


@pytest.mark.parametrize("name", corpus_cases(SEEDS))
def test_seed_has_no_error_and_its_named_defects(name: str) -> None:
    findings = check(parse(source_of(name)))
    assert [f.message for f in findings if f.severity == "error"] == []
    assert EXPECTED[name] <= {f.rule for f in findings}


def test_partial_note_dropped_is_located() -> None:
    (finding,) = [f for f in check(parse(source_of("000_ad76ac4b2ae56493"))) if f.rule == "ST04"]
    assert finding.location == {"line": 115}
    assert finding.cells == ("table3/partial/natural",)


def test_check_cli_jsonl_sarif_and_exit_codes() -> None:
    if not SEEDS:
        pytest.skip("the real corpus is not beside the project")
    seed = str(source_of("002_59838382079b1902"))
    run = [sys.executable, "-m", "nianbao.cli", "check", seed]
    text = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and "NA04 warning" in text.stdout and "共检查 1 份报告" in text.stdout
    lines = subprocess.run([*run, "--format", "jsonl"], capture_output=True, text=True, timeout=60).stdout.splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"path", "rule", "severity", "message", "cells", "location"}
    strict = subprocess.run([*run, "--fail-on", "warning"], capture_output=True, text=True, timeout=60)
    assert strict.returncode == 1
    only = subprocess.run([*run, "--select", "NA04", "--format", "jsonl"], capture_output=True, text=True, timeout=60)
    assert {json.loads(line)["rule"] for line in only.stdout.splitlines()} == {"NA04"}
    sarif = json.loads(subprocess.run([*run, "--format", "sarif"], capture_output=True, text=True, timeout=60).stdout)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert subprocess.run([*run, "--fail-on", "bogus"], capture_output=True, timeout=60).returncode == 2


def test_a_missing_publication_date_is_said_once_per_run() -> None:
    if not SEEDS:
        pytest.skip("the real corpus is not beside the project")
    seeds = [str(source_of(name)) for name in ("000_ad76ac4b2ae56493", "001_17c512892160a454", "004_b2720cebb43aa7da")]
    text = subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "check", *seeds], capture_output=True, text=True, timeout=120
    )
    pu01 = [line for line in text.stdout.splitlines() if "PU01" in line]
    assert pu01 == ["PU01 notice 有 3 份报告的文件中没有发布日期，无法检查是否按期发布（网页的发布时间、文件的生成日期或落款日期晚于期限时会逐份指出）"]
    jsonl = subprocess.run(
        [sys.executable, "-m", "nianbao.cli", "check", "--format", "jsonl", *seeds],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sum('"PU01"' in line for line in jsonl.stdout.splitlines()) == 3  # machine output keeps each
