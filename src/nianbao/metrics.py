"""The metric catalogue, as data, and its evaluation over flat {cell path: value} maps.

A metric is a sum of cells (a count) or a sum of cells over a sum of cells (a ratio), written per
format where the 2019 and 2021 layouts differ. ``evaluate`` works on any flat map: a report's
values (:func:`flat_values`), a database row, a Parquet row. It never turns an unread cell into 0:
an input that was abstained from (``unknown``) or is absent makes the metric null with a Chinese
reason; a zero denominator does too. A cell printed blank counts as 0, as the rules count it, and
the metric says so.

``rollup`` aggregates rows (a flat map plus agency / year / region / level / template) per unit,
per group (ratios as the sum of numerators over the sum of denominators), year over year, and ranks
units only among those with at least ``min_n`` new applications.
"""

from __future__ import annotations

import functools
import gc
import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from nianbao import formats
from nianbao.agencies import agency_key, split_aliases
from nianbao.record import Report

CATALOGUE_VERSION = "1"
Value = int | float | None

_T3 = "table3/{}/total"
_DENIED = tuple(_T3.format(r.key) for r in formats.TABLE3_ROWS if r.key.startswith("denied."))
_UNAVAILABLE = tuple(_T3.format(r.key) for r in formats.TABLE3_ROWS if r.key.startswith("unavailable."))
_NOT_PROCESSED = tuple(_T3.format(r.key) for r in formats.TABLE3_ROWS if r.key.startswith("not_processed."))
_HANDLED = (_T3.format("total"),)
_LITIGATION = ("litigation_direct", "litigation_after_review")


def _decided(*groups: str) -> tuple[str, ...]:
    """表四 cases decided (结果维持 + 结果纠正 + 其他结果) in ``groups``."""
    return tuple(f"table4/{g}/{o}" for g in groups for o in ("upheld", "corrected", "other"))


@dataclass(frozen=True)
class Formula:
    """sum(numerator) or, with a denominator, sum(numerator) / sum(denominator)."""

    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        return self.numerator + self.denominator

    def text(self) -> str:
        top = " + ".join(self.numerator)
        if not self.denominator:
            return top
        bottom = " + ".join(self.denominator)
        return f"({top}) / ({bottom})" if len(self.denominator) > 1 or len(self.numerator) > 1 else f"{top} / {bottom}"


@dataclass(frozen=True)
class Metric:
    key: str
    name: str
    unit: str  # 件, %, 万元, 项
    formulas: Mapping[str, Formula]  # by template ("2019", "2021"); a template absent: not in that format
    caliber: str  # 口径
    version: str = "1"

    @functools.cached_property
    def is_ratio(self) -> bool:
        return any(f.denominator for f in self.formulas.values())


def _both(formula: Formula) -> dict[str, Formula]:
    return {"2019": formula, "2021": formula}


_RATE = "分母为表三“（七）总计”的总计列（本年度办理结果总计）。"
_ROLLUP = "汇总时为各单位分子之和除以分母之和（不是各单位比率的平均）。"

