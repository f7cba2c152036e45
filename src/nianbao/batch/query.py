"""``stats --from DIR`` and ``export --from DIR``: a batch output read through DuckDB.

Nothing is loaded into Python but the answers: DuckDB scans the Parquet partitions itself, so
national figures need no database server and no more memory than DuckDB's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nianbao.batch.output import connect

# Cells summed by year in ``stats`` (path, Chinese name).
TOTALS: tuple[tuple[str, str], ...] = (
    ("table3/new/total", "本年新收申请"),
    ("table3/carried_in/total", "上年结转"),
    ("table3/granted/total", "予以公开"),
    ("table3/partial/total", "部分公开"),
    ("table3/total/total", "办理结果总计"),
    ("table3/carried_forward/total", "结转下年度"),
    ("table4/review/total", "行政复议"),
    ("table4/litigation_direct/total", "行政诉讼（未经复议）"),
    ("table4/litigation_after_review/total", "行政诉讼（复议后）"),
)

EXPORT_TABLES = ("records", "cells", "findings", "wide")
EXPORT_FORMATS = {
    ".csv": "FORMAT csv, HEADER",
    ".parquet": "FORMAT parquet",
    ".jsonl": "FORMAT json",
    ".json": "FORMAT json, ARRAY true",
}


@dataclass(frozen=True)
class Stats:
    records: int
    failed: int
    by_format: list[tuple[str, int]]
    by_year: list[tuple[Any, ...]]  # year, reports, then one sum per TOTALS entry
    findings: list[tuple[str, int]]  # severity, count
    rules: list[tuple[str, str, int]]  # rule, severity, count (most frequent first)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "failed": self.failed,
            "by_format": dict(self.by_format),
            "by_year": [
                {"year": row[0], "reports": row[1], **{path: row[i + 2] for i, (path, _) in enumerate(TOTALS)}}
                for row in self.by_year
            ],
            "findings": dict(self.findings),
            "rules": [{"rule": r, "severity": s, "count": n} for r, s, n in self.rules],
        }


def _num(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def stats(out: Path) -> Stats:
    con = connect(out)
    records, failed = con.execute("SELECT count(*), count(*) FILTER (WHERE NOT ok) FROM records").fetchone() or (0, 0)
    by_format = con.execute("SELECT format, count(*) FROM records GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    sums = ", ".join(f"sum(value) FILTER (WHERE cell = '{path}' AND state = 'value')" for path, _ in TOTALS)
    by_year = con.execute(
        f"SELECT r.year, count(DISTINCT r.sha256), {sums} FROM records r LEFT JOIN cells c USING (sha256) "
        "GROUP BY r.year ORDER BY r.year NULLS LAST"
    ).fetchall()
    findings = con.execute(
        "SELECT severity, count(*) FROM findings GROUP BY 1 ORDER BY array_position(['error','warning','notice'], severity)"
    ).fetchall()
    rules = con.execute("SELECT rule, severity, count(*) FROM findings GROUP BY 1, 2 ORDER BY 3 DESC, 1").fetchall()
    con.close()
    return Stats(
        int(records),
        int(failed),
        [(str(f), int(n)) for f, n in by_format],
        [tuple(_num(v) for v in row) for row in by_year],
        [(str(s), int(n)) for s, n in findings],
        [(str(r), str(s), int(n)) for r, s, n in rules],
    )


def _query(table: str) -> str:
    if table == "records":
        return "SELECT * EXCLUDE (record) FROM records ORDER BY path"
    if table == "cells":
        return "SELECT r.path, c.* FROM cells c JOIN records r USING (sha256) ORDER BY r.path, c.cell"
    if table == "findings":
        return "SELECT * FROM findings ORDER BY path, scope, rule"
    # wide: one row per report, one column per cell path (the flat {cell: value} map of a report)
    return (
        "WITH w AS (PIVOT (SELECT sha256, cell, value FROM cells) ON cell USING first(value) GROUP BY sha256) "
        "SELECT r.path, r.agency, r.year, r.template, r.format, w.* EXCLUDE (sha256), r.sha256 "
        "FROM records r LEFT JOIN w USING (sha256) ORDER BY r.path"
    )


def export(out: Path, dest: Path, table: str = "records") -> int:
    """Write one table of the batch output to ``dest`` (.csv, .parquet, .jsonl, .json); the row count."""
    if table not in EXPORT_TABLES:
        raise ValueError(f"未知的表：{table}（可用 {'、'.join(EXPORT_TABLES)}）")
    options = EXPORT_FORMATS.get(dest.suffix.lower())
    if options is None:
        raise ValueError(f"不支持的导出格式：{dest.suffix}（可用 {'、'.join(EXPORT_FORMATS)}）")
    con = connect(out)
    query = _query(table)
    count = (con.execute(f"SELECT count(*) FROM ({query})").fetchone() or (0,))[0]
    target = str(dest).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{target}' ({options})")
    con.close()
    return int(count)
