"""The store: every report, every version, every finding and every review decision, in a database.

Open it with ``Store(url)`` (or ``open_store(url)``): ``url`` is an SQLAlchemy URL
(``sqlite:///nianbao.db``, ``postgresql+psycopg://user@host/db``) or a plain file path (an SQLite
file); without one, ``NIANBAO_DB``, else ``nianbao.db`` in the current folder. Opening runs the
Alembic migrations shipped in ``store/migrations`` (the schema is always the latest).

Every method opens and commits its own transaction and returns plain frozen dataclasses (never
ORM objects), so callers (the CLI, the web app, the batch runner) hold no session.

Import (whole files a transaction, so a killed import leaves whole reports only):
  ``add(report, data, findings) -> ImportOutcome``  status 新增 / 未变化 / 新版本 / 失败
  ``writer() -> store.write.Writer`` (``write(prepared files)``: many files a transaction)
  ``has_version(sha256) -> bool``; ``known(sha256)``, ``known_many(shas)`` (未变化 outcomes)

Reading:
  ``reports(agency_id=, year=, region=, limit=, offset=) -> list[ReportRow]`` (active versions)
  ``report_row(report_id) -> ReportRow | None``; ``versions(report_id) -> list[VersionRow]``
  ``record(version_id | sha256) -> Report``; ``original(sha256) -> bytes | None`` (the file's bytes)
  ``cells(version_id) -> dict[path, StoredCell]``; ``sections(version_id) -> list[SectionText]``
  ``iter_active(with_record=True) -> Iterator[ActiveReport]`` (each active version with its
  agency, region, level and year; its record when asked)
  ``iter_flat() -> Iterator[FlatReport]`` (each active version as a flat {cell path: value} map,
  with the abstained cells: what metrics, compare and exports read)
  ``group(kind, aggregates=, parts=) -> Iterator[list[ActiveReport]]`` (the groups a collection
  rule declares: ``agency``, ``year``, ``aggregate``, ``report``; see rules.base.GROUPINGS)
  ``counts() -> dict[str, int]``

Findings and review decisions (kept per report and fingerprint, across re-imports and re-checks):
  ``replace_findings(version_id, findings, origin)``; ``clear_findings(origin, keep=)``
  ``findings(report_id=, status=, rule=, severity=, active_only=True, region=) -> list[FindingRow]``
  ``set_review(report_id, fingerprint, status, who, comment) -> ReviewRow``
  ``review(report_id, fingerprint) -> ReviewRow``; ``review_log(report_id=) -> list[ReviewChange]``

Agencies:
  ``import_agencies(rows) -> AgencyImport`` (rows of 名称, 上级, 级别, 行政区划代码, 别名)
  ``agencies() -> list[AgencyRow]``; ``agency_by_name(name) -> AgencyRow | None``
  ``unmatched() -> list[Unmatched]`` (titles matching no listed agency, with closest candidates)

Users and audit (for the web app):
  ``add_user(name, password, role, region_scope=None) -> UserRow``; ``users() -> list[UserRow]``
  ``verify_user(name, password) -> UserRow | None``; ``set_password(name, password)``
  ``set_role(name, role, region_scope)``; ``set_active(name, active)``
  ``audit(who, action, target="", detail=None)``; ``audit_log(limit=100) -> list[AuditRow]``
"""

from __future__ import annotations

import dataclasses
import fnmatch
import itertools
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, create_engine, delete, event, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from nianbao.agencies import agency_key, closest, split_aliases
from nianbao.record import Finding, Number, Report, SectionText, Source
from nianbao.store import models as m
from nianbao.store.models import CONFIRMED, DISMISSED, PENDING, ROLES, STATUSES

if TYPE_CHECKING:
    from nianbao.store.write import Writer

__all__ = [
    "ADDED",
    "CONFIRMED",
    "DEFAULT_URL",
    "DISMISSED",
    "FAILED",
    "NEW_VERSION",
    "PENDING",
    "ROLES",
    "STATUSES",
    "UNCHANGED",
    "ActiveReport",
    "AgencyImport",
    "AgencyRow",
    "FindingRow",
    "FlatReport",
    "ImportOutcome",
    "ReportRow",
    "Store",
    "StoreError",
    "open_store",
    "resolve_url",
]

DEFAULT_URL = "sqlite:///nianbao.db"
ADDED, UNCHANGED, NEW_VERSION, FAILED = "新增", "未变化", "新版本", "失败"
MIGRATIONS = Path(__file__).parent / "migrations"
UNKNOWN_RULES = ("RD06", "RD07")  # reading findings whose cells are abstained from


class StoreError(Exception):
    """A store operation refused (unknown user, bad status…); the message is for the user."""


def resolve_url(url: str | None = None) -> str:
    """The database URL: ``url``, else ``NIANBAO_DB``, else ``nianbao.db`` here; a path is an SQLite file."""
    url = url or os.environ.get("NIANBAO_DB") or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


# The newest migration's revision. A database already there is opened without loading Alembic
# (half a second of imports and script parsing on every command); a test keeps this equal to the
# head of store/migrations.
SCHEMA_HEAD = "0002"


