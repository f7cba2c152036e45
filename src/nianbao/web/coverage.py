"""The overview's coverage grid: agencies (by region and level) × years, each cell a report's state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nianbao.web.backend import Brief

STATES = {
    "missing": "未报送",
    "read": "已读取",
    "errors": "有错误",
    "reviewed": "已审核",
    "late": "逾期发布",
}
LATE_RULES = ("PU01",)


@dataclass(frozen=True)
class CoverageCell:
    year: int
    state: str
    errors: int = 0
    key: str = ""

    @property
    def label(self) -> str:
        if self.state == "errors":
            return f"有 {self.errors} 个错误"
        return STATES[self.state]

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "state": self.state, "label": self.label, "errors": self.errors, "key": self.key}


@dataclass(frozen=True)
class CoverageRow:
    region: str
    level: str
    agency: str
    cells: tuple[CoverageCell, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "level": self.level,
            "agency": self.agency,
            "cells": [c.to_dict() for c in self.cells],
        }


def brief_state(brief: Brief) -> tuple[str, int]:
    """A stored report's state: errors not yet reviewed, published late, reviewed, or read."""
    errors = [f for f in brief.findings if f[1] == "error"]
    open_errors = [f for f in errors if f[2] == "open"]
    if open_errors:
        return "errors", len(open_errors)
    if any(rule in LATE_RULES and severity != "notice" for rule, severity, _ in brief.findings):
        return "late", 0
    if errors or any(status != "open" for _, _, status in brief.findings):
        return "reviewed", 0
    return "read", 0


def state_label(state: str, errors: int) -> str:
    return f"有 {errors} 个错误" if state == "errors" else STATES[state]


def coverage(
    entries: Iterable[Brief],
    agencies: Iterable[tuple[str, str, str]] = (),
    years: Iterable[int] = (),
) -> tuple[list[int], list[CoverageRow]]:
    """Rows for every agency known (from ``agencies``: (region, level, name), and from the reports),
    columns for every year with a report (and ``years``)."""
    by_agency: dict[str, dict[int, Brief]] = {}
    place: dict[str, tuple[str, str]] = {name: (region, level) for region, level, name in agencies}
    for e in entries:
        if e.year is None:
            continue
        name = e.agency or "（未识别机关）"
        by_agency.setdefault(name, {})
        by_agency[name][e.year] = e
        place.setdefault(name, (e.region, e.level))
    all_years = sorted({*years, *(y for got in by_agency.values() for y in got)})
    rows = []
    for name, (region, level) in sorted(place.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0])):
        cells = []
        for year in all_years:
            got = by_agency.get(name, {}).get(year)
            if got is None:
                cells.append(CoverageCell(year, "missing"))
            else:
                state, n = brief_state(got)
                cells.append(CoverageCell(year, state, n, got.key))
        rows.append(CoverageRow(region, level, name, tuple(cells)))
    return all_years, rows
