"""Run-together table 二 digits, split by the figures the report's own text states.

The pages are crawler dumps in the shape of the corpus's r008 (every cell of the page run into one
line), written here with figures of our own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nianbao import parse

_ZERO_ROWS = [
    "一、本年新收政府信息公开申请数量",
    "二、上年结转政府信息公开申请数量",
    "三、本年度办理结果（一）予以公开",
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "（三）不予公开1.属于国家秘密",
    "2.其他法律行政法规禁止公开",
    "3.危及“三安全一稳定”",
    "4.保护第三方合法权益",
    "5.属于三类内部事务信息",
    "6.属于四类过程性信息",
    "7.属于行政执法案卷",
    "8.属于行政查询事项",
    "（四）无法提供1.本机关不掌握相关政府信息",
    "2.没有现成信息需要另行制作",
    "3.补正后申请内容仍不明确",
    "（五）不予处理1.信访举报投诉类申请",
    "2.重复申请",
    "3.要求提供公开出版物",
    "4.无正当理由大量反复申请",
    "5.要求行政机关确认或重新出具已获取信息",
    "（六）其他处理1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "3.其他",
    "（七）总计",
    "四、结转下年度继续办理",
]


def _crawler_page(tmp_path: Path, narrative: str, normative_row: str) -> dict[str, Any]:
    table3 = "".join(f"{label}0000000" for label in _ZERO_ROWS)
    body = (
        f"本报告所列数据统计期限为2023年1月1日至2023年12月31日。一、总体情况 2023年，本区持续推进政务公开。{narrative}"
        "二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数"
        f"规章000行政规范性文件{normative_row}"
        "第二十条第（五）项信息内容本年处理决定数量行政许可310"
        "第二十条第（六）项信息内容本年处理决定数量行政处罚42行政强制3"
        "第二十条第（八）项信息内容本年收费金额（单位：万元）行政事业性收费12.5"
        "三、收到和处理政府信息公开申请情况（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
        f"申请人情况自然人法人或其他组织总计商业企业科研机构社会公益组织法律服务机构其他{table3}"
        "四、政府信息公开行政复议、行政诉讼情况行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计"
        "未经复议直接起诉复议后起诉结果维持结果纠正其他结果尚未审结总计结果维持结果纠正其他结果尚未审结总计"
        "000000000000000"
        "五、存在的主要问题及改进情况政策解读形式较为单一，下一步将增加图解解读。"
        "六、其他需要报告的事项2023年，无收取信息处理费情况。"
    )
    path = tmp_path / "page.txt"
    path.write_text(f"标题: 示例区2023年度政府信息公开工作年度报告\n{body}\n", encoding="utf-8")
    record = parse(path).to_dict()
    assert record["errors"] == []
    return record


def _normative(record: dict[str, Any]) -> list[int | None]:
    return list(record["table2"]["normative_documents"].values())


def _findings(record: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in record["findings"] if f["rule"] == rule]


def test_both_stated_figures_decide_the_split(tmp_path: Path) -> None:
    narrative = "集中公开现行有效行政规范性文件698件，动态更新本年度制发的规范性文件88件。"
    record = _crawler_page(tmp_path, narrative, "8855698")
    assert _normative(record) == [88, 55, 698]
    assert _findings(record, "RD07") == []
    (notice,) = _findings(record, "RD12")
    assert notice["severity"] == "notice"
    assert "“现行有效行政规范性文件698件”" in notice["message"] and "88 / 55 / 698" in notice["message"]
    assert notice["detail"]["candidates"] == [[88, 55, 698]]


def test_one_stated_figure_fills_its_cell_and_narrows_the_rest(tmp_path: Path) -> None:
    record = _crawler_page(tmp_path, "本年度制发行政规范性文件62件。", "6233440")
    assert _normative(record) == [62, None, None]
    (finding,) = _findings(record, "RD07")
    assert finding["cells"] == ["table2/normative_documents/repealed", "table2/normative_documents/in_force"]
    assert finding["detail"]["candidates"] == [[62, 3, 3440], [62, 33, 440], [62, 334, 40], [62, 3344, 0]]
    assert "按正文“制发行政规范性文件62件”，仍有 4 种拆法" in finding["message"]


@pytest.mark.parametrize(
    "narrative",
    [
        "本年度制发行政规范性文件5件。",  # no split starts with 5: the text contradicts the table
        "制发行政规范性文件88件；另据统计，制发行政规范性文件8件。",  # two figures for one cell
        "现行有效行政规范性文件698余件。",  # approximate
        "2022年制发行政规范性文件88件。",  # another year
    ],
)
def test_figures_that_cannot_be_trusted_are_not_used(tmp_path: Path, narrative: str) -> None:
    record = _crawler_page(tmp_path, narrative, "8855698")
    assert _normative(record) == [None, None, None]
    (finding,) = _findings(record, "RD07")
    assert len(finding["detail"]["candidates"]) == 15 and "按正文" not in finding["message"]


def test_printed_cells_are_never_overridden_by_the_text(tmp_path: Path) -> None:
    # Cells printed apart are read as printed; a contradicting figure is NA01's business.
    record = _crawler_page(tmp_path, "本年度制发行政规范性文件8件。", "88 55 698")
    assert _normative(record) == [88, 55, 698]
    assert _findings(record, "RD07") == [] and _findings(record, "RD12") == []
