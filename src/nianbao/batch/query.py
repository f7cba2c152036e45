"""A batch output as the record source of ``stats --from DIR`` and ``export --from DIR``.

DuckDB reads the Parquet partitions; Python gets one report's values (or record) at a time:

- :func:`metric_rows` gives the rows ``metrics.rollup`` takes ({cell path: value} with agency,
  year, template, the cells the reader abstained from, the file), straight from the cells table,
  without rebuilding any report;
- :func:`reports` rebuilds the records (for the export sheets that take reports), and
  :func:`findings_by_record` gives each record's findings, reading and collection ones included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from nianbao.agencies import agency_key
from nianbao.batch.output import connect
from nianbao.record import Finding, Report

BATCH_ROWS = 256
BLOCK = 2000  # records whose cells metric_rows fetches in one query


def _number(value: float | None) -> int | float | None:
    return int(value) if value is not None and value.is_integer() else value


def metric_rows(out: Path, units: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """One row per readable record, in path order, as ``metrics.row_of`` makes it from a report
    (with the agency list's name, region and level where ``units`` — ``metrics.directory`` — has
    the agency).

    The keys are sorted by DuckDB; the cells are fetched for ``BLOCK`` records at a time (a query
    grouping every cell at once would hold millions of rows; each block scans the cells files once)."""
    con = connect(out)
    order = con.execute("SELECT sha256, path, agency, year, template FROM records WHERE ok ORDER BY path").fetchall()
    for start in range(0, len(order), BLOCK):
        block = order[start : start + BLOCK]
        con.execute("CREATE OR REPLACE TEMP TABLE wanted (sha256 VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?)", [(row[0],) for row in block])
        values: dict[str, dict[str, Any]] = {}
        unknown: dict[str, set[str]] = {}
        for sha, cell, value, state in con.execute(
            "SELECT sha256, cell, value, state FROM cells SEMI JOIN wanted USING (sha256) ORDER BY sha256, cell"
        ).fetchall():
            values.setdefault(sha, {})[cell] = _number(value)
            if state == "unknown":
                unknown.setdefault(sha, set()).add(cell)
        for sha, path, agency, year, template in block:
            info = (units or {}).get(agency_key(agency))
            yield {
                **values.get(sha, {}),
                "agency": info.name if info else agency,
                "year": year,
                "region": info.region if info else None,
                "level": info.level if info else None,
                "template": template,
                "unknown": frozenset(unknown.get(sha, ())),
                "file": path,
            }
    con.close()


def reports(out: Path) -> Iterator[Report]:
    """Every record of the output (readable or not), rebuilt, in the partitions' order (not sorted
    by DuckDB: a sort would hold every record's JSON at once)."""
    con = connect(out)
    for batch in con.sql("SELECT record FROM records").to_arrow_reader(BATCH_ROWS):
        for record in batch.column(0).to_pylist():
            yield Report.from_dict(json.loads(record))
    con.close()


def findings_by_record(out: Path) -> dict[str, list[Finding]]:
    """Each record's findings (reading, report rules, then the rules across reports), by sha256."""
    con = connect(out)
    rows = con.execute(
        "SELECT sha256, rule, severity, message, cells, location, detail FROM findings "
        "ORDER BY sha256, array_position(['reading', 'report', 'collection'], scope), rule"
    ).fetchall()
    con.close()
    out_map: dict[str, list[Finding]] = {}
    for sha, rule, severity, message, cells, location, detail in rows:
        finding = Finding(
            rule, severity, message, tuple(cells), json.loads(location or "{}"), json.loads(detail or "{}")
        )
        out_map.setdefault(sha, []).append(finding)
    return out_map
