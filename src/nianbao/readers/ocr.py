"""OCR reader: page images (PNG, JPEG, TIFF, BMP) and the image-only pages of PDFs, read offline.

rapidocr (PP-OCR models on onnxruntime, shipped inside its wheel) reads the text; OpenCV finds the
table's ruling lines. The result is the same document model every reader gives: paragraphs, and
tables of located cells, so the one extractor reads scans as it reads Word files.

A page goes through these steps:

1. Ink: the page in grey as each pixel's lightest channel, ``max(B, G, R)``: black print stays
   black, a red or blue seal stamped over the table is nearly paper; what JPEG leaves of the
   seal's strokes (light but tinted) is made paper, while print under the seal (dark) stays.
2. Text boxes are found on the page scaled to at most ``_DET_SIDE`` pixels (the detector's cost
   grows with the area; at 960 pixels an A4 page is about 80 dpi, and its boxes read the
   benchmark's scans as well as at 1280; at 800 they did not).
3. Orientation and skew: long text boxes standing upright mean a page turned a quarter; the
   direction classifier's vote on the widest lines tells a page upside down; the skew is the
   angle at which the rows of print are sharpest. The page is turned and straightened by one
   affine map, the boxes with it, and the inverse map takes every location back to the image.
4. Ruled tables: horizontal and vertical rules by morphological opening of the binarised page;
   each closed region between rules is a cell, and a cell that a rule of the table partly
   crosses (a rule broken by a stamp or noise) is cut along it. Rows of boxes standing in
   columns outside ruled tables (a table printed without rules) are cut into cells by columns.
5. A ruled cell is read line by line from its own print (bands of rows holding ink), so a
   detector box joining a narrow cell's lines, or running over a rule, does not matter. Text
   outside tables is read by its detected boxes at full resolution. The line crops are packed
   side by side into strips, one recogniser call a strip (see :func:`_recognise`).

Digits are never guessed. Each value keeps the confidence of its least certain character. After
the extractor has placed the cells, :func:`settle` re-reads every value that is uncertain (low
confidence, a character like O or l read as a digit) or that breaks the table's arithmetic
(AR01–AR04) from sharper crops (upscaled, binarised). A value the readings do not agree on is
abstained from: its cell holds U+FFFD (null in the record) and an RD20 finding names the cell, its
confidence and the candidates.

Locations are ``{"page": p, "bbox": [x0, top, x1, bottom]}`` as for PDFs: in PDF points on a PDF's
scanned page, in pixels of the image as stored on an image file.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import math
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao import formats
from nianbao.errors import read_error, reading
from nianbao.model import Block, Cell, Document, Location, Paragraph, Table
from nianbao.numbers import UNREADABLE
from nianbao.readers.errors import ReadError
from nianbao.record import Finding

OCR_INSTALL_COMMAND = "pip install 'nianbao[ocr]'"

# Magic numbers of the image files read here (the name's suffix is not trusted).
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

# The model files rapidocr 3.x ships in its wheel, read from there; nianbao never downloads one.
_MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

_DET_SIDE = 960  # the detector sees the page at most this many pixels long
_DIGIT_SURE = 0.95  # a value's least certain character at or above this is read without a second look
_AGREED = 0.90  # readings that agree settle a value when the best is at least this sure
_TINT = 50  # channels further apart than this: coloured ink (a stamp), not black print
_STAMP_LIGHT = 150  # a tinted pixel lighter than this is a stamp's; darker is print under it
_MAX_PIXELS = 60_000_000  # a page image larger than this is refused (a 600 dpi A3 page is 70 M)


def image_kind(head: bytes) -> str | None:
    """The image type from the file's first bytes, or None."""
    for magic, kind in _IMAGE_MAGIC:
        if head.startswith(magic):
            return kind
    return None


def available() -> bool:
    """Whether the OCR extra (rapidocr, onnxruntime, OpenCV) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("rapidocr", "onnxruntime", "cv2"))


def not_installed(what: str) -> ReadError:
    return read_error("RD03", "not_installed", what=what, command=OCR_INSTALL_COMMAND)


# --- the engine ---------------------------------------------------------------------------------

_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()


def model_dir() -> Path:
    """Where the models are read from: the rapidocr package's own ``models`` folder."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise not_installed("扫描件")
    return Path(spec.origin).parent / "models"


