"""Run-together digits the table cannot split, split by figures the report's own text states.

Table 二 of the 2021 format has no sum relating 本年制发 / 本年废止 / 现行有效, so a crawler's
``8855698`` admits many splits. Reports often state these figures in their text
(``现行有效行政规范性文件698件``, ``制发的规范性文件88件``): the splits that agree with every such
figure are kept. A figure no split agrees with is the text contradicting the table (NA01 reports
it) and is not used. The finding always says which sentences decided, so a reviewer can check.
"""

from __future__ import annotations

from collections.abc import Sequence

from nianbao.errors import reading
from nianbao.extract import split
from nianbao.extract.tables import (
    Ambiguous,
    Candidate,
    TableResult,
    ambiguity_finding,
    printed_row,
    resolve,
    split_basis,
)
from nianbao.facts import Fact, facts_in
from nianbao.record import SectionText


def narrow_by_narrative(result: TableResult, sections: Sequence[SectionText], year: int | None) -> None:
    if not result.ambiguous:
        return
    stated = _stated_cells(sections, year)
    for row in list(result.ambiguous):
        figures = [(row.paths.index(path), fact) for path, fact in stated.items() if path in row.paths]
        fitting = [c for c in row.candidates if all(c[i] == fact.value for i, fact in figures)]
        if figures and fitting and len(fitting) < len(row.candidates):
            _apply(result, row, fitting, [fact for _, fact in figures])


def _stated_cells(sections: Sequence[SectionText], year: int | None) -> dict[str, Fact]:
    """Cells the text gives one figure for; a cell given two different figures is left out."""
    found: dict[str, Fact] = {}
    conflicting: set[str] = set()
    for section in sections:
        for fact in facts_in(section.text, section.number, year):
            if len(fact.readings) != 1 or len(fact.readings[0]) != 1:
                continue  # a sum of cells, or several readings: says nothing about one cell
            path = fact.readings[0][0]
            if found.setdefault(path, fact).value != fact.value:
                conflicting.add(path)
    return {path: fact for path, fact in found.items() if path not in conflicting}


def _apply(result: TableResult, row: Ambiguous, fitting: list[Candidate], facts: list[Fact]) -> None:
    assert result.values is not None
    values, abstained = resolve(fitting, len(row.columns))
    cells = result.values[row.row]
    for column, value in zip(row.columns, values):
        if value is not None:
            cells[column] = value
    stated = [fact.quote for fact in facts]
    if abstained:
        open_cells = [p for p, v in zip(row.paths, values) if v is None]
        finding = ambiguity_finding("表二", row.title, row.printed, row.location, open_cells, fitting, stated)
    else:
        shown = " / ".join(split.format_number(v) for v in fitting[0] if v is not None)
        detail = {"printed": row.printed, "candidates": [list(fitting[0])], "stated": stated}
        finding = reading(
            "RD12",
            row=printed_row("表二", row.title, row.printed),
            basis=split_basis("表二", stated),
            values=shown,
            cells=row.paths,
            location=row.location,
            detail=detail,
        )
    at = next(i for i, f in enumerate(result.findings) if f is row.finding)
    result.findings[at] = finding
    result.ambiguous.remove(row)
