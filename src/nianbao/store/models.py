"""The store's tables (SQLAlchemy 2). The schema itself is made by the Alembic migrations in
``store/migrations`` (run on open); these models must match the latest migration (a test checks).

Identity: a version is a file (its sha256, unique); a report is an agency's report for a year and
holds versions, one of them active; findings belong to a version and are replaced on every
check; a review decision belongs to a report and a finding's fingerprint, so it outlives versions
and re-checks.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Review statuses, as stored and shown.
PENDING, CONFIRMED, DISMISSED = "待处理", "已确认", "已忽略"
STATUSES = (PENDING, CONFIRMED, DISMISSED)
# User roles, as stored and shown.
ADMIN, REVIEWER, VIEWER = "管理员", "审核员", "查看者"
ROLES = (ADMIN, REVIEWER, VIEWER)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Agency(Base):
    """An agency: from an imported 名录 (``listed``) or created from a report title."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), unique=True)  # agencies.agency_key(name)
    region_code: Mapped[str | None] = mapped_column(String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    level: Mapped[str | None] = mapped_column(String(40))
    listed: Mapped[bool] = mapped_column(Boolean, default=False)


class AgencyAlias(Base):
    __tablename__ = "agency_aliases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), unique=True)


class StoredReport(Base):
    """One agency's report for one year (``identity`` ``agency_id:year``), or a file whose agency or
    year could not be read (``file:sha256``)."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(100), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    year: Mapped[int | None] = mapped_column(Integer, index=True)


class Version(Base):
    __tablename__ = "versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    extractor: Mapped[str] = mapped_column(String(40))
    title_agency: Mapped[str | None] = mapped_column(String(200))  # the agency as the title prints it
    record: Mapped[bytes] = mapped_column(LargeBinary)  # the record's JSON (report-json.md), zlib-packed
    active: Mapped[bool] = mapped_column(Boolean, default=True)


Index("ix_versions_report_active", Version.report_id, Version.active)


class Cell(Base):
    """One value of the three tables: ``state`` is value, blank (printed blank, value null) or unknown
    (the reader abstained: RD06/RD07, value null)."""

    __tablename__ = "cells"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012  (the key is the table: no second index)
    # No foreign key to versions (migration 0002): PostgreSQL checks one with a query a row, about
    # 0.9 ms of its CPU for a report's 200 cells, as much as storing them. Cells are written only
    # with their version, in its transaction (store.write, Store.add), and versions are never deleted.
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    is_int: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(10))
    location: Mapped[str] = mapped_column(Text)  # JSON, the record's form


class Section(Base):
    __tablename__ = "sections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)


class Blob(Base):
    """An original file's bytes, by their sha256 (zlib-packed when that makes them smaller)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    compressed: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class StoredFinding(Base):
    """A finding of a version: ``origin`` is ``report`` (reading and per-report rules, set on import
    and by check) or ``collection`` (XY/PU, set by a collection check)."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), index=True)
    origin: Mapped[str] = mapped_column(String(12))
    rule: Mapped[str] = mapped_column(String(10), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    cells: Mapped[str] = mapped_column(Text)  # JSON list of cell paths
    location: Mapped[str] = mapped_column(Text)  # JSON
    fingerprint: Mapped[str] = mapped_column(String(32), index=True)


class Review(Base):
    """The review decision on a finding of a report, by fingerprint (kept across re-checks)."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("report_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    fingerprint: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    comment: Mapped[str] = mapped_column(Text, default="")
    who: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ReviewLog(Base):
    """Every change of a review status."""

    __tablename__ = "review_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
    old_status: Mapped[str] = mapped_column(String(10))
    new_status: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    who: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2
    role: Mapped[str] = mapped_column(String(10))
    region_scope: Mapped[str | None] = mapped_column(String(20))  # a region code prefix; None = all
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Audit(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    who: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON
