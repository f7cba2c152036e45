"""The two national report formats as data.

Every label, alias, row key and column key of the 2019 (试行) and 2021 (修订) formats lives here.
Readers, the extractor, rules and renderers all read these tables; no other module spells a label.

A row's ``keys`` are plain fragments: a printed label matches the row when its normalised text
(see :func:`nianbao.numbers.normalize_label`) contains one of them. ``number`` is the item number
printed before a sub-row (``1.属于国家秘密``); the extractor uses it to tell a label's numbering
from the digits of the row printed just before it in run-together text.
"""

from __future__ import annotations

from dataclasses import dataclass

TEMPLATES = ("2019", "2021")
FIRST_2021_YEAR = 2021
FIRST_REGULATED_YEAR = 2019


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    signed: bool = False  # may be printed negative: the 2019 表二's 本年增/减


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    keys: tuple[str, ...]
    templates: tuple[str, ...] = TEMPLATES
    number: int | None = None
    group: str = ""
    # A label too common to search for inside running text (``其他``, ``总计``): it matches
    # only a whole cell, or with its printed numbering.
    exact_only: bool = False


# --- 表三 收到和处理政府信息公开申请情况 ------------------------------------------------------

TABLE3_COLUMNS: tuple[Column, ...] = (
    Column("natural", "自然人"),
    Column("commercial", "商业企业"),
    Column("research", "科研机构"),
    Column("public_interest", "社会公益组织"),
    Column("legal_service", "法律服务机构"),
    Column("other_org", "其他"),
    Column("total", "总计"),
)
TABLE3_APPLICANT_COLUMNS = tuple(c.key for c in TABLE3_COLUMNS[:-1])

_G3 = "三、本年度办理结果"
_DENIED = "（三）不予公开"
_UNAVAIL = "（四）无法提供"
_NOTPROC = "（五）不予处理"
_OTHER = "（六）其他处理"
_ONLY_2021 = ("2021",)
_ONLY_2019 = ("2019",)

TABLE3_ROWS: tuple[Row, ...] = (
    Row("new", "一、本年新收政府信息公开申请数量", ("本年新收",)),
    Row("carried_in", "二、上年结转政府信息公开申请数量", ("上年结转",)),
    Row("granted", "（一）予以公开", ("予以公开",), group=_G3),
    Row("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", ("部分公开",), group=_G3),
    Row("denied.state_secret", "1.属于国家秘密", ("国家秘密",), number=1, group=_DENIED),
    Row("denied.law_forbidden", "2.其他法律行政法规禁止公开", ("法律行政法规禁止公开",), number=2, group=_DENIED),
    Row("denied.security", "3.危及“三安全一稳定”", ("三安全一稳定",), number=3, group=_DENIED),
    Row("denied.third_party", "4.保护第三方合法权益", ("第三方合法权益",), number=4, group=_DENIED),
    Row("denied.internal", "5.属于三类内部事务信息", ("三类内部事务",), number=5, group=_DENIED),
    Row("denied.process", "6.属于四类过程性信息", ("四类过程性",), number=6, group=_DENIED),
    Row("denied.enforcement", "7.属于行政执法案卷", ("行政执法案卷",), number=7, group=_DENIED),
    Row("denied.query", "8.属于行政查询事项", ("行政查询事项",), number=8, group=_DENIED),
    Row(
        "unavailable.not_held",
        "1.本机关不掌握相关政府信息",
        ("不掌握相关政府信息", "本机关不掌握"),
        number=1,
        group=_UNAVAIL,
    ),
    Row("unavailable.needs_creation", "2.没有现成信息需要另行制作", ("另行制作",), number=2, group=_UNAVAIL),
    Row(
        "unavailable.unclear",
        "3.补正后申请内容仍不明确",
        ("补正后申请内容仍不明确", "内容仍不明确"),
        number=3,
        group=_UNAVAIL,
    ),
    Row("not_processed.complaint", "1.信访举报投诉类申请", ("信访举报投诉",), number=1, group=_NOTPROC),
    Row("not_processed.repeat", "2.重复申请", ("重复申请",), number=2, group=_NOTPROC),
    Row("not_processed.publication", "3.要求提供公开出版物", ("公开出版物",), number=3, group=_NOTPROC),
    Row("not_processed.mass_repeat", "4.无正当理由大量反复申请", ("大量反复申请",), number=4, group=_NOTPROC),
    Row(
        "not_processed.confirm", "5.要求行政机关确认或重新出具已获取信息", ("确认或重新出具",), number=5, group=_NOTPROC
    ),
    Row(
        "other_handling.no_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        ("逾期不补正",),
        _ONLY_2021,
        number=1,
        group=_OTHER,
    ),
    Row(
        "other_handling.no_fee",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        ("收费通知要求缴纳",),
        _ONLY_2021,
        number=2,
        group=_OTHER,
    ),
    Row("other_handling.other", "3.其他", ("其他",), _ONLY_2021, number=3, group=_OTHER, exact_only=True),
    Row("other_handling", "（六）其他处理", ("其他处理",), group=_G3),
    Row("total", "（七）总计", ("(七)总计",), group=_G3),
    Row("carried_forward", "四、结转下年度继续办理", ("结转下年度",)),
)
TABLE3_ROW_BY_KEY = {r.key: r for r in TABLE3_ROWS}
TABLE3_SPLIT_OTHER = ("other_handling.no_correction", "other_handling.no_fee", "other_handling.other")
# Rows in the order a report prints them, by layout of （六）.
TABLE3_ORDER_SPLIT = tuple(r.key for r in TABLE3_ROWS if r.key != "other_handling")
TABLE3_ORDER_SINGLE = tuple(r.key for r in TABLE3_ROWS if r.key not in TABLE3_SPLIT_OTHER)
# Rows summed into （七）总计 (AR02).
TABLE3_NOT_RESULTS = ("new", "carried_in", "total", "carried_forward")
TABLE3_NOTE_PARTIAL = "（区分处理的，只计这一情形，不计其他情形）"
TABLE3_HEADER_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def table3_result_keys(row_keys: tuple[str, ...] | list[str]) -> list[str]:
    """The result rows (those summed into 总计) among ``row_keys``."""
    return [k for k in row_keys if k not in TABLE3_NOT_RESULTS]