def _engine() -> Any:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from rapidocr import RapidOCR

            root = model_dir()
            missing = [name for name in _MODEL_FILES.values() if not (root / name).is_file()]
            if missing:
                raise read_error("RD03", "models", folder=root, files="、".join(missing), command=OCR_INSTALL_COMMAND)
            threads = int(os.environ.get("NIANBAO_OCR_THREADS", "1"))
            params: dict[str, Any] = {
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
            for part, name in _MODEL_FILES.items():
                params[f"{part}.model_path"] = str(root / name)
            _ENGINE = RapidOCR(params=params)
        return _ENGINE


def _detect(image: Any) -> list[Any]:
    """Text boxes (4×2 corner arrays) of a BGR image."""
    found = _engine()._load_det_model()(image)
    return [] if found.boxes is None else list(found.boxes)


@dataclass(frozen=True)
class Reading:
    text: str
    score: float  # the recogniser's mean over the line
    least: float  # its least certain character's confidence


# The recogniser reads images 48 pixels high; its output has one column every 8 pixels; its cost
# is the input's width. rapidocr pads every image to at least 320 pixels wide, so a cell of two
# digits (about 60 pixels) cost as much as a line of text. Short crops are therefore packed side
# by side into strips, white gaps between them, and each character is given back to the crop
# under its column; a crop read alone (a re-read) is padded to 96 pixels only, which read the
# benchmark's scans as padding to 320 did (same cells right and abstained from).
_REC_HEIGHT = 48
_REC_STRIDE = 8  # pixels of the input per output column
_REC_MIN_WIDTH = 96  # the narrowest input (the rest grey, as rapidocr pads)
_PACK_GAP = 24  # white pixels between packed crops: three output columns
_PACK_WIDTH = 1600  # a strip's widest (the model's cost grows a little faster than its width)


@dataclass(frozen=True)
class _Slot:
    """Where a crop lies in its strip: strip number and its first and last pixel column."""

    strip: int
    x0: int
    x1: int


def _rec_input(crop: Any) -> Any:
    """A crop as the recogniser takes it: grey, 48 pixels high, scaled to −1..1."""
    import cv2
    import numpy as np

    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    resized_w = max(1, math.ceil(_REC_HEIGHT * width / max(height, 1)))
    resized = cv2.resize(gray, (resized_w, _REC_HEIGHT)).astype(np.float32)
    return resized / 127.5 - 1.0


def _packed(lines: list[Any]) -> tuple[list[Any], list[_Slot]]:
    """The crops laid into strips (a wide one alone), and each crop's slot."""
    import numpy as np

    # In reading order: a strip is then a table's row or a run of cells, mixed like printed text.
    # Sorted by width, the cells holding one 0 came together, and the recogniser read a strip of
    # them as the letter O.
    slots: list[_Slot] = []
    strips: list[list[Any]] = []
    width = 0
    for line in lines:
        if not strips or width + _PACK_GAP + line.shape[1] > _PACK_WIDTH:
            strips.append([])
            width = 0
        x0 = width + (_PACK_GAP if strips[-1] else 0)
        if strips[-1]:
            strips[-1].append(np.ones((_REC_HEIGHT, _PACK_GAP), np.float32))
        strips[-1].append(line)
        width = x0 + line.shape[1]
        slots.append(_Slot(len(strips) - 1, x0, width))
    return [np.hstack(parts) for parts in strips], slots


def _run_strips(strips: list[Any]) -> list[list[tuple[str, float, float]]]:
    """Each strip's characters as (character, confidence, x of its column's middle): a CTC
    decoding of the recogniser's output (repeats joined, blanks dropped). One strip a call:
    onnxruntime's cost is its input's width, and a batch padded to its widest costs more."""
    import numpy as np

    rec = _engine()._load_rec_model()
    alphabet = rec.postprocess_op.character
    out: list[list[tuple[str, float, float]]] = []
    for strip in strips:
        width = max(_REC_MIN_WIDTH, strip.shape[1])
        inputs = np.zeros((1, 3, _REC_HEIGHT, width), np.float32)
        inputs[0, :, :, : strip.shape[1]] = strip
        preds = rec.session(inputs)[0]
        stride = width / preds.shape[0]
        chars = []
        previous = -1
        for t, (index, p) in enumerate(zip(preds.argmax(axis=1).tolist(), preds.max(axis=1).tolist())):
            if index != previous and index != 0:
                chars.append((alphabet[index], float(p), (t + 0.5) * stride))
            previous = index
        out.append(chars)
    return out


def _reading(chars: list[tuple[str, float, float]]) -> Reading:
    """A crop's reading from its characters; spaces at its ends (the gap's) left out."""
    while chars and not chars[0][0].strip():
        chars = chars[1:]
    while chars and not chars[-1][0].strip():
        chars = chars[:-1]
    if not chars:
        return Reading("", 0.0, 0.0)
    confs = [c for _, c, _ in chars]
    return Reading("".join(ch for ch, _, _ in chars), sum(confs) / len(confs), min(confs))


def _recognise(crops: Sequence[Any], pack: bool = True) -> list[Reading]:
    """The text of each crop (a line image), with its confidences.

    A character is given to the crop under its column. One that falls in a gap (the recogniser
    saw something between the crops) makes the nearest crop be read again alone, so a character
    is never given to the wrong crop.
    """
    if not crops:
        return []
    lines = [_rec_input(c) for c in crops]
    if not pack:
        return [_reading(chars) for chars in _run_strips(lines)]
    strips, slots = _packed(lines)
    found = _run_strips(strips)
    chars: list[list[tuple[str, float, float]]] = [[] for _ in crops]
    alone: set[int] = set()
    by_strip: dict[int, list[int]] = {}
    for i, slot in enumerate(slots):
        by_strip.setdefault(slot.strip, []).append(i)
    for number, members in by_strip.items():
        for char in found[number]:
            x = char[2]
            i = min(members, key=lambda m: max(slots[m].x0 - x, x - slots[m].x1, 0.0))
            if slots[i].x0 - _REC_STRIDE <= x <= slots[i].x1 + _REC_STRIDE:
                chars[i].append(char)
            elif char[0].strip():
                alone.add(i)
    again = sorted(alone)
    for i, read in zip(again, _run_strips([lines[i] for i in again])):
        chars[i] = read
    return [_reading(c) for c in chars]


def _upside_down(crops: Sequence[Any]) -> bool:
    """Whether most of these line images are upside down (the direction classifier)."""
    if not crops:
        return False
    out = _engine()._load_cls_model()(list(crops))
    votes = [label == "180" for label, score in (out.cls_res or ()) if score >= 0.6]
    return bool(sum(votes) * 2 > len(votes))


# --- page preparation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page made ready to read: upright, straight, in ink."""

    number: int
    gray: Any  # uint8 array, upright and deskewed
    to_source: Any  # 3×3 matrix: prepared pixel -> pixel of the image as stored
    boxes: tuple[tuple[float, float, float, float], ...]  # text boxes in prepared pixels
    turn: int  # quarter turns applied (0, 90, 180, 270 degrees clockwise)
    skew: float  # degrees straightened


def ink(image: Any) -> Any:
    """The page in grey where only print is dark: each pixel's lightest channel, so a red (or
    blue) stamp is nearly as light as its paper while black print under it stays black."""

    if image.ndim == 3:
        import cv2

        blue, green, red = cv2.split(image[:, :, :3])
        gray = cv2.max(cv2.max(blue, green), red)
        # What JPEG's colour blur leaves of a stamp's strokes is darker than the stamp but still
        # tinted: light and tinted is the stamp's. Print under the stamp is dark, and stays.
        tint = cv2.subtract(gray, cv2.min(cv2.min(blue, green), red))
        stamp = (tint > _TINT) & (gray > _STAMP_LIGHT)
        gray[stamp] = 255
    else:
        gray = image
    return gray


def _turn_matrix(turn: int, width: int, height: int) -> Any:
    import numpy as np

    if turn == 90:  # clockwise: (x, y) -> (H-1-y, x)
        return np.array([[0.0, -1.0, height - 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    if turn == 180:
        return np.array([[-1.0, 0.0, width - 1.0], [0.0, -1.0, height - 1.0], [0.0, 0.0, 1.0]])
    if turn == 270:
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, width - 1.0], [0.0, 0.0, 1.0]])
    return np.eye(3)


def _quad_angle(quad: Any) -> tuple[float, float, float]:
    """A box's long-edge length, short-edge length and the long edge's angle in degrees (−90, 90]."""
    (x0, y0), (x1, y1), (x2, y2) = quad[0], quad[1], quad[2]
    top = math.hypot(x1 - x0, y1 - y0)
    side = math.hypot(x2 - x1, y2 - y1)
    if top >= side:
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
        long, short = top, side
    else:
        angle = math.degrees(math.atan2(y2 - y1, x2 - x1))
        long, short = side, top
    while angle <= -90:
        angle += 180
    while angle > 90:
        angle -= 180
    return long, short, angle


def _fine_skew(small: Any, coarse: float) -> float:
    """The skew to a fiftieth of a degree: the angle at which the page's rows of print are
    sharpest (the row profile's variance is largest), searched within 3 degrees of the text
    boxes' slope when that is large, else of level, then refined."""
    import cv2
    import numpy as np

    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    height, width = binary.shape
    centre = (width / 2, height / 2)

    def sharpness(angle: float) -> float:
        turned = cv2.warpAffine(
            binary, cv2.getRotationMatrix2D(centre, angle, 1.0), (width, height), flags=cv2.INTER_NEAREST
        )
        return float(np.var(turned.sum(axis=1, dtype=np.float64)))

    # The sharpness peak is about a line height over the page's width wide (near a degree), so a
    # search by fifths of a degree finds it; two finer searches place it.
    start = coarse if abs(coarse) > 2.5 else 0.0
    best = max((start + k * 0.2 for k in range(-15, 16)), key=sharpness)
    best = max((best + k * 0.05 for k in range(-4, 5)), key=sharpness)
    return max((best + k * 0.02 for k in range(-2, 3)), key=sharpness)


def prepare(image: Any, number: int) -> Page:
    """The page upright and straight, with its text boxes."""
    import cv2
    import numpy as np

    gray = ink(image)
    height, width = gray.shape
    if height * width > _MAX_PIXELS:
        raise read_error("RD01", "image_size", page=number, width=width, height=height)
    scale = min(1.0, _DET_SIDE / max(height, width))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    quads = [np.asarray(q, dtype=float) / scale for q in _detect(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR))]
    lines = [(q, *_quad_angle(q)) for q in quads]
    long_lines = [(q, long, short, a) for q, long, short, a in lines if long >= 3 * short]
    upright = sum(1 for _, _, _, a in long_lines if abs(a) > 45)
    sideways = upright * 2 > len(long_lines) and upright >= 3
    # The skew: the median slope of the long lines, measured from their own axis.
    slopes = sorted(((a - 90 if a > 45 else a + 90 if a < -45 else a) for _, _, _, a in long_lines))
    skew = slopes[len(slopes) // 2] if slopes else 0.0
    if abs(skew) > 10:
        skew = 0.0
    if not sideways:
        skew = _fine_skew(small, skew)
    turn = 90 if sideways else 0
    # Upside down? The classifier on the widest lines, turned as the page will be.
    samples = sorted(long_lines, key=lambda item: -item[1])[:8]
    crops = []
    for q, _, _, _ in samples:
        x0, y0 = np.floor(q.min(axis=0)).astype(int)
        x1, y1 = np.ceil(q.max(axis=0)).astype(int)
        crop = gray[max(y0, 0) : y1, max(x0, 0) : x1]
        if crop.size == 0:
            continue
        if sideways:
            crop = cv2.rotate(crop, cv2.ROTATE_90_CLOCKWISE)
        crops.append(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR))
    if _upside_down(crops):
        turn = (turn + 180) % 360
    turned_matrix = _turn_matrix(turn, width, height)
    turned_w, turned_h = (height, width) if turn in (90, 270) else (width, height)
    # Straighten: rotate about the centre by the skew, growing the canvas to keep every corner.
    rotation = cv2.getRotationMatrix2D((turned_w / 2, turned_h / 2), skew, 1.0)
    cos, sin = abs(rotation[0, 0]), abs(rotation[0, 1])
    new_w = math.ceil(turned_h * sin + turned_w * cos)
    new_h = math.ceil(turned_h * cos + turned_w * sin)
    rotation[0, 2] += new_w / 2 - turned_w / 2
    rotation[1, 2] += new_h / 2 - turned_h / 2
    forward = np.vstack([rotation, [0.0, 0.0, 1.0]]) @ turned_matrix
    prepared = cv2.warpAffine(
        gray, forward[:2], (new_w, new_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )
    boxes = []
    for q in quads:
        moved = (forward @ np.vstack([q.T, np.ones(4)]))[:2].T
        x0, y0 = moved.min(axis=0)
        x1, y1 = moved.max(axis=0)
        boxes.append((float(x0), float(y0), float(x1), float(y1)))
    return Page(number, prepared, np.linalg.inv(forward), tuple(boxes), turn, round(float(skew), 2))


# --- table structure -----------------------------------------------------------------------------

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in prepared pixels


def binarised(gray: Any) -> Any:
    """Dark print as 255 on 0, by a local threshold (uneven scans and JPEG haze stay background)."""
    import cv2

    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)


