"""What the web pages ask of the data behind them, and its one implementation over the service
layer and the store (``nianbao.service``, ``nianbao.store``).

The web app is a shell: it shows reports, findings and review decisions that the store keeps, and
asks the service layer to check them. Nothing here reads a file or runs a rule itself.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from nianbao import service
from nianbao.record import Finding, Report
from nianbao.web.security import ROLE_BY_NAME, User

if TYPE_CHECKING:
    from nianbao.store import Store

# Review states as the web names them (keys) and shows them (values), and as the store keeps them.
REVIEW_STATES = {"open": "待审核", "confirmed": "确认", "dismissed": "忽略"}
_TO_STORE = {"open": "待处理", "confirmed": "已确认", "dismissed": "已忽略"}
_FROM_STORE = {v: k for k, v in _TO_STORE.items()}
ROLE_TO_STORE = {"admin": "管理员", "reviewer": "审核员", "viewer": "查看者"}


@dataclass(frozen=True)
class Decision:
    fingerprint: str
    status: str  # open / confirmed / dismissed
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
class Brief:
    """A stored report for the lists: who, when, where, and its findings' rule, severity and status."""

    key: str
    name: str
    agency: str
    year: int | None
    region: str
    level: str
    findings: tuple[tuple[str, str, str], ...]  # (rule, severity, review status)


@dataclass(frozen=True)
class Entry:
    """A stored report as the report page shows it."""

    key: str  # the stored report's id
    name: str  # the file's name
    report: Report
    findings: tuple[Finding, ...]  # the checks' findings (reading findings first)
    region: str = ""
    level: str = ""
    sha256: str = ""

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
    message: str = ""


def fingerprint(finding: Finding) -> str:
    return finding.fingerprint


