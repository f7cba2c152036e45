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
    """One kind of phrase the narrative states a figure in, and what the figure is compared with.

    ``readings``: each is a set of cells whose sum the figure may equal (one must fit). ``certain``:
    False for a phrase whose scope is not sure (a contradiction is then a reading notice, RD31, not
    an error). The catalogue is searched in order and a figure belongs to the first phrase that
    takes it: a group phrase (予以公开及部分公开 30 件) is listed before the phrases inside it
    (部分公开 N 件), so its figure is never read as the narrower one's.
    """

    name: str  # what the narrative states, in Chinese, for the message
    regex: re.Pattern[str]
    readings: tuple[tuple[str, ...], ...]  # each reading: cells whose sum the figure may equal
    certain: bool = True


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _result(words: str) -> str:
    """A result phrase followed by its figure: 无法提供的 10 件, 不予处理答复 0 件, 不予公开 2 件."""
    return rf"(?:{words})(?:答复|决定|告知)?(?:的)?(?:申请)?(?:共|为|有)?{_PERCENT_FIRST}\s*{NUM}{_UNIT}"


# A share printed before the count it stands for: 予以公开 25.7%（9 件）.
_PERCENT_FIRST = r"(?:\s*(?:占比|占)?\s*\d+(?:\.\d+)?\s*[%％]\s*[（(]?)?"


