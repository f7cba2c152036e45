"""Edit a DOCX file's ``word/document.xml`` in place of Word: the features tests add to rendered reports."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from nianbao.readers.docx import W


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def edit_docx(source: Path, target: Path, change: Callable[[etree._Element], None]) -> Path:
    """Copy ``source`` to ``target`` with ``change`` applied to the document's XML tree."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                root = etree.fromstring(data)
                change(root)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            zout.writestr(item, data)
    return target


def with_running_lines(source: Path, target: Path, header: list[str], footer: str) -> Path:
    """Copy ``source`` to ``target`` with a page header of the given lines and a footer line on
    every page; in ``footer``, {page} and {pages} become Word's PAGE and NUMPAGES fields."""
    import re

    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document(str(source))
    # Every header and footer of every section (odd and even pages, portrait and landscape),
    # each part once: sections may share them, and a section without its own inherits them.
    seen: set[str] = set()
    parts = []
    for index, section in enumerate(document.sections):
        for kind in ("header", "even_page_header", "footer", "even_page_footer"):
            part = getattr(section, kind)
            if index and part.is_linked_to_previous:
                continue
            name = str(part._get_or_add_definition().partname)
            if name not in seen:
                seen.add(name)
                parts.append((kind, part))
    for kind, part in parts:
        if kind.endswith("header"):
            part.paragraphs[0].text = header[0]
            for line in header[1:]:
                part.add_paragraph(line, style=part.paragraphs[0].style)
            continue
        paragraph = part.paragraphs[0]
        paragraph.clear()  # the rendered report's own page number gives way to this footer
        for text in re.split(r"(\{page\}|\{pages\})", footer):
            run = paragraph.add_run("" if text.startswith("{") else text)
            if text in ("{page}", "{pages}"):
                for field in ("begin", "instr", "separate", "end"):
                    element = OxmlElement("w:instrText" if field == "instr" else "w:fldChar")
                    if field == "instr":
                        element.text = " PAGE " if text == "{page}" else " NUMPAGES "
                    else:
                        element.set(qn("w:fldCharType"), field)
                    run._r.append(element)
    document.save(str(target))
    return target
