"""The store's write path: files made ready where they are read, then written in batches.

Where a file is read (a pool worker, or the importing process itself with one job) it becomes a
``Prepared``: every row the store will hold for it — the record's JSON and the original file,
packed; its cells, sections and findings as plain tuples — with its sha256 and agency key. The
``Writer``, in the importing process, only runs the inserts: several files a transaction (one
commit and a handful of statements for a batch, instead of a dozen statements and a commit a
file), straight on the DBAPI connection (sqlite3 ``executemany``, psycopg ``COPY``), agencies
cached for the import.

A transaction holds whole files only, so a killed import leaves whole reports and a re-run finds
them stored (未变化) and writes the rest. When two writers race for the same file, report or
agency (a unique key; on PostgreSQL also a deadlock between two batches), the batch is rolled back
and its files are written again one a transaction, where the loser finds the winner's rows.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from nianbao.agencies import agency_key
from nianbao.record import Finding, Report
from nianbao.store import (
    ADDED,
    FAILED,
    NEW_VERSION,
    UNCHANGED,
    UNKNOWN_RULES,
    ImportOutcome,
    _json,
    _location_json,
)
from nianbao.store import models as m

Row = tuple[Any, ...]
ZIP = b"PK\x03\x04"  # docx, xlsx: already deflated, packing them again gains nothing
PACK_LEVEL = 1  # zlib level: half the time of level 6 for about 9 % more bytes (docs/performance.md)
_string: Any = json.encoder.encode_basestring  # type: ignore[attr-defined,unused-ignore]  # as _json writes a string
# PostgreSQL errors a race between two writers ends in: a deadlock, a serialization failure.
RACE_STATES = frozenset({"40P01", "40001"})


@dataclass(frozen=True)
class Prepared:
    """A file ready to be stored: its rows without their ids (see the module docstring)."""

    name: str
    sha256: str
    failed: str = ""  # why the file could not be read (then nothing else is set)
    agency: str | None = None  # as the title prints it
    agency_key: str | None = None
    year: int | None = None
    format: str = ""
    extractor: str = ""
    size: int = 0
    record: bytes = b""  # the record's JSON, zlib-packed
    blob: bytes | None = None  # the original file (None: not kept)
    packed: bool = False  # whether ``blob`` is zlib-packed
    cells: tuple[Row, ...] = ()  # (path, value, is_int, state, location)
    sections: tuple[Row, ...] = ()  # (number, title, heading, text)
    findings: tuple[Row, ...] = ()  # (origin, rule, severity, message, cells, location, fingerprint)


def prepare(report: Report, data: bytes | None = None, findings: Sequence[Finding] | None = None) -> Prepared:
    """A parsed file's rows; ``findings`` are the per-report check's (the record's own reading
    findings when None). A file that could not be read is prepared as failed."""
    name, sha = report.source.path, report.source.sha256
    if report.errors:
        return Prepared(name, sha, failed="；".join(f"{e.rule} {e.message}" for e in report.errors))
    packed, blob = pack_file(data) if data is not None else (False, None)
    chosen = report.findings if findings is None else findings
    locations = {path: _location_json(location) for path, location in report.locations.items()}
    return Prepared(
        name,
        sha,
        agency=report.agency,
        agency_key=agency_key(report.agency) if report.agency else None,
        year=report.year,
        format=report.source.format,
        extractor=report.source.extractor,
        size=len(data) if data is not None else 0,
        record=zlib.compress(record_json(report, locations).encode("utf-8"), PACK_LEVEL),
        blob=blob,
        packed=packed,
        cells=cell_rows(report, locations),
        sections=tuple((x.number, x.title, x.heading, x.text) for x in report.sections),
        findings=finding_rows(chosen, "report"),
    )


def record_json(report: Report, locations: dict[str, str]) -> str:
    """The record's JSON (``_json(report.to_dict())`` but for the order of its keys), its
    locations written from their JSON already made for the cells: they are most of the record
    and, through the encoder, most of the time it takes."""
    record = report.to_dict()
    del record["locations"]
    pairs = ",".join([f"{_string(path)}:{text}" for path, text in locations.items()])
    return f'{_json(record)[:-1]},"locations":{{{pairs}}}}}'


def pack_file(data: bytes) -> tuple[bool, bytes]:
    """(packed?, bytes) of an original file as stored: zlib-packed when that makes it smaller."""
    if data.startswith(ZIP):
        return False, data
    packed = zlib.compress(data, PACK_LEVEL)
    return (True, packed) if len(packed) < len(data) else (False, data)


def cell_rows(report: Report, locations: dict[str, str]) -> tuple[Row, ...]:
    """(path, value, is_int, state, location JSON) for each cell of the three tables."""
    unknown = {p for f in report.findings if f.rule in UNKNOWN_RULES for p in f.cells}
    return tuple(
        (
            path,
            value,
            not isinstance(value, float),
            "value" if value is not None else "unknown" if path in unknown else "blank",
            locations.get(path, "{}"),
        )
        for path, value in report.flat().items()
    )


def finding_rows(findings: Iterable[Finding], origin: str) -> tuple[Row, ...]:
    return tuple(
        (origin, f.rule, f.severity, f.message, _json(list(f.cells)), _json(f.location), f.fingerprint)
        for f in findings
    )


@dataclass(frozen=True)
class _Stored:
    """Where a file's bytes are stored: its version, report and title agency."""

    version_id: int
    report_id: int
    agency: str | None


