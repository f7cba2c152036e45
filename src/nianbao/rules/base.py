"""What a rule is: a code, a name, a severity, the parts it reads, and a documented check.

A rule's docstring is its documentation: the first line is the message summary, and it carries
a ``错误示例：`` and a ``正确示例：`` line (``docs/rules.md`` is generated from them, and a test
fails when a rule lacks them).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nianbao import formats
from nianbao.record import Finding, Number, Report

ReportCheck = Callable[["Context"], Iterable[Finding]]
CollectionCheck = Callable[[list["Context"]], Iterable[tuple[Report, Finding]]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    applies_to: tuple[str, ...]
    scope: str  # "report" or "collection"
    func: Callable[..., Iterable[object]]
    # A collection rule's groups: it is run on each group of these kinds alone (see GROUPINGS),
    # so a store hands it just those reports; empty means the whole collection at once.
    group_by: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return self.code[:2]

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    def example(self, kind: str) -> str:
        """The ``错误示例`` (kind="wrong") or ``正确示例`` (kind="right") line of the docstring."""
        marker = "错误示例：" if kind == "wrong" else "正确示例："
        for line in self.doc.splitlines():
            if line.strip().startswith(marker):
                return line.strip()[len(marker) :]
        return ""


REGISTRY: dict[str, Rule] = {}
# What a collection rule may group by: one agency's reports over the years; every report of one
# year; a declared aggregate report with its members of the same year; each report alone.
GROUPINGS = ("agency", "year", "aggregate", "report")


def rule(
    code: str,
    name: str,
    severity: str,
    applies_to: tuple[str, ...],
    scope: str = "report",
    group_by: tuple[str, ...] = (),
) -> Callable[[Callable[..., Iterable[object]]], Callable[..., Iterable[object]]]:
    """Declare a rule; the decorated function yields its findings."""

    def register(func: Callable[..., Iterable[object]]) -> Callable[..., Iterable[object]]:
        if code in REGISTRY:
            raise ValueError(f"rule {code} declared twice")
        if not set(group_by) <= set(GROUPINGS):
            raise ValueError(f"rule {code}: unknown grouping {group_by}")
        REGISTRY[code] = Rule(code, name, severity, applies_to, scope, func, group_by)
        return func

    return register


class Context:
    """A report as the rules read it: values with blanks as 0, abstained cells as unknown."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.unknown = {c for f in report.findings if f.rule in ("RD07", "RD06") for c in f.cells}
        self.code = ""  # the rule being run, set by the runner
        self.severity = ""
        # Declared aggregate reports (name, member patterns) for XY05, from the project file.
        self.aggregates: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def row(self, table: str, key: str) -> dict[str, Number] | None:
        rows = getattr(self.report, table)
        return rows.get(key) if rows else None

    def num(self, path: str) -> int | float | None:
        """The value at ``path``: a printed blank counts as 0; None when the row is missing or the
        reader abstained from the cell (the rule then does not judge it)."""
        if path in self.unknown:
            return None
        table, key, col = path.split("/")
        row = self.row(table, key)
        if row is None or col not in row:
            return None
        value = row[col]
        return 0 if value is None else value

    def blanks_among(self, paths: Iterable[str]) -> str:
        """A note for messages when some of ``paths`` were printed blank and counted as 0."""
        blank = [p for p in paths if p not in self.unknown and self._printed_blank(p)]
        return "（其中空白单元格按 0 计算）" if blank else ""

    def _printed_blank(self, path: str) -> bool:
        table, key, col = path.split("/")
        row = self.row(table, key)
        return row is not None and col in row and row[col] is None

    def nums(self, paths: Iterable[str]) -> list[int | float] | None:
        values = [self.num(p) for p in paths]
        return None if any(v is None for v in values) else values  # type: ignore[return-value]

    def t3_keys(self) -> list[str]:
        return list(self.report.table3 or {})

    def finding(self, message: str, cells: Iterable[str] = (), location: dict[str, object] | None = None) -> Finding:
        cells = tuple(cells)
        if location is None:
            location = next((self.report.locations[c] for c in cells if c in self.report.locations), {})
        return Finding(self.code, self.severity, message, cells, dict(location))

    def sections(self) -> dict[int, str]:
        return {s.number: s.text for s in self.report.sections}

    def text(self) -> str:
        return "\n".join(s.text for s in self.report.sections)


_GOVERNMENT_RE = re.compile(
    r"(人民政府|政府办公室|政府办公厅|管理委员会|管委会)$|^[^局委办厅所站中心]{2,12}(省|市|县|区|州|旗|盟)$"
)


def is_government(agency: str | None) -> bool:
    """A people's government (or its office reporting for it, or a region named alone)."""
    return bool(agency and _GOVERNMENT_RE.search(agency))


def column_label(column: str) -> str:
    return next(c.label for c in formats.TABLE3_COLUMNS if c.key == column)


def t3_row_label(key: str) -> str:
    return formats.TABLE3_ROW_BY_KEY[key].label


def fmt(value: Number) -> str:
    from nianbao.extract.split import format_number

    return "空" if value is None else format_number(value)
