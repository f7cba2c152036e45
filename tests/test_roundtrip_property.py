"""Property: any valid record rendered in any text-like format parses back to the same record."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import needs_libreoffice
from nianbao import formats, parse
from nianbao.record import Report, SectionText, Source
from nianbao.render import write

counts = st.integers(min_value=0, max_value=5000)
SENTENCES = (
    "本年度持续推进政务公开工作。",
    "通过门户网站及时发布政策文件和解读材料。",
    "加强政务新媒体管理，及时回应社会关切。",
    "一是政策解读形式较为单一。改进措施：增加图解和视频解读。",
    "发出收费通知的件数和总金额以及实际收取的总金额均为0。",
    "组织业务培训两次，提升工作人员依法公开能力。",
)
paragraphs = st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3).map("".join)


@st.composite
def records(draw: st.DrawFn) -> Report:
    year = draw(st.integers(min_value=2019, max_value=2025))
    template = "2019" if year < formats.FIRST_2021_YEAR else "2021"
    order = formats.TABLE3_ORDER_SINGLE if template == "2019" else formats.TABLE3_ORDER_SPLIT
    table3 = {}
    for key in order:
        applicants = [draw(counts) for _ in formats.TABLE3_APPLICANT_COLUMNS]
        table3[key] = dict(zip(formats.TABLE3_APPLICANT_COLUMNS, applicants, strict=True)) | {"total": sum(applicants)}
    table4 = {}
    for group in formats.TABLE4_GROUPS:
        four = [draw(counts) for _ in range(4)]
        table4[group.key] = dict(zip(("upheld", "corrected", "other", "pending"), four, strict=True)) | {
            "total": sum(four)
        }
    table2 = {}
    for spec in formats.TABLE2_ROWS[template]:
        row = {}
        for col in spec.columns:
            money = col.key in spec.money_columns
            row[col.key] = draw(st.decimals(0, 99999, places=2).map(float) if money else counts)
        table2[spec.key] = row
    agency = draw(
        st.sampled_from(["东城区城市管理指挥中心", "淮安市人民政府", "沭阳县发展和改革局", "建国门街道办事处"])
    )
    sections = tuple(
        SectionText(s.number, s.title, "\n".join(draw(st.lists(paragraphs, min_size=1, max_size=2))))
        for s in formats.SECTIONS
    )
    return Report(Source("x", "json"), agency, year, template, sections, table2, table3, table4)


def _assert_same(report: Report, back: Report) -> None:
    assert back.errors == ()
    assert (back.agency, back.year, back.template) == (report.agency, report.year, report.template)
    assert (back.table2, back.table3, back.table4) == (report.table2, report.table3, report.table4)
    assert [(s.number, s.title, s.text) for s in back.sections] == [
        (s.number, s.title, s.text) for s in report.sections
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=records(), suffix=st.sampled_from([".txt", ".md", ".html", ".docx"]))
def test_render_then_parse_is_identity(report: Report, suffix: str) -> None:
    with TemporaryDirectory() as tmp:
        back = parse(write(report, Path(tmp) / f"r{suffix}"))
    _assert_same(report, back)


@needs_libreoffice
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=records(), suffix=st.sampled_from([".pdf", ".doc"]))
def test_render_then_parse_is_identity_through_libreoffice(report: Report, suffix: str) -> None:
    with TemporaryDirectory() as tmp:
        back = parse(write(report, Path(tmp) / f"r{suffix}"))
    _assert_same(report, back)
