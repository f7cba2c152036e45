"""Text reader: Word text dumps, Markdown tables, tab-separated rows and crawler dumps.

Three shapes are told apart line by line:

- a Word text dump (the seeds) prints a table cell per line, each starting with a tab; a line
  without the tab continues the cell above (``结果`` / ``纠正``); a blank line ends a table row;
- a Markdown table row is ``| a | b |`` (``|---|`` separator lines are skipped);
- a line with tabs inside it is one row of tab-separated cells.

Everything else is a paragraph. Crawler dumps that run a whole page into one line stay one
paragraph: the extractor splits them at the national labels.
"""

from __future__ import annotations

import re
from pathlib import Path

from nianbao.errors import read_error
from nianbao.limits import LIMITS, check_count
from nianbao.model import Block, Cell, Document, Paragraph, Table, new_cell
from nianbao.numbers import UNREADABLE

_MD_SEPARATOR_RE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def decode_text(data: bytes) -> str:
    """The file's text, its encoding decided from the bytes: a byte-order mark (UTF-8, UTF-16,
    UTF-32); UTF-16 without one (every other byte zero); UTF-8 when the bytes are valid UTF-8;
    otherwise GB18030 (a superset of GBK and GB2312). Behind a UTF-8 mark the bytes may still be
    GBK (an editor that saved GBK text with the mark of another encoding): they are read as GBK."""
    codec, start = text_encoding(data)
    if codec == "utf-8":
        try:
            return data[start:].decode("utf-8")
        except UnicodeDecodeError:
            codec = "gb18030"
    return data[start:].decode(codec, errors="replace")


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def text_encoding(data: bytes) -> tuple[str, int]:
    """(codec, bytes to skip) for text bytes: the mark's encoding, UTF-16 by its zero bytes, or
    "utf-8" (to be tried; the caller falls back to GB18030 when the bytes are not UTF-8)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    head = data[:4096]
    if len(head) >= 8 and b"\x00" in head:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even < odd // 8:
            return "utf-16-le", 0
        if even > len(head) // 4 and odd < even // 8:
            return "utf-16-be", 0
    return "utf-8", 0


class _TextBuilder:
    """Accumulates blocks; a Word-dump table stays open across its rows."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.rows: list[tuple[Cell, ...]] = []
        self.row: list[Cell] = []
        self.tables = 0

    def paragraph(self, text: str, line: int) -> None:
        self.close_table()
        self.blocks.append(Paragraph(text, {"line": line}))

    def cell(self, text: str, line: int) -> None:
        self.row.append(new_cell((text, {"line": line}, -1)))

    def continue_cell(self, text: str) -> None:
        last = self.row[-1]
        self.row[-1] = Cell(last.text + text, last.location)

    def end_row(self) -> None:
        if self.row:
            self.rows.append(tuple(self.row))
            self.row = []

    def whole_row(self, texts: list[str], line: int) -> None:
        self.end_row()
        location = {"line": line}  # one line: its cells share the location (nothing mutates it)
        self.rows.append(tuple([new_cell((text, location, -1)) for text in texts]))

    def close_table(self) -> None:
        self.end_row()
        if self.rows:
            self.blocks.append(Table(tuple(self.rows), self.tables))
            self.tables += 1
            self.rows = []

    @property
    def in_table(self) -> bool:
        return bool(self.rows or self.row)


def _markdown_cells(stripped: str) -> list[str]:
    """The cells of ``| a | b |`` (the line already stripped, starting and ending with a bar)."""
    return [c.strip() for c in stripped[1:-1].split("|")]


def read_lines(text: str) -> list[Block]:
    b = _TextBuilder()
    previous_blank = False
    row = b.row
    for number, line in enumerate(text.replace("[bookmark: _GoBack]", "").splitlines(), start=1):
        if line[:1] == "\t" and line.find("\t", 1) < 0:
            # The common line of a Word dump, one cell: appended inline because a dump has hundreds.
            row.append(new_cell((line.strip(), {"line": number}, -1)))
            previous_blank = False
            continue
        stripped = line.strip()
        if not stripped and not line.startswith("\t"):
            b.end_row()
            row = b.row
            previous_blank = True
            continue
        if line.lstrip(" ").startswith("|") and stripped.endswith("|"):
            if not _MD_SEPARATOR_RE.match(stripped):
                b.whole_row(_markdown_cells(stripped), number)
        elif "\t" in line.strip("\t") and not line.startswith("\t"):
            b.whole_row([c.strip() for c in line.split("\t")], number)
        elif line[0] == "\t":
            for part in line[1:].split("\t"):
                b.cell(part.strip(), number)
        elif b.row and not previous_blank:
            b.continue_cell(stripped)
        else:
            b.paragraph(stripped, number)
        row = b.row
        previous_blank = False
    b.close_table()
    return b.blocks


def read_text(path: Path, data: bytes) -> Document:
    if not data.strip():
        raise read_error("RD01", "empty")
    text = decode_text(data)
    check_count("文件的字符数", len(text), LIMITS.text_chars)
    fmt = "md" if path.suffix.lower() == ".md" else "txt"
    return Document(tuple(read_lines(text)), fmt, unreadable=UNREADABLE in text)
