"""Shared test helpers: the real corpus beside the project, and truth records as reports."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nianbao.record import Report

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_or_skip() -> Path:
    if not (CORPUS / "truth").is_dir():
        pytest.skip(f"the real corpus is not beside the project ({CORPUS} is absent)")
    return CORPUS


def truth_names() -> list[str]:
    if not (CORPUS / "truth").is_dir():
        return []
    return sorted(p.stem for p in (CORPUS / "truth").glob("*.json"))


def corpus_cases(names: list[str] | None = None) -> list[object]:
    """Parameters for a test over corpus reports: the names, or one skipped case saying why."""
    names = truth_names() if names is None else names
    if names:
        return list(names)
    return [
        pytest.param(
            None, marks=pytest.mark.skip(reason=f"the real corpus is not beside the project ({CORPUS} is absent)")
        )
    ]


def load_truth(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((corpus_or_skip() / "truth" / f"{name}.json").read_text(encoding="utf-8"))
    return data


def source_of(name: str) -> Path:
    corpus = corpus_or_skip()
    found = [p for p in (corpus / "seeds").glob(f"{name}.*")] + [p for p in (corpus / "real").glob(f"{name}.*")]
    assert len(found) == 1, f"no single source file for {name}: {found}"
    return found[0]


def truth_report(name: str) -> Report:
    data = load_truth(name)
    return Report.from_dict({**data, "source": {"path": f"{name}.json", "format": "json"}})


def table_diffs(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Every cell of the expected tables that the record does not hold exactly (type included)."""
    diffs: list[str] = []
    for table in ("table2", "table3", "table4"):
        for row, cols in (expected.get(table) or {}).items():
            for col, want in cols.items():
                have = ((got.get(table) or {}).get(row) or {}).get(col, "<missing>")
                if have != want or type(have) is not type(want):
                    diffs.append(f"{table}/{row}/{col}: read {have!r}, expected {want!r}")
        for row in got.get(table) or {}:
            if row not in (expected.get(table) or {}):
                diffs.append(f"{table}/{row}: row read but not in the truth")
    return diffs


needs_libreoffice_calc = pytest.mark.skipif(
    not Path("/usr/lib/libreoffice/program/libscfiltlo.so").exists(),
    reason="LibreOffice Calc is not installed: apt-get install libreoffice-calc-nogui",
)
needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None and shutil.which("libreoffice") is None,
    reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui",
)


# CI sets NIANBAO_FORBID_SKIPS=1: there every dependency is installed and the corpus is beside the
# project, so a skipped test means something is missing, and the run must fail rather than look green.
_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import os

    if os.environ.get("NIANBAO_FORBID_SKIPS") == "1" and _SKIPPED and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    import os

    if os.environ.get("NIANBAO_FORBID_SKIPS") == "1" and _SKIPPED:
        terminalreporter.write_line(
            f"NIANBAO_FORBID_SKIPS=1 and {len(_SKIPPED)} test(s) skipped: the run fails. First: {_SKIPPED[0]}",
            red=True,
        )


# --- the store's databases: a real SQLite file and a real PostgreSQL server (tests/pgcluster.py) ---


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    from pgcluster import cluster

    with cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: an SQLite file, or a fresh database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nianbao.db'}"
    from pgcluster import fresh_database

    return fresh_database(request.getfixturevalue("pg_server"))
