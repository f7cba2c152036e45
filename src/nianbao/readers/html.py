"""HTML reader: portal pages and Word-exported HTML, UTF-8 or GBK/GB2312/GB18030.

Tables are laid out on a grid with rowspan/colspan expanded; every grid position keeps the
origin of the source cell so a merged value is read once. Pages that carry the report table
inside a JavaScript or JSON string are read from that string.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from lxml import etree

from nianbao import formats
from nianbao.errors import read_error
from nianbao.limits import LIMITS, Limits, check_count, check_span
from nianbao.model import Block, Cell, Document, Paragraph, Table, any_text_holds, new_cell
from nianbao.numbers import UNREADABLE
from nianbao.readers.text import text_encoding

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)
_GB_NAMES = {"gbk", "gb2312", "gb18030", "gb_2312-80", "x-gbk", "cp936"}
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "section",
        "article",
        "header",
        "footer",
        "br",
        "tr",
        "blockquote",
        "pre",
        "center",
    ]
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})
# Meta tag names of the page's title and publication date (政府网站发展指引 and common CMSs).
_TITLE_META = frozenset({"articletitle"})
_DATE_META = frozenset({"pubdate", "publishdate", "firstpublishedtime", "published_time"})
_META_DATE_RE = re.compile(r"(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}")
# A table carried in a JS/JSON string, escaped or not.
_JS_STRING_RE = re.compile(r'"((?:[^"\\]|\\.)*?(?:<table|\\u003ctable|\\x3ctable)(?:[^"\\]|\\.)*)"', re.I | re.S)


def decode_html(data: bytes) -> str:
    """Decide the encoding from the bytes and the meta tag; GBK family is read as GB18030.

    A byte-order mark or UTF-16's zero bytes decide first; bytes behind a UTF-8 mark that are not
    UTF-8 are read by the page's declared encoding, as are undeclared non-UTF-8 pages (GB18030)."""
    codec, start = text_encoding(data)
    if codec != "utf-8":
        return data[start:].decode(codec, errors="replace")
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET_RE.search(data[:4096])
    name = declared.group(1).decode("ascii").lower() if declared else ""
    if name and name not in _GB_NAMES and name not in {"utf-8", "utf8"}:
        try:
            return data[start:].decode(name, errors="replace")
        except LookupError:
            pass
    # Undeclared or GB-family pages: GB18030 is a superset of GBK and GB2312.
    return data[start:].decode("gb18030", errors="replace")


def utf8_html(data: bytes) -> bytes:
    """The page as UTF-8 bytes: most pages are UTF-8 already and go on as they are (decoding
    only tells them apart); others are decoded by :func:`decode_html` and re-encoded."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return decode_html(data).encode("utf-8", errors="replace")
    if b"\x00" in body[:4096] and text_encoding(data)[0] != "utf-8":
        return decode_html(data).encode("utf-8", errors="replace")  # UTF-16 of ASCII-only text is valid UTF-8
    return body


# Everything a cell holds but text: a line break (kept as "\n") or text that is not shown.
_NOT_PLAIN_TAGS = ("br", *sorted(_SKIP_TAGS))
# What the walker must see element by element; below anything else there is only inline text.
_STRUCTURE_TAGS = _BLOCK_TAGS | _SKIP_TAGS | {"table"}


def _all_text(el: etree._Element) -> str:
    """The text of an element and its descendants, without its tail.

    libxml2's text serialisation gathers it in C: a third of the time of an XPath ``string()``
    call and a tenth of joining ``itertext()``; the result is the same string.
    """
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


def _text_of(el: etree._Element, plain: bool) -> str:
    """The text of a cell; ``plain`` when its table holds no line break and no hidden text."""
    if not len(el):  # most cells: text only, no child elements
        return (el.text or "").replace("\xa0", " ").strip()
    if plain:
        return _all_text(el).replace("\xa0", " ").strip()
    parts: list[str] = []
    _collect_text(el, parts)
    return "".join(parts).replace("\xa0", " ").strip()


def _collect_text(el: etree._Element, parts: list[str]) -> None:
    """Text of an element in document order, without comments, scripts and styles."""
    if isinstance(el.tag, str) and el.tag not in _SKIP_TAGS:
        if el.tag == "br":
            parts.append("\n")
        if el.text:
            parts.append(el.text)
        for child in el:
            _collect_text(child, parts)
            if child.tail:
                parts.append(child.tail)


def _only_inline_below(el: etree._Element) -> bool:
    # A Python loop over the descendants: lxml's iterdescendants(*tags) builds a tag matcher on
    # every call, which costs more than this loop for the few spans a paragraph holds; all() over
    # a generator costs 3 % more of the walk than the plain loop.
    for descendant in el.iterdescendants():  # noqa: SIM110
        if descendant.tag in _STRUCTURE_TAGS:
            return False
    return True


def _span(raw: str | None, most: int) -> int:
    """A rowspan or colspan as browsers take it: at least 1, at most ``most`` (1000 columns,
    65534 rows, as the HTML standard clamps them)."""
    if raw is None:
        return 1
    text = raw.strip()
    if len(text) > 9:
        return most if text.isdigit() else 1
    try:
        return max(1, min(int(text or 1), most))
    except ValueError:
        return 1


def _own_rows(table: etree._Element) -> list[etree._Element]:
    """The table's rows, without rows of tables nested inside it."""
    tables = table.iter("table")
    next(tables)  # the table itself
    if next(tables, None) is None:
        return list(table.iter("tr"))
    return [tr for tr in table.iter("tr") if _nearest_table(tr) is table]


