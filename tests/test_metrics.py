"""The metric catalogue: a worked example per metric on a corpus report, nulls with reasons, rollups."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ROOT, corpus_or_skip, truth_report
from nianbao import parse
from nianbao.metrics import (
    METRIC_BY_KEY,
    METRICS,
    directory,
    evaluate,
    flat_values,
    metrics_reference,
    rollup,
    row_of,
    rows_with_directory,
    unknown_cells,
)

# (metric, corpus report, numerator, denominator or None for a count): worked by hand from the
# printed tables (r001 淮安市人民政府 2024, 2021 format; r007 平潭综合实验区 2019, 2019 format).
WORKED = [
    ("new_applications", "r001-huaian-city-2024", 3119, None),
    ("handled", "r001-huaian-city-2024", 3050, None),
    ("granted_rate", "r001-huaian-city-2024", 1362, 3050),
    ("substantive_rate", "r001-huaian-city-2024", 1362 + 454, 3050),  # 予以公开 1362 + 部分公开 454
    ("denied_rate", "r001-huaian-city-2024", 178, 3050),
    ("unavailable_rate", "r001-huaian-city-2024", 781, 3050),
    ("not_processed_rate", "r001-huaian-city-2024", 88, 3050),
    ("carry_forward_rate", "r001-huaian-city-2024", 103, 3119 + 34),  # 结转 103 ÷（新收 3119 + 上年结转 34）
    ("reviews", "r001-huaian-city-2024", 351, None),
    ("review_correction_rate", "r001-huaian-city-2024", 64, 72 + 64 + 178),  # 纠正 ÷（维持+纠正+其他），37 件未审结
    ("lawsuits", "r001-huaian-city-2024", 26 + 20, None),
    ("lawsuit_correction_rate", "r001-huaian-city-2024", 4 + 1, (13 + 4 + 8) + (12 + 1 + 1)),
    ("regulations_issued", "r001-huaian-city-2024", 1, None),
    ("normative_issued", "r001-huaian-city-2024", 8, None),
    ("normative_repealed", "r001-huaian-city-2024", 26, None),
    ("normative_in_force", "r001-huaian-city-2024", 66, None),
    ("licensing_decisions", "r001-huaian-city-2024", 447228, None),
    ("penalty_decisions", "r001-huaian-city-2024", 3985758, None),
    ("coercion_decisions", "r001-huaian-city-2024", 88283, None),
    ("fees_amount", "r001-huaian-city-2024", 96171.6, None),
    ("normative_published_total", "r007-pingtan-2019", 89, None),
    ("fees_items", "r007-pingtan-2019", 35 + 0, None),  # 上一年项目数量 35 + 本年增/减 0
]


def test_every_metric_has_a_worked_example() -> None:
    assert {m.key for m in METRICS} == {key for key, *_ in WORKED}


@pytest.mark.parametrize(("key", "name", "top", "bottom"), WORKED)
def test_worked_example(key: str, name: str, top: float, bottom: float | None) -> None:
    report = truth_report(name)
    got = evaluate(flat_values(report), template=report.template)[key]
    assert got.numerator == top and got.denominator == bottom
    assert got.value == (top if bottom is None else top / bottom)
    assert got.reason == ""


def test_a_metric_not_in_the_format_is_null_with_the_reason() -> None:
    got = evaluate(flat_values(truth_report("r007-pingtan-2019")), template="2019")
    assert got["fees_amount"].value is None and "2019 格式没有此项" in got["fees_amount"].reason
    assert got["review_correction_rate"].value is None and "分母为 0" in got["review_correction_rate"].reason


def test_an_abstained_cell_makes_the_metric_null_never_zero() -> None:
    report = parse(corpus_or_skip() / "real" / "r008-pingtan-2024.txt")
    unknown = unknown_cells(report)
    assert "table2/normative_documents/in_force" in unknown  # 6233440: 33/440 or 3/3440, not read
    got = evaluate(flat_values(report), unknown, report.template)
    assert got["normative_in_force"].value is None
    assert got["normative_in_force"].reason == "表二“行政规范性文件”现行有效件数未能读取（读取时放弃）"
    assert got["normative_issued"].value == 62  # the figure the text states


def test_blank_counts_as_zero_with_a_note_and_an_absent_row_is_null() -> None:
    values = {"table3/carried_forward/total": None, "table3/new/total": 30, "table3/carried_in/total": 6}
    got = evaluate(values, template="2021", keys=["carry_forward_rate", "reviews"])
    assert got["carry_forward_rate"].value == 0 and "空白单元格按 0 计算" in got["carry_forward_rate"].reason
    assert got["reviews"].value is None and got["reviews"].reason == "报告中没有表四“行政复议”总计"


def test_rollup_sums_numerators_and_denominators_and_ranks_only_big_units() -> None:
    names = ["r001-huaian-city-2024", "r004-shanghai-stcsm-2024", "000_ad76ac4b2ae56493", "001_17c512892160a454"]
    reports = [truth_report(n) for n in names]
    result = rollup([row_of(r) for r in reports], by="year", min_n=30, keys=["granted_rate", "reviews"])
    (year,) = result.groups
    assert year.group == "2024" and year.units == 4
    granted = year.values["granted_rate"]
    assert (granted.numerator, granted.denominator) == (1362 + 9 + 1 + 1, 3050 + 35 + 2 + 17)
    assert granted.value == pytest.approx(1373 / 3104)
    assert year.values["reviews"].value == 351 + 1 + 0 + 1
    ranked = [(r.rank, r.agency) for r in result.rankings if r.metric == "granted_rate"]
    assert ranked == [(1, "淮安市人民政府"), (2, "上海市科委")]  # 44.7 % and 25.7 %; 3 and 17 applications left out
    assert result.left_out == {"2024": 2}


def test_rollup_year_over_year() -> None:
    before = truth_report("r004-shanghai-stcsm-2024")
    after = dataclasses.replace(truth_report("r001-huaian-city-2024"), agency=before.agency, year=2025)
    result = rollup([row_of(before), row_of(after)], by="year", keys=["new_applications"])
    (change,) = result.changes
    assert (change.year_before, change.year, change.before, change.now, change.change) == (2024, 2025, 34, 3119, 3085)
    assert [g.group for g in result.groups] == ["2024", "2025"]


def test_metrics_reference_is_current() -> None:
    current = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert current == metrics_reference(), "docs/metrics.md is stale: run `nianbao metrics > docs/metrics.md`"


def test_an_agency_list_gives_region_and_level_by_name_or_alias() -> None:
    units = directory([
        {"名称": "淮安市人民政府", "级别": "市级", "行政区划代码": "320800", "别名": ""},
        {"名称": "上海市科学技术委员会", "级别": "部门", "行政区划代码": "310000", "别名": "上海市科委；市科委"},
    ])
    reports = [truth_report("r001-huaian-city-2024"), truth_report("r004-shanghai-stcsm-2024"),
               truth_report("001_17c512892160a454")]
    rows = rows_with_directory(reports, units)
    assert [(r["agency"], r["region"], r["level"]) for r in rows] == [
        ("淮安市人民政府", "320800", "市级"), ("上海市科学技术委员会", "310000", "部门"), ("建国门街道办事处", None, None)
    ]
    result = rollup(rows, by="level", keys=["new_applications"])
    assert {g.group: g.values["new_applications"].value for g in result.groups} == {"市级": 3119, "部门": 34, "（未登记）": 17}


_PATHS = sorted({p for m in METRICS for f in m.formulas.values() for p in f.paths})


@given(
    st.dictionaries(st.sampled_from(_PATHS), st.one_of(st.none(), st.integers(0, 50))),
    st.sets(st.sampled_from(_PATHS)),
    st.sampled_from(["2019", "2021"]),
)
def test_an_unread_or_absent_input_is_never_a_number(values: dict[str, int | None], unknown: set[str], template: str) -> None:
    for key, got in evaluate({p: v for p, v in values.items() if p not in unknown}, unknown, template).items():
        formula = METRIC_BY_KEY[key].formulas.get(template)
        if formula is None:
            assert got.value is None and "格式没有此项" in got.reason
        elif any(p in unknown or p not in values for p in formula.paths):
            assert got.value is None and ("未能读取" in got.reason or "报告中没有" in got.reason)
        elif formula.denominator and sum(values[p] or 0 for p in formula.denominator) == 0:
            assert got.value is None and "分母为 0" in got.reason
        else:
            top = sum(values[p] or 0 for p in formula.numerator)
            bottom = sum(values[p] or 0 for p in formula.denominator)
            assert got.value == (top / bottom if formula.denominator else top)


def test_cli_stats(tmp_path: Path) -> None:
    corpus = corpus_or_skip()
    listing = tmp_path / "名录.csv"
    listing.write_text("名称,级别,行政区划代码,别名\n平潭综合实验区,市级,350128,\n", encoding="utf-8-sig")
    args = [sys.executable, "-m", "nianbao.cli", "stats", str(corpus / "real" / "r008-pingtan-2024.txt"),
            str(corpus / "seeds"), "--by", "level", "--agencies", str(listing), "--min-n", "10"]
    text = subprocess.run([*args, "--metric", "实质公开率,reviews"], capture_output=True, text=True, timeout=300)
    assert text.returncode == 0, text.stderr
    assert "实质公开率\t45.9%" in text.stdout and "2024 年 实质公开率 第 1 名：平潭综合实验区 45.9%" in text.stdout
    data = json.loads(subprocess.run([*args, "--format", "json"], capture_output=True, text=True, timeout=300).stdout)
    groups = {g["group"]: g for g in data["groups"]}
    assert groups["市级"]["units"] == 1 and groups["（未登记）"]["units"] == 5
    unit = next(u for u in data["units"] if u["agency"] == "平潭综合实验区")
    assert unit["metrics"]["normative_in_force"]["reason"] == "表二“行政规范性文件”现行有效件数未能读取（读取时放弃）"
    in_force = groups["市级"]["metrics"]["normative_in_force"]  # its only unit abstained from 6233440
    assert in_force["value"] is None and in_force["reason"] == "没有可计算的单位（1 个单位数据不全，未计入）"
