"""The front door every shell uses (the CLI, the web app, the batch runner): parse, check, render,
and the store's operations (import, agencies, checks over what is stored).

Shells import this module, not the modules below it. Nothing here imports the store until a
store operation is called, so reading and checking files needs no database packages.

Reading: ``parse_bytes(data, name)`` (readers read the bytes given, no temporary file),
``parse_path(path)``, ``iter_paths(paths)``, ``load_record(path)``.
Checking: ``check_report(report, config)``, ``check_reports(reports, config)`` → {record key: findings}.
Writing: ``render(report, out)``.
Store: ``open_store(url)``, ``import_paths(store, paths, jobs=, on_outcome=)``,
``import_agencies(store, path)``, ``check_store(store, config)``.
Statistics over the store (by SQL, no record unpacked): ``metric_rows(store, keys, units)``,
``stats(store, by=, keys=, min_n=, units=)``, ``report_heads(store)``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from nianbao.api import iter_paths, load_record, parse, parse_bytes, parse_with_bytes
from nianbao.model import Document
from nianbao.readers import read_document, sniff_format
from nianbao.record import Finding, Report

if TYPE_CHECKING:
    from nianbao.metrics import Rollup, UnitInfo
    from nianbao.pool import Isolation
    from nianbao.rules import Config, load_config
    from nianbao.rules.base import Rule
    from nianbao.store import ActiveReport, ImportOutcome, Store
    from nianbao.store.write import Prepared, Writer

    Entry = Prepared | ImportOutcome


def __getattr__(name: str) -> Any:
    """``Config`` and ``load_config`` imported on first use: the rules (numpy among them) cost a
    tenth of a second to import, which ``nianbao parse`` should not pay."""
    if name in ("Config", "load_config"):
        import nianbao.rules

        return getattr(nianbao.rules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Aggregates = tuple[tuple[str, tuple[str, ...]], ...]

__all__ = [
    "AGENCY_COLUMNS",
    "Config",
    "check_report",
    "check_reports",
    "check_store",
    "import_agencies",
    "import_paths",
    "iter_paths",
    "load_config",
    "load_record",
    "metric_rows",
    "open_store",
    "parse_bytes",
    "parse_path",
    "read_agency_rows",
    "read_document_bytes",
    "render",
    "report_heads",
    "stats",
]

AGENCY_COLUMNS = ("名称", "上级", "级别", "行政区划代码", "别名")


def parse_path(path: str | Path) -> Report:
    """One file's record (never raises for a bad file: see ``Report.errors``)."""
    return parse(path)


def read_document_bytes(data: bytes, name: str, fmt: str | None = None) -> Document:
    """The document model of a file's bytes (blocks, tables, cells with locations), as the readers
    see it before the extractor: for showing an original. ``fmt`` when the caller has already
    sniffed it. Raises ``ReadError`` for a bad file; hostile bytes belong in a worker process
    (``nianbao.pool``), as the web app reads them."""
    path = Path(name)
    return read_document(path, data, fmt or sniff_format(path, data))


def check_report(report: Report, config: Config | None = None) -> list[Finding]:
    """The reading findings and every selected per-report rule's findings of one record."""
    from nianbao.rules import Config, check

    return check(report, config or Config())


def check_reports(reports: Iterable[Report], config: Config | None = None) -> dict[str, list[Finding]]:
    """Every selected rule, per report and across the reports given, keyed by record key (sha256).
    The same file given twice is checked once."""
    from nianbao.rules import Config, check_collection

    unique = list({r.key: r for r in reports}.values())
    found = check_collection(unique, config or Config())
    return {r.key: fs for r, fs in zip(unique, found, strict=True)}


def render(report: Report, out: str | Path) -> Path:
    """Write a record as a report file (the type by ``out``'s extension)."""
    from nianbao.render import write

    out = Path(out)
    write(report, out)
    return out


# --- the store ------------------------------------------------------------------------------------


def open_store(url: str | None = None) -> Store:
    """The store at ``url`` (``--db``), else ``NIANBAO_DB``, else ``nianbao.db`` here."""
    from nianbao.store import Store

    return Store(url)


