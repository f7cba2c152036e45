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
    section = document.sections[0]
    section.header.paragraphs[0].text = header[0]
    for line in header[1:]:
        section.header.add_paragraph(line)
    paragraph = section.footer.paragraphs[0]
    for part in re.split(r"(\{page\}|\{pages\})", footer):
        run = paragraph.add_run("" if part.startswith("{") else part)
        if part in ("{page}", "{pages}"):
            for kind in ("begin", "instr", "separate", "end"):
                element = OxmlElement("w:instrText" if kind == "instr" else "w:fldChar")
                if kind == "instr":
                    element.text = " PAGE " if part == "{page}" else " NUMPAGES "
                else:
                    element.set(qn("w:fldCharType"), kind)
                run._r.append(element)
    document.save(str(target))
    return target
