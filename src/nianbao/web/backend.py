"""What the web pages ask of the data behind them, as one protocol.

The web app is a shell: it shows reports, findings and review decisions that the service layer and
the store keep. ``Backend`` names the calls the pages make; the store's adapter implements it over
``nianbao.service``/``nianbao.store``, and ``MemoryBackend`` keeps a few reports in memory for
``create_app`` without a database (tests of the pages, a quick look at some files).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from nianbao.record import Finding, Report
from nianbao.web.security import User

REVIEW_STATES = {"open": "待审核", "confirmed": "确认", "dismissed": "忽略"}


@dataclass(frozen=True)
class Decision:
    fingerprint: str
    status: str  # confirmed / dismissed / open
    comment: str
    user: str
    at: str  # ISO time, UTC

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "status": self.status,
            "status_zh": REVIEW_STATES.get(self.status, self.status),
            "comment": self.comment,
            "user": self.user,
            "at": self.at,
        }


@dataclass(frozen=True)
class Entry:
    """A stored report as the pages show it."""

    key: str  # the file's sha256
    name: str  # the uploaded file's name
    report: Report
    findings: tuple[Finding, ...]  # the checks' findings (reading findings first)
    region: str = ""
    level: str = ""
    stored_at: str = ""

    @property
    def agency(self) -> str:
        return self.report.agency or ""

    @property
    def year(self) -> int | None:
        return self.report.year


@dataclass(frozen=True)
class Saved:
    key: str
    duplicate: bool


class Backend(Protocol):
    def entries(self) -> list[Entry]: ...
    def entry(self, key: str) -> Entry | None: ...
    def original(self, key: str) -> bytes | None: ...
    def save(self, data: bytes, name: str, record: dict[str, Any], agency: str | None, year: int | None) -> Saved: ...
    def known(self, sha256: str) -> bool: ...
    def recheck(self, key: str) -> Entry | None: ...
    def decisions(self, key: str) -> dict[str, list[Decision]]: ...
    def decide(self, key: str, fingerprint: str, status: str, comment: str, user: User) -> Decision: ...
    def user(self, name: str) -> tuple[User, str] | None: ...
    def has_admin(self) -> bool: ...
    def audit(self, user: str, action: str, target: str, detail: dict[str, Any]) -> None: ...


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def fingerprint(finding: Finding) -> str:
    """A finding's identity across re-checks (the record's own, when it has one)."""
    own = getattr(finding, "fingerprint", None)
    if isinstance(own, str):
        return own
    import hashlib

    return hashlib.sha256(
        f"{finding.rule}\x1f{','.join(sorted(finding.cells))}\x1f{finding.message}".encode()
    ).hexdigest()[:32]


def _checked(report: Report) -> tuple[Finding, ...]:
    from nianbao.rules import check

    return tuple(check(report))


@dataclass
class MemoryBackend:
    """Reports, decisions, users and the audit log in memory (no database)."""

    regions: dict[str, tuple[str, str]] = field(default_factory=dict)  # agency -> (region, level)
    _entries: dict[str, Entry] = field(default_factory=dict)
    _originals: dict[str, bytes] = field(default_factory=dict)
    _decisions: dict[tuple[str, str], list[Decision]] = field(default_factory=dict)
    _users: dict[str, tuple[User, str]] = field(default_factory=dict)
    audit_log: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def entry(self, key: str) -> Entry | None:
        return self._entries.get(key)

    def original(self, key: str) -> bytes | None:
        return self._originals.get(key)

    def known(self, sha256: str) -> bool:
        return sha256 in self._entries

    def save(self, data: bytes, name: str, record: dict[str, Any], agency: str | None, year: int | None) -> Saved:
        report = Report.from_dict(record)
        key = report.source.sha256
        with self._lock:
            if key in self._entries:
                return Saved(key, True)
            if agency:
                report = replace(report, agency=agency)
            if year:
                report = replace(report, year=year)
            region, level = self.regions.get(report.agency or "", ("", ""))
            self._entries[key] = Entry(key, name, report, _checked(report), region, level, now())
            self._originals[key] = data
        return Saved(key, False)

    def recheck(self, key: str) -> Entry | None:
        with self._lock:
            got = self._entries.get(key)
            if got is None:
                return None
            self._entries[key] = replace(got, findings=_checked(got.report))
            return self._entries[key]

    def decisions(self, key: str) -> dict[str, list[Decision]]:
        return {fp: list(ds) for (k, fp), ds in self._decisions.items() if k == key}

    def decide(self, key: str, fingerprint: str, status: str, comment: str, user: User) -> Decision:
        decision = Decision(fingerprint, status, comment, user.name, now())
        with self._lock:
            self._decisions.setdefault((key, fingerprint), []).append(decision)
        self.audit(user.name, "review", key, {"fingerprint": fingerprint, "status": status, "comment": comment})
        return decision

    def add_user(self, user: User, password_hash: str) -> None:
        self._users[user.name] = (user, password_hash)

    def user(self, name: str) -> tuple[User, str] | None:
        return self._users.get(name)

    def has_admin(self) -> bool:
        return any(u.role == "admin" for u, _ in self._users.values())

    def audit(self, user: str, action: str, target: str, detail: dict[str, Any]) -> None:
        self.audit_log.append({"at": now(), "user": user, "action": action, "target": target, "detail": detail})