METRICS: tuple[Metric, ...] = (
    Metric("new_applications", "新收申请数", "件", _both(Formula(("table3/new/total",))), "表三“一、本年新收政府信息公开申请数量”的总计列。"),
    Metric("handled", "办理结果总计", "件", _both(Formula(_HANDLED)), "表三“（七）总计”的总计列：本年度办结的申请（含上年结转）。"),
    Metric(
        "granted_rate", "予以公开率", "%", _both(Formula(("table3/granted/total",), _HANDLED)), "予以公开 ÷ 办理结果总计。" + _RATE + _ROLLUP
    ),
    Metric(
        "substantive_rate",
        "实质公开率",
        "%",
        _both(Formula(("table3/granted/total", "table3/partial/total"), _HANDLED)),
        "（予以公开 + 部分公开）÷ 办理结果总计。" + _RATE + _ROLLUP,
    ),
    Metric("denied_rate", "不予公开率", "%", _both(Formula(_DENIED, _HANDLED)), "不予公开 1–8 项之和 ÷ 办理结果总计。" + _RATE + _ROLLUP),
    Metric(
        "unavailable_rate", "无法提供率", "%", _both(Formula(_UNAVAILABLE, _HANDLED)), "无法提供 1–3 项之和 ÷ 办理结果总计。" + _RATE + _ROLLUP
    ),
    Metric(
        "not_processed_rate",
        "不予处理率",
        "%",
        _both(Formula(_NOT_PROCESSED, _HANDLED)),
        "不予处理 1–5 项之和 ÷ 办理结果总计。" + _RATE + _ROLLUP,
    ),
    Metric(
        "carry_forward_rate",
        "结转率",
        "%",
        _both(Formula(("table3/carried_forward/total",), ("table3/new/total", "table3/carried_in/total"))),
        "结转下年度继续办理 ÷（本年新收 + 上年结转），均取总计列。" + _ROLLUP,
    ),
    Metric("reviews", "复议数", "件", _both(Formula(("table4/review/total",))), "表四行政复议的总计（含尚未审结）。"),
    Metric(
        "review_correction_rate",
        "复议纠错率",
        "%",
        _both(Formula(("table4/review/corrected",), _decided("review"))),
        "行政复议结果纠正 ÷ 已审结（结果维持 + 结果纠正 + 其他结果），尚未审结的不计入分母。" + _ROLLUP,
    ),
    Metric(
        "lawsuits",
        "诉讼数",
        "件",
        _both(Formula(tuple(f"table4/{g}/total" for g in _LITIGATION))),
        "表四行政诉讼的总计：未经复议直接起诉 + 复议后起诉（含尚未审结）。",
    ),
    Metric(
        "lawsuit_correction_rate",
        "诉讼纠错率",
        "%",
        _both(Formula(tuple(f"table4/{g}/corrected" for g in _LITIGATION), _decided(*_LITIGATION))),
        "行政诉讼（两类起诉合计）结果纠正 ÷ 已审结（结果维持 + 结果纠正 + 其他结果）。" + _ROLLUP,
    ),
    Metric(
        "regulations_issued",
        "规章制发数",
        "件",
        {"2021": Formula(("table2/regulations/issued",)), "2019": Formula(("table2/regulations/made",))},
        "2021 格式：本年制发件数；2019 格式：本年新制作数量。",
    ),
    Metric(
        "normative_issued",
        "规范性文件制发数",
        "件",
        {"2021": Formula(("table2/normative_documents/issued",)), "2019": Formula(("table2/normative_documents/made",))},
        "2021 格式：行政规范性文件本年制发件数；2019 格式：规范性文件本年新制作数量。",
    ),
    Metric(
        "normative_repealed",
        "规范性文件废止数",
        "件",
        {"2021": Formula(("table2/normative_documents/repealed",))},
        "行政规范性文件本年废止件数；2019 格式没有此项。",
    ),
    Metric(
        "normative_in_force",
        "规范性文件现行有效数",
        "件",
        {"2021": Formula(("table2/normative_documents/in_force",))},
        "行政规范性文件现行有效件数；2019 格式没有此项（其“对外公开总数量”口径不同，见 normative_published_total）。",
    ),
    Metric(
        "normative_published_total",
        "规范性文件对外公开总数",
        "件",
        {"2019": Formula(("table2/normative_documents/total_published",))},
        "2019 格式规范性文件“对外公开总数量”；2021 格式没有此项。",
    ),
    Metric("licensing_decisions", "行政许可处理决定数", "件", _both(Formula(("table2/licensing/decisions",))), "表二行政许可的（本年）处理决定数量。"),
    Metric("penalty_decisions", "行政处罚处理决定数", "件", _both(Formula(("table2/penalty/decisions",))), "表二行政处罚的（本年）处理决定数量。"),
    Metric("coercion_decisions", "行政强制处理决定数", "件", _both(Formula(("table2/coercion/decisions",))), "表二行政强制的（本年）处理决定数量。"),
    Metric(
        "fees_amount",
        "行政事业性收费金额",
        "万元",
        {"2021": Formula(("table2/fees/amount_10k_yuan",))},
        "2021 格式：行政事业性收费本年收费金额（万元）。2019 格式只有收费项目数，没有金额（见 fees_items）。",
    ),
    Metric(
        "fees_items",
        "行政事业性收费项目数",
        "项",
        {"2019": Formula(("table2/fees/previous_items", "table2/fees/change"))},
        "2019 格式：行政事业性收费上一年项目数量 + 本年增/减，即本年项目数。2021 格式只有金额（见 fees_amount）。",
    ),
)
METRIC_BY_KEY = {m.key: m for m in METRICS}
BASE_METRIC = "new_applications"  # rankings count units with at least min_n of these


