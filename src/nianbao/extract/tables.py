"""Map a region's logical rows onto tables 二, 三 and 四 of the national formats."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nianbao import formats
from nianbao.errors import extractor_notice, reading
from nianbao.extract import split
from nianbao.extract.rows import VALUE_KINDS, LogicalRow, logical_rows
from nianbao.extract.stream import BLANK, DIGITS, TEXT, VALUE, Token
from nianbao.model import Location
from nianbao.numbers import UNREADABLE, parse_value
from nianbao.record import Finding

Number = int | float | None
Candidate = tuple[Number, ...]
MAX_COMBINATIONS = 50_000


@dataclass(frozen=True)
class Ambiguous:
    """A row whose run-together digits the table cannot split: what a later stage (the
    narrative's own figures) needs to choose among the splits."""

    row: str  # the row's key in the table's values
    title: str  # the row's label in the format, for messages
    columns: tuple[str, ...]
    paths: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    printed: str
    location: Location
    finding: Finding  # the RD07 finding the row produced


@dataclass
class TableResult:
    values: dict[str, dict[str, Number]] | None = None
    locations: dict[str, Location] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # "table3/partial" -> the label as printed
    findings: list[Finding] = field(default_factory=list)
    template: str | None = None
    ambiguous: list[Ambiguous] = field(default_factory=list)


# --- reading one row's numbers ------------------------------------------------------------


def _runs(tokens: Sequence[Token]) -> list[str]:
    """Each token as a digit run to split; a blank, or a value that could not be read (U+FFFD),
    is the empty run (one null)."""
    return ["" if t.kind == BLANK or UNREADABLE in t.text else t.text for t in tokens]


def _printed(token: Token) -> Number:
    if token.kind == VALUE:  # the common case, read when the cell was tokenised
        return token.number
    if token.kind == BLANK:
        return None
    value = parse_value(token.text)
    return value.number if value else None


def row_candidates(
    tokens: Sequence[Token],
    count: int,
    allow_decimal: Callable[[int], bool] = lambda i: False,
    accept_prefix: Callable[[Candidate], bool] = lambda v: True,
    forced: Callable[[Candidate], int | None] = lambda v: None,
    allow_negative: Callable[[int], bool] = lambda i: False,
) -> list[Candidate]:
    """The readings of a row's tokens as ``count`` numbers.

    Exactly ``count`` tokens are read as printed, whatever their arithmetic. Fewer tokens hold
    run-together digits: every split is a candidate that the row's arithmetic (``accept_prefix``)
    may rule out.
    """
    if len(tokens) == count:
        return [tuple([_printed(t) for t in tokens])]
    tokens = list(tokens)
    # Extra blanks are cells of merged labels or an empty trailing column, not values.
    while len(tokens) > count and tokens[-1].kind == BLANK:
        tokens.pop()
    while len(tokens) > count and tokens[0].kind == BLANK:
        tokens.pop(0)
    if len(tokens) == count:
        return [tuple(_printed(t) for t in tokens)]
    if len(tokens) > count or not tokens:
        return []
    try:
        return list(split.splits(_runs(tokens), count, allow_decimal, accept_prefix, forced, allow_negative))
    except split.TooManySplits:
        return []


Score = tuple[int, float]


def relaxed_candidates(tokens: Sequence[Token], count: int, score: Callable[[Candidate], Score]) -> list[Candidate]:
    """For a row whose own arithmetic fails (the report is wrong somewhere): the splits that keep
    the most of the table's relations and, among those, miss the broken ones by the least (a
    wrong cut of run-together digits misses by tens or more, a printing slip by little). The
    caller reads them only when there is exactly one."""
    if len(tokens) >= count:
        return []
    try:
        found = list(split.splits(_runs(tokens), count))
    except split.TooManySplits:
        return []
    if not found:
        return []
    scores = [score(c) for c in found]
    best = max(scores)
    return [c for c, sc in zip(found, scores) if sc == best]


def _relaxed_notice(table: str, title: str, row: LogicalRow, cells: Sequence[str]) -> Finding:
    printed = _printed_digits(row)
    return reading("RD11", row=printed_row(table, title, printed), cells=cells, location=row.location)


def resolve(candidates: Sequence[Candidate], size: int) -> tuple[list[Number], bool]:
    """Values all candidates agree on (None elsewhere) and whether any value was abstained from."""
    if not candidates:
        return [None] * size, True
    if len(candidates) == 1:
        return list(candidates[0]), False
    agreed = split.consistent_cells(candidates)
    return agreed, len(candidates) > 1


# --- findings ----------------------------------------------------------------------------


def _ambiguity(table: str, title: str, row: LogicalRow, cells: list[str], candidates: Sequence[Candidate]) -> Finding:
    return ambiguity_finding(table, title, _printed_digits(row), row.location, cells, candidates)


def _printed_digits(row: LogicalRow) -> str:
    """The row's numbers as printed: a space between two cells, none inside one (``2648-18538``)."""
    return "".join((t.text if t.glued or not i else f" {t.text}") for i, t in enumerate(row.values))


def printed_row(table: str, title: str, printed: str) -> str:
    """How a row with fewer numbers than cells is described: digits run together, or (several
    cells printed) some cells run together or lost."""
    if " " in printed:
        return f"{table}“{title}”行印有的数字（“{printed}”）少于本行的单元格，有数字连在一起或有单元格缺失"
    return f"{table}“{title}”行的数字连在一起（“{printed}”）"


def split_basis(table: str, stated: Sequence[str] = ()) -> str:
    """What a split of run-together digits rests on: the table's sums, or for table 二 (which has
    none) the figures its text states, quoted."""
    if table != "表二":
        return "按表内勾稽关系和合计关系"
    quotes = "".join(f"“{quote}”" for quote in stated)
    return "表二没有可用于拆分的合计关系" + (f"；按正文{quotes}" if stated else "")


def ambiguity_finding(
    table: str,
    title: str,
    printed: str,
    location: Location,
    cells: Sequence[str],
    candidates: Sequence[Candidate],
    stated: Sequence[str] = (),
) -> Finding:
    """RD07: the cells a row's run-together digits leave undecided, with the splits still possible."""
    detail: dict[str, object] = {"printed": printed, "candidates": [list(c) for c in candidates[:50]]}
    if stated:
        detail["stated"] = list(stated)
    if not candidates:
        return reading(
            "RD07", "none", table=table, title=title, printed=printed, cells=cells, location=location, detail=detail
        )
    return reading(
        "RD07",
        "splits",
        row=printed_row(table, title, printed),
        basis=split_basis(table, stated),
        count=len(candidates),
        options="；".join(split.describe(list(candidates))),
        cells=cells,
        location=location,
        detail=detail,
    )


def merged_blank_notices(findings: list[Finding]) -> list[Finding]:
    """One VA02 notice per table, naming every blank cell, in place of one per row: a column left
    blank in every row (法人或其他组织 printed empty) is one cause, and 25 identical lines hid it."""
    blanks = [f for f in findings if f.rule == "VA02"]
    if len(blanks) < 2:
        return findings
    cells = [c for f in blanks for c in f.cells]
    table = formats.TABLE_NAMES[cells[0].split("/", 1)[0]]
    merged = _blank_notice(table, cells, blanks[0].location, _blank_columns(cells))
    at = findings.index(blanks[0])
    rest = [f for f in findings if f.rule != "VA02"]
    return [*rest[:at], merged, *rest[at:]]


def _blank_columns(cells: list[str]) -> str:
    """“：“商业企业”“科研机构”列各行均空白” for the columns blank in every row that has a blank."""
    rows = {c.rsplit("/", 1)[0] for c in cells}
    by_column: dict[str, int] = {}
    for c in cells:
        by_column[c.rsplit("/", 1)[1]] = by_column.get(c.rsplit("/", 1)[1], 0) + 1
    whole = [col for col, n in by_column.items() if n == len(rows) and len(rows) > 1]
    if not whole or not cells[0].startswith("table3/"):
        return ""
    labels = {c.key: c.label for c in formats.TABLE3_COLUMNS}
    return "：" + "".join(f"“{labels.get(col, col)}”" for col in whole) + f"列在这 {len(rows)} 行均空白"


def _blank_notice(table: str, cells: list[str], location: Location, where: str = "") -> Finding:
    return extractor_notice("VA02", cells=cells, location=location, table=table, count=len(cells), columns=where)


# --- table 四 ----------------------------------------------------------------------------


def _sum_of_last(values: Candidate, parts: int, group: int) -> int | None:
    """The total that must follow when ``values`` end just before a group's total column."""
    if len(values) % group != parts or any(isinstance(v, float) for v in values[-parts:]):
        return None
    return sum(int(v or 0) for v in values[-parts:])


def _table4_total(values: Candidate) -> int | None:
    return _sum_of_last(values, 4, 5)


def _table3_total(values: Candidate) -> int | None:
    return _sum_of_last(values, 6, 7) if len(values) == 6 else None


def _table4_score(values: Candidate) -> Score:
    misses = [abs((values[g + 4] or 0) - sum(v or 0 for v in values[g : g + 4])) for g in range(0, 15, 5)]
    return sum(1 for m in misses if m == 0), -sum(misses)


def _table4_prefix_ok(values: Candidate) -> bool:
    n = len(values)
    if n % 5 or n == 0:
        return True
    group = [v or 0 for v in values[n - 5 : n]]
    return group[4] == sum(group[:4])


def extract_table4(rows: list[list[Token]]) -> TableResult:
    tokens = _table4_tokens(rows)
    result = TableResult()
    if not tokens:
        result.findings.append(reading("RD05", "values", table="表四（行政复议、行政诉讼情况）"))
        return result
    candidates = row_candidates(tokens, 15, accept_prefix=_table4_prefix_ok, forced=_table4_total)
    paths = [formats.cell_path("table4", g, o) for g, o in formats.TABLE4_CELLS]
    if not candidates:
        candidates = relaxed_candidates(tokens, 15, _table4_score)
        if len(candidates) == 1:
            result.findings.append(
                _relaxed_notice(
                    "表四", "行政复议、行政诉讼", LogicalRow("", "", tokens, location=tokens[0].location), paths
                )
            )
    values, abstained = resolve(candidates, 15)
    result.values = {g.key: {} for g in formats.TABLE4_GROUPS}
    for (g, o), _path, v in zip(formats.TABLE4_CELLS, paths, values):
        result.values[g][o] = v
    result.locations = _locate(paths, tokens, len(candidates) == 1 and len(tokens) == 15)
    pseudo = LogicalRow("", "", tokens, location=tokens[0].location)
    if abstained:
        cells = [p for p, v in zip(paths, values) if v is None]
        result.findings.append(_ambiguity("表四", "行政复议、行政诉讼", pseudo, cells, candidates))
    _note_blanks(result, "表四", tokens, paths, len(tokens) == 15)
    return result


def _table4_tokens(rows: list[list[Token]]) -> list[Token]:
    """Value tokens from the first row of values after the table's column headings on, until they
    can hold the 15 numbers. Numbers before any heading (a sentence's, an older statistics
    table's under a section title that names 行政复议) are not the table's."""
    tokens: list[Token] = []
    headed = False
    for row in rows:
        if not headed:
            at = next((i for i, t in enumerate(row) if t.kind == TEXT and _names_outcomes(t.text)), None)
            if at is None:
                continue
            headed, row = True, row[at + 1 :]
        values = [t for t in row if t.kind in VALUE_KINDS]
        if all(t.kind == BLANK for t in values) and len(values) < len(row):
            values = []  # blanks of merged header cells
        if not values:
            if tokens and any(t.kind == TEXT and len(t.text) > 12 and not _is_table4_heading(t.text) for t in row):
                break  # narrative after the table
            continue
        tokens.extend(values)
        if sum(len(t.text) if t.kind == DIGITS else 1 for t in tokens) >= 15:
            break
    return tokens


def _names_outcomes(text: str) -> bool:
    return any(mark in text for mark in formats.TABLE4_OUTCOME_MARKS)


def _is_table4_heading(text: str) -> bool:
    """A heading of table 四 printed over its own part (``行政诉讼（未经复议直接起诉）``), as some
    conversions print the table in three pieces: not narrative after the table."""
    for word in formats.TABLE4_HEADER_WORDS:
        text = text.replace(word, "")
    return not text.strip("()（）·、 ")


def _locate(paths: Sequence[str], tokens: list[Token], one_per_token: bool) -> dict[str, Location]:
    # Locations are shared with the document model, never copied: nothing mutates them.
    if one_per_token:
        return {p: t.location for p, t in zip(paths, tokens)}
    return {p: tokens[0].location for p in paths} if len(tokens) == 1 else _spread(paths, tokens)


def _spread(paths: Sequence[str], tokens: list[Token]) -> dict[str, Location]:
    """Split tokens: every value takes the location of the run it came from (approximately by order)."""
    out: dict[str, Location] = {}
    per = max(1, len(paths) // max(1, len(tokens)))
    for i, p in enumerate(paths):
        out[p] = tokens[min(i // per, len(tokens) - 1)].location
    return out


def _note_blanks(result: TableResult, table: str, tokens: list[Token], paths: Sequence[str], aligned: bool) -> None:
    if not aligned:
        return
    blank_cells = [p for p, t in zip(paths, tokens) if t.kind == BLANK]
    if blank_cells:
        result.findings.append(_blank_notice(table, blank_cells, tokens[0].location))


# --- table 二 ----------------------------------------------------------------------------


def table2_template(rows: list[list[Token]], year: int | None) -> str:
    text = "".join(t.text for row in rows for t in row if t.kind != "label")
    scores = {tpl: sum(word in text for word in words) for tpl, words in formats.TABLE2_HEADER_WORDS.items()}
    if scores["2019"] != scores["2021"]:
        return max(scores, key=lambda k: scores[k])
    if any(t.key == "t2:other_services" or t.key == "t2:procurement" for row in rows for t in row):
        return "2019"
    return "2019" if year is not None and year < formats.FIRST_2021_YEAR else "2021"


def extract_table2(rows: list[list[Token]], year: int | None) -> TableResult:
    template = table2_template(rows, year)
    layout = {r.key: r for r in formats.TABLE2_ROWS[template]}
    expected = {f"t2:{k}": len(r.columns) for k, r in layout.items()}
    result = TableResult(values={}, template=template)
    assert result.values is not None
    found = [lr for lr in logical_rows(rows, "t2:", expected, 3) if lr.key and lr.values]
    for lr in found:
        key = lr.key[3:]
        if key not in layout or key in result.values:
            continue
        _read_table2_row(result, layout[key], lr)
    for key, spec in layout.items():
        if key not in result.values:
            cells = [formats.cell_path("table2", key, c.key) for c in spec.columns]
            result.findings.append(reading("RD06", "table2", row=spec.label, cells=cells))
    return result


@dataclass(frozen=True)
class _Table2Shape:
    columns: tuple[str, ...]
    paths: tuple[str, ...]
    allow_decimal: Callable[[int], bool]  # money columns
    allow_negative: Callable[[int], bool]  # 本年增/减


@functools.lru_cache(maxsize=64)
def _table2_shape(spec: formats.Table2Row) -> _Table2Shape:
    cols = tuple(c.key for c in spec.columns)
    money = frozenset(i for i, c in enumerate(cols) if c in spec.money_columns)
    signed = frozenset(i for i, c in enumerate(spec.columns) if c.signed)
    paths = tuple(formats.cell_path("table2", spec.key, c) for c in cols)
    return _Table2Shape(cols, paths, money.__contains__, signed.__contains__)


def _read_table2_row(result: TableResult, spec: formats.Table2Row, lr: LogicalRow) -> None:
    assert result.values is not None
    shape = _table2_shape(spec)
    cols, paths = shape.columns, shape.paths
    tokens = _strip_units(lr.values)
    candidates = row_candidates(
        tokens, len(cols), allow_decimal=shape.allow_decimal, allow_negative=shape.allow_negative
    )
    values, abstained = resolve(candidates, len(cols))
    result.values[spec.key] = dict(zip(cols, values))
    result.labels[f"table2/{spec.key}"] = lr.label
    result.locations.update(_locate(paths, tokens, len(tokens) == len(cols)))
    printed = _printed_digits(lr)
    if abstained:
        cells = [p for p, v in zip(paths, values) if v is None]
        finding = ambiguity_finding("表二", spec.label, printed, lr.location, cells, candidates)
        result.findings.append(finding)
        if len(candidates) > 1:
            result.ambiguous.append(
                Ambiguous(spec.key, spec.label, cols, paths, tuple(candidates), printed, lr.location, finding)
            )
    _note_blanks(result, "表二", tokens, paths, len(tokens) == len(cols))
    _note_unit(result, spec, printed, lr.location, paths)


def _strip_units(tokens: list[Token]) -> list[Token]:
    """Digits of a run-together money cell lose their printed unit (kept by _note_unit)."""
    return [t._replace(text=t.text.rstrip("元万")) if t.text.endswith(("元", "万")) else t for t in tokens]


def _note_unit(
    result: TableResult, spec: formats.Table2Row, printed: str, location: Location, paths: Sequence[str]
) -> None:
    if spec.key == "procurement" and printed.endswith("元") and not printed.endswith("万元"):
        result.findings.append(extractor_notice("VA03", cells=paths[-1:], location=location, printed=printed))


# --- table 三 ----------------------------------------------------------------------------


def _table3_row_ok(values: Candidate) -> bool:
    if len(values) < 7:
        return True
    nums = [v or 0 for v in values]
    return nums[6] == sum(nums[:6])


def choose_layout(rows: list[LogicalRow], year: int | None) -> tuple[str, ...]:
    keys = {r.key[3:] for r in rows if r.key}
    if keys & set(formats.TABLE3_SPLIT_OTHER):
        return formats.TABLE3_ORDER_SPLIT
    if "other_handling" in keys:
        return formats.TABLE3_ORDER_SINGLE
    count = sum(1 for r in rows if r.values)
    if count == len(formats.TABLE3_ORDER_SINGLE):
        return formats.TABLE3_ORDER_SINGLE
    if count == len(formats.TABLE3_ORDER_SPLIT):
        return formats.TABLE3_ORDER_SPLIT
    return (
        formats.TABLE3_ORDER_SINGLE
        if year is not None and year < formats.FIRST_2021_YEAR
        else formats.TABLE3_ORDER_SPLIT
    )


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest chain of (position, order index) pairs with strictly increasing order index."""
    if not pairs:
        return []
    if all(a[1] < b[1] for a, b in itertools.pairwise(pairs)):
        return pairs  # the usual case: every labelled row in the format's order
    best: list[list[tuple[int, int]]] = []
    for i, pair in enumerate(pairs):
        chain = max((best[j] for j in range(i) if pairs[j][1] < pair[1]), key=len, default=[])
        best.append([*chain, pair])
    return max(best, key=len)


@dataclass
class Alignment:
    rows: dict[str, LogicalRow] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unplaced: list[LogicalRow] = field(default_factory=list)


@functools.lru_cache(maxsize=8)
def _order_index(order: tuple[str, ...]) -> dict[str, int]:
    return {k: i for i, k in enumerate(order)}


def align(rows: list[LogicalRow], order: Sequence[str]) -> Alignment:
    """Place rows on the format's row order: labelled rows anchor, unlabelled rows fill the gaps.

    A gap is filled only when the number of unlabelled rows in it equals the number of rows the
    format has there; otherwise its rows stay unplaced and its keys missing.
    """
    index = _order_index(tuple(order))
    labelled = [(pos, index[r.key[3:]]) for pos, r in enumerate(rows) if r.key[3:] in index]
    anchors = _longest_increasing(labelled)
    out = Alignment()
    if len(anchors) == len(rows) == len(order):
        out.rows = {order[k]: rows[p] for p, k in anchors}  # every row labelled, in order
        return out
    bounds = [(-1, -1), *anchors, (len(rows), len(order))]
    for (p0, k0), (p1, k1) in itertools.pairwise(bounds):
        if p1 < len(rows):
            out.rows[order[k1]] = rows[p1]
        gap_rows = rows[p0 + 1 : p1]
        gap_keys = list(order[k0 + 1 : k1])
        if len(gap_rows) == len(gap_keys) and not any(r.key for r in gap_rows):
            out.rows.update(zip(gap_keys, gap_rows))
        else:
            out.missing.extend(gap_keys)
            out.unplaced.extend(gap_rows)
    return out


def _fits(row: LogicalRow, count: int) -> bool:
    low, high = row.capacity()
    return low <= count <= high or (low > count and all(t.kind == BLANK for t in row.values[count:]))


def _table3_body(rows: list[LogicalRow]) -> list[LogicalRow]:
    """Rows that carry values, from 一、本年新收 on.

    Header cells (其他, 总计) are not rows, nor is the rest of a row broken over a page: its label
    continues on the next page beside empty cells.
    """
    starts = [i for i, r in enumerate(rows) if r.key == "t3:new" and r.values]
    rows = rows[starts[0] :] if starts else rows
    kept: list[LogicalRow] = []
    for row in rows:
        if not row.values:
            continue
        if _all_blank(row):
            previous = kept[-1] if kept else None
            if row.key and previous is not None and not previous.key and not _all_blank(previous):
                # The label's end, continued on the next page, names the row whose values stayed behind.
                previous.key, previous.label = row.key, row.label
            if len(row.values) < 7 or not row.key or (previous is not None and previous.key == row.key):
                continue
        kept.append(row)
    return kept


def _all_blank(row: LogicalRow) -> bool:
    return all(t.kind == BLANK for t in row.values)


def extract_table3(rows: list[list[Token]], year: int | None) -> TableResult:
    result = TableResult()
    found = _table3_body(logical_rows(rows, "t3:", {}, 7))
    stray = [lr for lr in found if not lr.key and not _fits(lr, 7)]
    found = [lr for lr in found if lr not in stray]
    if not found:
        result.findings.append(reading("RD05", "values", table="表三（收到和处理政府信息公开申请情况）"))
        return result
    order = choose_layout(found, year)
    placed = align(found, order)
    for lr in stray + placed.unplaced:
        printed = " ".join(t.text for t in lr.values)
        result.findings.append(reading("RD08", printed=printed, location=lr.location))
    for key in placed.missing:
        label = formats.TABLE3_ROW_BY_KEY[key].label
        cells = tuple(formats.cell_path("table3", key, c.key) for c in formats.TABLE3_COLUMNS)
        result.findings.append(reading("RD06", "table3", row=label, cells=cells))
    _read_table3_values(result, placed, order)
    return result


_TABLE3_COLUMN_KEYS = tuple(c.key for c in formats.TABLE3_COLUMNS)
_TABLE3_PATHS = {
    row.key: tuple(formats.cell_path("table3", row.key, c.key) for c in formats.TABLE3_COLUMNS)
    for row in formats.TABLE3_ROWS
}


def _read_table3_values(result: TableResult, placed: Alignment, order: Sequence[str]) -> None:
    candidates = {
        key: row_candidates(lr.values, 7, accept_prefix=_table3_row_ok, forced=_table3_total)
        for key, lr in placed.rows.items()
    }
    keys = [k for k in order if k in placed.rows]
    relaxed = _relax_table3(candidates, placed, keys)
    chosen = _solve_table3(candidates, keys)
    result.values = {}
    for key in keys:
        lr = placed.rows[key]
        values, abstained = resolve(chosen[key], 7)
        paths = _TABLE3_PATHS[key]
        result.values[key] = dict(zip(_TABLE3_COLUMN_KEYS, values))
        if lr.label:
            result.labels[f"table3/{key}"] = lr.label
        tokens = lr.values[:7] if len(lr.values) >= 7 else lr.values
        result.locations.update(_locate(paths, tokens, len(tokens) == 7))
        if key in relaxed:
            result.findings.append(_relaxed_notice("表三", formats.TABLE3_ROW_BY_KEY[key].label, lr, paths))
        if abstained:
            label = formats.TABLE3_ROW_BY_KEY[key].label
            cells = [p for p, v in zip(paths, values) if v is None]
            result.findings.append(_ambiguity("表三", label, lr, cells, chosen[key]))
        _note_blanks(result, "表三", tokens, paths, len(tokens) == 7)


def _relax_table3(candidates: dict[str, list[Candidate]], placed: Alignment, keys: list[str]) -> set[str]:
    """Rows no split of which adds up (a printed error): read them by the other rows' arithmetic
    when exactly one split fits best. Updates ``candidates``; returns the rows so read."""
    fixed = {k: c[0] for k, c in candidates.items() if len(c) == 1}
    relaxed: set[str] = set()
    for key in [k for k in keys if not candidates[k]]:

        def score(values: Candidate, key: str = key) -> Score:
            table = {**fixed, key: values}
            results = formats.table3_result_keys(keys)
            kept = sum(_column_consistent(table, results, c) for c in range(7)) * 2 + _table3_row_ok(values)
            nums = [v or 0 for v in values]
            return kept, -abs(nums[6] - sum(nums[:6]))

        found = relaxed_candidates(placed.rows[key].values, 7, score)
        if found:
            candidates[key] = found
            relaxed.add(key) if len(found) == 1 else None
    return relaxed


def _solve_table3(candidates: dict[str, list[Candidate]], keys: list[str]) -> dict[str, list[Candidate]]:
    """Narrow rows with several readings by the table's 勾稽关系 and column sums.

    Combinations are kept only when every column's arithmetic holds; when none holds (the report
    itself is wrong somewhere) the rows keep all their readings and the caller abstains.
    """
    ambiguous = [k for k in keys if len(candidates[k]) > 1]
    if not ambiguous:
        return candidates
    total = 1
    for k in ambiguous:
        total *= len(candidates[k])
    if total > MAX_COMBINATIONS:
        return candidates
    fixed = {k: c[0] for k, c in candidates.items() if len(c) == 1}
    survivors: dict[str, set[Candidate]] = {k: set() for k in ambiguous}
    any_ok = False
    for combo in itertools.product(*(candidates[k] for k in ambiguous)):
        table = {**fixed, **dict(zip(ambiguous, combo))}
        if _table3_consistent(table, keys):
            any_ok = True
            for k, c in zip(ambiguous, combo):
                survivors[k].add(c)
    if not any_ok:
        return candidates
    return {**candidates, **{k: sorted(v, key=candidates[k].index) for k, v in survivors.items()}}


def _table3_consistent(table: dict[str, Candidate], keys: list[str]) -> bool:
    results = formats.table3_result_keys(keys)
    return all(_column_consistent(table, results, c) for c in range(7))


def _column_consistent(table: dict[str, Candidate], results: list[str], column: int) -> bool:
    """AR01 and AR02 for one column, checked only where every value involved is present."""

    def at(key: str) -> Number:
        row = table.get(key)
        return row[column] if row is not None and column < len(row) else None

    chain = [at("new"), at("carried_in"), at("total"), at("carried_forward")]
    if all(v is not None for v in chain) and chain[0] + chain[1] != chain[2] + chain[3]:  # type: ignore[operator]
        return False
    parts = [at(k) for k in results]
    total = at("total")
    return total is None or any(v is None for v in parts) or total == sum(v for v in parts if v is not None)
