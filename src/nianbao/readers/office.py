"""DOC and WPS through LibreOffice headless: converted to DOCX in a private folder, then read.

Each conversion runs with its own LibreOffice profile (``-env:UserInstallation``): two processes
sharing one profile silently produce nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from nianbao.limits import unlimited_memory
from nianbao.model import Document
from nianbao.readers.docx import read_docx
from nianbao.readers.errors import ReadError

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
        raise ReadError("RD09", f"读取 {path.suffix} 文件需要 LibreOffice，但本机未安装。{INSTALL_HINT}")
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
            raise ReadError("RD01", f"LibreOffice 转换超时（{TIMEOUT_SECONDS} 秒）") from exc
    produced = out_dir / f"{path.stem}.{target.split(':')[0]}"
    if not produced.exists():
        raise ReadError("RD01", f"LibreOffice 无法转换该文件（可能已损坏或加密）：{path.name}")
    return produced


def read_office(path: Path, data: bytes) -> Document:
    if not data.strip(b"\x00"):
        raise ReadError("RD01", "文件为空，没有可读取的内容")
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
