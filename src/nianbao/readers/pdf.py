"""PDF reader (text layer): ruled tables from pdfplumber, text lines outside them.

Blocks keep page order and, within a page, top-to-bottom then left-to-right order, so two tables
side by side are read left first and a table broken over pages continues on the next page.
Every cell and line carries ``{"page": p, "bbox": [x0, top, x1, bottom]}``.
"""

from __future__ import annotations

import bisect
import dataclasses
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nianbao.errors import read_error, reading
from nianbao.limits import LIMITS, RD_LIMIT, Limits, check_count, check_size, size_text
from nianbao.model import Block, Cell, Document, Paragraph, Table, any_text_holds, remade
from nianbao.numbers import UNREADABLE
from nianbao.readers.errors import ReadError
from nianbao.readers.pdf_views import UprightPage, as_seen

# pdfminer's text for a glyph its font maps to no character: the reader cannot know it.
_UNMAPPED_GLYPH_RE = re.compile(r"\(cid:\d+\)")


def _legible(text: str) -> str:
    """The text with each unmapped glyph as U+FFFD, so that ``(cid:20)`` is never read as 20."""
    return _UNMAPPED_GLYPH_RE.sub(UNREADABLE, text) if "(cid:" in text else text


_PAGE_NUMBER_RE = re.compile(r"^[-—–\s]*(第\s*)?\d{1,4}(\s*页)?[-—–\s]*$|^\d+\s*/\s*\d+$")
_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


def _bbox(box: tuple[float, float, float, float]) -> list[float]:
    return [round(box[0], 1), round(box[1], 1), round(box[2], 1), round(box[3], 1)]


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _page_tables(page: Any, page_no: int, first_index: int) -> list[tuple[float, float, Table]]:
    out: list[tuple[float, float, Table]] = []
    for t_no, found in enumerate(page.find_tables(_TABLE_SETTINGS)):
        texts = cell_texts(found)
        rows: list[tuple[Cell, ...]] = []
        origin = 0
        for row_obj, row_texts in zip(found.rows, texts):
            cells: list[Cell] = []
            for box, text in zip(row_obj.cells, row_texts):
                if box is None:
                    continue  # covered by a merged cell to the left or above
                cells.append(Cell(_legible(text or "").strip(), {"page": page_no, "bbox": _bbox(box)}, origin))
                origin += 1
            rows.append(tuple(cells))
        out.append((found.bbox[1], found.bbox[0], Table(tuple(rows), first_index + t_no)))
    return out


def cell_texts(found: Any) -> list[list[str | None]]:
    """What pdfplumber's ``Table.extract()`` returns, found faster.

    pdfplumber tests every char of the page against every row (a Python call per test). Here the
    table's chars are sorted by their vertical centre once and each row takes its slice by
    bisection. Membership (the centre inside the half-open box) and the text of a cell
    (``utils.extract_text`` on its chars, in page order) are pdfplumber's own.
    """
    x0, top, x1, bottom = found.bbox
    inside = []
    for char in found.page.chars:
        v_mid = (char["top"] + char["bottom"]) / 2
        h_mid = (char["x0"] + char["x1"]) / 2
        if top <= v_mid < bottom and x0 <= h_mid < x1:
            inside.append((v_mid, h_mid, char))
    inside = _cell_sized(inside)
    by_height = sorted(range(len(inside)), key=lambda i: inside[i][0])
    heights = [inside[i][0] for i in by_height]
    rows = []
    for row in found.rows:
        r_x0, r_top, r_x1, r_bottom = row.bbox
        band = by_height[bisect.bisect_left(heights, r_top) : bisect.bisect_left(heights, r_bottom)]
        row_chars = [inside[i] for i in sorted(band) if r_x0 <= inside[i][1] < r_x1]
        texts: list[str | None] = []
        for cell in row.cells:
            if cell is None:
                texts.append(None)
                continue
            c_x0, c_top, c_x1, c_bottom = cell
            chars = [c for v, h, c in row_chars if c_x0 <= h < c_x1 and c_top <= v < c_bottom]
            texts.append(_cell_text(chars) if chars else "")
        rows.append(texts)
    return rows


# A glyph over this many times the table's middle glyph size is not a cell's: it is a watermark
# printed level across the table (a 48-point "2025" over 10-point cells made 3001 read 253001).
_OVERSIZE = 2.5


