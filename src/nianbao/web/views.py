"""What the report page shows, as data: the three tables in the national layout with each value
cell's record path, the six sections, and the findings with the cells they point at.

The grids come from ``render.layout`` (which builds them from ``formats``); nothing here spells a
label. A value cell's path is found by drawing the same grid once more from a probe record whose
every cell holds a number of its own, so the path of each printed position is read off the grid
the layout draws, not re-derived from the layout's order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from nianbao import formats
from nianbao.extract.split import format_number
from nianbao.record import Finding, Report, TableValues
from nianbao.render.layout import Grid, table2_grid, table3_grid, table4_grid

TABLE_TITLES = {
    "table2": "表二 " + formats.SECTIONS[1].title,
    "table3": "表三 " + formats.SECTIONS[2].title,
    "table4": "表四 " + formats.SECTIONS[3].title,
}
_PROBE_BASE = 7_000_001  # probe numbers: large, distinct, never a printed figure's formatting question


@dataclass(frozen=True)
class ViewCell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    path: str = ""  # the record path of a value cell; "" for labels and headings

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.rowspan > 1:
            out["rowspan"] = self.rowspan
        if self.colspan > 1:
            out["colspan"] = self.colspan
        if self.header:
            out["header"] = True
        if self.path:
            out["path"] = self.path
        return out


@dataclass(frozen=True)
class ViewTable:
    key: str  # table2 / table3 / table4
    title: str
    present: bool
    rows: tuple[tuple[ViewCell, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "present": self.present,
            "rows": [[c.to_dict() for c in row] for row in self.rows],
        }


@dataclass(frozen=True)
class ViewSection:
    number: int
    numeral: str
    title: str
    found: bool
    text: str
    heading: str
    table: str  # the table printed in this section ("table2"…), or ""


def _probe_values(paths: list[str]) -> tuple[TableValues, dict[str, str]]:
    values: TableValues = {}
    by_text: dict[str, str] = {}
    for i, path in enumerate(paths):
        _, row, col = path.split("/")
        number = _PROBE_BASE + i
        values.setdefault(row, {})[col] = number
        by_text[format_number(number)] = path
    return values, by_text


def _table3_probe_rows(report: Report) -> list[str]:
    """Every row the layout may print, except the two ways of printing （六）: those are taken
    from the record itself, so the layout picks the same one for the probe as for the record."""
    undecided = {"other_handling", *formats.TABLE3_SPLIT_OTHER}
    rows = [r.key for r in formats.TABLE3_ROWS if r.key not in undecided]
    rows += [k for k in (report.table3 or {}) if k in undecided]
    return rows


def _paths(report: Report, table: str) -> list[str]:
    if table == "table2":
        specs = formats.TABLE2_ROWS[report.template or "2021"]
        return [formats.cell_path("table2", s.key, c.key) for s in specs for c in s.columns]
    if table == "table3":
        return [
            formats.cell_path("table3", k, c.key) for k in _table3_probe_rows(report) for c in formats.TABLE3_COLUMNS
        ]
    return [formats.cell_path("table4", g, o) for g, o in formats.TABLE4_CELLS]


_GRIDS = {"table2": table2_grid, "table3": table3_grid, "table4": table4_grid}


def view_table(report: Report, table: str) -> ViewTable:
    """One table as the national form prints it, with the record's values and their paths."""
    draw = _GRIDS[table]
    probe_values, by_text = _probe_values(_paths(report, table))
    if table == "table2":
        probe = replace(report, table2=probe_values)
    elif table == "table3":
        probe = replace(report, table3=probe_values)
    else:
        probe = replace(report, table4=probe_values)
    shown: Grid = draw(report)
    probed: Grid = draw(probe)
    rows = []
    for real_row, probe_row in zip(shown, probed, strict=True):
        cells = []
        for cell, twin in zip(real_row, probe_row, strict=True):
            path = by_text.get(twin.text, "") if twin.value else ""
            cells.append(ViewCell(cell.text, cell.rowspan, cell.colspan, cell.header, path))
        rows.append(tuple(cells))
    return ViewTable(table, TABLE_TITLES[table], getattr(report, table) is not None, tuple(rows))


def view_sections(report: Report) -> list[ViewSection]:
    texts = {s.number: s for s in report.sections}
    tables = {2: "table2", 3: "table3", 4: "table4"}
    out = []
    for spec in formats.SECTIONS:
        got = texts.get(spec.number)
        out.append(
            ViewSection(
                spec.number,
                formats.CHINESE_SECTION_NUMERALS[spec.number - 1],
                spec.title,
                got is not None,
                got.text if got else "",
                got.heading if got else "",
                tables.get(spec.number, ""),
            )
        )
    return out


def finding_location(report: Report, finding: Finding) -> dict[str, Any]:
    """The place in the original a finding points at: its own location, else its first cell's."""
    if finding.location:
        return dict(finding.location)
    for path in finding.cells:
        if path in report.locations:
            return dict(report.locations[path])
    return {}
