"""The README's pictures of a rendered report: page 1 and the page of 表三, as PNG images.

    PYTHONPATH=src python scripts/readme_pages.py      # writes docs/images/report-page-*.png

A sample record (``nianbao sample``'s generator, seed 4) is rendered to PDF in the official
layout and its pages turned into images by pdftoppm (poppler-utils).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

from nianbao.authoring.sample import generate
from nianbao.render import write

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def main() -> None:
    report = next(s.report for s in generate(3, seed=4, error_rate=0.0) if s.report.template == "2021")
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pdf = write(report, Path(tmp) / "report.pdf", signed=dt.date((report.year or 2024) + 1, 1, 20))
        for page, name in ((1, "report-page-1"), (3, "report-page-3")):
            target = IMAGES / name
            subprocess.run(
                ["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(target)],
                check=True,
            )
            print(f"{target}.png")


if __name__ == "__main__":
    main()