@dataclass(frozen=True)
class MetricValue:
    key: str
    value: float | int | None
    reason: str = ""  # why the value is null, or a note on how it was counted
    numerator: float | int | None = None
    denominator: float | int | None = None


def _label(path: str) -> str:
    """A cell path in Chinese for a reason: 表三“（一）予以公开”总计."""
    table, row, col = path.split("/")
    if table == "table3":
        return f"表三“{formats.TABLE3_ROW_BY_KEY[row].label.split('（区分')[0]}”{_col(formats.TABLE3_COLUMNS, col)}"
    if table == "table4":
        return f"表四“{_col(formats.TABLE4_GROUPS, row)}”{_col(formats.TABLE4_OUTCOMES, col)}"
    for rows in formats.TABLE2_ROWS.values():
        for spec in rows:
            if spec.key == row and any(c.key == col for c in spec.columns):
                return f"表二“{spec.label}”{_col(spec.columns, col)}"
    return path


def _col(columns: tuple[formats.Column, ...], key: str) -> str:
    return next((c.label for c in columns if c.key == key), key)


_ABSENT = object()


def _sum(paths: tuple[str, ...], values: Mapping[str, Any], unknown: Set[str]) -> tuple[float | int | None, str, bool]:
    """The sum of the cells, or None with the reason; and whether a printed blank was counted as 0."""
    total: float | int = 0
    blank = False
    for path in paths:
        if unknown and path in unknown:
            return None, f"{_label(path)}未能读取（读取时放弃）", blank
        value = values.get(path, _ABSENT)
        if value is None:
            blank = True
        elif value is _ABSENT:
            return None, f"报告中没有{_label(path)}", blank
        else:
            total += value
    return total, "", blank


def infer_template(values: Mapping[str, Value]) -> str:
    """The format a flat map's table 二 is in (2021 unless a 2019-only column is there)."""
    return "2019" if any(str(p).endswith(("/made", "/previous_items", "/total_published")) for p in values) else "2021"


_ZERO = "分母为 0，无法计算比率"


def evaluate_one(metric: Metric, values: Mapping[str, Value], unknown: Set[str], template: str) -> MetricValue:
    formula = metric.formulas.get(template)
    if formula is None:
        return MetricValue(metric.key, None, f"{template} 格式没有此项")
    top, why, blank_top = _sum(formula.numerator, values, unknown)
    if top is None:
        return MetricValue(metric.key, None, why)
    note = "（其中空白单元格按 0 计算）" if blank_top else ""
    if not formula.denominator:
        return MetricValue(metric.key, top, note, top)
    bottom, why, blank_bottom = _sum(formula.denominator, values, unknown)
    if bottom is None:
        return MetricValue(metric.key, None, why, top)
    note = "（其中空白单元格按 0 计算）" if blank_top or blank_bottom else ""
    if bottom == 0:
        return MetricValue(metric.key, None, _ZERO + note, top, bottom)
    return MetricValue(metric.key, top / bottom, note, top, bottom)


