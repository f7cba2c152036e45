"""The one extractor: a :class:`~nianbao.model.Document` of any file type onto the national formats."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from nianbao import formats
from nianbao.errors import reading
from nianbao.extract.meta import (
    fallback_year,
    find_published,
    find_signed,
    find_title,
    read_sections,
)
from nianbao.extract.rows import find_regions, without_narrative
from nianbao.extract.stated import narrow_by_narrative
from nianbao.extract.stream import document_rows
from nianbao.extract.tables import TableResult, extract_table2, extract_table3, extract_table4, merged_blank_notices
from nianbao.model import Document, Location, Paragraph, Table
from nianbao.numbers import UNREADABLE
from nianbao.record import Finding, Report, SectionText, Source

__all__ = ["EXTRACTOR_VERSION", "extract"]

# The extractor's version, carried by every record (``source.extractor``): raise it when a change
# reads some file differently, so that stored records say which reading they hold.
EXTRACTOR_VERSION = "2026.12.1"


def _fallback_year(doc: Document) -> int | None:
    """The year from the text (statistics period first) when the title has none: paragraphs,
    then table cells (a crawler page may carry the title in a metadata table)."""
    paragraphs = "\n".join(b.text for b in doc.blocks if isinstance(b, Paragraph))[:20000]
    year = fallback_year(paragraphs)
    if year is None:
        cells = (c.text for b in doc.blocks if isinstance(b, Table) for r in b.rows for c in r)
        year = fallback_year(" ".join(cells)[:20000])
    return year


def _without_signature(sections: list[SectionText], agency: str | None) -> list[SectionText]:
    """The sections without the 落款 that closes the report: its last lines, a date alone on its
    line under the agency's name (or under nothing), belong to no section."""
    if not sections:
        return sections
    last = sections[-1]
    lines = last.text.split("\n")
    if len(lines) < 2 or not find_signed(Document((Paragraph(lines[-1], {}),), "txt")):
        return sections
    lines.pop()
    name = lines[-1].replace(" ", "")
    if (agency and name == agency.replace(" ", "")) or (
        len(lines) > 1 and len(name) <= 40 and name[-1:] not in "。；："
    ):
        lines.pop()
    return [*sections[:-1], dataclasses.replace(last, text="\n".join(lines).strip())]


def extract(doc: Document, source: Source) -> Report:
    title = find_title(doc)
    year = title.year if title.year is not None else _fallback_year(doc)
    results: dict[str, TableResult] = {}
    if title.year is None or title.year >= formats.FIRST_REGULATED_YEAR:
        # A report whose title dates it before 2019 predates the national tables: whatever table
        # it prints (an old 统计表) is not one of them, and reading it as one would give wrong
        # numbers. It gets RD10 below.
        _read_tables(doc, year, results)
    # What was seen but not read (a heading, a table region): a reading notice, not the report's fault.
    sections, doubts = read_sections(doc, {name for name, result in results.items() if result.values})
    sections = _without_signature(sections, title.agency)
    if "table2" in results:
        narrow_by_narrative(results["table2"], sections, year)
    findings: list[Finding] = []
    locations = {}
    labels: dict[str, str] = {}
    for name in ("table2", "table3", "table4"):
        if name in results:
            findings.extend(merged_blank_notices(results[name].findings))
            locations.update(results[name].locations)
            labels.update(results[name].labels)
    template = _template(results, year)
    errors = _document_errors(doc, results, sections, year)
    findings.extend(_missing_table_findings(results))
    findings.extend(_unreadable_characters(doc))
    if not errors:
        findings.extend(doubts)
    findings.extend(doc.findings)
    return Report(
        source=source,
        agency=title.agency,
        year=year,
        template=template,
        sections=tuple(sections),
        table2=results["table2"].values if "table2" in results else None,
        table3=results["table3"].values if "table3" in results else None,
        table4=results["table4"].values if "table4" in results else None,
        locations=locations,
        findings=tuple(findings),
        errors=tuple(errors),
        title=title.text,
        meta=_meta(doc),
        labels=labels,
    )


def _read_tables(doc: Document, year: int | None, results: dict[str, TableResult]) -> None:
    rows = document_rows(doc)
    regions = find_regions(rows)
    if regions.table2:
        a, b = regions.table2
        results["table2"] = extract_table2(without_narrative(rows[a:b]), year)
    if regions.table3:
        a, b = regions.table3
        results["table3"] = extract_table3(without_narrative(rows[a:b]), year)
    if regions.table4:
        a, b = regions.table4
        results["table4"] = extract_table4(without_narrative(rows[a:b]))


def _meta(doc: Document) -> dict[str, str]:
    meta = dict(doc.meta)
    published = find_published(doc)
    if published and "published" not in meta:
        meta["published"] = published
    signed = find_signed(doc)
    if signed and "signed" not in meta:
        meta["signed"] = signed
    return meta


def _template(results: dict[str, TableResult], year: int | None) -> str | None:
    if "table2" in results and results["table2"].template:
        return results["table2"].template
    t3 = results.get("table3")
    if t3 and t3.values:
        return "2019" if "other_handling" in t3.values else "2021"
    if not results:
        return None
    return "2019" if year is not None and year < formats.FIRST_2021_YEAR else "2021"


_TABLE_NAMES = {
    "table2": "表二（主动公开政府信息情况）",
    "table3": "表三（收到和处理政府信息公开申请情况）",
    "table4": "表四（政府信息公开行政复议、行政诉讼情况）",
}


def _texts(doc: Document) -> Iterator[tuple[str, Location]]:
    """Every paragraph's and every table cell's text (a merged cell once), with its location."""
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            yield block.text, block.location
        else:
            seen: set[int] = set()
            for row in block.rows:
                for cell in row:
                    if cell.origin not in seen:
                        seen.add(cell.origin)
                        yield cell.text, cell.location


def _unreadable_characters(doc: Document) -> list[Finding]:
    """One finding for the characters the reader could not read (U+FFFD), at the first of them."""
    if not doc.unreadable:
        return []
    count, first = 0, None
    for text, location in _texts(doc):
        if UNREADABLE in text:
            count += text.count(UNREADABLE)
            first = first or location
    if not count:
        return []
    return [reading("RD13", count=count, location=first)]


def _missing_table_findings(results: dict[str, TableResult]) -> list[Finding]:
    if not results:
        return []
    return [reading("RD05", "missing", table=label) for name, label in _TABLE_NAMES.items() if name not in results]


def _document_errors(
    doc: Document, results: dict[str, TableResult], sections: list[SectionText], year: int | None
) -> list[Finding]:
    has_values = any(r.values for r in results.values())
    if has_values:
        return []
    if not any(isinstance(b, (Paragraph, Table)) for b in doc.blocks):
        return [reading("RD01", "no_text")]
    if year is not None and year < formats.FIRST_REGULATED_YEAR:
        return [reading("RD10", year=year)]
    if len(sections) >= 3:
        return [reading("RD05", "no_tables")]
    return [reading("RD04")]
