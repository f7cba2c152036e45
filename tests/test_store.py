"""The store on a real SQLite file and a real PostgreSQL server: import, versions, cells as read,
review decisions kept across re-imports and re-checks, checks over what is stored, agencies."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from builders import valid_report
from conftest import ROOT, corpus_or_skip
from nianbao import service
from nianbao.authoring.sample import write_samples
from nianbao.record import Report, Source
from nianbao.rules import Config
from nianbao.store import ADDED, DISMISSED, FAILED, NEW_VERSION, UNCHANGED, AgencyImport, Store, StoreError

SAMPLE_COUNT = 36


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample set (multi-year series, injected errors), written once for the module."""
    out = tmp_path_factory.mktemp("samples")
    write_samples(out, SAMPLE_COUNT, seed=7, error_rate=0.35, fmts=("txt", "md", "html", "docx"))
    return out


def _manifest(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]


def _contents(store: Store) -> list[tuple[Any, ...]]:
    """Everything stored, in a form independent of the database (ids and times left out)."""
    out: list[tuple[Any, ...]] = []
    for row in store.reports():
        cells = {p: (c.value, c.state, c.location) for p, c in store.cells(row.version_id).items()}
        sections = [(s.number, s.title, s.text) for s in store.sections(row.version_id)]
        findings = sorted(
            (f.rule, f.severity, f.message, f.cells, f.fingerprint, f.status) for f in store.findings(report_id=row.id)
        )
        record = store.record(row.version_id).to_dict()
        original = store.original(row.sha256)
        out.append((row.agency, row.year, row.sha256, row.versions, cells, sections, findings, record, original))
    return sorted(out, key=lambda t: t[2])


def test_corpus_cells_are_what_parse_reads(db_url: str) -> None:
    corpus = corpus_or_skip()
    files = sorted(p for d in ("real", "seeds") for p in (corpus / d).iterdir() if p.is_file())
    with Store(db_url) as store:
        outcomes = service.import_paths(store, [corpus / "real", corpus / "seeds"], jobs=1)
        assert [o.status for o in outcomes] == [ADDED] * len(files)
        for o in outcomes:
            assert o.version_id is not None
            parsed = service.parse_path(o.name)
            stored = store.cells(o.version_id)
            assert {p: (c.value, c.location) for p, c in stored.items()} == {
                p: (v, loc.to_dict()) for p, v, loc in parsed.cells()
            }
            assert all(type(stored[p].value) is type(v) for p, v, _ in parsed.cells())
            assert store.record(o.version_id).to_dict() == parsed.to_dict()
            assert store.original(o.sha256) == Path(o.name).read_bytes()
            assert [s.text for s in store.sections(o.version_id)] == [s.text for s in parsed.sections]
        # what metrics and exports read: each active version as a flat map, abstained cells named
        flat = {f.version_id: f for f in store.iter_flat()}
        assert len(flat) == len(files)
        for o in outcomes:
            parsed = service.parse_path(o.name)
            row = flat[o.version_id or 0]
            assert row.values == parsed.flat() and (row.agency, row.year) == (parsed.agency, parsed.year)
            abstained = {c for f in parsed.findings if f.rule in ("RD06", "RD07") for c in f.cells}
            assert row.unknown == {p for p in abstained if parsed.flat().get(p, 0) is None}
        assert sum(1 for _ in store.iter_active(with_record=False)) == len(files)
        before = store.counts()
        again = service.import_paths(store, [corpus / "real", corpus / "seeds"], jobs=2)
        assert [o.status for o in again] == [UNCHANGED] * len(files)
        assert [(o.agency, o.year) for o in again] == [(o.agency, o.year) for o in outcomes]
        assert store.counts() == before


def test_cells_sql_queryable(tmp_path: Path) -> None:
    corpus = corpus_or_skip()
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with Store(url) as store:
        service.import_paths(store, [corpus / "seeds"], jobs=1)
        from sqlalchemy import text

        with store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT v.file_name, c.value FROM cells c JOIN versions v ON v.id = c.version_id "
                    "WHERE c.path = 'table3/new/total' AND v.active ORDER BY v.file_name"
                )
            ).all()
    expected = [(str(p), service.parse_path(p).value("table3/new/total")) for p in sorted((corpus / "seeds").iterdir())]
    assert rows == expected


