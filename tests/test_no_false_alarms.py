"""No false alarms (#18): an error-level finding on a real report is a real defect of that report.

The corpus's every error is listed with its reason (tests/data/corpus_errors.json); corpus reports
rewritten into the phrasings and layouts real reports print (group totals, negations, headings
split, indented, numbered otherwise, a table not read) give no false error, and the real
contradictions in the same phrasings are still found.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from builders import valid_report, with_cells
from conftest import corpus_cases, load_truth, needs_libreoffice, source_of, truth_names, truth_report
from nianbao import formats, parse
from nianbao.record import Finding, Report, SectionText
from nianbao.render import write
from nianbao.rules import check, check_collection
from nianbao.rules.base import Context

ERRORS = Path(__file__).parent / "data" / "corpus_errors.json"
ALL = truth_names()


def _errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


# --- the precision test over the real corpus ---------------------------------------------------


def test_every_error_on_the_corpus_is_listed_with_its_reason() -> None:
    if not ALL:
        pytest.skip("the real corpus is not beside the project")
    listed = json.loads(ERRORS.read_text(encoding="utf-8"))["errors"]
    for entry in listed:
        assert entry["truth_remark"] in load_truth(entry["report"]), entry  # the reason is the truth's own
        assert entry["reason"]
    reports = [parse(source_of(name)) for name in ALL]
    found = {
        (name, f.rule, tuple(sorted(f.cells)))
        for name, findings in zip(ALL, check_collection(reports))
        for f in _errors(findings)
    }
    expected = {(e["report"], e["rule"], tuple(sorted(e["cells"]))) for e in listed}
    assert found - expected == set(), "error-level findings on the corpus that are not listed as real defects"
    assert expected - found == set(), "listed real defects no longer found"
    assert not any(name[:3].isdigit() for name, _, _ in found), "the seeds give no error"


# --- the framework: no error on what was not read with certainty --------------------------------


def test_an_abstained_cell_gives_a_reading_notice_not_an_error() -> None:
    report = with_cells(valid_report(), table3__new__natural=11, table3__new__total=13)
    assert {f.rule for f in _errors(check(report))} >= {"AR01"}
    doubt = Finding("RD07", "warning", "连写", ("table3/new/natural",), {})
    findings = check(dataclasses.replace(report, findings=(doubt,)))
    assert not [f for f in _errors(findings) if "table3/new/natural" in f.cells]
    (notice,) = [f for f in findings if f.rule == "RD28"]
    assert notice.severity == "notice" and "AR01" in notice.message and "table3/new/natural" in notice.cells


def test_the_runner_turns_an_error_on_a_doubted_cell_into_a_notice() -> None:
    # A rule reading the record past ctx.num still cannot raise an error on a doubted cell.
    report = dataclasses.replace(
        valid_report(), findings=(Finding("RD06", "warning", "缺行", ("table3/partial/total",)),)
    )
    ctx = Context(report)
    vouched = ctx.vouch(Finding("AR03", "error", "行合计", ("table3/partial/total", "table3/partial/natural")))
    assert vouched is not None and vouched.rule == "RD28" and vouched.severity == "notice"
    assert ctx.vouch(Finding("AR03", "error", "行合计", ("table3/granted/total",))) is not None
    assert ctx.vouch(Finding("AR03", "error", "x", ("table3/granted/total",))).rule == "AR03"  # type: ignore[union-attr]


def test_an_unreadable_cell_is_not_a_blank_counted_as_zero() -> None:
    report = with_cells(valid_report(), table3__new__natural=None)
    unreadable = Finding("RD13", "warning", "无法识别的字符")
    assert not _errors(check(dataclasses.replace(report, findings=(unreadable,))))
    # Printed blank (VA02 names it): counted as 0, the sums fail, a real error.
    blank = Finding("VA02", "notice", "空白", ("table3/new/natural",))
    assert "AR01" in {f.rule for f in _errors(check(dataclasses.replace(report, findings=(unreadable, blank))))}


# --- narrative phrasings, built from each corpus report's own tables ----------------------------


def _value(report: Report, keys: list[str]) -> int:
    rows = report.table3 or {}
    return sum(int(rows[k]["total"] or 0) for k in keys if k in rows)


def _rows(report: Report, prefix: str) -> list[str]:
    return [k for k in report.table3 or {} if k.startswith(prefix)]


def _told(name: str, text: str, tmp_path: Path) -> list[Finding]:
    """The corpus report (truth tables, its own sections) with ``text`` as section 三, printed as
    Word text and read back, checked."""
    report = truth_report(name)
    sections = [s for s in parse(source_of(name)).sections if s.number != 3]
    sections.append(SectionText(3, formats.SECTIONS[2].title, text))
    report = dataclasses.replace(report, sections=tuple(sorted(sections, key=lambda s: s.number)))
    return check(parse(write(report, tmp_path / f"{name}.txt")))


def _na01(findings: list[Finding]) -> list[Finding]:
    return [f for f in _errors(findings) if f.rule == "NA01"]


@pytest.mark.parametrize("name", corpus_cases(ALL))
def test_group_phrases_are_compared_with_their_rows_sum(name: str, tmp_path: Path) -> None:
    r = truth_report(name)
    group = _value(r, ["granted", "partial"])
    unavailable, refused = _value(r, _rows(r, "unavailable.")), _value(r, _rows(r, "not_processed."))
    other, total = _value(r, _rows(r, "other_handling")), _value(r, ["total"])
    granted = _value(r, ["granted"])
    share = f"{100 * granted / total:.1f}" if total else "0"
    text = (
        f"本年度予以公开及部分公开{group}件，无法提供{unavailable}件，不予处理{refused}件，其他处理{other}件。"
        f"共答复政府信息公开申请{total}件，其中予以公开{share}%（{granted}件）。"
    )
    assert _na01(_told(name, text, tmp_path)) == []
    wrong = _na01(_told(name, f"本年度予以公开及部分公开{group + 2}件。", tmp_path))
    assert [f.cells[:2] for f in wrong] == [("table3/granted/total", "table3/partial/total")]
    wrong = _na01(_told(name, f"共答复政府信息公开申请{total + 1}件，无法提供{unavailable + 1}件。", tmp_path))
    assert sorted(f.cells[0] for f in wrong) == sorted(
        ["table3/total/total", f"table3/{_rows(r, 'unavailable.')[0]}/total"]
    )


NEGATIONS = [
    ("全年未发生因依申请公开被行政复议纠错或行政诉讼败诉情形。", "corrected"),
    ("本年度政府信息公开行政复议、行政诉讼均未被纠错。", "corrected"),
    ("本年度无政府信息公开行政诉讼败诉案件。", "litigation_corrected"),
    ("本年度未发生政府信息公开行政复议、行政诉讼，未发生纠错。", "total"),
]


@pytest.mark.parametrize("sentence,cells", NEGATIONS)
@pytest.mark.parametrize("name", corpus_cases(ALL))
def test_a_negation_is_read_within_its_scope(name: str, sentence: str, cells: str, tmp_path: Path) -> None:
    t4 = truth_report(name).table4 or {}
    groups = [g.key for g in formats.TABLE4_GROUPS][1:] if cells == "litigation_corrected" else list(t4)
    column = "total" if cells == "total" else "corrected"
    denied = [t4[g][column] for g in groups]
    wrong = _na01(_told(name, sentence, tmp_path))
    # The real contradictions in the same phrasing are still found (r001: 64 reviews corrected).
    assert bool(wrong) == any(denied), (denied, [f.message for f in wrong])


@pytest.mark.parametrize("name", corpus_cases(ALL))
def test_corrected_reviews_and_lost_suits_are_compared_with_the_corrected_outcomes(name: str, tmp_path: Path) -> None:
    t4 = truth_report(name).table4 or {}
    corrected = t4["review"]["corrected"] or 0
    lost = sum(t4[g]["corrected"] or 0 for g in ("litigation_direct", "litigation_after_review"))
    text = f"行政复议被纠错{corrected}件，行政诉讼败诉{lost}件。"
    assert _na01(_told(name, text, tmp_path)) == []
    wrong = _na01(_told(name, f"行政复议被纠错{corrected + 1}件，行政诉讼败诉{lost}件。", tmp_path))
    assert [f.cells for f in wrong] == [("table4/review/corrected",)]


def test_a_result_named_with_wu_is_no_negation(tmp_path: Path) -> None:
    # 无法提供 names a result; read as 无 … 复议 … 纠正 it denied r001's 64 corrected reviews.
    if "r001-huaian-city-2024" not in ALL:
        pytest.skip("the real corpus is not beside the project")
    assert _na01(_told("r001-huaian-city-2024", "无法提供信息的答复经行政复议被纠正。", tmp_path)) == []


def test_r001_reviews_corrected_contradict_the_negation(tmp_path: Path) -> None:
    if "r001-huaian-city-2024" not in ALL:
        pytest.skip("the real corpus is not beside the project")
    (wrong,) = _na01(_told("r001-huaian-city-2024", NEGATIONS[0][0], tmp_path))
    assert "table4/review/corrected" in wrong.cells and "64" in wrong.message


@pytest.mark.parametrize("name", corpus_cases(ALL))
def test_figures_about_other_units_years_and_changes_are_no_error(name: str, tmp_path: Path) -> None:
    r = truth_report(name)
    new, year = _value(r, ["new"]), r.year or 2024
    text = (
        f"全市各级行政机关共收到政府信息公开申请{new + 99}件。{year - 1}年收到政府信息公开申请{new + 7}件。"
        f"本年收到政府信息公开申请同比增加{new + 3}件。"
    )
    findings = _told(name, text, tmp_path)
    assert _na01(findings) == []
    assert any(f.rule == "RD31" and str(new + 99) in f.message for f in findings)


# --- sections: headings as web pages and PDFs really lay them out ------------------------------

HEADING_RE = re.compile(r"<h2>([一二三四五六])、(.+?)</h2>")


def _html_variants() -> dict[str, object]:
    return {
        "split across elements": lambda m: f"<p><span>{m.group(1)}、</span></p>\n<p><span>{m.group(2)}</span></p>",
        "split inside the title": lambda m: f"<div>{m.group(1)}、{m.group(2)[:3]}</div><div>{m.group(2)[3:]}</div>",
        "indented, numbered 一.": lambda m: f"<p>&nbsp;&nbsp;&nbsp;&nbsp;{m.group(1)}.{m.group(2)}</p>",
        "numbered （一）": lambda m: f"<p>（{m.group(1)}）{m.group(2)}</p>",
        "in the body font": lambda m: (
            f"<p style='text-indent:2em'><span>{m.group(1)}、</span><span>{m.group(2)}</span></p>"
        ),
    }


def _with_parsed_sections(name: str) -> Report:
    return dataclasses.replace(truth_report(name), sections=parse(source_of(name)).sections)


@pytest.mark.parametrize("variant", list(_html_variants()))
@pytest.mark.parametrize("name", corpus_cases(ALL))
def test_html_headings_split_or_renumbered_are_found(name: str, variant: str, tmp_path: Path) -> None:
    report = _with_parsed_sections(name)
    page = write(report, tmp_path / "plain.html").read_text(encoding="utf-8")
    edited = HEADING_RE.sub(_html_variants()[variant], page)  # type: ignore[arg-type]
    assert edited != page
    path = tmp_path / "edited.html"
    path.write_text(edited, encoding="utf-8")
    read, plain = parse(path), parse(tmp_path / "plain.html")
    assert [(s.number, s.text) for s in read.sections] == [(s.number, s.text) for s in plain.sections]
    # No error the plainly printed page does not give (r004 lacks section 五 either way).
    assert [f.message for f in _errors(check(read))] == [f.message for f in _errors(check(plain))]


@pytest.mark.parametrize("name", corpus_cases(ALL))
def test_a_heading_and_its_first_sentence_on_one_line(name: str, tmp_path: Path) -> None:
    report = _with_parsed_sections(name)
    page = write(report, tmp_path / "plain.html").read_text(encoding="utf-8")
    joined = re.sub(r"<h2>([^<]+)</h2>\n<p>", lambda m: f"<p>{m.group(1)} ", page)
    path = tmp_path / "joined.html"
    path.write_text(joined, encoding="utf-8")
    read, plain = parse(path), parse(tmp_path / "plain.html")
    assert [s.number for s in read.sections] == [s.number for s in plain.sections]
    assert [f.message for f in _errors(check(read))] == [f.message for f in _errors(check(plain))]


def test_a_missing_section_is_still_an_error() -> None:
    if not ALL:
        pytest.skip("the real corpus is not beside the project")
    report = _with_parsed_sections("001_17c512892160a454")
    without = dataclasses.replace(report, sections=tuple(s for s in report.sections if s.number != 5))
    assert [f.detail for f in _errors(check(without)) if f.rule == "ST01"] == [{"section": 5}]


# --- ST02: a table not read is not a table missing ----------------------------------------------


def _table4_text(name: str, tmp_path: Path, change: str) -> Report:
    """The report as Word text with table 四's numbers removed, or the table gone."""
    text = write(_with_parsed_sections(name), tmp_path / "plain.txt").read_text(encoding="utf-8")
    head = text.index("四、政府信息公开行政复议、行政诉讼情况")
    end = text.index("五、存在的主要问题及改进情况")
    lines = text[head:end].split("\n")
    if change == "digits removed":
        lines = [line for line in lines if not re.fullmatch(r"\t\d+", line)]
    else:
        lines = [line for line in lines if not line.startswith("\t")]
    path = tmp_path / "edited.txt"
    path.write_text(text[:head] + "\n".join(lines) + text[end:], encoding="utf-8")
    return parse(path)


