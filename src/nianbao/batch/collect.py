"""The rules across reports (XY, PU) over a batch output, one group at a time, through DuckDB.

Every collection rule compares reports of one agency (over years) or of one year (across
agencies), so running the rules on each agency's group, then on each year's group, and
keeping each distinct finding once gives what ``check_collection`` gives on the whole set:

- agency groups (records sorted by agency in DuckDB, streamed in Arrow batches, one agency's
  records rebuilt at a time): every collection rule;
- year groups: XY04 (正文照搬 across agencies of one year) on each year's sections only, when
  asked (``cross_agency``), and XY05 on each declared aggregate with its members in that year.

XY04 across agencies of one year looks for candidate pairs through the rule's index of shared
sentences and measures each candidate's similarity; on template-written reports most pairs are
candidates (1,000 sample reports: 16 s and 1,067 findings on this machine under load), so a
batch does it only when asked (``cross_agency``); without it, XY04 still compares each agency
with its own previous year.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from nianbao import pool
from nianbao.agencies import agency_key
from nianbao.batch.output import connect, set_collection_dir, write_atomic
from nianbao.batch.schema import Row, finding_row, to_table
from nianbao.batch.work import DEFAULT_CONFIG
from nianbao.record import Finding, Report, SectionText, Source
from nianbao.rules import Config, check_across

BATCH_ROWS = 256  # records streamed at a time (about 20 KB of JSON each)
BUCKET = 2000  # records sorted by DuckDB at a time in the agency step
PART_ROWS = 50_000
# Rules whose pairs cross agencies within a year (run on year groups too).
YEAR_SECTIONS_RULE = "XY04"
AGGREGATE_RULE = "XY05"


def _collection_findings(
    reports: list[Report], config: Config, only: str | None = None
) -> Iterator[tuple[Report, Finding]]:
    """The rules across reports on one group (only the rule ``only``, when given)."""
    if only:
        config = Config((only,), config.ignore, config.severity, config.aggregates)
    for report, found in zip(reports, check_across(reports, config), strict=True):
        for f in found:
            yield report, f


def _buckets(out: Path, jobs: int) -> int:
    """How many buckets the agencies are split into: about ``BUCKET`` records each, and at least
    one per process (counted from the records partitions' metadata: no database opened here,
    before the processes are forked)."""
    total: int = sum(pq.read_metadata(p).num_rows for p in (out / "records").glob("part-*.parquet"))
    return max(jobs, -(-total // BUCKET))


def _bucket_rows(bucket: int, out: Path, buckets: int, config: Config) -> list[Row]:
    """A worker's share of the agency step: every collection rule on each agency group of one
    bucket, as finding rows (distinct within the bucket; buckets share no record)."""
    con = connect(out)
    seen: set[tuple[str, str, str, tuple[str, ...]]] = set()
    rows: list[Row] = []
    for group in _agency_groups(con, bucket, buckets):
        for report, f in _collection_findings(group, config):
            key = (report.source.sha256, f.rule, f.message, f.cells)
            if key not in seen:
                seen.add(key)
                rows.append(finding_row(report.source.sha256, report.source.path, "collection", f))
    con.close()
    return rows


def _agency_step(out: Path, config: Config, jobs: int) -> Iterator[list[Row]]:
    """Each bucket's rows, the buckets shared among ``jobs`` processes (on the 1,000 sample text
    reports the step cost 1.2 ms of CPU a report in one process, a third of the reading's: run
    serially after two workers' reading, it kept the whole run from going twice as fast)."""
    buckets = _buckets(out, jobs)
    work = functools.partial(_bucket_rows, out=out, buckets=buckets, config=config)
    if jobs == 1:
        yield from map(work, range(buckets))
        return
    for outcome in pool.run(work, range(buckets), pool.Isolation(jobs, seconds=0, memory_bytes=0)):
        # a process that died: its bucket done again here (no per-file limits in this step)
        yield outcome.value if outcome.value is not None else work(outcome.index)


