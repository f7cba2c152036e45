"""Rules on the narrative: its figures against the tables, years, section 五, fees, 第五十条 (NA)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nianbao.errors import reading
from nianbao.facts import Fact, ZeroFact, facts_in, zero_facts_in
from nianbao.record import Finding
from nianbao.rules.base import Context, cell_name, fmt, is_government, rule


@rule(
    "NA01",
    "正文数字与表格矛盾",
    "error",
    ("sections", "table3", "table4"),
    messages=("正文“{quote}”与统计表不符：表中对应的数为 {shown}", "正文称“{quote}”，但{named}"),
    also_codes=("RD31",),
)
def na01(ctx: Context) -> Iterator[Finding]:
    """正文陈述的数字与统计表矛盾（申请数、办理结果、结转、复议诉讼，含“十七件”这样的中文数字）。

    一组结果合写的数字与这组行之和比较（“予以公开及部分公开 N 件”“无法提供 N 件”“答复 N 件”）；
    否定只及于它所否定的内容（“未发生被行政复议纠错”只说没有结果纠正）。“收到申请”可能指本年新收，
    也可能含上年结转：只有所有读法都不相符时才报告。说的可能是其他单位（“全市”“各部门”）的数字
    与表格不符时，只作读取提示（RD31）。
    错误示例：正文“收到政府信息公开申请 17 件”，表三本年新收总计 16、上年结转 0。
    正确示例：正文“予以公开及部分公开 30 件”，表三予以公开 22、部分公开 8。
    """
    r = ctx.report
    for section in r.sections:
        for fact in facts_in(section.text, section.number, r.year):
            found = _contradiction(ctx, fact, section.location)
            if found is not None:
                yield found
        for zero in zero_facts_in(section.text, section.number):
            yield from _zero_claim(ctx, zero, section.location)


def _contradiction(ctx: Context, fact: Fact, where: dict[str, object]) -> Finding | None:
    # A printed blank is not a known 0 when the text states a figure for it.
    readings = [None if ctx.blanks_among(cells) else ctx.nums(cells) for cells in fact.readings]
    sums = [sum(v) for v in readings if v is not None]
    if not sums or fact.value in sums:
        return None
    shown = "，".join(f"{fmt(s)}" for s in sorted(set(sums)))
    # Located at the narrative (its section); the table cells are named.
    finding = ctx.say(1, fact.readings[0], where or None, quote=fact.quote, shown=shown)
    return finding if fact.certain else uncertain_phrase(finding, "所说的可能不是本机关的数字")


def uncertain_phrase(finding: Finding, why: str) -> Finding:
    """RD31: a narrative figure that would contradict the table, but whose phrase is not certain."""
    return reading(
        UNCERTAIN_PHRASE_CODE, finding=finding.message, why=why, cells=finding.cells, location=finding.location
    )


UNCERTAIN_PHRASE_CODE = "RD31"


def _zero_claim(ctx: Context, zero: ZeroFact, where: dict[str, object]) -> Iterator[Finding]:
    values = ctx.nums(zero.claim.cells)
    if values is None or not any(values):
        return
    named = "、".join(f"{cell_name(c)} {fmt(v)}" for c, v in zip(zero.claim.cells, values) if v)
    yield ctx.say(2, zero.claim.cells, where or None, quote=zero.quote, named=named)


_PERIOD_RE = re.compile(
    r"统计(?:期限|时限|周期|区间|期|时间)[^。]{0,12}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日[^。]{0,6}?(?:至|到|—|-)\s*((?:19|20)\d{2})?\s*年?\s*12\s*月\s*31\s*日"
)
_CARRY_TO_RE = re.compile(r"结转(?:到|至)\s*((?:19|20)\d{2})\s*年")


@rule(
    "NA02",
    "年份不一致",
    "warning",
    ("sections", "title"),
    messages=(
        "统计期限“{period}”与报告年度 {year} 不符",
        "“{phrase}”：{year} 年度报告的未办结申请应结转到 {next_year} 年",
    ),
)
def na02(ctx: Context) -> Iterator[Finding]:
    """统计期限、标题年份和正文中的年份不一致。

    错误示例：2024 年度报告写“结转到2024年”，或统计期限写成 2023 年 1 月 1 日至 12 月 31 日。
    正确示例：2024 年度报告的结转写“结转到2025年”，统计期限为 2024 年。
    """
    year = ctx.report.year
    if year is None:
        return
    for section in ctx.report.sections:
        for m in _PERIOD_RE.finditer(section.text):
            stated = {int(y) for y in m.groups() if y}
            if stated != {year}:
                yield ctx.say(1, (), section.location, period=m.group(0), year=year)
        for m in _CARRY_TO_RE.finditer(section.text):
            if int(m.group(1)) != year + 1:
                yield ctx.say(2, (), section.location, phrase=m.group(0), year=year, next_year=year + 1)


_PROBLEM_WORDS = (
    "问题",
    "不足",
    "薄弱",
    "差距",
    "有待",
    "不够",
    "欠缺",
    "短板",
    "单一",
    "不高",
    "不强",
    "滞后",
    "较少",
    "仍需",
    "尚需",
    "不到位",
    "不规范",
    "不及时",
    "不够",
)
_MEASURE_WORDS = ("改进", "措施", "加强", "将", "下一步", "推进", "完善", "提升", "整改", "强化")


@rule(
    "NA03",
    "问题与改进不具体",
    "warning",
    ("sections",),
    messages=(
        "第五部分内容过于简单（“{text}”），应写明存在的主要问题和改进措施",
        "第五部分没有同时写明具体问题和改进措施",
    ),
)
def na03(ctx: Context) -> Iterator[Finding]:
    """第五部分为空、写“无”，或没有写出具体问题和改进措施。

    错误示例：“五、存在的主要问题及改进情况”下只写“无”。
    正确示例：写明“政策解读形式单一”等具体问题，以及“增加图解、视频解读”等改进措施。
    """
    sections = {s.number: s for s in ctx.report.sections}
    if 5 not in sections:
        return
    section = sections[5]
    text = section.text.strip().rstrip("。")
    if len(text) < 15 or text in ("无", "暂无", "没有"):
        yield ctx.say(1, (), section.location, text=section.text.strip()[:30])
    elif not any(w in text for w in _PROBLEM_WORDS) or not any(w in text for w in _MEASURE_WORDS):
        yield ctx.say(2, (), section.location)


_FEE_NUMBER = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)"
_NOTICE_RE = re.compile(
    rf"(?:发出|发送|下发)?收费通知(?:书)?(?:的)?(?:件数|数量)?(?:为|共|共计)?\s*{_FEE_NUMBER}\s*(?:件|份|次)"
)
_COLLECTED_RE = re.compile(
    rf"实际收取(?:的)?(?:信息处理费)?(?:总)?(?:金额)?(?:为|共|共计)?\s*{_FEE_NUMBER}\s*(?:万元|元)"
)
_ALL_ZERO_RE = re.compile(
    r"(?:均|都|皆)为\s*(?:0|零)|(?:未|没有|无|不)(?:发出|发生|收取|产生)[^。；]{0,10}?(?:收费通知|信息处理费)"
)


@rule(
    "NA04",
    "信息处理费说明",
    "warning",
    ("sections",),
    messages=(
        "第六部分未按规定说明信息处理费：发出收费通知的件数和总金额、实际收取的总金额{shown}",
        "第六部分称发出收费通知 0 件，却实际收取信息处理费（“{quote}”）",
        "第六部分实际收取金额（{collected}）大于收费通知金额（{notified}）",
    ),
    also_severities=("error",),
)
def na04(ctx: Context) -> Iterator[Finding]:
    """第六部分（2021 年及以后的报告）缺少信息处理费的说明：发出收费通知的件数和总金额、实际收取的总金额（“均为0”即可）。

    实际收取多于通知金额，或没有发出通知却收取了费用，属于错误。
    错误示例：第六部分只写“本单位不存在行政事业性收费”。
    正确示例：“发出收费通知的件数和总金额以及实际收取的总金额均为0。”
    """
    r = ctx.report
    if r.year is None or r.year < 2021 or r.errors:
        return
    sections = {s.number: s for s in r.sections}
    section = sections.get(6)
    text = section.text if section else ""
    location = section.location if section else {}
    mentions = "信息处理费" in text or "收费通知" in text
    if not mentions or not (_ALL_ZERO_RE.search(text) or (_NOTICE_RE.search(text) and _COLLECTED_RE.search(text))):
        quoted = text.replace("\n", "").strip()
        shown = f"（第六部分为“{quoted[:40]}{'……' if len(quoted) > 40 else ''}”）" if quoted else ""
        yield ctx.say(1, (), location, shown=shown)
        return
    yield from _impossible_fees(ctx, text, location)


def _impossible_fees(ctx: Context, text: str, location: dict[str, object]) -> Iterator[Finding]:
    from nianbao.facts import chinese_number

    notice = _NOTICE_RE.search(text)
    collected = _COLLECTED_RE.search(text)
    if not collected:
        return
    amount = float(collected.group(1)) if collected.group(1)[0].isdigit() else chinese_number(collected.group(1))
    count = chinese_number(notice.group(1)) if notice else None
    if amount and count == 0:
        yield ctx.say(2, (), location, severity="error", quote=collected.group(0))
    notified = re.search(rf"(?:通知|总)金额(?:为|共|共计)?\s*{_FEE_NUMBER}\s*(?:万元|元)", text)
    if notified and amount is not None and notified.group(1)[0].isdigit() and amount > float(notified.group(1)):
        yield ctx.say(3, (), location, severity="error", collected=fmt(amount), notified=notified.group(1))


@rule(
    "NA05",
    "未报告考核评议追责",
    "warning",
    ("sections",),
    messages=("“{agency}”是人民政府（或其办公室）的年报，正文未写{missing}情况（条例第五十条）",),
)
def na05(ctx: Context) -> Iterator[Finding]:
    """人民政府（或代其报告的政府办公室/厅）的年报没有写工作考核、社会评议和责任追究结果（条例第五十条）。

    错误示例：某区人民政府年报全文未提及政府信息公开工作考核、社会评议和责任追究。
    正确示例：在第六部分或第一部分写明工作考核、社会评议和责任追究的结果。
    """
    agency = ctx.report.agency or ""
    if not is_government(agency) or ctx.report.errors:
        return
    text = ctx.text()
    missing = [w for w in ("考核", "评议", "责任追究") if w not in text]
    if missing:
        yield ctx.say(1, agency=agency, missing="、".join(missing))
