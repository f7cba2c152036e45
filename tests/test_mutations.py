"""Mutation tests: change one number of tables 三 or 四 in a real report's source; the right
arithmetic rule must name that cell. Runs over every corpus report (text, Markdown, crawler dumps,
HTML, and the PDF's text layer edited in place) and every printed cell of tables 三 and 四."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import corpus_cases, source_of, truth_names
from nianbao import formats, parse
from nianbao.record import Report
from nianbao.rules import Config, check
from pdf_edit import change_digit

ARITHMETIC = Config(select=("AR",))
EDITABLE = truth_names()


def _cells(report: Report) -> list[tuple[str, int]]:
    out = []
    for table in ("table3", "table4"):
        for row, cols in (getattr(report, table) or {}).items():
            for col, value in cols.items():
                if isinstance(value, int):
                    out.append((f"{table}/{row}/{col}", value))
    return out


# --- editing one number where the reader found it ----------------------------------------------


def _edit_cell_per_line(lines: list[str], line: int, value: int) -> None:
    """Word dumps: the cell's line holds just that number (with its padding)."""
    text = lines[line - 1]
    lines[line - 1] = re.sub(r"[0-9０-９]+", str(value + 1), text, count=1)


def _edit_markdown(lines: list[str], line: int, index: int) -> None:
    cells = lines[line - 1].split("|")
    numeric = [i for i, c in enumerate(cells) if re.fullmatch(r"\s*\d+\s*", c)]
    i = numeric[index]
    cells[i] = f" {int(cells[i]) + 1} "
    lines[line - 1] = "|".join(cells)


def _row_values(report: Report, table: str, row: str) -> list[int]:
    if table == "table4":
        return [report.table4[g][o] for g, o in formats.TABLE4_CELLS]  # type: ignore[index,misc]
    return [report.table3[row][c.key] for c in formats.TABLE3_COLUMNS]  # type: ignore[index,misc]


def _edit_run_together(text: str, report: Report, path: str) -> str:
    """Crawler dumps: find the row's digits after its label (rows in order) and rewrite them."""
    table, row, col = path.split("/")
    start = text.index("勾稽关系")
    order = [
        k
        for k in (
            formats.TABLE3_ORDER_SPLIT if "other_handling.other" in report.table3 else formats.TABLE3_ORDER_SINGLE
        )
    ]  # type: ignore[operator]
    targets = order if table == "table3" else []
    for key in targets:
        spec = formats.TABLE3_ROW_BY_KEY[key]
        anchor = "总计" if key == "total" else ("其他" if key == "other_handling.other" else spec.keys[0])
        start = text.index(anchor, start) + len(anchor)
        if key == row:
            break
    if table == "table4":
        start = text.index("尚未审结总计", text.rindex("复议后起诉")) + len("尚未审结总计")
    values = _row_values(report, table, row)
    digits = "".join(str(v) for v in values)
    m = re.compile(r"\s*".join(digits)).search(text, start)
    assert m is not None, f"digits of {path} not found"
    index = (
        [c.key for c in formats.TABLE3_COLUMNS].index(col)
        if table == "table3"
        else formats.TABLE4_CELLS.index((row, col))
    )
    mutated = [v + 1 if i == index else v for i, v in enumerate(values)]
    return text[: m.start()] + "".join(str(v) for v in mutated) + text[m.end() :]


def _edit_html(data: bytes, location: dict[str, int], value: int) -> bytes:
    root = etree.fromstring(data, etree.HTMLParser())
    tables = [t for t in root.iter("table") if not any(True for x in t.iter("table") if x is not t)]
    rows = [tr for tr in tables[location["table"]].iter("tr")]
    grid: dict[tuple[int, int], etree._Element] = {}
    for r, tr in enumerate(rows):
        c = 0
        for td in (e for e in tr if e.tag in ("td", "th")):
            while (r, c) in grid:
                c += 1
            for dr in range(int(td.get("rowspan", "1"))):
                for dc in range(int(td.get("colspan", "1"))):
                    grid[(r + dr, c + dc)] = td
            c += int(td.get("colspan", "1"))
    td = grid[(location["row"], location["col"])]
    for child in list(td):
        td.remove(child)
    td.text = str(value + 1)
    return etree.tostring(root, encoding="utf-8", method="html")


def mutate(source: Path, report: Report, path: str, value: int) -> bytes:
    location = report.locations[path]
    if source.suffix == ".pdf":
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "m.pdf"
            assert change_digit(source, target, location["page"], location["bbox"]) is not None, path
            return target.read_bytes()
    if source.suffix == ".html":
        return _edit_html(source.read_bytes(), location, value)
    text = source.read_text(encoding="utf-8")
    lines = text.split("\n")
    same_line = [p for p, _ in _cells(report) if report.locations.get(p) == location]
    if len(same_line) == 1:
        _edit_cell_per_line(lines, location["line"], value)
    elif source.suffix == ".md":
        _edit_markdown(lines, location["line"], same_line.index(path))
    else:
        return _edit_run_together(text, report, path).encode("utf-8")
    return "\n".join(lines).encode("utf-8")


@pytest.mark.parametrize("name", corpus_cases(EDITABLE))
def test_every_changed_number_is_caught_on_its_cell(name: str, tmp_path: Path) -> None:
    source = source_of(name)
    report = parse(source)
    assert not [
        f for f in check(report, ARITHMETIC) if f.severity == "error" and "table3/carried_forward/total" not in f.cells
    ], "the unchanged report must pass the arithmetic rules (r004's lost cell aside)"
    missed = []
    cells = _cells(report)
    assert cells
    for path, value in cells:
        mutated = tmp_path / f"m{source.suffix}"
        mutated.write_bytes(mutate(source, report, path, value))
        findings = check(parse(mutated), ARITHMETIC)
        if not any(path in f.cells for f in findings if f.severity == "error"):
            missed.append(path)
    assert missed == [], f"{len(missed)} of {len(cells)} changes not caught on their cell"
