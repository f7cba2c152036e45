"""The front door and the record's additions: parse from bytes, record keys and extractor version,
cells with typed locations, stable finding fingerprints, collection rules run by their groups."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from builders import valid_report
from conftest import corpus_or_skip
from nianbao import service
from nianbao.authoring.sample import generate
from nianbao.extract import EXTRACTOR_VERSION
from nianbao.record import CellLocation, Finding, Report, SectionText, message_arguments
from nianbao.rules import REGISTRY, Config, check_collection
from nianbao.rules.base import GROUPINGS, Context
from nianbao.rules.collection import copy_candidates


def _corpus_files() -> list[Path]:
    corpus = corpus_or_skip()
    return sorted(p for d in ("real", "seeds") for p in (corpus / d).iterdir() if p.is_file())


def test_parse_bytes_reads_the_bytes_given_not_the_path() -> None:
    for path in _corpus_files():
        from_path = service.parse_path(path)
        # a name whose folder does not exist: the readers must not open it
        from_bytes = service.parse_bytes(path.read_bytes(), f"/没有这个文件夹/{path.name}")
        assert dataclasses.replace(from_bytes, source=from_path.source) == from_path
        assert from_bytes.source.path == f"/没有这个文件夹/{path.name}"
        assert from_path.source.extractor == EXTRACTOR_VERSION
        assert from_path.to_dict()["source"]["extractor"] == EXTRACTOR_VERSION
        assert from_path.key == from_path.source.sha256 and len(from_path.key) == 64


def test_parse_bytes_of_a_bad_file_gives_errors() -> None:
    report = service.parse_bytes(b"", "empty.docx")
    assert [e.rule for e in report.errors] == ["RD01"]
    assert report.source.extractor == EXTRACTOR_VERSION


def test_cells_and_locations() -> None:
    for path in _corpus_files():
        report = service.parse_path(path)
        cells = list(report.cells())
        assert len(cells) == len({p for p, _, _ in cells})
        assert {p: v for p, v, _ in cells} == report.flat()
        for p, v, loc in cells:
            assert report.value(p) == v
            assert isinstance(loc, CellLocation)
            assert loc.to_dict() == report.locations.get(p, {})
    pdf = CellLocation.from_dict({"page": 2, "bbox": [1.0, 2.0, 3.5, 4.0]})
    assert (pdf.page, pdf.bbox, pdf.to_dict()) == (2, (1.0, 2.0, 3.5, 4.0), {"page": 2, "bbox": [1.0, 2.0, 3.5, 4.0]})
    odd = CellLocation.from_dict({"line": 3, "unit": "元"})
    assert odd.to_dict() == {"line": 3, "unit": "元"} and odd and not CellLocation()


def test_record_round_trips_with_extractor() -> None:
    report = service.parse_path(_corpus_files()[0])
    assert Report.from_dict(report.to_dict()) == report


def test_fingerprint_is_stable_and_discriminating() -> None:
    a = Finding(
        "AR01", "error", "新收 1,234 + 上年结转 2 = 1236，办理结果总计 1235.0", ("table3/new/total",), {"line": 3}
    )
    same = Finding("AR01", "warning", "新收1234+上年结转2=1236；办理结果总计1235", ("table3/new/total",), {"page": 1})
    other_numbers = Finding("AR01", "error", "新收 1,234 + 上年结转 2 = 1236，办理结果总计 1234", ("table3/new/total",))
    other_cell = Finding("AR01", "error", a.message, ("table3/new/natural",))
    assert a.fingerprint == same.fingerprint
    assert len({a.fingerprint, other_numbers.fingerprint, other_cell.fingerprint}) == 3
    # another report's file name in the message (XY rules) does not count
    x = Finding("XY01", "error", "本年上年结转 3，但 2023 年报为 2（/甲/东城区2023.pdf）", ("table3/carried_in/total",))
    y = Finding(
        "XY01", "error", "本年上年结转 3，但 2023 年报为 2（/乙/丙/r001-2023.docx）", ("table3/carried_in/total",)
    )
    assert x.fingerprint == y.fingerprint
    assert message_arguments(x.message) == ("3", "2023", "2")


def test_check_reports_keyed_by_record_key() -> None:
    files = _corpus_files()
    reports = [service.parse_path(p) for p in files]
    result = service.check_reports([*reports, reports[0]])
    assert list(result) == [r.key for r in reports]
    assert result[reports[0].key] == service.check_report(reports[0]) + [
        f for f in result[reports[0].key] if f.rule[:2] in ("XY", "PU")
    ]


def test_collection_rules_by_their_groups_find_what_the_whole_collection_does() -> None:
    """Each collection rule declares its groups; run on them it finds exactly what it finds when
    handed every report at once (so a store can hand it just those groups)."""
    reports = [s.report for s in generate(80, seed=3, error_rate=0.4)]
    reports = [
        dataclasses.replace(r, source=dataclasses.replace(r.source, path=f"{i}.txt")) for i, r in enumerate(reports)
    ]
    # two agencies' same-year first sections copied from a third (XY04 across agencies)
    donor = next(r for r in reports if len(r.sections[0].text) >= 50)
    copies = [i for i, r in enumerate(reports) if r.year == donor.year and r.agency != donor.agency and r.sections][:2]
    for i in copies:
        sections = (SectionText(1, donor.sections[0].title, donor.sections[0].text), *reports[i].sections[1:])
        reports[i] = dataclasses.replace(reports[i], sections=sections)
    config = Config(aggregates=((reports[0].agency or "", ("*局",)),))
    grouped = check_collection(reports, config)
    contexts = [Context(r) for r in reports]
    for ctx in contexts:
        ctx.aggregates = config.aggregates
    whole: dict[int, list[Finding]] = {}
    index = {id(r): i for i, r in enumerate(reports)}
    for rule in REGISTRY.values():
        assert set(rule.group_by) <= set(GROUPINGS)
        if rule.scope == "collection":
            assert rule.group_by, f"{rule.code} declares no grouping"
            for report, finding in rule.func(contexts):  # type: ignore[misc]
                whole.setdefault(index[id(report)], []).append(finding)
    for i, found in enumerate(grouped):
        collection = sorted(f.fingerprint for f in found if f.rule[:2] in ("XY", "PU"))
        assert collection == sorted(f.fingerprint for f in whole.get(i, []))
    xy04 = [i for i, found in enumerate(grouped) if any(f.rule == "XY04" for f in found)]
    assert set(copies) <= set(xy04) or (min(copies) in xy04 or max(copies) in xy04)
    assert any(f.rule == "XY01" for found in grouped for f in found)


def test_copied_narrative_index_does_not_compare_every_pair() -> None:
    texts = [
        f"本机关第{i}号单位在{i % 7}个方面开展工作。围绕重点领域第{i}项任务推进公开。在{i}个渠道发布信息共计若干条。"
        f"编号{i}的专栏持续更新维护。{'甲乙丙丁戊己庚辛'[i % 8]}类事项按时办理完毕。"
        for i in range(300)
    ]
    texts = [
        t.replace("若干", "甲乙丙丁"[i % 4] * (i % 5 + 1)) + f"特有说明{i}号文字在此。" for i, t in enumerate(texts)
    ]
    texts.append(texts[10].replace("特有说明10号", "特有说明10号"))  # an exact copy of text 10 (index 300)
    pairs = copy_candidates(texts)
    assert (10, 300) in pairs
    assert len(pairs) < len(texts) * 10  # every pair would be 45,150


@pytest.mark.parametrize("number", [1, 5])
def test_xy04_copy_from_last_year_with_new_figures(number: int) -> None:
    base = valid_report()
    text = "本年度，本机关认真贯彻落实政府信息公开条例，全年主动公开政府信息120条。" * 3
    last = dataclasses.replace(
        base,
        year=2023,
        source=dataclasses.replace(base.source, path="a.txt"),
        sections=(SectionText(number, "t", text),),
    )
    this = dataclasses.replace(
        base,
        year=2024,
        source=dataclasses.replace(base.source, path="b.txt"),
        sections=(SectionText(number, "t", text.replace("120", "135")),),
    )
    found = check_collection([last, this], Config(select=("XY04",)))
    assert [f.rule for f in found[1]] == ["XY04"] and found[0] == []
