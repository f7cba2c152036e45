"""Golden tests: every value of every truth file, read from its real published report."""

from __future__ import annotations

import pytest

from conftest import corpus_cases, load_truth, source_of, table_diffs, truth_names
from nianbao import parse

# Cells the reader may abstain from (null plus an RD07 finding naming the cell), never misread:
# - r007 table 二: run-together digits with no arithmetic to split them (corpus README).
# - r008 table 二 行政规范性文件 "6233440": table 二 of the 2021 format has no sum relating its
#   three cells, and 15 splits are valid numbers. The text's "制发行政规范性文件62件" fixes the
#   first cell; 62/3/3440, 62/33/440, 62/334/40 and 62/3344/0 remain for the other two. The
#   README's "only the table's arithmetic splits them" holds for its tables 三 and 四 only.
MAY_ABSTAIN = {
    "r007-pingtan-2019": ("table2/",),
    "r008-pingtan-2024": ("table2/normative_documents/repealed", "table2/normative_documents/in_force"),
}


@pytest.mark.parametrize("name", corpus_cases())
def test_every_value_read_exactly_or_abstained_with_finding(name: str) -> None:
    truth = load_truth(name)
    record = parse(source_of(name)).to_dict()
    assert record["errors"] == []
    assert (record["agency"], record["year"], record["template"]) == (truth["agency"], truth["year"], truth["template"])
    abstained = {cell for f in record["findings"] if f["rule"] == "RD07" for cell in f["cells"]}
    wrong = []
    for diff in table_diffs(truth, record):
        path = diff.split(":")[0]
        allowed = path.startswith(MAY_ABSTAIN.get(name, ("<none>",)))
        if not (allowed and "read None" in diff and path in abstained):
            wrong.append(diff)
    assert wrong == []


@pytest.mark.parametrize("name", corpus_cases())
def test_every_read_value_is_located(name: str) -> None:
    record = parse(source_of(name)).to_dict()
    for table in ("table2", "table3", "table4"):
        for row, cols in (record[table] or {}).items():
            for col, value in cols.items():
                path = f"{table}/{row}/{col}"
                if value is not None:
                    assert record["locations"].get(path), f"{path} has no location"


@pytest.mark.parametrize("name", corpus_cases([n for n in truth_names() if not n.startswith("r004")]))
def test_six_sections_found_in_order(name: str) -> None:
    record = parse(source_of(name)).to_dict()
    assert [s["number"] for s in record["sections"]] == [1, 2, 3, 4, 5, 6]
    assert all(s["text"] for s in record["sections"] if s["number"] in (1, 5))


def test_markdown_conversion_without_section_five_heading() -> None:
    # r004's conversion lost the heading of 五 (its text starts at "（一）主要问题").
    record = parse(source_of("r004-shanghai-stcsm-2024")).to_dict()
    assert [s["number"] for s in record["sections"]] == [1, 2, 3, 4, 6]


def test_abstention_lists_the_candidate_splits() -> None:
    record = parse(source_of("r008-pingtan-2024")).to_dict()
    assert record["table2"]["normative_documents"]["issued"] == 62  # stated in section 一
    (finding,) = [f for f in record["findings"] if f["rule"] == "RD07"]
    assert "6233440" in finding["message"] and "4 种拆法" in finding["message"]
    assert [62, 33, 440] in finding["detail"]["candidates"]
    assert finding["detail"]["stated"] == ["制发行政规范性文件62件"]
    assert finding["location"] == {"line": 10}


def test_pdf_values_carry_page_and_box() -> None:
    record = parse(source_of("r001-huaian-city-2024")).to_dict()
    assert record["locations"]["table2/penalty/decisions"]["page"] == 4
    assert record["locations"]["table3/carried_forward/total"]["page"] == 5
    assert len(record["locations"]["table3/new/natural"]["bbox"]) == 4