class StoreBackend:
    """The pages' calls, each one or two store calls."""

    # The lists (briefs), metric rows and what is computed from them are computed anew in the
    # background when older than this (seconds), and at once when this server changes the store:
    # reports imported or checked by the command line while the server runs show in the overview
    # and the statistics a little after this time.
    CACHE_SECONDS = 60.0

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()  # one writer at a time (SQLite)
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._generation = 0  # bumped when reports (figures) change
        self._lists_generation = 0  # bumped when findings or reviews change
        self._warmers: list[Any] = []
        self._refreshing: set[Any] = set()
        self._inflight: dict[Any, threading.Event] = {}
        self._flight_lock = threading.Lock()
        self._warming = False
        self._warm_again = False

    def cached(self, key: Any, make: Any) -> Any:
        """``make()``, kept under ``key`` until the store changes or ``CACHE_SECONDS`` pass."""
        now = time.monotonic()
        got = self._cache.get(key)
        if got is not None:
            if now - got[0] >= self.CACHE_SECONDS and key not in self._refreshing:
                # Old but not made stale by this server: shown while it is computed anew behind.
                self._refreshing.add(key)
                threading.Thread(target=self._refresh, args=(key, make), daemon=True).start()
            return got[1]
        return self._compute(key, make)

    def _refresh(self, key: Any, make: Any) -> None:
        try:
            self._compute(key, make)
        except Exception:  # the next request computes it and shows the error
            self._cache.pop(key, None)
        finally:
            self._refreshing.discard(key)

    def _compute(self, key: Any, make: Any) -> Any:
        """``make()`` stored under ``key``; a second caller while it runs waits for it instead of
        computing the same thing beside it."""
        with self._flight_lock:
            running = self._inflight.get(key)
            if running is None:
                self._inflight[key] = threading.Event()
        if running is not None:
            running.wait(timeout=600)
            got = self._cache.get(key)
            return got[1] if got is not None else make()
        try:
            now = time.monotonic()
            generation = self._stamp(key)
            value = make()
            if generation == self._stamp(key):  # not computed across a change
                self._cache[key] = (now, value)
                # The cached rows are hundreds of thousands of objects without cycles: kept out of
                # the cyclic collector's full passes (each would otherwise cost a page ~0.4 s with
                # 1,000 reports); reference counting still frees them when the cache lets them go.
                gc.freeze()
            return value
        finally:
            with self._flight_lock:
                self._inflight.pop(key).set()

    def _stamp(self, key: Any) -> tuple[int, int]:
        return self._generation, self._lists_generation if key == "briefs" else 0

    def _changed(self, figures: bool = True) -> None:
        """Forget what the store's change made stale: everything when reports were added (their
        figures), only the report lists when findings or reviews changed."""
        if figures:
            self._generation += 1
            self._cache.clear()
        else:
            self._lists_generation += 1
            self._cache.pop("briefs", None)
        self._warm_again = True
        if self._warmers and not self._warming:
            self._warming = True
            threading.Thread(target=self._warm, name="nianbao-warm", daemon=True).start()

    def on_change(self, warm: Any) -> None:
        """Run ``warm()`` in the background after each change this server makes, so that the first
        page asking for what it computes (the statistics of 1,000 reports take seconds) finds it."""
        self._warmers.append(warm)

    def _warm(self) -> None:
        try:
            while self._warm_again:
                self._warm_again = False
                time.sleep(0.5)  # a batch of saves settles first
                for warm in self._warmers:
                    with contextlib.suppress(Exception):  # a page computes it again when asked
                        warm()
        finally:
            self._warming = False

    @classmethod
    def open(cls, url: str | None = None) -> StoreBackend:
        return cls(service.open_store(url))

    # --- reports ----------------------------------------------------------------------------------

    def briefs(self) -> list[Brief]:
        briefs: list[Brief] = self.cached("briefs", self._briefs)
        return briefs

    def _briefs(self) -> list[Brief]:
        found: dict[int, list[tuple[str, str, str]]] = {}
        for f in self.store.findings():
            found.setdefault(f.report_id, []).append((f.rule, f.severity, _FROM_STORE.get(f.status, "open")))
        return [
            Brief(
                str(r.id),
                r.file_name,
                r.agency or "",
                r.year,
                r.region_code or "",
                r.level or "",
                tuple(found.get(r.id, ())),
            )
            for r in self.store.reports()
        ]

    def entry(self, key: str) -> Entry | None:
        if not key.isdigit():
            return None
        row = self.store.report_row(int(key))
        if row is None:
            return None
        report = self.store.record(row.version_id)
        findings = tuple(f.finding() for f in self.store.findings(report_id=row.id))
        return Entry(key, row.file_name, report, findings, row.region_code or "", row.level or "", row.sha256)

    def entries(self, keys: Iterable[str] | None = None) -> list[Entry]:
        """Full entries: of ``keys``, or of every active report."""
        if keys is not None:
            return [e for e in (self.entry(k) for k in keys) if e is not None]
        wanted: set[str] | None = None
        found: dict[int, list[Finding]] = {}
        for f in self.store.findings():
            if wanted is None or str(f.report_id) in wanted:
                found.setdefault(f.report_id, []).append(f.finding())
        out = []
        for a in self.store.iter_active(with_record=True):
            if (wanted is None or str(a.report_id) in wanted) and (record := a.stored()) is not None:
                out.append(
                    Entry(
                        str(a.report_id),
                        a.file_name,
                        record,
                        tuple(found.get(a.report_id, ())),
                        a.region_code or "",
                        a.level or "",
                        a.sha256,
                    )
                )
        return out

    def metric_rows(self) -> list[dict[str, Any]]:
        """Each active report as a row for ``metrics.rollup`` (by SQL from the cells table, no record JSON)."""
        rows: list[dict[str, Any]] = self.cached("metric_rows", self._metric_rows)
        return rows

    def _metric_rows(self) -> list[dict[str, Any]]:
        # By SQL, only the cells the metrics read (service.metric_rows): agency, region and level
        # of the stored agency, ``file`` the active version's, ``key`` the report's id.
        return service.metric_rows(self.store)

    def original(self, entry: Entry) -> bytes | None:
        """The stored original file of a report's active version."""
        return self.store.original(entry.sha256) if entry.sha256 else None

    def known(self, sha256: str) -> str | None:
        """The key of the stored report holding a file with these bytes, or None."""
        found = self.store.known(sha256) if sha256 else None
        return str(found.report_id) if found and found.report_id is not None else None

    def save(self, data: bytes, name: str, record: dict[str, Any], agency: str | None, year: int | None) -> Saved:
        from nianbao.store import FAILED, UNCHANGED

        report = Report.from_dict(record)
        report = replace(
            report,
            source=replace(report.source, path=name),
            agency=agency or report.agency,
            year=year or report.year,
        )
        findings = service.check_report(report)
        with self._lock:
            outcome = self.store.add(report, data, findings)
            self._changed()
        if outcome.status == FAILED:
            return Saved("", False, outcome.reason)
        return Saved(str(outcome.report_id), outcome.status == UNCHANGED)

    def recheck(self, key: str) -> Entry | None:
        got = self.entry(key)
        if got is None:
            return None
        row = self.store.report_row(int(key))
        assert row is not None
        with self._lock:
            self.store.replace_findings(row.version_id, service.check_report(got.report), "report")
            self._changed(figures=False)
        return self.entry(key)

    def agencies(self) -> list[tuple[str, str, str]]:
        """Listed agencies (from the 名录) as (region, level, name): the overview shows them even
        without a report."""
        return [(a.region_code or "", a.level or "", a.name) for a in self.store.agencies() if a.listed]

    def check_all(self) -> dict[str, Any]:
        """Every rule over every stored report, across reports too (carry-over chains, copied
        text, late publication): ``service.check_store``. Review decisions stay."""
        started = time.monotonic()
        with self._lock:
            result = service.check_store(self.store)
            self._changed(figures=False)
        return {
            "reports": result.reports,
            "findings": result.findings,
            "seconds": round(time.monotonic() - started, 1),
        }

    # --- reviews ----------------------------------------------------------------------------------

    def decisions(self, key: str) -> dict[str, list[Decision]]:
        """Each reviewed finding's history, oldest first."""
        out: dict[str, list[Decision]] = {}
        for change in reversed(self.store.review_log(int(key))):
            out.setdefault(change.fingerprint, []).append(
                Decision(
                    change.fingerprint,
                    _FROM_STORE.get(change.new_status, "open"),
                    change.comment,
                    change.who,
                    change.at,
                )
            )
        return out

    def decide(self, key: str, fingerprint: str, status: str, comment: str, user: User) -> Decision:
        with self._lock:
            row = self.store.set_review(int(key), fingerprint, _TO_STORE[status], user.name, comment)
            self._changed(figures=False)
        self.audit(
            user.name, "review", key, {"fingerprint": fingerprint, "status": _TO_STORE[status], "comment": comment}
        )
        return Decision(fingerprint, status, comment, user.name, row.at or "")

    # --- users ------------------------------------------------------------------------------------

    def user(self, name: str) -> User | None:
        row = next((u for u in self.store.users() if u.name == name and u.active), None)
        return User(row.name, ROLE_BY_NAME.get(row.role, "viewer"), row.region_scope or "") if row else None

    def verify(self, name: str, password: str) -> User | None:
        row = self.store.verify_user(name, password)
        return User(row.name, ROLE_BY_NAME.get(row.role, "viewer"), row.region_scope or "") if row else None

    def has_admin(self) -> bool:
        return any(u.active and ROLE_BY_NAME.get(u.role) == "admin" for u in self.store.users())

    def audit(self, user: str, action: str, target: str, detail: dict[str, Any]) -> None:
        with self._lock:
            self.store.audit(user, action, target, detail)


Backend = StoreBackend
