"""What a path is, before any byte of it is read; folder walks; file names fit to print.

A device (``/dev/zero`` never ends), a FIFO (blocks until a writer comes), a socket and a looping
or dangling symbolic link are refused by what ``os.stat``/``os.lstat`` say they are, with RD17. A
folder walk does not follow links out of the folder given, and names every file it leaves out
with the reason.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nianbao.errors import reading
from nianbao.limits import LIMITS, RD_LIMIT, RD_NOT_FILE, Limits, exceeded, size_text
from nianbao.record import Finding

# Suffixes of files a folder walk reads: the readers' own, and what crawls bring in that may hold a
# report (a saved page in MHT, a script or JSON file carrying the page's HTML, RTF).
WALKED_SUFFIXES = frozenset(
    {
        ".txt",
        ".text",
        ".md",
        ".markdown",
        ".html",
        ".htm",
        ".shtml",
        ".xhtml",
        ".mht",
        ".mhtml",
        ".docx",
        ".pdf",
        ".doc",
        ".wps",
        ".rtf",
        ".js",
        ".json",
        ".xlsx",
    }
)


def refusal(path: Path, limits: Limits = LIMITS) -> Finding | None:
    """RD17 for a path that is not a regular file (or RD16 for one too large), else None.

    Nothing is opened: a FIFO would block and a device would never end.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _refused("link_loop")
        if os.path.islink(path):
            return _refused("link_dangling")
        return open_error(exc)
    mode = st.st_mode
    if stat.S_ISREG(mode):
        if st.st_size > limits.file_bytes:
            return reading(RD_LIMIT, what="文件大小", found=size_text(st.st_size), limit=size_text(limits.file_bytes))
        return None
    if stat.S_ISDIR(mode):
        return _refused("folder")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _refused("device")
    if stat.S_ISFIFO(mode):
        return _refused("fifo")
    if stat.S_ISSOCK(mode):
        return _refused("socket")
    return _refused("other")


def _refused(why: str) -> Finding:
    """RD17 with the catalogue's message for what the path is (``why``: a template key)."""
    return reading(RD_NOT_FILE, why)


_ERRNO_ZH = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有读取权限",
    errno.EPERM: "没有读取权限",
    errno.EISDIR: "这是一个文件夹",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EIO: "读写错误",
}


def _reason(exc: OSError) -> str:
    return _ERRNO_ZH.get(exc.errno or 0, f"系统错误（错误号 {exc.errno}）")


def read_bytes(path: Path, limits: Limits = LIMITS) -> bytes:
    """The file's bytes, never more than the size cap (a file may grow after it was looked at)."""
    with open(path, "rb") as handle:
        data = handle.read(limits.file_bytes + 1)
    if len(data) > limits.file_bytes:
        raise exceeded("文件大小", size_text(len(data)), size_text(limits.file_bytes))
    return data


def open_error(exc: OSError) -> Finding:
    return reading("RD01", "open", reason=_reason(exc))


_HAN = re.compile(r"[\u4e00-\u9fff]")


def problem_text(exc: BaseException) -> str:
    """Why a file could not be used, for a user: a system error in Chinese, nianbao's own (Chinese)
    message as it is, and for a library's English text or an exception name only that the file is
    broken or of the wrong kind."""
    if isinstance(exc, OSError):
        return _reason(exc)
    text = str(exc)
    if _HAN.search(text) and not re.search(r"[A-Za-z]{3,}Error|Exception|Traceback", text):
        return text
    return "文件格式不对或已损坏"


def shown(path: str | Path) -> str:
    """A path as a record and the output carry it: valid UTF-8 whatever bytes the name holds (a
    byte that is not UTF-8 is written ``\\xff``), so JSON stays valid UTF-8."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", errors="backslashreplace")
    return text


def one_line(text: str) -> str:
    """Text printed on one output line: line breaks and other control characters escaped, so a
    file name holding a newline cannot start a line of its own (a forged finding)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in text)


@dataclass(frozen=True)
class Skipped:
    """A file a folder walk leaves out, and why (in Chinese)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Walk:
    """The files to read, in order, and what was left out."""

    files: tuple[Path, ...]
    skipped: tuple[Skipped, ...]
    empty_folders: tuple[Path, ...]  # folders given that hold no report file
    missing: tuple[Path, ...]  # paths given that do not exist (and are not links)


def walk(paths: Iterable[str | Path]) -> Walk:
    """Files given (each as given, whatever it is: the reader refuses what is not a file), and
    report files found in folders given, recursively, sorted, without following links out of the
    folder."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    empty: list[Path] = []
    missing: list[Path] = []
    for p in map(Path, paths):
        if not os.path.lexists(p):
            missing.append(p)
        elif p.is_dir():
            found = list(_folder(p, skipped))
            if not found:
                empty.append(p)
            files.extend(found)
        else:
            files.append(p)
    return Walk(tuple(files), tuple(skipped), tuple(empty), tuple(missing))


def _folder(root: Path, skipped: list[Skipped]) -> Iterator[Path]:
    top = root.resolve()
    found: list[Path] = []
    def unreadable(exc: OSError) -> None:
        skipped.append(Skipped(Path(exc.filename or root), f"无法读取该文件夹（{_reason(exc)}）"))

    for folder, dirs, names in os.walk(root, followlinks=False, onerror=unreadable):
        here = Path(folder)
        for name in list(dirs):
            if (here / name).is_symlink():
                skipped.append(Skipped(here / name, "文件夹的符号链接，不跟随"))
        for name in names:
            path = here / name
            if path.suffix.lower() not in WALKED_SUFFIXES:
                skipped.append(Skipped(path, f"不是报告文件类型（{path.suffix or '无扩展名'}）"))
                continue
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    found.append(path)  # a looping or dangling link: refused with RD17 when read
                    continue
                if not target.is_relative_to(top):
                    skipped.append(Skipped(path, "符号链接指向所给文件夹之外，不跟随"))
                    continue
            found.append(path)
    yield from sorted(found)
