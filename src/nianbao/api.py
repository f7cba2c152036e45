"""The library's front door: ``parse(path)`` gives the report record of one file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from nianbao.extract import extract
from nianbao.readers import EXTENSIONS, ReadError, read_document, sniff_format
from nianbao.record import Finding, Report, Source

# Files a folder walk picks up; other files are skipped silently.
REPORT_SUFFIXES = frozenset(EXTENSIONS)


def parse(path: str | Path) -> Report:
    """Read one file into a report record. Never raises for a bad file: see ``Report.errors``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _failed(path, "", "", Finding("RD01", "error", f"无法打开文件：{exc.strerror or exc}", (), {}))
    digest = hashlib.sha256(data).hexdigest()
    sniffed = sniff_format(path, data[:2048])
    fmt = sniffed or path.suffix.lower().lstrip(".")
    try:
        doc = read_document(path, data, sniffed)
    except ReadError as exc:
        return _failed(path, fmt, digest, Finding(exc.code, "error", exc.message, (), {}))
    except Exception as exc:  # a reader's library choked on a hostile or broken file
        return _failed(path, fmt, digest, Finding("RD01", "error", f"文件无法读取（{type(exc).__name__}）", (), {}))
    return extract(doc, Source(str(path), doc.format, digest, doc.pages))


def load_record(path: str | Path) -> Report:
    """A record to write from: a filled workbook (.xlsx) or a report record (.json)."""
    return load_records(path)[0]


def load_records(path: str | Path) -> list[Report]:
    """The records to write from: a report record (.json), the JSON array ``parse --format json``
    prints (one or more), or a report file read as ``parse`` reads it (a filled workbook .xlsx,
    with its empty cells named)."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix.lower() != ".json" and data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"[", b"{"):
        return [parse(path)]
    parsed = json.loads(data.decode("utf-8-sig"))
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items or not all(isinstance(item, dict) for item in items):
        raise ValueError("报告记录文件应为一条 JSON 记录，或 parse --format json 输出的 JSON 数组")
    return [Report.from_dict(item) for item in items]


def _failed(path: Path, fmt: str, digest: str, error: Finding) -> Report:
    return Report(source=Source(str(path), fmt, digest, None), errors=(error,))


def iter_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files given, and report files found (recursively, sorted) in folders given."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES)
        else:
            yield p
