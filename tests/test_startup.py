"""`nianbao parse` imports only what reading needs: its start-up is paid on every run, and the
rules (numpy), the writers (python-docx), the sample writer and the store cost more than the
reading of a few hundred text reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nianbao.authoring.sample import DEFAULT_FORMATS
from nianbao.cli import SAMPLE_DEFAULT

NOT_FOR_PARSE = ("numpy", "docx", "sqlalchemy", "nianbao.rules", "nianbao.render", "nianbao.authoring", "nianbao.store")

_PROBE = """
import json, runpy, sys
sys.argv = ["nianbao", *sys.argv[1:]]
try:
    runpy.run_module("nianbao.cli", run_name="__main__")
except SystemExit:
    pass
sys.stderr.write("MODULES" + json.dumps(sorted(sys.modules)))
"""


def _modules_after(*args: str) -> set[str]:
    run = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120)
    return set(json.loads(run.stderr.rsplit("MODULES", 1)[1]))


def _loaded(modules: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def test_parse_imports_no_rules_writers_or_store(tmp_path: Path) -> None:
    report = tmp_path / "a.txt"
    report.write_text("某某局2023年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    modules = _modules_after("parse", str(report))
    assert "nianbao.readers" in modules  # the probe did run the command
    assert [m for m in NOT_FOR_PARSE if _loaded(modules, m)] == []


def test_check_still_imports_the_rules(tmp_path: Path) -> None:
    report = tmp_path / "a.txt"
    report.write_text("某某局2023年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    assert _loaded(_modules_after("check", str(report)), "nianbao.rules")


def test_sample_default_is_the_sample_writers() -> None:
    assert ",".join(DEFAULT_FORMATS) == SAMPLE_DEFAULT


def test_service_keeps_its_names_without_importing_the_rules() -> None:
    probe = "import sys, nianbao.service as s; print('nianbao.rules' in sys.modules, s.Config.__name__, s.load_config.__name__)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split() == ["False", "Config", "load_config"]
