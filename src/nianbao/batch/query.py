"""A batch output as the record source of ``stats --from DIR`` and ``export --from DIR``.

DuckDB reads the Parquet partitions; Python gets one report's values (or record) at a time:

- :func:`metric_rows` gives the rows ``metrics.rollup`` takes ({cell path: value} with agency,
  year, template, the cells the reader abstained from, the file), the cells the metrics read
  pivoted by DuckDB from the cells table, without rebuilding any report;
- :func:`reports` rebuilds the records (for the export sheets that take reports), and
  :func:`findings_by_record` gives each record's findings, reading and collection ones included.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from nianbao.agencies import agency_key
from nianbao.batch.output import connect
from nianbao.record import Finding, Report

BATCH_ROWS = 256


def _number(value: float | None) -> int | float | None:
    return int(value) if value is not None and value.is_integer() else value


# A cell's value with its state folded in (one column per cell in the pivot): a printed blank is
# +inf and a cell abstained from is -inf, which no printed number is.
_FOLDED = "CASE state WHEN 'value' THEN value WHEN 'blank' THEN 'inf'::DOUBLE ELSE '-inf'::DOUBLE END"
_BLANK, _UNKNOWN = math.inf, -math.inf


def metric_rows(
    out: Path, units: Mapping[str, Any] | None = None, keys: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """One row per readable record, in path order, as ``metrics.row_of`` makes it from a report
    (with the agency list's name, region and level where ``units`` — ``metrics.directory`` — has
    the agency), holding the cells the metrics ``keys`` (all when None) read.

    DuckDB pivots those cells (one column per cell, its state folded into the value), so Python
    gets one tuple per record. A cell is unknown when its state is, or when a reading finding
    (RD…) names it and it holds no number (a row reported missing has no cells), as
    ``metrics.unknown_cells`` counts it on a report."""
    from nianbao.metrics import cell_paths

    wanted = cell_paths(keys)
    con = connect(out)
    heads = con.execute("SELECT sha256, path, agency, year, template FROM records WHERE ok ORDER BY path").fetchall()
    # The cell paths come from the metric catalogue; DuckDB takes no parameters in a PIVOT's list.
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in wanted)
    pivot = con.execute(
        f"PIVOT (SELECT sha256, cell, {_FOLDED} AS v FROM cells WHERE cell IN ({listed})) "
        f"ON cell IN ({listed}) USING first(v) GROUP BY sha256"
    )
    names = [d[0] for d in pivot.description]
    cells = {row[0]: row for row in pivot.fetchall()}
    named: dict[str, set[str]] = {}
    for sha, cell in con.execute(
        "SELECT sha256, unnest(cells) FROM findings WHERE starts_with(rule, 'RD') AND len(cells) > 0"
    ).fetchall():
        named.setdefault(sha, set()).add(cell)
    con.close()
    wanted_set = set(wanted)
    return [
        _metric_row(head, names, cells.get(head[0], ()), named.get(head[0], ()), wanted_set, units or {})
        for head in heads
    ]


def _metric_row(
    head: Any, names: list[str], cells: Any, named: Iterable[str], wanted: set[str], units: Mapping[str, Any]
) -> dict[str, Any]:
    _, path, agency, year, template = head
    values: dict[str, Any] = {}
    unknown = set()
    for name, value in zip(names[1:], cells[1:], strict=False):  # names[0]: sha256
        if value is None:
            continue  # no such cell in the record
        if value == _UNKNOWN:
            unknown.add(name)
        values[name] = None if value in (_BLANK, _UNKNOWN) else _number(value)
    unknown.update(c for c in named if c in wanted and values.get(c) is None)
    info = units.get(agency_key(agency))
    values.update(
        agency=info.name if info else agency,
        year=year,
        region=info.region if info else None,
        level=info.level if info else None,
        template=template,
        unknown=frozenset(unknown),
        file=path,
    )
    return values


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