def _nearest_table(el: etree._Element) -> etree._Element | None:
    parent = el.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def build_grid(table: etree._Element, index: int, limits: Limits = LIMITS) -> Table:
    """Expand rowspan/colspan into a rectangular grid of located cells.

    Before a row is laid out its cells are counted, and before a merged cell is spread its area
    is checked, against the caps (:mod:`nianbao.limits`): a 10 KB page of cells spanning 1000
    rows and columns would otherwise ask for billions of grid positions."""
    rows = _own_rows(table)
    check_count("表格的行数", len(rows), limits.table_rows)
    plain = next(table.iter(*_NOT_PLAIN_TAGS), None) is None
    grid: list[dict[int, Cell]] = [{} for _ in rows]
    origin = 0
    placed = 0
    for r, tr in enumerate(rows):
        placed += len(tr)
        check_count("表格的单元格数", placed, limits.table_cells)
        line = grid[r]
        c = 0
        for td in tr:
            tag = td.tag
            if tag != "td" and tag != "th":
                continue
            while c in line:
                c += 1
            text = _text_of(td, plain)
            rowspan, colspan = td.get("rowspan"), td.get("colspan")
            if rowspan is None and colspan is None:  # most cells: no span attribute at all
                line[c] = new_cell((text, {"table": index, "row": r, "col": c}, origin))
                c += 1
            else:
                span = (min(_span(rowspan, 65534), len(grid) - r), _span(colspan, 1000))
                check_span(*span, limits)
                placed += span[0] * span[1]
                check_count("表格的单元格数（合并单元格展开后）", placed, limits.table_cells)
                c = _spread(grid, (r, c), span, (text, origin), index)
            origin += 1
        check_count("表格的列数", c, limits.table_cols)
    return Table(tuple(tuple(line[c] for c in sorted(line)) for line in grid), index)


def _spread(
    grid: list[dict[int, Cell]], at: tuple[int, int], span: tuple[int, int], cell: tuple[str, int], index: int
) -> int:
    """Place a merged cell on every grid position it covers; the column after it."""
    (r, c), (rows, cols), (text, origin) = at, span, cell
    for row in range(r, min(r + rows, len(grid))):
        target = grid[row]
        for col in range(c, c + cols):
            target[col] = new_cell((text, {"table": index, "row": row, "col": col}, origin))
    return c + cols


