"""Readers: one per file type, each turning a file into a :class:`nianbao.model.Document`.

A new file type is a new reader registered here, nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from nianbao.model import Document, Paragraph, remade
from nianbao.numbers import fold_compatible, holds_compatible
from nianbao.readers.docx import read_docx
from nianbao.readers.errors import ReadError
from nianbao.readers.html import read_html
from nianbao.readers.ocr import IMAGE_SUFFIXES, image_kind, read_image
from nianbao.readers.office import read_office
from nianbao.readers.pdf import read_pdf
from nianbao.readers.text import read_text

Reader = Callable[[Path, bytes], Document]

READERS: dict[str, Reader] = {
    "txt": read_text,
    "md": read_text,
    "html": read_html,
    "docx": read_docx,
    "pdf": read_pdf,
    "doc": read_office,
    "wps": read_office,
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
    ".docx": "docx",
    ".pdf": "pdf",
    ".doc": "doc",
    ".wps": "wps",
    **dict.fromkeys(IMAGE_SUFFIXES, "image"),
}

__all__ = ["EXTENSIONS", "READERS", "ReadError", "read_document", "sniff_format"]


def sniff_format(path: Path, head: bytes) -> str | None:
    """The reader for a file: from its first bytes when they are decisive, else its extension."""
    by_extension = EXTENSIONS.get(path.suffix.lower())
    if head.startswith(b"%PDF"):
        return "pdf"
    if image_kind(head):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return by_extension if by_extension in ("doc", "wps") else "doc"
    lowered = head[:1024].lstrip().lower()
    if by_extension is None and (lowered.startswith(b"<!doctype html") or lowered.startswith(b"<html")):
        return "html"
    return by_extension


def read_document(path: Path, data: bytes, fmt: str | None = None) -> Document:
    """The file's document model; ``fmt`` when the caller has already sniffed it."""
    fmt = fmt or sniff_format(path, data[:2048])
    if fmt is None:
        raise ReadError("RD04", f"不支持的文件类型：{path.suffix or '（无扩展名）'}")
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
