"""Two reports side by side: every cell with its change, the carry-over chain, the stock identity,
and a section-by-section text diff with the sentences copied verbatim marked.

``compare(a, b)`` takes two records (one agency's two years, or any two); ``compare_all(reports)``
compares every agency's consecutive years. The chain and stock arithmetic is the collection rules'
own (``nianbao.crossyear``). Renderers: :func:`to_text`, :func:`to_json`, :func:`to_html`, :func:`to_xlsx`.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nianbao import formats
from nianbao.agencies import agency_key
from nianbao.crossyear import CarryLink, Num, StockLink, carry_links, similarity, stock_links
from nianbao.extract.split import format_number
from nianbao.metrics import Value, flat_values, unknown_cells
from nianbao.numbers import normalize_text
from nianbao.record import Report

MIN_COPIED = 12  # a sentence shorter than this (几个字的套话) is not marked as copied


@dataclass(frozen=True)
class CellSpec:
    path: str
    table: str  # 表二
    row: str  # the national row label
    column: str  # the national column label


def cell_specs(templates: Iterable[str] = ("2021", "2019")) -> list[CellSpec]:
    """Every cell of the three tables in the national order (table 二 of each template given)."""
    specs: dict[str, CellSpec] = {}
    for template in templates:
        for row2 in formats.TABLE2_ROWS[template]:
            for col in row2.columns:
                path = formats.cell_path("table2", row2.key, col.key)
                specs.setdefault(path, CellSpec(path, "表二", row2.label, col.label))
    for row3 in formats.TABLE3_ROWS:
        label = (f"{row3.group}{row3.label}" if row3.number else row3.label).split("（区分")[0]
        for col in formats.TABLE3_COLUMNS:
            path = formats.cell_path("table3", row3.key, col.key)
            specs[path] = CellSpec(path, "表三", label, col.label)
    for group in formats.TABLE4_GROUPS:
        for outcome in formats.TABLE4_OUTCOMES:
            path = formats.cell_path("table4", group.key, outcome.key)
            specs[path] = CellSpec(path, "表四", group.label, outcome.label)
    return list(specs.values())


@dataclass(frozen=True)
class Side:
    agency: str | None
    year: int | None
    template: str | None
    path: str

    @property
    def name(self) -> str:
        return f"{self.agency or '（未识别机关）'} {self.year or '????'} 年"


@dataclass(frozen=True)
class CellChange:
    spec: CellSpec
    before: Value
    after: Value
    before_state: str  # "" a number, "空白", "未读取", "未印"
    after_state: str

    @property
    def change(self) -> Value:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def differs(self) -> bool:
        return (self.before, self.before_state) != (self.after, self.after_state)


@dataclass(frozen=True)
class SectionDiff:
    number: int
    title: str
    similarity: float | None  # None when one report lacks the section
    sentences: tuple[tuple[str, bool], ...]  # the later report's sentences, and whether copied verbatim

    @property
    def copied(self) -> list[str]:
        return [s for s, copied in self.sentences if copied]


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    consecutive: bool  # the same agency in two consecutive years: chain and stock apply
    cells: tuple[CellChange, ...]
    chain: tuple[CarryLink, ...]
    stock: tuple[StockLink, ...]
    sections: tuple[SectionDiff, ...]

    @property
    def changed(self) -> list[CellChange]:
        return [c for c in self.cells if c.differs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": vars(self.a),
            "b": vars(self.b),
            "consecutive": self.consecutive,
            "cells": [
                {
                    "path": c.spec.path,
                    "label": f"{c.spec.table} {c.spec.row} {c.spec.column}",
                    "a": c.before,
                    "b": c.after,
                    "a_state": c.before_state,
                    "b_state": c.after_state,
                    "change": c.change,
                }
                for c in self.cells
            ],
            "chain": [
                {"cell": link.cell, "column": link.label, "carried_forward": link.carried_forward,
                 "carried_in": link.carried_in, "broken": link.broken}
                for link in self.chain
            ],
            "stock": [
                {"cell": s.cell, "row": s.label, "in_force_before": s.in_force_before, "issued": s.issued,
                 "repealed": s.repealed, "expected": s.expected, "in_force": s.in_force, "broken": s.broken}
                for s in self.stock
            ],
            "sections": [
                {"number": s.number, "title": s.title, "similarity": s.similarity, "copied": s.copied}
                for s in self.sections
            ],
        }


# --- comparing -----------------------------------------------------------------------------------


def _reader(report: Report) -> tuple[dict[str, Value], frozenset[str]]:
    return flat_values(report), unknown_cells(report)


def _state(path: str, values: dict[str, Value], unknown: frozenset[str]) -> tuple[Value, str]:
    if path in unknown:
        return None, "未读取"
    if path not in values:
        return None, "未印"
    value = values[path]
    return value, "" if value is not None else "空白"


def _num(values: dict[str, Value], unknown: frozenset[str]) -> Num:
    """The collection rules' reading: a printed blank is 0, an unread or absent cell None."""

    def num(path: str) -> Value:
        value, state = _state(path, values, unknown)
        return 0 if state == "空白" else value

    return num


