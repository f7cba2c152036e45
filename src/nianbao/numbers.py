"""Numbers as printed: full-width digits, thousands separators, money units, blank markers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Printed in place of a number to mean "nothing": the record holds null for these.
BLANK_MARKERS = frozenset({"", "-", "—", "——", "–", "/", "／", "无", "&nbsp;", "－"})
# NFKC leaves these dashes alone; they all mean a blank cell.
_DASHES = str.maketrans({"－": "-", "—": "-", "–": "-", "―": "-", "‐": "-"})
_SPACES_RE = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_UNIT_SUFFIX_RE = re.compile(r"(万元|元|件|个|项|条|起|次)$")
NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
# A run of digits as it may stand in run-together text (no sign, optional decimals, commas).
DIGIT_RUN_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")


def normalize_text(text: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII) with every kind of space removed."""
    return _SPACES_RE.sub("", unicodedata.normalize("NFKC", text.replace("&nbsp;", " ")))


# A date as pages and reports print it (2025-03-10, 2025/3/10, 2025年3月10日 without the 日), with
# year, month and day named: the extractor finds it after a 发布日期 label, the rules read it back.
DATE_PATTERN = r"(?P<year>(?:19|20)\d{2})[-/.年]\s*(?P<month>\d{1,2})[-/.月]\s*(?P<day>\d{1,2})"


# Kangxi radicals (⼯ for 工, ⾏ for 行) and CJK compatibility ideographs: PDF fonts' text maps give
# them for ordinary characters, and text copied from such PDFs into web pages keeps them. They look
# the same, but a search for 工作 does not find ⼯作.
_COMPATIBLE_RE = re.compile("[\u2e80-\u2fdf\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _compatible_forms() -> dict[int, str]:
    table = {}
    for code in [*range(0x2E80, 0x2FE0), *range(0xF900, 0xFB00)]:
        unified = unicodedata.normalize("NFKC", chr(code))
        if unified != chr(code):
            table[code] = unified
    return table


def holds_compatible(text: str) -> bool:
    """Whether the text may hold a Kangxi radical or a compatibility ideograph (U+2E80–U+2FFF,
    U+F900–U+FAFF): the high bytes of its UTF-16 code units, searched by ``in`` at C speed, a
    third of the cost of a regular expression's character class over the text."""
    high = text.encode("utf-16-le", errors="surrogatepass")[1::2]
    return b"\x2e" in high or b"\x2f" in high or b"\xf9" in high or b"\xfa" in high


def fold_compatible(text: str) -> str:
    """The text with every Kangxi radical and compatibility ideograph as its unified character."""
    return text.translate(_compatible_forms()) if _COMPATIBLE_RE.search(text) else text


@lru_cache(maxsize=4096)
def normalize_label(text: str) -> str:
    """A label's comparable form: NFKC, no spaces, Chinese and ASCII punctuation unified."""
    return normalize_text(text).replace("、", ".").replace("．", ".")


@dataclass(frozen=True)
class Value:
    """A cell's reading: ``number`` is None for a blank; ``unit`` keeps a printed money unit."""

    number: int | float | None
    blank: bool = False
    unit: str = ""


# Digits of one printed number past which it is not read as a number (null; the reader layer adds
# RD18). No real figure comes near it, a table row run together in a crawler dump stays under it,
# and it keeps every number finite as a float (a 400-digit decimal is inf) and under int()'s
# 4,300-digit limit (past it int() raises). The cap as data lives in nianbao.limits.
MAX_DIGITS = 100


# What readers put for a character they cannot read: U+FFFD, the Unicode replacement character
# (a PDF glyph without a text mapping, pdfminer's "(cid:N)"; bytes that do not decode).
UNREADABLE = "\ufffd"


@lru_cache(maxsize=4096)  # what repeats from report to report; larger only grew the worker's memory
def parse_value(text: str) -> Value | None:
    """Read one printed cell. Returns None when the text is not a number or a blank marker.

    A cell holding characters the file does not let us read (:data:`UNREADABLE`), with nothing
    but digits besides, is a number we cannot know: null, in its place, never its legible digits.
    """
    raw = normalize_text(text).translate(_DASHES)
    if raw in BLANK_MARKERS or set(raw) == {"-"}:
        return Value(None, blank=True)
    if UNREADABLE in raw:
        rest = raw.replace(UNREADABLE, "")
        return Value(None) if not rest or NUMBER_RE.match(rest) else None  # a value, not a blank
    unit = ""
    m = _UNIT_SUFFIX_RE.search(raw)
    if m:
        unit, raw = m.group(1), raw[: m.start()]
    if not NUMBER_RE.match(raw):
        return None
    digits = raw.replace(",", "")
    if len(digits) > MAX_DIGITS:
        return Value(None)  # a value we cannot know, in its place (see MAX_DIGITS)
    if "." in digits:
        number: int | float = float(digits)
    else:
        number = int(digits)
    return Value(number, unit=unit)