def _prepare_file(path: str, config: Config | None) -> Prepared:
    """A file read for import and made ready to store, where it is read (a pool worker): checked
    by the per-report rules when ``config`` is given."""
    from nianbao.store.write import prepare

    report, data = parse_with_bytes(path)  # the bytes kept as the original: the file read once
    if report.errors:
        return prepare(report)
    if config is None:
        return prepare(report, data, None)
    from nianbao.rules import check

    return prepare(report, data, check(report, config))


def import_paths(
    store: Store,
    paths: Iterable[str | Path],
    jobs: int | None = None,
    config: Config | None = None,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
    isolation: Isolation | None = None,
) -> list[ImportOutcome]:
    """Import files (folders walked): files already stored are 未变化 without being read again; the
    rest are read on ``jobs`` processes (all cores by default), which also make each file's rows,
    and written by this process several files a transaction (store.write), outcomes in the order
    given. ``on_outcome`` is called for each file once its transaction is committed.

    Reading is ``nianbao parse``'s (``pool.run``): each file under a time limit and a memory
    ceiling (``isolation``, whose ``jobs`` then counts; the defaults of ``limits``), a file that
    runs past them is 失败 with its RD reason and the others go on.

    With a ``config`` the per-report rules run where each file is read and their findings are
    stored; without, only the reading findings are (``check_store`` runs the rules later)."""
    import dataclasses

    from nianbao.pool import Isolation

    files = [str(p) for p in iter_paths(paths)]
    shas = {name: _sha256_of(name) for name in files}
    known = store.known_many(sha for sha in shas.values() if sha is not None)
    todo = [name for name in files if shas[name] not in known]
    if isolation is None:
        isolation = Isolation(jobs=max(1, jobs or os.cpu_count() or 1))
    jobs = max(1, min(isolation.jobs, len(todo)))
    isolation = dataclasses.replace(isolation, jobs=jobs, window=isolation.window or READ_AHEAD)
    prepared = _prepared(todo, isolation, config)
    if todo:  # the workers forked now, before the writer's thread exists (else: a fork server, see pool)
        prepared = itertools.chain([next(prepared)], prepared)
    entries = (
        dataclasses.replace(known[sha], name=name) if (sha := shas[name]) in known else next(prepared) for name in files
    )
    outcomes: list[ImportOutcome] = []

    def done(written: Future[list[ImportOutcome]]) -> None:
        for outcome in written.result():
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

    # One thread writes a batch while this one reads (or gathers from the workers) the next: the
    # database's own work (SQLite's pages, the PostgreSQL server's round trips) runs beside reading.
    with store.writer() as writer, ThreadPoolExecutor(1, thread_name_prefix="nianbao-writer") as thread:
        writing: Future[list[ImportOutcome]] | None = None
        for batch in _batches(entries):
            if writing is not None:
                done(writing)
            writing = thread.submit(_write_batch, writer, batch)
        if writing is not None:
            done(writing)
    return outcomes


def _write_batch(writer: Writer, batch: list[Prepared | ImportOutcome]) -> list[ImportOutcome]:
    """The batch's outcomes in order: the files already known as they are, the others written."""
    from nianbao.store import ImportOutcome

    written = iter(writer.write([e for e in batch if not isinstance(e, ImportOutcome)]))
    return [e if isinstance(e, ImportOutcome) else next(written) for e in batch]


def _batches(entries: Iterable[Entry], most: int = 64, seconds: float = 0.5) -> Iterator[list[Entry]]:
    """Entries gathered for one transaction: 1, 2, 4… up to ``most``, or what came in ``seconds``.
    Small at first, so the first outcomes show at once; then large, so a commit serves many files;
    never held long, so a slow file (a scan) does not keep the ones before it unsaved."""
    batch: list[Entry] = []
    size, start = 1, 0.0
    for entry in entries:
        if not batch:
            start = time.monotonic()
        batch.append(entry)
        if len(batch) >= size or time.monotonic() - start >= seconds:
            yield batch
            batch, size = [], min(size * 2, most)
    if batch:
        yield batch