# --- 表四 政府信息公开行政复议、行政诉讼情况 ---------------------------------------------------

# The tables' short names as reports print them (表三 …), by record key.
TABLE_NAMES = {"table2": "表二", "table3": "表三", "table4": "表四"}

TABLE4_GROUPS: tuple[Column, ...] = (
    Column("review", "行政复议"),
    Column("litigation_direct", "行政诉讼·未经复议直接起诉"),
    Column("litigation_after_review", "行政诉讼·复议后起诉"),
)
TABLE4_OUTCOMES: tuple[Column, ...] = (
    Column("upheld", "结果维持"),
    Column("corrected", "结果纠正"),
    Column("other", "其他结果"),
    Column("pending", "尚未审结"),
    Column("total", "总计"),
)
TABLE4_CELLS: tuple[tuple[str, str], ...] = tuple((g.key, o.key) for g in TABLE4_GROUPS for o in TABLE4_OUTCOMES)
# Words of table 四's column headings that survive a heading broken over lines (``结果`` / ``维持``):
# the table's numbers come after them.
TABLE4_OUTCOME_MARKS = ("维持", "纠正", "审结")
# The words table 四's headings are made of (行政复议, 未经复议直接起诉, 结果维持…), longest first.
TABLE4_HEADER_WORDS: tuple[str, ...] = tuple(
    sorted({part for c in TABLE4_GROUPS + TABLE4_OUTCOMES for part in c.label.split("·")}, key=len, reverse=True)
)


# --- 表二 主动公开政府信息情况 ---------------------------------------------------------------


@dataclass(frozen=True)
class Table2Row:
    key: str
    label: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    item: str  # the 第二十条 item the row belongs to: "一", "五", "六", "八", "九"
    money_columns: tuple[str, ...] = ()


