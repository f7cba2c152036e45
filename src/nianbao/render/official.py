"""The report as a 党政机关公文 (GB/T 9704-2012) in DOCX: the layout every agency's reports follow.

A4; 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm; the title centred in 方正小标宋简体 二号; the body in
仿宋_GB2312 三号 on a grid of 22 lines of 28 characters; 一级标题 (一、) in 黑体, 二级标题 (（一）) in
楷体_GB2312; page numbers "— 1 —" in 四号 宋体 at the foot, odd pages right and even pages left, one
character in from the edge of the 版心; the 落款 (agency and date) at the end.

The tables are printed as agencies print them: 宋体 五号, header rows repeated on every page, numbers
right-aligned, rows never split over a page; 表三 on landscape pages of its own, its columns wide
enough that every row label takes one or two lines.

The DOCX names the fonts of the standard, so that Word on an office machine uses them; where they
are absent (LibreOffice here) ``render.pdf`` substitutes free Simplified-Chinese fonts.
"""

from __future__ import annotations

import datetime as dt
import re
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx import Document as new_document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, Twips

from nianbao.record import Report
from nianbao.render.layout import Grid, expand, report_title

# --- the standard's measures --------------------------------------------------------------------

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210.0, 297.0
TOP_MM, LEFT_MM = 37.0, 28.0  # 天头, 订口
TEXT_WIDTH_MM, TEXT_HEIGHT_MM = 156.0, 225.0  # 版心
RIGHT_MM = PAGE_WIDTH_MM - LEFT_MM - TEXT_WIDTH_MM
BOTTOM_MM = PAGE_HEIGHT_MM - TOP_MM - TEXT_HEIGHT_MM
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
PAGE_NUMBER_GAP_MM = 7.0  # the page number's 一字线 lies 7 mm below the 版心

# 字号 in points
ERHAO, SANHAO, SIHAO, WUHAO = 22.0, 16.0, 14.0, 10.5

FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_HEADING1 = "黑体"
FONT_HEADING2 = "楷体_GB2312"
FONT_PAGE_NUMBER = "宋体"
FONT_TABLE = "宋体"
FONTS = (FONT_TITLE, FONT_BODY, FONT_HEADING1, FONT_HEADING2, FONT_PAGE_NUMBER)

# One line of the grid: 225 mm / 22 lines = 28.95 points (579 twips).
LINE_PITCH_TWIPS = int(TEXT_HEIGHT_MM / LINES_PER_PAGE / 25.4 * 1440)  # 579: 22 lines fit, not 21
# 28 characters of 三号 in 156 mm: each narrowed by a quarter point (in twentieths of a point),
# 15.75 pt a character: 28 take 441 pt of the line's 442.2, a 29th would not fit.
CHAR_SPACING = -5

# 表三's columns on a landscape page (225 mm wide): the group, the sub-group, the row label, and
# seven values wide enough for a four-character header (商业企业) on a line. The label column
# holds 19 characters of 五号 a line: the longest label (37 characters) takes two lines.
TABLE3_WIDTHS_MM = (9.0, 22.0, 76.0, *([118.0 / 7] * 7))
ROW_HEIGHT_MM = 6.5  # a table row at least: a line of 五号 with room above and below
_HEADING2_RE = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")


@dataclass(frozen=True)
class Signature:
    """The 落款: the agency's name over the date the report is signed."""

    agency: str
    date: dt.date


def chinese_date(date: dt.date) -> str:
    """A 成文日期 as GB/T 9704-2012 writes it: Arabic figures, the month and day without a zero."""
    return f"{date.year}年{date.month}月{date.day}日"