def _prepared(names: list[str], isolation: Isolation, config: Config | None) -> Iterator[Prepared]:
    """The files prepared (store.write.prepare) in order, in ``pool.run``'s worker processes, under
    its limits; a file whose reading failed them is prepared as failed. The pool keeps a window
    of files (``isolation.window``) ahead of the writer: enough to keep the workers busy while a
    batch is written, few enough that a slow file or database does not pile rows up. One job is one
    reading process beside this one writing (in one process they would take turns: SQLite's and
    psycopg's calls let go of the GIL for a moment a row at most)."""
    from nianbao import pool
    from nianbao.store.write import prepare

    for outcome in pool.run(partial(_prepare_file, config=config), names, isolation):
        if outcome.value is not None:
            yield outcome.value
        else:
            assert outcome.failure is not None
            yield prepare(pool.failed_report(names[outcome.index], outcome.failure))


# Files read ahead of the writer at most, whatever the job count: each holds its original's bytes
# and its rows, so a slow file or a slow database does not pile up an import's worth in memory.
READ_AHEAD = 256


def _sha256_of(name: str) -> str | None:
    data = _bytes_of(name)
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _bytes_of(name: str) -> bytes | None:
    try:
        return Path(name).read_bytes()
    except OSError:
        return None


def read_agency_rows(path: str | Path) -> list[dict[str, str | None]]:
    """The rows of an agency list (名录): .xlsx (first sheet) or .csv (UTF-8, with or without BOM,
    or GB18030), a header row naming 名称 and any of 上级, 级别, 行政区划代码, 别名."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ValueError(f"名录应为 Excel 工作簿或 CSV 文件，{path.name} 两者都不是")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            table = [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
            book.close()
        except OSError:
            raise
        except Exception as exc:  # openpyxl's errors are English and many: not a workbook, broken
            raise ValueError("名录不是有效的 Excel 工作簿，文件已损坏或类型不对") from exc
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise ValueError("名录的文字编码无法识别（应为 UTF-8 或 GB18030 编码的 CSV）") from exc
        table = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    table = [row for row in table if any(row)]
    if not table or "名称" not in table[0]:
        raise ValueError(f"名录缺少表头“名称”（应有列：{'、'.join(AGENCY_COLUMNS)}）")
    header = table[0]
    return [
        {
            col: (row[header.index(col)] if col in header and header.index(col) < len(row) else None)
            for col in AGENCY_COLUMNS
        }
        for row in table[1:]
    ]


def import_agencies(store: Store, path: str | Path) -> object:
    """Import an agency list (名录) file into the store; see ``Store.import_agencies``."""
    return store.import_agencies(read_agency_rows(path))


@dataclass(frozen=True)
class StoreCheck:
    reports: int  # active versions checked
    findings: dict[str, int]  # per severity


def check_store(store: Store, config: Config | None = None) -> StoreCheck:
    """Every selected rule over the active version of each stored report, findings stored (review
    decisions stay, by fingerprint). Per-report rules stream the records one batch at a time;
    each collection rule is handed the groups it declares (by agency, year, aggregate, report),
    one group in memory at a time."""
    from nianbao.rules import REGISTRY, Config, check
    from nianbao.rules.base import Context

    config = config or Config()
    counts: dict[str, int] = {}
    checked = 0
    batch: dict[int, list[Finding]] = {}
    collection = [r for r in REGISTRY.values() if r.scope == "collection" and config.wants(r.code)]
    # rules grouped by report alone run in this pass, on the record already read
    alone = [r for r in collection if r.group_by == ("report",)]
    collected: dict[int, list[Finding]] = {}
    for active in store.iter_active(with_record=True):
        assert active.record is not None
        found = check(active.record, config)  # the record as printed (a title rule reads its own name)
        batch[active.version_id] = found
        contexts = [Context(active.stored() or active.record)]
        contexts[0].aggregates = config.aggregates
        for rule in alone:
            for hit in rule.func(contexts):
                _, finding = cast(tuple[Report, Finding], hit)
                collected.setdefault(active.version_id, []).append(config.grade(finding))
        checked += 1
        for f in found:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        if len(batch) >= 200:
            store.replace_many(batch, "report")
            batch = {}
    store.replace_many(batch, "report")
    for rule in collection:
        if rule in alone:
            continue
        for aggregates, group in _store_groups(store, rule, config):
            stored = [(a.stored(), a.version_id) for a in group]  # one agency's years under one name
            contexts = [Context(record) for record, _ in stored if record is not None]
            for ctx in contexts:
                ctx.aggregates = aggregates
            versions = {id(record): version_id for record, version_id in stored}
            for hit in rule.func(contexts):
                report, finding = cast(tuple[Report, Finding], hit)
                collected.setdefault(versions[id(report)], []).append(config.grade(finding))
    store.clear_findings("collection", keep=collected)
    store.replace_many(_deduplicated(collected), "collection")
    for fs in collected.values():
        for f in fs:
            counts[f.severity] = counts.get(f.severity, 0) + 1
    return StoreCheck(checked, counts)


def metric_rows(
    store: Store, keys: Iterable[str] | None = None, units: Mapping[str, UnitInfo] | None = None
) -> list[dict[str, Any]]:
    """Each stored report's active version as a row for ``metrics.rollup``, read by SQL from the
    cells table (only the cells the metrics ``keys`` read; no record unpacked). The unit is the
    stored agency, with the region and level of the imported agency list; with ``units``
    (``metrics.directory`` of an agency list file) it is looked up by the name the report prints,
    as ``metrics.rows_with_directory`` does."""
    from nianbao.agencies import agency_key
    from nianbao.metrics import cell_paths, gc_paused
    from nianbao.store.query import metric_rows as stored_rows

    with gc_paused():
        rows = list(stored_rows(store.engine, cell_paths(keys)))
    if units is not None:
        for row in rows:
            info = units.get(agency_key(row["title_agency"]))
            row["agency"] = info.name if info else row["title_agency"]
            row["region"], row["level"] = (info.region, info.level) if info else (None, None)
    return rows


def stats(
    store: Store,
    by: str = "year",
    keys: Iterable[str] | None = None,
    min_n: int = 30,
    units: Mapping[str, UnitInfo] | None = None,
) -> Rollup:
    """``metrics.rollup`` over the stored reports (active versions), from ``metric_rows``."""
    from nianbao.metrics import rollup

    chosen = tuple(keys) if keys is not None else None
    return rollup(metric_rows(store, chosen, units), by=by, min_n=min_n, keys=chosen)


def report_heads(store: Store) -> dict[int, Report]:
    """Per active version, a record holding only its file, sha256, agency (the store's name for
    it) and year: what the 问题清单 export names a finding's report by (no record unpacked)."""
    from nianbao.record import Source
    from nianbao.store.query import version_heads

    return {
        vid: Report(Source(name, "", sha), agency, year)
        for vid, (name, sha, agency, year) in version_heads(store.engine).items()
    }