_C21_DOCS = (Column("issued", "本年制发件数"), Column("repealed", "本年废止件数"), Column("in_force", "现行有效件数"))
_C21_DECISIONS = (Column("decisions", "本年处理决定数量"),)
_C19_DOCS = (
    Column("made", "本年新制作数量"),
    Column("published", "本年新公开数量"),
    Column("total_published", "对外公开总数量"),
)
_C19_ITEMS = (
    Column("previous_items", "上一年项目数量"),
    Column("change", "本年增/减", signed=True),
    Column("decisions", "处理决定数量"),
)

TABLE2_2021: tuple[Table2Row, ...] = (
    Table2Row("regulations", "规章", ("规章",), _C21_DOCS, "一"),
    Table2Row("normative_documents", "行政规范性文件", ("规范性文件",), _C21_DOCS, "一"),
    Table2Row("licensing", "行政许可", ("行政许可",), _C21_DECISIONS, "五"),
    Table2Row("penalty", "行政处罚", ("行政处罚",), _C21_DECISIONS, "六"),
    Table2Row("coercion", "行政强制", ("行政强制",), _C21_DECISIONS, "六"),
    Table2Row(
        "fees",
        "行政事业性收费",
        ("行政事业性收费",),
        (Column("amount_10k_yuan", "本年收费金额（单位：万元）"),),
        "八",
        money_columns=("amount_10k_yuan",),
    ),
)
TABLE2_2019: tuple[Table2Row, ...] = (
    Table2Row("regulations", "规章", ("规章",), _C19_DOCS, "一"),
    Table2Row("normative_documents", "规范性文件", ("规范性文件",), _C19_DOCS, "一"),
    Table2Row("licensing", "行政许可", ("行政许可",), _C19_ITEMS, "五"),
    Table2Row("other_services", "其他对外管理服务事项", ("其他对外管理服务事项", "对外管理服务事项"), _C19_ITEMS, "五"),
    Table2Row("penalty", "行政处罚", ("行政处罚",), _C19_ITEMS, "六"),
    Table2Row("coercion", "行政强制", ("行政强制",), _C19_ITEMS, "六"),
    Table2Row("fees", "行政事业性收费", ("行政事业性收费",), _C19_ITEMS[:2], "八"),
    Table2Row(
        "procurement",
        "政府集中采购",
        ("政府集中采购",),
        (Column("items", "采购项目数量"), Column("amount", "采购总金额")),
        "九",
        money_columns=("amount",),
    ),
)
TABLE2_ROWS = {"2019": TABLE2_2019, "2021": TABLE2_2021}
# Table 二 columns whose numbers may be negative (a change), by column key.
SIGNED_COLUMNS = frozenset(c.key for rows in TABLE2_ROWS.values() for row in rows for c in row.columns if c.signed)


def is_signed(path: str) -> bool:
    """Whether the cell at ``path`` (``table2/fees/change``) may hold a negative number."""
    return path.startswith("table2/") and path.rsplit("/", 1)[-1] in SIGNED_COLUMNS


# Header words that say which layout a printed 表二 uses.
TABLE2_HEADER_WORDS = {
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额"),
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "采购项目数量"),
}
TABLE2_ITEM_HEADING = "第二十条第（{item}）项"


# --- the six sections -----------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    # Each alternative is a tuple of fragments that must all occur in the heading.
    keys: tuple[tuple[str, ...], ...]


SECTIONS: tuple[Section, ...] = (
    Section(1, "总体情况", (("总体情况",),)),
    Section(2, "主动公开政府信息情况", (("主动公开政府信息情况",), ("主动公开政府信息",))),
    Section(3, "收到和处理政府信息公开申请情况", (("收到和处理政府信息公开申请",), ("处理政府信息公开申请情况",))),
    Section(4, "政府信息公开行政复议、行政诉讼情况", (("行政复议", "行政诉讼", "情况"),)),
    Section(5, "存在的主要问题及改进情况", (("主要问题", "改进"), ("主要问题", "整改"), ("存在的主要问题",))),
    Section(6, "其他需要报告的事项", (("其他需要报告的事项",), ("其他需要报告",))),
)
CHINESE_SECTION_NUMERALS = "一二三四五六"


def cell_path(table: str, row: str, column: str) -> str:
    """The public path of a cell: ``table3/denied.third_party/natural``."""
    return f"{table}/{row}/{column}"
