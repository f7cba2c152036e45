"""Rules on the report's form (ST) and cross-table plausibility (PL)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nianbao import formats
from nianbao.numbers import normalize_text
from nianbao.record import Finding
from nianbao.rules.base import SECTION_KEY, TABLE_KEY, Context, fmt, rule

_TABLE_OF_SECTION = {2: ("table2", "表二"), 3: ("table3", "表三"), 4: ("table4", "表四")}


def _canonical_heading(number: int) -> str:
    return f"{formats.CHINESE_SECTION_NUMERALS[number - 1]}、{formats.SECTIONS[number - 1].title}"


@rule(
    "ST01",
    "缺少部分",
    "error",
    ("sections",),
    messages=("缺少第{numeral}部分“{heading}”",),
)
def st01(ctx: Context) -> Iterator[Finding]:
    """六个部分之一缺失（一、总体情况 …… 六、其他需要报告的事项）。

    错误示例：报告没有“五、存在的主要问题及改进情况”。
    正确示例：六个部分齐全，按顺序排列。
    """
    if ctx.report.errors:
        return
    found = {s.number for s in ctx.report.sections}
    for section in formats.SECTIONS:
        if section.number not in found:
            # The section it names: where the reader saw a line like its heading (RD29), no error stands.
            numeral = formats.CHINESE_SECTION_NUMERALS[section.number - 1]
            heading = _canonical_heading(section.number)
            yield ctx.say(1, detail={SECTION_KEY: section.number}, numeral=numeral, heading=heading)


@rule(
    "ST02",
    "缺少统计表",
    "error",
    ("table2", "table3", "table4"),
    messages=("第{numeral}部分“{title}”没有{table}",),
)
def st02(ctx: Context) -> Iterator[Finding]:
    """第二、三、四部分没有统计表。

    只有报告中确实没有表格样的内容时才报告；找到了表格但未能读取（以图片印制、数字连写无法拆分）
    是读取的局限，不是报告的错误，只给出读取提示（RD30、RD07）。
    错误示例：第三部分只有文字，没有“收到和处理政府信息公开申请情况”表。
    正确示例：三张统计表都以表格形式印制。
    """
    if ctx.report.errors:
        return
    for number, (table, name) in _TABLE_OF_SECTION.items():
        if not getattr(ctx.report, table):  # rows read, even all blank or abstained from, are a table
            title = formats.SECTIONS[number - 1].title
            numeral = formats.CHINESE_SECTION_NUMERALS[number - 1]
            yield ctx.say(1, detail={TABLE_KEY: table}, numeral=numeral, title=title, table=name)


@rule(
    "ST03",
    "标题写法不规范",
    "notice",
    ("sections",),
    messages=("第{numeral}部分标题印为“{printed}”，规范写法为“{expected}”",),
)
def st03(ctx: Context) -> Iterator[Finding]:
    """部分标题的序号缺失或被 Word 自动编号替换（“2、”“（1）”），或标题措辞与格式不同。

    错误示例：“2、 主动公开政府信息情况”，或只写“主动公开政府信息情况”。
    正确示例：“二、主动公开政府信息情况”。
    """
    for section in ctx.report.sections:
        if section.heading:
            expected = _canonical_heading(section.number)
            numeral = formats.CHINESE_SECTION_NUMERALS[section.number - 1]
            printed = section.heading.strip()
            yield ctx.say(1, (), section.location, numeral=numeral, printed=printed, expected=expected)


@rule(
    "ST04",
    "表注缺失",
    "notice",
    ("table3",),
    messages=("表三“（二）部分公开”行缺少行注“{note}”",),
)
def st04(ctx: Context) -> Iterator[Finding]:
    """表三规定的行注被删去，如“（二）部分公开”后缺少“（区分处理的，只计这一情形，不计其他情形）”。

    错误示例：表三第三项只印“（二）部分公开”。
    正确示例：“（二）部分公开（区分处理的，只计这一情形，不计其他情形）”。
    """
    label = ctx.report.labels.get("table3/partial")
    if label is not None and "区分处理" not in label:
        yield ctx.say(1, ["table3/partial/natural"], note=formats.TABLE3_NOTE_PARTIAL)


@rule(
    "ST05",
    "格式版本与年度不符",
    "warning",
    ("table2", "table3"),
    messages=(
        "{year} 年度报告使用了 2019 年（试行）格式的表二，应使用 2021 年修订格式",
        "{year} 年度报告的表三“（六）其他处理”未按 2021 年格式分为三项",
        "{year} 年度报告使用了 2021 年修订格式的表二，该年度应使用 2019 年（试行）格式",
    ),
)
def st05(ctx: Context) -> Iterator[Finding]:
    """格式版本与报告年度不符：2021 年及以后的报告仍用 2019 年表二或不分项的“（六）其他处理”，或 2019—2020 年报告用了 2021 年格式。

    错误示例：2024 年度报告的表二仍印“本年新制作数量、本年新公开数量、对外公开总数量”。
    正确示例：2021 年及以后的报告使用国办公开办函〔2021〕30号格式。
    """
    year, r = ctx.report.year, ctx.report
    if year is None or not (r.table2 or r.table3):
        return
    modern = year >= formats.FIRST_2021_YEAR
    if modern and r.template == "2019":
        yield ctx.say(1, ["table2/regulations/made"], year=year)
    if modern and r.table3 and "other_handling" in r.table3:
        yield ctx.say(2, ["table3/other_handling/total"], year=year)
    if not modern and r.template == "2021" and r.table2:
        yield ctx.say(3, ["table2/regulations/issued"], year=year)


@rule(
    "ST06",
    "报告标题不规范",
    "notice",
    ("title",),
    messages=(
        "没有找到报告标题“<机关名称><年份>年政府信息公开工作年度报告”",
        "报告标题印为“{title}”，规范写法为“{expected}”",
    ),
)
def st06(ctx: Context) -> Iterator[Finding]:
    """报告标题不是“<机关名称><年份>年政府信息公开工作年度报告”。

    错误示例：“2024年上海市科委政府信息公开工作年度报告”（年份在前），或缺少“工作”二字。
    正确示例：“东城区城市管理指挥中心2024年政府信息公开工作年度报告”。
    """
    r = ctx.report
    if r.errors or not r.agency or not r.year:
        if not r.errors and not r.title:
            yield ctx.say(1)
        return
    expected = f"{r.agency}{r.year}年政府信息公开工作年度报告"
    if normalize_text(r.title) != expected:
        yield ctx.say(2, title=r.title, expected=expected)


# --- plausibility ----------------------------------------------------------------------------

# Bodies that may make 规章: State Council departments, provincial and 设区的市 governments.
_NO_RULE_MAKING_RE = re.compile(r"街道|乡|镇|县|(?<!自治)区(?!人民政府)|办事处|中心|所$|站$")
_RULE_MAKING_RE = re.compile(r"(省|自治区|市)人民政府$|^国务院|部$|^国家.+(局|委员会)$")


@rule(
    "PL01",
    "无规章制定权",
    "warning",
    ("table2",),
    messages=("“{agency}”没有规章制定权，但表二“规章”栏填了 {value}",),
)
def pl01(ctx: Context) -> Iterator[Finding]:
    """没有规章制定权的单位（县级机关、街道办事处、乡镇等）填报了规章件数。

    错误示例：某街道办事处表二“规章”现行有效件数填 3。
    正确示例：无规章制定权的单位，规章各栏填 0。
    """
    agency = ctx.report.agency or ""
    if not agency or _RULE_MAKING_RE.search(agency) or not _NO_RULE_MAKING_RE.search(agency):
        return
    for col in ("issued", "in_force", "made", "total_published"):
        path = f"table2/regulations/{col}"
        value = ctx.num(path)
        if value:
            yield ctx.say(1, [path], agency=agency, value=fmt(value))


@rule(
    "PL02",
    "跨表不合常理",
    "notice",
    ("table3", "table4"),
    messages=(
        "表四没有行政复议，但“复议后起诉”总计为 {after}",
        "表三结转下年度继续办理 {forward} 件，多于本年新收 {new} 件",
    ),
)
def pl02(ctx: Context) -> Iterator[Finding]:
    """跨表不合常理：没有行政复议却有“复议后起诉”，或结转下年度的申请多于本年新收。

    错误示例：表四行政复议总计 0，复议后起诉总计 2。
    正确示例：复议后起诉的案件，此前应有相应的行政复议。
    """
    review = ctx.num("table4/review/total")
    after = ctx.num("table4/litigation_after_review/total")
    if review == 0 and after:
        yield ctx.say(1, ["table4/litigation_after_review/total", "table4/review/total"], after=fmt(after))
    new, forward = ctx.num("table3/new/total"), ctx.num("table3/carried_forward/total")
    if new is not None and forward is not None and forward > max(new, 5):
        yield ctx.say(2, ["table3/carried_forward/total", "table3/new/total"], forward=fmt(forward), new=fmt(new))