def _agency_groups(con: Any, bucket: int, buckets: int) -> Iterator[list[Report]]:
    """Each agency's records of one bucket (by year), rebuilt one group at a time from a streamed
    query.

    The agencies are split into buckets of about ``BUCKET`` records by a hash of their name, and
    each bucket is one sorted query: DuckDB never sorts more than a bucket's records (their JSON)
    at once, so its memory stays within its limit whatever the corpus (each bucket reads the
    records' partitions again; their name column is what the filter reads)."""
    reader = con.sql(
        "SELECT coalesce(agency_key, '#' || sha256) AS g, record FROM records "
        f"WHERE hash(coalesce(agency_key, '#' || sha256)) % {buckets} = {bucket} ORDER BY g, year, path"
    ).to_arrow_reader(BATCH_ROWS)
    key: str | None = None
    group: list[Report] = []
    for batch in reader:
        for g, record in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
            if g != key and group:
                yield group
                group = []
            key = g
            group.append(Report.from_dict(json.loads(record)))
    if group:
        yield group


def _year_sections(con: Any, year: int) -> list[Report]:
    """One year's readable reports with only what XY04 reads: agency, year, path, sections 1 and 5."""
    rows = con.execute(
        "SELECT sha256, path, format, agency, sections FROM records WHERE ok AND year = ? AND agency IS NOT NULL "
        "ORDER BY path",
        [year],
    ).fetchall()
    return [
        Report(
            Source(path, fmt, sha),
            agency,
            year,
            sections=tuple(SectionText(s["number"], s["title"], s["text"]) for s in sections if s["number"] in (1, 5)),
        )
        for sha, path, fmt, agency, sections in rows
    ]


def _aggregate_groups(con: Any, config: Config) -> Iterator[list[Report]]:
    """For each declared aggregate and year: the aggregate's records and its members' records."""
    for name, patterns in config.aggregates:
        key = agency_key(name)
        years = [y for (y,) in con.execute("SELECT DISTINCT year FROM records WHERE agency_key = ?", [key]).fetchall()]
        for year in years:
            rows = con.sql(
                "SELECT agency_key, record FROM records WHERE year = $year", params={"year": year}
            ).to_arrow_reader(BATCH_ROWS)
            group = [
                Report.from_dict(json.loads(record))
                for batch in rows
                for k, record in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True)
                if k == key or any(fnmatch.fnmatch(k or "", agency_key(p)) for p in patterns)
            ]
            yield group


def run_collection(out: Path, config: Config = DEFAULT_CONFIG, cross_agency: bool = False, jobs: int = 1) -> int:
    """Write the collection findings of the folder's records as a new generation; their count.
    The agency groups are checked on ``jobs`` processes, the year groups in this one."""
    seen: set[tuple[str, str, str, tuple[str, ...]]] = set()
    rows: list[Row] = []
    folder = out / "collection" / f"gen-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    parts = 0

    def keep(row: Row) -> None:
        key = (row[0], row[3], row[5], tuple(row[6]))  # sha256, rule, message, cells
        if key not in seen:
            seen.add(key)
            rows.append(row)
            if len(rows) >= PART_ROWS:
                flush()

    def add(hits: Iterator[tuple[Report, Finding]]) -> None:
        for report, f in hits:
            keep(finding_row(report.source.sha256, report.source.path, "collection", f))

    def flush() -> None:
        nonlocal parts
        write_atomic(to_table("collection", rows), folder / f"part-{parts:06d}.parquet")
        parts += 1
        rows.clear()

    for bucket in _agency_step(out, config, jobs):
        for row in bucket:
            keep(row)
    con = connect(out)  # opened after the step's processes are forked and gone
    if cross_agency and config.wants(YEAR_SECTIONS_RULE):
        years = [y for (y,) in con.execute("SELECT DISTINCT year FROM records WHERE year IS NOT NULL").fetchall()]
        for year in sorted(years):
            add(_collection_findings(_year_sections(con, year), config, only=YEAR_SECTIONS_RULE))
    if config.wants(AGGREGATE_RULE):
        for group in _aggregate_groups(con, config):
            add(_collection_findings(group, config, only=AGGREGATE_RULE))
    if rows or not parts:
        flush()
    con.close()
    set_collection_dir(out, folder)
    return len(seen)