def evaluate(
    values: Mapping[str, Value],
    unknown: Set[str] = frozenset(),
    template: str | None = None,
    keys: Iterable[str] | None = None,
) -> dict[str, MetricValue]:
    """Every metric (or those in ``keys``) over a flat map of cell values.

    A path absent from ``values`` is a row the report does not print; a value None is a printed
    blank (counted as 0, with a note); a path in ``unknown`` was not read: the metric is null.
    ``template`` is the report's format; without it, it is inferred from the paths present.
    """
    template = template or infer_template(values)
    chosen = [METRIC_BY_KEY[k] for k in keys] if keys is not None else list(METRICS)
    return {m.key: evaluate_one(m, values, unknown, template) for m in chosen}


def cell_paths(keys: Iterable[str] | None = None) -> tuple[str, ...]:
    """The cells the metrics ``keys`` (all when None) read, in every format, with those of the
    base metric (a rollup always counts it): what a source of rows has to fetch."""
    chosen = [METRIC_BY_KEY[k] for k in (BASE_METRIC, *(keys if keys is not None else METRIC_BY_KEY))]
    return tuple(dict.fromkeys(p for m in chosen for f in m.formulas.values() for p in f.paths))


# --- from a report ------------------------------------------------------------------------------


def flat_values(report: Report) -> dict[str, Value]:
    """Every cell the report holds, by path (a printed blank as None; a row not printed is absent)."""
    return report.flat()


def unknown_cells(report: Report) -> frozenset[str]:
    """Cells the reader abstained from: named by a reading finding (RD…) and holding no number."""
    cells = {c for f in report.findings if f.rule.startswith("RD") for c in f.cells}
    return frozenset(c for c in cells if report.value(c) is None)


def row_of(report: Report, region: str | None = None, level: str | None = None) -> dict[str, Any]:
    """A report as a row for :func:`rollup`: its flat values with the unit's metadata."""
    return {
        **flat_values(report),
        "agency": report.agency,
        "year": report.year,
        "region": region,
        "level": level,
        "template": report.template,
        "unknown": unknown_cells(report),
        "file": report.source.path,
    }


@dataclass(frozen=True)
class UnitInfo:
    """A unit as an agency list (名录) gives it."""

    name: str
    region: str | None = None
    level: str | None = None


def directory(rows: Iterable[Mapping[str, Any]]) -> dict[str, UnitInfo]:
    """An agency list's rows (名称, 级别, 行政区划代码, 别名) by normalised name and by alias."""
    out: dict[str, UnitInfo] = {}
    for row in rows:
        name = str(row.get("名称") or "").strip()
        if not name:
            continue
        info = UnitInfo(name, str(row.get("行政区划代码") or "").strip() or None, str(row.get("级别") or "").strip() or None)
        for alias in (name, *split_aliases(str(row.get("别名") or ""))):
            out.setdefault(agency_key(alias), info)
    return out


def rows_with_directory(reports: Iterable[Report], units: Mapping[str, UnitInfo]) -> list[dict[str, Any]]:
    """Reports as rollup rows, with region and level (and the list's name) where the list has the unit."""
    rows = []
    for r in reports:
        info = units.get(agency_key(r.agency))
        row = row_of(r, info.region if info else None, info.level if info else None)
        if info:
            row["agency"] = info.name
        rows.append(row)
    return rows


def evaluate_row(row: Mapping[str, Any], keys: Iterable[str] | None = None) -> dict[str, MetricValue]:
    # The row's own keys (agency, year…) are never cell paths, so the row serves as the value map.
    return evaluate(row, frozenset(row.get("unknown") or ()), row.get("template"), keys)


# --- aggregation --------------------------------------------------------------------------------

GROUPINGS = {"region": "地区", "level": "级别", "year": "年度"}
NO_GROUP = "（未登记）"


