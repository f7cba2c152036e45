"""OCR sweep: corpus records rendered to PDF, scanned at 150/200/300 dpi, read back by OCR.

For each scan: CPU seconds per page (one process, onnxruntime on one thread) and each table cell
right, abstained from (null with an RD20 finding) or wrong; a wrong cell of table 三 or 四 is one
the table's arithmetic (AR01–AR04) could have caught, a wrong cell of table 二 is not.

    PYTHONPATH=src:tests python benchmarks/bench_ocr.py [--names r001-huaian-city-2024 ...]
        [--dpi 150 200 300] [--format pdf|tiff] [--unruled]

Results for docs/performance.md ("Scanned reports (OCR)").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
os.environ.setdefault("NIANBAO_OCR_THREADS", "1")

import scans  # noqa: E402
from conftest import table_diffs, truth_report  # noqa: E402
from nianbao import parse  # noqa: E402
from nianbao.render import write  # noqa: E402

TABLE_LABELS = {"table2": "表二", "table3": "表三", "table4": "表四"}
DEFAULT_NAMES = ["r001-huaian-city-2024", "000_ad76ac4b2ae56493"]


def variants(dpi: int) -> list[scans.Variant]:
    """A clean scan, and one turned, noisy, JPEG-compressed and stamped."""
    return [scans.Variant(dpi), scans.Variant(dpi, skew=-1.8, noise=10, jpeg=70, seal=True)]


def record_value(record: dict[str, object], path: str) -> object:
    table, row, col = path.split("/")
    rows = record.get(table) or {}
    return (rows.get(row) or {}).get(col) if isinstance(rows, dict) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="*", default=DEFAULT_NAMES)
    parser.add_argument("--dpi", nargs="*", type=int, default=[150, 200, 300])
    parser.add_argument("--format", choices=["pdf", "tiff"], default="pdf")
    parser.add_argument("--soiled-only", action="store_true", help="only the turned, noisy, stamped scans")
    parser.add_argument("--unruled", action="store_true", help="also a clean scan with the tables' rules erased")
    parser.add_argument(
        "--plain-grey", action="store_true", help="page ink as OpenCV's grey conversion (to measure the ink step)"
    )
    args = parser.parse_args()
    if args.plain_grey:
        import cv2

        from nianbao.readers import ocr

        ocr.ink = lambda image: cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    work = Path(tempfile.mkdtemp(prefix="bench_ocr_"))
    totals: dict[int, list[float]] = {}
    print("| record | scan | pages | s/page (CPU) | cells | right | abstained | wrong (三/四) | wrong (二) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.names:
        truth = truth_report(name)
        expected = truth.to_dict()
        pdf = write(truth, work / f"{name}.pdf")
        cells = sum(len(cols) for t in ("table2", "table3", "table4") for cols in (expected.get(t) or {}).values())
        for dpi in args.dpi:
            chosen = variants(dpi)[1:] if args.soiled_only else variants(dpi)
            for variant in [*chosen, scans.Variant(dpi, rules=False)] if args.unruled else chosen:
                pages = scans.scan_pages(pdf, variant, work)
                if args.format == "pdf":
                    path = scans.save_pdf(pages, work / f"{name}-{variant.name}.pdf", dpi)
                else:
                    path = scans.save_tiff(pages, work / f"{name}-{variant.name}.tif", dpi)
                start = time.process_time()
                record = parse(path).to_dict()
                per_page = (time.process_time() - start) / len(pages)
                # Abstained: null with a reading finding naming the cell (RD20 from OCR, RD07 from
                # the extractor when a row's numbers cannot be placed, RD06 when a row's label could
                # not be read and the row is reported missing), as tests/test_ocr.py counts them.
                abstained = {c for f in record["findings"] if f["rule"] in ("RD20", "RD07", "RD06") for c in f["cells"]}
                # A table not read at all is null with RD05 naming it (no cells): its cells too.
                unread = [
                    t
                    for t, label in TABLE_LABELS.items()
                    if record.get(t) is None
                    and any(f["rule"] == "RD05" and label in f["message"] for f in record["findings"])
                ]
                diffs = [d.split(":")[0] for d in table_diffs(expected, record)]
                wrong = [
                    d
                    for d in diffs
                    if (d not in abstained and d.split("/")[0] not in unread) or record_value(record, d) is not None
                ]
                wrong_ar = [d for d in wrong if not d.startswith("table2/")]
                wrong_t2 = [d for d in wrong if d.startswith("table2/")]
                held = len([d for d in diffs if d not in wrong])
                right = cells - len(set(diffs))
                totals.setdefault(dpi, [0.0, 0, 0, 0, 0, 0])
                t = totals[dpi]
                t[0] += per_page * len(pages)
                t[1] += len(pages)
                t[2] += cells
                t[3] += right
                t[4] += held
                t[5] += len(wrong)
                print(
                    f"| {name} | {variant.name} | {len(pages)} | {per_page:.2f} | {cells} | {right} | {held} | "
                    f"{len(wrong_ar)} | {len(wrong_t2)} |",
                    flush=True,
                )
                if wrong:
                    print(f"<!-- wrong: {', '.join(wrong)} -->", flush=True)
                if record["errors"]:
                    print(f"<!-- errors: {record['errors']} -->", flush=True)
    print()
    print("| dpi | pages | s/page (CPU) | cells | right | abstained | wrong |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for dpi, (seconds, pages_n, cells_n, right_n, held_n, wrong_n) in sorted(totals.items()):
        print(
            f"| {dpi} | {int(pages_n)} | {seconds / pages_n:.2f} | {int(cells_n)} | {int(right_n)} "
            f"({right_n / cells_n:.1%}) | {int(held_n)} | {int(wrong_n)} |"
        )


if __name__ == "__main__":
    main()
