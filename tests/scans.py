"""Scans made from corpus records: the rendered PDF rasterised, turned a little, soiled and stamped.

Used by tests/test_ocr.py and benchmarks/bench_ocr.py. Every step is seeded, so a variant is the
same image on every run.
"""

from __future__ import annotations

import io
import math
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


@dataclass(frozen=True)
class Variant:
    dpi: int
    skew: float = 0.0  # degrees, counter-clockwise
    noise: float = 0.0  # standard deviation of grey noise (0–255)
    jpeg: int = 0  # JPEG quality of a round trip (0: none)
    seal: bool = False  # a red seal stamped over the first table on the page
    turn: int = 0  # quarter turns clockwise (0, 90, 180, 270)
    rules: bool = True  # False: the tables' ruling lines are erased (a table printed without rules)

    @property
    def name(self) -> str:
        parts = [f"{self.dpi}dpi"]
        if self.skew:
            parts.append(f"skew{self.skew:+.1f}")
        if self.noise:
            parts.append(f"noise{self.noise:g}")
        if self.jpeg:
            parts.append(f"jpeg{self.jpeg}")
        if self.seal:
            parts.append("seal")
        if self.turn:
            parts.append(f"turn{self.turn}")
        if not self.rules:
            parts.append("unruled")
        return "-".join(parts)


def rasterise(pdf: Path, dpi: int, out_dir: Path) -> list[Image.Image]:
    """The PDF's pages as RGB images (poppler's pdftoppm)."""
    prefix = out_dir / f"{pdf.stem}-{dpi}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True, capture_output=True)
    pages = sorted(out_dir.glob(f"{prefix.name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [Image.open(p).convert("RGB") for p in pages]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def seal(image: Image.Image, centre: tuple[int, int], dpi: int) -> Image.Image:
    """A round red seal (ring, star, agency words) stamped over ``centre``, ink multiplied in."""
    radius = int(dpi * 0.8)
    stamp = Image.new("RGB", (2 * radius + 4, 2 * radius + 4), "white")
    draw = ImageDraw.Draw(stamp)
    red = (220, 30, 40)
    c = radius + 2
    width = max(3, dpi // 40)
    draw.ellipse((2, 2, 2 * radius + 2, 2 * radius + 2), outline=red, width=width)
    star = [
        (
            c + radius * 0.3 * math.cos(math.radians(90 + k * 36)) * (1 if k % 2 == 0 else 0.4),
            c - radius * 0.3 * math.sin(math.radians(90 + k * 36)) * (1 if k % 2 == 0 else 0.4),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=red)
    font = _font(max(12, dpi // 7))
    words = "示例市人民政府办公室专用章"
    for k, ch in enumerate(words):
        angle = math.radians(200 - k * (220 / (len(words) - 1)))
        x = c + radius * 0.75 * math.cos(angle)
        y = c - radius * 0.75 * math.sin(angle)
        draw.text((x, y), ch, fill=red, font=font, anchor="mm")
    stamp = stamp.filter(ImageFilter.GaussianBlur(0.6))
    out = image.copy()
    x0, y0 = centre[0] - c, centre[1] - c
    region = out.crop((x0, y0, x0 + stamp.width, y0 + stamp.height))
    from PIL import ImageChops

    out.paste(ImageChops.multiply(region, stamp), (x0, y0))
    return out


def without_rules(image: Image.Image) -> Image.Image:
    """The page with its ruling lines painted out: dark runs longer than an inch across or a
    third of an inch down (no character has a stroke that long), and a pixel round them."""
    import cv2
    import numpy as np

    array = np.asarray(image).copy()
    dark = (cv2.cvtColor(array, cv2.COLOR_RGB2GRAY) < 160).astype(np.uint8)
    inch = max(image.width // 8, 40)
    across = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (inch, 1)))
    down = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, inch // 3)))
    rules = cv2.dilate(cv2.bitwise_or(across, down), np.ones((3, 3), np.uint8))
    array[rules > 0] = 255
    return Image.fromarray(array)


def soil(image: Image.Image, variant: Variant, seed: int, seal_at: tuple[int, int] | None = None) -> Image.Image:
    """The page as a scanner gives it back: stamped, turned, noisy, JPEG-compressed."""
    import numpy as np

    out = image if variant.rules else without_rules(image)
    if variant.seal and seal_at is not None:
        out = seal(out, seal_at, variant.dpi)
    if variant.skew:
        out = out.rotate(variant.skew, resample=Image.Resampling.BILINEAR, expand=True, fillcolor="white")
    if variant.noise:
        rng = np.random.default_rng(seed)
        array = np.asarray(out).astype(np.float32)
        array += rng.normal(0, variant.noise, array.shape[:2])[:, :, None]
        out = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    if variant.jpeg:
        buffer = io.BytesIO()
        out.save(buffer, "JPEG", quality=variant.jpeg)
        out = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    if variant.turn:
        out = out.rotate(-variant.turn, expand=True)
    return out


def table_centre(image: Image.Image) -> tuple[int, int] | None:
    """The middle of the page's largest block of dark rules (where a table is), or None."""
    import numpy as np

    gray = np.asarray(image.convert("L"))
    rows = np.nonzero((gray < 128).sum(axis=1) > gray.shape[1] * 0.4)[0]
    if len(rows) < 2:
        return None
    return (gray.shape[1] // 2, int((rows.min() + rows.max()) / 2))


def scan_pages(pdf: Path, variant: Variant, out_dir: Path, seed: int = 1) -> list[Image.Image]:
    pages = rasterise(pdf, variant.dpi, out_dir)
    rng = random.Random(seed)
    out = []
    for number, page in enumerate(pages, start=1):
        centre = table_centre(page)
        out.append(soil(page, variant, seed * 100 + number + rng.randrange(1000), centre))
    return out


def save_pdf(pages: list[Image.Image], path: Path, dpi: int) -> Path:
    """An image-only PDF: one scanned image per page, no text layer."""
    pages[0].save(path, "PDF", resolution=float(dpi), save_all=True, append_images=pages[1:])
    return path


def save_png(page: Image.Image, path: Path, dpi: int) -> Path:
    page.save(path, "PNG", dpi=(dpi, dpi))
    return path


def save_tiff(pages: list[Image.Image], path: Path, dpi: int) -> Path:
    pages[0].save(path, "TIFF", dpi=(dpi, dpi), save_all=True, append_images=pages[1:], compression="tiff_lzw")
    return path
