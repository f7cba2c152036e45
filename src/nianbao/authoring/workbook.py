"""The fill-in workbook: the three national tables as printed, totals as formulas, inputs validated.

A hidden sheet maps every value cell to its record path, so a filled workbook reads back into a
record exactly, whatever the sheet layout. Formula cells are read from Excel's cached results,
and where no program has calculated them (a workbook written by a script) from the formulas this
module wrote, which only ever add cells up.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from nianbao import formats
from nianbao.record import Report, SectionText, Source
from nianbao.render.layout import Grid, expand, table2_grid, table3_grid, table4_grid

MAP_SHEET = "_nianbao"
INFO_SHEET = "封面"
SIGNED_LABEL = "落款日期"  # printed under the agency's name at the end of the report (2025年1月20日)
TABLE_SHEETS = ("表二 主动公开", "表三 申请办理", "表四 复议诉讼")
_THIN = Side(style="thin", color="333333")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INPUT = PatternFill("solid", fgColor="FFF8DC")
_FORMULA = PatternFill("solid", fgColor="E8E8E8")


def blank_report(agency: str, year: int) -> Report:
    """A record with every cell of the year's format present and empty."""
    template = "2019" if year < formats.FIRST_2021_YEAR else "2021"
    order = formats.TABLE3_ORDER_SINGLE if template == "2019" else formats.TABLE3_ORDER_SPLIT
    cols = [c.key for c in formats.TABLE3_COLUMNS]
    return Report(
        source=Source("template", "xlsx"),
        agency=agency,
        year=year,
        template=template,
        table2={s.key: {c.key: None for c in s.columns} for s in formats.TABLE2_ROWS[template]},
        table3={k: dict.fromkeys(cols, None) for k in order},
        table4={g.key: {o.key: None for o in formats.TABLE4_OUTCOMES} for g in formats.TABLE4_GROUPS},
    )


@dataclass(frozen=True)
class _Placed:
    path: str
    sheet: str
    coordinate: str
    formula: str = ""


def _value_paths(report: Report, table: str) -> list[str]:
    """Record paths in the order the grid prints value cells."""
    if table == "table2":
        specs = formats.TABLE2_ROWS[report.template or "2021"]
        return [f"table2/{s.key}/{c.key}" for s in specs for c in s.columns]
    if table == "table3":
        return [f"table3/{k}/{c.key}" for k in (report.table3 or {}) for c in formats.TABLE3_COLUMNS]
    return [f"table4/{g}/{o}" for g, o in formats.TABLE4_CELLS]


def _draw(ws: Worksheet, grid: Grid, paths: list[str]) -> dict[str, str]:
    """Write a grid with its merges; return record path -> cell coordinate of each value cell."""
    coordinates: dict[str, str] = {}
    remaining = iter(paths)
    for r, row in enumerate(expand(grid), start=1):
        for c, cell in enumerate(row, start=1):
            target = ws.cell(row=r, column=c)
            target.border = _BORDER
            if cell is None:
                continue
            if cell.rowspan > 1 or cell.colspan > 1:
                ws.merge_cells(
                    start_row=r, start_column=c, end_row=r + cell.rowspan - 1, end_column=c + cell.colspan - 1
                )
            target.alignment = Alignment(
                wrap_text=True, vertical="center", horizontal="center" if cell.value else "left"
            )
            if cell.value:
                coordinates[next(remaining)] = target.coordinate
                target.fill = _INPUT
            else:
                target.value = cell.text
                target.font = Font(bold=cell.header)
    return coordinates


def _formulas(report: Report, table: str, at: dict[str, str]) -> dict[str, str]:
    """Totals as formulas: 表三's 总计 column and （七）总计 row, 表四's 总计 cells."""
    out: dict[str, str] = {}
    if table == "table4":
        for group in formats.TABLE4_GROUPS:
            parts = [at[f"table4/{group.key}/{o}"] for o in ("upheld", "corrected", "other", "pending")]
            out[f"table4/{group.key}/total"] = f"=SUM({parts[0]}:{parts[-1]})"
        return out
    rows = list(report.table3 or {})
    for key in rows:
        parts = [at[f"table3/{key}/{c}"] for c in formats.TABLE3_APPLICANT_COLUMNS]
        out[f"table3/{key}/total"] = f"=SUM({parts[0]}:{parts[-1]})"
    results = formats.table3_result_keys(rows)
    for col in formats.TABLE3_APPLICANT_COLUMNS:
        out[f"table3/total/{col}"] = "=" + "+".join(at[f"table3/{k}/{col}"] for k in results)
    out["table3/total/total"] = f"=SUM({at['table3/total/natural']}:{at['table3/total/other_org']})"
    return out


def _validate(ws: Worksheet, report: Report, at: dict[str, str], formulas: dict[str, str]) -> None:
    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    whole.error, whole.errorTitle = "请填写 0 或正整数（件数）", "数值无效"
    signed = DataValidation(type="whole", allow_blank=True, operator="between", formula1="-1000000", formula2="1000000")
    signed.error = "请填写整数（本年增/减可以为负数）"
    money = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    money.error = "请填写不小于 0 的金额"
    money_paths = {
        f"table2/{s.key}/{c}" for s in formats.TABLE2_ROWS[report.template or "2021"] for c in s.money_columns
    }
    for validation in (whole, signed, money):
        ws.add_data_validation(validation)
    for path, coordinate in at.items():
        if path in formulas:
            continue
        kind = money if path in money_paths else signed if formats.is_signed(path) else whole
        kind.add(coordinate)