def write_official_docx(report: Report, path: Path, items: list[Any], signature: Signature, now: dt.datetime) -> None:
    """Write the outline ``items`` (render.Item) as a GB/T 9704 document."""
    doc = new_document()
    _defaults(doc)
    section = doc.sections[0]
    _portrait(section)
    _page_numbers(doc, section)
    for item in items:
        if item.kind == "title":
            _title(doc, item.text)
        elif item.kind == "heading":
            _paragraph(doc, [(item.text, FONT_HEADING1)], indent=True)
        elif item.kind == "paragraph":
            _body_paragraph(doc, item.text)
        elif item.table == 3:
            _landscape_table(doc, item.grid)
        else:
            widths = _even_widths(item.grid, TEXT_WIDTH_MM, first=56.0 if item.table == 2 else None)
            _table(doc, item.grid, widths, header_rows=3 if item.table == 4 else 0)
    _signature(doc, signature)
    _metadata(doc, report, now)
    doc.save(str(path))


# --- page and styles ---------------------------------------------------------------------------


def _defaults(doc: Any) -> None:
    """Body font and size, Chinese as the East Asian language, no theme fonts; odd/even footers."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for old in list(rpr):
        rpr.remove(old)
    rpr.insert(0, _fonts_element(FONT_BODY))
    _set(rpr, "w:sz", val=str(int(SANHAO * 2)))
    _set(rpr, "w:szCs", val=str(int(SANHAO * 2)))
    _set(rpr, "w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA")
    normal = doc.styles["Normal"]
    normal_rpr = normal.element.get_or_add_rPr()
    old_fonts = normal_rpr.find(qn("w:rFonts"))
    if old_fonts is not None:
        normal_rpr.remove(old_fonts)
    normal_rpr.insert(0, _fonts_element(FONT_BODY))
    _set(normal_rpr, "w:spacing", val=str(CHAR_SPACING))
    normal_ppr = normal.element.get_or_add_pPr()
    _set(normal_ppr, "w:jc", val="both")
    # No extra space between Chinese and figures (Word's and LibreOffice's default adds a quarter
    # of a character, which text extraction reads as a space: "12 件").
    _set(normal_ppr, "w:autoSpaceDE", val="0")
    _set(normal_ppr, "w:autoSpaceDN", val="0")
    # Punctuation stays inside the 版心 (no hanging past its edge); no widow and orphan control,
    # so that a full page holds 22 lines.
    _set(normal_ppr, "w:overflowPunct", val="0")
    _set(normal_ppr, "w:widowControl", val="0")
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after = Pt(0), Pt(0)
    fmt.line_spacing = Twips(LINE_PITCH_TWIPS)
    fmt.line_spacing_rule = 4  # WD_LINE_SPACING.EXACTLY
    doc.settings.odd_and_even_pages_header_footer = True
    for name in ("Header", "Footer"):  # running lines, if a user adds them: 小五, single-spaced
        style = doc.styles[name]
        style.font.size = Pt(9)
        _set(style.element.get_or_add_rPr(), "w:spacing", val="0")
        style.paragraph_format.line_spacing = 1.0


def _fonts_element(font: str) -> Any:
    fonts = OxmlElement("w:rFonts")
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)
    return fonts


def _set(parent: Any, tag: str, **attrs: str) -> Any:
    """The child ``tag`` of ``parent`` (made where the schema orders it), with ``attrs`` set."""
    element = parent.find(qn(tag))
    if element is None:
        element = OxmlElement(tag)
        order = _ORDER.get(parent.tag.rsplit("}", 1)[-1])
        name = tag.split(":", 1)[1]
        if order is None or name not in order:
            parent.append(element)
        else:
            later = {qn(f"w:{n}") for n in order[order.index(name) + 1 :]}
            following = next((child for child in parent if child.tag in later), None)
            if following is None:
                parent.append(element)
            else:
                following.addprevious(element)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)
    return element


def _names(text: str) -> list[str]:
    return text.split()


# The schema's order of the properties this module writes (Word refuses a file out of order).
_ORDER: dict[str, list[str]] = {
    "rPr": _names(
        "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
        "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd "
        "fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath"
    ),
    "pPr": _names(
        "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
        "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
        "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
        "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
    ),
    "sectPr": _names(
        "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
        "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid printerSettings"
    ),
    "tblPr": _names(
        "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
        "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook"
    ),
    "tcPr": _names(
        "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark"
    ),
    "tblCellMar": _names("top left start bottom right end"),
}


def _portrait(section: Any) -> None:
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(TOP_MM), Mm(BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(LEFT_MM), Mm(RIGHT_MM)
    _footer_distance(section, BOTTOM_MM)
    _grid(section._sectPr)


def _footer_distance(section: Any, bottom_mm: float) -> None:
    section.header_distance = Mm(15)
    section.footer_distance = Mm(_footer_mm(bottom_mm))


def _grid(sect_pr: Any) -> None:
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    # The pitch of the standard's grid, for a user who turns Word's grid on; the lines are laid out
    # by their exact spacing (LibreOffice centres text in grid lines, 1.3 mm below the 版心's top).
    grid.attrib.pop(qn("w:type"), None)
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))


def _page_numbers(doc: Any, section: Any) -> None:
    """ "— 1 —" in 四号: odd pages at the right, even pages at the left, a character in."""
    for footer, side in ((section.footer, "right"), (section.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        ppr = paragraph._p.get_or_add_pPr()
        _set(ppr, "w:snapToGrid", val="0")
        _set(ppr, "w:jc", val=side)
        _set(ppr, "w:ind", **{side: str(round(SIHAO * 20))})
        _set(ppr, "w:spacing", before="0", after="0", line="240", lineRule="auto")
        _run(paragraph, "— ", FONT_PAGE_NUMBER, SIHAO)
        _field(paragraph, "PAGE", FONT_PAGE_NUMBER, SIHAO)
        _run(paragraph, " —", FONT_PAGE_NUMBER, SIHAO)


def _field(paragraph: Any, instruction: str, font: str, size: float) -> None:
    for kind, text in (
        ("begin", None),
        ("instr", f" {instruction} "),
        ("separate", None),
        ("text", "1"),
        ("end", None),
    ):
        run = paragraph.add_run()
        _run_font(run, font, size)
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        elif kind == "text":
            run.text = text or ""
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)


# --- paragraphs ----------------------------------------------------------------------------------


def _run(paragraph: Any, text: str, font: str, size: float) -> Any:
    run = paragraph.add_run(text)
    _run_font(run, font, size)
    if size != SANHAO:  # the narrowing that makes 28 characters a line is the body's
        _set(run._r.get_or_add_rPr(), "w:spacing", val="0")
    return run


def _run_font(run: Any, font: str, size: float) -> None:
    rpr = run._r.get_or_add_rPr()
    old = rpr.find(qn("w:rFonts"))
    if old is not None:
        rpr.remove(old)
    rpr.insert(0, _fonts_element(font))
    run.font.size = Pt(size)


def _paragraph(doc: Any, runs: list[tuple[str, str]], indent: bool, size: float = SANHAO) -> Any:
    paragraph = doc.add_paragraph()
    if indent:  # two characters, as Chinese paragraphs begin
        ppr = paragraph._p.get_or_add_pPr()
        _set(ppr, "w:ind", firstLineChars="200", firstLine=str(round(2 * size * 20)))
    for text, font in runs:
        _run(paragraph, text, font, size)
    return paragraph


def _title(doc: Any, text: str) -> None:
    """二号 方正小标宋简体, centred; a long title breaks after the agency's name, one line below it
    is left blank before the body."""
    paragraph = doc.add_paragraph()
    ppr = paragraph._p.get_or_add_pPr()
    _set(ppr, "w:jc", val="center")
    _set(
        ppr, "w:spacing", before="0", after=str(LINE_PITCH_TWIPS), line=str(LINE_PITCH_TWIPS * 5 // 4), lineRule="exact"
    )
    agency, rest = text, ""
    if _width(text) * ERHAO > TEXT_WIDTH_MM / 25.4 * 72 and "年" in text:
        # 回行时词意完整: the agency's name on the first line, the year and 报告 on the next.
        cut = text.index(next(ch for ch in text if ch.isdigit())) if any(ch.isdigit() for ch in text) else 0
        agency, rest = text[:cut], text[cut:]
    run = _run(paragraph, agency, FONT_TITLE, ERHAO)
    if rest:
        run.add_break()
        _run(paragraph, rest, FONT_TITLE, ERHAO)


def _body_paragraph(doc: Any, text: str) -> None:
    m = _HEADING2_RE.match(text)
    if m is None:
        _paragraph(doc, [(text, FONT_BODY)], indent=True)
        return
    # 二级标题: the heading in 楷体, up to its first full stop when text follows on the line.
    stop = text.find("。")
    head = text if stop < 0 or (stop == len(text) - 1 and len(text) <= CHARS_PER_LINE) else text[: stop + 1]
    runs = [(head, FONT_HEADING2)]
    if len(head) < len(text):
        runs.append((text[len(head) :], FONT_BODY))
    _paragraph(doc, runs, indent=True)


def _signature(doc: Any, signature: Signature) -> None:
    """The 落款 after two blank lines: the date 右空四字, the agency centred over the date."""
    date = chinese_date(signature.date)
    for _ in range(2):
        doc.add_paragraph()
    width = {"agency": _width(signature.agency), "date": _width(date)}
    date_right = 4.0
    agency_right = max(0.0, date_right + (width["date"] - width["agency"]) / 2)
    for text, right in ((signature.agency, agency_right), (date, date_right)):
        paragraph = doc.add_paragraph()
        ppr = paragraph._p.get_or_add_pPr()
        _set(ppr, "w:jc", val="right")
        _set(ppr, "w:ind", right=str(round(right * SANHAO * 20)))
        _run(paragraph, text, FONT_BODY, SANHAO)


def _width(text: str) -> float:
    """Width in characters of 三号: figures and Latin letters are half a character."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