def test_new_file_for_same_report_is_new_active_version(db_url: str, tmp_path: Path) -> None:
    source = next(p for p in sorted((corpus_or_skip() / "seeds").iterdir()) if p.suffix == ".txt")
    first, second = tmp_path / "a" / source.name, tmp_path / "b" / source.name
    first.parent.mkdir()
    second.parent.mkdir()
    shutil.copy(source, first)
    second.write_bytes(source.read_bytes() + b"\n\n")
    with Store(db_url) as store:
        [a] = service.import_paths(store, [first], jobs=1)
        [b] = service.import_paths(store, [second], jobs=1)
        assert (a.status, b.status) == (ADDED, NEW_VERSION)
        assert a.report_id == b.report_id and a.version_id != b.version_id
        versions = store.versions(a.report_id or 0)
        assert [(v.sha256, v.active) for v in versions] == [(b.sha256, True), (a.sha256, False)]
        [row] = store.reports()
        assert row.version_id == b.version_id and row.versions == 2


def test_unreadable_file_fails_with_reason_and_is_not_stored(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "坏文件.pdf"
    bad.write_bytes(b"%PDF-1.4 not really")
    empty = tmp_path / "空.txt"
    empty.write_bytes(b"")
    with Store(db_url) as store:
        outcomes = service.import_paths(store, [bad, empty], jobs=1)
        assert [o.status for o in outcomes] == [FAILED, FAILED]
        assert outcomes[0].reason.startswith("RD01") and outcomes[1].reason.startswith("RD01")
        assert store.counts()["versions"] == 0


def test_sample_set_check_db_finds_injected_errors_and_keeps_decisions(
    db_url: str, sample_dir: Path, tmp_path: Path
) -> None:
    rows = _manifest(sample_dir)
    injected = [(r["file"], i) for r in rows for i in r["injected"]]
    assert any(i["rule"] == "XY01" for _, i in injected), "the sample set should hold a broken carry-over chain"
    with Store(db_url) as store:
        outcomes = service.import_paths(store, [sample_dir], jobs=2)
        assert {o.status for o in outcomes} == {ADDED}
        service.check_store(store)
        found = store.findings()
        for file, inj in injected:
            assert any(
                Path(f.file_name).name == file and f.rule == inj["rule"] and set(inj["cells"]) <= set(f.cells)
                for f in found
            ), f"{file}: {inj} not found by check --db"
        # a reviewer dismisses an injected cross-year error
        target = next(f for f in found if f.rule == "XY01")
        store.set_review(target.report_id, target.fingerprint, DISMISSED, "审核员甲", "已核实，系口径调整")
        # the same file again, as a new version (bytes differ, contents the same), and a re-check
        name = Path(target.file_name)
        changed = tmp_path / name.name
        changed.write_bytes(name.read_bytes() + (b"\n" if name.suffix in (".txt", ".md") else b"<!-- -->"))
        [again] = service.import_paths(store, [changed], jobs=1)
        assert again.status == NEW_VERSION and again.report_id == target.report_id
        service.check_store(store)
        after = [f for f in store.findings(report_id=target.report_id) if f.fingerprint == target.fingerprint]
        assert after and all(f.status == DISMISSED and f.comment == "已核实，系口径调整" for f in after)
        assert after[0].version_id == again.version_id
        assert [c.new_status for c in store.review_log(target.report_id)] == [DISMISSED]
        with pytest.raises(StoreError):
            store.set_review(target.report_id, target.fingerprint, "不存在的状态", "审核员甲")


def test_sqlite_and_postgresql_hold_the_same(pg_server: str, sample_dir: Path, tmp_path: Path) -> None:
    from pgcluster import fresh_database

    contents = []
    for url in (f"sqlite:///{tmp_path / 'same.db'}", fresh_database(pg_server)):
        with Store(url) as store:
            service.import_paths(store, [sample_dir], jobs=1)
            service.check_store(store)
            contents.append(_contents(store))
    assert contents[0] == contents[1]
    assert len(contents[0]) == SAMPLE_COUNT


def _import_process(paths: list[Path], url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "nianbao.cli", "import", *map(str, paths), "--db", url, "--jobs", "1"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)


def _hang_on_slow(path: str, config: Any = None) -> Any:
    """The import's reading, hanging on a file named slow*: what a reader caught in a loop does."""
    if Path(path).name.startswith("slow"):
        import time

        time.sleep(600)
    return _real_prepare_file(path, config)


_real_prepare_file = service._prepare_file


def test_import_reads_each_file_under_the_time_limit(
    monkeypatch: pytest.MonkeyPatch, sample_dir: Path, tmp_path: Path
) -> None:
    """A file whose reading hangs is 失败 with RD14 after the limit; the files around it are stored."""
    from nianbao.pool import Isolation

    files = sorted(p for p in sample_dir.iterdir() if p.suffix != ".jsonl")[:4]
    slow = tmp_path / f"slow{files[0].suffix}"
    slow.write_bytes(files[0].read_bytes() + b"\n")  # other bytes: not 未变化 as a copy of files[0]
    monkeypatch.setattr(service, "_prepare_file", _hang_on_slow)
    with Store(f"sqlite:///{tmp_path / 'n.db'}") as store:
        outcomes = service.import_paths(store, [files[0], slow, *files[1:]], isolation=Isolation(2, seconds=2))
        assert [o.status for o in outcomes] == [ADDED, FAILED, ADDED, ADDED, ADDED]
        assert outcomes[1].reason.startswith("RD14") and "2 秒" in outcomes[1].reason
        assert len(store.reports()) == 4


def test_import_forks_its_workers_before_the_writer_thread(
    monkeypatch: pytest.MonkeyPatch, sample_dir: Path, tmp_path: Path
) -> None:
    """With the first file already stored its batch goes to the writer's thread at once: the
    workers must be started before, by a fork (a fork server costs about half a second, and runs
    again a script that has no ``__main__`` guard)."""
    import threading

    from nianbao import pool

    chosen: list[int] = []
    real = pool._context
    monkeypatch.setattr(pool, "_context", lambda method: chosen.append(threading.active_count()) or real(method))
    files = sorted(p for p in sample_dir.iterdir() if p.suffix != ".jsonl")[:4]
    before = threading.active_count()  # 1 in a command; more when earlier tests left threads here
    with Store(f"sqlite:///{tmp_path / 'n.db'}") as store:
        service.import_paths(store, files[:1], jobs=1)
        outcomes = service.import_paths(store, files, jobs=2)
    assert [o.status for o in outcomes] == [UNCHANGED, ADDED, ADDED, ADDED]
    assert chosen == [before] * 3  # one worker for the first import, two for the second: no thread of import's


def _left_running(db_url: str, seconds: float = 10.0) -> list[int]:
    """Processes still running whose command line names ``db_url`` (an import's workers carry
    their parent's), after ``seconds`` of waiting for them to go."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        left = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if db_url.encode() in cmdline.read_bytes():
                    left.append(int(cmdline.parent.name))
            except OSError:
                continue
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.mark.slow
def test_sigkill_mid_import_leaves_whole_reports(db_url: str, sample_dir: Path) -> None:
    files = sorted(p for p in sample_dir.iterdir() if p.suffix != ".jsonl")
    process = _import_process(files, db_url)
    assert process.stdout is not None
    printed = [process.stdout.readline() for _ in range(5)]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert all(line.startswith(ADDED) for line in printed)
    assert _left_running(db_url) == []  # its reading workers die with it (they once waited for ever)
    with Store(db_url) as store:
        stored = store.reports()
        assert 5 <= len(stored) < len(files)
        for row in stored:  # every stored report is whole: its cells and sections as parse reads them
            parsed = service.parse_path(row.file_name)
            assert {p: c.value for p, c in store.cells(row.version_id).items()} == parsed.flat()
            assert len(store.sections(row.version_id)) == len(parsed.sections)
    rerun = _import_process(files, db_url)
    out, _ = rerun.communicate(timeout=600)
    statuses = [line.split("\t")[0] for line in out.splitlines()]
    assert rerun.returncode == 0
    assert statuses.count(UNCHANGED) == len(stored) and statuses.count(ADDED) == len(files) - len(stored)
    with Store(db_url) as store:
        assert len(store.reports()) == len(files)
        orphans = "SELECT count(*) FROM cells WHERE version_id NOT IN (SELECT id FROM versions)"
        with store.engine.connect() as conn:  # cells have no foreign key: none without its version
            assert conn.exec_driver_sql(orphans).scalar() == 0


@pytest.mark.slow
def test_two_imports_at_once_store_each_file_once(db_url: str, sample_dir: Path) -> None:
    files = sorted(p for p in sample_dir.iterdir() if p.suffix != ".jsonl")[:16]
    with Store(db_url):
        pass  # the schema made before the two writers start
    first, second = _import_process(files, db_url), _import_process(list(reversed(files)), db_url)
    outs = [p.communicate(timeout=600)[0] for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0
    statuses = [line.split("\t")[0] for out in outs for line in out.splitlines()]
    assert statuses.count(ADDED) == len(files) and statuses.count(UNCHANGED) == len(files)
    with Store(db_url) as store:
        assert store.counts()["versions"] == len(files) and len(store.reports()) == len(files)


def test_agencies_list_matches_titles_and_lists_unmatched(db_url: str, tmp_path: Path) -> None:
    corpus = corpus_or_skip()
    listing = tmp_path / "名录.csv"
    listing.write_text(
        "名称,上级,级别,行政区划代码,别名\n"
        "北京市东城区人民政府,,区县,110101,\n"
        "北京市东城区城市管理指挥中心,北京市东城区人民政府,部门,110101,东城区城市管理指挥中心\n"
        "北京市东城区人民政府国有资产监督管理委员会,北京市东城区人民政府,部门,110101,东城区国资委；东城国资委\n"
        "北京市西城区城市管理委员会,,部门,110102,\n",
        encoding="utf-8-sig",
    )
    with Store(db_url) as store:
        service.import_paths(store, [corpus / "seeds"], jobs=1)  # agencies made from the titles first
        result = service.import_agencies(store, listing)
        assert result == AgencyImport(added=4, updated=0, merged=2, unknown_parents=())
        by_name = {a.name: a for a in store.agencies()}
        center = by_name["北京市东城区城市管理指挥中心"]
        assert center.listed and center.region_code == "110101" and center.aliases == ("东城区城市管理指挥中心",)
        assert center.parent_id == by_name["北京市东城区人民政府"].id
        assert "东城区城市管理指挥中心" not in by_name  # the title's agency merged into the listed one
        reports = {r.agency for r in store.reports()}
        assert {"北京市东城区城市管理指挥中心", "北京市东城区人民政府国有资产监督管理委员会"} <= reports
        service.check_store(store)
        scoped = store.findings(region="110101")  # a user's region scope
        assert scoped and len(scoped) < len(store.findings())
        assert {f.agency for f in scoped} <= {
            "北京市东城区城市管理指挥中心",
            "北京市东城区人民政府国有资产监督管理委员会",
        }
        unmatched = {u.title: u for u in store.unmatched()}
        assert "西城区城市管理指挥中心" in unmatched
        assert unmatched["西城区城市管理指挥中心"].candidates[0] == "北京市东城区城市管理指挥中心"
        # a new file of a report after the list: filed under the listed agency by its alias
        seed = next((corpus / "seeds").glob("000_*"))
        copy = tmp_path / seed.name
        copy.write_bytes(seed.read_bytes() + b"\n")
        [o] = service.import_paths(store, [copy], jobs=1)
        assert o.status == NEW_VERSION
        assert store.report_row(o.report_id or 0).agency == "北京市东城区城市管理指挥中心"  # type: ignore[union-attr]


def test_agency_list_from_xlsx(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["名称", "级别", "行政区划代码", "别名", "上级"])
    sheet.append(["示例市人民政府", "地市", 320800, None, None])
    sheet.append(["示例市教育局", "部门", "320800", "市教育局、示例教育局", "示例市人民政府"])
    book.save(tmp_path / "名录.xlsx")
    rows = service.read_agency_rows(tmp_path / "名录.xlsx")
    assert rows[1] == {
        "名称": "示例市教育局",
        "上级": "示例市人民政府",
        "级别": "部门",
        "行政区划代码": "320800",
        "别名": "市教育局、示例教育局",
    }
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        store.import_agencies(rows)
        assert store.agency_by_name("市教育局") is not None
        assert store.agency_by_name("示例市教育局（本级）") is not None
    (tmp_path / "bad.csv").write_text("单位,级别\n甲,部门\n", encoding="utf-8")
    with pytest.raises(ValueError, match="名称"):
        service.read_agency_rows(tmp_path / "bad.csv")


def test_users_and_audit(db_url: str) -> None:
    with Store(db_url) as store:
        store.add_user("张三", "正确的口令", "审核员", region_scope="1101")
        assert store.verify_user("张三", "正确的口令") is not None
        assert store.verify_user("张三", "错误的口令") is None
        assert store.verify_user("李四", "正确的口令") is None
        with pytest.raises(StoreError):
            store.add_user("张三", "x", "审核员")
        with pytest.raises(StoreError):
            store.add_user("王五", "x", "超级用户")
        store.set_active("张三", False)
        assert store.verify_user("张三", "正确的口令") is None
        store.audit("管理员", "停用用户", "张三", {"原因": "离职"})
        [entry] = store.audit_log()
        assert (entry.who, entry.action, entry.target, entry.detail) == ("管理员", "停用用户", "张三", {"原因": "离职"})
        hashed = store.engine.connect().exec_driver_sql("SELECT password_hash FROM users").scalar()
        assert isinstance(hashed, str) and hashed.startswith("$argon2")


def test_models_match_the_migrations(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from nianbao.store.models import Base

    with Store(f"sqlite:///{tmp_path / 'm.db'}") as store, store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_schema_head_is_the_newest_migration(tmp_path: Path) -> None:
    """Opening a database at SCHEMA_HEAD skips Alembic: the constant must name the newest
    migration, and a database an older nianbao left behind is still migrated."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from nianbao.store import MIGRATIONS, SCHEMA_HEAD

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Store(url) as store, store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
    with pytest.raises(Exception, match="older"):  # Alembic is asked, and knows no such revision
        Store(url).close()


def _alembic(engine: Any, revision: str, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    from nianbao.store import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_cells_lose_their_foreign_key_and_keep_their_rows(db_url: str, sample_dir: Path) -> None:
    """Migration 0002 (cells without a key to versions), down to 0001 and up again on a filled
    database: every cell kept both ways, and the writer's cells still each belong to a version."""
    from sqlalchemy import inspect

    files = sorted(p for p in sample_dir.iterdir() if p.suffix != ".jsonl")[:6]
    with Store(db_url) as store:
        service.import_paths(store, files, jobs=1)
        before = _contents(store)
        cells = store.counts()["cells"]
        assert cells > 6 * 100
        assert inspect(store.engine).get_foreign_keys("cells") == []
        _alembic(store.engine, "0001", down=True)
        [key] = inspect(store.engine).get_foreign_keys("cells")
        assert (key["referred_table"], key["constrained_columns"]) == ("versions", ["version_id"])
        assert store.counts()["cells"] == cells
    with Store(db_url) as store:  # opened at 0001: migrated to the head again
        assert inspect(store.engine).get_foreign_keys("cells") == []
        assert _contents(store) == before
        orphans = "SELECT count(*) FROM cells WHERE version_id NOT IN (SELECT id FROM versions)"
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql(orphans).scalar() == 0


def test_cli_import_agencies_and_check_db(tmp_path: Path) -> None:
    corpus = corpus_or_skip()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NIANBAO_DB": str(tmp_path / "env.db")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nianbao.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )

    first = cli("import", str(corpus / "seeds"))
    assert first.returncode == 0, first.stderr
    assert [line.split("\t")[0] for line in first.stdout.splitlines()] == [ADDED] * 5
    assert (tmp_path / "env.db").exists() and not (tmp_path / "nianbao.db").exists()
    again = cli("import", str(corpus / "seeds"))
    assert [line.split("\t")[0] for line in again.stdout.splitlines()] == [UNCHANGED] * 5
    assert "东城区城市管理指挥中心 2024 年度" in again.stdout
    unmatched = cli("agencies", "--unmatched")
    assert "东城区城市管理指挥中心\t1 份报告" in unmatched.stdout and "尚未导入机关名录" in unmatched.stderr
    listing = tmp_path / "名录.csv"
    listing.write_text("名称,别名\n北京市东城区城市管理指挥中心,东城区城市管理指挥中心\n", encoding="utf-8")
    listed = cli("agencies", "import", str(listing))
    assert listed.returncode == 0 and "新增 1 个机关" in listed.stdout and "合并报告标题中的机关 1 个" in listed.stdout
    assert "北京市东城区城市管理指挥中心\t名录" in cli("agencies").stdout
    checked = cli("check", "--db", str(tmp_path / "env.db"), "--format", "jsonl")
    lines = [json.loads(line) for line in checked.stdout.splitlines()]
    assert lines and {line["path"] for line in lines} <= {str(p) for p in (corpus / "seeds").iterdir()}
    usage = cli("check")
    assert usage.returncode == 2 and "--db" in usage.stderr


def _stored(report: Report, agency: str, year: int, new_total: int) -> Report:
    """A record as if read from a file of its own (a distinct sha256), with table 三's new total set."""
    changed = dataclasses.replace(report, agency=agency, year=year)
    changed = Report.from_dict(
        {
            **changed.to_dict(),
            "table3": {**(changed.table3 or {}), "new": {**(changed.table3 or {})["new"], "total": new_total}},
        }
    )
    digest = hashlib.sha256(f"{agency}{year}{new_total}".encode()).hexdigest()
    return dataclasses.replace(changed, source=Source(f"{agency}{year}.json", "json", digest, None, "test"))


def test_store_check_matches_the_check_of_the_same_reports_in_memory(db_url: str) -> None:
    """XY05 over a declared aggregate, XY01 over an agency's years and PU01 per report: the store's
    groups give the findings the files given together give."""
    base = valid_report()
    reports = [
        _stored(base, "示例区人民政府", 2024, 10),
        _stored(base, "示例区教育局", 2024, 3),
        _stored(base, "示例区民政局", 2024, 4),
        _stored(base, "示例区民政局", 2023, 4),
    ]
    config = Config(aggregates=(("示例区人民政府", ("示例区*局",)),))
    in_memory = service.check_reports(reports, config)
    with Store(db_url) as store:
        for r in reports:
            assert store.add(r).status == ADDED
        service.check_store(store, config)
        stored = store.findings()
    by_key = {r.source.sha256: r for r in reports}
    expected = sorted((by_key[k].source.path, f.rule, f.fingerprint) for k, fs in in_memory.items() for f in fs)
    assert sorted((f.file_name, f.rule, f.fingerprint) for f in stored) == expected
    assert any(f.rule == "XY05" and f.agency == "示例区人民政府" for f in stored)


def test_compare_stats_and_exports_read_the_store(db_url: str, sample_dir: Path, tmp_path: Path) -> None:
    """`compare`, `stats` and `export` with --db work on the stored reports; the 整改清单 carries the
    reviewers' decisions from the store."""
    import openpyxl

    with Store(db_url) as store:
        service.import_paths(store, [sample_dir], jobs=1)
        service.check_store(store)
        target = next(f for f in store.findings() if f.rule == "XY01")
        store.set_review(target.report_id, target.fingerprint, DISMISSED, "审核员甲", "口径调整")
        stored = len(list(store.iter_active(with_record=False)))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nianbao.cli", *args, "--db", db_url], capture_output=True, text=True, timeout=300
        )

    out = tmp_path / "整改清单.xlsx"
    run = cli("export", "--what", "findings", "--out", str(out))
    assert run.returncode == 0, run.stderr
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0] if "审核状态" in rows[0] else rows[1]
    status, comment = header.index("审核状态"), header.index("审核意见")
    assert any(r[status] == DISMISSED and r[comment] == "口径调整" for r in rows)

    data = tmp_path / "数据明细.csv"
    assert cli("export", "--what", "data", "--out", str(data)).returncode == 0
    assert data.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(data.read_text(encoding="utf-8-sig").splitlines()) >= stored  # one row a report (and the headers)

    stats = cli("stats", "--format", "json", "--metric", "new_applications")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)

    agency = next(
        r["record"]["agency"] for r in _manifest(sample_dir) if any(i["rule"] == "XY01" for i in r["injected"])
    )
    compared = cli("compare", "--agency", agency, "--format", "json")
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)


