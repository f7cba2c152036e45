"""The HTML reader's cell texts: spans, line breaks and hidden text, as a browser shows them."""

from __future__ import annotations

from nianbao.model import Table
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
