"""Regions of the three tables in the token stream, and logical rows (a label and its values)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from nianbao.extract.stream import BLANK, DIGITS, LABEL, TEXT, VALUE, Token
from nianbao.model import Location

VALUE_KINDS = (VALUE, BLANK, DIGITS)


@dataclass
class LogicalRow:
    key: str  # "t3:new", "t2:licensing"; "" for a row of values printed without its label
    label: str
    values: list[Token] = field(default_factory=list)
    physical_row: int = 0
    location: Location = field(default_factory=dict)

    def capacity(self) -> tuple[int, int]:
        """(fewest, most) numbers the value tokens can give."""
        low = len(self.values)
        high = sum(_digit_count(t) if t.kind == DIGITS else 1 for t in self.values)
        return low, high


def _digit_count(token: Token) -> int:
    """Most numbers a run gives: a digit each, and a leading "-" may be a blank cell of its own."""
    return max(1, sum(ch.isdigit() for ch in token.text.split(".")[0])) + token.text.startswith("-")


@dataclass(frozen=True)
class Regions:
    """Physical row ranges [start, end) of each table; None where the table was not found."""

    table2: tuple[int, int] | None
    table3: tuple[int, int] | None
    table4: tuple[int, int] | None


def _first(rows: list[list[Token]], start: int, test: Callable[[Token], bool]) -> tuple[int, int] | None:
    """(row, token index) of the first token from ``start`` that passes ``test``."""
    for r in range(start, len(rows)):
        for i, tok in enumerate(rows[r]):
            if test(tok):
                return r, i
    return None


def split_rows_at(rows: list[list[Token]], at: tuple[int, int]) -> None:
    """Cut physical row ``at[0]`` before token ``at[1]`` so that a region can start there."""
    r, i = at
    if i > 0:
        rows[r : r + 1] = [rows[r][:i], rows[r][i:]]


def find_regions(rows: list[list[Token]]) -> Regions:
    """Locate the tables by their anchors; cuts crawler rows so each region starts at a row edge."""
    t2 = _first(rows, 0, _is_table2_anchor)
    if t2:
        split_rows_at(rows, t2)
        t2 = (t2[0] + (1 if t2[1] else 0), 0)
    # The header before the row label: a sentence above the table may say 本年新收…12件.
    t3 = _first(rows, t2[0] if t2 else 0, lambda t: t.kind == TEXT and ("勾稽关系" in t.text or "申请人情况" in t.text))
    t3 = t3 or _first(rows, t2[0] if t2 else 0, lambda t: t.key == "t3:new")
    if t3:
        split_rows_at(rows, t3)
        t3 = (t3[0] + (1 if t3[1] else 0), 0)
    t3_last = _last_t3_label(rows, t3[0]) if t3 else None
    t4 = _first(rows, (t3_last or t3[0]) if t3 else (t2[0] if t2 else 0), _is_table4_anchor) if (t3 or t2) else None
    if t4 is None:
        t4 = _first(rows, 0, _is_table4_header)
    if t4:
        split_rows_at(rows, t4)
        t4 = (t4[0] + (1 if t4[1] else 0), 0)
    end3 = t4[0] if t4 else (t3_last + 1 if t3_last is not None else len(rows))
    return Regions(
        table2=(t2[0], t3[0] if t3 else (t4[0] if t4 else len(rows))) if t2 else None,
        table3=(t3[0], end3) if t3 else None,
        table4=(t4[0], len(rows)) if t4 else None,
    )


def without_narrative(rows: list[list[Token]]) -> list[list[Token]]:
    """A region's rows without narrative sentences, when the region has real table cells.

    Crawler dumps have no cells (their tables run inside sentences) and keep everything.
    """
    if not any(t.is_cell for row in rows for t in row):
        return rows
    return [[] if _is_sentence(row) else row for row in rows]


def _is_sentence(row: list[Token]) -> bool:
    if any(t.is_cell for t in row):
        return False
    return any(t.kind == TEXT and any(mark in t.text for mark in ",。;") for t in row)


def _is_table2_anchor(tok: Token) -> bool:
    """``第二十条第(一)项`` or the ``信息内容`` header cell; narrative may cite 第二十条 alone or
    speak of 公开信息内容."""
    if tok.kind != TEXT:
        return False
    text = tok.text
    return "第二十条第(" in text or text.startswith(("第(一)项", "信息内容")) or "信息内容本年" in text


def _last_t3_label(rows: list[list[Token]], start: int) -> int | None:
    last = None
    for r in range(start, len(rows)):
        for tok in rows[r]:
            kind = tok.kind
            if kind == LABEL:
                if tok.key == "t3:carried_forward":
                    return r
                if tok.key.startswith("t3:"):
                    last = r
            elif kind == TEXT and last is not None and _is_table4_header(tok):
                return last
    return last


def _is_table4_anchor(tok: Token) -> bool:
    return tok.kind == TEXT and "行政复议" in tok.text


def _is_table4_header(tok: Token) -> bool:
    return tok.kind == TEXT and "行政复议" in tok.text and ("行政诉讼" in tok.text or tok.is_cell or len(tok.text) <= 6)


def logical_rows(rows: list[list[Token]], prefix: str, expected: dict[str, int], default: int) -> list[LogicalRow]:
    """Group a region's tokens into rows: each label with the values printed after it.

    A physical row that holds only values continues the row above when that row is still short of
    values (one value per line, run-together digits); a row of values complete in itself is kept
    as a row without a label, to be placed by its position (Markdown conversions detach labels).
    """
    out: list[LogicalRow] = []
    current: LogicalRow | None = None
    for r, raw in enumerate(rows):
        tokens, first_values = _without_placeholders(raw, prefix)
        for tok in tokens:
            kind = tok.kind
            if kind in VALUE_KINDS:  # the common token first
                if current is None or (
                    current.physical_row != r and not _continues(current, tokens, first_values, expected, default)
                ):
                    current = LogicalRow("", "", physical_row=r, location=tok.location)
                    out.append(current)
                current.values.append(tok)
            elif kind == LABEL and tok.key.startswith(prefix):
                label = _printed_label(tokens, tok)
                if current is not None and not current.values and current.physical_row == r:
                    current.key, current.label, current.location = tok.key, label, tok.location
                else:
                    current = LogicalRow(tok.key, label, physical_row=r, location=tok.location)
                    out.append(current)
            elif (
                kind == TEXT
                and current is not None
                and current.key
                and not current.values
                and current.physical_row == r
            ):
                current.label += tok.text  # the rest of a label cut in running text (its note)
    return out


# A row's number and the words between it and the label words found after it (``(一)`` before
# 予以公开, ``3.危及“`` before 三安全一稳定) belong to the label as printed; what comes before the
# number (a group heading printed on the same line) does not.
_LABEL_HEAD_RE = re.compile(
    r"(?:[(（][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+[、.．]|\d[.．、])[^\d(（)）、.．]{0,10}$"
)


def _printed_label(row: list[Token], label: Token) -> str:
    # The token before the label: only rows with a label pay for finding it.
    at = row.index(label)
    before = row[at - 1] if at else None
    if before is not None and before.kind == TEXT and before.location is label.location:
        head = _label_head(before.text)
        if head and not _NUMBERED_RE.match(label.text):  # a numbered label has its own head
            return head + label.text
    return label.text


_NUMBERED_RE = re.compile(r"[(（]?[一二三四五六七八九十\d]+[)）、.．]")
# The same few heads come back in every report ((一), 3.危及“): each text is searched once.
_HEADS: dict[str, str] = {}
_HEADS_MAX = 4096


def _label_head(text: str) -> str:
    head = _HEADS.get(text)
    if head is None:
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        found = _LABEL_HEAD_RE.search(text)
        head = _HEADS[text] = found.group(0) if found else ""
    return head


def _without_placeholders(tokens: list[Token], prefix: str) -> tuple[list[Token], int]:
    """The row without blanks that only fill merged cells (before the row's label, or a row of
    blanks alone), and the number of values before its label. One pass: every row goes through."""
    blanks = values = 0
    for i, tok in enumerate(tokens):
        kind = tok.kind
        if kind == LABEL and tok.key.startswith(prefix):
            if blanks:
                return [t for t in tokens[:i] if t.kind != BLANK] + tokens[i:], values - blanks
            return tokens, values
        if kind in VALUE_KINDS:
            values += 1
            if kind == BLANK:
                blanks += 1
    if blanks == len(tokens):
        return [], 0
    return tokens, values


def _continues(
    row: LogicalRow, incoming_row: list[Token], incoming: int, expected: dict[str, int], default: int
) -> bool:
    """Whether the values that begin a physical row (``incoming`` of them) go on ``row``.

    They do while ``row`` is short of values: one value per line (text dumps), a row of values
    after its label's line, run-together digits. Two lines of several values each continue one
    another only when together they make the row exactly; otherwise they are two rows, the second
    one's label unread (a table without rules wraps its labels onto lines of their own).
    """
    want = expected.get(row.key, default)
    digits = any(t.kind == DIGITS for t in row.values)
    have = row.capacity()[1] if digits else len(row.values)
    if have >= want or incoming >= want or (row.key == "" and have == 0):
        return False
    if digits or have < 2 or incoming < 2 or have + incoming == want:
        return True
    return any(t.kind == DIGITS for t in incoming_row)