def ruled_tables(gray: Any) -> tuple[list[list[list[Rect]]], Any]:
    """Each ruled table's rows of cell rectangles (a merged cell in the first row it covers), and
    the page's print without the rules (to tell a cell with ink from an empty one)."""
    import cv2
    import numpy as np

    binary = binarised(gray)
    height, width = binary.shape
    horizontal = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(width // 30, 25), 1))
    )
    vertical = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(height // 60, 20)))
    )
    # Small breaks in a rule (noise, a stamp's edge over it) are closed along the rule.
    bridge = max(width // 100, 9)
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1)))
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, bridge)))
    rules = cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8), iterations=1)
    print_only = cv2.bitwise_and(binary, cv2.bitwise_not(rules))
    tables: list[list[list[Rect]]] = []
    contours, _ = cv2.findContours(rules, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w < width * 0.25 or h < 40:
            continue
        region = cv2.bitwise_not(rules[y : y + h, x : x + w])
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=4)
        cells: list[Rect] = []
        for label in range(1, count):
            cx, cy, cw, ch, area = (int(v) for v in stats[label])
            if cx == 0 or cy == 0 or cx + cw >= w or cy + ch >= h:
                continue  # outside the table's outline
            if cw < 8 or ch < 8 or area < 0.5 * cw * ch:
                continue
            cells.append((x + cx, y + cy, x + cx + cw, y + cy + ch))
        if len(cells) < 4:
            continue
        tables.append(_rows_of(_mended(cells, horizontal, vertical)))
    tables.sort(key=lambda rows: (rows[0][0][1], rows[0][0][0]))
    return tables, print_only


