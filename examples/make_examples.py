"""Write the bundled example reports (invented units and figures; arithmetic consistent).

    python examples/make_examples.py

The files in examples/reports/ are produced by this script through nianbao's own renderer.
"""

from __future__ import annotations

import random
from pathlib import Path

from nianbao import formats
from nianbao.record import Report, SectionText, Source
from nianbao.render import to_html, write

OUT = Path(__file__).resolve().parent / "reports"
UNITS = [
    ("示例市人民政府办公室", 2024, ".docx", 260),
    ("示例区教育委员会", 2023, ".html", 35),
    ("示例街道办事处", 2024, ".txt", 4),
    ("示例县自然资源局", 2020, ".md", 18),
]


def _row(rng: random.Random, n: int) -> dict[str, int | float | None]:
    applicants = [n, rng.randint(0, max(0, n // 8)), 0, 0, rng.randint(0, 1), 0]
    return dict(zip(formats.TABLE3_APPLICANT_COLUMNS, applicants, strict=True)) | {"total": sum(applicants)}


def _table3(rng: random.Random, template: str, scale: int) -> dict[str, dict[str, int | float | None]]:
    order = formats.TABLE3_ORDER_SINGLE if template == "2019" else formats.TABLE3_ORDER_SPLIT
    results = formats.table3_result_keys(order)
    table = {k: _row(rng, 0) for k in order}
    for key in ("granted", "partial", "unavailable.not_held", "not_processed.repeat"):
        table[key] = _row(rng, rng.randint(0, scale))
    carried_in = _row(rng, rng.randint(0, 2))
    carried_forward = _row(rng, rng.randint(0, 2))
    table["carried_in"], table["carried_forward"] = carried_in, carried_forward
    cols = [c.key for c in formats.TABLE3_COLUMNS]
    table["total"] = {c: sum(table[k][c] or 0 for k in results) for c in cols}
    table["new"] = {c: (table["total"][c] or 0) + (carried_forward[c] or 0) - (carried_in[c] or 0) for c in cols}
    if any(v < 0 for v in table["new"].values()):  # type: ignore[operator]
        table["carried_in"] = {c: 0 for c in cols}
        table["new"] = {c: (table["total"][c] or 0) + (carried_forward[c] or 0) for c in cols}
    return table


def example(agency: str, year: int, scale: int, seed: int) -> Report:
    rng = random.Random(seed)
    template = "2019" if year < formats.FIRST_2021_YEAR else "2021"
    table2 = {
        spec.key: {c.key: (round(rng.uniform(0, 50), 2) if c.key in spec.money_columns else rng.randint(0, 30)) for c in spec.columns}
        for spec in formats.TABLE2_ROWS[template]
    }
    if "regulations" in table2:
        table2["regulations"] = {k: 0 for k in table2["regulations"]}
    pending = rng.randint(0, 1)
    table4 = {g.key: {"upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0} for g in formats.TABLE4_GROUPS}
    table4["review"] = {"upheld": 1, "corrected": 0, "other": 0, "pending": pending, "total": 1 + pending}
    t3 = _table3(rng, template, scale)
    sections = (
        SectionText(1, "总体情况", f"{year}年，{agency}坚持以公开为常态、不公开为例外，扎实推进政府信息公开工作。"),
        SectionText(2, "主动公开政府信息情况", "通过门户网站及时公开机构职能、政策文件和办事指南等信息。"),
        SectionText(3, "收到和处理政府信息公开申请情况", f"本年新收政府信息公开申请{t3['new']['total']}件，均在法定期限内答复。"),
        SectionText(4, "政府信息公开行政复议、行政诉讼情况", f"本年发生政府信息公开行政复议{table4['review']['total']}起。"),
        SectionText(5, "存在的主要问题及改进情况", "一是政策解读形式较为单一。改进措施：增加图解、视频等解读形式。"),
        SectionText(6, "其他需要报告的事项", "本机关未发出信息处理费收费通知，实际收取信息处理费0元。"),
    )
    return Report(Source("example", "json"), agency, year, template, sections, table2, t3, table4)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for seed, (agency, year, suffix, scale) in enumerate(UNITS):
        report = example(agency, year, scale, seed)
        path = OUT / f"{agency}{year}{suffix}"
        write(report, path)
        print(path.name)
    gbk = example("示例镇人民政府", 2024, 2, 99)
    (OUT / "示例镇人民政府2024.shtml").write_bytes(to_html(gbk, encoding="gbk"))
    print("示例镇人民政府2024.shtml")


if __name__ == "__main__":
    main()
