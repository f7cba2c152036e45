"""Excel reader: the fill-in workbook (``nianbao template``) as a report, every value at its cell.

The workbook is read as its rendered report would be: the title from the 封面 sheet, each section's
heading and text from its sheet, each table sheet as a table (merged cells keep one origin), so
that the one extractor reads it and the rules find what they find in the rendered report. A cell's
location is its sheet and cell (``{"sheet": "表三 申请办理", "cell": "D12"}``).

Where the workbook is nianbao's own (its hidden sheet maps each value cell to its record path),
the cells still to be filled are named: RD25 for each sheet with empty value cells, RD26 when
none is filled at all, RD27 for a section without text. Another workbook is read sheet by sheet
as tables.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from nianbao import formats
from nianbao.errors import read_error, reading
from nianbao.extract.split import format_number
from nianbao.model import Block, Cell, Document, Paragraph, Table
from nianbao.record import Finding

WORKBOOK_MEMBER = b"xl/workbook.xml"


def read_xlsx(path: Path, data: bytes) -> Document:
    from openpyxl import load_workbook

    from nianbao.authoring import workbook as wb_format

    try:
        formulas = load_workbook(io.BytesIO(data))
        values = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise read_error("RD01", "xlsx") from exc
    if wb_format.MAP_SHEET not in formulas.sheetnames or wb_format.INFO_SHEET not in formulas.sheetnames:
        sheets = [_table(formulas[name], values[name], index) for index, name in enumerate(formulas.sheetnames)]
        return Document(tuple(sheets), "xlsx")
    info_sheet = formulas[wb_format.INFO_SHEET]
    info = {str(row[0].value): row[1] for row in info_sheet.iter_rows(min_row=1, max_col=2)}
    agency = str(info["机关名称"].value or "").strip() if "机关名称" in info else ""
    year = str(info["报告年度"].value or "").strip() if "报告年度" in info else ""
    title = f"{agency}{year}年政府信息公开工作年度报告"
    where = {"sheet": wb_format.INFO_SHEET, "cell": info["机关名称"].coordinate if "机关名称" in info else "B1"}
    blocks: list[Block] = [Paragraph(title, where)]
    table_sheets = dict(zip((2, 3, 4), wb_format.TABLE_SHEETS, strict=True))
    tables = 0
    empty_sections: list[Finding] = []
    for section in formats.SECTIONS:
        name = wb_format.section_sheet(section.number)
        if name in formulas.sheetnames:
            sheet = formulas[name]
            blocks.append(Paragraph(str(sheet["A1"].value or "").strip(), {"sheet": name, "cell": "A1"}))
            text = str(sheet["A2"].value or "").strip()
            blocks.extend(
                Paragraph(line.strip(), {"sheet": name, "cell": "A2"}) for line in text.split("\n") if line.strip()
            )
            if not text:
                empty_sections.append(reading("RD27", sheet=name, location={"sheet": name, "cell": "A2"}))
        table_sheet = table_sheets.get(section.number)
        if table_sheet in formulas.sheetnames:
            blocks.append(_table(formulas[table_sheet], values[table_sheet], tables))
            tables += 1
    signed = info.get(wb_format.SIGNED_LABEL)
    if signed is not None and signed.value:
        # The 落款, as the rendered report prints it after the last section.
        date = wb_format.signed_text(signed.value)
        located = {"sheet": wb_format.INFO_SHEET, "cell": signed.coordinate}
        blocks += [Paragraph(agency, located), Paragraph(date, located)]
    findings = (*_empty_cells(formulas), *empty_sections)
    return Document(tuple(b for b in blocks if not isinstance(b, Paragraph) or b.text), "xlsx", findings=findings)


def _text(formulas: Any, values: Any, coordinate: str) -> str:
    from nianbao.authoring.workbook import cell_value

    raw = formulas[coordinate].value
    if (isinstance(raw, int | float) and not isinstance(raw, bool)) or (isinstance(raw, str) and raw.startswith("=")):
        number = cell_value(formulas, values, coordinate)
        return "" if number is None else format_number(number)
    return "" if raw is None else str(raw).strip()


def _table(formulas: Any, values: Any, index: int) -> Table:
    """A sheet as a table: each merged range one origin, its text in every position it covers."""
    covering: dict[tuple[int, int], tuple[int, int]] = {}
    for merged in formulas.merged_cells.ranges:
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                covering[(r, c)] = (merged.min_row, merged.min_col)
    width = formulas.max_column
    origins: dict[tuple[int, int], int] = {}
    rows: list[tuple[Cell, ...]] = []
    for r in range(1, formulas.max_row + 1):
        row: list[Cell] = []
        for c in range(1, width + 1):
            top = covering.get((r, c), (r, c))
            origin = origins.setdefault(top, len(origins))
            coordinate = formulas.cell(row=top[0], column=top[1]).coordinate
            row.append(Cell(_text(formulas, values, coordinate), {"sheet": formulas.title, "cell": coordinate}, origin))
        rows.append(tuple(row))
    return Table(tuple(rows), index)


def _empty_cells(formulas: Any) -> list[Finding]:
    """RD25 per sheet naming the value cells still empty; RD26 when no value cell is filled."""
    from nianbao.authoring.workbook import MAP_SHEET

    empty: dict[str, list[tuple[str, str]]] = {}
    inputs = 0
    for path, sheet, coordinate in formulas[MAP_SHEET].iter_rows(min_row=2, values_only=True):
        if sheet not in formulas.sheetnames:
            continue
        raw = formulas[str(sheet)][str(coordinate)].value
        if isinstance(raw, str) and raw.startswith("="):
            continue  # a total the workbook calculates
        inputs += 1
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            empty.setdefault(str(sheet), []).append((str(path), str(coordinate)))
    findings: list[Finding] = []
    if inputs and sum(len(cells) for cells in empty.values()) == inputs:
        first = next(iter(empty))
        findings.append(reading("RD26", count=inputs, location={"sheet": first, "cell": empty[first][0][1]}))
    for sheet, cells in empty.items():
        shown = "、".join(c for _, c in cells[:40]) + ("等" if len(cells) > 40 else "")
        where = {"sheet": sheet, "cell": cells[0][1]}
        paths = [p for p, _ in cells]
        findings.append(reading("RD25", sheet=sheet, count=len(cells), listed=shown, cells=paths, location=where))
    return findings