# --- tables ----------------------------------------------------------------------------------


def _even_widths(grid: Grid, total: float, first: float | None) -> list[float]:
    columns = len(expand(grid)[0])
    if first is None:
        return [total / columns] * columns
    return [first] + [(total - first) / (columns - 1)] * (columns - 1)


def _landscape_table(doc: Any, grid: Grid) -> None:
    """表三 on landscape pages of its own: a section ends before it and after it.

    A section's properties close it (a ``w:sectPr`` in its last paragraph); the document's own
    ``w:sectPr`` at the body's end is the last, portrait section and holds the footers. The first
    section names them too; the landscape one takes them from the section before."""
    final = doc.sections[-1]._sectPr
    _section_end(doc, deepcopy(final))
    _table(doc, grid, list(TABLE3_WIDTHS_MM), header_rows=3)
    turned = deepcopy(final)
    for child in list(turned):
        if child.tag in (qn("w:footerReference"), qn("w:headerReference"), qn("w:titlePg")):
            turned.remove(child)
    _orient(turned, landscape=True)
    _section_end(doc, turned)


def _section_end(doc: Any, sect_pr: Any) -> None:
    paragraph = doc.add_paragraph()
    ppr = paragraph._p.get_or_add_pPr()
    _set(ppr, "w:snapToGrid", val="0")
    _set(ppr, "w:spacing", before="0", after="0", line="20", lineRule="exact")  # takes no room
    _set(sect_pr, "w:type", val="nextPage")
    ppr.append(sect_pr)


