"""Ways to print findings: linter lines, JSON lines, SARIF 2.1.0. A shell layer: the core never
imports it."""

from __future__ import annotations

import json
import math
from typing import Any

from nianbao import __version__
from nianbao.inputs import one_line
from nianbao.record import SEVERITIES, Finding

SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # notice 0, warning 1, error 2
SEVERITY_ZH = {"error": "错误", "warning": "警告", "notice": "提示"}


def place(location: dict[str, Any]) -> str:
    """A location as a person reads it after the file name: ``143``, ``第4页``, ``表2第3行第4列``,
    ``表三 申请办理!D12``."""
    if "line" in location:
        return str(location["line"])
    return place_words(location)


def place_words(location: dict[str, Any]) -> str:
    """A location as a person reads it on its own (the web app's finding list): ``第143行``,
    ``第4页``, ``表2第3行第4列``, ``表三 申请办理!D12``, ``第7段``."""
    if "line" in location:
        return f"第{location['line']}行"
    if "sheet" in location:  # a workbook's cell: 表三 申请办理!D12
        return f"{location['sheet']}!{location.get('cell', '')}"
    if "page" in location:
        return f"第{location['page']}页"
    if "table" in location:
        return f"表{location['table'] + 1}第{location.get('row', 0) + 1}行第{location.get('col', 0) + 1}列"
    if "paragraph" in location:
        return f"第{location['paragraph'] + 1}段"
    if "block" in location:
        return f"第{location['block'] + 1}段"
    return ""


def text_line(path: str, finding: Finding) -> str:
    """One finding on one line: line breaks in the file name or the message are escaped, so a
    file named ``a\\nb.txt: AR01 error …`` cannot print a line of its own."""
    where = place(finding.location)
    return one_line(f"{path}:{where + ':' if where else ''} {finding.rule} {finding.severity} {finding.message}")


def json_line(path: str, finding: Finding) -> dict[str, Any]:
    return {
        "path": path,
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.message,
        "cells": list(finding.cells),
        "location": finding.location,
    }


def summary(counts: dict[str, int], files: int) -> str:
    parts = "，".join(f"{SEVERITY_ZH[s]} {counts.get(s, 0)} 条" for s in SEVERITIES)
    return f"共检查 {files} 份报告：{parts}"


_SARIF_LEVEL = {"error": "error", "warning": "warning", "notice": "note"}


def sarif(results: list[tuple[str, list[Finding]]]) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run; rules come from the registry's declarations."""
    out = [sarif_result(path, f) for path, findings in results for f in findings]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": "nianbao", "version": __version__, "rules": _sarif_rules()}}, "results": out}
        ],
    }


def _sarif_rules() -> list[dict[str, Any]]:
    from nianbao.rules import REGISTRY  # here: `parse`, which writes JSON lines, needs no rules

    return [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.doc},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
        }
        for r in REGISTRY.values()
    ]


def sarif_result(path: str, f: Finding) -> dict[str, Any]:
    region: dict[str, Any] = {}
    if "line" in f.location:
        region["startLine"] = f.location["line"]
    return {
        "ruleId": f.rule,
        "level": _SARIF_LEVEL.get(f.severity, "note"),
        "message": {"text": f.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": path}, **({"region": region} if region else {})}}
        ],
        "properties": {"cells": list(f.cells), "location": f.location},
    }


_RESULTS_MARK = '"results": "@RESULTS@"'


def sarif_frame() -> tuple[str, str]:
    """The SARIF log's text before and after its results, so that results can be written between
    them one by one as they are found (``sarif_result`` each, comma-separated)."""
    log = sarif([])
    log["runs"][0]["results"] = "@RESULTS@"
    text = json.dumps(log, ensure_ascii=False, indent=2)
    head, tail = text.split(_RESULTS_MARK)
    return head + '"results": [', "]" + tail


def json_text(data: Any, indent: int | None = None) -> str:
    """JSON that is always valid: a number that is not finite (which JSON cannot hold) is null."""
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, indent=indent)
    except ValueError:
        return json.dumps(_finite(data), ensure_ascii=False, allow_nan=False, indent=indent)


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data
