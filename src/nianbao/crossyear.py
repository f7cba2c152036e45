"""What links one report to the previous year's: the carry-over chain, the stock identity, copied text.

One place for the arithmetic the collection rules (XY01, XY02, XY04) and ``compare`` both use. Values
come through an accessor ``num(path)`` that gives a number (a printed blank as 0) or None when the
cell is absent or was not read, so each caller keeps its own reading of blanks and abstentions.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from nianbao import formats

Num = Callable[[str], int | float | None]

# 表二 rows with a stock of documents in force (2021 format), with their printed names.
STOCK_ROWS: tuple[tuple[str, str], ...] = (("regulations", "规章"), ("normative_documents", "行政规范性文件"))


@dataclass(frozen=True)
class CarryLink:
    """One column of the chain: last year's 结转下年度 and this year's 上年结转."""

    column: str
    label: str
    carried_forward: int | float | None  # previous year's 结转下年度继续办理
    carried_in: int | float | None  # this year's 上年结转

    @property
    def cell(self) -> str:
        return f"table3/carried_in/{self.column}"

    @property
    def known(self) -> bool:
        return self.carried_forward is not None and self.carried_in is not None

    @property
    def broken(self) -> bool:
        return self.known and self.carried_forward != self.carried_in


@dataclass(frozen=True)
class StockLink:
    """One 表二 row's stock: in_force(t) against in_force(t−1) + issued(t) − repealed(t)."""

    row: str
    label: str
    in_force_before: int | float | None
    issued: int | float | None
    repealed: int | float | None
    in_force: int | float | None

    @property
    def cell(self) -> str:
        return f"table2/{self.row}/in_force"

    @property
    def expected(self) -> int | float | None:
        parts = (self.in_force_before, self.issued, self.repealed)
        if any(p is None for p in parts):
            return None
        return self.in_force_before + self.issued - self.repealed  # type: ignore[operator]

    @property
    def known(self) -> bool:
        return self.expected is not None and self.in_force is not None

    @property
    def broken(self) -> bool:
        return self.known and self.expected != self.in_force


def carry_links(prev: Num, this: Num) -> list[CarryLink]:
    """Every column of table 三: the previous year's 结转下年度 beside this year's 上年结转."""
    return [
        CarryLink(col.key, col.label, prev(f"table3/carried_forward/{col.key}"), this(f"table3/carried_in/{col.key}"))
        for col in formats.TABLE3_COLUMNS
    ]


def stock_links(prev: Num, this: Num) -> list[StockLink]:
    """规章 and 行政规范性文件 (2021 format): last year's stock, this year's flows and stock."""
    return [
        StockLink(
            key,
            label,
            prev(f"table2/{key}/in_force"),
            this(f"table2/{key}/issued"),
            this(f"table2/{key}/repealed"),
            this(f"table2/{key}/in_force"),
        )
        for key, label in STOCK_ROWS
    ]


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0 to 1 (difflib's ratio, without its junk heuristic)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
