"""A metrics rollup for people (Chinese text) and for programs (JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from nianbao.metrics import GROUPINGS, METRIC_BY_KEY, GroupMetrics, MetricValue, Rollup, format_value

# Rankings shown when no metric is chosen: the ratios people compare units by.
DEFAULT_RANKED = ("granted_rate", "substantive_rate", "review_correction_rate", "lawsuit_correction_rate")
DEFAULT_CHANGES = ("new_applications", "substantive_rate")


def _cell(value: MetricValue) -> str:
    return format_value(METRIC_BY_KEY[value.key], value.value)


def _groups_table(result: Rollup) -> list[str]:
    groups: list[GroupMetrics] = [*result.groups, result.total]
    lines = [f"按{GROUPINGS[result.by]}汇总（比率为各单位分子之和除以分母之和）：", ""]
    lines.append("\t".join(["指标", *(f"{g.group}（{g.units} 份报告）" for g in groups)]))  # a unit counts once a year
    for key in result.metrics:
        lines.append("\t".join([METRIC_BY_KEY[key].name, *(_cell(g.values[key]) for g in groups)]))
    notes = [
        f"  {g.group} {METRIC_BY_KEY[k].name}：{g.values[k].reason}"
        for g in groups
        for k in result.metrics
        if g.values[k].reason and g.values[k].value is not None
    ]
    return lines + (["", "说明：", *notes] if notes else [])


def _rankings(result: Rollup, top: int, keys: Sequence[str]) -> list[str]:
    lines = ["", f"排名（只在新收申请不少于 {result.min_n} 件的单位之间）："]
    for year, left in sorted(result.left_out.items()):
        if left:
            lines.append(f"  {year} 年：{left} 个单位申请少于 {result.min_n} 件，未参加排名")
    for key in keys:
        ranked = result.ranked(key, top)
        for r in ranked:
            value = format_value(METRIC_BY_KEY[key], r.value)
            lines.append(
                f"  {r.year} 年 {METRIC_BY_KEY[key].name} 第 {r.rank} 名：{r.agency} {value}（新收 {r.applications:,g} 件）"
            )
    return lines


def _changes(result: Rollup, keys: Sequence[str]) -> list[str]:
    lines = ["", "逐年变化（同一单位相邻年度）："]
    for c in result.changes_of(keys):
        m = METRIC_BY_KEY[c.metric]
        delta = "" if c.change is None else (f"{c.change * 100:+.1f} 个百分点" if m.is_ratio else f"{c.change:+g}")
        lines.append(
            f"  {c.agency} {m.name}：{c.year_before} 年 {format_value(m, c.before)} → "
            f"{c.year} 年 {format_value(m, c.now)}{f'（{delta}）' if delta else ''}"
        )
    return lines if len(lines) > 2 else [*lines, "  （没有相邻年度的报告）"]


def rollup_text(result: Rollup, top: int = 10, ranked: Sequence[str] | None = None) -> str:
    """The groups, the rankings and the year-over-year changes, in Chinese."""
    chosen = [k for k in ranked or DEFAULT_RANKED if k in result.metrics]
    lines = [f"共 {len(result.units)} 份报告。", "", *_groups_table(result)]
    lines += _rankings(result, top, chosen)
    lines += _changes(result, [k for k in ranked or DEFAULT_CHANGES if k in result.metrics])
    return "\n".join(lines) + "\n"


def _values(values: Mapping[str, MetricValue]) -> dict[str, Any]:
    return {
        k: {"value": v.value, "reason": v.reason or None, "numerator": v.numerator, "denominator": v.denominator}
        for k, v in values.items()
    }


def _unit_values(result: Rollup, i: int) -> dict[str, Any]:
    """``_values`` of unit ``i``, read from the rollup's columns (no MetricValue made)."""
    return {
        k: {"value": c.value[i], "reason": c.reason[i] or None, "numerator": c.numerator[i], "denominator": c.denominator[i]}
        for k, c in result.columns.items()
    }


def rollup_json(result: Rollup) -> str:
    data = {
        "by": result.by,
        "min_n": result.min_n,
        "units": [
            {
                "agency": u.agency,
                "year": u.year,
                "region": u.region,
                "level": u.level,
                "file": u.file,
                "metrics": _unit_values(result, i),
            }
            for i, u in enumerate(result.units)
        ],
        "groups": [{"group": g.group, "units": g.units, "metrics": _values(g.values)} for g in result.groups],
        "total": {"units": result.total.units, "metrics": _values(result.total.values)},
        "changes": [
            {
                "agency": c.agency,
                "metric": c.metric,
                "year_before": c.year_before,
                "year": c.year,
                "before": c.before,
                "now": c.now,
                "change": c.change,
            }
            for c in result.changes
        ],
        "rankings": [vars(r) for r in result.rankings],
        "left_out": result.left_out,
    }
    return json.dumps(data, ensure_ascii=False, indent=1)
