"""The document model every reader produces: paragraphs and tables of cells, each located.

A reader's only job is to turn a file into a :class:`Document`; the extractor maps documents of
every file type onto the national formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

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


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]
    format: str
    pages: int | None = None
    # Reader-level metadata a rule may use later (publication date from a page header…).
    meta: dict[str, str] = field(default_factory=dict)
