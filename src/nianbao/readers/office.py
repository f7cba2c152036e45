"""DOC and WPS through LibreOffice headless: converted to DOCX in a private folder, then read.

Each conversion runs with its own LibreOffice profile (``-env:UserInstallation``): two processes
sharing one profile silently produce nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from nianbao.errors import read_error
from nianbao.limits import unlimited_memory
from nianbao.model import Document
from nianbao.readers.docx import read_docx

INSTALL_HINT = "请安装 LibreOffice（Debian/Ubuntu：apt-get install libreoffice-writer-nogui）"
TIMEOUT_SECONDS = 120


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def convert(path: Path, target: str, out_dir: Path) -> Path:
    """Convert ``path`` to ``target`` (e.g. ``docx``, ``pdf``) with LibreOffice; return the new file."""
    soffice = find_soffice()
    if soffice is None:
        raise read_error("RD09", "read", suffix=path.suffix, hint=INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as profile:
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            str(path),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_SECONDS, check=False, preexec_fn=unlimited_memory)
        except subprocess.TimeoutExpired as exc:
            raise read_error("RD01", "office_timeout", seconds=TIMEOUT_SECONDS) from exc
    produced = out_dir / f"{path.stem}.{target.split(':')[0]}"
    if not produced.exists():
        raise read_error("RD01", "office_failed", name=path.name)
    return produced


def read_office(path: Path, data: bytes) -> Document:
    if not data.strip(b"\x00"):
        raise read_error("RD01", "empty")
    with tempfile.TemporaryDirectory(prefix="nianbao-doc-") as out:
        # LibreOffice reads files only: the bytes given are written into this private folder (the
        # caller's path may not exist, e.g. an upload), never read from the caller's path.
        given = Path(out) / "in" / f"report{path.suffix.lower() or '.doc'}"
        given.parent.mkdir()
        given.write_bytes(data)
        converted = convert(given, "docx", Path(out))
        doc = read_docx(converted, converted.read_bytes())
    fmt = path.suffix.lower().lstrip(".") or "doc"
    return Document(doc.blocks, fmt, doc.pages, doc.meta, doc.unreadable)
