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
