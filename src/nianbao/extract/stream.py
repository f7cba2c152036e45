"""From a document to a stream of located tokens: labels, digit runs, blanks and other text.

Every block becomes a physical row (a paragraph is a row of one cell). A cell that is a number or a
blank marker is one token. Any other cell is cut at the national labels it contains and at the
digit runs between them, so a crawler dump that runs a whole table into one line
(``规章000行政规范性文件6233440``) yields the same tokens as a Word table.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from nianbao import formats
from nianbao.model import Cell, Document, Location, Table
from nianbao.numbers import DIGIT_RUN_RE, normalize_label, parse_value

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


@lru_cache(maxsize=1)
def _label_regex() -> re.Pattern[str]:
    """One alternation over every searchable label, longest first, with optional numbering."""
    alternatives: list[tuple[str, str]] = []
    for row in formats.TABLE3_ROWS:
        for key in row.keys:
            if row.exact_only:
                continue
            numbering = rf"(?:{row.number}\.)?" if row.number else ""
            alternatives.append((f"t3__{_group_name(row.key)}", numbering + re.escape(normalize_label(key))))
    # Bare （七）总计 and 3.其他 are searched with their numbering only.
    alternatives.append(("t3__other_handling__other", r"3\.其他(?!法律|对外|结果|需要)"))
    for layout in formats.TABLE2_ROWS.values():
        for t2 in layout:
            for key in t2.keys:
                alternatives.append((f"t2__{t2.key}", re.escape(normalize_label(key))))
    seen: dict[str, list[str]] = {}
    for name, pattern in alternatives:
        seen.setdefault(name, []).append(pattern)
    parts = [
        f"(?P<{name}>{'|'.join(sorted(set(pats), key=len, reverse=True))})"
        for name, pats in sorted(seen.items(), key=lambda kv: -max(len(p) for p in kv[1]))
    ]
    return re.compile("|".join(parts))


def _group_name(key: str) -> str:
    return key.replace(".", "__")


def _key_of(group: str) -> str:
    table, _, rest = group.partition("__")
    return f"{table}:{rest.replace('__', '.')}"


# A digit run that is the numbering of a label that follows (``9.其他``), not a value.
_NUMBERING_AFTER_RE = re.compile(r"^\s*[.、．]\s*[\u4e00-\u9fff“（(]")


def _exact_label(text: str) -> str:
    """Whole-cell labels too common to search for in running text."""
    norm = normalize_label(text)
    if norm in {"其他", "3.其他"}:
        return "t3:other_handling.other"
    if norm in {"总计", "(七)总计", "七.总计"}:
        return "t3:total"
    return ""


_make_token = Token._make


def tokenize_cell(cell: Cell, row: int, is_cell: bool) -> list[Token]:
    pieces = _pieces(cell.text)
    location = cell.location
    if len(pieces) == 1:
        kind, text, key = pieces[0]
        return [_make_token((kind, text, location, key, row, is_cell))]
    return [_make_token((kind, text, location, key, row, is_cell)) for kind, text, key in pieces]


# Long text without a digit is narrative or a heading: no table values to find inside it.
_NARRATIVE_CHARS = 60


@lru_cache(maxsize=65536)
def _pieces(raw: str) -> tuple[tuple[str, str, str], ...]:
    """(kind, normalised text, label key) of each token in a cell's text; cached by text."""
    value = parse_value(raw)
    if value is not None:
        return ((BLANK if value.blank else VALUE, normalize_label(raw), ""),)
    exact = _exact_label(raw)
    if exact:
        return ((LABEL, normalize_label(raw), exact),)
    text = normalize_label(raw)
    if len(text) > _NARRATIVE_CHARS and not any(ch.isdigit() for ch in text):
        return ((TEXT, text, ""),)
    return tuple(_cut(text))


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
        if m.start() > pos:
            pieces.append((TEXT, text[pos : m.start()], ""))
        pieces.append((DIGITS, run, ""))
        pos = m.start() + len(run)
    if pos < len(text):
        pieces.append((TEXT, text[pos:], ""))
    return pieces


def _inside_words(text: str, m: re.Match[str]) -> bool:
    """Digits that belong to words (``第711号``, ``2024年``, ``〔2021〕30号``), not to a table."""
    after = text[m.end() : m.end() + 1]
    return after in {"年", "月", "日", "号", "条", "%", "〕", "]", "篇", "期", "时", "分"}


def document_rows(doc: Document) -> list[list[Token]]:
    """Physical rows of tokens; merged cells read once per row."""
    rows: list[list[Token]] = []
    for block in doc.blocks:
        if isinstance(block, Table):
            for cells in block.rows:
                seen: set[int] = set()
                tokens: list[Token] = []
                for cell in cells:
                    if cell.origin >= 0 and cell.origin in seen:
                        continue
                    seen.add(cell.origin)
                    tokens.extend(tokenize_cell(cell, len(rows), True))
                rows.append(tokens)
        else:
            rows.append(_paragraph_tokens(block.text, block.location, len(rows)))
    return rows


def _paragraph_tokens(text: str, location: Location, row: int) -> list[Token]:
    """A paragraph's tokens; space-separated cells (``规章 1 0 11``) are kept apart."""
    tokens: list[Token] = []
    for part in text.split():
        tokens.extend(tokenize_cell(Cell(part, location), row, False))
    return tokens
