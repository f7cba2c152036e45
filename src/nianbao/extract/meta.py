"""Title, agency, report year and the six sections."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from nianbao import formats
from nianbao.errors import reading
from nianbao.facts import chinese_number
from nianbao.model import Block, Document, Location, Paragraph, Table
from nianbao.numbers import DATE_PATTERN, normalize_text
from nianbao.record import Finding, SectionText

_REPORT = r"政府信息公开(?:工作)?(?:年度)?(?:工作)?报告"
_TITLE_PATTERNS = (
    re.compile(rf"^(?P<agency>[^\d]{{2,40}}?)[（(]?(?P<year>(?:19|20)\d{{2}})年度?[）)]?{_REPORT}"),
    re.compile(rf"^(?P<year>(?:19|20)\d{{2}})年度?(?P<agency>[^\d]{{2,40}}?){_REPORT}"),
    re.compile(rf"^(?P<agency>[^\d]{{2,40}}?){_REPORT}[（(](?P<year>(?:19|20)\d{{2}})年?度?[）)]"),
)
_TITLE_NOISE = re.compile(r"^#+|^(?:标题|名称|题目|正文|文章标题)[:：]?|^正文")
_AGENCY_TRIM = re.compile(r"^(?:关于)|[-—_|].*$|(?:关于)$")
_PERIOD_RE = re.compile(
    r"(?:统计期限|统计时限|统计期|统计周期|统计区间|统计时间)[^。]{0,20}?(?P<year>(?:19|20)\d{2})年"
)
_ANY_YEAR_RE = re.compile(r"((?:19|20)\d{2})年")
# A printed section number: 一、 2、 （1） 1. 五．
# （一） with a Chinese numeral numbers a sub-heading, so it is not among them.
_NUMBERING = r"(?:[一二三四五六七八九十]+[、.．]|[（(][1-6][）)]|[1-6][、.．])?"
_NUMBERING_RE = re.compile(_NUMBERING)
_OPENING_NUMBER_RE = re.compile(r"\s*(?:[一二三四五六][、.．]|[（(][一二三四五六][）)]|[1-6][、.．])")
_SUBHEADING_RE = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]")


@dataclass(frozen=True)
class Title:
    text: str
    agency: str | None
    year: int | None


def _lines(doc: Document, limit: int = 40) -> list[str]:
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Table):
            out.extend(row[0].text for row in block.rows if row)
        if len(out) >= limit:
            break
    return out


def find_title(doc: Document) -> Title:
    """The printed title; else the title the file declares (a web page's ArticleTitle)."""
    raw = _lines(doc)
    for i, line in enumerate(raw):
        following = raw[i + 1] if i + 1 < len(raw) else ""
        if "报告" not in line and "报告" not in following:
            continue
        here, after = _TITLE_NOISE.sub("", normalize_text(line)), _TITLE_NOISE.sub("", normalize_text(following))
        title = _title_in(here)
        # A title broken over two lines is read joined, unless the next line is a title alone
        # (then this line is something above it: a portal's breadcrumb ends in 政府信息公开年报).
        if title is None and _title_in(after) is None:
            title = _title_in(here + after)
        if title is not None:
            return title
    return _title_in(normalize_text(doc.meta.get("page_title", ""))) or Title("", None, None)


def _title_in(text: str) -> Title | None:
    for pattern in _TITLE_PATTERNS:
        m = pattern.search(text)
        if m:
            agency = _AGENCY_TRIM.sub("", m.group("agency")).strip("：: ")
            return Title(m.group(0), agency or None, int(m.group("year")))
    return None


_PUBLISHED_RE = re.compile(rf"(?:发布时间|发布日期|公开日期|发文日期|印发日期)[:：]?\s*({DATE_PATTERN})")


# A portal's metadata table (标题, 索引号, 发布日期…) is short.
_METADATA_ROWS = 12
_METADATA_CHARS = 200


def find_published(doc: Document, limit: int = 80) -> str:
    """The page's publication date (crawler header, portal metadata table), as printed, or ""."""
    seen = 0
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            texts = [block.text]
        elif len(block.rows) > _METADATA_ROWS:
            seen += len(block.rows)  # a table of the report itself, not the page's metadata
            texts = []
        else:
            texts = [" ".join([c.text for c in row]) for row in block.rows]
        for text in texts:
            # A metadata line is short, or begins a run-together header; every label ends in 日期
            # or 时间. Narrative paragraphs are not normalised whole.
            head = text[:_METADATA_CHARS]
            if "日" in head or "时" in head:
                m = _PUBLISHED_RE.search(normalize_text(head))
                if m:
                    return m.group(1)
            seen += 1
        if seen > limit:
            break
    return ""


# The date a report is signed (落款日期): a paragraph holding nothing but a date, under the title
# (``（2026年1月23日）``) or at the end below the agency; in figures or in Chinese numerals
# (``二〇二六年一月二十三日``). A Chinese month or day is a numeral as written (三, 十二, 二十三),
# never digits side by side (一一).
_CN_DAY = r"(?=[一二三四五六七八九十])(?:[一二三四五六七八九]?十)?[一二三四五六七八九]?"
_SIGNED_RE = re.compile(
    rf"^[（(〔]?\s*(?P<y>(?:19|20)\d{{2}}|[〇零一二三四五六七八九]{{4}})\s*年\s*(?P<m>\d{{1,2}}|{_CN_DAY})\s*月"
    rf"\s*(?P<d>\d{{1,2}}|{_CN_DAY})\s*日\s*[）)〕]?$"
)
_SIGNED_NEAR = 6  # paragraphs from the top or the end where a signing date is looked for


def find_signed(doc: Document) -> str:
    """The report's signing date as ``YYYY-MM-DD`` (first paragraphs, then last), or ""."""
    # Only the ends of the document are looked at, not every paragraph of it.
    first = (b.text for b in doc.blocks if isinstance(b, Paragraph))
    last = (b.text for b in reversed(doc.blocks) if isinstance(b, Paragraph))
    for text in itertools.chain(itertools.islice(first, _SIGNED_NEAR), itertools.islice(last, _SIGNED_NEAR)):
        m = _SIGNED_RE.match(text.strip())
        if not m:
            continue
        year, month, day = (chinese_number(m.group(part)) for part in ("y", "m", "d"))
        try:
            return dt.date(year or 0, month or 0, day or 0).isoformat()
        except ValueError:  # no such day (二月三十日, 九十月)
            continue
    return ""


def fallback_year(text: str) -> int | None:
    m = _PERIOD_RE.search(text)
    if m:
        return int(m.group("year"))
    m = _ANY_YEAR_RE.search(text)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class _Heading:
    number: int
    printed: str
    block: int
    start: int  # character offset of the heading inside the block's text
    end: int  # character offset of the heading's end inside the text of block ``last``
    location: Location
    last: int = -1  # the block the heading ends in, when it is split over two (-1: ``block``)

    @property
    def end_block(self) -> int:
        return self.block if self.last < 0 else self.last


def _heading_matches(text: str, section: formats.Section) -> bool:
    return any(all(k in text for k in alt) for alt in section.keys)


_HEADING_WORDS_RE = re.compile(
    "|".join(sorted({re.escape(alt[0]) for section in formats.SECTIONS for alt in section.keys}))
)


@lru_cache(maxsize=4096)  # headings repeat from report to report
def _line_heading(text: str, after: int) -> int | None:
    """The section a short paragraph heads, if it is a heading (numbering optional)."""
    compact = text.replace(" ", "").replace("\u3000", "")
    if len(compact) > 80 or not _HEADING_WORDS_RE.search(compact):
        return None
    normalized = normalize_text(text)
    norm = normalized.lstrip("#").strip()
    if len(norm) > 34 or norm.endswith(("。", "；")):
        return None
    sub = _SUBHEADING_RE.match(norm)
    prefix = sub or _NUMBERING_RE.match(norm)
    numbering = prefix.group(0) if prefix else ""
    body = norm[len(numbering) :]
    for section in formats.SECTIONS:
        if section.number <= after or not _heading_matches(body, section) or len(body) > len(section.title) + 12:
            continue
        # （一） numbers sub-headings (（一）主动公开情况 under 一、总体情况); it numbers a section only
        # when its numeral is the section's own and the line holds the section's title.
        if sub and (sub.group(1) != formats.CHINESE_SECTION_NUMERALS[section.number - 1] or section.title not in body):
            continue
        # Without its numbering a line heads a section only when it starts like the title.
        if numbering or body.startswith((section.title[:4], *(alt[0] for alt in section.keys))):
            return section.number
    return None


_INLINE_RE = re.compile(r"(?P<num>[一二三四五六])[、.．]\s*")


def _inline_headings(text: str, block: int, location: Location, after: int) -> list[_Heading]:
    """Headings run into a long paragraph (crawler dumps): they need their 一、 numbering."""
    found: list[_Heading] = []
    for m in _INLINE_RE.finditer(text):
        expected = formats.CHINESE_SECTION_NUMERALS.index(m.group("num")) + 1
        window = normalize_text(text[m.end() : m.end() + 40])
        for section in formats.SECTIONS:
            if section.number != expected or section.number <= after:
                continue
            if any(
                window.startswith(alt[0]) or (len(alt) > 1 and all(k in window[:26] for k in alt))
                for alt in section.keys
            ):
                end = m.end() + _title_length(text[m.end() :], section)
                found.append(_Heading(section.number, text[m.start() : end].strip(), block, m.start(), end, location))
                after = section.number
    return found


def _title_length(rest: str, section: formats.Section) -> int:
    """Characters of ``rest`` taken by the heading's title (up to its last key word)."""
    last = 0
    for alt in section.keys:
        for key in alt:
            i = rest.find(key)
            if 0 <= i < 40:
                last = max(last, i + len(key))
    tail = re.match(r"情况|事项", rest[last:])
    return last + (tail.end() if tail else 0)


def find_sections(doc: Document) -> list[SectionText]:
    return sections_of(doc, _find_headings(doc))


def read_sections(doc: Document, read_tables: set[str]) -> tuple[list[SectionText], list[Finding]]:
    """The six sections, and the reading notices for what was seen but not read (RD29, RD30)."""
    headings = _find_headings(doc)
    return sections_of(doc, headings), reading_doubts(doc, headings, read_tables)


def sections_of(doc: Document, headings: list[_Heading]) -> list[SectionText]:
    blocks = doc.blocks
    sections: list[SectionText] = []
    for n, h in enumerate(headings):
        nxt = headings[n + 1] if n + 1 < len(headings) else None
        parts: list[str] = []
        for i in range(h.end_block, nxt.block + 1 if nxt is not None else len(blocks)):
            para = blocks[i]
            if not isinstance(para, Paragraph):
                continue
            start = h.end if i == h.end_block else 0
            end = nxt.start if nxt is not None and i == nxt.block else len(para.text)
            chunk = para.text[start:end].strip()
            if chunk:
                parts.append(chunk)
        title = formats.SECTIONS[h.number - 1].title
        text = _cut_tables("\n".join(parts))
        shown = h.printed.strip().lstrip("#").strip()  # a Markdown heading's marks are not printed
        printed = normalize_text(shown)
        heading = "" if printed == f"{formats.CHINESE_SECTION_NUMERALS[h.number - 1]}、{title}" else shown
        sections.append(SectionText(h.number, title, text, heading, h.location))
    return sections


def _find_headings(doc: Document) -> list[_Heading]:
    found: list[_Heading] = []
    after = 0
    blocks = doc.blocks
    skip = -1
    for i, block in enumerate(blocks):
        if not isinstance(block, Paragraph) or i <= skip:
            continue
        heading = _heading_at(blocks, i, after)
        if heading is not None:
            found.append(heading)
            after, skip = heading.number, heading.end_block
            continue
        # A heading run into its paragraph (crawler dumps), or into its first sentence on one line
        # (五、存在的主要问题及改进情况 一是…), however short the line.
        inline = _inline_headings(block.text, i, block.location, after)
        found.extend(inline)
        after = inline[-1].number if inline else after
    return found


_SHORT = 34  # a heading line is no longer than this (compact characters)
_SPLIT_PART = 16  # the first part of a heading split over two paragraphs is short


def _heading_at(blocks: Sequence[Block], i: int, after: int) -> _Heading | None:
    """The heading paragraph ``i`` holds, alone or with the next paragraph: a web page or a PDF
    line break may split 一、 from 总体情况, or 一、收到和处理政府 from 信息公开申请情况."""
    block = blocks[i]
    assert isinstance(block, Paragraph)
    number = _line_heading(block.text, after)
    if number is not None:
        return _Heading(number, block.text, i, 0, len(block.text), block.location)
    nxt = blocks[i + 1] if i + 1 < len(blocks) else None
    if len(block.text) > _SPLIT_PART * 4 or not isinstance(nxt, Paragraph) or len(nxt.text) > _SHORT * 4:
        return None  # not two short lines (and long texts are not copied by strip())
    first, second = block.text.strip(), nxt.text.strip() if isinstance(nxt, Paragraph) else ""
    if not first or not second or len(first) > _SPLIT_PART or len(second) > _SHORT:
        return None
    number = _line_heading(first + second, after)
    # The next paragraph may be a heading of its own: then this one joins it only when it opens
    # with a section's numbering (一、 / 三、收到和).
    if number is None or (_line_heading(second, after) is not None and not _OPENING_NUMBER_RE.match(first)):
        return None
    assert isinstance(nxt, Paragraph)
    return _Heading(number, f"{first}{second}", i, 0, len(nxt.text), block.location, i + 1)


_TABLE_START = re.compile(r"第二十条\s*第|（本列数据的勾稽关系|申请人情况|行政复议\s*行政诉讼")


def _cut_tables(text: str) -> str:
    """Section text of a crawler dump stops where a run-together table begins."""
    m = _TABLE_START.search(text)
    return text[: m.start()].strip() if m else text


# --- what the reader saw but could not read (the rules do not call it missing) ------------------

SECTION_DOUBT_CODE = "RD29"
TABLE_DOUBT_CODE = "RD30"
_TABLE_OF_SECTION = {2: ("table2", "表二"), 3: ("table3", "表三"), 4: ("table4", "表四")}
# Words only a table's own header or rows print (the narrative names the tables otherwise).
_TABLE_WORDS = {
    "table2": ("第二十条", "本年制发件数", "现行有效件数", "处理决定数量"),
    "table3": ("申请人情况", "自然人", "商业企业", "不予处理"),
    "table4": ("结果维持", "结果纠正", "尚未审结", "复议后起诉"),
}
_NUMBERS_RE = re.compile(r"\d+")
_ROW_OF_NUMBERS = 5  # a paragraph with this many separate numbers is a table row printed as text
_HEADING_LIKE = 40  # compact characters of a line that may be a heading


def reading_doubts(doc: Document, headings: list[_Heading], read_tables: set[str]) -> list[Finding]:
    """RD29 for a section whose heading was not found where a line that looks like it stands;
    RD30 for a table of section 二, 三 or 四 not read where its section holds a table-like region.
    The rules (ST01, ST02) then say nothing: the report is not wrong because we could not read it."""
    found = {h.number for h in headings}
    out = [f for n in range(1, 7) if n not in found for f in _section_doubt(doc, headings, n)]
    for h, nxt in zip(headings, [*headings[1:], None]):
        table = _TABLE_OF_SECTION.get(h.number)
        if table and table[0] not in read_tables:
            end = nxt.block if nxt is not None else len(doc.blocks)
            out.extend(_table_doubt(doc, h, end, *table))
    return out


def _section_doubt(doc: Document, headings: list[_Heading], number: int) -> list[Finding]:
    before = [h for h in headings if h.number < number]
    later = [h for h in headings if h.number > number]
    start = before[-1].end_block + 1 if before else 0
    end = later[0].block if later else len(doc.blocks)
    section = formats.SECTIONS[number - 1]
    words = {section.title[:4], *(alt[0] for alt in section.keys)}
    for block in doc.blocks[start:end]:
        if not isinstance(block, Paragraph):
            continue
        compact = normalize_text(block.text)
        if len(compact) <= _HEADING_LIKE and any(w in compact for w in words):
            numeral = formats.CHINESE_SECTION_NUMERALS[number - 1]
            fields = {"numeral": numeral, "title": section.title, "line": block.text.strip()}
            return [reading(SECTION_DOUBT_CODE, location=block.location, detail={"section": number}, **fields)]
    return []


def _table_doubt(doc: Document, heading: _Heading, end: int, table: str, name: str) -> list[Finding]:
    for block in doc.blocks[heading.end_block : end]:
        if _table_like(block, table):
            location = block.location if isinstance(block, Paragraph) else next(r[0] for r in block.rows if r).location
            numeral = formats.CHINESE_SECTION_NUMERALS[heading.number - 1]
            return [reading(TABLE_DOUBT_CODE, numeral=numeral, table=name, location=location, detail={"table": table})]
    return []


def _table_like(block: Block, table: str) -> bool:
    if isinstance(block, Table):
        return any(row for row in block.rows)
    text = normalize_text(block.text)
    return len(_NUMBERS_RE.findall(text)) >= _ROW_OF_NUMBERS or any(w in text for w in _TABLE_WORDS[table])
