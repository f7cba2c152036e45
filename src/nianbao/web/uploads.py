"""Upload limits: how many files, how large, what a .zip may hold, and which types are taken —
decided from the bytes, not the name. Every refusal is a Chinese sentence for the page.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from nianbao.readers import EXTENSIONS

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int = 50 * MB
    max_files: int = 500
    max_total_bytes: int = 300 * MB
    max_zip_members: int = 1000
    max_zip_ratio: float = 100.0  # expanded size / compressed size, per member and for the whole archive
    max_unzipped_bytes: int = 300 * MB


@dataclass(frozen=True)
class Incoming:
    name: str
    data: bytes


@dataclass(frozen=True)
class Refused:
    name: str
    message: str


class UploadRefused(Exception):
    """The whole upload is refused (too many files, too large); the message is for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _mb(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n} 字节"


def kind_of(name: str, data: bytes) -> str | None:
    """The file's type from its first bytes ("pdf", "zip", "docx", "ole", "text", "html"), or None
    when the bytes are not a type the readers take. The name only tells a DOCX from another zip."""
    head = data[:2048]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "docx" if _is_docx(data) else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"  # Word 97 / WPS
    if b"\x00" in head.replace(b"\x00\x00", b"") and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # binary, not text
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<table" in lowered:
        return "html"
    return "text"


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def expand(files: list[Incoming], limits: UploadLimits) -> tuple[list[Incoming], list[Refused]]:
    """The report files of an upload: zips opened (one level), each file checked against the
    limits. A file that breaks a limit is refused alone; an upload too large as a whole raises."""
    if len(files) > limits.max_files:
        raise UploadRefused(f"一次最多上传 {limits.max_files} 个文件，本次 {len(files)} 个")
    total = sum(len(f.data) for f in files)
    if total > limits.max_total_bytes:
        raise UploadRefused(f"一次上传的文件合计不能超过 {_mb(limits.max_total_bytes)}，本次 {_mb(total)}")
    taken: list[Incoming] = []
    refused: list[Refused] = []
    for f in files:
        if len(f.data) > limits.max_file_bytes:
            refused.append(Refused(f.name, f"文件超过 {_mb(limits.max_file_bytes)}，未读取"))
            continue
        kind = kind_of(f.name, f.data)
        if kind == "zip":
            try:
                inner, bad = _unzip(f, limits)
            except UploadRefused as exc:
                refused.append(Refused(f.name, exc.message))
                continue
            taken.extend(inner)
            refused.extend(bad)
        elif kind is None:
            refused.append(Refused(f.name, "不是可读取的报告文件（内容不是 PDF、Word、网页或文本）"))
        elif len(f.data) == 0:
            refused.append(Refused(f.name, "文件为空"))
        else:
            taken.append(f)
    if len(taken) > limits.max_files:
        raise UploadRefused(f"压缩包展开后共 {len(taken)} 个文件，超过一次 {limits.max_files} 个的上限")
    return taken, refused


def _unzip(archive: Incoming, limits: UploadLimits) -> tuple[list[Incoming], list[Refused]]:
    """The report files inside a zip, read only after its directory shows nothing too large."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive.data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UploadRefused("压缩包已损坏，无法打开") from exc
    with zf:
        members = _checked_members(zf, limits)
        out: list[Incoming] = []
        refused: list[Refused] = []
        expanded = 0
        for info in members:
            name = _member_name(archive.name, info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                refused.append(Refused(name, "压缩包中的链接文件，未读取"))
                continue
            if info.flag_bits & 0x1:
                refused.append(Refused(name, "压缩包中的文件已加密，未读取"))
                continue
            if PurePosixPath(info.filename).suffix.lower() not in EXTENSIONS:
                refused.append(Refused(name, "不是报告文件类型，未读取"))
                continue
            if info.file_size > limits.max_file_bytes:
                refused.append(Refused(name, f"文件超过 {_mb(limits.max_file_bytes)}，未读取"))
                continue
            data = _read_capped(zf, info, limits.max_file_bytes + 1)
            expanded += len(data)
            # The directory may lie about sizes: what was actually expanded is counted too.
            if len(data) > limits.max_file_bytes or expanded > limits.max_unzipped_bytes:
                raise UploadRefused("压缩包展开后过大，疑似“压缩炸弹”，未展开")
            if kind_of(name, data) in (None, "zip"):
                refused.append(Refused(name, "不是可读取的报告文件（内容不是 PDF、Word、网页或文本）"))
                continue
            out.append(Incoming(name, data))
        return out, refused


def _checked_members(zf: zipfile.ZipFile, limits: UploadLimits) -> list[zipfile.ZipInfo]:
    """The archive's files, after its directory shows not too many and nothing too large."""
    members = [i for i in zf.infolist() if not i.is_dir()]
    if len(members) > limits.max_zip_members:
        raise UploadRefused(f"压缩包内文件过多（{len(members)} 个，上限 {limits.max_zip_members} 个），未展开")
    declared = sum(i.file_size for i in members)
    compressed = max(1, sum(i.compress_size for i in members))
    if declared > limits.max_unzipped_bytes or declared / compressed > limits.max_zip_ratio:
        raise UploadRefused(
            f"压缩包展开后过大（约 {_mb(declared)}，压缩比 {declared / compressed:.0f} 倍），疑似“压缩炸弹”，未展开"
        )
    return members


def check_zip(data: bytes, what: str, limits: UploadLimits) -> None:
    """A zip-based file (an .xlsx) opened by a library: refused when its directory shows too many
    members or too large an expansion."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _checked_members(zf, limits)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UploadRefused(f"{what}不是有效的 Excel（.xlsx）文件") from exc


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    try:
        with zf.open(info) as fh:
            return fh.read(cap)
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError) as exc:
        raise UploadRefused(f"压缩包中的 {info.filename} 已损坏，无法展开") from exc


def _member_name(archive: str, member: str) -> str:
    """``archive.zip/dir/file.pdf``, with no way out of the archive's name (no ``..``, no root)."""
    parts = [p for p in PurePosixPath(member.replace("\\", "/")).parts if p not in ("", "/", ".", "..")]
    return "/".join([archive, *parts])
