"""Run-together digits: split by the table's arithmetic, abstain when it does not decide."""

from __future__ import annotations

from nianbao.extract.split import splits
from nianbao.extract.stream import DIGITS, Token
from nianbao.extract.tables import _table3_row_ok, _table4_prefix_ok, row_candidates


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
