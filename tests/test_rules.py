"""Data-driven cases per rule: a clean report, one change, the expected rule and cells."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from builders import valid_report, with_cells, with_section
from nianbao import parse
from nianbao.record import Report
from nianbao.render import write
from nianbao.rules import REGISTRY, Config, check, check_collection
from nianbao.rules.docs import rules_reference

ROOT = Path(__file__).resolve().parents[1]


def codes(report: Report, config: Config | None = None) -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for f in check(report, config or Config()):
        out.setdefault(f.rule, []).append(f.cells)
    return out


def test_clean_report_has_no_finding() -> None:
    assert check(valid_report()) == []


def _gov(report: Report) -> Report:
    return dataclasses.replace(report, agency="示例区人民政府", title="示例区人民政府2024年政府信息公开工作年度报告")


# (rule, change to the clean report, a cell the finding must name, or "" when it names none)
FAIL: list[tuple[str, Callable[[Report], Report], str]] = [
    ("AR01", lambda r: with_cells(r, table3__new__natural=11, table3__new__total=13), "table3/new/natural"),
    ("AR02", lambda r: with_cells(r, table3__granted__natural=7, table3__granted__total=8), "table3/total/natural"),
    ("AR03", lambda r: with_cells(r, table3__granted__total=8), "table3/granted/total"),
    ("AR04", lambda r: with_cells(r, table4__review__total=0), "table4/review/total"),
    ("VA01", lambda r: with_cells(r, table3__partial__natural=-1), "table3/partial/natural"),
    ("VA01", lambda r: with_cells(r, table3__partial__natural=1.5), "table3/partial/natural"),
    (
        "VA03",
        lambda r: with_cells(dataclasses.replace(r, agency="示例街道办事处"), table2__fees__amount_10k_yuan=35000),
        "table2/fees/amount_10k_yuan",
    ),
    ("ST01", lambda r: with_section(r, 5, None), ""),
    ("ST02", lambda r: dataclasses.replace(r, table3=None), ""),
    ("ST03", lambda r: with_section(r, 2, "通过门户网站主动公开。", heading="2、 主动公开政府信息情况"), ""),
    ("ST04", lambda r: dataclasses.replace(r, labels={"table3/partial": "（二）部分公开"}), "table3/partial/natural"),
    ("ST05", lambda r: dataclasses.replace(r, template="2019"), "table2/regulations/made"),
    ("ST06", lambda r: dataclasses.replace(r, title="2024年示例市教育局政府信息公开工作年度报告"), ""),
    ("NA01", lambda r: with_section(r, 3, "本年共收到政府信息公开申请99件。"), "table3/new/total"),
    ("NA01", lambda r: with_section(r, 3, "本年收到政府信息公开申请十八件。"), "table3/new/total"),
    ("NA01", lambda r: with_section(r, 3, "予以公开5件。"), "table3/granted/total"),
    ("NA01", lambda r: with_section(r, 4, "本年未发生政府信息公开行政复议、行政诉讼案件。"), "table4/review/total"),
    ("NA01", lambda r: with_section(r, 2, "本年制发行政规范性文件5件。"), "table2/normative_documents/issued"),
    (
        "NA01",
        lambda r: with_section(r, 2, "集中公开现行有效行政规范性文件999件。"),
        "table2/normative_documents/in_force",
    ),
    ("NA01", lambda r: with_section(r, 2, "本年废止规范性文件99件。"), "table2/normative_documents/repealed"),
    ("NA02", lambda r: with_section(r, 3, "结转到2024年1件。"), ""),
    ("NA02", lambda r: with_section(r, 1, "本报告统计期限为2023年1月1日至2023年12月31日。"), ""),
    ("NA03", lambda r: with_section(r, 5, "无"), ""),
    ("NA04", lambda r: with_section(r, 6, "本单位不存在行政事业性收费。"), ""),
    ("NA04", lambda r: with_section(r, 6, "发出收费通知0件，实际收取信息处理费100元。"), ""),
    ("NA05", _gov, ""),
    (
        "PL01",
        lambda r: with_cells(dataclasses.replace(r, agency="示例街道办事处"), table2__regulations__in_force=3),
        "table2/regulations/in_force",
    ),
    (
        "PL02",
        lambda r: with_cells(
            r,
            table4__litigation_after_review__upheld=2,
            table4__litigation_after_review__total=2,
            table4__review__upheld=0,
            table4__review__pending=0,
            table4__review__total=0,
        ),
        "table4/litigation_after_review/total",
    ),
]

PASS: list[tuple[str, Callable[[Report], Report]]] = [
    # 收到 may include carried-over applications: 12 new + 1 carried in = 13 fits one reading.
    (
        "NA01",
        lambda r: with_section(
            with_section(
                with_cells(
                    r,
                    table3__carried_in__natural=1,
                    table3__carried_in__total=1,
                    table3__carried_forward__natural=2,
                    table3__carried_forward__total=2,
                ),
                1,
                "全年收到政府信息公开申请13件。",
            ),
            3,
            "均已依法答复。",
        ),
    ),
    ("NA01", lambda r: with_section(r, 3, "本年收到政府信息公开申请十二件。")),
    ("NA01", lambda r: with_section(r, 1, "2023年收到申请99件，本年有所增加。")),  # another year's figure
    ("NA01", lambda r: with_section(r, 1, "全年发布信息70余件。")),  # approximate, not an application figure
    # the 0 belongs to 行政诉讼, listed before 行政复议 (a real 平潭 report's wording)
    ("NA01", lambda r: with_section(r, 4, "全年共有行政诉讼案件0件、行政复议案件2件，均已结案。")),
    ("NA04", lambda r: with_section(r, 6, "发出收费通知1件，总金额100元，实际收取信息处理费100元。")),
    (
        "NA05",
        lambda r: with_section(
            _gov(r),
            6,
            "本机关信息处理费收费通知的件数和总金额以及实际收取的总金额均为0。"
            "本年开展政府信息公开工作考核、社会评议，未发生责任追究。",
        ),
    ),
    ("PL01", lambda r: with_cells(dataclasses.replace(r, agency="示例市人民政府"), table2__regulations__in_force=3)),
    (
        "VA01",
        lambda r: dataclasses.replace(
            r, template="2019", table2={"licensing": {"previous_items": 3, "change": -1, "decisions": 0}}
        ),
    ),
]


@pytest.mark.parametrize(("code", "change", "cell"), FAIL, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(FAIL)])
def test_rule_fires_on_its_cells(code: str, change: Callable[[Report], Report], cell: str) -> None:
    found = codes(change(valid_report()))
    assert code in found, f"{code} did not fire; found {sorted(found)}"
    if cell:
        assert any(cell in cells for cells in found[code]), f"{code} named {found[code]}"


@pytest.mark.parametrize(("code", "change"), PASS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(PASS)])
def test_rule_stays_quiet(code: str, change: Callable[[Report], Report]) -> None:
    assert code not in codes(change(valid_report()))


def test_blank_cell_is_a_notice_and_counts_as_zero(tmp_path: Path) -> None:
    report = with_cells(valid_report(), table3__new__research=None)
    record = parse(write(report, tmp_path / "blank.txt"))
    found = codes(record)
    assert any("table3/new/research" in cells for cells in found["VA02"])
    assert "AR03" not in found and "AR01" not in found


def test_project_file_selects_ignores_and_regrades(tmp_path: Path) -> None:
    from nianbao.rules import load_config

    (tmp_path / "nianbao.toml").write_text(
        '[check]\nignore = ["ST"]\n[check.severity]\nAR03 = "warning"\n', encoding="utf-8"
    )
    config = load_config(tmp_path / "nianbao.toml")
    wrong = dataclasses.replace(with_cells(valid_report(), table3__granted__total=8), labels={})
    graded = check(wrong, config)
    assert {f.severity for f in graded if f.rule == "AR03"} == {"warning"}
    assert not [f for f in graded if f.rule.startswith("ST")]
    (tmp_path / "bad.toml").write_text('[check.severity]\nAR03 = "fatal"\n', encoding="utf-8")
    with pytest.raises(ValueError):
        load_config(tmp_path / "bad.toml")


def test_no_rule_repairs_a_value() -> None:
    wrong = with_cells(valid_report(), table3__granted__total=8)
    before = wrong.to_dict()
    check(wrong)
    assert wrong.to_dict() == before


def test_select_ignore_and_regrade() -> None:
    wrong = with_cells(valid_report(), table3__granted__total=8)
    assert set(codes(wrong, Config(select=("AR03",)))) == {"AR03"}
    assert "AR" not in {c[:2] for c in codes(wrong, Config(ignore=("AR",)))}
    graded = check(wrong, Config(severity={"AR03": "warning"}))
    assert {f.severity for f in graded if f.rule == "AR03"} == {"warning"}


# --- across reports ------------------------------------------------------------------------


def _pair(**this: int) -> list[Report]:
    prev = dataclasses.replace(valid_report(), year=2023, title="示例市教育局2023年政府信息公开工作年度报告")
    now = with_cells(valid_report(), **this) if this else valid_report()
    return [prev, now]


def collection_codes(reports: list[Report], config: Config | None = None) -> list[dict[str, list[tuple[str, ...]]]]:
    out = []
    for findings in check_collection(reports, config or Config()):
        found: dict[str, list[tuple[str, ...]]] = {}
        for f in findings:
            found.setdefault(f.rule, []).append(f.cells)
        out.append(found)
    return out


def test_xy01_carry_chain() -> None:
    # 2023 carried 1 forward (natural); 2024 says nothing was carried in.
    assert "table3/carried_in/natural" in collection_codes(_pair())[1]["XY01"][0]
    ok = _pair(
        table3__carried_in__natural=1,
        table3__carried_in__total=1,
        table3__carried_forward__natural=2,
        table3__carried_forward__total=2,
    )
    assert "XY01" not in collection_codes(ok)[1]


def test_xy02_stock_and_flow() -> None:
    found = collection_codes(_pair())[1]  # 20 + 3 - 1 = 22, printed 20
    assert "table2/normative_documents/in_force" in found["XY02"][0]
    ok = _pair(table2__normative_documents__in_force=22)
    assert "XY02" not in collection_codes(ok)[1]


def test_xy03_sharp_swing() -> None:
    big = _pair(
        table3__new__natural=70,
        table3__new__total=72,
        table3__granted__natural=66,
        table3__granted__total=67,
        table3__total__natural=69,
        table3__total__total=71,
    )
    assert "XY03" in collection_codes(big)[1]
    assert "XY03" not in collection_codes(_pair())[1]


def test_xy04_copied_narrative() -> None:
    text = "一是政策解读形式较为单一，解读材料多为文字，图解、视频等形式较少，群众阅读体验有待提升。改进措施：增加图解、视频等解读形式，提升解读质量。"
    reports = [with_section(r, 5, text) for r in _pair()]
    assert "XY04" in collection_codes(reports)[1]
    reports[1] = with_section(
        reports[1],
        5,
        "一是依申请公开答复的规范性有待提高，个别答复书引用条款不够准确。下一步将组织专题培训，建立答复书审核清单，逐件复核。",
    )
    assert "XY04" not in collection_codes(reports)[1]


def test_xy05_declared_aggregate() -> None:
    members = [dataclasses.replace(valid_report(), agency=f"示例区{n}局") for n in ("教育", "民政")]
    total = with_cells(dataclasses.replace(valid_report(), agency="示例区人民政府"), table3__new__total=99)
    config = Config(aggregates=(("示例区人民政府", ("示例区*局",)),))
    assert "table3/new/total" in collection_codes([total, *members], config)[0]["XY05"][0]


def test_pu01_publication_date() -> None:
    late = dataclasses.replace(valid_report(), meta={"published": "2025-03-10"})
    on_time = dataclasses.replace(valid_report(), meta={"published": "2025-01-20"})
    unknown = valid_report()
    found = collection_codes([late, on_time, unknown])
    assert [f.severity for f in check_collection([late])[0] if f.rule == "PU01"] == ["warning"]
    assert "PU01" not in found[1]
    assert [f.severity for f in check_collection([unknown])[0] if f.rule == "PU01"] == ["notice"]
    government = dataclasses.replace(_gov(valid_report()), meta={"published": "2025-03-10"})
    assert "PU01" not in collection_codes([government])[0]


def _pu01(report: Report) -> list[tuple[str, str]]:
    return [(f.severity, f.message) for f in check_collection([report])[0] if f.rule == "PU01"]


def test_pu01_signed_after_the_deadline_cannot_be_on_time() -> None:
    signed_late = dataclasses.replace(valid_report(), meta={"signed": "2025-02-10"})
    ((severity, message),) = _pu01(signed_late)
    assert severity == "warning" and "报告落款日期 2025年02月10日 已晚于规定期限 2025年01月31日" in message


def test_pu01_signed_in_time_is_named_but_proves_nothing() -> None:
    signed = dataclasses.replace(valid_report(), meta={"signed": "2025-01-15"})
    ((severity, message),) = _pu01(signed)
    assert severity == "notice" and "报告落款日期为 2025年01月15日" in message
    published = dataclasses.replace(valid_report(), meta={"signed": "2025-02-10", "published": "2025-01-20"})
    assert _pu01(published) == []  # the publication date decides when the page gives one


def test_pu01_an_impossible_date_is_no_date() -> None:
    report = dataclasses.replace(valid_report(), meta={"published": "2025-02-30", "signed": "2025-02-31"})
    assert [severity for severity, _ in _pu01(report)] == ["notice"]


@pytest.mark.parametrize(
    ("top", "end", "signed"),
    [
        ("（2025年1月23日）", "", "2025-01-23"),
        ("", "二〇二五年一月二十三日", "2025-01-23"),
        ("", "2025年12月1日", "2025-12-01"),
        ("", "二〇二五年十月十日", "2025-10-10"),
        ("", "2025年1月23日发布于门户网站", ""),  # a sentence, not a signing line
        ("", "二〇二五年一一月三日", ""),  # numerals that are no month
        ("", "二〇二五年二月三十日", ""),  # no such day
    ],
)
def test_signing_date_is_read_from_its_own_line(tmp_path: Path, top: str, end: str, signed: str) -> None:
    report = valid_report()
    lines = [report.title, top] + [f"{s.number}、{s.title}\n{s.text}" for s in report.sections] + [report.agency, end]
    path = tmp_path / "signed.txt"
    path.write_text("\n".join(line for line in lines if line), encoding="utf-8")
    assert parse(path).meta.get("signed", "") == signed


# --- the reference ---------------------------------------------------------------------------


def test_every_rule_of_the_spec_is_declared() -> None:
    spec = {
        "AR01",
        "AR02",
        "AR03",
        "AR04",
        "VA01",
        "VA02",
        "VA03",
        "ST01",
        "ST02",
        "ST03",
        "ST04",
        "ST05",
        "ST06",
        "NA01",
        "NA02",
        "NA03",
        "NA04",
        "NA05",
        "PL01",
        "PL02",
        "XY01",
        "XY02",
        "XY03",
        "XY04",
        "XY05",
        "PU01",
    }
    assert set(REGISTRY) == spec


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_rule_documents_itself_with_examples(code: str) -> None:
    rule = REGISTRY[code]
    assert rule.summary and rule.example("wrong") and rule.example("right"), f"{code} lacks its summary or examples"
    assert rule.severity in ("error", "warning", "notice")


def test_rules_reference_is_current() -> None:
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == rules_reference(), "docs/rules.md is stale: run `nianbao rules > docs/rules.md`"


def test_blank_cells_are_one_notice_per_table_naming_the_blank_columns() -> None:
    # r015 prints its five 法人或其他组织 columns empty in every row of table 三: one cause, one notice.
    from conftest import corpus_or_skip
    from nianbao.api import parse

    report = parse(corpus_or_skip() / "real" / "r015-shuyang-fgj-2023.html")
    blanks = [f for f in report.findings if f.rule == "VA02"]
    assert len(blanks) == 1
    assert len(blanks[0].cells) == 125
    assert "“商业企业”“科研机构”“社会公益组织”“法律服务机构”“其他”列在这 25 行均空白" in blanks[0].message


def test_a_total_column_printed_blank_is_one_finding_and_says_blank() -> None:
    import dataclasses

    from builders import valid_report
    from nianbao.rules import check

    report = valid_report()
    assert report.table3 is not None
    table3 = {k: {**row, "total": None} for k, row in report.table3.items()}
    blank = dataclasses.replace(report, table3=table3)
    found = [f for f in check(blank) if f.rule == "AR03"]
    assert len(found) == 1 and found[0].severity == "error"
    assert "“总计”列各行均空白" in found[0].message and "印为 0" not in found[0].message
    # One row's total blank: its own finding, saying 空白 rather than 印为 0.
    key = next(k for k, row in report.table3.items() if row["natural"])
    one = dataclasses.replace(report, table3={**report.table3, key: {**report.table3[key], "total": None}})
    messages = [f.message for f in check(one) if f.rule == "AR03"]
    assert len(messages) == 1 and "总计空白" in messages[0] and "印为" not in messages[0]