# 2021 reports split （六）其他处理 into three rows, 2019 reports print it as one: either fits.
_OTHER_HANDLING = (_sum(_rows("other_handling.")), _sum(["other_handling"]))
_T4_LITIGATION = ("table4/litigation_direct/total", "table4/litigation_after_review/total")
PATTERNS: tuple[FactPattern, ...] = (
    # Group totals: one figure for several result rows.
    FactPattern(
        "予以公开及部分公开",
        _p(_result(r"(?:予以公开|全部公开|同意公开)(?:及|和|与|、|或)部分公开")),
        (_sum(["granted", "partial"]),),
    ),
    FactPattern("无法提供", _p(_result("无法提供")), (_sum(_rows("unavailable.")),)),
    FactPattern("不予处理", _p(_result("不予处理")), (_sum(_rows("not_processed.")),)),
    FactPattern("其他处理", _p(_result("其他处理")), _OTHER_HANDLING),
    FactPattern("不予公开", _p(_result("不予公开")), (_sum(_rows("denied.")),)),
    FactPattern("部分公开", _p(_result("部分公开")), (_sum(["partial"]),)),
    FactPattern("予以公开", _p(_result("予以公开|同意公开|全部公开")), (_sum(["granted"]),)),
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
    # The applications answered or closed: table 三's （七）总计.
    FactPattern(
        "答复（办结）政府信息公开申请",
        _p(rf"(?:答复|办结)[^。；，,]{{0,10}}?申请[^。；，,]{{0,4}}?(?:共计|共|合计|总计|为)?\s*{NUM}{_UNIT}"),
        (_sum(["total"]),),
    ),
    FactPattern(
        "答复（办结）政府信息公开申请",
        _p(rf"申请[^。；]{{0,20}}?(?:全部|均已|已)?(?:答复|办结)(?:了)?(?:共计|共|合计|总计)?\s*{NUM}{_UNIT}"),
        (_sum(["total"]),),
    ),
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
    # Outcomes: a review that corrected the agency (被纠错), a suit it lost (败诉): 结果纠正.
    FactPattern(
        "行政复议被纠错",
        _p(rf"复议[^。；，,、]{{0,10}}?(?:被)?(?:纠错|纠正)(?:的)?(?:案件)?(?:共|为)?\s*{NUM}{_UNIT}"),
        (("table4/review/corrected",),),
    ),
    FactPattern(
        "行政诉讼败诉",
        _p(rf"诉讼[^。；，,、]{{0,10}}?败诉(?:的)?(?:案件)?(?:共|为)?\s*{NUM}{_UNIT}"),
        (("table4/litigation_direct/corrected", "table4/litigation_after_review/corrected"),),
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

# --- statements that cells are zero, with the scope of their negation --------------------------
# "全年未发生因依申请公开被行政复议纠错或行政诉讼败诉情形" denies that a review *corrected* the agency
# and that a suit was *lost* (结果纠正), not that there was any review or suit. A negation's scope is
# read up to the clause's end (，), never beyond: "未发生行政复议、行政诉讼，未发生纠错" denies both.
# 无 negates, but not in 无法提供 or 无正当理由 (names of results, not denials).
_NO = r"(?:未发生|未产生|没有发生|没有产生|未出现|没有出现|未有|没有|无(?!法|正当|需))"
_CORRECTED = r"(?:纠错|纠正|撤销|变更|确认违法)"
_T4_CORRECTED = tuple(f"table4/{g.key}/corrected" for g in formats.TABLE4_GROUPS)
_T4_TOTALS = tuple(f"table4/{g.key}/total" for g in formats.TABLE4_GROUPS)


@dataclass(frozen=True)
class ZeroClaim:
    """A phrase saying some cells are all zero: the cells it is compared with."""

    name: str  # what the narrative denies, in Chinese, for the message
    regex: re.Pattern[str]
    cells: tuple[str, ...]


ZERO_CLAIMS: tuple[ZeroClaim, ...] = (
    ZeroClaim(
        "行政复议被纠错或行政诉讼败诉",
        _p(rf"{_NO}[^。；，]{{0,30}}?复议[^。；，]{{0,12}}?{_CORRECTED}[^。；，]{{0,12}}?诉讼[^。；，]{{0,8}}?败诉"),
        _T4_CORRECTED,
    ),
    ZeroClaim(
        "行政复议、行政诉讼被纠错",
        _p(rf"行政复议[^。；，]{{0,10}}?行政诉讼[^。；，]{{0,12}}?均未(?:被)?[^。；，]{{0,8}}?(?:{_CORRECTED}|败诉)"),
        _T4_CORRECTED,
    ),
    ZeroClaim(
        "行政复议被纠错",
        _p(
            rf"(?:{_NO}[^。；，]{{0,30}}?复议[^。；，]{{0,12}}?|复议[^。；，]{{0,16}}?未被[^。；，]{{0,12}}?){_CORRECTED}"
        ),
        ("table4/review/corrected",),
    ),
    ZeroClaim(
        "行政诉讼败诉",
        _p(rf"{_NO}[^。；，]{{0,20}}?诉讼[^。；，]{{0,8}}?败诉|诉讼[^。；，]{{0,12}}?未(?:出现|发生|有)?败诉"),
        _T4_CORRECTED[1:],
    ),
    ZeroClaim(
        "行政复议、行政诉讼",
        _p(
            rf"{_NO}[^。；，]{{0,24}}?行政复议[^。；，]{{0,4}}?行政诉讼(?![^。；，]{{0,12}}?(?:{_CORRECTED}|败诉))"
            r"|行政复议[、和及与]?行政诉讼(?:案件|情况)?(?:均未发生|均无|均未出现)"
        ),
        _T4_TOTALS,
    ),
    ZeroClaim(
        "依申请公开",
        _p(
            r"(?:无|没有|未收到|未发生|未产生)(?:任何)?(?:政府信息公开|依申请公开|信息公开)?(?:申请|案件|申请件)?"
            r"(?:的)?(?:依申请公开|政府信息公开申请|依申请公开案件|依申请信息公开)"
        ),
        ("table3/new/total",),
    ),
)


@dataclass(frozen=True)
class ZeroFact:
    claim: ZeroClaim
    quote: str
    section: int


def zero_facts_in(text: str, section: int) -> Iterator[ZeroFact]:
    """Each zero claim once: where two claims read the same words, the first in the catalogue
    (the narrower scope) takes them."""
    for sentence in sentences(text):
        if "复议" not in sentence and "诉讼" not in sentence and "申请" not in sentence:
            continue  # every claim names reviews, suits or applications
        taken: list[tuple[int, int]] = []
        for claim in ZERO_CLAIMS:
            for m in claim.regex.finditer(sentence):
                if any(m.start() < b and a < m.end() for a, b in taken):
                    continue
                taken.append(m.span())
                yield ZeroFact(claim, m.group(0), section)


@dataclass(frozen=True)
class Fact:
    name: str
    value: int
    readings: tuple[tuple[str, ...], ...]
    quote: str
    section: int
    certain: bool = True


def sentences(text: str) -> Iterator[str]:
    # Line breaks are layout (PDF lines wrap inside sentences); sentences end at 。；！？
    for sentence in re.split(r"(?<=[。；！？])", text.replace("\n", "")):
        if sentence.strip():
            yield sentence.strip()


# A figure about other units than the reporting one (a government's report summing its region).
_OTHER_UNITS_RE = re.compile(
    r"全市|全区|全县|全省|全州|全旗|各级|各地|各部门|各单位|各乡镇|各街道|各区|各县|下辖|所属|系统内"
)
# A change from last year, not a count: 同比增加 5 件, 较上年减少 3 件.
_CHANGE_BEFORE = re.compile(r"(?:增加|减少|增长|下降|上升|多|少)了?\s*$")


def facts_in(text: str, section: int, year: int | None) -> Iterator[Fact]:
    for sentence in sentences(text):
        years = {int(y) for y in _YEAR_RE.findall(sentence)}
        if year is not None and years - {year, year + 1}:
            continue  # about another year (last year's figures, plans for later)
        yield from _sentence_facts(sentence, section)


# Every phrase ends in a count (a numeral and its unit): a sentence without one is not searched.
_COUNT_RE = re.compile(rf"[\d{_CN_NUM}]{_UNIT}")


def _sentence_facts(sentence: str, section: int) -> Iterator[Fact]:
    if not _COUNT_RE.search(sentence):
        return
    taken: set[int] = set()  # a figure belongs to the first phrase of the catalogue that reads it
    for pattern in PATTERNS:
        for m in pattern.regex.finditer(sentence):
            n = m.start("n")
            if n in taken:
                continue
            taken.add(n)
            before = sentence[:n]
            if (
                _APPROX_AFTER.match(sentence[m.end() :])
                or _APPROX_BEFORE.search(before)
                or _CHANGE_BEFORE.search(before)
            ):
                continue
            value = chinese_number(m.group("n"))
            if value is not None:
                certain = pattern.certain and not _OTHER_UNITS_RE.search(before)
                yield Fact(pattern.name, value, pattern.readings, m.group(0), section, certain)
