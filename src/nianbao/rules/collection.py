"""Rules across reports given together: one agency over years, a region's units in one year."""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import itertools
import re
from collections.abc import Iterator

from nianbao.agencies import agency_key
from nianbao.crossyear import carry_links, stock_links
from nianbao.nearcopy import first_copies
from nianbao.numbers import DATE_PATTERN
from nianbao.record import Finding, Report
from nianbao.rules.base import Context, fmt, is_government, rule

Hit = tuple[Report, Finding]

__all__ = ["agency_key", "by_agency", "consecutive", "groups"]


def groups(kind: str, contexts: list[Context]) -> Iterator[list[Context]]:
    """The groups of one kind (rules.base.GROUPINGS) among reports held in memory; a store builds
    the same groups with its queries. Reports with reading errors are in no group but their own."""
    readable = [c for c in contexts if not c.report.errors]
    if kind == "agency":
        yield from by_agency(contexts).values()
    elif kind == "year":
        years: dict[int, list[Context]] = {}
        for ctx in readable:
            if ctx.report.year:
                years.setdefault(ctx.report.year, []).append(ctx)
        yield from (years[y] for y in sorted(years))
    elif kind == "aggregate":
        yield from aggregate_groups(contexts)
    elif kind == "report":
        yield from ([c] for c in contexts)
    else:
        raise ValueError(f"unknown grouping {kind}")


def aggregate_groups(contexts: list[Context]) -> Iterator[list[Context]]:
    """For each declared aggregate and each year it reports: its report first, then its members'.
    The group's contexts declare that aggregate alone, so a nested aggregate is not summed here."""
    aggregates = contexts[0].aggregates if contexts else ()
    for name, patterns in aggregates:
        for total in (c for c in contexts if agency_key(c.report.agency) == agency_key(name)):
            members = [
                c for c in contexts if c is not total and c.report.year == total.report.year and is_member(c, patterns)
            ]
            group = [Context(c.report) for c in (total, *members)]
            for ctx in group:
                ctx.aggregates = ((name, patterns),)
            yield group


def is_member(ctx: Context, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(agency_key(ctx.report.agency), agency_key(p)) for p in patterns)


def by_agency(contexts: list[Context]) -> dict[str, list[Context]]:
    """Reports of each agency, ordered by year (reports without agency or year are left out)."""
    groups: dict[str, list[Context]] = {}
    for ctx in contexts:
        r = ctx.report
        if r.agency and r.year and not r.errors:
            groups.setdefault(agency_key(r.agency), []).append(ctx)
    return {k: sorted(v, key=lambda c: c.report.year or 0) for k, v in groups.items()}


def consecutive(contexts: list[Context]) -> Iterator[tuple[Context, Context]]:
    """(previous year, this year) pairs of one agency's reports."""
    groups = by_agency(contexts)
    for reports in groups.values():
        for prev, this in itertools.pairwise(reports):
            if (this.report.year or 0) - (prev.report.year or 0) == 1:
                yield prev, this


def _hit(ctx: Context, code: str, severity: str, template: int, cells: tuple[str, ...] = (), **fields: object) -> Hit:
    """A finding of rule ``code`` on ``ctx``'s report: its declared message ``template`` filled in."""
    ctx.code, ctx.severity = code, severity
    return ctx.report, ctx.say(template, cells, None, None, "", **fields)


@rule(
    "XY01",
    "结转链条断裂",
    "error",
    ("table3",),
    scope="collection",
    group_by=("agency",),
    messages=(
        "表三“{column}”列：本年上年结转 {carried_in}，但 {year} 年报结转下年度继续办理为 {carried_forward}（{path}）",
    ),
)
def xy01(contexts: list[Context]) -> Iterator[Hit]:
    """同一机关相邻两年：今年“上年结转” = 去年“结转下年度继续办理”，每一列都应相等。

    错误示例：2023 年报结转下年度 3 件，2024 年报上年结转 0 件。
    正确示例：2023 年报结转下年度 3 件，2024 年报上年结转 3 件。
    """
    for prev, this in consecutive(contexts):
        for link in carry_links(prev.num, this.num):
            if link.broken:
                yield _hit(
                    this,
                    "XY01",
                    "error",
                    1,
                    (link.cell,),
                    column=link.label,
                    carried_in=fmt(link.carried_in),
                    year=prev.report.year,
                    carried_forward=fmt(link.carried_forward),
                    path=prev.report.source.path,
                )


