"""Statistics and exports over the store by SQL (``store/query.py``, ``service.stats``) give what
the same computation over the stored records in memory gives, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from builders import valid_report, with_cells
from nianbao import exports, metrics, service
from nianbao.authoring.sample import generate
from nianbao.cli import app
from nianbao.record import Finding, Report, Source
from nianbao.rules import Config, check
from nianbao.stats_view import rollup_json
from nianbao.store import Store

ABSTAINED = "table3/granted/total"
MISSING_ROW = ("table4/litigation_direct/upheld", "table4/litigation_direct/total")


def _stored(report: Report, name: str) -> Report:
    body = name + json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True)
    return dataclasses.replace(report, source=Source(name, "json", hashlib.sha256(body.encode()).hexdigest()))


def _special() -> Iterator[Report]:
    """Reports whose cells were not all read, printed blank, or replaced by a later version (each
    from its own ``valid_report()``: ``with_cells`` writes into the tables it is given)."""
    # The reader abstained from a digit (RD07): the cell is stored as unknown.
    unread = with_cells(valid_report(agency="甲市公安局"), table3__granted__total=None)
    yield dataclasses.replace(unread, findings=(Finding("RD07", "error", "表三予以公开总计未能读取", (ABSTAINED,)),))
    # A row reported missing (RD06 naming its cells): nothing stored for it, yet not read.
    data = valid_report(agency="乙市财政局").to_dict()
    del data["table4"]["litigation_direct"]
    missing = Report.from_dict(data)
    yield dataclasses.replace(missing, findings=(Finding("RD06", "error", "表四一行未能读取", MISSING_ROW),))
    # A cell printed blank (counted as 0, with a note), and a fee in 万元 with a fraction.
    yield with_cells(valid_report(agency="丙县民政局"), table3__partial__total=None)
    yield with_cells(valid_report(agency="丁县税务局"), table2__fees__amount_10k_yuan=12.5)
    # Two versions of one report: the second, imported last, is the active one.
    yield with_cells(valid_report(agency="戊市教育局"), table3__new__total=999)
    yield with_cells(valid_report(agency="戊市教育局"), table3__new__total=41)


def _fill(url: str) -> Store:
    store = Store(url)
    reports = [s.report for s in generate(40, seed=11, error_rate=0.3)] + list(_special())
    for i, report in enumerate(reports):
        report = _stored(report, f"{i:03d}.json")
        store.add(report, None, check(report, Config()))
    names = sorted({r.agency for r in reports if r.agency})
    store.import_agencies(
        {"名称": n, "级别": ("省级", "市级", "县级")[k % 3], "行政区划代码": f"{110000 + k % 4}"}
        for k, n in enumerate(names[: len(names) - 3])  # three units are not on the list
    )
    return store


@pytest.fixture(scope="module")
def pg_url(pg_server: str) -> str:
    from pgcluster import fresh_database

    url = fresh_database(pg_server)
    _fill(url).close()
    return url


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('stats') / 'stats.db'}"
    _fill(url).close()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{'pg' if request.param == 'postgresql' else 'sqlite'}_url"))


def _records(store: Store) -> list[Report]:
    return [a.record for a in store.iter_active(with_record=True) if a.record is not None]


def _in_memory(store: Store, **options: Any) -> metrics.Rollup:
    """The computation as it was before SQL: every record loaded, rows made from the reports."""
    rows = [
        {"名称": a.name, "级别": a.level, "行政区划代码": a.region_code, "别名": "、".join(a.aliases)}
        for a in store.agencies()
    ]
    return metrics.rollup(metrics.rows_with_directory(_records(store), metrics.directory(rows)), **options)


@pytest.mark.parametrize("by", ["year", "region", "level"])
@pytest.mark.parametrize("keys", [None, ("substantive_rate",), ("granted_rate", "lawsuits", "fees_amount")])
def test_sql_rollup_is_the_in_memory_rollup(url: str, by: str, keys: tuple[str, ...] | None) -> None:
    with Store(url) as store:
        expected = rollup_json(_in_memory(store, by=by, keys=keys))
        got = rollup_json(service.stats(store, by=by, keys=keys))
    assert got == expected


def test_abstained_cells_make_metrics_null_with_the_reason(url: str) -> None:
    with Store(url) as store:
        result = service.stats(store)
        counts = store.counts()
    units = {u.agency: u for u in result.units}
    unread = units["甲市公安局"].values["granted_rate"]
    assert unread.value is None and "未能读取" in unread.reason
    missing = units["乙市财政局"].values["lawsuits"]
    assert missing.value is None and "未能读取" in missing.reason  # not "报告中没有": the row was not read
    blank = units["丙县民政局"].values["substantive_rate"]
    assert blank.value is not None and "空白" in blank.reason
    assert units["丁县税务局"].values["fees_amount"].value == 12.5
    assert [u.values["new_applications"].value for u in result.units if u.agency == "戊市教育局"] == [41]
    # One unit per stored report: replaced versions are not counted.
    assert result.total.units == counts["reports"] < counts["versions"]


def test_findings_export_names_reports_without_their_records(url: str) -> None:
    with Store(url) as store:
        records = {a.version_id: a.record for a in store.iter_active(with_record=True) if a.record is not None}
        heads = service.report_heads(store)
        items = [(v, [row.finding() for row in store.findings() if row.version_id == v]) for v in sorted(records)]
    expected = exports.findings_sheet((records[v], fs) for v, fs in items)[0].rows
    got = exports.findings_sheet((heads[v], fs) for v, fs in items)[0].rows
    assert got == expected and len(got) > 10


def test_stats_and_export_commands_read_the_store_by_sql(sqlite_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["stats", "--db", sqlite_url, "--by", "level", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    with Store(sqlite_url) as store:
        expected = rollup_json(_in_memory(store, by="level"))
    assert shown.stdout == expected + "\n"
    out = tmp_path / "metrics.json"
    exported = runner.invoke(app, ["export", "--what", "metrics", "--db", sqlite_url, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    sheets = json.loads(out.read_text(encoding="utf-8"))
    assert sheets[0]["sheet"] == "指标" and len(sheets[0]["rows"]) > 40


def test_the_format_markers_are_every_cell_infer_template_looks_for() -> None:
    from nianbao.compare import cell_specs
    from nianbao.store.query import TEMPLATE_MARKERS

    paths = [s.path for s in cell_specs()]
    assert {p for p in paths if metrics.infer_template({p: 0}) == "2019"} == set(TEMPLATE_MARKERS)


def test_batch_rows_keep_blank_and_abstained_cells_apart() -> None:
    """The DuckDB pivot folds a cell's state into its value (+inf blank, -inf abstained); a row
    decodes them as a report holds them, and a cell a reading finding names is unknown too."""
    from nianbao.batch.query import _metric_row

    names = ["sha256", "table3/new/total", "table3/granted/total", "table3/partial/total", "table3/total/total"]
    cells = ("x", 40.0, float("-inf"), float("inf"), None)
    row = _metric_row(("x", "a.txt", "甲市公安局", 2024, "2021"), names, cells, ["table3/total/total"], set(names), {})
    assert row["table3/new/total"] == 40 and isinstance(row["table3/new/total"], int)
    assert row["table3/granted/total"] is None and row["table3/partial/total"] is None
    assert "table3/total/total" not in row
    assert row["unknown"] == {"table3/granted/total", "table3/total/total"}
    granted = metrics.evaluate_row(row, ["granted_rate"])["granted_rate"]
    assert granted.value is None and "未能读取" in granted.reason


def test_an_agency_list_given_names_units_as_in_memory(sqlite_url: str) -> None:
    """With an agency list file (``--agencies``), a unit is looked up by the name its report prints."""
    with Store(sqlite_url) as store:
        records = _records(store)
        names = sorted({r.agency for r in records if r.agency})[:5]
        units = metrics.directory({"名称": n, "级别": "省级", "行政区划代码": "990000"} for n in names)
        expected = rollup_json(metrics.rollup(metrics.rows_with_directory(records, units), by="region"))
        got = service.stats(store, by="region", units=units)
    assert rollup_json(got) == expected
    assert [g.group for g in got.groups] == ["990000", metrics.NO_GROUP]
