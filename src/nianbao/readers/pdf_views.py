"""Views of a PDF page that read it as a person sees it.

Marks drawn over the text are left out: a watermark's oblique characters, and the second copy of
each glyph that a fake bold draws twice.

A page whose text runs sideways is read through an upright view of it. A wide table (表三 has ten
columns) is often printed across a portrait page, its lines running up or down the sheet; a page
turned with ``/Rotate`` shows its text the same way. pdfplumber places such characters where they
are shown, so rows would come out as columns. When most of a page's text runs one way sideways,
the page is read as if turned a quarter so that its text stands upright. Every object is moved by
that turn, and the boxes the reader reports are turned back, so locations still point at the page
as it is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pdfplumber.page import DerivedPage, Page

Box = tuple[float, float, float, float]
Point = tuple[float, float]


def sideways_direction(page: Page) -> str | None:
    """Which way ("up", "down") most of the page's text runs up or down the page; None if neither.

    The way is read from each glyph's matrix, not from pdfminer's ``upright``: a quarter turn
    written as a rotation (cos 90° = 6e-17, not 0) passes pdfminer's test for upright.
    """
    up = down = glyphs = 0
    for char in page.chars:
        if char["text"].isspace():
            continue
        glyphs += 1
        a, b = char["matrix"][0], char["matrix"][1]
        if abs(b) > abs(a):  # the glyph's baseline points up (b > 0) or down the page
            if b > 0:
                up += 1
            else:
                down += 1
    if up * 2 > glyphs:
        return "up"
    return "down" if down * 2 > glyphs else None


class UprightPage(DerivedPage):
    """The page turned a quarter so that text running ``way`` ("up" or "down") stands upright."""

    def __init__(self, page: Page, way: str) -> None:
        super().__init__(page)
        x0, top, x1, bottom = page.bbox
        # Turned points are rounded: a rule drawn through a rotation ends a hair off true
        # (cos 90° = 6e-17), and pdfplumber calls a line horizontal only when its ends are equal.
        if way == "up":  # turn clockwise
            self._turn: Callable[[Point], Point] = lambda p: (_round(bottom - p[1]), _round(p[0] - x0))
            self._back: Callable[[Point], Point] = lambda p: (p[1] + x0, bottom - p[0])
        else:  # turn counterclockwise
            self._turn = lambda p: (_round(p[1] - top), _round(x1 - p[0]))
            self._back = lambda p: (x1 - p[1], p[0] + top)
        self.way = way
        self.bbox = (0, 0, bottom - top, x1 - x0)

    def shown_box(self, box: Box) -> Box:
        """A box of this upright view, as it lies on the page as shown."""
        return _moved(box, self._back)

    @property
    def objects(self) -> dict[str, list[dict[str, Any]]]:
        if not hasattr(self, "_objects"):
            self._objects = {
                kind: [self._turned(obj) for obj in objs] for kind, objs in self.parent_page.objects.items()
            }
        return self._objects

    def _turned(self, obj: dict[str, Any]) -> dict[str, Any]:
        x0, top, x1, bottom = _moved((obj["x0"], obj["top"], obj["x1"], obj["bottom"]), self._turn)
        height = self.bbox[3]
        out = dict(obj)
        out.update(x0=x0, x1=x1, top=top, bottom=bottom, width=x1 - x0, height=bottom - top)
        out.update(y0=height - bottom, y1=height - top, doctop=top + obj["doctop"] - obj["top"])
        if "pts" in obj:
            out["pts"] = [self._turn(p) for p in obj["pts"]]
        if obj.get("object_type") == "char":
            out["matrix"] = _turned_matrix(obj["matrix"], self.way)
            a, b, c, d = out["matrix"][:4]
            out["upright"] = a * d > 0 and b * c <= 0  # pdfminer's test
            out["size"] = bottom - top  # pdfminer's size of a horizontal glyph: its height as shown
        return out


def _round(value: float) -> float:
    return round(value, 4)


def _moved(box: Box, move: Callable[[Point], Point]) -> Box:
    (ax, ay), (bx, by) = move((box[0], box[1])), move((box[2], box[3]))
    return (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))


def _turned_matrix(matrix: tuple[float, ...], way: str) -> tuple[float, ...]:
    """The glyph matrix after the turn (translation left out: nothing reads it)."""
    a, b, c, d = matrix[:4]
    return (b, -a, d, -c, 0.0, 0.0) if way == "up" else (-b, a, -d, c, 0.0, 0.0)


def as_seen(page: Page) -> Page:
    """The page without watermark characters and second copies of glyphs, upright."""
    chars = page.chars
    hidden = oblique(chars) | drawn_again(chars)
    if hidden:
        ids = {id(chars[i]) for i in hidden}
        page = page.filter(lambda obj: id(obj) not in ids)
    way = sideways_direction(page)
    return page if way is None else UprightPage(page, way)


# A glyph turned more than about 5° from the page's axes (tan 5° = 0.0875) is a watermark's: no part
# of a report is printed aslant. Italic glyphs are sheared, not turned, and stay.
_ASLANT = 0.0875


def oblique(chars: list[dict[str, Any]]) -> set[int]:
    """Indices of the characters printed aslant, as a watermark across the page is."""
    out: set[int] = set()
    for i, char in enumerate(chars):
        a, b = char["matrix"][0], char["matrix"][1]
        if abs(b) > _ASLANT * abs(a) and abs(a) > _ASLANT * abs(b):
            out.add(i)
    return out


_TWICE = 1.0  # points: a glyph drawn again this close to itself is one glyph shown bold


def drawn_again(chars: list[dict[str, Any]]) -> set[int]:
    """Indices of the characters that copy another, as a fake bold draws a run a second time a
    fraction of a point aside (read as it is, 淮安 becomes 淮淮安安 and 26 becomes 2266): the same
    character less than a point across and down from one before it in the order of (character, x)
    that is not itself a copy.

    Sorted so, a copy follows its original within the few entries less than a point to the right.
    pdfplumber's ``dedupe_chars`` costs ten times this, and lets a copy through when rounding in the
    copy's transformation makes its font size differ in the last digit.
    """
    placed = sorted([(c["text"], c["x0"], c["top"], i) for i, c in enumerate(chars)])
    copies: set[int] = set()
    for n, (text, x, y, i) in enumerate(placed):
        if i in copies:
            continue
        after = n + 1
        while after < len(placed) and placed[after][0] == text and placed[after][1] - x < _TWICE:
            if abs(placed[after][2] - y) < _TWICE:
                copies.add(placed[after][3])
            after += 1
    return copies