@dataclass(frozen=True)
class MetricColumn:
    """One metric over every unit, column-wise: the fields of each unit's :class:`MetricValue`.

    A rollup over ten thousand units holds these lists rather than 220,000 MetricValue objects
    (building them was most of a rollup's time); a unit's values are made when read."""

    key: str
    value: tuple[Value, ...]
    reason: tuple[str, ...]
    numerator: tuple[Value, ...]
    denominator: tuple[Value, ...]

    def at(self, i: int) -> MetricValue:
        return MetricValue(self.key, self.value[i], self.reason[i], self.numerator[i], self.denominator[i])


class UnitValues(Mapping[str, MetricValue]):
    """A unit's metric values, read from the rollup's columns (a read-only {key: MetricValue})."""

    __slots__ = ("_columns", "_index")

    def __init__(self, columns: Mapping[str, MetricColumn], index: int) -> None:
        self._columns = columns
        self._index = index

    def __getitem__(self, key: str) -> MetricValue:
        return self._columns[key].at(self._index)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return repr(dict(self))


def _template_of(row: Mapping[str, Any]) -> str:
    return str(row.get("template") or infer_template(row))


def evaluate_columns(rows: Sequence[Mapping[str, Any]], keys: Iterable[str]) -> dict[str, MetricColumn]:
    """``evaluate_row`` over every row, metric by metric, giving columns.

    Each cell a metric reads is taken out of the rows once, as a column; a metric's sums and
    ratios are then worked out a column at a time. The rows that need words (a cell abstained
    from, blank or not printed) go through :func:`evaluate_one`, so the values and reasons are
    exactly those of ``evaluate_row``."""
    chosen = [METRIC_BY_KEY[k] for k in keys]
    templates = [_template_of(r) for r in rows]
    unknowns = [frozenset(r.get("unknown") or ()) for r in rows]
    cells = _Cells(rows, {p for m in chosen for f in m.formulas.values() for p in f.paths}, unknowns)
    return {m.key: _column(m, rows, templates, unknowns, cells) for m in chosen}


