"""The report record (``nianbao/report/v1``): the one shape every output uses."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nianbao.model import Location

SCHEMA = "nianbao/report/v1"
SEVERITIES = ("error", "warning", "notice")

Number = int | float | None
TableValues = dict[str, dict[str, Number]]
TABLES = ("table2", "table3", "table4")

# What a fingerprint keeps of a message: its numbers, written one way (1,234 and 1234 and 1234.0
# alike); file names (another report's path in XY messages) are dropped first, so a re-import from
# another folder keeps the fingerprint.
_FILE_NAME_RE = re.compile(
    r"[^\s（）()，,：:]+\.(?:pdf|docx?|wps|html?|shtml|xhtml|txt|text|md|markdown|xlsx|json)", re.I
)
_NUMBER_RE = re.compile(r"\d[\d,，]*(?:\.\d+)?")


def _normalised_number(text: str) -> str:
    digits = text.replace(",", "").replace("，", "")
    if "." in digits:
        digits = digits.rstrip("0").rstrip(".")
    return digits.lstrip("0") or "0"


def message_arguments(message: str) -> tuple[str, ...]:
    """The numbers a message states, normalised (the arguments a fingerprint keeps)."""
    return tuple(_normalised_number(m) for m in _NUMBER_RE.findall(_FILE_NAME_RE.sub("", message)))


@dataclass(frozen=True)
class CellLocation:
    """Where a value stands in its source: the one typed shape of a ``locations`` entry.

    Text: ``line`` (1-based); DOCX and HTML: ``table``, ``row``, ``col`` (0-based, merged cells
    expanded); PDF: ``page`` and ``bbox`` (x0, top, x1, bottom). ``to_dict`` gives the record's JSON
    form (report-json.md) back exactly; keys a reader adds beyond these are kept in ``extra``.
    """

    line: int | None = None
    table: int | None = None
    row: int | None = None
    col: int | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    _KEYS = ("line", "table", "row", "col", "page", "bbox")

    @classmethod
    def from_dict(cls, data: Location | None) -> CellLocation:
        data = data or {}
        bbox = data.get("bbox")
        return cls(
            line=data.get("line"),
            table=data.get("table"),
            row=data.get("row"),
            col=data.get("col"),
            page=data.get("page"),
            bbox=tuple(bbox) if bbox is not None else None,
            extra=tuple((k, v) for k, v in data.items() if k not in cls._KEYS),
        )

    def to_dict(self) -> Location:
        out: Location = {}
        for key in self._KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if key == "bbox" else value
        out.update(self.extra)
        return out

    def __bool__(self) -> bool:
        return any(getattr(self, k) is not None for k in self._KEYS) or bool(self.extra)


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

    @property
    def fingerprint(self) -> str:
        """A finding's identity across re-checks and re-imports: the rule, its cells and the numbers
        its message states (normalised), hashed. Not its location (the same report in another format
        has the same findings) nor its wording; review decisions are kept by it."""
        parts = [self.rule, ",".join(sorted(self.cells)), ",".join(message_arguments(self.message))]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]

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
    sha256: str = ""  # the file's sha256: the record's key
    pages: int | None = None
    extractor: str = ""  # the extractor version that read it (``nianbao.extract.VERSION``)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "format": self.format, "sha256": self.sha256, "pages": self.pages}
        if self.extractor:
            out["extractor"] = self.extractor
        return out


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
            source=Source(
                src.get("path", ""),
                src.get("format", ""),
                src.get("sha256", ""),
                src.get("pages"),
                src.get("extractor", ""),
            ),
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

    @property
    def key(self) -> str:
        """The record's key: its file's sha256 (the path when the file could not be opened)."""
        return self.source.sha256 or f"path:{self.source.path}"

    def cells(self) -> Iterator[tuple[str, Number, CellLocation]]:
        """Every cell of the three tables as (path, value, location), tables then rows in record order."""
        for table in TABLES:
            rows: TableValues | None = getattr(self, table)
            for row, columns in (rows or {}).items():
                for col, value in columns.items():
                    path = f"{table}/{row}/{col}"
                    yield path, value, CellLocation.from_dict(self.locations.get(path))

    def flat(self) -> dict[str, Number]:
        """The cells as one flat {path: value} map (what metrics and exports read)."""
        out: dict[str, Number] = {}
        for table in TABLES:
            rows: TableValues | None = getattr(self, table)
            for row, columns in (rows or {}).items():
                for col, value in columns.items():
                    out[f"{table}/{row}/{col}"] = value
        return out

    def value(self, path: str) -> Number:
        """The value at a cell path (``table3/new/total``), or None when absent."""
        table, row, col = path.split("/")
        rows = getattr(self, table)
        if not rows or row not in rows:
            return None
        value: Number = rows[row].get(col)
        return value
