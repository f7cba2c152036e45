"""DOCX reader: body paragraphs and tables straight from ``word/document.xml``.

Merged cells are laid out on the table grid: a ``gridSpan`` cell fills the columns it spans and
a ``vMerge`` continuation takes the cell above; both keep the origin of the source cell.
The document is read as Word shows it with every tracked change accepted, and content controls
(``w:sdt``) around rows and cells are looked through.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from nianbao.errors import read_error
from nianbao.limits import LIMITS, Limits, MiB, check_count, check_size, check_span, exceeded
from nianbao.model import Block, Cell, Document, Paragraph, Table
from nianbao.numbers import UNREADABLE

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_P, _TBL, _TR, _TC, _T = (f"{{{W}}}{n}" for n in ("p", "tbl", "tr", "tc", "t"))
_TAB, _BR, _SDT = f"{{{W}}}tab", f"{{{W}}}br", f"{{{W}}}sdt"
_SDT_CONTENT, _CUSTOM_XML, _TR_PR = f"{{{W}}}sdtContent", f"{{{W}}}customXml", f"{{{W}}}trPr"
# Not shown by Word once changes are accepted: deleted and moved-away text (a deleted row is
# marked by a w:del in its w:trPr), and the second copy of a text box kept for older readers.
_DELETED, _MOVED_AWAY, _FALLBACK = f"{{{W}}}del", f"{{{W}}}moveFrom", f"{{{MC}}}Fallback"
_VAL = f"{{{W}}}val"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


def _paragraph_text(p: etree._Element) -> str:
    parts: list[str] = []
    for node in p.iter(_T, _TAB, _BR):
        if node.tag == _T:
            parts.append(node.text or "")
        else:
            parts.append("\t" if node.tag == _TAB else "\n")
    return "".join(parts).replace("\u3000", " ")


def _cell_text(tc: etree._Element) -> str:
    return "\n".join(_paragraph_text(p) for p in tc.iter(_P) if _owner_cell(p) is tc).strip()


def _owner_cell(p: etree._Element) -> etree._Element | None:
    parent = p.getparent()
    while parent is not None and parent.tag != _TC:
        parent = parent.getparent()
    return parent


def _tc_props(tc: etree._Element) -> tuple[int, str | None]:
    """(gridSpan, vMerge) of a cell; vMerge is 'restart', 'continue' or None."""
    span, vmerge = 1, None
    pr = tc.find(f"{{{W}}}tcPr")
    if pr is not None:
        gs = pr.find(f"{{{W}}}gridSpan")
        if gs is not None:
            span = _count(gs.get(_VAL, "1"), 1)
        vm = pr.find(f"{{{W}}}vMerge")
        if vm is not None:
            vmerge = vm.get(_VAL, "continue")
    return span, vmerge


def _grid_before(tr: etree._Element) -> int:
    pr = tr.find(f"{{{W}}}trPr")
    gb = pr.find(f"{{{W}}}gridBefore") if pr is not None else None
    return _count(gb.get(_VAL, "0"), 0) if gb is not None else 0


def _count(raw: str | None, least: int) -> int:
    """A span or a count as Word writes it (a decimal integer); anything else is ``least``. A
    long run of digits is kept large (the caps refuse it) without converting a huge number."""
    text = (raw or "").strip()
    if not text.isdigit():
        return least
    return max(least, int(text) if len(text) <= 12 else 10**12)


def _children(parent: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children with ``tag``, including those inside content controls and custom XML around them."""
    for child in parent:
        if child.tag == tag:
            yield child
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _children(content, tag)
        elif child.tag == _CUSTOM_XML:
            yield from _children(child, tag)


def accept_changes(root: etree._Element) -> None:
    """Remove what Word does not show once every tracked change is accepted."""
    for el in list(root.iter(_DELETED, _MOVED_AWAY, _FALLBACK)):
        parent = el.getparent()
        if parent is None:
            continue
        if el.tag == _DELETED and parent.tag == _TR_PR:  # a deleted table row
            row = parent.getparent()
            table = row.getparent() if row is not None else None
            if row is not None and table is not None:
                table.remove(row)
        else:
            parent.remove(el)


