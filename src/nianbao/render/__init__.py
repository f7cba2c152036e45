"""Write a report record as a publishable document: DOCX, HTML, Markdown, Word-style text, PDF.

All writers draw one outline (title, opening, the six sections with their tables), so a record
renders to the same report in every format and parses back to the same record.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path

from nianbao import formats
from nianbao.numbers import DATE_PATTERN
from nianbao.record import Report
from nianbao.render.layout import Grid, GridCell, expand, report_title, table2_grid, table3_grid, table4_grid, word_rows
from nianbao.render.official import Signature, write_official_docx

_DATE_RE = re.compile(DATE_PATTERN)
OPENING = "依据《中华人民共和国政府信息公开条例》（以下简称《政府信息公开条例》）第五十条规定，编制本报告。"


@dataclass(frozen=True)
class Item:
    kind: str  # "title", "paragraph", "heading", "table"
    text: str = ""
    grid: Grid = ()
    table: int = 0  # 2, 3 or 4 for a table


def outline(report: Report) -> list[Item]:
    items = [
        Item("title", report_title(report)),
        Item("paragraph", OPENING),
    ]
    texts = {s.number: s.text for s in report.sections}
    tables = {2: table2_grid, 3: table3_grid, 4: table4_grid}
    present = {2: report.table2, 3: report.table3, 4: report.table4}
    for section in formats.SECTIONS:
        if texts and section.number not in texts:
            continue  # a record with sections prints those it has (a missing one stays missing)
        numeral = formats.CHINESE_SECTION_NUMERALS[section.number - 1]
        items.append(Item("heading", f"{numeral}、{section.title}"))
        for line in (texts.get(section.number) or "").split("\n"):
            if line.strip():
                items.append(Item("paragraph", line.strip()))
        if section.number in tables and present[section.number] is not None:
            items.append(Item("table", grid=tables[section.number](report), table=section.number))
    return items


# --- HTML --------------------------------------------------------------------------------


def to_html(report: Report, encoding: str = "utf-8") -> bytes:
    """An HTML page; ``encoding`` may be a GB encoding (gbk, gb2312, gb18030) as portals use."""
    parts = [
        "<!DOCTYPE html>",
        "<html lang='zh-CN'><head>",
        f"<meta http-equiv='Content-Type' content='text/html; charset={encoding}'>",
        f"<title>{html_lib.escape(outline(report)[0].text)}</title>",
        "<style>table{border-collapse:collapse}td,th{border:1px solid #333;padding:4px 6px}</style>",
        "</head><body>",
    ]
    for item in outline(report):
        if item.kind == "title":
            parts.append(f"<h1>{html_lib.escape(item.text)}</h1>")
        elif item.kind == "heading":
            parts.append(f"<h2>{html_lib.escape(item.text)}</h2>")
        elif item.kind == "paragraph":
            parts.append(f"<p>{html_lib.escape(item.text)}</p>")
        else:
            parts.append(_html_table(item.grid))
    parts.append("</body></html>")
    return "\n".join(parts).encode(encoding, errors="xmlcharrefreplace")


def _html_table(grid: Grid) -> str:
    rows = []
    for row in grid:
        cells = []
        for cell in row:
            tag = "th" if cell.header else "td"
            span = (f" rowspan='{cell.rowspan}'" if cell.rowspan > 1 else "") + (
                f" colspan='{cell.colspan}'" if cell.colspan > 1 else ""
            )
            cells.append(f"<{tag}{span}>{html_lib.escape(cell.text) or '&nbsp;'}</{tag}>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


# --- text ----------------------------------------------------------------------------------


def to_text(report: Report) -> str:
    """A Word-style text dump: each table cell on a line of its own after a tab, rows apart."""
    lines: list[str] = []
    for item in outline(report):
        if item.kind != "table":
            lines.append(item.text)
            continue
        for row in word_rows(item.grid):
            lines.extend("\t" + text for text in row)
            lines.append("")
        lines.append("")
    return "\n".join(lines) + "\n"


def _repeated(grid: Grid) -> list[list[str]]:
    expanded = expand(grid)
    out: list[list[str]] = []
    for r, row in enumerate(expanded):
        line: list[str] = []
        for c, cell in enumerate(row):
            line.append(cell.text if cell is not None else _covering(expanded, r, c))
        out.append(line)
    return out


def _covering(expanded: list[list[GridCell | None]], r: int, c: int) -> str:
    """Text of the merged cell covering (r, c): the nearest origin up-left whose span reaches it."""
    for rr in range(r, -1, -1):
        for cc in range(c, -1, -1):
            cell = expanded[rr][cc]
            if cell is not None and rr + cell.rowspan > r and cc + cell.colspan > c:
                return "" if cell.value else cell.text
    return ""


def to_markdown(report: Report) -> str:
    lines: list[str] = []
    for item in outline(report):
        if item.kind == "title":
            lines += [f"# {item.text}", ""]
        elif item.kind == "heading":
            lines += [f"## {item.text}", ""]
        elif item.kind == "paragraph":
            lines += [item.text, ""]
        else:
            # Converters repeat a merged cell's text in every position it covers.
            for i, row in enumerate(_repeated(item.grid)):
                lines.append("| " + " | ".join(row) + " |")
                if i == 0:
                    lines.append("|" + "---|" * len(row))
            lines.append("")
    return "\n".join(lines)


# --- DOCX / PDF ------------------------------------------------------------------------------


def signed_date(report: Report, when: dt.datetime) -> dt.date:
    """The 落款 date: the record's signing date, else its publication date, else the rendering's day."""
    for key in ("signed", "published"):
        m = _DATE_RE.search(report.meta.get(key, ""))
        if m:
            try:
                return dt.date(int(m["year"]), int(m["month"]), int(m["day"]))
            except ValueError:
                continue
    return when.astimezone().date()


def to_docx(report: Report, path: Path, signed: dt.date | None = None, now: dt.datetime | None = None) -> None:
    """A GB/T 9704 document (see ``render.official``) with its 落款 dated ``signed``."""
    now = now or dt.datetime.now(dt.UTC)
    signature = Signature(report.agency or "", signed or signed_date(report, now))
    write_official_docx(report, path, outline(report), signature, now)


def write(report: Report, path: Path, signed: dt.date | None = None) -> Path:
    """Write ``report`` to ``path``; the suffix chooses the format. ``signed`` dates the 落款
    of a DOCX, PDF or DOC (default: the record's signing date, else the rendering's day)."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        to_docx(report, path, signed)
    elif suffix in (".html", ".htm"):
        path.write_bytes(to_html(report))
    elif suffix == ".md":
        path.write_text(to_markdown(report), encoding="utf-8")
    elif suffix == ".txt":
        path.write_text(to_text(report), encoding="utf-8")
    elif suffix in (".pdf", ".doc"):
        _via_libreoffice(report, path, signed)
    else:
        raise ValueError(f"不支持的输出格式：{suffix}")
    return path


def _via_libreoffice(report: Report, path: Path, signed: dt.date | None) -> None:
    import tempfile

    from nianbao.render.pdf import convert_official

    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="nianbao-render-") as tmp:
        source = Path(tmp) / f"{path.stem}.docx"
        to_docx(report, source, signed, now)
        produced = convert_official(source, path.suffix.lstrip(".").lower(), Path(tmp), report, now)
        path.write_bytes(produced.read_bytes())