def _mended(cells: list[Rect], horizontal: Any, vertical: Any) -> list[Rect]:
    """The cells with broken rules mended: a cell that a rule of the table partly crosses (a
    stamp or noise broke the rule, so two cells joined) is cut along it. A merged cell of the
    printed table has no rule through it at all and stays whole."""
    xs = sorted({c[0] for c in cells})
    ys = sorted({c[1] for c in cells})
    out: list[Rect] = []
    for x0, y0, x1, y1 in cells:
        cut_x = [x for x in xs if x0 + 6 < x < x1 - 6 and _covered(vertical[y0:y1, max(x - 4, 0) : x + 1], axis=1)]
        cut_y = [y for y in ys if y0 + 6 < y < y1 - 6 and _covered(horizontal[max(y - 4, 0) : y + 1, x0:x1], axis=0)]
        lefts, tops = [x0, *cut_x], [y0, *cut_y]
        rights, bottoms = [*(x - 3 for x in cut_x), x1], [*(y - 3 for y in cut_y), y1]
        out.extend((a, b, c, d) for a, c in zip(lefts, rights) for b, d in zip(tops, bottoms))
    return out


def _covered(strip: Any, axis: int) -> bool:
    """Whether a rule runs through more than a third of this strip's length."""
    if strip.size == 0:
        return False
    return bool((strip > 0).any(axis=axis).mean() > 0.3)