def write_template(report: Report, path: Path) -> Path:
    """A workbook to fill in (or a filled one, when ``report`` has values)."""
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = INFO_SHEET
    info.append(["机关名称", report.agency or ""])
    info.append(["报告年度", report.year])
    info.append(["格式版本", "2021 年修订格式" if report.template == "2021" else "2019 年试行格式"])
    info.append([SIGNED_LABEL, report.meta.get("signed", "")])
    info.append(
        [
            "说明",
            "黄色单元格填写数字（没有发生的填 0）；灰色单元格为合计，自动计算。各部分文字填在对应工作表。"
            "落款日期印在报告末尾机关名称之下（如 2025年1月20日），不填时为生成报告的日期。",
        ]
    )
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 12, 80
    placed: list[_Placed] = []
    for sheet, table, grid in zip(
        TABLE_SHEETS,
        ("table2", "table3", "table4"),
        (table2_grid(report), table3_grid(report), table4_grid(report)),
        strict=True,
    ):
        ws = wb.create_sheet(sheet)
        at = _draw(ws, grid, _value_paths(report, table))
        formulas = _formulas(report, table, at) if table != "table2" else {}
        _fill(ws, report, at, formulas)
        _validate(ws, report, at, formulas)
        placed += [_Placed(p, sheet, c, formulas.get(p, "")) for p, c in at.items()]
        for col in range(1, ws.max_column + 1):
            ws.column_dimensions[get_column_letter(col)].width = 14 if col > 3 else 22
    texts = {s.number: s.text for s in report.sections}
    for section in formats.SECTIONS:
        ws = wb.create_sheet(section_sheet(section.number))
        ws["A1"] = f"{formats.CHINESE_SECTION_NUMERALS[section.number - 1]}、{section.title}"
        ws["A1"].font = Font(bold=True)
        ws["A2"] = texts.get(section.number, "")
        ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions["A"].width = 100
        ws.row_dimensions[2].height = 300
    mapping = wb.create_sheet(MAP_SHEET)
    mapping.sheet_state = "hidden"
    mapping.append(["path", "sheet", "cell"])
    for p in placed:
        mapping.append([p.path, p.sheet, p.coordinate])
    wb.save(path)
    return path


def _fill(ws: Worksheet, report: Report, at: dict[str, str], formulas: dict[str, str]) -> None:
    for path, coordinate in at.items():
        cell = ws[coordinate]
        if path in formulas:
            cell.value = formulas[path]
            cell.fill = _FORMULA
        else:
            cell.value = report.value(path)


def section_sheet(number: int) -> str:
    return f"{formats.CHINESE_SECTION_NUMERALS[number - 1]}、{formats.SECTIONS[number - 1].title}"[:31]


# --- reading a filled workbook ------------------------------------------------------------------

_SUM_RE = re.compile(r"^=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)$")
_ADD_RE = re.compile(r"^=([A-Z]+\d+(?:\+[A-Z]+\d+)*)$")


def _number(value: object) -> int | float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value) if isinstance(value, float) and value.is_integer() and not isinstance(value, bool) else value
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in text else number


def read_workbook(path: Path) -> Report:
    formulas_wb = load_workbook(path)
    values_wb = load_workbook(path, data_only=True)
    info = {str(row[0].value): row[1].value for row in formulas_wb[INFO_SHEET].iter_rows(min_row=1, max_col=2)}
    year = int(str(info["报告年度"]))
    report = blank_report(str(info.get("机关名称") or ""), year)
    data = report.to_dict()
    if info.get(SIGNED_LABEL):
        data["meta"] = {"signed": signed_text(info[SIGNED_LABEL])}
    for cell_path, sheet, coordinate in formulas_wb[MAP_SHEET].iter_rows(min_row=2, values_only=True):
        table, row, col = str(cell_path).split("/")
        data[table][row][col] = cell_value(formulas_wb[str(sheet)], values_wb[str(sheet)], str(coordinate))
    sections = []
    for section in formats.SECTIONS:
        text = formulas_wb[section_sheet(section.number)]["A2"].value
        sections.append(SectionText(section.number, section.title, str(text or "")))
    data["source"] = {"path": str(path), "format": "xlsx"}
    return Report.from_dict({**data, "sections": [s.to_dict() for s in sections]})


def signed_text(value: object) -> str:
    """The 落款日期 as written (2025年1月20日), or from a date Excel keeps as a date."""
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value).strip()


def cell_value(formulas: Worksheet, values: Worksheet, coordinate: str) -> int | float | None:
    raw = formulas[coordinate].value
    if not (isinstance(raw, str) and raw.startswith("=")):
        return _number(raw)
    cached = values[coordinate].value
    if cached is not None:
        return _number(cached)
    return _evaluate(formulas, values, raw)


def _evaluate(formulas: Worksheet, values: Worksheet, formula: str) -> int | float | None:
    """The sums this module writes, when no spreadsheet program has calculated them."""
    m = _SUM_RE.match(formula)
    if m:
        cells = [c for row in formulas[f"{m.group(1)}{m.group(2)}:{m.group(3)}{m.group(4)}"] for c in row]
        parts = [cell_value(formulas, values, c.coordinate) for c in cells]
    elif _ADD_RE.match(formula):
        parts = [cell_value(formulas, values, ref) for ref in formula[1:].split("+")]
    else:
        return None
    return sum(p for p in parts if p is not None)