THOUSAND = 1000


@pytest.mark.slow
def test_a_thousand_sample_reports_stored_as_read_on_both_databases(pg_server: str, tmp_path: Path) -> None:
    """Issue #12's set: 1,000 `sample` reports (text, Markdown, HTML, DOCX). Into SQLite by the
    command, killed with SIGKILL part-way and run again; into PostgreSQL by the service. On both,
    every stored cell (value and location) is what `parse` reads, importing again adds nothing, and
    the four exports after `check --db` are the same bytes."""
    from pgcluster import fresh_database

    folder = tmp_path / "samples"
    write_samples(folder, THOUSAND, seed=11, error_rate=0.2, fmts=("txt", "md", "html", "docx"))
    files = sorted(p for p in folder.iterdir() if p.suffix != ".jsonl")
    parsed = {str(p): service.parse_path(p) for p in files}
    lite, pg = f"sqlite:///{tmp_path / 'thousand.db'}", fresh_database(pg_server)

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "nianbao.cli", "import", str(folder), "--db", lite, "--jobs", "2"]
    killed = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert killed.stdout is not None
    printed = [killed.stdout.readline() for _ in range(300)]
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    stored = (ADDED, NEW_VERSION)  # the set has several files of some reports (other formats, corrections)
    assert all(line.startswith(stored) for line in printed)
    with Store(lite) as store:
        before = store.counts()["versions"]
        assert 300 <= before < THOUSAND
    rerun = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    statuses = [line.split("\t")[0] for line in rerun.stdout.splitlines()]
    assert rerun.returncode == 0, rerun.stderr
    assert statuses.count(UNCHANGED) == before
    assert statuses.count(ADDED) + statuses.count(NEW_VERSION) == THOUSAND - before
    with Store(pg) as store:
        assert {o.status for o in service.import_paths(store, [folder], jobs=2)} <= set(stored)

    for url in (lite, pg):
        with Store(url) as store:
            assert store.counts()["versions"] == THOUSAND
            versions = store.known_many(r.source.sha256 for r in parsed.values())
            assert len(versions) == THOUSAND
            for report in parsed.values():
                version_id = versions[report.source.sha256].version_id
                assert version_id is not None
                cells = {p: (c.value, c.location) for p, c in store.cells(version_id).items()}
                assert cells == {p: (v, loc.to_dict()) for p, v, loc in report.cells()}, report.source.path
            again = service.import_paths(store, [folder], jobs=2)
            assert {o.status for o in again} == {UNCHANGED} and store.counts()["versions"] == THOUSAND
            service.check_store(store)

    def exported(url: str, what: str) -> bytes:
        out = tmp_path / f"{what}-{'pg' if url == pg else 'lite'}.json"
        cmd = [sys.executable, "-m", "nianbao.cli", "export", "--db", url, "--what", what, "--out", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr
        return out.read_bytes()

    for what in ("data", "findings", "metrics", "coverage"):
        assert exported(lite, what) == exported(pg, what), what


def test_an_agency_named_two_ways_is_one_unit_for_compare_checks_and_exports(db_url: str, tmp_path: Path) -> None:
    """Two years of one agency, the second titled by an alias the agency list gives: after the list
    is imported, compare --agency (by either name), the cross-year rules and the coverage and
    findings exports treat them as the listed agency's two years."""
    folder = tmp_path / "reports"
    write_samples(folder, 12, seed=3, error_rate=0.0, fmts=("txt",))
    first = service.parse_path(next(p for p in sorted(folder.iterdir()) if p.suffix == ".txt"))
    assert first.agency and first.year
    name, alias, year = first.agency, f"{first.agency[:2]}别称局", first.year
    text = Path(first.source.path).read_text(encoding="utf-8")
    later = tmp_path / "later" / f"{alias}{year + 1}.txt"
    later.parent.mkdir()
    later.write_text(text.replace(name, alias).replace(f"{year}年", f"{year + 1}年"), encoding="utf-8")
    listing = tmp_path / "名录.csv"
    listing.write_text(f"名称,上级,级别,行政区划代码,别名\n{name},,部门,110101,{alias}\n", encoding="utf-8-sig")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nianbao.cli", *args], capture_output=True, text=True, env=env, timeout=300)

    with Store(db_url) as store:
        service.import_paths(store, [Path(first.source.path), later], jobs=1)
        assert service.parse_path(later).agency == alias
    assert cli("agencies", "import", str(listing), "--db", db_url).returncode == 0
    for asked in (name, alias):
        compared = cli("compare", "--db", db_url, "--agency", asked, "--years", str(year), str(year + 1), "--format", "json")
        assert compared.returncode == 0, compared.stderr
        pair = json.loads(compared.stdout)
        assert (pair["a"]["agency"], pair["a"]["year"], pair["b"]["agency"], pair["b"]["year"]) == (name, year, name, year + 1)
        assert pair["consecutive"] is True
    with Store(db_url) as store:
        service.check_store(store)
        copied = [f for f in store.findings() if f.rule == "XY04"]
        assert copied and {f.year for f in copied} == {year + 1} and {f.agency for f in copied} == {name}
        # the per-report rules read the record as printed: the alias in its title is no finding
        per_report = {f.rule for f in store.findings() if f.year == year + 1 and not f.rule.startswith(("XY", "PU"))}
        assert per_report == {f.rule for f in service.check_report(service.parse_path(later))}
    coverage = tmp_path / "coverage.json"
    assert cli("export", "--db", db_url, "--what", "coverage", "--out", str(coverage)).returncode == 0
    [sheet] = json.loads(coverage.read_text(encoding="utf-8"))
    keys = [c["key"] for c in sheet["columns"]]
    rows = [dict(zip(keys, r, strict=True)) for r in sheet["rows"]]
    assert alias not in {r["agency"] for r in rows}  # no second unit, and no false "未报送"
    assert {r["year"] for r in rows if r["agency"] == name and r["has_report"] == "有"} == {year, year + 1}
    findings = tmp_path / "findings.json"
    assert cli("export", "--db", db_url, "--what", "findings", "--out", str(findings)).returncode == 0
    [sheet] = json.loads(findings.read_text(encoding="utf-8"))
    units = {r[[c["key"] for c in sheet["columns"]].index("agency")] for r in sheet["rows"]}
    assert alias not in units


def test_a_database_that_cannot_be_opened_is_named_with_its_cause(tmp_path: Path) -> None:
    """Commands that only read a store do not create one for a mistyped name; each reason a store
    cannot be opened is said in Chinese, naming what was given (NIANBAO_DB too), exit 2 (the web
    app's `users` once printed a traceback here)."""
    (tmp_path / "text.db").write_text("不是数据库", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("NIANBAO_DB", None)

    def stats(db: str | None, **extra: str) -> subprocess.CompletedProcess[str]:
        args = [sys.executable, "-m", "nianbao.cli", "stats", *(["--db", db] if db else [])]
        return subprocess.run(args, capture_output=True, text=True, env={**env, **extra}, cwd=tmp_path, timeout=120)

    cases = {
        "typo.db": "文件不存在",
        "text.db": "文件不是 SQLite 数据库",
        "folder": "这是一个文件夹",
        "mysql://a@b/c": "不支持的数据库类型",
        "postgresql://nobody@127.0.0.1:1/x": "无法连接 PostgreSQL 服务器",
    }
    for db, cause in cases.items():
        done = stats(db)
        assert done.returncode == 2 and done.stderr.startswith(f"无法打开数据库 {db}：{cause}"), (db, done.stderr)
        assert "Traceback" not in done.stderr
    for web_command in (["users", "list"], ["serve"]):  # the web app's commands open it the same way
        args = [sys.executable, "-m", "nianbao.cli", *web_command, "--db", "text.db"]
        done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert done.returncode == 2 and done.stderr.startswith("无法打开数据库 text.db：文件不是 SQLite 数据库"), done.stderr
    report = tmp_path / "a.txt"
    report.write_text("某某局2023年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    args = [sys.executable, "-m", "nianbao.cli", "import", str(report)]  # the store from NIANBAO_DB
    done = subprocess.run(args, capture_output=True, text=True, env={**env, "NIANBAO_DB": "text.db"}, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("无法打开数据库 text.db："), done.stderr
    assert not (tmp_path / "typo.db").exists()


def test_compare_writes_the_format_its_output_file_names(tmp_path: Path) -> None:
    """`compare --out 比较.xlsx` writes a workbook (not text under that name), into a folder it
    makes; an output that is a folder is a usage error."""
    corpus = corpus_or_skip()
    pair = [str(p) for p in sorted((corpus / "seeds").iterdir())[:2]]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = tmp_path / "new" / "比较.xlsx"
    args = [sys.executable, "-m", "nianbao.cli", "compare", *pair, "--out"]
    done = subprocess.run([*args, str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:4] == b"PK\x03\x04" and "已生成" in done.stderr
    done = subprocess.run([*args, str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and "是一个文件夹" in done.stderr and "Traceback" not in done.stderr


def test_an_agency_list_with_a_repeated_name_or_a_loop_is_imported_with_warnings(tmp_path: Path) -> None:
    """A name twice (the last row kept) and 上级 chains that loop are said, in Chinese; the list is imported."""
    listing = tmp_path / "名录.csv"
    listing.write_text(
        "名称,上级,级别\n甲局,乙局,部门\n乙局,丙局,部门\n丙局,甲局,部门\n丁局,,部门\n丁局,,区县\n戊局,戊局,部门\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args = [sys.executable, "-m", "nianbao.cli", "agencies", "import", str(listing), "--db", str(tmp_path / "a.db")]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    warnings = done.stderr.splitlines()
    assert "名录中“丁局”出现 2 次，以最后一行为准" in warnings
    assert "名录的上下级关系成环：甲局 → 乙局 → 丙局 → 甲局（请检查“上级”列）" in warnings
    assert "名录的上下级关系成环：戊局 → 戊局（请检查“上级”列）" in warnings
    assert len(warnings) == 3  # one loop said once, not once for each of its members
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        assert {a.name: a.level for a in store.agencies()}["丁局"] == "区县"
