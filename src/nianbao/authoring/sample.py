"""Realistic report sets: agencies of every level, heavy-tailed volumes, narratives that match the
tables, several years of some agencies, and known injected errors named by rule and cells.

Place names are invented; figures follow the shapes real reports show (most units 0–20
applications, a heavy tail; 表四 mostly zero).
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao import formats
from nianbao.record import Report, SectionText, Source
from nianbao.render import to_html, write

FORMATS = ("txt", "md", "html", "docx", "pdf", "doc")
DEFAULT_FORMATS = ("txt", "md", "html", "docx")
_PLACES = [
    "青山",
    "临江",
    "平安",
    "东湖",
    "南岭",
    "北塘",
    "长乐",
    "永宁",
    "安远",
    "清河",
    "桃源",
    "龙泉",
    "云溪",
    "金沙",
    "石门",
    "白鹭",
    "柳营",
    "松涛",
    "枫桥",
    "梅岭",
]
_DEPARTMENTS = [
    "教育局",
    "民政局",
    "财政局",
    "人力资源和社会保障局",
    "自然资源和规划局",
    "住房和城乡建设局",
    "交通运输局",
    "卫生健康委员会",
    "市场监督管理局",
    "生态环境局",
    "公安局",
    "农业农村局",
    "发展和改革委员会",
    "司法局",
    "应急管理局",
    "城市管理局",
    "水务局",
    "文化和旅游局",
]
_BUSY = ("自然资源和规划局", "住房和城乡建设局", "公安局")


@dataclass(frozen=True)
class Unit:
    agency: str
    level: str  # province, city, county, department, street, township
    scale: float  # typical applications a year

    @property
    def government(self) -> bool:
        """A people's government at any level (条例第五十条 asks them all for 考核、评议、追究)."""
        return self.level in ("province", "city", "county", "township")


def make_unit(rng: random.Random) -> Unit:
    place = rng.choice(_PLACES)
    level = rng.choices(["province", "city", "county", "department", "street", "township"], [1, 3, 8, 50, 20, 18])[0]
    if level == "province":
        return Unit(f"{place}省人民政府办公厅", level, 400)
    if level == "city":
        return Unit(f"{place}市人民政府", level, 120)
    if level == "county":
        return Unit(f"{place}{rng.choice('县区')}人民政府", level, 30)
    if level == "street":
        return Unit(f"{place}{rng.choice(['东', '西', '南', '北', '中'])}街道办事处", level, 2)
    if level == "township":
        return Unit(f"{place}{rng.choice('镇乡')}人民政府", level, 1.5)
    department = rng.choice(_DEPARTMENTS)
    parent = f"{place}{rng.choice(['市', '县', '区'])}"
    return Unit(f"{parent}{department}", level, 25 if department in _BUSY else 5)


def _heavy(rng: random.Random, scale: float) -> int:
    """Most units see a handful; a few see many (Pareto tail)."""
    return int(scale * (rng.paretovariate(1.6) - 1) * 0.6)


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    counts = [0] * len(weights)
    for _ in range(total):
        counts[rng.choices(range(len(weights)), weights)[0]] += 1
    return counts


_RESULT_WEIGHTS = {
    "granted": 40,
    "partial": 8,
    "denied.state_secret": 0.3,
    "denied.law_forbidden": 0.5,
    "denied.security": 0.3,
    "denied.third_party": 1.5,
    "denied.internal": 1.5,
    "denied.process": 2,
    "denied.enforcement": 1,
    "denied.query": 2,
    "unavailable.not_held": 25,
    "unavailable.needs_creation": 3,
    "unavailable.unclear": 2,
    "not_processed.complaint": 3,
    "not_processed.repeat": 2,
    "not_processed.publication": 0.5,
    "not_processed.mass_repeat": 0.5,
    "not_processed.confirm": 0.5,
    "other_handling.no_correction": 4,
    "other_handling.no_fee": 0.3,
    "other_handling.other": 5,
    "other_handling": 9,
}
_APPLICANT_WEIGHTS = [80, 12, 0.5, 0.5, 2, 5]


def _table3(rng: random.Random, unit: Unit, template: str, carried_in: dict[str, int]) -> dict[str, dict[str, Any]]:
    order = formats.TABLE3_ORDER_SINGLE if template == "2019" else formats.TABLE3_ORDER_SPLIT
    results = formats.table3_result_keys(order)
    cols = list(formats.TABLE3_APPLICANT_COLUMNS)
    new = dict(zip(cols, _split(rng, _heavy(rng, unit.scale), _APPLICANT_WEIGHTS), strict=True))
    table: dict[str, dict[str, Any]] = {k: dict.fromkeys(cols, 0) for k in order}
    table["new"], table["carried_in"] = new, {c: carried_in.get(c, 0) for c in cols}
    for c in cols:
        handled = new[c] + table["carried_in"][c]
        forward = sum(1 for _ in range(handled) if rng.random() < 0.04)
        table["carried_forward"][c] = forward
        for key, n in zip(results, _split(rng, handled - forward, [_RESULT_WEIGHTS[k] for k in results]), strict=True):
            table[key][c] = n
        table["total"][c] = handled - forward
    for row in table.values():
        row["total"] = sum(row[c] for c in cols)
    return table