def migrate(engine: Engine) -> None:
    """Bring the database to the latest schema (Alembic, programmatically)."""
    if _schema_revision(engine) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def active_versions(columns: Iterable[Any]) -> Any:
    """``columns`` of each report's active version, with its report and agency (outer joined:
    a report whose title named no agency has none). Order by ``ACTIVE_ORDER`` for ``iter_active``'s."""
    return (
        select(*columns)
        .select_from(m.StoredReport)
        .join(m.Version, and_(m.Version.report_id == m.StoredReport.id, m.Version.active.is_(True)))
        .outerjoin(m.Agency, m.Agency.id == m.StoredReport.agency_id)
    )


# The order active versions are handed out in (iter_active, group, the SQL statistics' rows).
ACTIVE_ORDER = (m.Agency.key, m.StoredReport.year, m.Version.sha256)


def _schema_revision(engine: Engine) -> str | None:
    """The revision Alembic last recorded in the database; None for a new or foreign database."""
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except SQLAlchemyError:
        return None


# --- rows handed out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOutcome:
    status: str  # ADDED, UNCHANGED, NEW_VERSION, FAILED
    name: str  # the file name as given
    sha256: str
    report_id: int | None = None
    version_id: int | None = None
    agency: str | None = None
    year: int | None = None
    reason: str = ""  # for FAILED: the RD code and message


@dataclass(frozen=True)
class AgencyRow:
    id: int
    name: str
    key: str
    region_code: str | None
    parent_id: int | None
    level: str | None
    listed: bool
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgencyImport:
    added: int
    updated: int
    merged: int  # agencies created from titles, now matched to a listed agency
    unknown_parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unmatched:
    title: str  # the agency as report titles print it
    reports: int
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class ReportRow:
    id: int
    agency_id: int | None
    agency: str | None
    region_code: str | None
    level: str | None
    year: int | None
    version_id: int
    sha256: str
    file_name: str
    format: str
    versions: int


@dataclass(frozen=True)
class VersionRow:
    id: int
    report_id: int
    sha256: str
    file_name: str
    format: str
    size: int
    imported_at: str
    extractor: str
    active: bool


@dataclass(frozen=True)
class StoredCell:
    path: str
    value: Number
    state: str  # value, blank, unknown
    location: dict[str, Any]


@dataclass(frozen=True)
class ActiveReport:
    """An active version with its agency's place; ``record`` is None unless asked for."""

    report_id: int
    version_id: int
    sha256: str
    file_name: str
    agency_id: int | None
    agency: str | None  # the canonical name (the title's when no list matched it)
    region_code: str | None
    level: str | None
    year: int | None
    record: Report | None = None  # as read: the agency its title prints

    def stored(self) -> Report | None:
        """The record under its agency's name in the store: the agency list's when the title
        matched a name or alias of it or was merged into it. Collection rules, compare and the
        exports group a unit's years by it; the per-report rules read the record as printed."""
        if self.record is None or self.agency is None or self.record.agency == self.agency:
            return self.record
        return dataclasses.replace(self.record, agency=self.agency)


@dataclass(frozen=True)
class FlatReport:
    report_id: int
    version_id: int
    agency_id: int | None
    agency: str | None
    region_code: str | None
    level: str | None
    year: int | None
    values: dict[str, Number]
    unknown: frozenset[str]  # cells the reader abstained from (value None, not a blank)


@dataclass(frozen=True)
class FindingRow:
    id: int
    report_id: int
    version_id: int
    file_name: str
    agency: str | None
    year: int | None
    origin: str
    rule: str
    severity: str
    message: str
    cells: tuple[str, ...]
    location: dict[str, Any]
    fingerprint: str
    status: str
    comment: str
    who: str

    def finding(self) -> Finding:
        return Finding(self.rule, self.severity, self.message, self.cells, self.location)


@dataclass(frozen=True)
class ReviewRow:
    report_id: int
    fingerprint: str
    status: str
    comment: str
    who: str
    at: str | None


@dataclass(frozen=True)
class ReviewChange:
    report_id: int
    fingerprint: str
    old_status: str
    new_status: str
    comment: str
    who: str
    at: str


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    role: str
    region_scope: str | None
    active: bool


@dataclass(frozen=True)
class AuditRow:
    at: str
    who: str
    action: str
    target: str
    detail: dict[str, Any]


def unpack(data: bytes) -> bytes:
    """A record's JSON or an original file as stored zlib-packed (see store.write.pack_file)."""
    return zlib.decompress(data)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: object) -> str:
    return _ENCODER.encode(value)


