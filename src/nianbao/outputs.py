"""Ways to print findings: linter lines, JSON lines, SARIF 2.1.0. A shell layer: the core never
imports it."""

from __future__ import annotations

from typing import Any

from nianbao import __version__
from nianbao.record import SEVERITIES, Finding
from nianbao.rules import REGISTRY

SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # notice 0, warning 1, error 2
SEVERITY_ZH = {"error": "错误", "warning": "警告", "notice": "提示"}


def place(location: dict[str, Any]) -> str:
    """A location as a person reads it after the file name: ``143``, ``第4页``, ``表2第3行第4列``,
    ``表三 申请办理!D12``."""
    if "line" in location:
        return str(location["line"])
    if "sheet" in location:  # a workbook's cell: 表三 申请办理!D12
        return f"{location['sheet']}!{location.get('cell', '')}"
    if "page" in location:
        return f"第{location['page']}页"
    if "table" in location:
        return f"表{location['table'] + 1}第{location['row'] + 1}行第{location['col'] + 1}列"
    if "paragraph" in location:
        return f"第{location['paragraph'] + 1}段"
    if "block" in location:
        return f"第{location['block'] + 1}段"
    return ""


def text_line(path: str, finding: Finding) -> str:
    where = place(finding.location)
    return f"{path}:{where + ':' if where else ''} {finding.rule} {finding.severity} {finding.message}"


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
    rules = [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.doc},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
        }
        for r in REGISTRY.values()
    ]
    out: list[dict[str, Any]] = []
    for path, findings in results:
        for f in findings:
            region: dict[str, Any] = {}
            if "line" in f.location:
                region["startLine"] = f.location["line"]
            result: dict[str, Any] = {
                "ruleId": f.rule,
                "level": _SARIF_LEVEL.get(f.severity, "note"),
                "message": {"text": f.message},
                "locations": [
                    {"physicalLocation": {"artifactLocation": {"uri": path}, **({"region": region} if region else {})}}
                ],
                "properties": {"cells": list(f.cells), "location": f.location},
            }
            out.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "nianbao", "version": __version__, "rules": rules}}, "results": out}],
    }