def _table4(rng: random.Random, unit: Unit) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {
        g.key: {o.key: 0 for o in formats.TABLE4_OUTCOMES} for g in formats.TABLE4_GROUPS
    }
    for group, chance in (("review", 0.25), ("litigation_direct", 0.08), ("litigation_after_review", 0.05)):
        if group == "litigation_after_review" and not table["review"]["total"]:
            continue
        if rng.random() < chance * min(3.0, 1 + unit.scale / 50):
            parts = _split(rng, 1 + _heavy(rng, unit.scale / 20), [5, 1, 2, 2])
            table[group] = dict(zip(("upheld", "corrected", "other", "pending"), parts, strict=True)) | {
                "total": sum(parts)
            }
    return table


def _table2(rng: random.Random, unit: Unit, template: str, in_force: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rule_making = unit.level in ("province", "city")
    out: dict[str, dict[str, Any]] = {}
    for spec in formats.TABLE2_ROWS[template]:
        cols = [c.key for c in spec.columns]
        if spec.key in ("regulations", "normative_documents"):
            if spec.key == "regulations" and not rule_making:
                out[spec.key] = dict.fromkeys(cols, 0)
                continue
            issued, repealed = rng.randint(0, 8), rng.randint(0, 3)
            before = in_force.get(spec.key, rng.randint(repealed, 60))
            now = max(0, before + issued - repealed)
            values: list[Any] = [issued, repealed, now] if template == "2021" else [issued, issued, now]
        elif spec.key == "fees":
            values = (
                [round(rng.uniform(0, 300), 2) if rng.random() < 0.3 else 0]
                if template == "2021"
                else [rng.randint(0, 20), 0]
            )
        elif spec.key == "procurement":
            values = [rng.randint(0, 30), round(rng.uniform(0, 5000), 2)]
        else:
            decisions = _heavy(rng, unit.scale * 20)
            values = [decisions] if template == "2021" else [rng.randint(0, 300), rng.randint(-3, 3), decisions]
        out[spec.key] = dict(zip(cols, values, strict=True))
    return out


# --- narrative ---------------------------------------------------------------------------------

_OPENINGS = (
    "{year}年，{agency}坚持以公开为常态、不公开为例外，认真贯彻《政府信息公开条例》。",
    "{year}年，{agency}在上级部门指导下，把政务公开作为转变作风、服务群众的重要抓手。",
    "{year}年，{agency}对照年度政务公开工作要点，逐项分解任务、落实责任。",
    "{year}年度，{agency}紧扣中心工作，持续深化政务公开，依法保障群众知情权。",
)
_FOCUS = (
    "聚焦重大决策、重点项目和民生事项，推进决策、执行、管理、服务、结果公开。",
    "围绕营商环境优化和群众办事需求，加强政策发布和解读回应。",
    "坚持“先审查、后公开”，规范信息发布流程和保密审查。",
    "以基层政务公开标准化规范化建设为抓手，完善公开目录和办事指南。",
)
_CLOSINGS = (
    "",
    "通过政务新媒体同步推送重要信息，扩大公开覆盖面。",
    "组织业务培训，提升工作人员依法公开的能力。",
    "及时回应社会关切，做好舆情收集和研判。",
)
_PROBLEMS = (
    "政策解读形式较为单一，图解、视频等解读形式较少",
    "依申请公开答复的规范性有待提高，个别答复引用条款不够准确",
    "主动公开信息更新不够及时，部分栏目内容滞后",
    "政务新媒体互动回应不够充分，留言答复时效有待提升",
    "基层工作人员业务能力参差不齐，培训覆盖面不足",
    "重点领域信息公开的深度不够，部分信息只公开结果不公开过程",
    "政府信息公开指南和目录未能及时随机构职能调整而更新",
    "依申请公开办理台账登记不够完整，办理过程留痕不足",
    "政策文件发布与解读不同步，个别文件解读滞后",
)
_MEASURES = (
    "增加图解、视频和访谈等解读形式，提升政策解读质量",
    "建立答复文书审核清单，逐件复核法律依据和救济途径",
    "落实栏目责任人制度，按月检查更新情况并通报",
    "完善留言办理流程，明确答复时限并纳入考核",
    "组织专题培训和案例研讨，提高业务人员依法办理能力",
    "围绕重点项目和民生事项，推进决策、执行、结果全过程公开",
    "对照机构职能梳理公开目录，调整后一周内完成更新",
    "规范申请登记、审核、答复、归档各环节，实行全程电子台账",
    "坚持政策文件与解读材料同步起草、同步审签、同步发布",
)


_REMEDY = ("改进措施：", "下一步将", "针对这一问题，", "整改措施：")


def _say(rng: random.Random, n: int) -> str:
    """A figure as reports write it: Arabic mostly, Chinese numerals sometimes."""
    chinese = "零一二三四五六七八九十"
    if n <= 10 and rng.random() < 0.2:
        return chinese[n]
    if 10 < n < 20 and rng.random() < 0.2:
        return "十" + chinese[n - 10]
    return str(n)


def _sections(
    rng: random.Random, unit: Unit, year: int, t3: dict[str, dict[str, Any]], t4: dict[str, dict[str, int]]
) -> list[str]:
    def total(*keys: str) -> int:
        return sum(t3[k]["total"] for k in t3 if k.startswith(keys))

    new = t3["new"]["total"]
    intro = (
        rng.choice(_OPENINGS).format(year=year, agency=unit.agency)
        + rng.choice(_FOCUS)
        + f"全年通过门户网站主动公开政府信息{rng.randint(20, 3000)}条，发布政策解读{rng.randint(1, 60)}篇。"
        + rng.choice(_CLOSINGS)
    )
    if new:
        s3 = (
            f"本年度共收到政府信息公开申请{_say(rng, new)}件，上年结转{t3['carried_in']['total']}件。"
            f"其中予以公开{total('granted')}件，部分公开{total('partial')}件，不予公开{total('denied.')}件，"
            f"无法提供{total('unavailable.')}件，不予处理{total('not_processed.')}件，其他处理{total('other_handling')}件；"
            f"结转下年度继续办理{t3['carried_forward']['total']}件。"
        )
    else:
        s3 = (
            "本年度未收到政府信息公开申请。"
            if not t3["carried_in"]["total"]
            else "本年度办理上年结转的申请，均已依法答复。"
        )
    review = t4["review"]["total"]
    litigation = t4["litigation_direct"]["total"] + t4["litigation_after_review"]["total"]
    if review or litigation:
        s4 = f"本年度发生政府信息公开行政复议{review}起，行政诉讼{litigation}起，均依法应对。"
    else:
        s4 = "本年度未发生因政府信息公开引发的行政复议、行政诉讼案件。"
    problems = rng.sample(range(len(_PROBLEMS)), rng.randint(2, 3))
    s5 = "".join(
        f"{'一二三'[i]}是{_PROBLEMS[p]}。{rng.choice(_REMEDY)}{_MEASURES[p]}。" for i, p in enumerate(problems)
    )
    s6 = "本机关依据《政府信息公开信息处理费管理办法》，发出收费通知的件数和总金额以及实际收取的总金额均为0。"
    if year < formats.FIRST_2021_YEAR:
        s6 = "本机关本年度未收取政府信息公开相关费用。"
    if unit.government:
        s6 += "本年度组织开展政府信息公开工作考核和社会评议，未发生责任追究情况。"
    return [intro, "通过门户网站、政务新媒体等平台，及时公开机构职能、政策文件、重点领域信息。", s3, s4, s5, s6]


# --- records, series, errors ---------------------------------------------------------------------


def make_report(rng: random.Random, unit: Unit, year: int, previous: Report | None = None) -> Report:
    template = "2019" if year < formats.FIRST_2021_YEAR else "2021"
    carried = {c: v for c, v in (previous.table3 or {}).get("carried_forward", {}).items()} if previous else {}
    in_force = (
        {k: v.get("in_force", v.get("total_published", 0)) for k, v in (previous.table2 or {}).items()}
        if previous
        else {}
    )
    if previous and previous.template != template:
        in_force = {}
    t3 = _table3(rng, unit, template, {k: int(v or 0) for k, v in carried.items() if k != "total"})
    t4 = _table4(rng, unit)
    t2 = _table2(rng, unit, template, in_force)
    texts = _sections(rng, unit, year, t3, t4)
    sections = tuple(SectionText(s.number, s.title, text) for s, text in zip(formats.SECTIONS, texts, strict=True))
    return Report(Source("sample", "json"), unit.agency, year, template, sections, t2, t3, t4)


@dataclass
class Sample:
    report: Report
    injected: list[dict[str, Any]] = field(default_factory=list)


def _bump(report: Report, path: str, by: int) -> Report:
    data = report.to_dict()
    table, row, col = path.split("/")
    data[table][row][col] = (data[table][row][col] or 0) + by
    return Report.from_dict(data)


def _inject_arithmetic(rng: random.Random, s: Sample) -> None:
    choice = rng.choice(["AR01", "AR02", "AR04"])
    if choice == "AR01":
        path = "table3/new/natural"
        s.report = _bump(s.report, path, rng.randint(1, 3))
        s.injected += [{"rule": "AR01", "cells": [path]}, {"rule": "AR03", "cells": [path]}]
    elif choice == "AR02":
        path = "table3/total/total"
        s.report = _bump(s.report, path, rng.randint(1, 5))
        s.injected += [{"rule": "AR02", "cells": [path]}, {"rule": "AR03", "cells": [path]}]
    else:
        path = "table4/review/total"
        s.report = _bump(s.report, path, rng.randint(1, 3))
        s.injected += [{"rule": "AR04", "cells": [path]}]


def _inject_narrative(rng: random.Random, s: Sample) -> None:
    new = (s.report.table3 or {})["new"]["total"] or 0
    stated = int(new) + rng.randint(2, 9)
    text = f"本年度共收到政府信息公开申请{stated}件，均在法定期限内答复。"
    sections = tuple(dataclasses.replace(x, text=text) if x.number == 3 else x for x in s.report.sections)
    s.report = dataclasses.replace(s.report, sections=sections)
    s.injected.append({"rule": "NA01", "cells": ["table3/new/total"]})


def _inject_missing_section(rng: random.Random, s: Sample) -> None:
    number = rng.choice([5, 6]) if (s.report.year or 0) >= formats.FIRST_2021_YEAR else 5
    s.report = dataclasses.replace(s.report, sections=tuple(x for x in s.report.sections if x.number != number))
    s.injected.append({"rule": "ST01", "cells": []})


def _inject_fee_statement(rng: random.Random, s: Sample) -> None:
    text = "本机关无其他需要报告的事项。"
    sections = tuple(dataclasses.replace(x, text=text) if x.number == 6 else x for x in s.report.sections)
    s.report = dataclasses.replace(s.report, sections=sections)
    s.injected.append({"rule": "NA04", "cells": []})


Injector = Callable[[random.Random, Sample], None]
INJECTORS: dict[str, Injector] = {
    "arithmetic": _inject_arithmetic,
    "narrative": _inject_narrative,
    "section": _inject_missing_section,
    "fee": _inject_fee_statement,
}


def _break_chain(rng: random.Random, s: Sample) -> None:
    """XY01: this year's 上年结转 differs from last year's 结转下年度, the table itself consistent."""
    k = rng.randint(1, 3)
    for path in (
        "table3/carried_in/natural",
        "table3/carried_in/total",
        "table3/granted/natural",
        "table3/granted/total",
        "table3/total/natural",
        "table3/total/total",
    ):
        s.report = _bump(s.report, path, k)
    s.injected.append({"rule": "XY01", "cells": ["table3/carried_in/natural"]})


def generate(count: int, seed: int = 0, error_rate: float = 0.2) -> Iterator[Sample]:
    """``count`` samples; about a third belong to agencies with several consecutive years."""
    rng = random.Random(seed)
    made = 0
    while made < count:
        unit = make_unit(rng)
        years = rng.randint(2, 3) if rng.random() < 0.35 else 1
        first = rng.randint(2019, 2025 - years + 1)
        previous: Report | None = None
        for year in range(first, first + years):
            if made >= count:
                return
            sample = Sample(make_report(rng, unit, year, previous))
            previous = sample.report
            if rng.random() < error_rate:
                kinds = list(INJECTORS) + (["chain"] if year > first else [])
                kind = rng.choice([k for k in kinds if not (k == "fee" and year < formats.FIRST_2021_YEAR)])
                (_break_chain if kind == "chain" else INJECTORS[kind])(rng, sample)
            made += 1
            yield sample


def file_name(index: int, report: Report, fmt: str) -> str:
    return f"{index:05d}_{report.agency}{report.year}.{fmt}"


def write_samples(
    out: Path, count: int, seed: int = 0, error_rate: float = 0.2, fmts: tuple[str, ...] = DEFAULT_FORMATS
) -> Path:
    """Write the reports and ``manifest.jsonl`` (one line per file: file, true record, injected)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 1)
    manifest = out / "manifest.jsonl"
    with manifest.open("w", encoding="utf-8") as lines:
        for index, sample in enumerate(generate(count, seed, error_rate)):
            fmt = rng.choice(fmts)
            name = file_name(index, sample.report, fmt)
            path = out / name
            if fmt == "html" and rng.random() < 0.3:
                path.write_bytes(to_html(sample.report, encoding="gbk"))
            else:
                write(sample.report, path)
            record = {
                k: v
                for k, v in sample.report.to_dict().items()
                if k not in ("source", "locations", "findings", "errors")
            }
            lines.write(
                json.dumps({"file": name, "record": record, "injected": sample.injected}, ensure_ascii=False) + "\n"
            )
    return manifest
