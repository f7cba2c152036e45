"""What a rule is: a code, a name, a severity, the parts it reads, and a documented check.

A rule's docstring is its documentation: the first line is the message summary, and it carries
a ``错误示例：`` and a ``正确示例：`` line (``docs/rules.md`` is generated from them, and a test
fails when a rule lacks them).

A rule also declares what it may emit: its own code at its severity (and the other severities it
names), the other codes it names (a reading notice such as RD31), and its message templates. The
runner refuses a finding outside the declaration (:func:`admitted`): it becomes an RD19 record
saying which rule broke its declaration, never a crash and never a finding no reference explains.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import cast

from nianbao import formats
from nianbao.errors import READING_CODES, CatalogError, Template, reading
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
    also_severities: tuple[str, ...] = ()  # severities its own code may take besides ``severity``
    also_codes: tuple[str, ...] = ()  # reading codes it may emit besides its own (RD31)
    messages: tuple[Template, ...] = ()  # its findings' message templates (Chinese, named fields)

    @property
    def group(self) -> str:
        return self.code[:2]

    @property
    def severities(self) -> tuple[str, ...]:
        return (self.severity, *self.also_severities)

    @property
    def codes(self) -> tuple[str, ...]:
        return (self.code, *self.also_codes)

    def follows_template(self, message: str) -> bool:
        return any(t.matches(message) for t in self.messages)

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
    *,
    messages: tuple[str, ...],
    also_severities: tuple[str, ...] = (),
    also_codes: tuple[str, ...] = (),
) -> Callable[[Callable[..., Iterable[object]]], Callable[..., Iterable[object]]]:
    """Declare a rule; the decorated function yields its findings, each one of ``messages``
    (templates with named fields) filled in, at ``severity`` or one of ``also_severities``."""

    def register(func: Callable[..., Iterable[object]]) -> Callable[..., Iterable[object]]:
        if code in REGISTRY:
            raise ValueError(f"rule {code} declared twice")
        if not set(group_by) <= set(GROUPINGS):
            raise ValueError(f"rule {code}: unknown grouping {group_by}")
        if not messages or not set(also_codes) <= set(READING_CODES):
            raise ValueError(f"rule {code}: no message template, or an uncatalogued code in {also_codes}")
        templates = tuple(Template(str(i), text) for i, text in enumerate(messages, 1))
        checked = _declared_only(code, scope, func)
        REGISTRY[code] = Rule(
            code, name, severity, applies_to, scope, checked, group_by, also_severities, also_codes, templates
        )
        return func

    return register


def _declared_only(code: str, scope: str, func: Callable[..., Iterable[object]]) -> Callable[..., Iterable[object]]:
    """``func`` as the registry runs it: each finding passed through :func:`admitted`, so every
    caller (the runner, a store's check, a batch) gets only what the rule declares."""

    @functools.wraps(func)
    def run(given: object) -> Iterator[object]:
        declared = REGISTRY[code]
        try:
            for item in func(given):
                if scope == "collection":
                    report, finding = cast(tuple[Report, Finding], item)
                    yield report, admitted(declared, finding)
                else:
                    yield admitted(declared, item) if isinstance(item, Finding) else item
        except CatalogError:  # a message its template does not fit: the rule stops here
            failed = reading(BROKEN_RULE_CODE, "rule", rule=code, why="信息与声明的模板不符")
            if scope != "collection":
                yield failed
            elif isinstance(given, list) and given:
                yield cast(Context, given[-1]).report, failed

    return run


# The reading code of a finding the framework refused (a rule outside its declaration).
BROKEN_RULE_CODE = "RD19"


def breach(declared: Rule, finding: Finding) -> str:
    """How ``finding`` breaks what ``declared`` says it emits (in Chinese), or "" when it does not."""
    if finding.rule not in declared.codes:
        return f"给出了未声明的代码 {finding.rule}"
    allowed = declared.severities if finding.rule == declared.code else READING_CODES[finding.rule].severities
    if finding.severity not in allowed:
        return f"代码 {finding.rule} 给出了未声明的级别 {finding.severity}"
    return ""


def admitted(declared: Rule, finding: Finding) -> Finding:
    """The finding, or in its place an RD19 record when the rule emitted what it did not declare:
    a programming error is reported for the maintainers, never passed to a user as a finding."""
    why = breach(declared, finding)
    if not why:
        return finding
    return reading(BROKEN_RULE_CODE, "rule", rule=declared.code, why=why, location=finding.location)


# A reading finding that names cells at one of these severities says the cells were not read with
# certainty (RD06 a row not found, RD07 run-together digits not split, an OCR digit in doubt...);
# notices (RD11, RD12) name cells whose reading was decided.
_DOUBTING = ("warning", "error")
# The reading code for characters that could not be read: its cells are the nulls no VA02 calls blank.
_UNREADABLE_CODE = "RD13"
# Where a reading finding names a section or a table it could not read (``detail``).
SECTION_KEY, TABLE_KEY = "section", "table"


@dataclass(frozen=True)
class Doubt:
    """Something a finding would rest on that was not read with certainty, and why."""

    subject: str  # a cell path, ``section/5`` or ``table4``
    code: str  # the reading finding that says so (RD07, RD29…)


class Context:
    """A report as the rules read it: values with blanks as 0, abstained cells as unknown.

    The context also holds what was not read with certainty (abstained or unreadable cells, a
    section or a table seen but not understood): an error may not rest on it (:meth:`vouch`).
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        self.doubts = _doubts(report)
        self.unknown = {s for s in self.doubts if s.count("/") == 2}
        self.code = ""  # the rule being run, set by the runner
        self.severity = ""
        # Unknown cells each error-level rule asked for: checks it could not make (RD28).
        self.unchecked: dict[str, set[str]] = {}
        # Declared aggregate reports (name, member patterns) for XY05, from the project file.
        self.aggregates: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def row(self, table: str, key: str) -> dict[str, Number] | None:
        rows = getattr(self.report, table)
        return rows.get(key) if rows else None

    def num(self, path: str) -> int | float | None:
        """The value at ``path``: a printed blank counts as 0; None when the row is missing or the
        reader abstained from the cell (the rule then does not judge it)."""
        if path in self.unknown:
            if self.severity == "error":
                self.unchecked.setdefault(self.code, set()).add(path)
            return None
        table, key, col = path.split("/")
        row = self.row(table, key)
        if row is None or col not in row:
            return None
        value = row[col]
        return 0 if value is None else value

    def doubted(self, subjects: Iterable[str]) -> list[Doubt]:
        """The doubts among ``subjects`` (cell paths, ``section/N``, ``tableN``)."""
        return [self.doubts[s] for s in subjects if s in self.doubts]

    def vouch(self, finding: Finding) -> Finding | None:
        """An error stands only on what was read with certainty; else a reading notice (RD28)
        says which check could not be made and why. Other findings pass as they are."""
        if finding.severity != "error":
            return finding
        doubts = self.doubted((*finding.cells, *grounds_of(finding)))
        if not doubts:
            return finding
        cells = [d.subject for d in doubts if d.subject.count("/") == 2]
        if not cells:
            return None  # a section or table seen but not read: its own reading notice says so
        return unchecked_notice([finding.rule], cells, doubts, finding.location)

    def printed(self, path: str) -> str:
        """A value as a message should show it: “空白” for a cell printed blank (counted as 0)."""
        return "空白" if path not in self.unknown and self._printed_blank(path) else fmt(self.num(path) or 0)

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

    def finding(
        self,
        message: str,
        cells: Iterable[str] = (),
        location: dict[str, object] | None = None,
        detail: dict[str, object] | None = None,
    ) -> Finding:
        cells = tuple(cells)
        if location is None:
            location = next((self.report.locations[c] for c in cells if c in self.report.locations), {})
        return Finding(self.code, self.severity, message, cells, dict(location), dict(detail or {}))

    def say(
        self,
        template: int,
        cells: Iterable[str] = (),
        location: dict[str, object] | None = None,
        detail: dict[str, object] | None = None,
        severity: str = "",
        **fields: object,
    ) -> Finding:
        """A finding of the running rule: its declared message ``template`` (1 for the first)
        filled with ``fields`` (the catalogue refuses a field the template does not name), at the
        rule's severity or ``severity`` (one it declares besides)."""
        message = REGISTRY[self.code].messages[template - 1].fill(fields)
        found = self.finding(message, cells, location, detail)
        return dataclasses.replace(found, severity=severity) if severity else found

    def sections(self) -> dict[int, str]:
        return {s.number: s.text for s in self.report.sections}

    def text(self) -> str:
        return "\n".join(s.text for s in self.report.sections)


def grounds_of(finding: Finding) -> tuple[str, ...]:
    """What a finding rests on beside its cells: the section or table its ``detail`` names."""
    out: list[str] = []
    section, table = finding.detail.get(SECTION_KEY), finding.detail.get(TABLE_KEY)
    if isinstance(section, int) and 1 <= section <= len(formats.SECTIONS):
        out.append(f"section/{section}")
    if table in ("table2", "table3", "table4"):
        out.append(str(table))
    return tuple(out)


def _doubts(report: Report) -> dict[str, Doubt]:
    out: dict[str, Doubt] = {}
    for f in report.findings:
        if not f.rule.startswith("RD"):
            continue
        cells = f.cells if f.severity in _DOUBTING else ()
        for subject in (*cells, *grounds_of(f)):
            out.setdefault(subject, Doubt(subject, f.rule))
    if any(f.rule == _UNREADABLE_CODE for f in report.findings):
        for path in _unreadable_cells(report):
            out.setdefault(path, Doubt(path, _UNREADABLE_CODE))
    return out


def _unreadable_cells(report: Report) -> list[str]:
    """Null cells no VA02 calls printed blank: in a report with unreadable characters (RD13) they
    are numbers we could not read, not blanks, so no sum may count them as 0."""
    blank = {c for f in report.findings if f.rule == "VA02" for c in f.cells}
    out: list[str] = []
    for table in ("table2", "table3", "table4"):
        for key, row in (getattr(report, table) or {}).items():
            out.extend(f"{table}/{key}/{col}" for col, value in row.items() if value is None)
    return [p for p in out if p not in blank]


UNCHECKED_CODE = "RD28"


def unchecked_notice(
    rules: Iterable[str], subjects: Iterable[str], doubts: Iterable[Doubt], location: dict[str, object] | None = None
) -> Finding:
    """RD28: the checks of ``rules`` that rest on ``subjects`` were not made, and why."""
    subjects = sorted(set(subjects))
    names = "、".join(subject_name(s) for s in subjects[:4]) + (f"等 {len(subjects)} 处" if len(subjects) > 4 else "")
    codes = "、".join(sorted({d.code for d in doubts}))
    checks = "、".join(sorted(set(rules)))
    cells = [s for s in subjects if s.count("/") == 2]
    return reading(UNCHECKED_CODE, subjects=names, codes=codes, rules=checks, cells=cells, location=location)


def unchecked_summary(ctx: Context) -> list[Finding]:
    """One RD28 for the error-level checks that asked for cells not read with certainty."""
    if not ctx.unchecked:
        return []
    cells = {c for asked in ctx.unchecked.values() for c in asked}
    return [unchecked_notice(ctx.unchecked, cells, ctx.doubted(cells))]


def subject_name(subject: str) -> str:
    """A cell, section or table as a reader of the report names it."""
    if subject.startswith("section/"):
        return f"第{formats.CHINESE_SECTION_NUMERALS[int(subject[8:]) - 1]}部分"
    if subject.count("/") == 2:
        return cell_name(subject)
    return {"table2": "表二", "table3": "表三", "table4": "表四"}.get(subject, subject)


def cell_name(path: str) -> str:
    """A cell as printed: 表三“予以公开”行“自然人”列, 表二“行政事业性收费”“本年收费金额（单位：万元）”."""
    table, key, col = path.split("/")
    if table == "table3":
        return f"表三“{t3_row_label(key)}”行“{column_label(col)}”列"
    if table == "table4":
        group = next(g.label for g in formats.TABLE4_GROUPS if g.key == key)
        outcome = next(o.label for o in formats.TABLE4_OUTCOMES if o.key == col)
        return f"表四“{group}”“{outcome}”"
    for layout in formats.TABLE2_ROWS.values():
        for row in layout:
            for column in row.columns:
                if row.key == key and column.key == col:
                    return f"表二“{row.label}”“{column.label}”"
    return f"表二 {key}/{col}"


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