def _cell_sized(inside: list[tuple[float, float, dict[str, Any]]]) -> list[tuple[float, float, dict[str, Any]]]:
    """The table's characters without those too large to be a cell's."""
    if not inside:
        return inside
    sizes = sorted(char["size"] for _, _, char in inside)
    limit = sizes[len(sizes) // 2] * _OVERSIZE
    if sizes[-1] <= limit:
        return inside
    return [item for item in inside if item[2]["size"] <= limit]


def _cell_text(chars: list[dict[str, Any]]) -> str:
    """``pdfplumber.utils.extract_text(chars)``. A cell printed as one unbroken run of upright
    characters on one line (nearly every number) is joined directly: for such a run pdfplumber's
    word and line grouping finds one word and returns exactly this join."""
    from pdfplumber.utils.text import DEFAULT_X_TOLERANCE, DEFAULT_Y_TOLERANCE, LIGATURES, extract_text

    previous = None
    low = high = chars[0]["top"]
    for char in chars:
        text = char["text"]
        if not char["upright"] or not text or text.isspace() or text in LIGATURES:
            return extract_text(chars)
        if previous is not None and not previous["x0"] < char["x0"] <= previous["x1"] + DEFAULT_X_TOLERANCE:
            return extract_text(chars)  # out of order, or a gap that starts a new word
        low, high = min(low, char["top"]), max(high, char["top"])
        previous = char
    if high - low > DEFAULT_Y_TOLERANCE:
        return extract_text(chars)  # more than one line
    return "".join(char["text"] for char in chars)


@dataclass(frozen=True)
class LineLook:
    """How a text line is printed: its font size, and whether its characters stand in columns."""

    size: float
    spaced: bool  # wide gaps between runs of characters: a row of a table drawn without rules


# A gap wider than this many character heights parts two cells of a table row.
_CELL_GAP = 1.5
_CELL_GAPS_IN_A_ROW = 2


def _spaced(chars: list[dict[str, Any]]) -> bool:
    """Whether a line's characters are spread in columns, as a borderless table prints a row."""
    glyphs = sorted((c for c in chars if c["text"].strip()), key=lambda c: c["x0"])
    wide = 0
    for before, after in itertools.pairwise(glyphs):
        if after["x0"] - before["x1"] > _CELL_GAP * max(before["size"], 1.0):
            wide += 1
            if wide >= _CELL_GAPS_IN_A_ROW:
                return True
    return False


def _page_lines(
    page: Any, page_no: int, boxes: list[tuple[float, float, float, float]], looks: dict[int, LineLook]
) -> list[tuple[float, float, Paragraph]]:
    outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes)) if boxes else page
    out: list[tuple[float, float, Paragraph]] = []
    for line in outside.extract_text_lines(return_chars=True):
        text = _legible(line["text"]).strip()
        if text and not _PAGE_NUMBER_RE.match(text):
            box = (line["x0"], line["top"], line["x1"], line["bottom"])
            paragraph = Paragraph(text, {"page": page_no, "bbox": _bbox(box)})
            size = round(max((c["size"] for c in line["chars"]), default=0.0), 1)
            looks[id(paragraph)] = LineLook(size, _spaced(line["chars"]))
            out.append((line["top"], line["x0"], paragraph))
    return out


