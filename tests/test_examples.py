"""The bundled examples (the README's first command) read back to their manifest; injected errors are found."""

from __future__ import annotations

from pathlib import Path

from test_authoring import _assert_sample_set

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "reports"


def test_bundled_examples_match_their_manifest() -> None:
    _assert_sample_set(EXAMPLES)