@rule(
    "XY02",
    "规范性文件存量不衔接",
    "warning",
    ("table2",),
    scope="collection",
    group_by=("agency",),
    messages=(
        "表二“{row}”：去年现行有效 {before} + 今年制发 {issued} − 今年废止 {repealed} = {expected}，"
        "今年现行有效印为 {in_force}",
    ),
)
def xy02(contexts: list[Context]) -> Iterator[Hit]:
    """表二（2021 年格式）存量与流量：今年现行有效 ≈ 去年现行有效 + 今年制发 − 今年废止（规章、行政规范性文件）。

    不相等时需要说明（如集中清理、口径调整）。
    错误示例：去年现行有效 50，今年制发 5、废止 2，今年现行有效印为 40。
    正确示例：今年现行有效 53。
    """
    for prev, this in consecutive(contexts):
        if prev.report.template != "2021" or this.report.template != "2021":
            continue
        for link in stock_links(prev.num, this.num):
            if link.broken:
                yield _hit(
                    this,
                    "XY02",
                    "warning",
                    1,
                    (link.cell,),
                    row=link.label,
                    before=fmt(link.in_force_before),
                    issued=fmt(link.issued),
                    repealed=fmt(link.repealed),
                    expected=fmt(link.expected),
                    in_force=fmt(link.in_force),
                )


_SWING_CELLS = (("table3/new/total", "表三本年新收申请"), ("table4/review/total", "表四行政复议"))


@rule(
    "XY03",
    "年度数据骤变",
    "notice",
    ("table3", "table4"),
    scope="collection",
    group_by=("agency",),
    messages=("{cell}从 {year} 年的 {before} 变为 {now}，变化超过五倍",),
)
def xy03(contexts: list[Context]) -> Iterator[Hit]:
    """同一机关的合计数与上一年相比增减五倍以上。

    错误示例：去年新收申请 8 件，今年 60 件，正文没有说明原因。
    正确示例：变化较大时在正文说明原因。
    """
    for prev, this in consecutive(contexts):
        for path, label in _SWING_CELLS:
            before, now = prev.num(path), this.num(path)
            if before is None or now is None or max(before, now) < 10:
                continue
            if min(before, now) == 0 or max(before, now) / min(before, now) >= 5:
                yield _hit(
                    this,
                    "XY03",
                    "notice",
                    1,
                    (path,),
                    cell=label,
                    year=prev.report.year,
                    before=fmt(before),
                    now=fmt(now),
                )


_SIMILAR = 0.9


def copy_candidates(texts: list[str]) -> set[tuple[int, int]]:
    """Pairs (i < j): text j is 90 % alike text i, the first earlier text found so (nianbao.nearcopy:
    MinHash bands instead of every pair)."""
    found = first_copies(texts, lambda i, j: similarity(texts[i], texts[j]), _SIMILAR)
    return {(i, j) for j, (i, _) in found.items()}


def similarity(a: str, b: str) -> float:
    """difflib's ratio, after its cheap upper bounds (0 when they already rule a copy out)."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < _SIMILAR or matcher.quick_ratio() < _SIMILAR:
        return 0.0
    return matcher.ratio()


@rule(
    "XY04",
    "正文照搬",
    "warning",
    ("sections",),
    scope="collection",
    group_by=("agency", "year"),
    messages=("第{numeral}部分与{relation}报告（{agency} {year} 年，{path}）相似度 {ratio}",),
)
def xy04(contexts: list[Context]) -> Iterator[Hit]:
    """第一部分或第五部分与同一机关上一年（或另一机关同年）的报告几乎相同（相似度 ≥ 90%）。

    错误示例：2024 年报第五部分与 2023 年报逐字相同。
    正确示例：每年根据实际情况写明当年的问题和改进措施。
    """
    for number in (1, 5):
        found = list(_copied_from_last_year(contexts, number))
        same_year: dict[int, list[Context]] = {}
        for ctx in contexts:
            if ctx.report.year and not ctx.report.errors and len(ctx.sections().get(number, "")) >= 50:
                same_year.setdefault(ctx.report.year, []).append(ctx)
        for group in same_year.values():
            found.extend(_copied_across_agencies(group, number))
        for a, b, relation, ratio in found:
            yield _hit(
                b,
                "XY04",
                "warning",
                1,
                numeral="一" if number == 1 else "五",
                relation=relation,
                agency=a.report.agency,
                year=a.report.year,
                path=a.report.source.path,
                ratio=f"{ratio:.0%}",
            )


Copied = tuple[Context, Context, str, float]  # source, copy, relation, similarity


def _copied_from_last_year(contexts: list[Context], number: int) -> Iterator[Copied]:
    for a, b in consecutive(contexts):
        ta, tb = a.sections().get(number, ""), b.sections().get(number, "")
        if len(ta) >= 50 and len(tb) >= 50:
            ratio = similarity(ta, tb)
            if ratio >= _SIMILAR:
                yield a, b, "上一年", ratio


def _copied_across_agencies(group: list[Context], number: int) -> Iterator[Copied]:
    """(source, copy, relation, similarity) for each text of one year's group that copies another
    agency's; the similarity is the one first_copies computed (each pair is compared once)."""
    texts = [c.sections()[number] for c in group]
    agencies = [agency_key(c.report.agency) for c in group]

    def other_agency_similarity(i: int, j: int) -> float:
        return 0.0 if agencies[i] == agencies[j] else similarity(texts[i], texts[j])

    for j, (i, ratio) in sorted(first_copies(texts, other_agency_similarity, _SIMILAR).items()):
        yield group[i], group[j], "同年另一机关", ratio