def _iso(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""


# --- the store -------------------------------------------------------------------------------------


class Store:
    """A database of reports; see the module docstring for its operations."""

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = resolve_url(url)
        self.engine = create_engine(self.url, echo=echo, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            session.connection(execution_options={"sqlite_immediate": True})  # a writer: see _sqlite_begin
            yield session

    # --- import ---------------------------------------------------------------------------------

    def has_version(self, sha256: str) -> bool:
        with self._sessions() as s:
            return s.scalar(select(m.Version.id).where(m.Version.sha256 == sha256)) is not None

    def known(self, sha256: str, name: str = "") -> ImportOutcome | None:
        """未变化 with where the file is stored, when a file with these bytes is; None otherwise."""
        sql = (
            "SELECT v.id, v.report_id, v.title_agency, r.year FROM versions v JOIN reports r ON r.id = v.report_id "
            "WHERE v.sha256 = ?"
        )
        with self.engine.connect() as c:
            row = _raw(c, sql, (sha256,)).first()
        if row is None:
            return None
        return ImportOutcome(UNCHANGED, name, sha256, row[1], row[0], row[2], row[3])

    def known_many(self, shas: Iterable[str]) -> dict[str, ImportOutcome]:
        """``known`` for many files at once (one query per 500): by sha256, 未变化 without a name."""
        out: dict[str, ImportOutcome] = {}
        with self.engine.connect() as c:
            for chunk in _batched(dict.fromkeys(shas), 500):
                sql = (
                    "SELECT v.sha256, v.id, v.report_id, v.title_agency, r.year FROM versions v "
                    f"JOIN reports r ON r.id = v.report_id WHERE v.sha256 IN ({', '.join('?' * len(chunk))})"
                )
                for sha, vid, rid, agency, year in _raw(c, sql, tuple(chunk)):
                    out[sha] = ImportOutcome(UNCHANGED, "", sha, rid, vid, agency, year)
        return out

    def add(
        self, report: Report, data: bytes | None = None, findings: Sequence[Finding] | None = None
    ) -> ImportOutcome:
        """Store one parsed file in one transaction: its bytes, its version (active), its cells,
        sections and ``findings`` (the per-report check; the record's own reading findings when
        None). A file already stored is 未变化; a file that could not be read is 失败 and not stored.
        Many files: ``writer()`` and ``store.write.prepare`` (what ``service.import_paths`` does).

        Two writers adding the same agency, report or file at once (the web app beside an import):
        the one that loses the race to a unique key tries again once, and finds the other's rows."""
        from nianbao.store.write import prepare

        with self.writer() as writer:
            [outcome] = writer.write([prepare(report, data, findings)])
        return outcome

    def writer(self) -> Writer:
        """A writer of prepared files, several a transaction (see ``store.write``); close it after."""
        from nianbao.store.write import Writer

        return Writer(self.engine)

    # --- reading --------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows per table (agencies, reports, versions, cells, sections, blobs, findings, reviews)."""
        tables = {
            "agencies": m.Agency,
            "reports": m.StoredReport,
            "versions": m.Version,
            "cells": m.Cell,
            "sections": m.Section,
            "blobs": m.Blob,
            "findings": m.StoredFinding,
            "reviews": m.Review,
        }
        with self._sessions() as s:
            return {name: s.scalar(select(func.count()).select_from(model)) or 0 for name, model in tables.items()}

    def _active_query(self) -> Any:
        return active_versions(
            (
                m.StoredReport.id,
                m.Version.id,
                m.Version.sha256,
                m.Version.file_name,
                m.Version.format,
                m.Agency.id,
                m.Agency.name,
                m.Agency.region_code,
                m.Agency.level,
                m.StoredReport.year,
            )
        )

    def reports(
        self,
        agency_id: int | None = None,
        year: int | None = None,
        region: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ReportRow]:
        """Reports with their active version, by agency name then year; ``region`` is a code prefix."""
        q = self._active_query()
        if agency_id is not None:
            q = q.where(m.StoredReport.agency_id == agency_id)
        if year is not None:
            q = q.where(m.StoredReport.year == year)
        if region:
            q = q.where(m.Agency.region_code.startswith(region))
        q = q.order_by(m.Agency.name, m.StoredReport.year, m.StoredReport.id).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        with self._sessions() as s:
            rows = s.execute(q).all()
            counts = dict(
                s.execute(
                    select(m.Version.report_id, func.count())
                    .where(m.Version.report_id.in_([r[0] for r in rows]))
                    .group_by(m.Version.report_id)
                ).all()
            )
        return [
            ReportRow(r[0], r[5], r[6], r[7], r[8], r[9], r[1], r[2], r[3], r[4], counts.get(r[0], 1)) for r in rows
        ]

    def report_row(self, report_id: int) -> ReportRow | None:
        q = self._active_query().where(m.StoredReport.id == report_id)
        with self._sessions() as s:
            r = s.execute(q).first()
            if r is None:
                return None
            n = s.scalar(select(func.count()).where(m.Version.report_id == report_id)) or 0
        return ReportRow(r[0], r[5], r[6], r[7], r[8], r[9], r[1], r[2], r[3], r[4], n)

    def versions(self, report_id: int) -> list[VersionRow]:
        """A report's versions, newest first."""
        with self._sessions() as s:
            rows = s.scalars(
                select(m.Version).where(m.Version.report_id == report_id).order_by(m.Version.id.desc())
            ).all()
            return [
                VersionRow(
                    v.id,
                    v.report_id,
                    v.sha256,
                    v.file_name,
                    v.format,
                    v.size,
                    _iso(v.imported_at),
                    v.extractor,
                    v.active,
                )
                for v in rows
            ]

    def record(self, version: int | str) -> Report:
        """The stored record of a version (by id, or by the file's sha256)."""
        where = m.Version.id == version if isinstance(version, int) else m.Version.sha256 == version
        with self._sessions() as s:
            packed = s.scalar(select(m.Version.record).where(where))
        if packed is None:
            raise StoreError(f"没有这个版本：{version}")
        return Report.from_dict(json.loads(unpack(packed)))

    def original(self, sha256: str) -> bytes | None:
        """The original file's bytes."""
        with self._sessions() as s:
            row = s.execute(select(m.Blob.data, m.Blob.compressed).where(m.Blob.sha256 == sha256)).first()
        if row is None:
            return None
        return unpack(row[0]) if row[1] else bytes(row[0])

    def cells(self, version_id: int) -> dict[str, StoredCell]:
        with self._sessions() as s:
            rows = s.execute(select(m.Cell).where(m.Cell.version_id == version_id)).scalars().all()
            return {c.path: _stored_cell(c.path, c.value, c.is_int, c.state, c.location) for c in rows}

    def sections(self, version_id: int) -> list[SectionText]:
        with self._sessions() as s:
            rows = s.scalars(select(m.Section).where(m.Section.version_id == version_id).order_by(m.Section.id)).all()
            return [SectionText(x.number, x.title, x.text, x.heading) for x in rows]

    def iter_active(self, with_record: bool = True, batch: int = 200) -> Iterator[ActiveReport]:
        """Each active version (ordered by agency key, year, file) with its agency's place; its
        record when ``with_record``. Streams: one batch in memory at a time."""
        q = self._active_query().order_by(*ACTIVE_ORDER)
        with self._sessions() as s:
            rows = s.execute(q.execution_options(yield_per=batch))
            for part in rows.partitions(batch):
                yield from self._active_rows(part, with_record)

    def _active_rows(self, rows: Sequence[Any], with_record: bool, parts: Iterable[str] = ()) -> list[ActiveReport]:
        records: dict[int, Report] = {}
        if with_record:
            records = self._records([r[1] for r in rows], set(parts))
        return [ActiveReport(r[0], r[1], r[2], r[3], r[5], r[6], r[7], r[8], r[9], records.get(r[1])) for r in rows]

    def _groups_of_rows(self, groups: list[list[Any]], parts: Iterable[str]) -> Iterator[list[ActiveReport]]:
        """Groups of active-version rows as ActiveReports, their records read in one go."""
        rows = [r for g in groups for r in g]
        reports = {a.version_id: a for a in self._active_rows(rows, True, parts)}
        for g in groups:
            yield [reports[r[1]] for r in g]

    def _records(self, version_ids: list[int], parts: set[str]) -> dict[int, Report]:
        """Records of versions: whole, or (``parts`` == {"sections"}) just their sections and meta,
        read from the sections table without the record's JSON."""
        out: dict[int, Report] = {}
        with self._sessions() as s:
            if parts and parts <= {"sections"}:
                heads = s.execute(
                    select(
                        m.Version.id,
                        m.Version.file_name,
                        m.Version.format,
                        m.Version.sha256,
                        m.Version.extractor,
                        m.Version.title_agency,
                        m.StoredReport.year,
                    )
                    .join(m.StoredReport, m.StoredReport.id == m.Version.report_id)
                    .where(m.Version.id.in_(version_ids))
                ).all()
                texts: dict[int, list[SectionText]] = {}
                for vid, number, title, text, heading in s.execute(
                    select(m.Section.version_id, m.Section.number, m.Section.title, m.Section.text, m.Section.heading)
                    .where(m.Section.version_id.in_(version_ids))
                    .order_by(m.Section.id)
                ):
                    texts.setdefault(vid, []).append(SectionText(number, title, text, heading))
                for vid, name, fmt, sha, extractor, agency, year in heads:
                    source = Source(name, fmt, sha, None, extractor)
                    out[vid] = Report(source, agency, year, sections=tuple(texts.get(vid, ())))
                return out
            for vid, packed in s.execute(select(m.Version.id, m.Version.record).where(m.Version.id.in_(version_ids))):
                out[vid] = Report.from_dict(json.loads(unpack(packed)))
        return out

    def iter_flat(self, batch: int = 500) -> Iterator[FlatReport]:
        """Each active version as a flat {cell path: value} map with its agency's place and the
        cells abstained from; read from the cells table (no record JSON), one batch at a time."""
        for part in _batched(self.iter_active(with_record=False, batch=batch), batch):
            ids = [a.version_id for a in part]
            values: dict[int, dict[str, Number]] = {i: {} for i in ids}
            unknown: dict[int, set[str]] = {i: set() for i in ids}
            with self._sessions() as s:
                rows = s.execute(
                    select(m.Cell.version_id, m.Cell.path, m.Cell.value, m.Cell.is_int, m.Cell.state).where(
                        m.Cell.version_id.in_(ids)
                    )
                )
                for vid, path, value, is_int, state in rows:
                    values[vid][path] = _number(value, is_int)
                    if state == "unknown":
                        unknown[vid].add(path)
            for a in part:
                yield FlatReport(
                    a.report_id,
                    a.version_id,
                    a.agency_id,
                    a.agency,
                    a.region_code,
                    a.level,
                    a.year,
                    values[a.version_id],
                    frozenset(unknown[a.version_id]),
                )

    def group(
        self,
        kind: str,
        aggregates: tuple[tuple[str, tuple[str, ...]], ...] = (),
        parts: Iterable[str] = (),
    ) -> Iterator[list[ActiveReport]]:
        """The groups of one kind (rules.base.GROUPINGS) among active versions, each with its
        records (only their sections when ``parts`` is ("sections",)); one group in memory at a time.
        Versions whose agency or year is unknown are in ``report`` groups only."""
        parts = set(parts)
        base = self._active_query().order_by(*ACTIVE_ORDER)
        if kind == "report":
            for part in _batched(self.iter_active(with_record=False), 200):
                records = self._records([a.version_id for a in part], parts)
                for a in part:
                    yield [dataclasses.replace(a, record=records[a.version_id])]
            return
        known = base.where(m.StoredReport.agency_id.is_not(None), m.StoredReport.year.is_not(None))
        if kind in ("agency", "year"):
            # One query for every active version's heading (ids and names, not records), split into
            # groups in order; records are then read for a few groups at a time.
            if kind == "year":
                known = known.order_by(None).order_by(m.StoredReport.year, m.Agency.key, m.Version.sha256)
            with self._sessions() as s:
                heads = s.execute(known).all()
            column = 5 if kind == "agency" else 9
            groups = [list(g) for _, g in itertools.groupby(heads, key=lambda r: r[column])]
            for chunk in _batched_groups(groups, 200):
                yield from self._groups_of_rows(chunk, parts)
            return
        with self._sessions() as s:
            if kind == "aggregate":
                wheres = []
                agencies = s.execute(select(m.Agency.id, m.Agency.key)).all()
                for name, patterns in aggregates:
                    total = [i for i, k in agencies if k == agency_key(name)]
                    members = [i for i, k in agencies if any(fnmatch.fnmatch(k, agency_key(p)) for p in patterns)]
                    if total and members:
                        wheres.append(m.StoredReport.agency_id.in_(sorted(set(total + members))))
            else:
                raise StoreError(f"未知的分组：{kind}")
        for where in wheres:
            with self._sessions() as s:
                rows = s.execute(known.where(where)).all()
            yield self._active_rows(rows, True, parts)

    # --- findings and reviews -------------------------------------------------------------------

    def replace_findings(self, version_id: int, findings: Sequence[Finding], origin: str = "report") -> None:
        """The findings of one origin (``report`` or ``collection``) of a version, replaced."""
        with self._tx() as s:
            s.execute(
                delete(m.StoredFinding).where(
                    m.StoredFinding.version_id == version_id, m.StoredFinding.origin == origin
                )
            )
            _insert_findings(s, version_id, list(findings), origin)

    def replace_many(self, found: Mapping[int, Sequence[Finding]], origin: str) -> None:
        """``replace_findings`` for many versions in one transaction; versions not in ``found`` keep theirs."""
        with self._tx() as s:
            for chunk in _batched(list(found), 500):
                s.execute(
                    delete(m.StoredFinding).where(
                        m.StoredFinding.version_id.in_(chunk), m.StoredFinding.origin == origin
                    )
                )
            rows = [(version_id, f) for version_id, findings in found.items() for f in findings]
            _insert_findings_of(s, rows, origin)

    def clear_findings(self, origin: str, keep: Iterable[int] = ()) -> None:
        """Drop every finding of ``origin`` except those of versions in ``keep``."""
        keep = set(keep)
        with self._tx() as s:
            ids = s.scalars(select(m.StoredFinding.version_id).where(m.StoredFinding.origin == origin).distinct()).all()
            gone = [i for i in ids if i not in keep]
            for chunk in _batched(gone, 500):
                s.execute(
                    delete(m.StoredFinding).where(
                        m.StoredFinding.origin == origin, m.StoredFinding.version_id.in_(chunk)
                    )
                )

    def findings(
        self,
        report_id: int | None = None,
        status: str | None = None,
        rule: str | None = None,
        severity: str | None = None,
        active_only: bool = True,
        limit: int | None = None,
        offset: int = 0,
        region: str | None = None,
    ) -> list[FindingRow]:
        """Stored findings with their review status (待处理 when never reviewed), by file then order
        found; ``region`` keeps the agencies whose region code starts with it (a user's scope)."""
        q = (
            select(m.StoredFinding, m.Version, m.StoredReport, m.Agency.name, m.Review)
            .join(m.Version, m.Version.id == m.StoredFinding.version_id)
            .join(m.StoredReport, m.StoredReport.id == m.Version.report_id)
            .outerjoin(m.Agency, m.Agency.id == m.StoredReport.agency_id)
            .outerjoin(
                m.Review,
                and_(m.Review.report_id == m.StoredReport.id, m.Review.fingerprint == m.StoredFinding.fingerprint),
            )
        )
        if report_id is not None:
            q = q.where(m.StoredReport.id == report_id)
        if region:
            q = q.where(m.Agency.region_code.startswith(region))
        if active_only:
            q = q.where(m.Version.active.is_(True))
        if rule:
            q = q.where(m.StoredFinding.rule == rule)
        if severity:
            q = q.where(m.StoredFinding.severity == severity)
        if status == PENDING:
            q = q.where((m.Review.status.is_(None)) | (m.Review.status == PENDING))
        elif status:
            q = q.where(m.Review.status == status)
        q = q.order_by(m.Version.file_name, m.StoredFinding.id).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        with self._sessions() as s:
            return [
                FindingRow(
                    f.id,
                    r.id,
                    v.id,
                    v.file_name,
                    agency,
                    r.year,
                    f.origin,
                    f.rule,
                    f.severity,
                    f.message,
                    tuple(json.loads(f.cells)),
                    json.loads(f.location),
                    f.fingerprint,
                    review.status if review else PENDING,
                    review.comment if review else "",
                    review.who if review else "",
                )
                for f, v, r, agency, review in s.execute(q).all()
            ]

    def review(self, report_id: int, fingerprint: str) -> ReviewRow:
        with self._sessions() as s:
            r = s.scalar(select(m.Review).where(m.Review.report_id == report_id, m.Review.fingerprint == fingerprint))
            if r is None:
                return ReviewRow(report_id, fingerprint, PENDING, "", "", None)
            return ReviewRow(report_id, fingerprint, r.status, r.comment, r.who, _iso(r.at))

    def set_review(self, report_id: int, fingerprint: str, status: str, who: str, comment: str = "") -> ReviewRow:
        """Set a finding's review status (待处理 / 已确认 / 已忽略) for its report; logged."""
        if status not in STATUSES:
            raise StoreError(f"未知的审核状态：{status}（可用 {'、'.join(STATUSES)}）")
        with self._tx() as s:
            if s.get(m.StoredReport, report_id) is None:
                raise StoreError(f"没有这份报告：{report_id}")
            r = s.scalar(select(m.Review).where(m.Review.report_id == report_id, m.Review.fingerprint == fingerprint))
            old = r.status if r is not None else PENDING
            now = m.utcnow()
            if r is None:
                r = m.Review(report_id=report_id, fingerprint=fingerprint)
                s.add(r)
            r.status, r.comment, r.who, r.at = status, comment, who, now
            s.add(
                m.ReviewLog(
                    report_id=report_id,
                    fingerprint=fingerprint,
                    old_status=old,
                    new_status=status,
                    comment=comment,
                    who=who,
                    at=now,
                )
            )
        return ReviewRow(report_id, fingerprint, status, comment, who, _iso(now))

    def review_log(self, report_id: int | None = None, limit: int = 500) -> list[ReviewChange]:
        q = select(m.ReviewLog).order_by(m.ReviewLog.id.desc()).limit(limit)
        if report_id is not None:
            q = q.where(m.ReviewLog.report_id == report_id)
        with self._sessions() as s:
            return [
                ReviewChange(x.report_id, x.fingerprint, x.old_status, x.new_status, x.comment, x.who, _iso(x.at))
                for x in s.scalars(q)
            ]

    # --- agencies -------------------------------------------------------------------------------

    def agencies(self) -> list[AgencyRow]:
        with self._sessions() as s:
            aliases: dict[int, list[str]] = {}
            for agency_id, alias in s.execute(select(m.AgencyAlias.agency_id, m.AgencyAlias.alias)):
                aliases.setdefault(agency_id, []).append(alias)
            return [
                AgencyRow(
                    a.id, a.name, a.key, a.region_code, a.parent_id, a.level, a.listed, tuple(aliases.get(a.id, ()))
                )
                for a in s.scalars(select(m.Agency).order_by(m.Agency.key))
            ]

    def agency_by_name(self, name: str) -> AgencyRow | None:
        key = agency_key(name)
        return next((a for a in self.agencies() if a.key == key or key in map(agency_key, a.aliases)), None)

    def import_agencies(self, rows: Iterable[Mapping[str, str | None]]) -> AgencyImport:
        """Upsert a 名录: rows with 名称 (required), 上级, 级别, 行政区划代码, 别名. Agencies created
        from report titles that the list names (by name or alias) are merged into the listed one."""
        added = updated = merged = 0
        parents: list[tuple[int, str]] = []
        with self._tx() as s:
            for row in rows:
                name = (row.get("名称") or "").strip()
                if not name:
                    continue
                key = agency_key(name)
                agency = s.scalar(select(m.Agency).where(m.Agency.key == key))
                if agency is None:
                    agency = m.Agency(name=name, key=key, listed=True)
                    s.add(agency)
                    added += 1
                else:
                    updated += 1
                agency.name, agency.listed = name, True
                agency.level = (row.get("级别") or "").strip() or None
                agency.region_code = (row.get("行政区划代码") or "").strip() or None
                s.flush()
                for alias in split_aliases(row.get("别名")):
                    akey = agency_key(alias)
                    if akey == key:
                        continue
                    other = s.scalar(select(m.Agency).where(m.Agency.key == akey))
                    if other is not None and other.id != agency.id:
                        if other.listed:
                            continue  # a listed agency's own name is no alias of another
                        _merge_agency(s, other, agency)
                        merged += 1
                    held = s.scalar(select(m.AgencyAlias).where(m.AgencyAlias.key == akey))
                    if held is None:
                        s.add(m.AgencyAlias(agency_id=agency.id, alias=alias, key=akey))
                    else:
                        held.agency_id, held.alias = agency.id, alias
                parent = (row.get("上级") or "").strip()
                if parent:
                    parents.append((agency.id, parent))
            s.flush()
            unknown: list[str] = []
            for agency_id, parent in parents:
                found = self._agency_for_key(s, agency_key(parent))
                if found is None:
                    unknown.append(parent)
                else:
                    s.get_one(m.Agency, agency_id).parent_id = found.id
        return AgencyImport(added, updated, merged, tuple(dict.fromkeys(unknown)))

    def _agency_for_key(self, s: Session, key: str) -> m.Agency | None:
        agency = s.scalar(select(m.Agency).where(m.Agency.key == key))
        if agency is None:
            agency_id = s.scalar(select(m.AgencyAlias.agency_id).where(m.AgencyAlias.key == key))
            agency = s.get(m.Agency, agency_id) if agency_id is not None else None
        return agency

    def unmatched(self, n: int = 3) -> list[Unmatched]:
        """Agencies known only from report titles (no listed agency has that name or alias), with
        the ``n`` closest listed names."""
        with self._sessions() as s:
            listed = s.scalars(select(m.Agency.name).where(m.Agency.listed.is_(True))).all()
            listed_aliases = s.execute(
                select(m.AgencyAlias.alias, m.Agency.name).join(m.Agency, m.Agency.id == m.AgencyAlias.agency_id)
            ).all()
            rows = s.execute(
                select(m.Agency.name, func.count(m.StoredReport.id))
                .join(m.StoredReport, m.StoredReport.agency_id == m.Agency.id)
                .where(m.Agency.listed.is_(False))
                .group_by(m.Agency.id, m.Agency.name)
                .order_by(m.Agency.name)
            ).all()
        canonical = {name: name for name in listed} | dict(listed_aliases)
        out = []
        for name, count in rows:
            near = [canonical[c] for c in closest(name, list(canonical), n * 2)]
            out.append(Unmatched(name, count, tuple(dict.fromkeys(near))[:n]))
        return out

    # --- users and audit ------------------------------------------------------------------------

    def add_user(self, name: str, password: str, role: str, region_scope: str | None = None) -> UserRow:
        """A new user (role 管理员 / 审核员 / 查看者; ``region_scope`` a region code prefix)."""
        from argon2 import PasswordHasher

        if role not in ROLES:
            raise StoreError(f"未知的角色：{role}（可用 {'、'.join(ROLES)}）")
        with self._tx() as s:
            if s.scalar(select(m.User.id).where(m.User.name == name)) is not None:
                raise StoreError(f"用户已存在：{name}")
            user = m.User(
                name=name, password_hash=PasswordHasher().hash(password), role=role, region_scope=region_scope
            )
            s.add(user)
            s.flush()
            return UserRow(user.id, user.name, user.role, user.region_scope, True)

    def users(self) -> list[UserRow]:
        with self._sessions() as s:
            return [
                UserRow(u.id, u.name, u.role, u.region_scope, u.active)
                for u in s.scalars(select(m.User).order_by(m.User.name))
            ]

    def verify_user(self, name: str, password: str) -> UserRow | None:
        """The user when ``password`` is theirs and they are active; None otherwise."""
        from argon2 import PasswordHasher
        from argon2.exceptions import Argon2Error, InvalidHashError

        with self._tx() as s:
            user = s.scalar(select(m.User).where(m.User.name == name))
            if user is None or not user.active:
                return None
            hasher = PasswordHasher()
            try:
                hasher.verify(user.password_hash, password)
            except (Argon2Error, InvalidHashError):
                return None
            if hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hasher.hash(password)
            return UserRow(user.id, user.name, user.role, user.region_scope, user.active)

    def set_password(self, name: str, password: str) -> None:
        from argon2 import PasswordHasher

        with self._tx() as s:
            self._user(s, name).password_hash = PasswordHasher().hash(password)

    def set_role(self, name: str, role: str, region_scope: str | None = None) -> None:
        if role not in ROLES:
            raise StoreError(f"未知的角色：{role}（可用 {'、'.join(ROLES)}）")
        with self._tx() as s:
            user = self._user(s, name)
            user.role, user.region_scope = role, region_scope

    def set_active(self, name: str, active: bool) -> None:
        with self._tx() as s:
            self._user(s, name).active = active

    def _user(self, s: Session, name: str) -> m.User:
        user = s.scalar(select(m.User).where(m.User.name == name))
        if user is None:
            raise StoreError(f"没有这个用户：{name}")
        return user

    def audit(self, who: str, action: str, target: str = "", detail: Mapping[str, Any] | None = None) -> None:
        """Append to the audit log (who did what to which target)."""
        with self._tx() as s:
            s.add(m.Audit(who=who, action=action, target=target, detail=_json(dict(detail or {}))))

    def audit_log(self, limit: int = 100) -> list[AuditRow]:
        with self._sessions() as s:
            return [
                AuditRow(_iso(a.at), a.who, a.action, a.target, json.loads(a.detail))
                for a in s.scalars(select(m.Audit).order_by(m.Audit.id.desc()).limit(limit))
            ]


def open_store(url: str | None = None) -> Store:
    """The store at ``url`` (see ``resolve_url``), migrated to the latest schema."""
    return Store(url)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, begins transactions (see _sqlite_begin)
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # a killed writer leaves the last whole transaction
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """A writer's transaction takes the write lock first (BEGIN IMMEDIATE): one that read first and
    wrote after another writer's commit would fail at once instead of waiting its turn."""
    immediate = connection.get_execution_options().get("sqlite_immediate")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _number(value: float | None, is_int: bool) -> Number:
    if value is None:
        return None
    return int(value) if is_int else value


def _stored_cell(path: str, value: float | None, is_int: bool, state: str, location: str) -> StoredCell:
    return StoredCell(path, _number(value, is_int), state, json.loads(location))


def _raw(c: Connection, sql: str, params: Any = ()) -> Any:
    """The driver's SQL, written with ``?`` placeholders (rewritten for drivers that want ``%s``);
    a list of tuples runs it once per tuple."""
    if c.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return c.exec_driver_sql(sql, params)


def _insert_rows(c: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """``INSERT … VALUES (?, …)`` for many rows. SQLite runs it once per row in-process;
    PostgreSQL through psycopg gets them by COPY, other servers in multi-row statements (500 rows
    each): one round trip instead of one a row."""
    if not rows:
        return
    if c.dialect.name == "sqlite":
        _raw(c, sql, rows)
        return
    head, _, one = sql.partition(" VALUES ")
    if c.dialect.driver == "psycopg":  # PostgreSQL's COPY: the rows in one stream
        cursor = c.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {head.removeprefix('INSERT INTO ')} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        _raw(c, f"{head} VALUES {', '.join([one] * len(chunk))}", tuple(v for row in chunk for v in row))


def _insert_findings(c: Session | Connection, version_id: int, findings: list[Finding], origin: str) -> None:
    _insert_findings_of(c, [(version_id, f) for f in findings], origin)


def _insert_findings_of(c: Session | Connection, found: list[tuple[int, Finding]], origin: str) -> None:
    """Findings (version id, finding) inserted in one statement run once per row."""
    if not found:
        return
    rows = [
        (
            version_id,
            origin,
            f.rule,
            f.severity,
            f.message,
            _json(list(f.cells)),
            _json(f.location),
            f.fingerprint,
        )
        for version_id, f in found
    ]
    connection = c.connection() if isinstance(c, Session) else c
    _insert_rows(
        connection,
        "INSERT INTO findings (version_id, origin, rule, severity, message, cells, location, fingerprint) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _location_json(location: dict[str, Any] | None) -> str:
    """A location's JSON, as ``_json`` writes it; the two common shapes (a line; a table's row and
    column) without the encoder, which would take most of an import's time for its cells."""
    if not location:
        return "{}"
    if len(location) == 1:
        line = location.get("line")
        if type(line) is int:
            return f'{{"line":{line}}}'
    elif len(location) == 3:
        table, row, col = location.get("table"), location.get("row"), location.get("col")
        if type(table) is int and type(row) is int and type(col) is int and tuple(location) == _TABLE_KEYS:
            return f'{{"table":{table},"row":{row},"col":{col}}}'
    return _json(location)


_TABLE_KEYS = ("table", "row", "col")


def _merge_agency(s: Session, source: m.Agency, target: m.Agency) -> None:
    """Move a title-made agency's reports to the listed agency; a report for a year the listed one
    already has gives it its versions (the one imported last stays active)."""
    for report in s.scalars(select(m.StoredReport).where(m.StoredReport.agency_id == source.id)).all():
        identity = f"{target.id}:{report.year}"
        held = s.scalar(select(m.StoredReport).where(m.StoredReport.identity == identity))
        if held is None:
            report.agency_id, report.identity = target.id, identity
            continue
        s.execute(update(m.Version).where(m.Version.report_id == report.id).values(report_id=held.id))
        decided = set(s.scalars(select(m.Review.fingerprint).where(m.Review.report_id == held.id)))
        # a decision both reports hold: the listed agency's report keeps its own
        s.execute(delete(m.Review).where(m.Review.report_id == report.id, m.Review.fingerprint.in_(decided)))
        s.execute(update(m.Review).where(m.Review.report_id == report.id).values(report_id=held.id))
        s.execute(update(m.ReviewLog).where(m.ReviewLog.report_id == report.id).values(report_id=held.id))
        last = s.scalar(select(func.max(m.Version.id)).where(m.Version.report_id == held.id))
        s.execute(update(m.Version).where(m.Version.report_id == held.id).values(active=m.Version.id == last))
        s.delete(report)
    s.execute(update(m.AgencyAlias).where(m.AgencyAlias.agency_id == source.id).values(agency_id=target.id))
    s.execute(update(m.Agency).where(m.Agency.parent_id == source.id).values(parent_id=target.id))
    s.flush()
    s.delete(source)


def _batched_groups(groups: list[list[Any]], n: int) -> Iterator[list[list[Any]]]:
    """Consecutive groups gathered until they hold at least ``n`` items (a big group alone)."""
    chunk: list[list[Any]] = []
    size = 0
    for group in groups:
        chunk.append(group)
        size += len(group)
        if size >= n:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