class _Cells:
    """The cells the metrics read, column by column: ``numbers[path]`` holds each row's value
    (0 for a blank or absent one), ``odd[path]`` the rows whose value is not a number or that
    abstained from any cell (those are evaluated one by one)."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], paths: Set[str], unknowns: list[frozenset[str]]) -> None:
        abstained = {i for i, u in enumerate(unknowns) if u}
        self.numbers: dict[str, list[Any]] = {}
        self.odd: dict[str, set[int]] = {}
        for path in paths:
            column = [row.get(path) for row in rows]
            self.odd[path] = abstained.union(i for i, v in enumerate(column) if v is None)
            self.numbers[path] = [0 if v is None else v for v in column] if self.odd[path] else column

    def total(self, paths: tuple[str, ...]) -> list[float | int]:
        """Per row, the sum of the cells in order (as ``_sum`` adds them)."""
        first, *rest = (self.numbers[p] for p in paths)
        out = list(first)
        for column in rest:
            out = list(map(operator.add, out, column))
        return out


def _column(
    metric: Metric,
    rows: Sequence[Mapping[str, Any]],
    templates: list[str],
    unknowns: list[frozenset[str]],
    cells: _Cells,
) -> MetricColumn:
    n = len(rows)
    by_formula: dict[Formula | None, list[str]] = {}
    for template in dict.fromkeys(templates):
        by_formula.setdefault(metric.formulas.get(template), []).append(template)
    parts = {formula: _vectors(metric, formula, cells, n) for formula in by_formula}
    if len(parts) == 1:
        value, reason, top, bottom = (list(v) for v in next(iter(parts.values())))
    else:  # the formula differs between the rows' formats: each row takes its format's
        of = {t: parts[f] for f, ts in by_formula.items() for t in ts}
        value, reason, top, bottom = ([of[t][k][i] for i, t in enumerate(templates)] for k in range(4))
    for formula, formats_ in by_formula.items():
        if formula is None:  # the same words for every row of a format without the item
            words = {t: evaluate_one(metric, {}, frozenset(), t).reason for t in formats_}
            reason = [words.get(t, r) for t, r in zip(templates, reason, strict=True)]
            continue
        for i in set().union(*(cells.odd[p] for p in formula.paths)):
            if templates[i] in formats_:
                one = evaluate_one(metric, rows[i], unknowns[i], templates[i])
                value[i], reason[i], top[i], bottom[i] = one.value, one.reason, one.numerator, one.denominator
    return MetricColumn(metric.key, tuple(value), tuple(reason), tuple(top), tuple(bottom))


def _vectors(metric: Metric, formula: Formula | None, cells: _Cells, n: int) -> tuple[list[Any], ...]:
    """(value, reason, numerator, denominator) of every row by one formula, for rows whose cells
    are all numbers (the others are overwritten)."""
    if formula is None:
        return [None] * n, [""] * n, [None] * n, [None] * n
    tops = cells.total(formula.numerator)
    if not formula.denominator:
        return tops, [""] * n, tops, [None] * n
    bottoms = cells.total(formula.denominator)
    values = [t / b if b else None for t, b in zip(tops, bottoms, strict=True)]
    return values, ["" if b else _ZERO for b in bottoms], tops, bottoms


@dataclass(frozen=True)
class UnitMetrics:
    agency: str
    year: int | None
    region: str | None
    level: str | None
    file: str
    values: Mapping[str, MetricValue]


@dataclass(frozen=True)
class GroupMetrics:
    group: str
    units: int
    values: dict[str, MetricValue]


@dataclass(frozen=True)
class Change:
    agency: str
    metric: str
    year_before: int
    year: int
    before: float | int | None
    now: float | int | None

    @property
    def change(self) -> float | int | None:
        return None if self.before is None or self.now is None else self.now - self.before


@dataclass(frozen=True)
class Ranked:
    year: int | None
    metric: str
    rank: int
    agency: str
    value: float | int
    applications: float | int


@dataclass(frozen=True)
class Rollup:
    """The rollup. ``changes`` and ``rankings`` (every chosen metric) are worked out when first
    read; ``ranked(key)`` and ``changes_of(keys)`` work out only the metrics asked for."""

    by: str
    min_n: int
    metrics: tuple[str, ...]
    units: tuple[UnitMetrics, ...]
    groups: tuple[GroupMetrics, ...]
    total: GroupMetrics
    left_out: dict[str, int] = field(default_factory=dict)  # units below min_n, per year
    columns: Mapping[str, MetricColumn] = field(default_factory=dict, repr=False, compare=False)
    # Per year (in order), the units ranked: those with at least ``min_n`` applications.
    pools: tuple[tuple[int | None, list[int]], ...] = field(default=(), repr=False, compare=False)

    @functools.cached_property
    def _ranked(self) -> dict[str, dict[int | None, list[Ranked]]]:
        """The metrics ranked so far, by key: a memo (the rollup's figures never change)."""
        return {}

    def _ranked_by_year(self, key: str) -> dict[int | None, list[Ranked]]:
        if key not in self._ranked:
            self._ranked[key] = _rank(self, key)
        return self._ranked[key]

    def ranked(self, key: str, top: int | None = None) -> tuple[Ranked, ...]:
        """One metric's rankings, year by year (empty for the base metric and unchosen ones);
        with ``top``, only the places up to ``top`` each year (worked out alone, not kept)."""
        if key == BASE_METRIC or key not in self.metrics:
            return ()
        by_year = self._ranked.get(key) or (_rank(self, key, top) if top is not None else self._ranked_by_year(key))
        return tuple(r for part in by_year.values() for r in part if top is None or r.rank <= top)

    @functools.cached_property
    def rankings(self) -> tuple[Ranked, ...]:
        keys = [k for k in self.metrics if k != BASE_METRIC]
        by_key = [self._ranked_by_year(k) for k in keys]
        return tuple(r for year, _ in self.pools for part in by_key for r in part.get(year, ()))

    @functools.cached_property
    def _pairs(self) -> list[tuple[int, int]]:
        """Each unit's report beside the same unit's of the year before (by agency, then year)."""
        units = self.units
        ordered = sorted((i for i, u in enumerate(units) if u.year), key=lambda i: (units[i].agency, units[i].year or 0))
        pairs = []
        for _, series in itertools.groupby(ordered, key=lambda i: units[i].agency):
            for a, b in itertools.pairwise(list(series)):
                if (units[b].year or 0) - (units[a].year or 0) == 1:
                    pairs.append((a, b))
        return pairs

    def changes_of(self, keys: Iterable[str]) -> tuple[Change, ...]:
        """Year-over-year changes of the chosen metrics among ``keys`` (in the rollup's order)."""
        wanted = set(keys)
        chosen = [(k, self.columns[k].value) for k in self.metrics if k in wanted]
        units = self.units
        return tuple(
            Change(units[a].agency, k, units[a].year or 0, units[b].year or 0, v[a], v[b])
            for a, b in self._pairs
            for k, v in chosen
        )

    @functools.cached_property
    def changes(self) -> tuple[Change, ...]:
        return self.changes_of(self.metrics)


def _rank(result: Rollup, key: str, top: int | None = None) -> dict[int | None, list[Ranked]]:
    """Per year, the ranked units by one metric: highest first, equal values share a rank (1, 1, 3);
    with ``top``, up to the place ``top`` only."""
    values = result.columns[key].value
    base = result.columns[BASE_METRIC].value
    units = result.units
    out: dict[int | None, list[Ranked]] = {}
    for year, pool in result.pools:
        scored = [(i, v) for i in pool if (v := values[i]) is not None]
        scored.sort(key=lambda iv: (-(iv[1] or 0), units[iv[0]].agency))
        part = out.setdefault(year, [])
        rank = 0
        for place, (i, value) in enumerate(scored, start=1):
            rank = rank if place > 1 and value == scored[place - 2][1] else place
            if top is not None and rank > top:
                break
            part.append(Ranked(year, key, rank, units[i].agency, value or 0, base[i] or 0))
    return out


def _combine(metric: Metric, column: MetricColumn, members: Iterable[int] | None) -> MetricValue:
    """A group's value (``members`` the units' indices; None: every unit): counts summed, ratios
    as summed numerators over summed denominators.

    A unit whose inputs are incomplete (unread, not printed) or that lacks the item in its format
    is left out, and the note says how many; a unit with a zero denominator adds 0 to both sums."""
    key, ratio = metric.key, metric.is_ratio
    tops, bottoms, reasons = column.numerator, column.denominator, column.reason
    # Summed in the units' order from 0, as sum() would: the same float whichever way it is read.
    top: float | int = 0
    bottom: float | int = 0
    known = left = other_format = 0
    for i in range(len(tops)) if members is None else members:
        t, b = tops[i], bottoms[i]
        if t is not None and (b is not None or not ratio):
            known += 1
            top += t
            bottom += b or 0
        else:
            left += 1
            other_format += "格式没有此项" in reasons[i]
    notes = [f"{n} 个单位{why}，未计入" for n, why in ((left - other_format, "数据不全"), (other_format, "的格式没有此项")) if n]
    note = "；".join(notes)
    if not known:
        return MetricValue(key, None, f"没有可计算的单位（{note}）" if note else "没有可计算的单位")
    if not ratio:
        return MetricValue(key, top, note, top)
    if not bottom:
        return MetricValue(key, None, "；".join(["分母之和为 0，无法计算比率", *notes]), top, bottom)
    return MetricValue(key, top / bottom, note, top, bottom)


def _group(name: str, members: list[int] | None, columns: Mapping[str, MetricColumn], size: int) -> GroupMetrics:
    return GroupMetrics(name, size, {k: _combine(METRIC_BY_KEY[k], c, members) for k, c in columns.items()})


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector held off while many rows and values are made: its passes over
    them (none forms a cycle) took a tenth of a rollup over 10,000 rows."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rollup(
    rows: Iterable[Mapping[str, Any]], by: str = "year", min_n: int = 30, keys: Iterable[str] | None = None
) -> Rollup:
    """Metrics per unit, per group (``by`` region, level or year) and overall, year over year, ranked."""
    if by not in GROUPINGS:
        raise ValueError(f"不支持的分组：{by}（可用 {'、'.join(GROUPINGS)}）")
    with gc_paused():
        return _rollup(rows, by, min_n, keys)