@rule(
    "XY05",
    "汇总数与分项不符",
    "error",
    ("table3", "table4"),
    scope="collection",
    group_by=("aggregate",),
    messages=("汇总报告 {cell} 为 {whole}，{count} 份成员报告之和为 {sum}",),
)
def xy05(contexts: list[Context]) -> Iterator[Hit]:
    """汇总报告（一个地区或系统的汇总）不等于同年各成员报告之和。

    哪份是汇总报告、哪些是成员，在项目文件 nianbao.toml 的 [[check.aggregate]] 中声明
    （name = 汇总机关名称，members = 成员机关名称，可用 * 通配）。
    错误示例：某区汇总报告本年新收 120 件，区内各单位年报之和为 118 件。
    正确示例：汇总数等于各成员报告之和。
    """
    aggregates = contexts[0].aggregates if contexts else ()
    for name, patterns in aggregates:
        for total_ctx in (c for c in contexts if agency_key(c.report.agency) == agency_key(name)):
            year = total_ctx.report.year
            members = [c for c in contexts if c is not total_ctx and c.report.year == year and is_member(c, patterns)]
            if not members:
                continue
            for path in ("table3/new/total", "table3/total/total", "table4/review/total"):
                whole = total_ctx.num(path)
                parts = [m.num(path) for m in members]
                known = [p for p in parts if p is not None]
                if whole is None or len(known) < len(parts):
                    continue
                if whole != sum(known):
                    sums = {"whole": fmt(whole), "count": len(members), "sum": fmt(sum(known))}
                    yield _hit(total_ctx, "XY05", "error", 1, (path,), cell=path, **sums)


_DATE_RE = re.compile(DATE_PATTERN)


def _meta_date(report: Report, key: str) -> dt.date | None:
    """The date the report's metadata gives under ``key``, if it is a real date."""
    m = _DATE_RE.search(report.meta.get(key, ""))
    try:
        return dt.date(int(m["year"]), int(m["month"]), int(m["day"])) if m else None
    except ValueError:  # 2025-02-30
        return None


def publication_date(report: Report) -> tuple[dt.date, str] | None:
    """The publication date and where it came from (page metadata), if the file carries one."""
    for key in ("published", "发布时间", "发布日期", "公开日期"):
        date = _meta_date(report, key)
        if date:
            return date, key
    return None


def deadline(report: Report) -> dt.date | None:
    if not report.year:
        return None
    return dt.date(report.year + 1, 3 if is_government(report.agency) else 1, 31)


# Dates a report cannot have been published before, with how a message names them.
_MADE_DATES = (("file_date", "文件生成日期"), ("signed", "报告落款日期"))


def _made_dates(report: Report) -> list[tuple[str, dt.date]]:
    """The dates the file carries that its publication cannot precede, named for a message."""
    dates = [(name, _meta_date(report, key)) for key, name in _MADE_DATES]
    return [(name, date) for name, date in dates if date]


def _without_publication_date(ctx: Context, made: list[tuple[str, dt.date]], due: dt.date) -> Hit:
    late = [(name, date) for name, date in made if date > due]
    if late:
        name, date = late[0]
        return _hit(ctx, "PU01", "warning", 1, made=name, date=f"{date:%Y年%m月%d日}", due=f"{due:%Y年%m月%d日}")
    known = "".join(f"（{name}为 {date:%Y年%m月%d日}）" for name, date in made)
    return _hit(ctx, "PU01", "notice", 2, known=known, due=f"{due:%Y年%m月%d日}")


@rule(
    "PU01",
    "逾期发布",
    "warning",
    ("meta",),
    scope="collection",
    group_by=("report",),
    messages=(
        "{made} {date} 已晚于规定期限 {due}，不可能按期发布",
        "文件中没有发布日期{known}，无法检查是否在 {due} 前发布",
        "发布日期 {date}（{source}）晚于规定期限 {due}",
    ),
    also_severities=("notice",),
)
def pu01(contexts: list[Context]) -> Iterator[Hit]:
    """逾期发布：县级以上政府部门应在 1 月 31 日前、县级以上人民政府应在 3 月 31 日前公布上一年度年报（条例第四十九条）。

    需要发布日期（网页的发布时间或用户提供）；没有时，文件生成日期或报告落款日期晚于期限也说明不可能按期发布，
    否则本规则说明无法检查。
    错误示例：某区教委 2024 年度报告于 2025 年 3 月 10 日发布。
    正确示例：于 2025 年 1 月 31 日前发布。
    """
    for ctx in contexts:
        r = ctx.report
        due = deadline(r)
        if due is None or r.errors:
            continue
        found = publication_date(r)
        if found is None:
            yield _without_publication_date(ctx, _made_dates(r), due)
        elif found[0] > due:
            date, source = found
            yield _hit(ctx, "PU01", "warning", 3, date=f"{date:%Y年%m月%d日}", source=source, due=f"{due:%Y年%m月%d日}")
