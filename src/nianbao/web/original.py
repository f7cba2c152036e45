"""The original document beside the record: the source lines of a text file, the paragraphs and
tables of a DOCX or HTML file as its reader saw them, the page images of a PDF.

Every place is named by the same key a finding's location gives (:func:`loc_key`), so the page can
mark the place a finding points at. Text is handed to the templates as text (they escape it); no
byte of the original is ever sent to the browser as markup.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nianbao import pool, service
from nianbao.model import Paragraph, Table
from nianbao.readers import ReadError, sniff_format
from nianbao.readers.text import decode_text

MAX_LINES = 20_000  # a text original longer than this is shown up to here
PAGE_DPI = 120
RASTER_SECONDS = 30
# A stored original is read again to be shown: in a child process under these limits, as an
# upload is, so that a hostile file cannot hang or exhaust the web server.
VIEW_ISOLATION = pool.Isolation(jobs=1, seconds=30.0, memory_bytes=1024 * 1024 * 1024)


def loc_key(location: dict[str, Any]) -> str:
    """A location as one string: ``line-12``, ``tbl-0-3-4``, ``page-2``, ``par-6``, ``blk-8``."""
    if "line" in location:
        return f"line-{location['line']}"
    if "page" in location:
        return f"page-{location['page']}"
    if "table" in location:
        return f"tbl-{location['table']}-{location.get('row', 0)}-{location.get('col', 0)}"
    if "paragraph" in location:
        return f"par-{location['paragraph']}"
    if "block" in location:
        return f"blk-{location['block']}"
    return ""


@dataclass(frozen=True)
class OriginalLine:
    key: str
    number: int
    text: str


@dataclass(frozen=True)
class OriginalBlock:
    key: str  # for a paragraph
    text: str
    rows: tuple[tuple[tuple[str, str], ...], ...] = ()  # for a table: (key, text) per cell


@dataclass(frozen=True)
class OriginalPage:
    number: int
    width: float
    height: float


@dataclass(frozen=True)
class Original:
    kind: str  # "lines", "blocks", "pages", "none"
    lines: tuple[OriginalLine, ...] = ()
    blocks: tuple[OriginalBlock, ...] = ()
    pages: tuple[OriginalPage, ...] = ()
    note: str = ""


def original_view(data: bytes, name: str) -> Original:
    """How to show a stored original. Never raises for a bad file: says why it cannot be shown."""
    fmt = sniff_format(Path(name), data[:2048])
    if fmt in ("txt", "md"):
        lines = decode_text(data).splitlines()
        shown = tuple(OriginalLine(f"line-{i}", i, text) for i, text in enumerate(lines[:MAX_LINES], 1))
        note = f"原文共 {len(lines)} 行，仅显示前 {MAX_LINES} 行" if len(lines) > MAX_LINES else ""
        return Original("lines", lines=shown, note=note)
    if fmt not in ("pdf", "docx", "html", "doc", "wps"):
        return Original("none", note="不支持显示此类型的原文")
    outcome = next(pool.run(_isolated_view, [(data, name, fmt)], VIEW_ISOLATION))
    if outcome.value is None:
        assert outcome.failure is not None
        return Original("none", note=f"原文无法显示：{outcome.failure.message}")
    return outcome.value


def _isolated_view(item: tuple[bytes, str, str]) -> Original:
    """A worker's part: the pages of a PDF, the blocks of the other formats."""
    data, name, fmt = item
    try:
        if fmt == "pdf":
            return Original("pages", pages=pdf_pages(data))
        return Original("blocks", blocks=_blocks(data, name, fmt))
    except ReadError as exc:
        return Original("none", note=exc.message)
    except MemoryError:
        raise  # the worker's memory ceiling: reported by nianbao.pool
    except Exception:  # a hostile original must not take the page down
        return Original("none", note="原文无法显示（文件已损坏或格式不受支持）")


def _blocks(data: bytes, name: str, fmt: str) -> tuple[OriginalBlock, ...]:
    doc = service.read_document_bytes(data, name, fmt)
    out: list[OriginalBlock] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            out.append(OriginalBlock(loc_key(block.location), block.text))
        elif isinstance(block, Table):
            rows = tuple(tuple((loc_key(c.location), c.text) for c in row) for row in block.rows)
            out.append(OriginalBlock("", "", rows))
    return tuple(out)


def pdf_pages(data: bytes) -> tuple[OriginalPage, ...]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return tuple(OriginalPage(i, float(p.width), float(p.height)) for i, p in enumerate(pdf.pages, 1))


def pdf_page_png(data: bytes, page: int, dpi: int = PAGE_DPI) -> bytes:
    """One page of a PDF as a PNG, drawn by poppler's pdftoppm in a child process with a time limit
    (pdfplumber's renderer is the fallback where poppler is absent)."""
    with tempfile.TemporaryDirectory(prefix="nianbao-page-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        try:
            done = subprocess.run(
                ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(src)],
                capture_output=True,
                timeout=RASTER_SECONDS,
                check=False,
            )
            if done.returncode == 0 and done.stdout:
                return done.stdout
        except FileNotFoundError:
            pass
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        image = pdf.pages[page - 1].to_image(resolution=dpi)
        out = io.BytesIO()
        image.original.save(out, format="PNG")
        return out.getvalue()