def read_pdf(path: Path, data: bytes) -> Document:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        pdf = pdfplumber.open(io.BytesIO(data))  # the bytes given: no file is read again
    except PDFPasswordIncorrect as exc:
        raise read_error("RD02") from exc
    except (PDFSyntaxError, Exception) as exc:  # pdfminer raises many kinds for broken files
        if "password" in repr(exc).lower() or "encrypt" in repr(exc).lower():
            raise read_error("RD02") from exc
        raise read_error("RD01", "pdf") from exc
    blocks: list[Block] = []
    looks: dict[int, LineLook] = {}  # how each text line is printed, by id of its Paragraph
    chars = 0
    drawn = 0  # objects other than characters on pages without characters: a scan's images
    # Before the with-block: closing a pdfplumber PDF builds its page list, which is what loops.
    refuse_reference_loops(pdf.doc)
    with pdf:
        try:
            pages = list(pdf.pages)
        except Exception as exc:
            raise read_error("RD01", "pdf_pages") from exc
        check_count("PDF 页数", len(pages), LIMITS.pdf_pages)
        turned: dict[int, UprightPage] = {}  # pages read through an upright view, by number
        heights: dict[int, float] = {}
        widths: dict[int, float] = {}
        scans = _Scans()  # image-only pages: read by OCR where it is installed
        for page_no, page in enumerate(pages, start=1):
            check_contents(page.page_obj, page_no)
            if scans.take(page, page_no, blocks, looks):
                heights[page_no] = float(page.height)
                widths[page_no] = float(page.width)
                drawn += 1
                page.flush_cache()
                continue
            view = as_seen(page)
            if isinstance(view, UprightPage):
                turned[page_no] = view
            heights[page_no] = float(view.height)
            widths[page_no] = float(view.width)
            chars += len(view.chars)
            if not view.chars:
                drawn += sum(len(objects) for objects in view.objects.values())
            tables = _page_tables(view, page_no, sum(isinstance(b, Table) for b in blocks))
            boxes = [_table_box(t) for _, _, t in tables if any(t.rows)]
            items: list[tuple[float, float, Block]] = [*tables, *_page_lines(view, page_no, boxes, looks)]
            items.sort(key=lambda it: (round(it[0]), it[1]))
            blocks.extend(b for _, _, b in items)
            page.flush_cache()
        if chars == 0 and drawn == 0:
            raise read_error("RD01", "pdf_blank")
        if chars == 0 and not scans.read:
            raise scans.error()
        joined = join_wrapped_lines(without_running_lines(blocks, heights, looks), looks, widths)
        if turned:
            joined = [_as_shown(b, turned) for b in joined]
        # Cells OCR could not read are settled (RD20) by the OCR reader, not counted as RD13.
        unreadable = any_text_holds(scans.printed(joined), UNREADABLE)
        doc = Document(tuple(joined), "pdf", len(pages), _file_dates(pdf.metadata), unreadable)
        return scans.settled(doc)


class _Scans:
    """The PDF's image-only pages (scans): read by OCR (readers/ocr.py) when it is installed."""

    def __init__(self) -> None:
        self.read: list[int] = []  # pages read by OCR
        self.skipped: list[int] = []  # scanned pages left unread: OCR is not installed
        self.session: Any = None

    def take(self, page: Any, page_no: int, blocks: list[Block], looks: dict[int, LineLook]) -> bool:
        """Whether the page is a scan (images, no text) and was handled here."""
        if page.chars or not page.images:
            return False
        from nianbao.readers import ocr

        if not ocr.available():
            self.skipped.append(page_no)
            return True
        if self.session is None:
            self.session = ocr.Session()
        first = sum(isinstance(b, Table) for b in blocks)
        blocks.extend(ocr.read_pdf_page(page, page_no, self.session, looks, first))
        self.read.append(page_no)
        return True

    def printed(self, blocks: list[Block]) -> list[Block]:
        """The blocks of the pages with a text layer."""
        if not self.read:
            return blocks
        return [b for b in blocks if _page_of(b) not in self.read]

    def error(self) -> ReadError:
        from nianbao.readers import ocr

        if self.skipped:
            return ocr.not_installed("PDF 没有文字层（扫描件或图片），")
        return read_error("RD03")

    def settled(self, doc: Document) -> Document:
        from nianbao.readers import ocr

        if self.session is not None:
            doc = ocr.settle(doc, self.session)
        if self.skipped:
            pages = "、".join(str(p) for p in self.skipped)
            location = {"page": self.skipped[0]}
            finding = reading("RD22", pages=pages, command=ocr.OCR_INSTALL_COMMAND, location=location)
            doc = dataclasses.replace(doc, findings=(*doc.findings, finding))
        return doc


def _page_of(block: Block) -> int | None:
    location = block.location if isinstance(block, Paragraph) else next((c.location for r in block.rows for c in r), {})
    page = location.get("page")
    return page if isinstance(page, int) else None


def refuse_reference_loops(doc: Any) -> None:
    """RD16 for an object that is a reference leading back to itself (``4 0 obj 4 0 R``):
    pdfminer follows such a chain for ever. Each object is parsed once here and kept in pdfminer's
    cache, so reading the pages afterwards does not parse it again."""
    from pdfminer.pdftypes import PDFObjRef

    for xref in doc.xrefs:
        for objid in xref.get_objids():
            obj = _object(doc, objid)
            seen = {objid}
            while isinstance(obj, PDFObjRef):
                if obj.objid in seen:
                    raise read_error(RD_LIMIT, "pdf_loop", object=objid)
                seen.add(obj.objid)
                obj = _object(doc, obj.objid)


