"""The national tables as printed: grids of cells with their merges, built from ``formats``.

Every writer (DOCX, HTML, text) draws these grids; none of them spells a label.
"""

from __future__ import annotations

from dataclasses import dataclass

from nianbao import formats
from nianbao.extract.split import format_number
from nianbao.record import Number, Report


@dataclass(frozen=True)
class GridCell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    value: bool = False


GridRow = tuple[GridCell, ...]
Grid = tuple[GridRow, ...]


def report_title(report: Report) -> str:
    """The title a rendered report prints: the record's agency and year."""
    return f"{report.agency or ''}{report.year or ''}年政府信息公开工作年度报告"


def show(value: Number) -> str:
    return "" if value is None else format_number(value)


def _values(row: dict[str, Number] | None, keys: list[str]) -> list[GridCell]:
    row = row or {}
    return [GridCell(show(row.get(k)), value=True) for k in keys]


# --- 表二 --------------------------------------------------------------------------------


def table2_grid(report: Report) -> Grid:
    template = report.template or "2021"
    layout = formats.TABLE2_ROWS[template]
    width = 1 + max(len(r.columns) for r in layout)
    values = report.table2 or {}
    rows: list[GridRow] = []
    item = ""
    for spec in layout:
        if spec.item != item:
            item = spec.item
            rows.append((GridCell(formats.TABLE2_ITEM_HEADING.format(item=item), colspan=width, header=True),))
            rows.append(_table2_header(spec, width))
        rows.append((GridCell(spec.label), *_spread_values(values.get(spec.key), spec, width)))
    return tuple(rows)


def _table2_header(spec: formats.Table2Row, width: int) -> GridRow:
    cells = [GridCell("信息内容", header=True)]
    for i, col in enumerate(spec.columns):
        span = width - len(spec.columns) if i == len(spec.columns) - 1 else 1
        cells.append(GridCell(col.label, colspan=span, header=True))
    return tuple(cells)


def _spread_values(row: dict[str, Number] | None, spec: formats.Table2Row, width: int) -> list[GridCell]:
    cells = _values(row, [c.key for c in spec.columns])
    last = cells[-1]
    cells[-1] = GridCell(last.text, colspan=width - len(spec.columns), value=True)
    return cells


# --- 表三 --------------------------------------------------------------------------------

_T3_COLS = [c.key for c in formats.TABLE3_COLUMNS]


def table3_grid(report: Report) -> Grid:
    values = report.table3 or {}
    single = "other_handling" in values or (
        report.template == "2019" and not any(k in values for k in formats.TABLE3_SPLIT_OTHER)
    )
    order = formats.TABLE3_ORDER_SINGLE if single else formats.TABLE3_ORDER_SPLIT
    rows: list[GridRow] = list(_table3_header())
    results = order[order.index("granted") : order.index("total") + 1]
    groups = _group_sizes(results)
    seen_groups: set[str] = set()
    for key in order:
        spec = formats.TABLE3_ROW_BY_KEY[key]
        cells: list[GridCell] = []
        if key in ("new", "carried_in", "carried_forward"):
            cells.append(GridCell(spec.label, colspan=3))
        else:
            if key == "granted":
                cells.append(GridCell(formats.TABLE3_ROWS[2].group, rowspan=len(results)))
            if spec.number is not None:
                if spec.group not in seen_groups:
                    seen_groups.add(spec.group)
                    cells.append(GridCell(spec.group, rowspan=groups[spec.group]))
                cells.append(GridCell(spec.label))
            else:
                cells.append(GridCell(spec.label, colspan=2))
        rows.append((*cells, *_values(values.get(key), _T3_COLS)))
    return tuple(rows)


def _group_sizes(keys: tuple[str, ...]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for key in keys:
        spec = formats.TABLE3_ROW_BY_KEY[key]
        if spec.number is not None:
            sizes[spec.group] = sizes.get(spec.group, 0) + 1
    return sizes


def _table3_header() -> list[GridRow]:
    cols = formats.TABLE3_COLUMNS
    return [
        (
            GridCell(formats.TABLE3_HEADER_NOTE, rowspan=3, colspan=3, header=True),
            GridCell("申请人情况", colspan=7, header=True),
        ),
        (
            GridCell(cols[0].label, rowspan=2, header=True),
            GridCell("法人或其他组织", colspan=5, header=True),
            GridCell(cols[-1].label, rowspan=2, header=True),
        ),
        tuple(GridCell(c.label, header=True) for c in cols[1:-1]),
    ]


# --- 表四 --------------------------------------------------------------------------------


def table4_grid(report: Report) -> Grid:
    values = report.table4 or {}
    outcomes = formats.TABLE4_OUTCOMES
    review, direct, after = formats.TABLE4_GROUPS
    litigation_groups = (direct.label.split("·")[1], after.label.split("·")[1])
    return (
        (GridCell(review.label, colspan=5, header=True), GridCell("行政诉讼", colspan=10, header=True)),
        (
            *(GridCell(o.label, rowspan=2, header=True) for o in outcomes),
            *(GridCell(g, colspan=5, header=True) for g in litigation_groups),
        ),
        tuple(GridCell(o.label, header=True) for _ in range(2) for o in outcomes),
        tuple(
            GridCell(show((values.get(g.key) or {}).get(o.key)), value=True)
            for g in formats.TABLE4_GROUPS
            for o in outcomes
        ),
    )


def word_rows(grid: Grid) -> list[list[str]]:
    """Rows as Word's text export writes them: a merged cell once, and one empty cell where a
    cell merged down from a row above stands (the seeds show both)."""
    width = max(sum(cell.colspan for cell in row) for row in grid)
    from_above: dict[tuple[int, int], int] = {}  # leftmost covered position -> its width
    out: list[list[str]] = []
    for r, row in enumerate(grid):
        texts: list[str] = []
        cells = iter(row)
        c = 0
        while c < width:
            if (r, c) in from_above:
                texts.append("")
                c += from_above[(r, c)]
                continue
            cell = next(cells, None)
            if cell is None:
                break
            texts.append(cell.text)
            for dr in range(1, cell.rowspan):
                from_above[(r + dr, c)] = cell.colspan
            c += cell.colspan
        out.append(texts)
    return out


def expand(grid: Grid) -> list[list[GridCell | None]]:
    """The grid with merges laid out: each covered position holds None, the origin its cell."""
    out: list[list[GridCell | None]] = []
    taken: set[tuple[int, int]] = set()
    width = max(sum(c.colspan for c in row) for row in grid)
    for r, row in enumerate(grid):
        line: list[GridCell | None] = [None] * width
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            line[c] = cell
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
        out.append(line)
    return out