def build_table(tbl: etree._Element, index: int, limits: Limits = LIMITS) -> Table:
    """The table's grid; spans and sizes are checked against the caps before cells are made."""
    rows: list[tuple[Cell, ...]] = []
    above: dict[int, Cell] = {}
    origin = 0
    placed = 0
    for r, tr in enumerate(_children(tbl, _TR)):
        check_count("表格的行数", r + 1, limits.table_rows)
        col = _grid_before(tr)
        row: list[Cell] = []
        for tc in _children(tr, _TC):
            span, vmerge = _tc_props(tc)
            check_span(1, span, limits)
            check_count("表格的列数", col + span, limits.table_cols)
            placed += span
            check_count("表格的单元格数", placed, limits.table_cells)
            for dc in range(span):
                if vmerge == "continue" and (col + dc) in above:
                    cell = Cell(
                        above[col + dc].text, {"table": index, "row": r, "col": col + dc}, above[col + dc].origin
                    )
                else:
                    cell = Cell(_cell_text(tc), {"table": index, "row": r, "col": col + dc}, origin)
                row.append(cell)
                above[col + dc] = cell
            origin += 1
            col += span
        rows.append(tuple(row))
    return Table(tuple(rows), index)


def _body_blocks(body: etree._Element) -> list[Block]:
    blocks: list[Block] = []
    tables = 0
    paragraphs = 0
    stack = list(reversed(list(body)))
    while stack:
        el = stack.pop()
        if el.tag == _P:
            text = _paragraph_text(el).strip()
            if text:
                blocks.append(Paragraph(text, {"paragraph": paragraphs}))
            paragraphs += 1
        elif el.tag == _TBL and el.find(f".//{_TBL}") is not None:
            # A layout table (a frame around the document) holding the report's own tables: its
            # cells' contents are read as body, in order.
            stack.extend(reversed([child for tr in _children(el, _TR) for tc in _children(tr, _TC) for child in tc]))
        elif el.tag == _TBL:
            blocks.append(build_table(el, tables))
            tables += 1
        elif el.tag == _SDT:
            content = el.find(_SDT_CONTENT)
            if content is not None:
                stack.extend(reversed(list(content)))
        elif el.tag == _CUSTOM_XML:
            stack.extend(reversed(list(el)))
    return blocks


def document_xml(data: bytes, limits: Limits = LIMITS) -> bytes:
    """``word/document.xml`` of a DOCX's bytes, unzipped only within the caps: the member count,
    its declared size, the ratio to its compressed size, and the bytes actually inflated (a
    declared size may lie)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
            check_count("压缩包中的文件数", len(members), limits.zip_members)
            check_size("压缩包解压后的总大小", sum(m.file_size for m in members), limits.zip_total_bytes)
            info = zf.getinfo("word/document.xml")
            check_size("Word 正文（word/document.xml）解压后的大小", info.file_size, limits.zip_member_bytes)
            if info.file_size > limits.zip_ratio * max(info.compress_size, 1) and info.file_size > 16 * MiB:
                raise exceeded(
                    "Word 正文的压缩比", f"{info.file_size // max(info.compress_size, 1)} 倍", limits.zip_ratio
                )
            with zf.open(info) as member:
                xml = member.read(limits.zip_member_bytes + 1)
            check_size("Word 正文（word/document.xml）解压后的大小", len(xml), limits.zip_member_bytes)
            return xml
    except KeyError as exc:
        raise read_error("RD01", "docx_member") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise read_error("RD01", "docx_zip") from exc


def read_docx(path: Path, data: bytes) -> Document:
    xml = document_xml(data)
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise read_error("RD01", "docx_xml", line=exc.lineno) from exc
    body = root.find(f"{{{W}}}body")
    if body is None:
        raise read_error("RD01", "docx_body")
    accept_changes(body)
    unreadable = UNREADABLE.encode("utf-8") in xml
    return Document(tuple(_body_blocks(body)), "docx", unreadable=unreadable)