def _store_groups(store: Store, rule: Rule, config: Config) -> Iterator[tuple[Aggregates, list[ActiveReport]]]:
    """The groups a collection rule declares, from the store; an aggregate's group declares that
    aggregate alone (a nested aggregate is not summed with another's members)."""
    parts = _parts(rule.applies_to)
    for kind in rule.group_by or ("all",):
        if kind == "all":
            yield config.aggregates, list(store.iter_active(with_record=True))
        elif kind == "aggregate":
            for aggregate in config.aggregates:
                for group in store.group(kind, (aggregate,), parts):
                    yield (aggregate,), group
        else:
            for group in store.group(kind, config.aggregates, parts):
                yield config.aggregates, group


def _parts(applies_to: tuple[str, ...]) -> tuple[str, ...]:
    """What of a record a collection rule needs loaded: its sections alone, or the whole record."""
    return ("sections",) if set(applies_to) <= {"sections"} else ()


def _deduplicated(found: Mapping[int, list[Finding]]) -> dict[int, list[Finding]]:
    """One finding per fingerprint and version (a rule run on two kinds of group may meet a pair twice)."""
    out: dict[int, list[Finding]] = {}
    for version, findings in found.items():
        unique: dict[str, Finding] = {}
        for f in findings:
            unique.setdefault(f.fingerprint, f)
        out[version] = list(unique.values())
    return out
