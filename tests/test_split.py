"""Run-together digits: split by the table's arithmetic, abstain when it does not decide."""

from __future__ import annotations

from nianbao.extract.split import splits
from nianbao.extract.stream import DIGITS, Token, document_rows
from nianbao.extract.tables import _table3_row_ok, _table4_prefix_ok, extract_table2, row_candidates
from nianbao.model import Document, Paragraph


def _tokens(*runs: str) -> list[Token]:
    return [Token(DIGITS, r, {"line": 1}) for r in runs]


def test_row_of_seven_split_by_its_total() -> None:
    assert row_candidates(_tokens("21710000218"), 7, accept_prefix=_table3_row_ok) == [(217, 1, 0, 0, 0, 0, 218)]


def test_printed_spaces_are_kept_as_boundaries() -> None:
    assert row_candidates(_tokens("230", "000023"), 7, accept_prefix=_table3_row_ok) == [(23, 0, 0, 0, 0, 0, 23)]


def test_table_four_split_by_its_three_totals() -> None:
    found = row_candidates(_tokens("21317000001324019"), 15, accept_prefix=_table4_prefix_ok)
    assert found == [(2, 1, 3, 1, 7, 0, 0, 0, 0, 0, 13, 2, 4, 0, 19)]


def test_no_arithmetic_leaves_every_split() -> None:
    found = list(splits(["6233440"], 3))
    assert (62, 33, 440) in found and (6, 233, 440) in found and len(found) == 15


def test_no_leading_zeros_and_decimals_only_where_allowed() -> None:
    assert list(splits(["007"], 2)) == []  # "0|07" and "00|7" both have a leading zero
    assert list(splits(["350"], 2)) == [(3, 50), (35, 0)]
    assert (18651.06,) in list(splits(["18651.06"], 1, allow_decimal=lambda i: True))
    assert list(splits(["18651.06"], 1)) == []


def test_blank_run_is_one_null() -> None:
    assert list(splits(["1", "", "1"], 3)) == [(1, None, 1)]


def test_a_glued_minus_is_a_sign_where_the_column_may_be_negative() -> None:
    assert list(splits(["35", "-15"], 2, allow_negative=lambda i: i == 1)) == [(35, -15)]
    # elsewhere the "-" can only be a blank cell's mark
    assert list(splits(["35", "-15"], 3)) == [(35, None, 15)]
    found = list(splits(["2648", "-18538"], 3, allow_negative=lambda i: i == 1))
    assert (2648, -18, 538) in found and (2648, None, 18538) in found and len(found) == 5


def _table2_of(text: str) -> dict[str, dict[str, int | float | None]]:
    doc = Document((Paragraph(text, {"line": 1}),), "txt")
    result = extract_table2(document_rows(doc), 2020)
    assert result.values is not None
    return result.values


def test_crawler_row_keeps_a_negative_change() -> None:
    # 2019 表二 as a crawler prints it (平潭 2020: 行政事业性收费 35 | -15; 行政处罚 2648 | -18 | 538).
    values = _table2_of(
        "第二十条第（六）项信息内容上一年项目数量本年增/减处理决定数量行政处罚2648-18538"
        "第二十条第（八）项信息内容上一年项目数量本年增/减行政事业性收费35-15"
    )
    assert values["fees"] == {"previous_items": 35, "change": -15}
    assert values["penalty"] == {"previous_items": 2648, "change": None, "decisions": None}
