"""Hostile and broken inputs, generated: each builder writes one file (or special path) into a folder.

Every class of #17's "What was seen" and more: files that crashed, hung or flooded the reader, files
whose type or encoding was judged by the name, and paths that are not files. Each case says what
the record must show: an error with one of the given codes, or the report read exactly.
"""

from __future__ import annotations

import io
import json
import os
import quopri
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from builders import valid_report
from nianbao.render import write


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    codes: frozenset[str] = frozenset()  # an error with one of these codes; empty: read exactly
    warning: str = ""  # a finding the record must hold besides (RD18)


def good(folder: Path, name: str = "good.txt") -> Path:
    return write(valid_report(), folder / name)


def _page(folder: Path) -> str:
    return write(valid_report(), folder / "_page.html").read_text(encoding="utf-8")


def _text(folder: Path) -> str:
    return write(valid_report(), folder / "_text.txt").read_text(encoding="utf-8")


def _cell_replaced(folder: Path, name: str, printed: str) -> Path:
    page = _page(folder)
    row = page.index("本年新收")
    cell = page.index("<td>10</td>", row)
    path = folder / name
    path.write_text(page[:cell] + f"<td>{printed}</td>" + page[cell + len("<td>10</td>") :], encoding="utf-8")
    return path


# --- PDF, written object by object ---------------------------------------------------------------


def pdf_bytes(objects: list[bytes]) -> bytes:
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _stream(data: bytes) -> bytes:
    packed = zlib.compress(data, 9)
    return b"<</Length %d/Filter/FlateDecode>>stream\n" % len(packed) + packed + b"\nendstream"


_FONT = b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"
_PAGE = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 600 800]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>"