def _orient(sect_pr: Any, landscape: bool) -> None:
    size, margins = sect_pr.find(qn("w:pgSz")), sect_pr.find(qn("w:pgMar"))
    if landscape:
        # The 版心 turned a quarter: 225 mm wide, 156 mm high, the binding edge at the top.
        page = (PAGE_HEIGHT_MM, PAGE_WIDTH_MM)
        values = {"top": LEFT_MM, "bottom": RIGHT_MM, "left": TOP_MM, "right": BOTTOM_MM}
        size.set(qn("w:orient"), "landscape")
    else:
        page = (PAGE_WIDTH_MM, PAGE_HEIGHT_MM)
        values = {"top": TOP_MM, "bottom": BOTTOM_MM, "left": LEFT_MM, "right": RIGHT_MM}
        size.attrib.pop(qn("w:orient"), None)
    size.set(qn("w:w"), _twips(page[0]))
    size.set(qn("w:h"), _twips(page[1]))
    for side, value in values.items():
        margins.set(qn(f"w:{side}"), _twips(value))
    margins.set(qn("w:footer"), _twips(_footer_mm(values["bottom"])))


def _footer_mm(bottom_mm: float) -> float:
    # The page number's top 7 mm below the 版心; its line is about 6 mm high (四号).
    return max(bottom_mm - PAGE_NUMBER_GAP_MM - 6.0, 5.0)


