"""Change one digit in a PDF's text layer in place (for mutation tests on a real PDF report).

The glyph that draws the digit is found by following the content stream's text positions, and
its code is replaced by the code of another digit in the same font (from the font's ToUnicode
map), so the digit count and every other glyph stay as they were.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pdfplumber
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ByteStringObject, ContentStream

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1, 0, 0, 1, 0, 0)


def _mul(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _codes(font: Any) -> dict[str, bytes]:
    """Character -> glyph code, from a font's ToUnicode CMap."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    out: dict[str, bytes] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out.setdefault(bytes.fromhex(dst).decode("utf-16-be", errors="ignore"), bytes.fromhex(src))
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for k in range(int(hi, 16) - int(lo, 16) + 1):
                out.setdefault(chr(int(dst, 16) + k), (int(lo, 16) + k).to_bytes(len(lo) // 2, "big"))
    return out


def _glyphs(page: Any, reader: PdfReader | PdfWriter) -> tuple[ContentStream, list[tuple[int, str, float, float]]]:
    """The content stream and every single-glyph Tj: (operation index, font, x, y) in user space."""
    stream = ContentStream(page.get_contents(), reader)
    ctm, stack, tlm, tm, font = IDENTITY, [], IDENTITY, IDENTITY, ""
    found: list[tuple[int, str, float, float]] = []
    for i, (operands, op) in enumerate(stream.operations):
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q":
            ctm = stack.pop()
        elif op == b"cm":
            ctm = _mul(tuple(float(x) for x in operands), ctm)  # type: ignore[arg-type]
        elif op == b"BT":
            tlm = tm = IDENTITY
        elif op == b"Tm":
            tlm = tm = tuple(float(x) for x in operands)  # type: ignore[assignment]
        elif op in (b"Td", b"TD"):
            tlm = tm = _mul((1, 0, 0, 1, float(operands[0]), float(operands[1])), tlm)
        elif op == b"Tf":
            font = str(operands[0])
        elif op == b"Tj":
            x, y = _mul(tm, ctm)[4:]
            found.append((i, font, x, y))
    return stream, found


def change_digit(source: Path, target: Path, page_no: int, bbox: list[float]) -> int | None:
    """Change the last digit of the number in the cell at ``bbox`` (top-down, as pdfplumber and
    the record give it); return the new number, or None if the font has no other digit."""
    with pdfplumber.open(source) as pdf:
        page = pdf.pages[page_no - 1]
        x0, top, x1, bottom = bbox
        chars = [
            c
            for c in page.chars
            if x0 <= (c["x0"] + c["x1"]) / 2 <= x1 and top <= (c["top"] + c["bottom"]) / 2 <= bottom
        ]
        digits = sorted((c for c in chars if c["text"].isdigit()), key=lambda c: c["x0"])
        height = page.height
    if not digits:
        return None
    last = digits[-1]
    writer = PdfWriter(clone_from=PdfReader(source))
    pdf_page = writer.pages[page_no - 1]
    stream, glyphs = _glyphs(pdf_page, writer)
    x, baseline = last["x0"], height - last["y0"]
    index, font, _, _ = min(glyphs, key=lambda g: abs(g[2] - x) + abs((height - g[3]) - baseline))
    codes = _codes(pdf_page["/Resources"]["/Font"][font])
    old = int(last["text"])
    for new in (old + 1, old - 1, old + 2, old - 2, old + 3):
        if 0 <= new <= 9 and str(new) in codes:
            stream.operations[index] = ([ByteStringObject(codes[str(new)])], b"Tj")
            pdf_page.replace_contents(stream)
            writer.write(target)
            number = "".join(c["text"] for c in digits[:-1]) + str(new)
            return int(number)
    return None


# Operators that draw or clip paths and images: left out of the text's second drawing.
_NOT_TEXT = {
    *(
        op.encode()
        for op in [
            "m",
            "l",
            "c",
            "v",
            "y",
            "h",
            "re",
            "S",
            "s",
            "f",
            "F",
            "f*",
            "B",
            "B*",
            "b",
            "b*",
            "n",
            "W",
            "W*",
            "Do",
            "sh",
        ]
    ),
    b"INLINE IMAGE",
}
_SHOW_TEXT = {b"Tj", b"TJ", b"'", b'"'}


def draw_text_twice(source: Path, target: Path, dx: float, dy: float = 0.0, font: str = "") -> Path:
    """Every page's text drawn a second time ``dx``, ``dy`` points aside (a fake bold as some PDF
    producers make it), rules and images once; with ``font``, only the text in the fonts whose
    name holds it (LibreOffice prints the digits of a Chinese document in DejaVu)."""
    from pypdf.generic import FloatObject

    writer = PdfWriter(clone_from=PdfReader(source))
    for page in writer.pages:
        fonts = page["/Resources"]["/Font"]
        chosen = {key for key in fonts if font in str(fonts[key].get_object().get("/BaseFont", ""))}
        stream = ContentStream(page.get_contents(), writer)
        once = list(stream.operations)
        text, current = [], ""
        for operands, op in once:
            current = str(operands[0]) if op == b"Tf" else current
            if op not in _NOT_TEXT and (op not in _SHOW_TEXT or current in chosen):
                text.append((operands, op))
        shift = [FloatObject(v) for v in (1, 0, 0, 1, dx, dy)]
        stream.operations = [([], b"q"), *once, ([], b"Q"), ([], b"q"), (shift, b"cm"), *text, ([], b"Q")]
        page.replace_contents(stream)
    writer.write(target)
    return target


def add_watermark(source: Path, target: Path, text: str, degrees: float, size: float = 48) -> Path:
    """Every page with ``text`` drawn over it in light grey, turned ``degrees``, as portals stamp
    downloads; in a font of the document that holds its characters (the fixture's digits: DejaVu)."""
    import math

    from pypdf.generic import FloatObject, NameObject

    writer = PdfWriter(clone_from=PdfReader(source))
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    for page in writer.pages:
        fonts = page["/Resources"]["/Font"]
        key = next(k for k in fonts if all(c in _codes(fonts[k].get_object()) for c in text))
        codes = _codes(fonts[key].get_object())
        stamp = [
            ([], b"q"),
            ([FloatObject(0.8)], b"g"),
            ([], b"BT"),
            ([NameObject(key), FloatObject(size)], b"Tf"),
            ([FloatObject(v) for v in (cos, sin, -sin, cos, 150, 250)], b"Tm"),
            ([ByteStringObject(b"".join(codes[c] for c in text))], b"Tj"),
            ([], b"ET"),
            ([], b"Q"),
        ]
        stream = ContentStream(page.get_contents(), writer)
        stream.operations = [([], b"q"), *stream.operations, ([], b"Q"), *stamp]
        page.replace_contents(stream)
    writer.write(target)
    return target
