"""The report record (``nianbao/report/v1``): the one shape every output uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nianbao.model import Location

SCHEMA = "nianbao/report/v1"
SEVERITIES = ("error", "warning", "notice")

Number = int | float | None
TableValues = dict[str, dict[str, Number]]


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    cells: tuple[str, ...] = ()
    location: Location = field(default_factory=dict)
    # Extra machine-readable detail (e.g. candidate splits of run-together digits).
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "cells": list(self.cells),
            "location": self.location,
        }
        if self.detail:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            rule=data["rule"],
            severity=data["severity"],
            message=data["message"],
            cells=tuple(data.get("cells", ())),
            location=dict(data.get("location") or {}),
            detail=dict(data.get("detail") or {}),
        )


@dataclass(frozen=True)
class SectionText:
    number: int
    title: str
    text: str
    heading: str = ""  # the heading as printed, when it differs from the national title
    location: Location = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"number": self.number, "title": self.title, "text": self.text}
        if self.heading:
            out["heading"] = self.heading
        if self.location:
            out["location"] = self.location
        return out


@dataclass(frozen=True)
class Source:
    path: str
    format: str
    sha256: str = ""
    pages: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "sha256": self.sha256, "pages": self.pages}


@dataclass(frozen=True)
class Report:
    source: Source
    agency: str | None = None
    year: int | None = None
    template: str | None = None
    sections: tuple[SectionText, ...] = ()
    table2: TableValues | None = None
    table3: TableValues | None = None
    table4: TableValues | None = None
    locations: dict[str, Location] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    errors: tuple[Finding, ...] = ()
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    # Row labels as printed ("table3/partial" -> "(二)部分公开"), for rules on the printed form.
    labels: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "source": self.source.to_dict(),
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "title": self.title or None,
            "sections": [s.to_dict() for s in self.sections],
            "table2": self.table2,
            "table3": self.table3,
            "table4": self.table4,
            "locations": self.locations,
            "findings": [f.to_dict() for f in self.findings],
            "errors": [e.to_dict() for e in self.errors],
        }
        if self.meta:
            out["meta"] = self.meta
        if self.labels:
            out["labels"] = self.labels
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        src = data.get("source") or {}
        return cls(
            source=Source(src.get("path", ""), src.get("format", ""), src.get("sha256", ""), src.get("pages")),
            agency=data.get("agency"),
            year=data.get("year"),
            template=data.get("template"),
            sections=tuple(
                SectionText(s["number"], s["title"], s.get("text", ""), s.get("heading", ""), s.get("location") or {})
                for s in data.get("sections") or ()
            ),
            table2=data.get("table2"),
            table3=data.get("table3"),
            table4=data.get("table4"),
            locations=dict(data.get("locations") or {}),
            findings=tuple(Finding.from_dict(f) for f in data.get("findings") or ()),
            errors=tuple(Finding.from_dict(f) for f in data.get("errors") or ()),
            title=data.get("title") or "",
            meta=dict(data.get("meta") or {}),
            labels=dict(data.get("labels") or {}),
        )

    def value(self, path: str) -> Number:
        """The value at a cell path (``table3/new/total``), or None when absent."""
        table, row, col = path.split("/")
        rows = getattr(self, table)
        if not rows or row not in rows:
            return None
        value: Number = rows[row].get(col)
        return value
