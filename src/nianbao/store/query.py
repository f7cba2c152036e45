"""SQL that reads the stored cells for metrics and exports, without unpacking any record.

``metric_rows(engine, paths)`` gives one row per active version, as ``metrics.row_of`` makes it
from a report — {cell path: value} for the cells asked for, with agency, year, region, level,
template, the cells abstained from and the file — in the order ``Store.iter_active`` gives
the versions. Each wanted cell is one scalar subquery on the cells table's key (version, path),
so the database does one index look-up per cell and Python receives one row per report.

A cell comes back as its number (int or float as stored), or as its state: ``blank`` (printed
blank: None, counted as 0) or ``unknown`` (the reader abstained: None, and the path is in the
row's ``unknown``); a cell not stored is absent from the row. A cell named by a reading finding
(RD…) of the version and holding no number is unknown too, as ``metrics.unknown_cells`` counts it
on a report. The format (2019 or 2021) is inferred as ``metrics.infer_template`` infers it from
all the cells: 2019 when any 2019-only 表二 cell is stored.

``version_heads(engine)`` gives each active version's file, sha256, agency and year.

SQLAlchemy Core; SQLite and PostgreSQL (on PostgreSQL a cell comes back as text: typed columns
cannot hold a number or a state).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Engine, String, and_, case, cast, func, literal, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import BigInteger, NullType

from nianbao import formats
from nianbao.store import ACTIVE_ORDER, active_versions
from nianbao.store import models as m

BLANK, UNKNOWN = "blank", "unknown"
# The cells whose presence marks a 2019-format 表二: every cell path metrics.infer_template
# looks for (a test checks that no other path it would see ends as they do).
TEMPLATE_MARKERS = tuple(
    f"table2/{row.key}/{c.key}"
    for row in formats.TABLE2_ROWS["2019"]
    for c in row.columns
    if c.key in ("made", "previous_items", "total_published")
)
_BATCH = 1000  # rows fetched at a time


def _cell(engine: Engine, path: str, version: Any) -> ColumnElement[Any]:
    """One cell of a version: its number, its state, or NULL when not stored."""
    c = m.Cell.__table__.alias()
    if engine.dialect.name == "sqlite":  # a column may hold numbers and text alike
        shown: ColumnElement[Any] = case(
            (c.c.state != "value", c.c.state), (c.c.is_int, cast(c.c.value, BigInteger)), else_=c.c.value
        )
    else:  # text: an int as digits, a float after an "f", a state as its name
        shown = case(
            (c.c.state != "value", c.c.state),
            (c.c.is_int, cast(cast(c.c.value, BigInteger), String)),
            else_=literal("f") + cast(c.c.value, String),
        )
    found = select(type_coerce(shown, NullType)).where(c.c.version_id == version, c.c.path == path)
    return found.scalar_subquery()


def _is_2019(version: Any) -> ColumnElement[Any]:
    """Whether a version has any 2019-only 表二 cell (what metrics.infer_template looks for)."""
    c = m.Cell.__table__.alias()
    return select(c.c.path).where(c.c.version_id == version, c.c.path.in_(TEMPLATE_MARKERS)).exists()


def _decode(value: Any) -> Any:
    """A cell as ``_cell`` gives it, as a report's value (blank and unknown: None)."""
    if value is None or isinstance(value, int | float):
        return value
    if value in (BLANK, UNKNOWN):
        return None
    return float(value[1:]) if value[0] == "f" else int(value)


def _active(columns: Iterable[Any]) -> Any:
    """The active versions with their report and agency, in ``Store.iter_active``'s order."""
    return active_versions(columns).order_by(*ACTIVE_ORDER)


_HEAD = (
    m.Version.id,
    m.StoredReport.id,
    m.Agency.name,
    m.Agency.region_code,
    m.Agency.level,
    m.StoredReport.year,
    m.Version.file_name,
    m.Version.title_agency,
)


def reading_cells(engine: Engine) -> dict[int, set[str]]:
    """Per active version, the cells its reading findings (RD…) name."""
    q = (
        select(m.StoredFinding.version_id, m.StoredFinding.cells)
        .join(m.Version, and_(m.Version.id == m.StoredFinding.version_id, m.Version.active.is_(True)))
        .where(m.StoredFinding.rule.startswith("RD"), m.StoredFinding.cells != "[]")
    )
    out: dict[int, set[str]] = {}
    with engine.connect() as c:
        for version_id, cells in c.execute(q):
            out.setdefault(version_id, set()).update(json.loads(cells))
    return out


def metric_rows(engine: Engine, paths: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One row per active version: the cells ``paths``, the format (from one EXISTS over the
    2019-only cells), the unit's place, the cells abstained from. ``agency`` is the stored agency's name (its region and level
    from the agency list); ``title_agency`` is the name the report prints."""
    wanted = tuple(dict.fromkeys(paths))
    version = m.Version.id
    q = _active([*_HEAD, _is_2019(version), *(_cell(engine, p, version) for p in wanted)])
    named = reading_cells(engine)
    with engine.connect() as c:
        for part in c.execution_options(yield_per=_BATCH).execute(q).partitions():
            for row in part:
                yield _metric_row(row, wanted, named.get(row[0], ()))


def _metric_row(row: Any, wanted: tuple[str, ...], named: Iterable[str]) -> dict[str, Any]:
    version_id, report_id, agency, region, level, year, file_name, title, is_2019 = row[:9]
    values = {p: v for p, v in zip(wanted, row[9:], strict=True) if v is not None}  # None: not stored
    unknown = set()
    for path in [p for p, v in values.items() if type(v) is str]:  # a state, or text from PostgreSQL
        if values[path] == UNKNOWN:
            unknown.add(path)
        values[path] = _decode(values[path])
    # A cell a reading finding names that holds no number was not read (metrics.unknown_cells).
    unknown.update(p for p in named if p in wanted and values.get(p) is None)
    values.update(
        agency=agency,
        year=year,
        region=region,
        level=level,
        template="2019" if is_2019 else "2021",
        unknown=frozenset(unknown),
        file=file_name,
        title_agency=title,
        key=str(report_id),
        version_id=version_id,
    )
    return values


def version_heads(engine: Engine) -> dict[int, tuple[str, str, str | None, int | None]]:
    """Per active version: its file, the file's sha256, its agency's name in the store (the agency
    list's when the title matched it; else as the report prints it), the year."""
    agency = func.coalesce(m.Agency.name, m.Version.title_agency)
    q = _active([m.Version.id, m.Version.file_name, m.Version.sha256, agency, m.StoredReport.year])
    with engine.connect() as c:
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in c.execute(q)}
