"""Splitting run-together digits (``6233440``) into the numbers a row needs.

Boundaries the source printed (cell edges, spaces) are kept; inside a run every cut that yields
numbers without leading zeros is a candidate. A predicate (the table's own arithmetic) filters the
candidates; when more than one survives, the caller abstains and lists them. Nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from nianbao.numbers import MAX_DIGITS

Number = int | float | None
Split = tuple[Number, ...]

# Enumeration stops after this many partial states; the cell is then abstained from.
MAX_STATES = 300_000


class TooManySplits(Exception):
    pass


def _valid_part(part: str, allow_decimal: bool) -> bool:
    if len(part) > MAX_DIGITS:
        return False  # no number has so many digits (and int() would refuse past 4,300)
    if not part or part.startswith(".") or part.endswith("."):
        return False
    integer = part.split(".")[0]
    if part.count(".") > 1 or ("." in part and not allow_decimal):
        return False
    return integer == "0" or not integer.startswith("0")


def _to_number(part: str) -> int | float:
    return float(part) if "." in part else int(part)


def splits(
    runs: Sequence[str],
    count: int,
    allow_decimal: Callable[[int], bool] = lambda i: False,
    accept_prefix: Callable[[tuple[Number, ...]], bool] = lambda values: True,
    forced: Callable[[tuple[Number, ...]], int | None] = lambda values: None,
    allow_negative: Callable[[int], bool] = lambda i: False,
) -> Iterator[Split]:
    """Every way to read ``count`` numbers from ``runs`` (each run gives at least one).

    An empty run is a blank cell: exactly one None. A run starting with "-" (``-15`` glued to the
    digits before it) is read both ways: as the sign of its first number, where
    ``allow_negative(i)`` says the i-th number may be negative, and as a blank cell's "-".

    ``allow_decimal(i)`` says whether the i-th number may have decimals; ``accept_prefix`` prunes
    partial readings early (it is called after each number is placed); ``forced`` gives the
    number that must come next when the ones before determine it (a total after its parts), so
    only that cut is tried.
    """
    cleaned = [r.replace(",", "") for r in runs]
    # Most numbers the runs after run i can still give: a digit each, a blank one.
    capacity_after = [0] * (len(cleaned) + 1)
    for i in range(len(cleaned) - 1, -1, -1):
        capacity_after[i] = capacity_after[i + 1] + max(1, len(cleaned[i].replace(".", "")))
    states = 0

    def walk(run: int, start: int, values: tuple[Number, ...]) -> Iterator[Split]:
        nonlocal states
        states += 1
        if states > MAX_STATES:
            raise TooManySplits
        if run == len(cleaned):
            if len(values) == count:
                yield values
            return
        digits = cleaned[run]
        if not digits or (start == 0 and digits[0] == "-"):
            if digits and len(values) < count and allow_negative(len(values)):
                yield from cut(run, 1, values, -1)
            placed = (*values, None)
            if len(placed) <= count and accept_prefix(placed):
                yield from walk(run + 1, 0, placed) if not digits else walk(run, 1, placed)
            return
        yield from cut(run, start, values, 1)

    def cut(run: int, start: int, values: tuple[Number, ...], sign: int) -> Iterator[Split]:
        """The next number read from ``run`` at ``start``: every length it may have."""
        digits = cleaned[run]
        later_runs = len(cleaned) - run - 1
        must = forced(values)
        ends = range(start + 1, len(digits) + 1)
        if must is not None:
            text = str(sign * must)
            if must * sign < 0 or not digits.startswith(text, start):
                return
            ends = range(start + len(text), start + len(text) + 1)
        for end in ends:
            needed = count - len(values) - 1
            rest_here = len(digits[end:].replace(".", ""))
            if rest_here + capacity_after[run + 1] < needed:
                break  # a longer number leaves even fewer digits
            if (1 if end < len(digits) else 0) + later_runs > needed:
                continue  # too many numbers still to come for what is left
            part = digits[start:end]
            if not _valid_part(part, allow_decimal(len(values))) or (sign < 0 and not float(part)):
                continue  # "-0" is not a number anyone prints
            placed = (*values, sign * _to_number(part))
            if not accept_prefix(placed):
                continue
            yield from walk(run + 1, 0, placed) if end == len(digits) else walk(run, end, placed)

    yield from walk(0, 0, ())


def consistent_cells(candidates: Sequence[Split]) -> list[Number | None]:
    """Per position, the value all candidates agree on, or None where they differ."""
    first = candidates[0]
    return [v if all(c[i] == v for c in candidates) else None for i, v in enumerate(first)]


def describe(candidates: Sequence[Split], limit: int = 6) -> list[str]:
    shown = [" / ".join(_fmt(v) for v in c) for c in candidates[:limit]]
    if len(candidates) > limit:
        shown.append(f"……共 {len(candidates)} 种")
    return shown


def _fmt(v: Number) -> str:
    if v is None:
        return "空"
    return format_number(v)


def format_number(v: int | float) -> str:
    """A number as a person writes it: no exponent, no trailing ``.0``."""
    if isinstance(v, float):
        text = f"{v:.6f}".rstrip("0").rstrip(".")
        return text or "0"
    return str(v)
