"""The HTML reader's cell texts: spans, line breaks and hidden text, as a browser shows them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.model import Table
from nianbao.readers import html as html_reader
from nianbao.readers.html import read_html_text


def _cells(html: str) -> list[list[str]]:
    (table,) = [b for b in read_html_text(f"<html><body>{html}</body></html>") if isinstance(b, Table)]
    return [[c.text for c in row] for row in table.rows]


def test_word_exported_spans_are_joined() -> None:
    html = "<table><tr><td><p><span>行政</span><span>许可</span></p></td><td><span>1</span>2&nbsp;</td></tr></table>"
    assert _cells(html) == [["行政许可", "12"]]


def test_a_line_break_in_a_cell_is_kept() -> None:
    html = "<table><tr><td><span>结果</span><br/>纠正</td><td><b>3</b></td></tr></table>"
    assert _cells(html) == [["结果\n纠正", "3"]]


def test_hidden_text_in_a_cell_is_dropped() -> None:
    html = "<table><tr><td><span>总计</span><script>var x = 1;</script><style>p{}</style></td></tr></table>"
    assert _cells(html) == [["总计"]]


def _paragraphs(html: str) -> list[str]:
    return [b.text for b in read_html_text(f"<html><body>{html}</body></html>") if not isinstance(b, Table)]


def test_paragraph_text_across_inline_markup() -> None:
    html = (
        "<p>一、<span>总体<b>情况</b></span></p>"
        "<p>a<span>b<br>c</span>d</p>"
        "<div><span>x<font>y</font></span><p>z</p>w</div>"
        "<p>正文<span><script>var s = 1;</script>续</span></p>"
    )
    assert _paragraphs(html) == ["一、总体情况", "ab", "cd", "xy", "z", "w", "正文续"]


@contextmanager
def _no_shortcut() -> Iterator[None]:
    saved = html_reader._only_inline_below
    html_reader._only_inline_below = lambda el: False
    try:
        yield
    finally:
        html_reader._only_inline_below = saved


_TAGS = ["span", "b", "font", "a", "p", "div", "br", "script", "li"]


@st.composite
def _markup(draw: st.DrawFn, depth: int = 0) -> str:
    """Random nesting of inline, block, break and hidden elements around short texts."""
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        text = draw(st.sampled_from(["", "甲", "12", " ", "乙丙", "<?xml:namespace prefix = o />", "&nbsp;"]))
        if depth >= 3 or draw(st.booleans()):
            parts.append(text)
            continue
        tag = draw(st.sampled_from(_TAGS))
        inner = "" if tag == "br" else draw(_markup(depth + 1))
        parts.append(f"<{tag}>" if tag == "br" else f"<{tag}>{inner}</{tag}>{text}")
    return "".join(parts)


@given(_markup())
@settings(max_examples=300, deadline=None)
def test_inline_shortcut_equals_the_element_walk(page: str) -> None:
    # The walker takes an element's text in one call when only inline markup is below it; walking
    # the same page element by element must give the same paragraphs.
    fast = read_html_text(f"<html><body>{page}</body></html>")
    with _no_shortcut():
        slow = read_html_text(f"<html><body>{page}</body></html>")
    assert fast == slow