def _rollup(rows: Iterable[Mapping[str, Any]], by: str, min_n: int, keys: Iterable[str] | None) -> Rollup:
    chosen = tuple(keys) if keys is not None else tuple(m.key for m in METRICS)
    wanted = tuple(dict.fromkeys((BASE_METRIC, *chosen)))
    rows = rows if isinstance(rows, Sequence) else list(rows)
    columns = evaluate_columns(rows, wanted)
    units = tuple(
        UnitMetrics(
            str(r.get("agency") or "（未识别机关）"),
            r.get("year"),
            r.get("region"),
            r.get("level"),
            str(r.get("file") or ""),
            UnitValues(columns, i),
        )
        for i, r in enumerate(rows)
    )
    named: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        named.setdefault(str(getattr(u, by) or NO_GROUP), []).append(i)
    groups = tuple(_group(name, members, columns, len(members)) for name, members in sorted(named.items()))
    total = _group("合计", None, columns, len(units))
    years = _by_year(units)
    base = columns[BASE_METRIC].value
    pools = tuple((year, [i for i in members if (base[i] or 0) >= min_n]) for year, members in years)
    left_out = {str(year): len(members) - len(pool) for (year, members), (_, pool) in zip(years, pools, strict=True)}
    return Rollup(by, min_n, chosen, units, groups, total, left_out, columns, pools)