def _object(doc: Any, objid: Any) -> Any:
    try:
        return doc.getobj(objid)
    except Exception:  # a missing or broken object: pdfminer's own reading says what it makes of it
        return None


# A literal string or a comment this long: no page of text holds one, and pdfminer and pdfplumber
# take minutes and gigabytes over it (a 256 KB string is 256 K characters: 20 s).
_LONG_TOKEN_RE = re.compile(rb"\([^()]{%d}|%%[^\r\n]{%d}" % (LIMITS.pdf_token_bytes, LIMITS.pdf_token_bytes))


def check_contents(page: Any, page_no: int, limits: Limits = LIMITS) -> None:
    """RD16 for a page whose content stream, decompressed, is larger than the cap or holds a string
    or a comment longer than the cap; checked before pdfminer interprets it. A Flate stream is
    inflated here only up to the cap, and pdfminer is handed the result (it would inflate it again)."""
    import zlib

    from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream, resolve1

    for stream in page.contents:
        stream = resolve1(stream)
        if not isinstance(stream, PDFStream):
            continue
        if stream.data is None and stream.rawdata is not None and not stream.decipher:
            filters = stream.get_filters()
            if len(filters) == 1 and filters[0][0] in LITERALS_FLATE_DECODE and not filters[0][1]:
                inflater = zlib.decompressobj()
                try:
                    data = inflater.decompress(stream.rawdata, limits.pdf_stream_bytes + 1)
                except zlib.error:
                    data = None  # pdfminer's own reading of a damaged stream follows
                if data is not None:
                    check_size(f"PDF 第 {page_no} 页的内容（解压后）", len(data), limits.pdf_stream_bytes)
                    stream.data, stream.rawdata = data, None
        try:
            data = stream.get_data()
        except Exception:  # a broken stream: pdfminer reports it while reading the page
            continue
        check_size(f"PDF 第 {page_no} 页的内容（解压后）", len(data), limits.pdf_stream_bytes)
        if _LONG_TOKEN_RE.search(data):
            cap = size_text(limits.pdf_token_bytes)
            raise read_error(RD_LIMIT, "pdf_token", page=page_no, cap=cap)


# A page's header and footer lie within this share of its height from the top or the bottom.
_MARGIN_BAND = 0.12
_DIGITS_RE = re.compile(r"\d+")


def without_running_lines(blocks: list[Block], heights: dict[int, float], looks: dict[int, LineLook]) -> list[Block]:
    """The blocks without the page headers and footers Word repeats on every page.

    A running line is printed in the top or bottom band of two or more pages at the same height
    with the same words (its numbers may change: 第 2 页 共 5 页). Between the two parts of a table
    broken over pages it kept the parts apart, so a row broken over the page lost its values, and a
    header's date and time were read as a row of numbers. A row of a table drawn without rules is
    never one: its numbers change from page to page, and its words are the table's.
    """

    def key(line: Paragraph) -> tuple[str, int] | None:
        page, box = line.location.get("page"), line.location.get("bbox")
        if page not in heights or box is None or _spaced_line(line, looks):
            return None
        band = heights[page] * _MARGIN_BAND
        if box[3] > band and box[1] < heights[page] - band:
            return None
        return (_DIGITS_RE.sub("#", line.text), round(box[1]))

    keys = [key(block) if isinstance(block, Paragraph) else None for block in blocks]
    pages_of: dict[tuple[str, int], set[int]] = {}
    for block, found in zip(blocks, keys):
        if found is not None and isinstance(block, Paragraph):
            pages_of.setdefault(found, set()).add(block.location["page"])
    running = {k for k, pages in pages_of.items() if len(pages) >= 2}
    if not running:
        return blocks
    return [block for block, found in zip(blocks, keys) if found is None or found not in running]


_SENTENCE_END = ("。", "！", "？", "；", "：", ":", "!", "?", ";")
_MARGIN_SLACK = 14.0  # points: a line ending this close to the right margin was wrapped
_MIN_LINE_WIDTH = 120.0  # points: narrower lines are headings, signatures or stray marks


