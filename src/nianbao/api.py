"""The library's front door: ``parse(path)`` gives the report record of one file."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from nianbao.errors import reading
from nianbao.extract import EXTRACTOR_VERSION, extract
from nianbao.inputs import open_error, read_bytes, refusal, shown, walk
from nianbao.limits import LIMITS, RD_CRASH, RD_DIGITS, RD_LIMIT, longest_digit_run
from nianbao.model import Document, Paragraph
from nianbao.readers import EXTENSIONS, ReadError, read_document, sniff_format
from nianbao.record import Finding, Report, Source

# Files a folder walk picks up (others are listed as skipped with the reason: inputs.walk).
REPORT_SUFFIXES = frozenset(EXTENSIONS)


def parse(path: str | Path) -> Report:
    """Read one file into a report record. Never raises for a bad file: see ``Report.errors``.

    What the path is is looked at before any byte is read: a device, a FIFO, a socket or a
    looping link is refused (RD17), a file over the size cap too (RD16)."""
    return parse_with_bytes(path)[0]


def parse_with_bytes(path: str | Path) -> tuple[Report, bytes | None]:
    """``parse``, and the file's bytes as read (None when it was refused or could not be read):
    for a caller that keeps the original (the store's import) without reading the file again."""
    path = Path(path)
    refused = refusal(path)
    if refused is not None:
        return _failed(path, "", "", refused), None
    try:
        data = read_bytes(path)
    except ReadError as exc:
        return _failed(path, "", "", exc.finding()), None
    except OSError as exc:
        return _failed(path, "", "", open_error(exc)), None
    return parse_bytes(data, str(path)), data


def parse_bytes(data: bytes, name: str) -> Report:
    """Read a file's bytes into a report record; ``name`` (a file name or path) gives the type by its
    extension when the bytes do not, and becomes ``source.path``. Readers read the bytes given: an
    upload needs no temporary file. Never raises for bad bytes: see ``Report.errors``."""
    path = Path(name)
    digest = hashlib.sha256(data).hexdigest()
    sniffed = sniff_format(path, data)
    fmt = sniffed or path.suffix.lower().lstrip(".")
    try:
        doc = read_document(path, data, sniffed)
    except ReadError as exc:
        return _failed(path, fmt, digest, exc.finding())
    except RecursionError:
        return _failed(path, fmt, digest, reading(RD_LIMIT, "nesting"))
    except MemoryError:
        raise  # the pool's memory ceiling: reported as RD15 by nianbao.pool
    except Exception:  # a reader's library choked on a hostile or broken file
        return _failed(path, fmt, digest, reading("RD01", "unreadable"))
    try:
        report = extract(doc, Source(shown(path), doc.format, digest, doc.pages, EXTRACTOR_VERSION))
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception:
        return _failed(path, fmt, digest, reading(RD_CRASH, "extract"))
    if sniffed in _PLAIN_READERS and not _MAYBE_LONG_DIGITS.search(data):
        return report  # the bytes hold no run of digits long enough (a look at C speed)
    return with_digit_warning(report, doc)


# Readers whose bytes hold the text as it is read, and the bytes a run of digits is made of there:
# ASCII digits, UTF-8 and GBK full-width digits (EF BC 90–99, A3 B0–B9), UTF-16's zero bytes.
_PLAIN_READERS = frozenset({"txt", "md", "html"})
_MAYBE_LONG_DIGITS = re.compile(rb"[0-9\x00\xef\xbc\x90-\x99\xa3\xb0-\xb9]{%d,}" % (LIMITS.digit_run + 1))


def with_digit_warning(report: Report, doc: Document) -> Report:
    """RD18 when the document prints a number with more digits than the cap (read as null)."""
    texts = [
        b.text if isinstance(b, Paragraph) else "\n".join([c.text for row in b.rows for c in row]) for b in doc.blocks
    ]
    longest = longest_digit_run(["\n".join(texts)])
    if not longest:
        return report
    warning = reading(RD_DIGITS, digits=longest, limit=LIMITS.digit_run)
    return dataclasses.replace(report, findings=(*report.findings, warning))


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
    return Report(source=Source(shown(path), fmt, digest, None, EXTRACTOR_VERSION), errors=(error,))


def iter_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files given, and report files found (recursively, sorted, without following links out of
    the folder) in folders given; :func:`nianbao.inputs.walk` also says what it left out."""
    yield from walk(paths).files
