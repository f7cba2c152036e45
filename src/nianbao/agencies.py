"""Agency names: the one normaliser that says when two printed names are the same agency.

The collection rules group reports by it (XY01–XY05) and the store matches report titles to an
agency list (名录) by it, so a report the rules put with its agency is also filed with it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from nianbao.numbers import normalize_text

__all__ = ["agency_key", "closest", "split_aliases"]

_BRACKETED_RE = re.compile(r"\(.*?\)")
_ALIAS_SEPARATORS_RE = re.compile(r"[;；,，、|\n]+")


def agency_key(name: str | None) -> str:
    """Names compared across reports: no spaces, full-width unified, bracketed notes dropped."""
    text = normalize_text(name or "")
    return _BRACKETED_RE.sub("", text)


def split_aliases(text: str | None) -> list[str]:
    """The aliases of a 名录 cell: separated by ；，、| or new lines."""
    return [a.strip() for a in _ALIAS_SEPARATORS_RE.split(text or "") if a.strip()]


def closest(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.5) -> list[str]:
    """The ``n`` candidate names most like ``name`` (compared by their keys), best first."""
    by_key: dict[str, str] = {}
    for candidate in candidates:
        by_key.setdefault(agency_key(candidate), candidate)
    keys = difflib.get_close_matches(agency_key(name), list(by_key), n=n, cutoff=cutoff)
    return [by_key[k] for k in keys]
