"""compare: cells side by side, the carry-over chain, the stock identity, copied sentences; the
injected cross-year errors of a sample series found with their cells, as XY01 finds them."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from conftest import corpus_or_skip, truth_report
from nianbao import parse
from nianbao.authoring.sample import write_samples
from nianbao.compare import compare, compare_all, sentences, to_html, to_json, to_text
from nianbao.record import Report
from nianbao.render import write
from nianbao.rules import check_collection


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *args], capture_output=True, text=True, timeout=300)


def _next_year(report: Report, **cells: int) -> Report:
    """The same agency a year later: 上年结转 and the stock carried on from this year, ``cells`` changed."""
    data = copy.deepcopy(report.to_dict())  # to_dict shares the record's tables
    data["year"] = (report.year or 0) + 1
    data["table3"]["carried_in"] = dict(data["table3"]["carried_forward"])
    for row in ("regulations", "normative_documents"):  # same flows; the stock that follows from them
        r = data["table2"][row]
        r["in_force"] = (r["in_force"] or 0) + (r["issued"] or 0) - (r["repealed"] or 0)
    for path, value in cells.items():
        table, row, col = path.split("__")
        data[table][row][col] = value
    return Report.from_dict(data)


def test_two_years_of_one_agency_read_from_the_corpus() -> None:
    corpus = corpus_or_skip()
    early, late = parse(corpus / "real" / "r008-pingtan-2024.txt"), parse(corpus / "real" / "r007-pingtan-2019.txt")
    c = compare(early, late)
    assert (c.a.year, c.b.year, c.consecutive) == (2019, 2024, False)  # ordered by year; not consecutive
    assert c.chain == () and c.stock == ()
    cells = {x.spec.path: x for x in c.cells}
    new = cells["table3/new/total"]
    assert (new.before, new.after, new.change) == (23, 218, 195)
    unread = cells["table2/normative_documents/in_force"]  # 6233440: not split, so not read
    assert (unread.before_state, unread.after_state, unread.change) == ("未印", "未读取", None)
    assert all(s.similarity is not None and 0 <= s.similarity <= 1 for s in c.sections)
    assert "表三“一、本年新收政府信息公开申请数量”总计：23 → 218（+195）" in to_text([c])


def test_chain_stock_and_copied_text_on_a_corpus_report() -> None:
    before = truth_report("r001-huaian-city-2024")
    after = _next_year(before, table2__normative_documents__in_force=70, table3__carried_in__research=5)
    c = compare(after, before)
    assert c.consecutive
    broken = [(link.cell, link.carried_forward, link.carried_in) for link in c.chain if link.broken]
    assert broken == [("table3/carried_in/research", 0, 5)]
    (stock,) = [s for s in c.stock if s.broken]  # 66 in force + 8 − 26 = 48, printed 70
    assert (stock.cell, stock.expected, stock.in_force) == ("table2/normative_documents/in_force", 48, 70)


def test_section_similarity_and_sentences_copied_verbatim() -> None:
    before = parse(corpus_or_skip() / "seeds" / "001_17c512892160a454.txt")
    texts = {s.number: s.text for s in before.sections}
    kept = next(x for x in sentences(texts[1]) if len(x) >= 20)
    fresh = "今年针对群众反映集中的问题新建了依申请公开办理台账，逐件跟踪答复质量。"
    after = dataclasses.replace(
        _next_year(before),
        sections=tuple(dataclasses.replace(x, text=f"{fresh}{kept}") if x.number == 5 else x for x in before.sections),
    )
    c = compare(before, after)
    by_number = {s.number: s for s in c.sections}
    assert by_number[1].similarity == 1.0 and len(by_number[1].copied) == len(
        [x for x in sentences(texts[1]) if len(x) >= 12]
    )
    assert by_number[5].sentences == ((fresh, False), (kept, True))
    assert by_number[5].similarity is not None and by_number[5].similarity < 0.9
    assert f"【照搬】{kept}" in to_text([c])


def test_sample_series_with_injected_chain_breaks(tmp_path: Path) -> None:
    manifest = write_samples(tmp_path, 30, seed=6, error_rate=0.5, fmts=("txt",))
    lines = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    injected = {
        (x["record"]["agency"], x["record"]["year"], cell)
        for x in lines
        for i in x["injected"]
        if i["rule"] == "XY01"
        for cell in i["cells"]
    }
    assert len(injected) == 4
    reports = [parse(tmp_path / x["file"]) for x in lines]
    found = {
        (c.b.agency, c.b.year, link.cell) for c in compare_all(reports) for link in c.chain if link.broken
    }
    # The injection moves 上年结转 in the 自然人 column and in 总计: both links break.
    assert {f for f in found if f[2].endswith("/natural")} == injected
    assert {(a, y) for a, y, _ in found} == {(a, y) for a, y, _ in injected}
    xy01 = {(r.agency, r.year, c) for r, fs in zip(reports, check_collection(reports), strict=True)
            for f in fs if f.rule == "XY01" for c in f.cells}
    assert xy01 == found  # the collection rule and compare read the chain the same way


def test_stock_break_written_into_a_sample_file_is_found(tmp_path: Path) -> None:
    before = truth_report("r015-shuyang-fgj-2023")
    after = _next_year(before, table2__normative_documents__in_force=25)  # 18 + 8 − 0 = 26
    write(before, tmp_path / "a.html")
    write(after, tmp_path / "b.docx")
    c = compare(parse(tmp_path / "a.html"), parse(tmp_path / "b.docx"))
    assert [(s.cell, s.expected, s.in_force) for s in c.stock if s.broken] == [
        ("table2/normative_documents/in_force", 26, 25)
    ]


def test_outputs_escape_and_parse() -> None:
    before = dataclasses.replace(truth_report("000_ad76ac4b2ae56493"), agency="<script>alert(1)</script>局")
    after = _next_year(before)
    c = compare(before, after)
    page = to_html([c])
    assert "<script>" not in page and "&lt;script&gt;" in page and page.startswith("<!DOCTYPE html>")
    assert 'lang="zh-CN"' in page and "<link" not in page and "src=" not in page  # self-contained
    data = json.loads(to_json([c]))
    assert data["consecutive"] is True and not any(x["broken"] for x in data["chain"])


def test_cli_compare(tmp_path: Path) -> None:
    corpus = corpus_or_skip()
    a, b = str(corpus / "real" / "r007-pingtan-2019.txt"), str(corpus / "real" / "r008-pingtan-2024.txt")
    text = _cli("compare", a, b)
    assert text.returncode == 0 and "比较：平潭综合实验区 2019 年" in text.stdout, text.stderr
    assert _cli("compare", a, b, "--format", "xlsx").returncode == 2  # xlsx needs --out
    out = tmp_path / "c.html"
    assert _cli("compare", a, b, "--format", "html", "--out", str(out)).returncode == 0
    assert "年度报告比较" in out.read_text(encoding="utf-8")
    every = _cli("compare", a, b, "--all")
    assert every.returncode == 0 and "没有可比较的报告" in every.stdout  # 2019 and 2024 are not consecutive