def join_wrapped_lines(
    blocks: list[Block], looks: dict[int, LineLook], widths: dict[int, float] | None = None
) -> list[Block]:
    """Lines of one paragraph, broken only by the page width, become one paragraph.

    A line wraps when it reaches the right margin (the rightmost line end on its page); the next
    line in the same font size, on this page or the next, continues it (the margins are those of all
    pages of the page's width). Chinese documents mark a
    new paragraph by indenting its first line: where a document does, an indented line starts a
    paragraph; where it does not, a line ending a sentence ends its paragraph. A numbered heading
    never joins the text above it. A row of a table drawn without rules (its characters spaced
    in columns) is a line of its own: it neither continues a line nor sets the margin.
    """
    lines = [b for b in blocks if isinstance(b, Paragraph) and not _spaced_line(b, looks)]
    right: dict[int, float] = {}
    left: dict[int, float] = {}
    for line in lines:
        if _width(line) >= _MIN_LINE_WIDTH:
            page, box = line.location["page"], line.location["bbox"]
            right[page] = max(right.get(page, 0.0), box[2])
            left[page] = min(left.get(page, box[0]), box[0])
    if widths:
        # Pages of one width share their margins: on a page with few lines (a table, a heading and
        # a short paragraph) the widest line is not the margin, and a heading taken as wrapped
        # was joined with the paragraph under it.
        for size in set(widths.values()):
            same = [p for p, w in widths.items() if w == size and p in right]
            for p in (p for p, w in widths.items() if w == size):
                if same:
                    right[p] = max(right[q] for q in same)
                    left[p] = min(left[q] for q in same)
    indented = sum(1 for line in lines if _indented(line, left)) >= _INDENTED_LINES
    out: list[Block] = []
    for block in blocks:
        previous = out[-1] if out else None
        if (
            isinstance(block, Paragraph)
            and isinstance(previous, Paragraph)
            and _wrapped(previous, right)
            and not _spaced_line(block, looks)
            and not _spaced_line(previous, looks)
            and abs(_size(block, looks) - _size(previous, looks)) < 0.5
            and not _HEADING_RE.match(block.text)
            and (not _indented(block, left) if indented else not previous.text.rstrip().endswith(_SENTENCE_END))
        ):
            joined = Paragraph(previous.text + block.text, previous.location)
            looks[id(joined)] = LineLook(_size(block, looks), spaced=False)
            out[-1] = joined
        else:
            out.append(block)
    return out


def _size(line: Paragraph, looks: dict[int, LineLook]) -> float:
    look = looks.get(id(line))
    return look.size if look else 0.0


def _spaced_line(line: Paragraph, looks: dict[int, LineLook]) -> bool:
    look = looks.get(id(line))
    return look is not None and look.spaced


_HEADING_RE = re.compile(r"^\s*[一二三四五六七八九十]+、.{0,30}$")
_INDENTED_LINES = 3
_INDENT = 12.0  # points past the left margin: a first-line indent (two characters are ~20–32)


def _indented(line: Paragraph, left: dict[int, float]) -> bool:
    page, box = line.location["page"], line.location["bbox"]
    return page in left and box[0] >= left[page] + _INDENT


def _width(line: Paragraph) -> float:
    box = line.location["bbox"]
    return float(box[2] - box[0])


def _wrapped(line: Paragraph, right: dict[int, float]) -> bool:
    page, box = line.location["page"], line.location["bbox"]
    if page not in right or _width(line) < _MIN_LINE_WIDTH:
        return False  # a stray mark (punctuation hanging outside a box) wraps nothing
    return bool(box[2] >= right[page] - _MARGIN_SLACK)


def _file_dates(metadata: dict[str, Any]) -> dict[str, str]:
    """The PDF's own creation date (``D:20250225100250+08'00'``) as ``2025-02-25``. A PDF that
    nianbao rendered from a record (its Creator says so) carries the rendering's date instead,
    which says nothing of when the report was made: its 落款 does."""
    raw = metadata.get("CreationDate") or metadata.get("ModDate") or ""
    m = re.search(r"((?:19|20)\d{2})(\d{2})(\d{2})", str(raw))
    key = "rendered" if str(metadata.get("Creator", "")).startswith("nianbao") else "file_date"
    return {key: f"{m.group(1)}-{m.group(2)}-{m.group(3)}"} if m else {}


def _table_box(table: Table) -> tuple[float, float, float, float]:
    boxes = [c.location["bbox"] for row in table.rows for c in row]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _as_shown(block: Block, turned: dict[int, UprightPage]) -> Block:
    """The block with its boxes on the page as shown, where its page was read turned upright."""

    def shown(location: dict[str, Any]) -> dict[str, Any]:
        view = turned.get(location["page"])
        if view is None:
            return location
        return {"page": location["page"], "bbox": _bbox(view.shown_box(tuple(location["bbox"])))}

    return remade(block, location=shown)
