"""A stored original shown again in the web app is read in a worker process under limits: a hostile
file gives a Chinese note instead of hanging or exhausting the server."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import hostile
from nianbao.web import original


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(original, "VIEW_ISOLATION", dataclasses.replace(original.VIEW_ISOLATION, seconds=3))


def test_a_pdf_that_loops_inside_pdfminer_times_out_with_a_chinese_note(short_limit: None, tmp_path: Path) -> None:
    path = hostile.pdf_self_reference(tmp_path)
    started = time.monotonic()
    shown = original.original_view(path.read_bytes(), path.name)
    assert time.monotonic() - started < 20
    assert shown.kind == "none"
    assert shown.note.startswith("原文无法显示") and "3 秒" in shown.note


@pytest.mark.parametrize("make", [hostile.docx_zip_bomb, hostile.html_span_1000, hostile.docx_gridspan_1e9])
def test_a_file_over_a_readers_cap_is_refused_by_the_cap(
    short_limit: None, tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    path = make(tmp_path)
    shown = original.original_view(path.read_bytes(), path.name)
    assert shown.kind == "none"
    assert "上限" in shown.note and "文件未读取" in shown.note


def test_a_docx_original_is_shown_as_its_blocks(tmp_path: Path) -> None:
    docx = next(p for p in sorted((Path(__file__).parents[1] / "examples").rglob("*.docx")))
    shown = original.original_view(docx.read_bytes(), docx.name)
    assert shown.kind == "blocks"
    cells = [text for block in shown.blocks for row in block.rows for _, text in row]
    assert any("总计" in text for text in cells)
    assert all(key.startswith("tbl-") for block in shown.blocks for row in block.rows for key, _ in row)
