"""From a document to a stream of located tokens: labels, digit runs, blanks and other text.

Every block becomes a physical row (a paragraph is a row of one cell). A cell that is a number or a
blank marker is one token. Any other cell is cut at the national labels it contains and at the
digit runs between them, so a crawler dump that runs a whole table into one line
(``规章000行政规范性文件6233440``) yields the same tokens as a Word table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache, partial
from typing import NamedTuple

from nianbao import formats
from nianbao.model import Document, Location, Table
from nianbao.numbers import DIGIT_RUN_RE, UNREADABLE, normalize_label, parse_value

LABEL = "label"
DIGITS = "digits"
VALUE = "value"
BLANK = "blank"
TEXT = "text"


class Token(NamedTuple):
    """One piece of a cell (a NamedTuple: a report makes thousands of them)."""

    kind: str  # LABEL, DIGITS (run-together digits still to be split), VALUE, BLANK or TEXT
    text: str  # normalised text
    location: Location
    key: str = ""  # for labels: "t3:<row>", "t2:<row>"
    row: int = 0  # physical row number, for telling rows apart
    is_cell: bool = False  # the token is a whole table cell
    number: int | float | None = None  # a VALUE token's number, read once when its text is cut
    # Digits printed right after the previous token's digits, nothing between (``2648-18538``
    # cut at the sign): quoted together, as printed.
    glued: bool = False


@lru_cache(maxsize=1)
def _label_regex() -> re.Pattern[str]:
    """One alternation over every searchable label, longest first, with optional numbering."""
    alternatives: list[tuple[str, str]] = []
    first_chars: set[str] = set()
    for row in formats.TABLE3_ROWS:
        for key in row.keys:
            if row.exact_only:
                continue
            numbering = rf"(?:{row.number}\.)?" if row.number else ""
            label = normalize_label(key)
            alternatives.append((f"t3__{_group_name(row.key)}", numbering + re.escape(label)))
            first_chars.add(label[0])
            if row.number:
                first_chars.add(str(row.number)[0])
    # Bare （七）总计 and 3.其他 are searched with their numbering only.
    alternatives.append(("t3__other_handling__other", r"3\.其他(?!法律|对外|结果|需要)"))
    first_chars.add("3")
    for layout in formats.TABLE2_ROWS.values():
        for t2 in layout:
            for key in t2.keys:
                label = normalize_label(key)
                alternatives.append((f"t2__{t2.key}", re.escape(label)))
                first_chars.add(label[0])
    seen: dict[str, list[str]] = {}
    for name, pattern in alternatives:
        seen.setdefault(name, []).append(pattern)
    parts = [
        f"(?P<{name}>{'|'.join(sorted(set(pats), key=len, reverse=True))})"
        for name, pats in sorted(seen.items(), key=lambda kv: -max(len(p) for p in kv[1]))
    ]
    # The look-ahead on the labels' first characters lets the engine skip, at most positions of a
    # long sentence, trying a hundred alternatives one by one.
    starts = "".join(re.escape(c) for c in sorted(first_chars))
    return re.compile(f"(?=[{starts}])(?:{'|'.join(parts)})")


def _group_name(key: str) -> str:
    return key.replace(".", "__")


def _key_of(group: str) -> str:
    table, _, rest = group.partition("__")
    return f"{table}:{rest.replace('__', '.')}"


# A digit run that is the numbering of a label that follows (``9.其他``), not a value.
_NUMBERING_AFTER_RE = re.compile(r"^\s*[.、．]\s*[\u4e00-\u9fff“（(]")


# Column names a converter makes up for a header it could not read (``| 类别 | 数据1 | 数据2 |``):
# a heading, not the values 1, 2, …
_PLACEHOLDER_HEADING_RE = re.compile(r"(?:数据|列|栏|column|col)\s*\d{1,2}", re.I)
# A page number a PDF conversion leaves between the rows of a table (``— 5 —``, ``第5页共7页``).
_PAGE_NUMBER_RE = re.compile(r"[—–－-]+\s*\d{1,4}\s*[—–－-]+|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?")
# A line of a page's header or footer as a browser or a PDF printer stamps it on every page: an
# address, a date, a time, a page count (``https://www.gov.cn/zwgk/ 2025/1/20 10:30``, ``2/5``).
# Converted to text it falls between the rows of a table; its digits are not values.
_STAMP_RE = re.compile(
    r"(?:(?:https?://|www\.)\S+|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}:\d{2}(?::\d{2})?|[上下]午"
    r"|第\s*\d{1,4}\s*页|共\s*\d{1,4}\s*页|\d{1,4}\s*/\s*\d{1,4}|\s)+"
)
_STAMP_CHARS = 120


def _exact_label(text: str) -> str:
    """Whole-cell labels too common to search for in running text."""
    norm = normalize_label(text)
    if norm in {"其他", "3.其他"}:
        return "t3:other_handling.other"
    if norm in {"总计", "(七)总计", "七.总计"}:
        return "t3:total"
    return ""


# Token._make is a Python-level classmethod; tuple.__new__ builds the same tuple in C.
_make_token = partial(tuple.__new__, Token)


# Long text without a digit is narrative or a heading: no table values to find inside it.
_NARRATIVE_CHARS = 60


Piece = tuple[str, str, str, int | float | None]
# Cell texts repeat from report to report (labels, small numbers): cut each once. A plain dict,
# emptied when full, costs less per look-up than lru_cache's bookkeeping and keeps memory bounded.
# 4,096 entries hold what repeats (labels, small counts); at 65,536 a worker's memory still grew
# with the batch (27 → 63 MiB from 2,000 to 20,000 reports) for no measurable speed.
_PIECES: dict[str, tuple[Piece, ...]] = {}
_PIECES_MAX = 4096


def _pieces(raw: str) -> tuple[Piece, ...]:
    found = _PIECES.get(raw)
    if found is None:
        if len(_PIECES) >= _PIECES_MAX:
            _PIECES.clear()
        found = _PIECES[raw] = _cut_cell(raw)
    return found


def _cut_cell(raw: str) -> tuple[Piece, ...]:
    """(kind, normalised text, label key, number) of each token in a cell's text."""
    value = parse_value(raw)
    if value is not None:
        return ((BLANK if value.blank else VALUE, normalize_label(raw), "", value.number),)
    exact = _exact_label(raw)
    if exact:
        return ((LABEL, normalize_label(raw), exact, None),)
    text = normalize_label(raw)
    if _PLACEHOLDER_HEADING_RE.fullmatch(text) or _PAGE_NUMBER_RE.fullmatch(text) or _is_stamp(raw):
        return ((TEXT, text, "", None),)
    if len(text) > _NARRATIVE_CHARS and not any(ch.isdigit() for ch in text):
        return ((TEXT, text, "", None),)
    return tuple((kind, piece, key, None) for kind, piece, key in _cut(text))


