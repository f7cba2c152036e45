"""The bundled examples (README's first command) read back to the records that wrote them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from nianbao import parse

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _maker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_examples_read_back_exactly() -> None:
    maker = _maker()
    for seed, (agency, year, suffix, scale) in enumerate(maker.UNITS):
        expected = maker.example(agency, year, scale, seed)
        record = parse(EXAMPLES / "reports" / f"{agency}{year}{suffix}")
        assert record.errors == () and record.findings == ()
        assert (record.agency, record.year, record.template) == (agency, year, expected.template)
        assert (record.table2, record.table3, record.table4) == (expected.table2, expected.table3, expected.table4)
        assert [s.number for s in record.sections] == [1, 2, 3, 4, 5, 6]
