"""The document model every reader produces: paragraphs and tables of cells, each located.

A reader's only job is to turn a file into a :class:`Document`; the extractor maps documents of
every file type onto the national formats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from nianbao.record import Finding

# A location as the record carries it: {"line": n} for text, {"table", "row", "col"} for DOCX and
# HTML, {"page", "bbox"} for PDF (see shared/spec/report-json.md).
Location = dict[str, Any]


class Cell(NamedTuple):
    """A table cell. Immutable like the dataclasses here, but a NamedTuple: a document has
    hundreds of cells and a frozen dataclass pays a ``__setattr__`` per field for each."""

    text: str
    location: Location
    # Cells expanded from one merged source cell share an origin; the extractor reads each
    # origin once per row, so a value spanning three columns is not read three times.
    origin: int = -1


# Readers build hundreds of cells per report: ``new_cell((text, location, origin))`` builds the
# same tuple as ``Cell(...)`` in C, where ``Cell._make`` and ``Cell(...)`` run Python code.
new_cell = partial(tuple.__new__, Cell)


@dataclass(frozen=True)
class Paragraph:
    text: str
    location: Location


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[Cell, ...], ...]
    index: int = 0


Block = Paragraph | Table


def _same(value: Any) -> Any:
    return value


def remade(
    block: Block,
    text: Callable[[str], str] = _same,
    location: Callable[[Location], Location] = _same,
) -> Block:
    """The block with ``text`` applied to its paragraph's or every cell's text, and ``location``
    to their locations (merged cells keep their origin)."""
    if isinstance(block, Paragraph):
        return Paragraph(text(block.text), location(block.location))
    rows = tuple(tuple(c._replace(text=text(c.text), location=location(c.location)) for c in row) for row in block.rows)
    return Table(rows, block.index)


def any_text_holds(blocks: Sequence[Block], needle: str) -> bool:
    """Whether any paragraph or table cell holds ``needle``."""
    # List comprehensions and one join: a third of the cost of a generator over the texts.
    texts = [b.text if isinstance(b, Paragraph) else "".join([c.text for row in b.rows for c in row]) for b in blocks]
    return needle in "".join(texts)


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]
    format: str
    pages: int | None = None
    # Reader-level metadata a rule may use later (publication date from a page header…).
    meta: dict[str, str] = field(default_factory=dict)
    # The reader met characters it could not read and put U+FFFD for them (numbers.UNREADABLE):
    # found where the reader has the whole text at hand, so that others need not look.
    unreadable: bool = False
    # Reading findings only the reader can make (a workbook's empty cells), kept in the record.
    findings: tuple[Finding, ...] = ()
