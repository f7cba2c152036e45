"""The fill-in workbook as an input everywhere: parse, check and render read it, and say which
cells are still empty; render takes the JSON array parse prints; bad output paths get a message."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from builders import valid_report, with_cells
from nianbao import parse
from nianbao.authoring.workbook import INFO_SHEET, MAP_SHEET, SIGNED_LABEL, blank_report, write_template
from nianbao.record import Finding, Report
from nianbao.rules import check, check_collection
from test_authoring import _fill, _inputs


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nianbao.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def _workbook(path: Path, report: Report, signed: str = "2025年1月20日") -> Path:
    write_template(blank_report(report.agency or "", report.year or 2024), path)
    _fill(path, _inputs(report))
    wb = load_workbook(path)
    for row in wb[INFO_SHEET].iter_rows(min_row=1, max_col=2):
        if row[0].value == SIGNED_LABEL:
            row[1].value = signed
    wb.save(path)
    return path


def _mapping(path: Path) -> dict[str, tuple[str, str]]:
    wb = load_workbook(path)
    return {str(r[0]): (str(r[1]), str(r[2])) for r in wb[MAP_SHEET].iter_rows(min_row=2, values_only=True)}


def _comparable(findings: list[Finding]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return sorted((f.rule, f.severity, f.message, f.cells) for f in findings)


def test_filled_workbook_reads_like_its_record(tmp_path: Path) -> None:
    report = valid_report()
    record = parse(_workbook(tmp_path / "填报.xlsx", report))
    assert record.errors == () and record.source.format == "xlsx"
    assert (record.agency, record.year, record.template) == (report.agency, report.year, report.template)
    assert (record.table2, record.table3, record.table4) == (report.table2, report.table3, report.table4)
    assert [s.text for s in record.sections] == [s.text for s in report.sections]
    assert record.meta["signed"] == "2025-01-20"
    mapping = _mapping(tmp_path / "填报.xlsx")
    for path in (
        "table3/new/natural",
        "table3/total/total",
        "table2/normative_documents/issued",
        "table4/review/total",
    ):
        sheet, cell = mapping[path]
        assert record.locations[path] == {"sheet": sheet, "cell": cell}


def test_workbook_checked_directly_gives_the_findings_of_its_rendered_report(tmp_path: Path) -> None:
    # An error in the workbook (a 表三 total typed over) and a narrative mismatch: the findings of
    # the workbook are those of the report rendered from it, each at its sheet and cell.
    wrong = with_cells(valid_report(), table3__granted__total=8, table3__new__natural=11, table3__new__total=13)
    workbook = _workbook(tmp_path / "填报.xlsx", wrong)
    wb = load_workbook(workbook)
    granted = _mapping(workbook)["table3/granted/total"]
    wb[granted[0]][granted[1]] = 8  # over the formula, as a user types a figure into the total
    wb.save(workbook)
    rendered = tmp_path / "报告.docx"
    result = _cli("render", str(workbook), "--out", str(rendered), "--force")
    assert result.returncode == 0, result.stderr
    direct, from_report = check_collection([parse(workbook)]), check_collection([parse(rendered)])
    assert _comparable(direct[0]) == _comparable(from_report[0])
    assert any(f.severity == "error" for f in direct[0])
    mapping = _mapping(workbook)
    for finding in direct[0]:
        if finding.cells:  # every finding on cells is placed at a sheet's cell
            assert set(finding.location) == {"sheet", "cell"}, finding
        if finding.rule.startswith("AR"):  # an arithmetic finding at its first cell
            assert finding.location == dict(zip(("sheet", "cell"), mapping[finding.cells[0]], strict=True)), finding
    out = _cli("check", str(workbook)).stdout
    assert f"填报.xlsx:{granted[0]}!{granted[1]}: AR" in out, out


def test_blank_workbook_lists_its_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "空白.xlsx"
    write_template(blank_report("示例区教育委员会", 2024), path)
    mapping = _mapping(path)
    wb = load_workbook(path)
    inputs = {p: where for p, where in mapping.items() if not str(wb[where[0]][where[1]].value or "").startswith("=")}
    findings = check(parse(path))
    codes = [f.rule for f in findings]
    assert "RD26" in codes and codes.count("RD27") == 6
    listed = {cell for f in findings if f.rule == "RD25" for cell in f.cells}
    assert listed == set(inputs)
    for f in findings:
        if f.rule == "RD25":
            sheet = f.location["sheet"]
            assert all(inputs[c][0] == sheet for c in f.cells)
            assert f"工作表“{sheet}”" in f.message
    refused = _cli("render", str(path), "--out", str(tmp_path / "报告.docx"))
    assert refused.returncode == 1 and "RD26" in refused.stdout and "还没有填写" in refused.stdout
    assert not (tmp_path / "报告.docx").exists()


def test_half_filled_workbook_names_the_cells_left(tmp_path: Path) -> None:
    report = valid_report()
    path = tmp_path / "半.xlsx"
    write_template(blank_report(report.agency or "", 2024), path)
    left = {
        "table3/denied.state_secret/natural",
        "table3/denied.state_secret/commercial",
        "table4/litigation_direct/upheld",
    }
    _fill(path, {p: v for p, v in _inputs(report).items() if p not in left})
    findings = check(parse(path))
    assert "RD26" not in [f.rule for f in findings]
    assert {c for f in findings if f.rule == "RD25" for c in f.cells} == left
    mapping = _mapping(path)
    message = next(f.message for f in findings if f.rule == "RD25" and "table4/litigation_direct/upheld" in f.cells)
    assert mapping["table4/litigation_direct/upheld"][1] in message


def test_files_are_told_apart_by_content_not_name(tmp_path: Path) -> None:
    report = valid_report()
    workbook = _workbook(tmp_path / "填报.xlsx", report)
    disguised = shutil.copy(workbook, tmp_path / "填报.docx")
    assert parse(disguised).source.format == "xlsx" and parse(disguised).table3 == report.table3
    from nianbao.render import write

    docx = write(report, tmp_path / "报告.docx")
    renamed = shutil.copy(docx, tmp_path / "报告.xlsx")
    assert parse(renamed).source.format == "docx" and parse(renamed).table3 == report.table3


def _array(tmp_path: Path, reports: list[Report]) -> Path:
    path = tmp_path / "records.json"
    path.write_text(json.dumps([r.to_dict() for r in reports], ensure_ascii=False), encoding="utf-8")
    return path


def test_render_takes_the_array_parse_prints(tmp_path: Path) -> None:
    one, two = valid_report(), valid_report(agency="示例市卫生健康委员会", year=2023)
    records = _array(tmp_path, [one, two])
    result = _cli("render", str(records), "--out", str(tmp_path / "out" / "报告.md"))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["报告-1-示例市教育局2024.md", "报告-2-示例市卫生健康委员会2023.md"]
    assert parse(tmp_path / "out" / written[1]).agency == "示例市卫生健康委员会"
    picked = _cli("render", str(records), "--out", str(tmp_path / "二.md"), "--pick", "2")
    assert picked.returncode == 0 and parse(tmp_path / "二.md").year == 2023
    beyond = _cli("render", str(records), "--out", str(tmp_path / "三.md"), "--pick", "3")
    assert beyond.returncode == 2 and "只有 2 份报告" in beyond.stderr
    single = tmp_path / "one.json"
    single.write_text(json.dumps([one.to_dict()], ensure_ascii=False), encoding="utf-8")
    assert _cli("render", str(single), "--out", str(tmp_path / "one.html")).returncode == 0
    assert parse(tmp_path / "one.html").table3 == one.table3


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{tmp}", "不支持的输出格式"),  # a folder, no file name
        ("{tmp}/afile/报告.docx", "无法创建输出文件夹"),  # under an existing file
        ("{tmp}/folder.docx", "是一个文件夹"),
    ],
)
def test_bad_output_paths_get_a_message_not_a_traceback(tmp_path: Path, target: str, message: str) -> None:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "folder.docx").mkdir()
    record = _array(tmp_path, [valid_report()])
    result = _cli("render", str(record), "--out", target.format(tmp=tmp_path))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_output_folder_is_created(tmp_path: Path) -> None:
    record = _array(tmp_path, [valid_report()])
    target = tmp_path / "新建" / "子目录" / "报告.html"
    result = _cli("render", str(record), "--out", str(target))
    assert result.returncode == 0 and target.exists()
