"""A valid, complete report record to change one thing at a time in rule tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from nianbao import formats
from nianbao.record import Report, SectionText, Source

SECTION_TEXT = {
    1: "2024年，本局认真贯彻《政府信息公开条例》，持续推进政务公开。全年收到政府信息公开申请12件。",
    2: "通过门户网站主动公开机构职能、政策文件等信息。",
    3: "本年新收政府信息公开申请12件，予以公开7件，部分公开2件，不予公开1件，无法提供1件，结转下年度继续办理1件。",
    4: "本年发生政府信息公开行政复议2起，其中结果维持1起，尚未审结1起；未发生行政诉讼。",
    5: "一是政策解读形式较为单一。改进措施：增加图解、视频等解读形式，提升解读质量。",
    6: "本机关依据《政府信息公开信息处理费管理办法》，发出收费通知的件数和总金额以及实际收取的总金额均为0。",
}


def _t3() -> dict[str, dict[str, int | float | None]]:
    cols = [c.key for c in formats.TABLE3_COLUMNS]
    table = {k: dict.fromkeys(cols, 0) for k in formats.TABLE3_ORDER_SPLIT}

    def put(key: str, natural: int, commercial: int = 0) -> None:
        table[key] = {
            **dict.fromkeys(cols, 0),
            "natural": natural,
            "commercial": commercial,
            "total": natural + commercial,
        }

    put("new", 10, 2)
    put("granted", 6, 1)
    put("partial", 2)
    put("denied.third_party", 1)
    put("unavailable.not_held", 0, 1)
    put("total", 9, 2)
    put("carried_forward", 1)
    return table


def valid_report(**changes: Any) -> Report:
    """A 2024 department report that passes every rule; ``changes`` replace record fields."""
    agency = "示例市教育局"
    table2 = {spec.key: {c.key: 0 for c in spec.columns} for spec in formats.TABLE2_ROWS["2021"]}
    table2["normative_documents"] = {"issued": 3, "repealed": 1, "in_force": 20}
    table4 = {g.key: {"upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0} for g in formats.TABLE4_GROUPS}
    table4["review"] = {"upheld": 1, "corrected": 0, "other": 0, "pending": 1, "total": 2}
    sections = tuple(SectionText(s.number, s.title, SECTION_TEXT[s.number]) for s in formats.SECTIONS)
    report = Report(
        source=Source("base.json", "json"),
        agency=agency,
        year=2024,
        template="2021",
        sections=sections,
        table2=table2,
        table3=_t3(),
        table4=table4,
        title=f"{agency}2024年政府信息公开工作年度报告",
        labels={"table3/partial": formats.TABLE3_ROW_BY_KEY["partial"].label},
    )
    return dataclasses.replace(report, **changes)


def with_cells(report: Report, **cells: int | float | None) -> Report:
    """Set cells by path written with ``__`` for ``/`` and ``_`` kept: table3__new__natural=5."""
    data = report.to_dict()
    for name, value in cells.items():
        table, row, col = name.split("__")
        data[table][row.replace("_dot_", ".")][col] = value
    return Report.from_dict(data)


def with_section(report: Report, number: int, text: str | None, heading: str = "") -> Report:
    kept = [s for s in report.sections if s.number != number]
    if text is not None:
        spec = formats.SECTIONS[number - 1]
        kept.append(SectionText(number, spec.title, text, heading))
    return dataclasses.replace(report, sections=tuple(sorted(kept, key=lambda s: s.number)))