def _rows_of(cells: list[Rect]) -> list[list[Rect]]:
    """Cells grouped into rows by their tops, each row left to right."""
    cells = sorted(cells, key=lambda c: (c[1], c[0]))
    heights = sorted(c[3] - c[1] for c in cells)
    tolerance = max(4, int(heights[len(heights) // 2] * 0.4))
    rows: list[list[Rect]] = []
    top = -(10**9)
    for cell in cells:
        if cell[1] > top + tolerance:
            rows.append([])
            top = cell[1]
        rows[-1].append(cell)
    return [sorted(row) for row in rows]


# --- values --------------------------------------------------------------------------------------

# Characters the recogniser gives for a digit when the cell may only hold a number.
_LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "〇": "0",
        "l": "1",
        "I": "1",
        "|": "1",
        "丨": "1",
        "!": "1",
        "i": "1",
        "S": "5",
        "B": "8",
        "Z": "2",
    }
)
_NUMBER_SHAPED_RE = re.compile(r"^[-−]?[0-9OoDQ〇lI|丨!iSBZ]+(?:[.,][0-9OoDQ〇lI|丨!iSBZ]+)*$")
_DIGIT_RE = re.compile(r"^-?\d+(?:[.,]\d+)*$")


def as_value_text(text: str) -> tuple[str, bool] | None:
    """A cell's text read as a number: (digits, whether look-alike characters were turned into
    digits), or None when the text is not shaped like a number (a label, a heading)."""
    compact = re.sub(r"\s+", "", text).replace("−", "-")
    if not compact or not _NUMBER_SHAPED_RE.match(compact):
        return None
    if not any(ch.isdigit() for ch in compact) and len(compact) > 1:
        return None  # "Il" or "OO" alone is not a number with any confidence
    digits = compact.translate(_LOOKALIKES)
    return digits, digits != compact


@dataclass(frozen=True)
class CellRead:
    """How one OCR'd value was read: where, what, how sure."""

    page: int
    rect: Rect  # in the prepared page's pixels
    text: str  # as placed in the cell
    confidence: float  # least certain character
    lookalike: bool  # a look-alike character was read as a digit
    candidates: tuple[tuple[str, float], ...] = ()


@dataclass
class Session:
    """The pages read by OCR in one document, kept for re-reading uncertain values."""

    pages: dict[int, Page] = field(default_factory=dict)
    prints: dict[int, Any] = field(default_factory=dict)  # each page's print without its rules
    reads: dict[tuple[int, tuple[float, ...]], CellRead] = field(default_factory=dict)
    scanned: list[int] = field(default_factory=list)


# --- a page -> blocks ----------------------------------------------------------------------------


def _crop(gray: Any, rect: Rect, pad: int = 0) -> Any:
    x0, y0, x1, y1 = rect
    height, width = gray.shape
    return gray[max(y0 - pad, 0) : min(y1 + pad, height), max(x0 - pad, 0) : min(x1 + pad, width)]


def _line_image(gray: Any, rect: Rect) -> Any:
    import cv2

    # A thin white margin: packed crops are parted by the strip's own gaps.
    return cv2.copyMakeBorder(_crop(gray, rect), 4, 4, 2, 2, cv2.BORDER_CONSTANT, value=255)


def _inset(rect: Rect, by: int) -> Rect:
    x0, y0, x1, y1 = rect
    return (x0 + by, y0 + by, max(x1 - by, x0 + by + 1), max(y1 - by, y0 + by + 1))


@dataclass(frozen=True)
class _Line:
    rect: Rect
    reading: Reading


def read_page(page: Page, session: Session, to_unit: float, looks: dict[int, Any] | None = None) -> list[Block]:
    """The page's blocks; every location in the output unit (``to_unit`` per source pixel).

    ``looks`` (the PDF reader's record of how each text line is printed) receives the text
    lines' sizes so that the PDF reader's paragraph joining treats them like its own lines.
    """
    import numpy as np

    gray = page.gray
    tables, print_only = ruled_tables(gray)
    session.prints[page.number] = print_only
    boxes: list[Rect] = []
    for x0, y0, x1, y1 in page.boxes:
        rect = (math.floor(x0) - 2, math.floor(y0) - 2, math.ceil(x1) + 2, math.ceil(y1) + 2)
        if rect[2] - rect[0] >= 4 and rect[3] - rect[1] >= 4:
            boxes.append(rect)
    cell_rects = [cell for rows in tables for row in rows for cell in row]
    # Text outside the ruled tables is read by its detected boxes; a table's cells are read line
    # by line from their own print (a detector's box may join a narrow cell's lines, or run over
    # a rule into the next cell).
    outside = [b for b in boxes if _containing(b, cell_rects) is None]
    glyph = _glyph_height(page.boxes)
    cell_lines = {c: _ink_lines(print_only, c, glyph) for c in cell_rects}
    wanted = [(c, band) for c in cell_rects for band in cell_lines[c]]
    readings = _recognise([_line_image(gray, b) for b in outside] + [_line_image(gray, band) for _, band in wanted])
    lines = [_Line(b, r) for b, r in zip(outside, readings) if r.text.strip()]
    texts: dict[Rect, list[_Line]] = {}
    for (cell, band), got in zip(wanted, readings[len(outside) :]):
        texts.setdefault(cell, []).append(_Line(band, got if got.text.strip() else Reading(UNREADABLE, 0.0, 0.0)))

    def unit_box(rect: Rect) -> list[float]:
        corners = np.array(
            [[rect[0], rect[1], 1.0], [rect[2], rect[1], 1.0], [rect[0], rect[3], 1.0], [rect[2], rect[3], 1.0]]
        )
        source = (page.to_source @ corners.T)[:2].T * to_unit
        x0, y0 = source.min(axis=0)
        x1, y1 = source.max(axis=0)
        return [round(float(x0), 1), round(float(y0), 1), round(float(x1), 1), round(float(y1), 1)]

    def location(rect: Rect) -> Location:
        return {"page": page.number, "bbox": unit_box(rect)}

    items: list[tuple[float, float, Block]] = []
    for rows in tables:
        table_rows: list[tuple[Cell, ...]] = []
        origin = 0
        for row in rows:
            cells: list[Cell] = []
            for rect in row:
                parts = sorted(texts.get(rect, []), key=lambda ln: (ln.rect[1] // 8, ln.rect[0]))
                text = _cell_text(parts)
                loc = location(rect)
                text = _note_value(session, page.number, rect, loc, text, parts)
                cells.append(Cell(text, loc, origin))
                origin += 1
            table_rows.append(tuple(cells))
        first = rows[0][0]
        items.append((first[1], first[0], Table(tuple(table_rows))))
    for y, x, block in _text_blocks(lines, page, session, location, looks):
        items.append((y, x, block))
    items.sort(key=lambda it: (round(it[0]), it[1]))
    return [b for _, _, b in items]


def _containing(rect: Rect, cells: list[Rect]) -> Rect | None:
    cx, cy = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
    for cell in cells:
        if cell[0] <= cx < cell[2] and cell[1] <= cy < cell[3]:
            return cell
    return None


def _ink_rect(print_only: Any, rect: Rect) -> Rect:
    """The part of a cell its print covers (the whole cell's inside when it holds none), so that
    a digit in a tall cell is read at the height the recogniser expects."""
    import numpy as np

    inner = _inset(rect, 3)
    crop = _crop(print_only, inner)
    ys, xs = np.nonzero(crop)
    if len(xs) < 4:
        return inner
    pad = 4
    x0, y0 = inner[0] + int(xs.min()) - pad, inner[1] + int(ys.min()) - pad
    x1, y1 = inner[0] + int(xs.max()) + 1 + pad, inner[1] + int(ys.max()) + 1 + pad
    return (max(x0, rect[0] + 1), max(y0, rect[1] + 1), min(x1, rect[2] - 1), min(y1, rect[3] - 1))


def _glyph_height(boxes: Sequence[tuple[float, float, float, float]]) -> float:
    """The page's usual character height: the middle text box's height, less the detector's margin."""
    heights = sorted(b[3] - b[1] for b in boxes if b[2] - b[0] > b[3] - b[1])
    return heights[len(heights) // 2] * 0.8 if heights else 24.0


def _ink_lines(print_only: Any, rect: Rect, glyph: float) -> list[Rect]:
    """The text lines printed in a cell: bands of rows holding print, a character's separate
    strokes (二, 三) kept in one band, specks of noise left out."""
    import numpy as np

    inner = _inset(rect, 3)
    crop = _crop(print_only, inner)
    if crop.size == 0:
        return []
    profile = (crop > 0).sum(axis=1)
    rows = np.nonzero(profile >= 2)[0]
    if len(rows) == 0:
        return []
    bands: list[list[int]] = []
    for y in rows.tolist():
        if bands and y - bands[-1][1] <= 2:
            bands[-1][1] = y
        else:
            bands.append([y, y])
    merged: list[list[int]] = []
    for band in bands:
        if merged and band[1] - merged[-1][0] + 1 <= glyph * 1.2:
            merged[-1][1] = band[1]
        else:
            merged.append(list(band))
    out: list[Rect] = []
    for top, bottom in merged:
        if bottom - top + 1 < max(4.0, glyph * 0.25):
            continue  # a speck, or what is left of a rule
        cols = np.nonzero((crop[top : bottom + 1] > 0).sum(axis=0))[0]
        if len(cols) == 0 or int((crop[top : bottom + 1] > 0).sum()) < 12:
            continue
        pad = 4
        out.append(
            (
                max(inner[0] + int(cols.min()) - pad, rect[0] + 1),
                max(inner[1] + top - pad, rect[1] + 1),
                min(inner[0] + int(cols.max()) + 1 + pad, rect[2] - 1),
                min(inner[1] + bottom + 1 + pad, rect[3] - 1),
            )
        )
    return out


def _cell_text(parts: list[_Line]) -> str:
    lines: list[list[_Line]] = []
    for part in parts:
        if lines and abs(part.rect[1] - lines[-1][0].rect[1]) < (part.rect[3] - part.rect[1]) / 2:
            lines[-1].append(part)
        else:
            lines.append([part])
    return "\n".join(" ".join(p.reading.text.strip() for p in sorted(line, key=lambda p: p.rect[0])) for line in lines)


_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def _note_value(session: Session, page: int, rect: Rect, loc: Location, text: str, parts: list[_Line]) -> str:
    """A value cell's text as digits, its reading kept for :func:`settle`; other text as read.

    A cell with print but no legible line, or only a stray mark or two (T, K, \\), is a value
    the recogniser could not read: U+FFFD, settled later. A number with a stray mark beside it (a
    remnant of a stamp, a speck read as 一) is read without the mark but marked unsure.
    """
    key = (page, tuple(loc["bbox"]))
    legible = [p for p in parts if p.reading.text.strip() and p.reading.text != UNREADABLE]
    if parts and not legible:
        session.reads[key] = CellRead(page, rect, UNREADABLE, 0.0, False)
        return UNREADABLE
    numbers = [p for p in legible if as_value_text(p.reading.text)]
    stray = [p for p in legible if p not in numbers]
    if not numbers:
        compact = re.sub(r"\s+", "", text)
        if compact and len(compact) <= 2 and not _CJK_RE.search(compact):
            session.reads[key] = CellRead(page, rect, UNREADABLE, 0.0, False)
            return UNREADABLE
        return text
    if any(len(p.reading.text.strip()) > 2 for p in stray):
        return text  # text with numbers in it (a label, a note): the extractor reads it
    if len(numbers) > 1:
        # Lines of numbers in one cell are never one value: the cell is unreadable, not a run of
        # digits for the extractor to split.
        candidates = tuple((as_value_text(p.reading.text) or ("", False))[0] for p in numbers)
        session.reads[key] = CellRead(page, rect, UNREADABLE, 0.0, False, tuple((c, 0.0) for c in candidates))
        return UNREADABLE
    value = as_value_text(numbers[0].reading.text)
    assert value is not None
    digits, lookalike = value
    confidence = min(p.reading.least for p in numbers)
    session.reads[key] = CellRead(
        page, numbers[0].rect if stray else rect, digits, confidence, lookalike or bool(stray)
    )
    return digits


# Boxes further apart than this many line heights are cells of a table printed without rules.
_COLUMN_GAP = 1.5


def _text_blocks(
    lines: list[_Line], page: Page, session: Session, location: Any, looks: dict[int, Any] | None
) -> Iterable[tuple[float, float, Block]]:
    """Text outside ruled tables: boxes on one baseline make a line; a run of lines whose boxes
    stand apart in columns is a table without rules, cut into cells by the columns."""
    rows: list[list[_Line]] = []
    for line in sorted(lines, key=lambda ln: ((ln.rect[1] + ln.rect[3]) / 2, ln.rect[0])):
        mid = (line.rect[1] + line.rect[3]) / 2
        if rows:
            last = rows[-1][0].rect
            if abs(mid - (last[1] + last[3]) / 2) < (last[3] - last[1]) / 2:
                rows[-1].append(line)
                continue
        rows.append([line])
    spaced_run: list[list[_Line]] = []
    for row in rows:
        row.sort(key=lambda ln: ln.rect[0])
        height = max(ln.rect[3] - ln.rect[1] for ln in row)
        gaps = sum(1 for a, b in itertools.pairwise(row) if b.rect[0] - a.rect[2] > _COLUMN_GAP * height)
        if gaps >= 2 and sum(1 for ln in row if as_value_text(ln.reading.text)) >= 2:
            spaced_run.append(row)
            continue
        if spaced_run:
            yield _unruled_table(spaced_run, page, session, location)
            spaced_run = []
        rect = (
            min(ln.rect[0] for ln in row),
            min(ln.rect[1] for ln in row),
            max(ln.rect[2] for ln in row),
            max(ln.rect[3] for ln in row),
        )
        text = (
            "".join(ln.reading.text.strip() for ln in row)
            if gaps == 0
            else "  ".join(ln.reading.text.strip() for ln in row)
        )
        paragraph = Paragraph(text, location(rect))
        if looks is not None:
            from nianbao.readers.pdf import LineLook

            box = paragraph.location["bbox"]
            looks[id(paragraph)] = LineLook(round((box[3] - box[1]) * 0.8, 0), gaps >= 2)
        yield (rect[1], rect[0], paragraph)
    if spaced_run:
        yield _unruled_table(spaced_run, page, session, location)


@dataclass(frozen=True)
class _UnruledRow:
    label: tuple[_Line, ...]
    values: dict[int, _Line]  # column -> the number's line
    top: int
    bottom: int


def _unruled_table(rows: list[list[_Line]], page: Page, session: Session, location: Any) -> tuple[float, float, Block]:
    """Rows of a table printed without rules: the label (boxes before the first number) is one
    cell; the numbers stand in columns found from all the rows' number boxes, so a blank cell
    stays a blank cell in its column."""
    numbers = [ln for row in rows for ln in row if as_value_text(ln.reading.text)]
    centres = sorted(((ln.rect[0] + ln.rect[2]) / 2, ln.rect[3] - ln.rect[1]) for ln in numbers)
    columns: list[list[float]] = []
    for centre, height in centres:
        if columns and centre - columns[-1][-1] < 1.5 * height:
            columns[-1].append(centre)
        else:
            columns.append([centre])
    spans = [(min(c), max(c)) for c in columns]
    table_rows: list[tuple[Cell, ...]] = []
    origin = 0
    for row in _joined_rows([_unruled_row(row, spans) for row in rows], len(spans)):
        cells: list[Cell] = []
        if row.label:
            label = row.label
            rect = (
                min(ln.rect[0] for ln in label),
                min(ln.rect[1] for ln in label),
                max(ln.rect[2] for ln in label),
                max(ln.rect[3] for ln in label),
            )
            cells.append(Cell("".join(ln.reading.text.strip() for ln in label), location(rect), origin))
            origin += 1
        for k, (low, high) in enumerate(spans):
            ln_or_none = row.values.get(k)
            if ln_or_none is None:
                pad = (row.bottom - row.top) // 2
                rect = (int(low) - pad, row.top, int(high) + pad, row.bottom)
                cells.append(_unruled_blank(rect, page, session, location, origin))
            else:
                loc = location(ln_or_none.rect)
                text = _note_value(session, page.number, ln_or_none.rect, loc, ln_or_none.reading.text, [ln_or_none])
                cells.append(Cell(text, loc, origin))
            origin += 1
        table_rows.append(tuple(cells))
    first = rows[0][0].rect
    return (first[1], first[0], Table(tuple(table_rows)))


def _unruled_blank(rect: Rect, page: Page, session: Session, location: Any, origin: int) -> Cell:
    """A column of a table without rules where the detector found no number: blank if the page
    has no print there; otherwise a number the detector missed, unreadable until :func:`settle`
    reads it from its own crop (never a blank where the page prints something)."""
    loc = location(rect)
    inked = _crop(session.prints[page.number], _inset(rect, 2))
    if int((inked > 0).sum()) < 12:
        return Cell("", loc, origin)
    missed = _Line(rect, Reading(UNREADABLE, 0.0, 0.0))
    return Cell(_note_value(session, page.number, rect, loc, UNREADABLE, [missed]), loc, origin)


def _unruled_row(row: list[_Line], spans: list[tuple[float, float]]) -> _UnruledRow:
    first_number = next(i for i, ln in enumerate(row) if as_value_text(ln.reading.text))
    by_column: dict[int, _Line] = {}
    for ln in row[first_number:]:
        centre = (ln.rect[0] + ln.rect[2]) / 2
        column = min(
            range(len(spans)),
            key=lambda k: (
                0 if spans[k][0] <= centre <= spans[k][1] else min(abs(centre - spans[k][0]), abs(centre - spans[k][1]))
            ),
        )
        by_column[column] = ln
    return _UnruledRow(
        tuple(row[:first_number]), by_column, min(ln.rect[1] for ln in row), max(ln.rect[3] for ln in row)
    )


def _joined_rows(rows: list[_UnruledRow], width: int) -> list[_UnruledRow]:
    """Rows whose numbers fill each other's blank columns, one just under the other, joined: a
    label printed on two lines with the row's numbers between them, where the detector put some
    numbers with the label's first line and some with its second. Left apart, each would show
    blank cells where the page prints a number."""
    out: list[_UnruledRow] = []
    for row in rows:
        if out:
            last = out[-1]
            height = max(ln.rect[3] - ln.rect[1] for ln in (*last.label, *last.values.values()))
            apart = not set(last.values) & set(row.values)
            if apart and len(last.values) < width and row.top - last.bottom < height:
                out[-1] = _UnruledRow(last.label + row.label, {**last.values, **row.values}, last.top, row.bottom)
                continue
        out.append(row)
    return out


# --- settling uncertain values -------------------------------------------------------------------


def _sharper_crops(gray: Any, rect: Rect) -> list[Any]:
    """The cell drawn again, sharper: upscaled ×2 and binarised (Otsu), and upscaled ×3."""
    import cv2

    crop = _crop(gray, rect)
    if crop.size == 0:
        return []
    out = []
    big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    _, otsu = cv2.threshold(big, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    out.append(otsu)
    bigger = cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    out.append(cv2.addWeighted(bigger, 1.6, cv2.GaussianBlur(bigger, (0, 0), 2.0), -0.6, 0))
    return [
        cv2.cvtColor(cv2.copyMakeBorder(im, 10, 10, 14, 14, cv2.BORDER_CONSTANT, value=255), cv2.COLOR_GRAY2BGR)
        for im in out
    ]


_ARITHMETIC = ("AR01", "AR02", "AR03", "AR04")


def _broken_cells(doc: Document, unknown: set[str]) -> tuple[set[str], dict[str, Location], list[Finding]]:
    """The cells of the table relations (AR01–AR04) the document's values break, where each cell
    the extractor placed lies, and the rows whose numbers the extractor placed by arithmetic
    because cells were missing (RD11)."""
    from nianbao.extract import extract
    from nianbao.record import Source
    from nianbao.rules import Config, check

    report = extract(doc, Source("", doc.format))
    guessed = [f for f in report.findings if f.rule == "RD11"]
    if unknown:
        # The rules leave the cells of an abstention (RD07) unjudged; ours are counted so here.
        findings = (*report.findings, Finding("RD07", "warning", "", tuple(sorted(unknown)), {}))
        report = dataclasses.replace(report, findings=findings)
    broken = {c for f in check(report, Config(select=_ARITHMETIC)) if f.rule in _ARITHMETIC for c in f.cells}
    return broken, report.locations, guessed


def _guessed_rows(
    doc: Document, session: Session, guessed: list[Finding]
) -> tuple[Document, dict[tuple[int, tuple[float, ...]], str], list[Finding]]:
    """Rows of a scanned table with fewer numbers than cells: a rule the scan lost joined two
    cells, or the detector read a row printed without rules as one line of text. The extractor
    would place the numbers by the table's arithmetic; on a scan the places are known to be
    wrong, so every value of the row is abstained from (RD20): its cells, or the numbers of its
    line of text, become U+FFFD."""
    decided: dict[tuple[int, tuple[float, ...]], str] = {}
    blanked: dict[int, str] = {}
    findings: list[Finding] = []
    for found in guessed:
        page, box = found.location.get("page"), found.location.get("bbox")
        if page not in session.pages or not box:
            continue
        read_here = []
        for key, read in session.reads.items():
            if key[0] != page or not key[1]:
                continue
            middle = (key[1][1] + key[1][3]) / 2
            if box[1] <= middle <= box[3]:
                decided[key] = UNREADABLE
                read_here.append(read.text)
        for block in doc.blocks:
            numbers = _row_of_numbers(block, page, box)
            if numbers:
                blanked[id(block)] = " ".join(UNREADABLE for _ in numbers)
                read_here.extend(numbers)
        names = "、".join(cell_name(c) for c in found.cells[:1])
        detail = {"candidates": [{"text": t, "confidence": 0.0} for t in read_here]}
        digits = " ".join(read_here) or "无"
        findings.append(
            reading(
                "RD20", "row", cell=names, digits=digits, cells=found.cells, location=found.location, detail=detail
            )
        )
    if blanked:
        blocks = tuple(
            Paragraph(blanked[id(b)], b.location) if isinstance(b, Paragraph) and id(b) in blanked else b
            for b in doc.blocks
        )
        doc = dataclasses.replace(doc, blocks=blocks)
    return doc, decided, findings


def _row_of_numbers(block: Block, page: int, box: Sequence[float]) -> list[str]:
    """The numbers of a line of text read by OCR that lies across ``box`` and holds only numbers."""
    if not isinstance(block, Paragraph) or block.location.get("page") != page:
        return []
    where: Sequence[float] = block.location.get("bbox") or ()
    if len(where) != 4 or not box[1] <= (where[1] + where[3]) / 2 <= box[3]:
        return []
    tokens = block.text.split()
    values = [as_value_text(t) for t in tokens]
    return [v[0] for v in values if v] if tokens and all(values) else []


def settle(doc: Document, session: Session) -> Document:
    """The document with every uncertain or arithmetic-breaking OCR value read again, and those
    still unsettled abstained from (U+FFFD in the cell, an RD20 finding naming it)."""
    if not session.scanned:
        return _with_findings(doc, session, [])
    broken, locations, guessed = _broken_cells(doc, set())
    path_at = {(loc.get("page"), tuple(loc.get("bbox") or ())): path for path, loc in locations.items()}
    doc, decided, row_findings = _guessed_rows(doc, session, guessed)
    abstained: dict[str, tuple[CellRead, tuple[tuple[str, float], ...], Location]] = {}
    doubtful = []
    for key, read in session.reads.items():
        path = path_at.get(key)
        if path is None or key in decided:
            continue
        unsure = read.confidence < _DIGIT_SURE or read.lookalike or read.text == UNREADABLE
        if unsure or path in broken:
            doubtful.append((key, read, path))
    # Every doubtful cell's sharper crops go to the recogniser in one call (packed together).
    crops = [
        _sharper_crops(session.pages[r.page].gray, _ink_rect(session.prints[r.page], r.rect)) for _, r, _ in doubtful
    ]
    readings = iter(_recognise([c for pair in crops for c in pair], pack=False))
    for (key, read, path), pair in zip(doubtful, crops):
        verdict, candidates = _reread(read, [next(readings) for _ in pair])
        if verdict is None:
            abstained[path] = (read, candidates, locations[path])
            decided[key] = UNREADABLE
        elif verdict != read.text:
            decided[key] = verdict
    # A value changed by a re-read must leave no relation broken that its first reading kept.
    if decided:
        doc = _replaced(doc, decided)
        still, _, _ = _broken_cells(doc, set(abstained))
        for key, text in list(decided.items()):
            path = path_at.get(key, "")
            if text != UNREADABLE and path in still and path not in broken:
                read = session.reads[key]
                abstained[path] = (read, ((read.text, read.confidence), (text, 0.0)), locations[path])
                decided[key] = UNREADABLE
        doc = _replaced(doc, decided)
    findings = [*row_findings, *(_abstained_finding(path, *item) for path, item in sorted(abstained.items()))]
    return _with_findings(doc, session, findings)


def _reread(read: CellRead, again: list[Reading]) -> tuple[str | None, tuple[tuple[str, float], ...]]:
    """The value the cell's first reading and its re-readings from sharper crops agree on, or
    None; and every candidate with its confidence."""
    candidates: dict[str, float] = {}
    if read.text != UNREADABLE:
        candidates[read.text] = read.confidence * (0.8 if read.lookalike else 1.0)
    for text, confidence in read.candidates:
        candidates.setdefault(text, confidence)
    for got in again:
        value = as_value_text(got.text)
        if value is None:
            continue
        digits, lookalike = value
        confidence = got.least * (0.8 if lookalike else 1.0)
        candidates[digits] = max(candidates.get(digits, 0.0), confidence)
    ranked = tuple(sorted(candidates.items(), key=lambda kv: -kv[1]))
    if len(ranked) == 1 and ranked[0][1] >= _AGREED and _DIGIT_RE.match(ranked[0][0]):
        return ranked[0][0], ranked
    return None, ranked


def _replaced(doc: Document, decided: dict[tuple[int, tuple[float, ...]], str]) -> Document:
    def text_of(cell: Cell) -> Cell:
        key = (cell.location.get("page"), tuple(cell.location.get("bbox") or ()))
        return cell._replace(text=decided[key]) if key in decided else cell

    blocks = tuple(
        Table(tuple(tuple(text_of(c) for c in row) for row in b.rows), b.index) if isinstance(b, Table) else b
        for b in doc.blocks
    )
    return dataclasses.replace(doc, blocks=blocks)


def cell_name(path: str) -> str:
    """A cell path in words: 表三“（一）予以公开”行“自然人”列."""
    table, row, col = path.split("/")
    if table == "table3":
        spec = formats.TABLE3_ROW_BY_KEY.get(row)
        column = next((c.label for c in formats.TABLE3_COLUMNS if c.key == col), col)
        return f"表三“{spec.label if spec else row}”行“{column}”列"
    if table == "table4":
        group = next((g.label for g in formats.TABLE4_GROUPS if g.key == row), row)
        outcome = next((o.label for o in formats.TABLE4_OUTCOMES if o.key == col), col)
        return f"表四“{group}”“{outcome}”"
    for rows in formats.TABLE2_ROWS.values():
        for spec2 in rows:
            if spec2.key == row:
                column = next((c.label for c in spec2.columns if c.key == col), col)
                return f"表二“{spec2.label}”“{column}”"
    return path


def _abstained_finding(
    path: str, read: CellRead, candidates: tuple[tuple[str, float], ...], location: Location
) -> Finding:
    listed = "、".join(f"{text}（{conf:.2f}）" for text, conf in candidates if text != UNREADABLE) or "无"
    detail = {
        "confidence": round(read.confidence, 3),
        "candidates": [{"text": text, "confidence": round(conf, 3)} for text, conf in candidates],
    }
    return reading(
        "RD20",
        "cell",
        cell=cell_name(path),
        confidence=read.confidence,
        candidates=listed,
        cells=(path,),
        location=location,
        detail=detail,
    )


def _with_findings(doc: Document, session: Session, findings: list[Finding]) -> Document:
    pages = session.scanned
    if pages:
        turns = [f"第 {p.number} 页旋转 {p.turn} 度" for p in session.pages.values() if p.turn]
        note = "，".join(turns)
        read = reading(
            "RD21", pages=_page_list(pages), turns=f"（{note}）" if note else "", location={"page": pages[0]}
        )
        findings = [read, *findings]
    return dataclasses.replace(doc, findings=(*doc.findings, *findings))


def _page_list(pages: list[int]) -> str:
    return "、".join(str(p) for p in pages)


# --- files ---------------------------------------------------------------------------------------


def read_image(path: Path, data: bytes) -> Document:
    """A page image file (PNG, JPEG, TIFF with one or more pages, BMP) read by OCR."""
    if not available():
        raise not_installed("图片文件")
    import cv2
    import numpy as np

    buffer = np.frombuffer(data, dtype=np.uint8)
    ok, images = cv2.imdecodemulti(buffer, cv2.IMREAD_COLOR)
    if not ok or not images:
        single = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
        if single is None:
            raise read_error("RD01", "image")
        images = [single]
    session = Session()
    blocks: list[Block] = []
    for number, image in enumerate(images, start=1):
        page = prepare(image, number)
        session.pages[number] = page
        session.scanned.append(number)
        blocks.extend(_numbered(read_page(page, session, 1.0), len([b for b in blocks if isinstance(b, Table)])))
    doc = Document(tuple(blocks), "image", len(images))
    return settle(doc, session)


def _numbered(blocks: list[Block], first: int) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, Table):
            block = Table(block.rows, first)
            first += 1
        out.append(block)
    return out


def read_pdf_page(page: Any, number: int, session: Session, looks: dict[int, Any], first_table: int) -> list[Block]:
    """An image-only page of a PDF (a pdfplumber page) read by OCR; locations in PDF points."""
    import numpy as np

    dpi = _page_dpi(page)
    rendered = page.to_image(resolution=dpi).original.convert("RGB")
    image = np.asarray(rendered)[:, :, ::-1].copy()
    prepared = prepare(image, number)
    session.pages[number] = prepared
    session.scanned.append(number)
    return _numbered(read_page(prepared, session, 72.0 / dpi, looks), first_table)


def _page_dpi(page: Any) -> int:
    """The resolution to draw a scanned page at: its largest image's own, between 150 and 300."""
    best = 0.0
    for image in page.images:
        width_pt = float(image["x1"]) - float(image["x0"])
        src = image.get("srcsize") or (0, 0)
        if width_pt > 0 and src[0]:
            best = max(best, float(src[0]) / (width_pt / 72.0))
    return int(min(max(best or 200.0, 150.0), 300.0))
