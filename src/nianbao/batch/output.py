"""The output folder: partitions written atomically, what is done, and DuckDB views over it.

A chunk of files becomes one partition in each table, all named ``part-<key>.parquet`` where the
key is made from the chunk's sha256s (a chunk written twice lands on the same names). The cells
and findings partitions are written first and the records partition last, each to a temporary
file renamed into place, so a records partition means its chunk is complete. A run starts by
removing temporary files and partitions whose records partition is missing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from nianbao.batch.schema import TABLE_DIRS, FileRows, arrow_schema, to_table

COMPRESSION = "zstd"


class BusyError(RuntimeError):
    """Another run holds the output folder."""


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the folder's lock for one run (two runs into one folder would write a file twice).

    A POSIX record lock belongs to this process only: worker processes forked from it do not
    hold it, so a run killed while its workers finish their file frees the folder at once."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / ".lock").open("w") as fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise BusyError(f"输出文件夹 {out} 正被另一个批处理使用") from exc
        try:
            yield
        finally:
            fcntl.lockf(fh, fcntl.LOCK_UN)


class MismatchError(RuntimeError):
    """The folder was written by another nianbao version, schema or rule configuration."""


def check_settings(out: Path, settings: dict[str, Any]) -> None:
    """Record what the folder's rows were made with (``batch.json``) on the first run; refuse to
    resume with anything else, since the folder would then mix two readings of the corpus."""
    path = out / "batch.json"
    if path.is_file():
        before = json.loads(path.read_text(encoding="utf-8"))
        if before != settings:
            changed = "、".join(k for k in sorted(settings) if before.get(k) != settings[k])
            raise MismatchError(
                f"输出文件夹 {out} 是用不同的设置（{changed}）写成的，不能接着写；请换一个输出文件夹重新运行"
            )
        return
    tmp = path.with_name("batch.json.tmp")
    tmp.write_text(json.dumps(settings, ensure_ascii=False, sort_keys=True, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def tidy(out: Path) -> int:
    """Remove what an interrupted run left: temporary files, partitions of unfinished chunks."""
    removed = 0
    done = {p.name for p in (out / "records").glob("part-*.parquet")}
    for table in TABLE_DIRS:
        folder = out / table
        folder.mkdir(parents=True, exist_ok=True)
        for p in folder.glob("*.tmp"):
            p.unlink()
            removed += 1
        if table == "collection":
            current = collection_dir(out)
            for p in folder.iterdir():
                if p.is_dir() and (current is None or p.name != current.name):
                    shutil.rmtree(p)
                    removed += 1
        if table in ("cells", "findings"):
            for p in folder.glob("part-*.parquet"):
                if p.name not in done:
                    p.unlink()
                    removed += 1
    return removed


def done_keys(out: Path) -> set[str]:
    """sha256 of every file already in the output (read from the records partitions' one column)."""
    keys: set[str] = set()
    for p in sorted((out / "records").glob("part-*.parquet")):
        keys.update(pq.read_table(p, columns=["sha256"]).column("sha256").to_pylist())
    return keys


def write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        pq.write_table(table, fh, compression=COMPRESSION)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def partition_name(keys: list[str]) -> str:
    return "part-" + hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:24] + ".parquet"


# The tables of a partition, in the order they are written: records last (the chunk's commit).
WRITE_ORDER = ("cells", "findings", "records")


def chunk_tables(chunk: list[FileRows]) -> dict[str, pa.Table]:
    """A chunk's rows as one Arrow table per table (columns: far smaller than the rows' tuples)."""
    return {
        "cells": to_table("cells", [c for f in chunk for c in f.cells]),
        "findings": to_table("findings", [x for f in chunk for x in f.findings]),
        "records": to_table("records", [f.record for f in chunk]),
    }


def write_tables(out: Path, keys: list[str], parts: list[dict[str, pa.Table]]) -> str:
    """One partition per table from the tables of the chunk's slices; records last."""
    name = partition_name(keys)
    for table in WRITE_ORDER:
        write_atomic(pa.concat_tables([p[table] for p in parts]), out / table / name)
    return name