@pytest.mark.parametrize("name", corpus_cases(["001_17c512892160a454", "r015-shuyang-fgj-2023"]))
def test_an_unread_table_is_a_reading_notice_and_an_absent_one_an_error(name: str, tmp_path: Path) -> None:
    unread = _table4_text(name, tmp_path, "digits removed")
    findings = check(unread)
    assert not _errors(findings)
    assert any(f.rule == "RD30" and f.detail == {"table": "table4"} for f in findings)
    absent = check(_table4_text(name, tmp_path, "table removed"))
    assert [f.detail for f in _errors(absent)] == [{"table": "table4"}]


# --- PDF headings indented in the body font, as WPS and Word lay them out -----------------------


def _body_font_headings(numbering: str, joined: bool) -> object:
    """Word's Heading 1 paragraphs made body paragraphs indented two characters; numbered
    ``一.`` or ``（一）`` instead of ``一、``; or run into the paragraph after them."""
    from docx_edit import w

    def change(root: object) -> None:
        body = root.find(w("body"))  # type: ignore[attr-defined]
        paragraphs = list(body.iter(w("p")))
        for i, p in enumerate(paragraphs):
            style = p.find(f"{w('pPr')}/{w('pStyle')}")
            if style is None or style.get(w("val")) != "Heading1":
                continue
            style.getparent().remove(style)
            indent = style.makeelement(w("ind"), {w("firstLine"): "440"})
            p.find(w("pPr")).append(indent)
            for t in p.iter(w("t")):
                if numbering == "一.":
                    t.text = re.sub(r"^([一二三四五六])、", r"\1.", t.text or "")
                elif numbering == "（一）":
                    t.text = re.sub(r"^([一二三四五六])、", r"（\1）", t.text or "")
            after = paragraphs[i + 1] if i + 1 < len(paragraphs) else None
            # Joined to a body paragraph after it, never to a table's cell (sections of tables only).
            if (
                joined
                and after is not None
                and after.getparent() is body
                and after.find(f"{w('pPr')}/{w('pStyle')}") is None
            ):
                for run in list(after.iter(w("r"))):
                    p.append(run)
                after.getparent().remove(after)

    return change


