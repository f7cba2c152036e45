"""Figures the narrative states about the tables: applications, results, review and litigation,
and table 二's documents.

Each pattern says which table cells the figure may mean; a phrase that is ambiguous (收到 may
count new applications only, or new plus carried-over) lists every reading. The rule NA01 reports a
contradiction only when no reading fits; the extractor uses a figure that names one cell to choose
among the splits of run-together digits. Approximate figures (70余件, 约) and sentences about
another year are not used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from nianbao import formats

_CN_NUM = "零〇一二两三四五六七八九十百千万"
NUM = rf"(?P<n>\d+|[{_CN_NUM}]+)"
_UNIT = r"\s*(?:件|个|宗|起|条|次)"
_APPROX_AFTER = re.compile(r"^\s*(?:余|多|左右)")
_APPROX_BEFORE = re.compile(r"(?:约|近|超过|逾|上百|数)$")
_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")


def chinese_number(text: str) -> int | None:
    """An Arabic or Chinese numeral (十七, 两, 一百零五) as an int; only the captured number is
    converted, never the text around it."""
    if text.isdigit():
        return int(text)
    try:
        import cn2an

        value = cn2an.cn2an(text, "normal")
    except (ValueError, KeyError, IndexError):
        return None
    return int(value) if float(value).is_integer() else None


def _sum(keys: list[str], column: str = "total") -> tuple[str, ...]:
    return tuple(f"table3/{k}/{column}" for k in keys)


def _rows(prefix: str) -> list[str]:
    return [r.key for r in formats.TABLE3_ROWS if r.key.startswith(prefix)]


@dataclass(frozen=True)
class FactPattern:
    name: str  # what the narrative states, in Chinese, for the message
    regex: re.Pattern[str]
    readings: tuple[tuple[str, ...], ...]  # each reading: cells whose sum the figure may equal


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_T4_LITIGATION = ("table4/litigation_direct/total", "table4/litigation_after_review/total")
PATTERNS: tuple[FactPattern, ...] = (
    FactPattern(
        "收到政府信息公开申请",
        _p(
            rf"(?:收到|受理|接收|新收)[^。；，,]{{0,16}}?申请[^。；，,]{{0,8}}?(?:数量|共计|共|合计|总数|总计|为)?\s*{NUM}{_UNIT}"
        ),
        (_sum(["new"]), _sum(["new", "carried_in"])),
    ),
    FactPattern(
        "办理政府信息公开申请",
        _p(rf"办理[^。；，,]{{0,10}}?申请[^。；，,]{{0,4}}?(?:共计|共|合计|总计|为)?\s*{NUM}{_UNIT}"),
        (_sum(["new"]), _sum(["new", "carried_in"]), _sum(["total"])),
    ),
    FactPattern("予以公开", _p(rf"(?:予以公开|同意公开)(?:答复)?(?:的)?\s*{NUM}{_UNIT}"), (_sum(["granted"]),)),
    FactPattern("部分公开", _p(rf"部分公开(?:答复)?(?:的)?\s*{NUM}{_UNIT}"), (_sum(["partial"]),)),
    FactPattern("不予公开", _p(rf"不予公开(?:答复)?(?:的)?\s*{NUM}{_UNIT}"), (_sum(_rows("denied.")),)),
    FactPattern("无法提供", _p(rf"无法提供(?:答复)?(?:的)?\s*{NUM}{_UNIT}"), (_sum(_rows("unavailable.")),)),
    FactPattern("不予处理", _p(rf"不予处理(?:答复)?(?:的)?\s*{NUM}{_UNIT}"), (_sum(_rows("not_processed.")),)),
    FactPattern("其他处理", _p(rf"其他处理(?:答复)?(?:的)?\s*{NUM}{_UNIT}"), (_sum(_rows("other_handling")),)),
    FactPattern(
        "结转下年度办理",
        _p(
            rf"(?:结转|转)(?:到|至|入)?(?:下一?年度?|(?:19|20)\d{{2}}\s*年(?:度)?)(?:继续)?(?:办理)?(?:答复)?(?:的)?(?:有)?\s*{NUM}{_UNIT}"
        ),
        (_sum(["carried_forward"]),),
    ),
    FactPattern(
        "上年结转申请", _p(rf"上年(?:度)?结转[^。；，,]{{0,10}}?(?:申请)?\s*{NUM}{_UNIT}"), (_sum(["carried_in"]),)
    ),
    FactPattern(
        "行政复议",
        _p(rf"(?<!未经)(?<!复议后)行政复议(?:案件|申请)?(?:数|数量)?(?:为|共|共计)?\s*{NUM}{_UNIT}"),
        (("table4/review/total",),),
    ),
    FactPattern(
        "行政复议",
        # "1起行政复议", never across a list's 、 ("诉讼案件1件、行政复议案件2件": the 1 is 诉讼's)
        _p(rf"{NUM}{_UNIT}[^。；，,、]{{0,16}}?行政复议(?!、|和|及|与)"),
        (("table4/review/total",),),
    ),
    FactPattern(
        "行政诉讼",
        _p(rf"行政诉讼(?:案件)?(?:数|数量)?(?:为|共|共计)?\s*{NUM}{_UNIT}"),
        (_T4_LITIGATION,),
    ),
)

_DOCS = r"(?:行政)?规范性文件"
_RULES = r"(?:政府)?规章"
_ISSUED = r"(?:制发|印发|出台|制定)(?:了)?(?:的)?"
_TOTAL = rf"(?:共|共计|合计)?\s*{NUM}{_UNIT}"


def _table2(name: str, pattern: str, cell: str) -> FactPattern:
    return FactPattern(name, _p(pattern), ((f"table2/{cell}",),))


PATTERNS = (
    *PATTERNS,
    _table2("制发行政规范性文件", rf"{_ISSUED}(?:本年度)?{_DOCS}{_TOTAL}", "normative_documents/issued"),
    _table2("废止行政规范性文件", rf"废止(?:了)?(?:的)?{_DOCS}{_TOTAL}", "normative_documents/repealed"),
    _table2("现行有效行政规范性文件", rf"现行有效(?:的)?{_DOCS}{_TOTAL}", "normative_documents/in_force"),
    _table2("制发规章", rf"{_ISSUED}{_RULES}{_TOTAL}", "regulations/issued"),
    _table2("现行有效规章", rf"现行有效(?:的)?{_RULES}{_TOTAL}", "regulations/in_force"),
)

# Statements that a whole table is zero.
NO_REVIEW_RE = re.compile(
    r"(?:未发生|未产生|没有发生|没有产生|无|未出现|未有)[^。；]{0,24}?行政复议[^。；]{0,4}?行政诉讼"
)
NO_APPLICATION_RE = re.compile(
    r"(?:无|没有|未收到|未发生|未产生)(?:任何)?(?:政府信息公开|依申请公开|信息公开)?(?:申请|案件|申请件)?"
    r"(?:的)?(?:依申请公开|政府信息公开申请|依申请公开案件|依申请信息公开)"
)


@dataclass(frozen=True)
class Fact:
    name: str
    value: int
    readings: tuple[tuple[str, ...], ...]
    quote: str
    section: int


def sentences(text: str) -> Iterator[str]:
    # Line breaks are layout (PDF lines wrap inside sentences); sentences end at 。；！？
    for sentence in re.split(r"(?<=[。；！？])", text.replace("\n", "")):
        if sentence.strip():
            yield sentence.strip()


def facts_in(text: str, section: int, year: int | None) -> Iterator[Fact]:
    for sentence in sentences(text):
        years = {int(y) for y in _YEAR_RE.findall(sentence)}
        if year is not None and years - {year, year + 1}:
            continue  # about another year (last year's figures, plans for later)
        for pattern in PATTERNS:
            for m in pattern.regex.finditer(sentence):
                if _APPROX_AFTER.match(sentence[m.end() :]) or _APPROX_BEFORE.search(sentence[: m.start("n")]):
                    continue
                value = chinese_number(m.group("n"))
                if value is not None:
                    yield Fact(pattern.name, value, pattern.readings, m.group(0), section)
