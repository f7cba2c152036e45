"""Readers: one per file type, each turning a file into a :class:`nianbao.model.Document`.

A new file type is a new reader registered here, nothing else.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from nianbao.errors import read_error
from nianbao.model import Document, Paragraph, remade
from nianbao.numbers import fold_compatible, holds_compatible
from nianbao.readers.docx import read_docx
from nianbao.readers.errors import ReadError
from nianbao.readers.html import read_html, read_mht, read_script
from nianbao.readers.ocr import IMAGE_SUFFIXES, image_kind, read_image
from nianbao.readers.office import read_office
from nianbao.readers.text import read_text, text_encoding

Reader = Callable[[Path, bytes], Document]


def read_pdf(path: Path, data: bytes) -> Document:
    """The PDF reader, imported on first use: pdfplumber and pdfminer take longer to import than a
    whole batch of text reports takes to read, and a run over text files never needs them."""
    from nianbao.readers.pdf import read_pdf as read

    return read(path, data)


def read_xlsx(path: Path, data: bytes) -> Document:
    """The fill-in workbook's reader, imported on first use (openpyxl is slow to import)."""
    from nianbao.readers.xlsx import read_xlsx as read

    return read(path, data)


READERS: dict[str, Reader] = {
    "txt": read_text,
    "md": read_text,
    "html": read_html,
    "mht": read_mht,
    "script": read_script,
    "docx": read_docx,
    "pdf": read_pdf,
    "doc": read_office,
    "wps": read_office,
    "rtf": read_office,
    "xlsx": read_xlsx,
    "image": read_image,
}
EXTENSIONS: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".shtml": "html",
    ".xhtml": "html",
    ".mht": "mht",
    ".mhtml": "mht",
    ".js": "script",
    ".json": "script",
    ".docx": "docx",
    ".pdf": "pdf",
    ".doc": "doc",
    ".wps": "wps",
    ".rtf": "rtf",
    ".xlsx": "xlsx",
    **dict.fromkeys(IMAGE_SUFFIXES, "image"),
}

__all__ = ["EXTENSIONS", "READERS", "ReadError", "read_document", "sniff_format"]

# Word's own formats: only these go to LibreOffice (a ".doc" is often something else).
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START_RE = re.compile(
    r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|table|div|p[\s>])",
    re.I | re.S,
)
_MHT_RE = re.compile(
    rb"^(?:(?:MIME-Version|From|Subject|Date|Content-Type|Content-Location|X-[\w-]+)\s*:.*\r?\n)+", re.I
)
# A script or JSON file carrying a page's HTML in a string (a portal's data file).
_SCRIPT_START_RE = re.compile(
    r"\s*(?:var\s|let\s|const\s|window\.|document\.write|[A-Za-z_$][\w$.]*\s*\(|[\[{])", re.ASCII
)


def sniff_format(path: Path, data: bytes) -> str | None:
    """The reader for a file, decided from its bytes; the extension only where the bytes leave
    it open (plain text: ``.md`` or ``.txt``; Word 97 or WPS). ``data`` is the whole file (or at
    least its first few KB; a zip's members are then looked for in what is given).

    A ``.doc`` saved by a portal is often an HTML page, an MHT archive (Word's 单个文件网页), RTF or
    a DOCX; a ``.txt`` may be a PDF; a ``.js`` or ``.json`` data file may carry the report's page in
    a string. The encoding of text is decided first (UTF-16 and GBK behind a UTF-8 mark included),
    so that no page is taken for binary bytes.
    """
    by_extension = EXTENSIONS.get(path.suffix.lower())
    head = data[:4096]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if image_kind(head):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return zip_format(data, by_extension)
    if head.startswith(_OLE2):
        return by_extension if by_extension in ("doc", "wps") else "doc"
    if head.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if _MHT_RE.match(head) and b"multipart/related" in head.lower():
        return "mht"
    text = _head_text(head)
    if _HTML_START_RE.match(text):
        return "html"
    if by_extension == "script" or (_SCRIPT_START_RE.match(text) and _holds_html_string(data)):
        return "script"
    if by_extension is not None and by_extension not in _CONTAINER_READERS:
        return by_extension  # text whose form the name tells (.md, .txt, .html, a registered reader's)
    return "txt" if _is_text(text) else None


# Readers of a binary container: a file so named whose bytes are not that container is read by
# what the bytes are (plain text as text), never by the name.
_CONTAINER_READERS = frozenset({"doc", "wps", "docx", "pdf", "rtf", "mht", "xlsx"})


def zip_format(data: bytes, by_extension: str | None) -> str | None:
    """A zip's reader by its members: ``word/`` is a Word document, ``xl/`` a workbook (read when a
    workbook reader is registered). Member names stand in the zip's local headers."""
    if b"word/document.xml" in data:
        return "docx"
    if b"xl/workbook.xml" in data and "xlsx" in READERS:
        return "xlsx"
    return by_extension if by_extension in ("docx", "xlsx") else None


def _holds_html_string(data: bytes) -> bool:
    lowered = data[:1_000_000].lower()
    return any(mark in lowered for mark in (b"<table", b"\\u003ctable", b"\\x3ctable", b"<p>", b"<div"))


def _head_text(head: bytes) -> str:
    """The first bytes as text, in the encoding the bytes show (the last character may be cut)."""
    codec, start = text_encoding(head)
    text = head[start:].decode(codec, errors="replace")
    if codec == "utf-8" and text.count("\ufffd") > 3:
        text = head[start:].decode("gb18030", errors="replace")
    return text.lstrip("\ufeff")


def _is_text(text: str) -> bool:
    """Whether decoded bytes read as text: hardly any control characters or undecodable bytes."""
    if not text:
        return False
    bad = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n\f") or ch == "\ufffd")
    return bad * 20 < len(text)


# Office Open XML files are zips told apart by their main part, whatever their name.
def read_document(path: Path, data: bytes, fmt: str | None = None) -> Document:
    """The file's document model; ``fmt`` when the caller has already sniffed it."""
    if not data.strip(b"\x00 \t\r\n\x0b\x0c"):
        raise read_error("RD01", "empty")
    fmt = fmt or sniff_format(path, data)
    if fmt is None:
        raise read_error("RD04", "type", suffix=path.suffix or "（无扩展名）")
    return _unified(READERS[fmt](path, data))


def _unified(doc: Document) -> Document:
    """The document's text with Kangxi radicals and compatibility ideographs as the characters
    they show (⼯作 as 工作), so that headings, labels, dates and searches find them.

    They are looked for in the paragraphs and meta only: looking through every cell would cost
    more than the rest of reading a small report, and a file whose fonts give them gives them in
    its sentences too.
    """
    paragraphs = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    if not holds_compatible("".join([*paragraphs, *doc.meta.values()])):
        return doc
    return dataclasses.replace(
        doc,
        blocks=tuple(remade(block, text=fold_compatible) for block in doc.blocks),
        meta={key: fold_compatible(value) for key, value in doc.meta.items()},
    )
