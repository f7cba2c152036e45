"""Caps on what one file may make a reader build, as data, and the reading codes for going past them.

A government site returns whatever it returns: a 10 KB page whose cells span 1000 rows and 1000
columns asks for a million cells, a 4 MB DOCX may unzip to 8 GB, a 6 KB PDF may hold a 5 MB
string. Readers check these caps before they build or read what a file asks for; running past one
is a reading error (:data:`RD_LIMIT`) whose Chinese message names the limit, and the batch goes on.
Time and memory are limited per file by :mod:`nianbao.pool` (a child process), with their own codes.

Codes (allocated to this module: RD14–RD19):

- RD14 error: the file took longer than the time limit;
- RD15 error: reading the file needed more memory than the ceiling;
- RD16 error: the file runs past a size or structure cap (the message names it);
- RD17 error: the path is not a regular file (a device, a FIFO, a socket, a looping or dangling link);
- RD18 warning: a number printed with more digits than any real figure has is not read (null);
- RD19 error: the reading stopped unexpectedly (the reading process died, or an internal error).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nianbao.numbers import MAX_DIGITS

RD_TIME = "RD14"
RD_MEMORY = "RD15"
RD_LIMIT = "RD16"
RD_NOT_FILE = "RD17"
RD_DIGITS = "RD18"
RD_CRASH = "RD19"

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one file may ask of a reader. The defaults are far above any real report (the national
    tables have under 40 rows and 10 columns; a report's PDF has under 100 pages) and far below
    what would take a machine down."""

    file_bytes: int = 200 * MiB  # the file as stored
    merged_cell_area: int = 10_000  # rows × columns one merged cell covers (rowspan × colspan, gridSpan)
    table_rows: int = 20_000
    table_cols: int = 1_000
    table_cells: int = 200_000  # grid positions of one table, merges expanded
    document_cells: int = 1_000_000  # grid positions of every table of a document
    zip_members: int = 5_000
    zip_member_bytes: int = 256 * MiB  # one member unzipped (word/document.xml)
    zip_total_bytes: int = 512 * MiB  # every member unzipped
    zip_ratio: int = 200  # unzipped ÷ zipped size of one member (a zip bomb's is in the thousands)
    text_chars: int = 100_000_000  # decoded characters of a text or HTML file
    pdf_pages: int = 2_000
    pdf_stream_bytes: int = 16 * MiB  # one page's content stream, decompressed
    pdf_token_bytes: int = 64 * 1024  # one string or comment inside a page's content
    digit_run: int = MAX_DIGITS  # digits of one number; longer runs are not numbers (RD18)
    seconds: float = 60.0  # per file, enforced by nianbao.pool
    memory_bytes: int = 2048 * MiB  # per file, enforced by nianbao.pool (address space of the worker)


LIMITS = Limits()


def exceeded(what: str, found: int | str, limit: int | str) -> Exception:
    """The reading error for running past a cap: RD16, its Chinese message naming the limit."""
    from nianbao.errors import reading_message
    from nianbao.readers.errors import LimitExceeded  # the readers import this module

    return LimitExceeded(RD_LIMIT, reading_message(RD_LIMIT, what=what, found=found, limit=limit))


def size_text(n: int) -> str:
    """A byte count as people read it: ``512 MB``, ``3.2 KB``."""
    for unit, size in (("GB", 1 << 30), ("MB", MiB), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".0 ", " ")
    return f"{n} 字节"


def check_count(what: str, found: int, limit: int) -> None:
    if found > limit:
        raise exceeded(what, found, limit)


def check_size(what: str, found: int, limit: int) -> None:
    if found > limit:
        raise exceeded(what, size_text(found), size_text(limit))


def check_span(rows: int, cols: int, limits: Limits = LIMITS) -> None:
    """A merged cell covering ``rows`` × ``cols`` grid positions."""
    if cols > limits.table_cols:
        raise exceeded("合并单元格的列数", cols, limits.table_cols)
    if rows > limits.table_rows:
        raise exceeded("合并单元格的行数", rows, limits.table_rows)
    if rows * cols > limits.merged_cell_area:
        raise exceeded("合并单元格的面积（行数×列数）", f"{rows}×{cols}", limits.merged_cell_area)


_LONG_DIGITS_RE = re.compile(f"[0-9０-９]{{{LIMITS.digit_run + 1},}}")


def longest_digit_run(texts: Iterable[str]) -> int:
    """The length of the longest run of digits over the cap in ``texts``, or 0 when none is."""
    longest = 0
    for text in texts:
        for m in _LONG_DIGITS_RE.finditer(text):
            longest = max(longest, m.end() - m.start())
    return longest


def unlimited_memory() -> None:
    """For a program a reader starts (``preexec_fn``, LibreOffice): the soft address-space limit a
    worker of :mod:`nianbao.pool` runs under, back up to the hard one (the program has its own
    time limit, and is killed with its worker's process group)."""
    import resource

    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    except (ValueError, OSError):
        pass