def write_chunk(out: Path, chunk: list[FileRows]) -> str:
    """One partition per table for a chunk of files; records last (the chunk's commit)."""
    return write_tables(out, [f.sha256 for f in chunk], [chunk_tables(chunk)])


def collection_dir(out: Path) -> Path | None:
    """The current generation of the collection findings (``collection/CURRENT`` names it)."""
    current = out / "collection" / "CURRENT"
    if not current.is_file():
        return None
    return out / "collection" / current.read_text(encoding="utf-8").strip()


def set_collection_dir(out: Path, folder: Path) -> None:
    """Make ``folder`` the current generation (atomically), then remove the others."""
    current = out / "collection" / "CURRENT"
    tmp = current.with_name("CURRENT.tmp")
    tmp.write_text(folder.name, encoding="utf-8")
    os.replace(tmp, current)
    for old in (out / "collection").iterdir():
        if old.is_dir() and old.name != folder.name:
            shutil.rmtree(old)


def _folder(out: Path, table: str) -> Path | None:
    return collection_dir(out) if table == "collection" else out / table


def _glob(folder: Path) -> str:
    return str(folder / "part-*.parquet").replace("'", "''")


def connect(out: Path, memory_limit: str | None = "256MB") -> Any:
    """A DuckDB connection with views ``records``, ``cells``, ``findings`` (with the collection
    findings) over the folder. Only committed chunks count: cells and findings of a chunk whose
    records partition is missing are left out, and a sha256 appears once."""
    import duckdb

    con = duckdb.connect()
    if memory_limit:  # past it, DuckDB sorts and joins on disk, in the output folder
        con.execute(f"SET memory_limit = '{memory_limit}'")
        spill = str(out / ".duckdb-tmp").replace("'", "''")
        con.execute(f"SET temp_directory = '{spill}'")
        con.execute("SET preserve_insertion_order = false")
    views = {}
    for table in TABLE_DIRS:
        folder = _folder(out, table)
        if folder is not None and any(folder.glob("part-*.parquet")):
            views[table] = (
                f"(SELECT *, parse_filename(filename) AS part FROM read_parquet('{_glob(folder)}', "
                "union_by_name = true, filename = true))"
            )
        else:  # an empty table of the declared columns
            cols = ", ".join(f'NULL::{_duck_type(f.type)} AS "{f.name}"' for f in arrow_schema(table))
            views[table] = f"(SELECT {cols}, NULL::VARCHAR AS filename, NULL::VARCHAR AS part WHERE false)"
    # One partition per sha256, chosen on the keys alone (a window over the records' JSON would
    # hold every record in memory at once).
    con.execute(
        f"CREATE VIEW records_parts AS SELECT sha256, min(part) AS part FROM {views['records']} GROUP BY sha256"
    )
    con.execute(
        f"CREATE VIEW records AS SELECT t.* EXCLUDE (filename, part) FROM {views['records']} t "
        "SEMI JOIN records_parts r ON t.sha256 = r.sha256 AND t.part = r.part"
    )
    for table in ("cells", "findings"):
        con.execute(
            f"CREATE VIEW {table}_read AS SELECT t.* EXCLUDE (filename, part) FROM {views[table]} t "
            "SEMI JOIN records_parts r ON t.sha256 = r.sha256 AND t.part = r.part"
        )
    con.execute("CREATE VIEW cells AS SELECT * FROM cells_read")
    con.execute(
        "CREATE VIEW findings AS SELECT * FROM findings_read "
        f"UNION ALL BY NAME SELECT * EXCLUDE (filename, part) FROM {views['collection']}"
    )
    return con


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_list(t):
        return _duck_type(t.value_type) + "[]"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f'"{f.name}" {_duck_type(f.type)}' for f in t) + ")"
    return {
        pa.string(): "VARCHAR",
        pa.large_string(): "VARCHAR",
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
    }[t]