@dataclass(frozen=True)
class _NewReport:
    """The report a new file is a version of."""

    identity: str
    report_id: int
    status: str  # ADDED or NEW_VERSION


class Writer:
    """Writes prepared files on one DBAPI connection of ``engine``; close it when done."""

    def __init__(self, engine: Engine) -> None:
        self._pooled = engine.raw_connection()
        self._db: Any = self._pooled.driver_connection
        self._sqlite = engine.dialect.name == "sqlite"
        self._pg = engine.dialect.name == "postgresql"
        self._copy = engine.dialect.driver == "psycopg"
        self._dbapi: Any = engine.dialect.loaded_dbapi
        self._agencies: dict[str, int] = {}  # agency key -> id, for this writer's life
        self._column_types: dict[str, dict[str, str]] = {}  # table -> column -> type (binary COPY)

    def close(self) -> None:
        self._pooled.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, files: Sequence[Prepared]) -> list[ImportOutcome]:
        """Store ``files`` in one transaction; their outcomes, in order. Another writer's race
        (see the module docstring): the files again, one a transaction, each retried once."""
        try:
            return self._transaction(files)
        except self._dbapi.Error as exc:
            if not self._lost_race(exc):
                raise
        if len(files) == 1:
            return self._transaction(files)
        return [outcome for f in files for outcome in self.write([f])]

    def _lost_race(self, exc: Exception) -> bool:
        return isinstance(exc, self._dbapi.IntegrityError) or getattr(exc, "sqlstate", None) in RACE_STATES

    def _transaction(self, files: Sequence[Prepared]) -> list[ImportOutcome]:
        cursor = self._db.cursor()
        try:
            if self._sqlite:  # the write lock first: see store._sqlite_begin
                cursor.execute("BEGIN IMMEDIATE")
            outcomes = self._write(cursor, files)
            self._db.commit()
            return outcomes
        except BaseException:
            self._db.rollback()
            self._agencies.clear()  # ids made in the rolled-back transaction are gone
            raise
        finally:
            cursor.close()

    def _write(self, cursor: Any, files: Sequence[Prepared]) -> list[ImportOutcome]:
        readable = [f for f in files if not f.failed]
        stored = self._stored(cursor, [f.sha256 for f in readable])
        fresh: dict[str, Prepared] = {}  # the first of the files with bytes not yet stored
        for f in readable:
            if f.sha256 not in stored:
                fresh.setdefault(f.sha256, f)
        written = self._insert(cursor, list(fresh.values()))
        outcomes = []
        for f in files:
            if f.failed:
                outcomes.append(ImportOutcome(FAILED, f.name, f.sha256, reason=f.failed))
            elif f.sha256 in stored:  # also a second file with the same bytes as one just written
                held = stored[f.sha256]
                outcomes.append(
                    ImportOutcome(UNCHANGED, f.name, f.sha256, held.report_id, held.version_id, held.agency, f.year)
                )
            else:
                new, version_id = written[f.sha256]
                stored[f.sha256] = _Stored(version_id, new.report_id, f.agency)
                outcomes.append(
                    ImportOutcome(new.status, f.name, f.sha256, new.report_id, version_id, f.agency, f.year)
                )
        return outcomes

    # --- the statements -------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql if self._sqlite else sql.replace("?", "%s")

    def _in(self, cursor: Any, sql: str, keys: Sequence[Any], params: Row = ()) -> list[Row]:
        """``sql`` with its ``IN ({})`` holding ``keys`` (after ``params``); the rows it selects."""
        if not keys:
            return []
        cursor.execute(self._sql(sql.format(", ".join("?" * len(keys)))), (*params, *keys))
        return list(cursor.fetchall()) if cursor.description is not None else []

    def _stored(self, cursor: Any, shas: Sequence[str]) -> dict[str, _Stored]:
        sql = "SELECT sha256, id, report_id, title_agency FROM versions WHERE sha256 IN ({})"
        return {r[0]: _Stored(r[1], r[2], r[3]) for r in self._in(cursor, sql, list(dict.fromkeys(shas)))}

    def _insert(self, cursor: Any, files: list[Prepared]) -> dict[str, tuple[_NewReport, int]]:
        """Store new files (reports, blobs, versions, cells, sections, findings): by sha256, each
        one's report and version id."""
        if not files:
            return {}
        reports = self._reports(cursor, files)
        self._blobs(cursor, files)
        version_ids = self._versions(cursor, files, reports)
        self._contents(cursor, files, version_ids)
        return {f.sha256: (r, v) for f, r, v in zip(files, reports, version_ids, strict=True)}

    def _reports(self, cursor: Any, files: list[Prepared]) -> list[_NewReport]:
        """Each file's report: found, or made; earlier versions of a found report made inactive."""
        agency_ids = self._agency_ids(cursor, files)
        identities = [
            f"{agency_id}:{f.year}" if agency_id is not None and f.year else f"file:{f.sha256}"
            for f, agency_id in zip(files, agency_ids, strict=True)
        ]
        found: dict[str, int] = dict(
            self._in(cursor, "SELECT identity, id FROM reports WHERE identity IN ({})", identities)
        )
        if found:
            self._in(cursor, "UPDATE versions SET active = ? WHERE report_id IN ({})", list(found.values()), (False,))
        made: dict[str, int] = {}
        missing = list(dict.fromkeys(i for i in identities if i not in found))
        if missing:
            ids = self._new_ids(cursor, "reports", len(missing))
            rows = []
            for identity, new_id in zip(missing, ids, strict=True):
                index = identities.index(identity)
                rows.append((new_id, identity, agency_ids[index], files[index].year))
                made[identity] = new_id
            self._rows(cursor, "reports", ("id", "identity", "agency_id", "year"), rows)
        out = []
        seen: set[str] = set()
        for identity in identities:
            status = NEW_VERSION if identity in found or identity in seen else ADDED
            seen.add(identity)
            out.append(_NewReport(identity, found.get(identity) or made[identity], status))
        return out

    def _agency_ids(self, cursor: Any, files: list[Prepared]) -> list[int | None]:
        """The agency each file's title names (by key, then by alias key); made from the name the
        first of them prints when none is. Three statements for a batch's agencies not yet met."""
        wanted: dict[str, str] = {}
        for f in files:
            if f.agency and f.agency_key and f.agency_key not in self._agencies:
                wanted.setdefault(f.agency_key, f.agency)
        if wanted:
            found: dict[str, int] = dict(
                self._in(cursor, "SELECT key, id FROM agencies WHERE key IN ({})", list(wanted))
            )
            aliased = [k for k in wanted if k not in found]
            found |= dict(self._in(cursor, "SELECT key, agency_id FROM agency_aliases WHERE key IN ({})", aliased))
            missing = [k for k in wanted if k not in found]
            ids = self._new_ids(cursor, "agencies", len(missing)) if missing else []
            rows = [(i, wanted[k], k, False) for k, i in zip(missing, ids, strict=True)]
            self._rows(cursor, "agencies", ("id", "name", "key", "listed"), rows)
            self._agencies |= found | dict(zip(missing, ids, strict=True))
        return [self._agencies[f.agency_key] if f.agency and f.agency_key else None for f in files]

    def _new_ids(self, cursor: Any, table: str, n: int) -> list[int]:
        """``n`` new ids of ``table``, increasing (a report's newest version has the highest id).
        PostgreSQL hands them out from the table's sequence in one statement; SQLite, holding the
        write lock, counts on from the highest."""
        if self._pg:
            cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", (n,))
            return sorted(int(r[0]) for r in cursor.fetchall())
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        top = int(cursor.fetchone()[0])
        return list(range(top + 1, top + 1 + n))

    def _blobs(self, cursor: Any, files: list[Prepared]) -> None:
        kept = [f for f in files if f.blob is not None]
        held = {
            r[0] for r in self._in(cursor, "SELECT sha256 FROM blobs WHERE sha256 IN ({})", [f.sha256 for f in kept])
        }
        rows = [(f.sha256, f.size, f.packed, f.blob) for f in kept if f.sha256 not in held]
        self._rows(cursor, "blobs", ("sha256", "size", "compressed", "data"), rows)

    def _versions(self, cursor: Any, files: list[Prepared], reports: list[_NewReport]) -> list[int]:
        """The files' versions, each report's last one active; their ids."""
        ids = self._new_ids(cursor, "versions", len(files))
        last = {r.identity: i for i, r in enumerate(reports)}
        now = m.utcnow()
        at: Any = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self._sqlite else now
        rows = [
            (
                vid,
                r.report_id,
                f.sha256,
                f.name,
                f.format,
                f.size,
                at,
                f.extractor,
                f.agency,
                f.record,
                last[r.identity] == i,
            )
            for i, (f, r, vid) in enumerate(zip(files, reports, ids, strict=True))
        ]
        columns = (
            "id",
            "report_id",
            "sha256",
            "file_name",
            "format",
            "size",
            "imported_at",
            "extractor",
            "title_agency",
            "record",
            "active",
        )
        self._rows(cursor, "versions", columns, rows)
        return ids

    def _contents(self, cursor: Any, files: list[Prepared], version_ids: list[int]) -> None:
        """The versions' cells, sections and findings."""
        pairs = list(zip(version_ids, files, strict=True))
        columns: tuple[str, ...] = ("path", "value", "is_int", "state", "location")
        self._owned(cursor, "cells", columns, [(v, f.cells) for v, f in pairs])
        columns = ("number", "title", "heading", "text")
        self._owned(cursor, "sections", columns, [(v, f.sections) for v, f in pairs])
        columns = ("origin", "rule", "severity", "message", "cells", "location", "fingerprint")
        self._owned(cursor, "findings", columns, [(v, f.findings) for v, f in pairs])

    def _owned(self, cursor: Any, table: str, columns: Sequence[str], owned: list[tuple[int, tuple[Row, ...]]]) -> None:
        """Rows of ``table`` owned by versions ((version id, rows) pairs). COPY takes them in one
        stream; SQLite, one statement a version with its id written in, runs the rows as they came
        from the worker (building a tuple with the id for each of a batch's ten thousand cells cost
        as much as inserting them)."""
        if not any(rows for _, rows in owned):
            return
        if self._copy:
            stream = ((version_id, *row) for version_id, rows in owned for row in rows)
            self._copy_in(cursor, table, ("version_id", *columns), stream)
            return
        names, marks = ", ".join(columns), ", ".join("?" * len(columns))
        for version_id, rows in owned:
            if rows:
                sql = f"INSERT INTO {table} (version_id, {names}) VALUES ({int(version_id)}, {marks})"
                cursor.executemany(self._sql(sql), rows)

    def _rows(self, cursor: Any, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        """Insert rows: psycopg by COPY (one stream), others by one statement run once a row."""
        if not rows:
            return
        if self._copy:
            self._copy_in(cursor, table, columns, rows)
            return
        names, marks = ", ".join(columns), ", ".join("?" * len(columns))
        cursor.executemany(self._sql(f"INSERT INTO {table} ({names}) VALUES ({marks})"), rows)

    def _copy_in(self, cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
        """PostgreSQL's binary COPY: no text to write for each value and parse again in the server
        (the files' bytes, a third of what is written, would travel as hexadecimal)."""
        types = self._types(cursor, table, columns)
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _types(self, cursor: Any, table: str, columns: Sequence[str]) -> list[str]:
        """The columns' types, as binary COPY must be told them (from the catalogue, once a table)."""
        if table not in self._column_types:
            cursor.execute(
                "SELECT attname, atttypid::regtype::text FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                (table,),
            )
            self._column_types[table] = dict(cursor.fetchall())
        return [self._column_types[table][c] for c in columns]