class _Walker:
    def __init__(self, frame: frozenset[etree._Element] = frozenset()) -> None:
        self.blocks: list[Block] = []
        self.buffer: list[str] = []
        self.tables = 0
        self.cells = 0
        self.paragraphs = 0
        # The elements around the first table, and the number of blocks read when the walk left
        # each of them (innermost first): where the report may end (see _report_end).
        self.frame = frame
        self.exits: list[int] = []

    def flush(self) -> None:
        text = "".join(self.buffer).replace("\xa0", " ")
        self.buffer = []
        for line in text.split("\n"):
            if line.strip():
                self.blocks.append(Paragraph(line.strip(), {"block": self.paragraphs}))
                self.paragraphs += 1

    def walk(self, el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP_TAGS:
            self._tail(el)
            return
        if tag == "table" and not any(True for _ in el.iter("table") if _ is not el):
            self.flush()
            table = build_grid(el, self.tables)
            self.cells += sum(map(len, table.rows))
            check_count("文件中全部表格的单元格数", self.cells, LIMITS.document_cells)
            self.blocks.append(table)
            self.tables += 1
            self._tail(el)
            return
        block = tag in _BLOCK_TAGS
        if block:
            self.flush()
        if len(el) and _only_inline_below(el):
            # Only inline markup below (spans, fonts, links): its text in one call, not a walk.
            self.buffer.append(_all_text(el))
        else:
            if el.text and tag:
                self.buffer.append(el.text)
            for child in el:
                self.walk(child)
        if block or tag == "br":
            self.buffer.append("\n")
        self._tail(el)

    def _tail(self, el: etree._Element) -> None:
        if el in self.frame:
            self.flush()
            self.exits.append(len(self.blocks))
        if el.tail:
            self.buffer.append(el.tail)


def page_meta(root: etree._Element) -> dict[str, str]:
    """The page's title and publication date from the meta tags government portals must carry
    (《政府网站发展指引》: ArticleTitle, PubDate), and from the HTML title when they are absent."""
    found: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("name") or "").lower()
        content = (meta.get("content") or "").strip()
        if name in _TITLE_META and content and "page_title" not in found:
            found["page_title"] = content
        elif name in _DATE_META and "published" not in found:
            m = _META_DATE_RE.match(content)
            if m:
                found["published"] = m.group(0)  # the date as the page gives it, like find_published
    if "page_title" not in found:
        title = (root.findtext(".//title") or "").strip()
        if title:
            found["page_title"] = re.split(r"[_|｜]|\s*[-—]+\s*", title, maxsplit=1)[0].strip()
    return found


def _script_tables(root: etree._Element) -> list[etree._Element]:
    """Report tables hidden in JS/JSON strings (``var content = "<table>…"``)."""
    found: list[etree._Element] = []
    for script in root.iter("script"):
        for m in _JS_STRING_RE.finditer(script.text or ""):
            try:
                html = json.loads(f'"{m.group(1)}"')
            except json.JSONDecodeError:
                html = m.group(1).replace('\\"', '"').replace("\\/", "/")
            fragment = _parse(f"<html><body><div>{html}</div></body></html>".encode("utf-8", errors="replace"))
            body = fragment.find("body") if fragment is not None else None
            if body is not None:
                found.append(body)
    return found


def _parse(utf8: bytes) -> etree._Element | None:
    # Plain etree elements: lxml.html's element classes cost a lookup on every access. The page
    # goes in as UTF-8 bytes with the encoding declared (its own meta tag, which may name GBK, is
    # then ignored); libxml2 parses that a third faster than a str.
    parser = etree.HTMLParser(remove_comments=True, no_network=True, encoding="utf-8")
    return etree.fromstring(utf8, parser)


def read_html_text(text: str) -> list[Block]:
    return read_html_utf8(text.encode("utf-8", errors="replace"))


def read_html_utf8(utf8: bytes) -> list[Block]:
    return _blocks(_parse_page(utf8))


def _parse_page(utf8: bytes) -> etree._Element:
    try:
        root = _parse(utf8)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise read_error("RD01", "html") from exc
    if root is None:
        raise read_error("RD01", "html_empty")
    return root