def one_page_pdf(content: bytes) -> bytes:
    return pdf_bytes(
        [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>", _PAGE, _stream(content), _FONT]
    )


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def pdf_self_reference(folder: Path) -> Path:
    # Object 4 is a reference to object 4: pdfminer follows it for ever.
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>", _PAGE, b"4 0 R", _FONT]
    return _write(folder, "self_reference.pdf", pdf_bytes(objects))


def pdf_string_5mb(folder: Path) -> Path:
    return _write(folder, "string_5mb.pdf", one_page_pdf(b"BT /F1 12 Tf 100 700 Td (" + b"7" * 5_000_000 + b") Tj ET"))


def pdf_comment_50mb(folder: Path) -> Path:
    return _write(folder, "comment_50mb.pdf", one_page_pdf(b"%" + b"A" * 50_000_000 + b"\nBT /F1 12 Tf (2024) Tj ET"))


def pdf_truncated(folder: Path) -> Path:
    whole = one_page_pdf(b"BT /F1 12 Tf 100 700 Td (2024) Tj ET")
    return _write(folder, "truncated.pdf", whole[: len(whole) // 2])


def pdf_many_pages(folder: Path) -> Path:
    count = 2_100
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(count))
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[" + kids + b"]/Count %d>>" % count]
    objects += [_stream(b"BT /F1 12 Tf 100 700 Td (1) Tj ET"), _FONT]
    objects += [
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 600 800]/Contents 3 0 R/Resources<</Font<</F1 4 0 R>>>>>>"
    ] * count
    return _write(folder, "many_pages.pdf", pdf_bytes(objects))


def pdf_that_is_html(folder: Path) -> Path:
    # A web server's error page saved under the report's name.
    page = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>404 页面不存在</h1></body></html>"
    return _write(folder, "error_page.pdf", page.encode("utf-8"))


# --- HTML ----------------------------------------------------------------------------------------


def html_span_1000(folder: Path) -> Path:
    rows = "".join('<tr><td rowspan="1000" colspan="1000">1</td></tr>' for _ in range(200))
    return _write(folder, "span_1000.html", f"<html><body><table>{rows}</table></body></html>".encode())


def html_huge_table(folder: Path) -> Path:
    row = "<tr>" + "<td>1</td>" * 50 + "</tr>"
    return _write(folder, "huge_table.html", ("<html><body><table>" + row * 5_000 + "</table></body></html>").encode())


def html_deep_nesting(folder: Path) -> Path:
    return _write(folder, "deep.html", ("<html><body>" + "<div>" * 100_000 + "年报" + "</div>" * 100_000).encode())


def digits_5000(folder: Path) -> Path:
    return _cell_replaced(folder, "digits_5000.html", "9" * 5_000)


def decimal_400(folder: Path) -> Path:
    return _cell_replaced(folder, "decimal_400.html", "9" * 400 + ".5")


# --- DOCX ----------------------------------------------------------------------------------------


def _docx_with(document_xml: bytes, extra: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("word/document.xml", document_xml)
        for i in range(extra):
            zf.writestr(f"word/media/{i}.bin", b"")
    return buffer.getvalue()


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_gridspan_1e9(folder: Path) -> Path:
    cell = '<w:tc><w:tcPr><w:gridSpan w:val="1000000000"/></w:tcPr><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>'
    xml = f"<w:document {_W}><w:body><w:tbl><w:tr>{cell}</w:tr></w:tbl></w:body></w:document>"
    return _write(folder, "gridspan.docx", _docx_with(xml.encode()))


def docx_zip_bomb(folder: Path) -> Path:
    path = folder / "zip_bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(f"<w:document {_W}><w:body>".encode())
            block = b" " * (1 << 20)
            for _ in range(300):
                member.write(block)
            member.write(b"</w:body></w:document>")
    return path


def docx_many_members(folder: Path) -> Path:
    xml = f"<w:document {_W}><w:body><w:p><w:r><w:t>年报</w:t></w:r></w:p></w:body></w:document>"
    return _write(folder, "many_members.docx", _docx_with(xml.encode(), extra=6_000))


def docx_entities(folder: Path) -> Path:
    lol = "".join(f'<!ENTITY l{i} "&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};">' for i in range(1, 12))
    xml = f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY l0 "lol">{lol}]><w:document {_W}><w:body><w:p><w:r><w:t>&l11;</w:t></w:r></w:p></w:body></w:document>'
    return _write(folder, "entities.docx", _docx_with(xml.encode()))


# --- paths that are not files --------------------------------------------------------------------


def dev_zero(folder: Path) -> Path:
    return Path("/dev/zero")


def fifo(folder: Path) -> Path:
    path = folder / "pipe.txt"
    os.mkfifo(path)
    return path


def looping_link(folder: Path) -> Path:
    path = folder / "loop.txt"
    os.symlink(path.name, path)
    return path


def dangling_link(folder: Path) -> Path:
    path = folder / "dangling.txt"
    os.symlink("nowhere.txt", path)
    return path


def empty(folder: Path) -> Path:
    return _write(folder, "empty.pdf", b"")


def random_bytes(folder: Path) -> Path:
    return _write(folder, "noise.txt", bytes((i * 7919 + 13) % 256 for i in range(20_000)))


def long_line(folder: Path) -> Path:
    return _write(folder, "long_line.txt", ("政府信息公开" * 300_000).encode("utf-8"))


# --- files read by what they hold, not their name ------------------------------------------------


def utf16_html(folder: Path) -> Path:
    return _write(folder, "utf16.html", _page(folder).encode("utf-16"))


def utf16_html_without_mark(folder: Path) -> Path:
    return _write(folder, "utf16le.html", _page(folder).encode("utf-16-le"))


def gbk_behind_utf8_mark(folder: Path) -> Path:
    return _write(folder, "gbk_bom.txt", b"\xef\xbb\xbf" + _text(folder).encode("gbk"))


def gbk_page_behind_utf8_mark(folder: Path) -> Path:
    page = _page(folder).replace("charset=utf-8", "charset=gbk")
    return _write(folder, "gbk_bom.html", b"\xef\xbb\xbf" + page.encode("gbk"))


def html_named_doc(folder: Path) -> Path:
    return _write(folder, "page.doc", _page(folder).encode("utf-8"))


def text_named_doc(folder: Path) -> Path:
    return _write(folder, "text.doc", _text(folder).encode("utf-8"))


def docx_named_doc(folder: Path) -> Path:
    return _write(folder, "word.doc", write(valid_report(), folder / "_word.docx").read_bytes())


def mht_named_doc(folder: Path) -> Path:
    page = _page(folder).replace("charset=utf-8", "charset=gb2312").encode("gbk")
    mht = (
        b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart"\r\n\r\n'
        b'------=_NextPart\r\nContent-Location: file:///C:/report.htm\r\nContent-Type: text/html; charset="gb2312"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + quopri.encodestring(page)
        + b"\r\n------=_NextPart--\r\n"
    )
    return _write(folder, "saved.doc", mht)


def script_file(folder: Path) -> Path:
    return _write(folder, "content.js", f"var content = {json.dumps(_page(folder))};\n".encode())


def json_file(folder: Path) -> Path:
    return _write(folder, "content.json", json.dumps({"title": "年报", "content": _page(folder)}).encode())


def newline_name(folder: Path) -> Path:
    return good(folder, "x.txt\n伪造.txt:1: AR01 error 伪造的发现.txt")


def non_utf8_name(folder: Path) -> Path:
    path = Path(os.fsdecode(os.fsencode(folder) + b"/\xff\xfe\xb1\xa8.txt"))
    return good(folder, path.name)


ERROR = "RD01", "RD04", "RD16"
CASES: list[Case] = [
    Case("digits-5000", digits_5000, warning="RD18"),
    Case("decimal-400", decimal_400, warning="RD18"),
    Case("pdf-self-reference", pdf_self_reference, frozenset({"RD16"})),
    Case("pdf-string-5mb", pdf_string_5mb, frozenset({"RD16"})),
    Case("pdf-comment-50mb", pdf_comment_50mb, frozenset({"RD16"})),
    Case("pdf-truncated", pdf_truncated, frozenset({"RD01"})),
    Case("pdf-2100-pages", pdf_many_pages, frozenset({"RD16"})),
    Case("pdf-that-is-html", pdf_that_is_html, frozenset({"RD04"})),
    Case("html-span-1000", html_span_1000, frozenset({"RD16"})),
    Case("html-250000-cells", html_huge_table, frozenset({"RD16"})),
    Case("html-deep-nesting", html_deep_nesting, frozenset(ERROR)),
    Case("docx-gridspan-1e9", docx_gridspan_1e9, frozenset({"RD16"})),
    Case("docx-zip-bomb", docx_zip_bomb, frozenset({"RD16"})),
    Case("docx-6000-members", docx_many_members, frozenset({"RD16"})),
    Case("docx-entities", docx_entities, frozenset(ERROR)),
    Case("dev-zero", dev_zero, frozenset({"RD17"})),
    Case("fifo", fifo, frozenset({"RD17"})),
    Case("looping-link", looping_link, frozenset({"RD17"})),
    Case("dangling-link", dangling_link, frozenset({"RD17"})),
    Case("empty", empty, frozenset({"RD01"})),
    Case("random-bytes", random_bytes, frozenset({"RD01", "RD04"})),
    Case("one-line-5mb", long_line, frozenset({"RD04"})),
    Case("utf16-html", utf16_html),
    Case("utf16-html-without-mark", utf16_html_without_mark),
    Case("gbk-text-behind-utf8-mark", gbk_behind_utf8_mark),
    Case("gbk-page-behind-utf8-mark", gbk_page_behind_utf8_mark),
    Case("html-named-doc", html_named_doc),
    Case("text-named-doc", text_named_doc),
    Case("docx-named-doc", docx_named_doc),
    Case("mht-named-doc", mht_named_doc),
    Case("script-file", script_file),
    Case("json-file", json_file),
    Case("newline-in-name", newline_name),
    Case("non-utf8-name", non_utf8_name),
]
