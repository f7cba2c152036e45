"""The library's front door: ``parse(path)`` gives the report record of one file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from nianbao.extract import EXTRACTOR_VERSION, extract
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
    return parse_bytes(data, str(path))


def parse_bytes(data: bytes, name: str) -> Report:
    """Read a file's bytes into a report record; ``name`` (a file name or path) gives the type by its
    extension when the bytes do not, and becomes ``source.path``. Readers read the bytes given: an
    upload needs no temporary file. Never raises for bad bytes: see ``Report.errors``."""
    path = Path(name)
    digest = hashlib.sha256(data).hexdigest()
    sniffed = sniff_format(path, data[:2048])
    fmt = sniffed or path.suffix.lower().lstrip(".")
    try:
        doc = read_document(path, data, sniffed)
    except ReadError as exc:
        return _failed(path, fmt, digest, Finding(exc.code, "error", exc.message, (), {}))
    except Exception as exc:  # a reader's library choked on a hostile or broken file
        return _failed(path, fmt, digest, Finding("RD01", "error", f"文件无法读取（{type(exc).__name__}）", (), {}))
    return extract(doc, Source(name, doc.format, digest, doc.pages, EXTRACTOR_VERSION))


def load_record(path: str | Path) -> Report:
    """A record to write from: a filled workbook (.xlsx) or a report record (.json)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from nianbao.authoring.workbook import read_workbook

        return read_workbook(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    return Report.from_dict(data)


def _failed(path: Path, fmt: str, digest: str, error: Finding) -> Report:
    return Report(source=Source(str(path), fmt, digest, None, EXTRACTOR_VERSION), errors=(error,))


def iter_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files given, and report files found (recursively, sorted) in folders given."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES)
        else:
            yield p