@needs_libreoffice
@pytest.mark.libreoffice
@pytest.mark.parametrize("numbering,joined", [("一、", False), ("一.", False), ("（一）", False), ("一、", True)])
@pytest.mark.parametrize("name", corpus_cases(["001_17c512892160a454", "r015-shuyang-fgj-2023"]))
def test_pdf_headings_indented_in_the_body_font_are_found(
    name: str, numbering: str, joined: bool, tmp_path: Path
) -> None:
    from docx_edit import edit_docx
    from nianbao.readers.office import convert

    (tmp_path / "edited").mkdir()
    source = write(_with_parsed_sections(name), tmp_path / "source.docx")
    plain = parse(convert(source, "pdf", tmp_path))
    edited = edit_docx(source, tmp_path / "edited" / f"{name}.docx", _body_font_headings(numbering, joined))  # type: ignore[arg-type]
    read = parse(convert(edited, "pdf", tmp_path / "edited"))
    assert [s.number for s in read.sections] == [1, 2, 3, 4, 5, 6] == [s.number for s in plain.sections]
    assert [f.message for f in _errors(check(read))] == [f.message for f in _errors(check(plain))] == []


# --- a crawled table 四 whose run-together digits cannot be read ---------------------------------

R008_TABLE4 = "尚未审结总计21317000001324019五、"


@pytest.mark.parametrize(
    "digits,errors",
    [
        ("2131700000", []),  # too few digits for the fifteen cells: the row is not read (RD07)
        ("1111111111111111", []),  # several splits keep the sums: the totals are abstained from
        ("21317000001324018", ["AR04"]),  # one digit changed: a real error, still found
    ],
)
def test_table4_run_together_and_not_read_is_no_error(digits: str, errors: list[str], tmp_path: Path) -> None:
    if "r008-pingtan-2024" not in ALL:
        pytest.skip("the real corpus is not beside the project")
    text = source_of("r008-pingtan-2024").read_text(encoding="utf-8")
    assert R008_TABLE4 in text
    path = tmp_path / "r008.txt"
    path.write_text(text.replace(R008_TABLE4, f"尚未审结总计{digits}五、"), encoding="utf-8")
    findings = check(parse(path))
    assert [f.rule for f in _errors(findings)] == errors
    if not errors:  # what could not be checked is said, as a notice
        (notice,) = [f for f in findings if f.rule == "RD28"]
        assert "AR04" in notice.message and all(c.startswith("table4/") for c in notice.cells)