def _twips(mm: float) -> str:
    return str(round(mm * 1440 / 25.4))


def _table(doc: Any, grid: Grid, widths_mm: list[float], header_rows: int) -> None:
    expanded = expand(grid)
    width = len(expanded[0])
    table = doc.add_table(rows=len(expanded), cols=width)
    table.style = "Table Grid"
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    _set(tbl_pr, "w:tblW", w=_twips(sum(widths_mm)), type="dxa")
    _set(tbl_pr, "w:jc", val="center")
    _set(tbl_pr, "w:tblLayout", type="fixed")
    margins = _set(tbl_pr, "w:tblCellMar")
    for side in ("left", "right"):
        _set(margins, f"w:{side}", w=_twips(1.0), type="dxa")
    for column, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_mm, strict=True):
        column.set(qn("w:w"), _twips(w))
    cells = table._cells  # python-docx rebuilds its cell list on every table.cell() call
    for r, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        _set(tr_pr, "w:cantSplit")
        _set(tr_pr, "w:trHeight", val=_twips(ROW_HEIGHT_MM), hRule="atLeast")
        if r < header_rows:
            _set(tr_pr, "w:tblHeader")
        for c in range(width):
            tc_pr = cells[r * width + c]._tc.get_or_add_tcPr()
            _set(tc_pr, "w:tcW", w=_twips(widths_mm[c]), type="dxa")
    for r, line in enumerate(expanded):
        for c, cell in enumerate(line):
            if cell is None:
                continue
            target = cells[r * width + c]
            paragraph = target.paragraphs[0]
            ppr = paragraph._p.get_or_add_pPr()
            _set(ppr, "w:snapToGrid", val="0")
            _set(ppr, "w:spacing", before="0", after="0", line="240", lineRule="auto")
            _set(ppr, "w:ind", firstLine="0", firstLineChars="0")
            align = "right" if cell.value else "center" if cell.header else "left"
            _set(ppr, "w:jc", val=align)
            _run(paragraph, cell.text, FONT_TABLE, WUHAO)
            _set(target._tc.get_or_add_tcPr(), "w:vAlign", val="center")
            if cell.rowspan > 1 or cell.colspan > 1:
                target.merge(cells[(r + cell.rowspan - 1) * width + c + cell.colspan - 1])


# --- metadata ----------------------------------------------------------------------------------


def _metadata(doc: Any, report: Report, now: dt.datetime) -> None:
    """The report's title, the agency as author, the rendering's time (not the template's)."""
    core = doc.core_properties
    core.title = report_title(report)
    core.author = core.last_modified_by = report.agency or ""
    core.created = core.modified = now.replace(tzinfo=None, microsecond=0)
    core.revision = 1
    core.comments = core.keywords = core.subject = core.category = ""
    core.language = "zh-CN"
    rels = doc.part.package.rels
    for key in [k for k, rel in rels.items() if rel.reltype.endswith("/metadata/thumbnail")]:
        del rels[key]  # the template's picture of an empty page
