"""Mutated corpus files fed to every reader, for a bounded time: no crash (#17).

Each example is a real report file (the examples, a rendered DOCX and PDF-free formats; the corpus
PDF when present) with a few bytes flipped, inserted, deleted, repeated or cut (a DOCX's
``word/document.xml`` is mutated inside the zip, which would otherwise just be a broken zip). It is
read in a worker of nianbao.pool, as the CLI reads it: the reading must end with a record, never
an internal error (RD19: an exception past the readers' guard, or a dead worker), and every error
in Chinese.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS
from nianbao import pool

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "reports"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    for path in sorted(EXAMPLES.iterdir()):
        suffix = path.suffix.lower()
        if suffix in (".txt", ".md", ".html", ".docx") and suffix not in seeds:
            seeds[suffix] = path.read_bytes()
    for path in sorted((CORPUS / "real").glob("*")) if (CORPUS / "real").is_dir() else []:
        seeds.setdefault(path.suffix.lower(), path.read_bytes())
    return seeds


SEEDS = _seeds()

mutation = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "repeat", "cut"]),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.integers(min_value=1, max_value=64),
    st.binary(min_size=1, max_size=16),
)


def _mutated(data: bytes, mutations: list[tuple[str, float, int, bytes]]) -> bytes:
    for kind, where, size, extra in mutations:
        at = int(where * len(data))
        if kind == "flip":
            data = data[:at] + bytes(b ^ 0x5A for b in data[at : at + size]) + data[at + size :]
        elif kind == "insert":
            data = data[:at] + extra * size + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + size :]
        elif kind == "repeat":
            data = data[:at] + data[at : at + size] * 50 + data[at:]
        else:
            data = data[:at]
    return data


def _mutated_docx(data: bytes, mutations: list[tuple[str, float, int, bytes]]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = source.read(info)
            target.writestr(
                info.filename, _mutated(member, mutations) if info.filename == "word/document.xml" else member
            )
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("suffix", sorted(SEEDS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(mutation, min_size=1, max_size=4))
def test_a_mutated_file_gets_a_record(
    tmp_path: Path, suffix: str, mutations: list[tuple[str, float, int, bytes]]
) -> None:
    data = SEEDS[suffix]
    data = _mutated_docx(data, mutations) if suffix == ".docx" else _mutated(data, mutations)
    path = tmp_path / f"mutated{suffix}"
    path.write_bytes(data)
    report = pool.read_isolated(path, pool.Isolation(jobs=1, seconds=30, memory_bytes=1 << 30))
    rules = [e.rule for e in report.errors]
    assert "RD19" not in rules, report.errors
    for finding in (*report.errors, *report.findings):
        assert CHINESE.search(finding.message), finding