def _blocks(root: etree._Element) -> list[Block]:
    body = root.find("body")
    top = body if body is not None else root
    first_table = next(top.iter("table"), None)
    # The set keeps the proxies alive, so lxml hands the walk these same objects for these nodes.
    walker = _Walker(frozenset(first_table.iterancestors()) if first_table is not None else frozenset())
    walker.walk(top)
    if not walker.tables:
        for fragment in _script_tables(root):
            walker.walk(fragment)
    walker.flush()
    return walker.blocks[: _report_end(walker.blocks, walker.exits)]


def _report_end(blocks: list[Block], exits: list[int]) -> int:
    """The blocks of the report: up to the end of the innermost element around the first table
    that also holds the last section's heading.

    A portal page goes on after the report with its own furniture (扫一扫, 关闭, related links,
    the site's footer); without this end, all of it would be read as the text of section 六.
    A page without a table, or without that heading after its first table, is read to its end
    (the introduction names the six parts, 其他需要报告的事项 included, before any table).
    """
    first_table = next((i for i, block in enumerate(blocks) if isinstance(block, Table)), None)
    if first_table is None:
        return len(blocks)
    heading = next((i for i in range(len(blocks) - 1, first_table, -1) if _is_last_heading(blocks[i])), None)
    if heading is None:
        return len(blocks)
    return next((count for count in exits if count > heading), len(blocks))


def _is_last_heading(block: Block) -> bool:
    if not isinstance(block, Paragraph):
        return False
    return any(all(word in block.text for word in keys) for keys in formats.SECTIONS[-1].keys)


def read_html(path: Path, data: bytes) -> Document:
    if not data.strip():
        raise read_error("RD01", "empty")
    root = _parse_page(utf8_html(data))
    blocks = _blocks(root)
    return Document(tuple(blocks), "html", meta=page_meta(root), unreadable=any_text_holds(blocks, UNREADABLE))


# A string literal in a script, double- or single-quoted, holding markup.
_MARKUP_STRING_RE = re.compile(
    r""""((?:[^"\\]|\\.)*?(?:<[a-z!]|\\u003c|\\x3c)(?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*?(?:<[a-z!]|\\u003c|\\x3c)(?:[^'\\]|\\.)*)'""",
    re.I | re.S,
)


def read_script(path: Path, data: bytes) -> Document:
    """A script or JSON data file from a portal that carries the report's page in string literals
    (``var content = "<p>…</p><table>…"``, ``{"content": "…"}``): the strings, decoded, in order,
    read as one page."""
    from nianbao.readers.text import decode_text

    if not data.strip():
        raise read_error("RD01", "empty")
    text = decode_text(data)
    check_count("文件的字符数", len(text), LIMITS.text_chars)
    parts: list[str] = []
    for m in _MARKUP_STRING_RE.finditer(text):
        raw = m.group(1) if m.group(1) is not None else m.group(2)
        try:
            parts.append(json.loads(f'"{raw}"') if m.group(1) is not None else json.loads(json.dumps(raw)))
        except json.JSONDecodeError:
            parts.append(raw.replace('\\"', '"').replace("\\'", "'").replace("\\/", "/").replace("\\n", "\n"))
    if not parts:
        raise read_error("RD04", "script")
    page = "<html><body>" + "\n".join(parts) + "</body></html>"
    root = _parse_page(page.encode("utf-8", errors="replace"))
    blocks = _blocks(root)
    return Document(tuple(blocks), "html", meta=page_meta(root), unreadable=any_text_holds(blocks, UNREADABLE))


def read_mht(path: Path, data: bytes) -> Document:
    """An MHT archive (a page saved as one file, Word's 单个文件网页, often named ``.doc``): its
    HTML part, decoded by the part's own charset, read as a page."""
    import email
    import email.policy

    message = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in message.walk():
        if part.get_content_type() != "text/html":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload.strip():
            continue
        charset = (part.get_content_charset() or "").lower()
        if charset and charset not in ("utf-8", "utf8"):
            with contextlib.suppress(LookupError):
                payload = payload.decode("gb18030" if charset in _GB_NAMES else charset, errors="replace").encode(
                    "utf-8"
                )
        return read_html(path, payload)
    raise read_error("RD04", "mht")