def _cells(a: Report, b: Report) -> list[CellChange]:
    (va, ua), (vb, ub) = _reader(a), _reader(b)
    out = []
    for spec in cell_specs():
        if spec.path in va or spec.path in vb:
            before, sa = _state(spec.path, va, ua)
            after, sb = _state(spec.path, vb, ub)
            out.append(CellChange(spec, before, after, sa, sb))
    return out


_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n+")


def sentences(text: str) -> list[str]:
    """A section's sentences, as printed (split after 。！？； and at line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _section_diffs(a: Report, b: Report) -> list[SectionDiff]:
    texts_a = {s.number: s.text for s in a.sections}
    texts_b = {s.number: s.text for s in b.sections}
    whole_a = "\x00".join(normalize_text(t) for t in texts_a.values())  # no sentence spans two sections
    out = []
    for section in formats.SECTIONS:
        ta, tb = texts_a.get(section.number), texts_b.get(section.number)
        score = similarity(ta, tb) if ta is not None and tb is not None else None
        marked = tuple(
            (s, len(normalize_text(s)) >= MIN_COPIED and normalize_text(s) in whole_a) for s in sentences(tb or "")
        )
        out.append(SectionDiff(section.number, section.title, score, marked))
    return out


def compare(a: Report, b: Report) -> Comparison:
    """Two records side by side (the earlier year first when both years are known)."""
    if a.year and b.year and a.year > b.year:
        a, b = b, a
    consecutive = bool(
        a.year and b.year and b.year - a.year == 1 and agency_key(a.agency) == agency_key(b.agency)
    )
    prev, this = _num(*_reader(a)), _num(*_reader(b))
    chain = carry_links(prev, this) if consecutive else []
    stock = stock_links(prev, this) if consecutive and a.template == b.template == "2021" else []
    side = [Side(r.agency, r.year, r.template, r.source.path) for r in (a, b)]
    return Comparison(side[0], side[1], consecutive, tuple(_cells(a, b)), tuple(chain), tuple(stock),
                      tuple(_section_diffs(a, b)))


def compare_all(reports: Iterable[Report]) -> list[Comparison]:
    """Every agency's consecutive years (reports without agency or year, or unreadable, left out)."""
    groups: dict[str, list[Report]] = {}
    for r in reports:
        if r.agency and r.year and not r.errors:
            groups.setdefault(agency_key(r.agency), []).append(r)
    out = []
    for key in sorted(groups):
        series = sorted(groups[key], key=lambda r: r.year or 0)
        out += [compare(p, t) for p, t in itertools.pairwise(series) if (t.year or 0) - (p.year or 0) == 1]
    return out


# --- output --------------------------------------------------------------------------------------


def show(value: Value, state: str = "") -> str:
    return state or ("空" if value is None else format_number(value))


def _signed(value: Value) -> str:
    if value is None:
        return ""
    return f"+{format_number(value)}" if value > 0 else format_number(value)


def _pct(value: float | None) -> str:
    return "—（一份报告没有此部分）" if value is None else f"{value:.0%}"


def _chain_line(link: CarryLink) -> str:
    mark = "断裂" if link.broken else ("一致" if link.known else "无法判断")
    return f"  {link.label}：上年结转下年度 {show(link.carried_forward)}，本年上年结转 {show(link.carried_in)} —— {mark}"


def _stock_line(s: StockLink) -> str:
    mark = "不衔接" if s.broken else ("衔接" if s.known else "无法判断")
    return (
        f"  {s.label}：去年现行有效 {show(s.in_force_before)} + 本年制发 {show(s.issued)} − 本年废止 "
        f"{show(s.repealed)} = {show(s.expected)}，本年现行有效 {show(s.in_force)} —— {mark}"
    )


def _links(title: str, links: Sequence[CarryLink | StockLink], line: Callable[[Any], str], unit: str) -> list[str]:
    """A check's lines: only the broken or undecidable links, or one line when every link holds."""
    shown = [link for link in links if link.broken or not link.known]
    if not shown:
        return [f"{title}：{len(links)} {unit}全部一致"]
    return [f"{title}：", *map(line, shown)]