def _by_year(units: Sequence[UnitMetrics]) -> list[tuple[int | None, list[int]]]:
    """The units' indices per year, years in order (a unit without a year first)."""
    order = sorted(range(len(units)), key=lambda i: units[i].year or 0)
    return [(year, list(members)) for year, members in itertools.groupby(order, key=lambda i: units[i].year)]


def format_value(metric: Metric, value: float | int | None) -> str:
    """A value as people read it: 12.5% for a ratio, 1,234 件 for a count."""
    if value is None:
        return "—"
    if metric.is_ratio:
        return f"{value * 100:.1f}%"
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    return f"{text} {metric.unit}"


# --- the reference (docs/metrics.md) -------------------------------------------------------------


def metrics_reference() -> str:
    """docs/metrics.md: one section per metric, from the catalogue."""
    lines = [
        "# 统计指标",
        "",
        "本文件由指标目录生成（`nianbao metrics > docs/metrics.md`），请勿手工修改。",
        f"指标目录版本：{CATALOGUE_VERSION}。公式中的单元格路径见 `shared/spec/report-json.md`。",
        "",
        "通用口径：读取时放弃的单元格（RD07 等）或报告未印的行使指标为空并说明原因，绝不按 0 计算；"
        "印为空白的单元格按 0 计算并注明；分母为 0 时比率为空。汇总（按地区、级别、年度）时，计数为各单位之和，"
        "比率为各单位分子之和除以分母之和；排名只在新收申请数不少于 `--min-n`（默认 30）件的单位之间进行。",
        "",
        "| 键 | 名称 | 单位 | 适用格式 | 版本 |",
        "|---|---|---|---|---|",
    ]
    for m in METRICS:
        lines.append(f"| [{m.key}](#{m.key}) | {m.name} | {m.unit} | {'、'.join(sorted(m.formulas))} | {m.version} |")
    lines.append("")
    for m in METRICS:
        lines += [f"## {m.key}", "", f"**{m.name}**（{m.unit}）· 版本 {m.version}", "", f"口径：{m.caliber}", ""]
        for template in sorted(m.formulas):
            lines.append(f"- {template} 格式：`{m.formulas[template].text()}`")
        lines.append("")
    return "\n".join(lines)
