"""A report as government portals publish it: the report inside the site's page.

The page is modelled on the TRS pages of www.pingtan.gov.cn (the corpus's r007/r008 come from
that site): the 《政府网站发展指引》 meta tags (ArticleTitle, PubDate), a navigation menu, a
breadcrumb ending in 政府信息公开年报 just above the title, the report in a ``TRS_Editor`` div,
and after it the page's own furniture (QR code, close button, related links, footer).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builders import valid_report
from conftest import corpus_cases, table_diffs, truth_report
from nianbao import parse
from nianbao.record import Report
from nianbao.render import to_html

_FURNITURE = ("扫一扫在手机上查看当前页面", "关闭", "文字解读", "友情链接", "人民网", "主办单位")


def _portal_page(report: Report, *, printed_title: bool = True, menu_items: int = 12) -> str:
    page = to_html(report).decode("utf-8")
    body = page[page.index("<body>") + len("<body>") : page.index("</body>")]
    heading = re.search(r"<h1>(.*?)</h1>", body)
    assert heading is not None
    report_title = heading.group(1)
    body = body.replace(heading.group(0), "")  # the portal prints the title above the article
    menu = "".join(f"<li><a href='/zwgk/c{i}/'>栏目{i}</a></li>" for i in range(menu_items))
    title = f"<div class='article_title'>\n  {report_title}\n</div>" if printed_title else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8" />
<meta name="SiteName" content="某某门户网站"/>
<meta name="ColumnName" content="政府信息公开年报"/>
<meta name="ArticleTitle" content="{report_title}"/>
<meta name="PubDate" content="2025-01-20 09:30"/>
<meta name="ContentSource" content="某某办公室"/>
<title>{report_title}_政府信息公开年报_某某门户网站</title></head>
<body><div class="header"><ul class="menu">{menu}</ul><span>网站支持IPV6</span></div>
<div class="breadcrumb"><span>当前位置：</span><ul><li><a href="/">首页</a></li>
<li><a href="/zwgk/">政务公开</a></li><li><a href="../">政府信息公开年报</a></li></ul></div>
<div class="article">{title}
<div class="article_extend"><span>来源：某某办公室</span> <span>时间：2025-01-20 09:30</span></div>
<div class="article_content"><div class=TRS_Editor>{body}</div></div>
<div class="article_qrcode"><p>扫一扫在手机上查看当前页面</p></div>
<button title="关闭">关闭</button></div>
<div class="title_name">文字解读</div>
<div class="footer"><p>友情链接</p><ul><li><a href="http://www.people.com.cn/">人民网</a></li></ul>
<p>主办单位：某某办公室</p></div></body></html>"""


def _read(tmp_path: Path, page: str) -> dict[str, object]:
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    return parse(path).to_dict()


@pytest.mark.parametrize("name", corpus_cases())
def test_corpus_report_inside_a_portal_page(name: str, tmp_path: Path) -> None:
    expected = truth_report(name).to_dict()
    record = _read(tmp_path, _portal_page(truth_report(name)))
    assert record["errors"] == []
    # The breadcrumb line above the title is not part of it.
    assert (record["agency"], record["year"]) == (expected["agency"], expected["year"])
    assert table_diffs(expected, record) == []


def test_the_page_furniture_after_the_report_is_not_section_six(tmp_path: Path) -> None:
    report = valid_report()
    record = _read(tmp_path, _portal_page(report))
    sections = record["sections"]
    assert isinstance(sections, list)
    assert [s["text"] for s in sections] == [s.text for s in report.sections]
    assert record["title"] == report.title


def test_publication_date_from_the_pubdate_meta_tag(tmp_path: Path) -> None:
    record = _read(tmp_path, _portal_page(valid_report()))
    assert record["meta"]["published"] == "2025-01-20"  # type: ignore[index]


def test_title_from_the_articletitle_meta_tag_when_the_menu_is_long(tmp_path: Path) -> None:
    # Sixty menu lines push the page's printed title out of reach; the meta tag still names it.
    report = valid_report()
    record = _read(tmp_path, _portal_page(report, printed_title=False, menu_items=60))
    assert (record["agency"], record["year"]) == (report.agency, report.year)


def test_without_the_last_heading_nothing_is_cut(tmp_path: Path) -> None:
    # No heading of section 六 to find the report's end by: the page is read to its end, so the
    # text under the unrecognised heading is kept (with the furniture) rather than lost.
    report = valid_report()
    page = _portal_page(report).replace("其他需要报告的事项", "其他事项")
    sections = _read(tmp_path, page)["sections"]
    assert isinstance(sections, list)
    last = sections[-1]["text"]
    assert report.sections[5].text in last
    assert all(word in last for word in _FURNITURE)


def test_tables_in_their_own_wrappers(tmp_path: Path) -> None:
    # Each table inside its own div (as many editors save them): the report still ends with the
    # element that holds section 六, not with the first table's wrapper.
    report = valid_report()
    page = (
        _portal_page(report).replace("<table>", "<div class='table-wrap'><table>").replace("</table>", "</table></div>")
    )
    record = _read(tmp_path, page)
    assert table_diffs(report.to_dict(), record) == []
    assert [s["text"] for s in record["sections"]] == [s.text for s in report.sections]  # type: ignore[union-attr]


def test_the_introduction_naming_the_six_parts_does_not_end_the_report(tmp_path: Path) -> None:
    # The introduction lists the parts, 其他需要报告的事项 among them, before any table; with no
    # section 六 heading after the tables, nothing may be cut after the first table's wrapper.
    report = valid_report()
    intro = "<p>本报告共分六个部分：总体情况、主动公开政府信息情况、其他需要报告的事项等。</p>"
    page = (
        _portal_page(report)
        .replace("<h2>一、", f"{intro}<h2>一、", 1)
        .replace("<table>", "<div class='table-wrap'><table>")
        .replace("</table>", "</table></div>")
        .replace("六、其他需要报告的事项", "六、其他事项")
    )
    record = _read(tmp_path, page)
    assert table_diffs(report.to_dict(), record) == []
    assert report.sections[4].text in record["sections"][-1]["text"]  # type: ignore[index]