def text_of(c: Comparison) -> str:
    lines = [f"== 比较：{c.a.name}（{c.a.path}） → {c.b.name}（{c.b.path}）", ""]
    changed = c.changed
    lines.append(f"统计表：{len(c.cells)} 个单元格，{len(changed)} 个有变化")
    if c.a.template != c.b.template:
        lines.append(f"  （两份报告格式不同：{c.a.template} 与 {c.b.template}，表二和表三“（六）其他处理”的行不同，标为“未印”）")
    for cell in changed:
        delta = _signed(cell.change)
        lines.append(
            f"  {cell.spec.table}“{cell.spec.row}”{cell.spec.column}：{show(cell.before, cell.before_state)} → "
            f"{show(cell.after, cell.after_state)}{f'（{delta}）' if delta else ''}"
        )
    if c.consecutive:
        lines += ["", *_links("结转链条（上一年结转下年度 = 本年上年结转）", c.chain, _chain_line, "列")]
        if c.stock:
            lines += ["", *_links("规章、规范性文件存量（现行有效 = 去年现行有效 + 制发 − 废止）", c.stock, _stock_line, "项")]
    else:
        lines += ["", "两份报告不是同一机关的相邻年度，不检查结转链条和存量。"]
    lines += ["", "正文："]
    for s in c.sections:
        lines.append(f"  {formats.CHINESE_SECTION_NUMERALS[s.number - 1]}、{s.title}：相似度 {_pct(s.similarity)}，"
                     f"照搬句子 {len(s.copied)} 句")
        lines += [f"    【照搬】{sentence}" for sentence in s.copied]
    return "\n".join(lines) + "\n"


def to_text(comparisons: list[Comparison]) -> str:
    if not comparisons:
        return "没有可比较的报告（--all 只比较同一机关相邻年度的报告）。\n"
    body = "\n".join(text_of(c) for c in comparisons)
    if len(comparisons) == 1:
        return body
    chain = sum(1 for c in comparisons if any(link.broken for link in c.chain))
    stock = sum(1 for c in comparisons if any(s.broken for s in c.stock))
    copied = sum(1 for c in comparisons if any(s.copied for s in c.sections))
    return (
        f"共比较 {len(comparisons)} 对报告：结转链条断裂 {chain} 对，规范性文件存量不衔接 {stock} 对，"
        f"正文有照搬句子 {copied} 对。\n\n{body}"
    )


def to_json(comparisons: list[Comparison]) -> str:
    data: Any = [c.to_dict() for c in comparisons]
    return json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2) + "\n"


_CSS = (
    "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:2px 6px}"
    "td.n{text-align:right}td.n,td.k,th{white-space:nowrap}tr.changed{background:#fff4cc}.bad{color:#b00;font-weight:bold}"
    "mark{background:#ffd6d6}"
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _html_cells(c: Comparison, cells: Iterable[CellChange]) -> str:
    rows = [
        "<table><tr><th>表</th><th>行</th><th>列</th>"
        f"<th>{_e(c.a.name)}</th><th>{_e(c.b.name)}</th><th>变化</th></tr>"
    ]
    for cell in cells:
        row_class = ' class="changed"' if cell.differs else ""
        rows.append(
            f'<tr{row_class}><td class="k">{_e(cell.spec.table)}</td><td>{_e(cell.spec.row)}</td>'
            f'<td class="k">{_e(cell.spec.column)}</td>'
            f'<td class="n">{_e(show(cell.before, cell.before_state))}</td>'
            f'<td class="n">{_e(show(cell.after, cell.after_state))}</td><td class="n">{_e(_signed(cell.change))}</td></tr>'
        )
    return "\n".join([*rows, "</table>"])


def _html_links(title: str, lines: list[tuple[str, bool]]) -> str:
    items = "".join(f'<li{" class=bad" if bad else ""}>{_e(text)}</li>' for text, bad in lines)
    return f"<h3>{_e(title)}</h3><ul>{items}</ul>"


def _html_one(c: Comparison) -> str:
    parts = [f"<h2>{_e(c.a.name)} → {_e(c.b.name)}</h2>", f"<p>{_e(c.a.path)} → {_e(c.b.path)}</p>"]
    if c.consecutive:
        parts.append(_html_links("结转链条", [(_chain_line(x).strip(), x.broken) for x in c.chain]))
        if c.stock:
            parts.append(_html_links("规章、规范性文件存量", [(_stock_line(x).strip(), x.broken) for x in c.stock]))
    else:
        parts.append("<p>两份报告不是同一机关的相邻年度，不检查结转链条和存量。</p>")
    parts.append("<h3>正文</h3>")
    for s in c.sections:
        body = "".join(f"<mark>{_e(t)}</mark>" if copied else _e(t) for t, copied in s.sentences)
        parts.append(f"<h4>{_e(s.title)}（相似度 {_e(_pct(s.similarity))}，照搬 {len(s.copied)} 句）</h4><p>{body}</p>")
    parts.append(f"<h3>统计表：{len(c.changed)} 个单元格有变化</h3>")
    parts.append(_html_cells(c, c.changed))
    parts.append(f"<details><summary>全部 {len(c.cells)} 个单元格</summary>{_html_cells(c, c.cells)}</details>")
    return "\n".join(parts)


def to_html(comparisons: list[Comparison]) -> str:
    body = "\n<hr>\n".join(_html_one(c) for c in comparisons) or "<p>没有可比较的报告。</p>"
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>年度报告比较</title>'
        f"<style>{_CSS}</style></head><body><h1>年度报告比较</h1>\n<p>黄色行为有变化的单元格；"
        "红色为断裂的结转链条或不衔接的存量；<mark>标记</mark>的句子与前一份报告逐字相同。</p>\n"
        f"{body}\n</body></html>\n"
    )