def _cut(text: str) -> list[tuple[str, str, str]]:
    pieces: list[tuple[str, str, str]] = []
    pos = 0
    for m in _label_regex().finditer(text):
        pieces.extend(_cut_between(text[pos : m.start()]))
        group = next(name for name, val in m.groupdict().items() if val is not None)
        pieces.append((LABEL, m.group(0), _key_of(group)))
        pos = m.end()
    pieces.extend(_cut_between(text[pos:]))
    return pieces


def _cut_between(text: str) -> list[tuple[str, str, str]]:
    """Digit runs and the text around them (text between two labels)."""
    pieces: list[tuple[str, str, str]] = []
    pos = 0
    for m in DIGIT_RUN_RE.finditer(text):
        run = m.group(0)
        if _NUMBERING_AFTER_RE.match(text[m.end() :]):
            # ``00000002.其他法律…``: the last digit numbers the next label; the rest are values.
            run = run[:-1] if "." not in run and "," not in run else ""
        if not run or _inside_words(text, m):
            continue
        begin = m.start()
        if begin > pos and text[begin - 1] == "-":
            # ``35-15``: a minus glued to the digits is the sign of a number that may be negative
            # (本年增/减) or a blank cell's "-"; the splitter weighs both readings.
            begin -= 1
        if begin > pos:
            pieces.append((TEXT, text[pos:begin], ""))
        pieces.append((DIGITS, text[begin : m.start()] + run, ""))
        pos = m.start() + len(run)
    if pos < len(text):
        pieces.append((TEXT, text[pos:], ""))
    return pieces


def _inside_words(text: str, m: re.Match[str]) -> bool:
    """Digits that belong to words (``第711号``, ``2024年``, ``〔2021〕30号``), not to a table;
    or the legible part of a number some of whose characters cannot be read (``\ufffd5``)."""
    after = text[m.end() : m.end() + 1]
    if after == UNREADABLE or (m.start() and text[m.start() - 1] == UNREADABLE):
        return True
    return after in {"年", "月", "日", "号", "条", "%", "〕", "]", "篇", "期", "时", "分"}


def document_rows(doc: Document) -> list[list[Token]]:
    """Physical rows of tokens; merged cells read once per row."""
    rows: list[list[Token]] = []
    for block in doc.blocks:
        if isinstance(block, Table):
            for cells in block.rows:
                rows.append(_tokens(cells, len(rows), True))
        else:
            # A paragraph's space-separated parts (``规章 1 0 11``) are kept apart like cells; a
            # page number (``— 5 —``) or a header's stamp (an address, a date, a time) is one
            # piece of text.
            text = block.text
            if (len(text) < 20 and _PAGE_NUMBER_RE.fullmatch(text.replace(" ", ""))) or _is_stamp(text):
                parts = [(text, block.location, -1)]
            else:
                parts = [(part, block.location, -1) for part in text.split()]
            rows.append(_tokens(parts, len(rows), False))
    return rows


def _is_stamp(text: str) -> bool:
    return ("/" in text or ":" in text) and len(text) < _STAMP_CHARS and _STAMP_RE.fullmatch(text) is not None


def _tokens(cells: Iterable[tuple[str, Location, int]], row: int, is_cell: bool) -> list[Token]:
    """The tokens of one physical row: (text, location, merged-cell origin) of each of its cells."""
    seen: set[int] = set()
    tokens: list[Token] = []
    for text, location, origin in cells:
        if origin >= 0:
            if origin in seen:
                continue
            seen.add(origin)
        pieces = _pieces(text)
        if len(pieces) == 1:  # nearly every cell: one value or one label
            kind, norm, key, number = pieces[0]
            tokens.append(_make_token((kind, norm, location, key, row, is_cell, number, False)))
        else:
            previous = ""
            for k, t, key, n in pieces:
                tokens.append(_make_token((k, t, location, key, row, is_cell, n, k == DIGITS and previous == DIGITS)))
                previous = k
    return tokens
