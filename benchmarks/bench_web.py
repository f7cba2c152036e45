"""The web app under load, on loopback only and bounded in time: page latency with a store of
``--count`` reports, and sustained uploads.

    python benchmarks/bench_web.py [--count 1000] [--requests 200] [--uploads 300] [--batch 30]

Steps: ``nianbao sample`` writes ``--count`` text reports; ``import`` stores them (with the
per-report check) in a fresh SQLite file; ``nianbao serve`` starts on a free 127.0.0.1 port;
then, one client at a time (sequential requests, so the figures are the server's own latency):

- the report page (``/reports/{key}``, HTML, a random stored report each time) ``--requests`` times;
- its JSON twin; the overview (``/``); the statistics page (``/stats``) ``--requests // 10`` times;
- uploads: ``--uploads`` new text reports (another sample seed) posted ``--batch`` at a time to
  ``/upload.json``, each job waited for and saved: files per minute from the first post to the
  last save (reading in the server's worker processes, the per-report check, the store's writes).

Wall clock on a shared machine: one run, p50 and p95 in milliseconds. Stops after ``--budget``
seconds whatever is left.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from nianbao import service
from nianbao.authoring.sample import write_samples
from nianbao.rules import Config

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def percentiles(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"n={len(ms)} p50={statistics.median(ms):.0f} ms p95={p95:.0f} ms max={ms[-1]:.0f} ms"


def timed(client: httpx.Client, url: str, n: int, deadline: float) -> list[float]:
    out = []
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        t = time.perf_counter()
        r = client.get(url() if callable(url) else url)
        out.append(time.perf_counter() - t)
        r.raise_for_status()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--uploads", type=int, default=300)
    ap.add_argument("--batch", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--budget", type=float, default=900.0, help="seconds for the whole run")
    args = ap.parse_args()
    deadline = time.monotonic() + args.budget
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-web-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        write_samples(folder / "stored", args.count, seed=11, error_rate=0.2, fmts=("txt",))
        write_samples(folder / "new", args.uploads, seed=97, error_rate=0.2, fmts=("txt",))
        print(f"samples written: {time.perf_counter() - t:.1f} s")
        db = folder / "nianbao.db"
        t = time.perf_counter()
        with service.open_store(str(db)) as store:
            outcomes = service.import_paths(store, [folder / "stored"], jobs=args.workers, config=Config())
        print(f"import of {len(outcomes)} reports (with the per-report check): {time.perf_counter() - t:.1f} s")
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        server = subprocess.Popen(
            [sys.executable, "-m", "nianbao.cli", "serve", "--db", str(db), "--port", str(port), "--workers", str(args.workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/session.json", timeout=2)
                    break
                except OSError:
                    time.sleep(0.1)
            run(base, args, deadline, folder / "new")
        finally:
            server.terminate()
            server.wait(10)


def run(base: str, args: argparse.Namespace, deadline: float, new: Path) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        keys = [r["key"] for r in client.get("/reports.json").json()["reports"]]
        rng = random.Random(5)
        print(f"reports stored: {len(keys)}")
        client.get(f"/reports/{keys[0]}")  # warm up (templates compiled, caches filled)
        client.get("/stats")
        print("report page (HTML):  ", percentiles(timed(client, lambda: f"/reports/{rng.choice(keys)}", args.requests, deadline)))
        print("report page (.json): ", percentiles(timed(client, lambda: f"/reports/{rng.choice(keys)}.json", args.requests, deadline)))
        print("overview (HTML):     ", percentiles(timed(client, "/", max(5, args.requests // 10), deadline)))
        print("statistics (HTML):   ", percentiles(timed(client, "/stats", max(5, args.requests // 10), deadline)))
        print("statistics (.json):  ", percentiles(timed(client, "/stats.json", max(5, args.requests // 10), deadline)))
        token = client.get("/session.json").json()["csrf"]
        files = sorted(p for p in new.glob("*.txt"))
        posted = saved = 0
        start = time.perf_counter()
        for i in range(0, len(files), args.batch):
            if time.monotonic() > deadline:
                break
            batch = files[i : i + args.batch]
            job = client.post(
                "/upload.json",
                files=[("files", (p.name, p.read_bytes(), "text/plain")) for p in batch],
                headers={"X-CSRF-Token": token},
            ).json()
            posted += len(batch)
            while not job["done"]:
                time.sleep(0.05)
                job = client.get(f"/upload/jobs/{job['id']}.json").json()
            done: dict[str, Any] = client.post(
                f"/upload/jobs/{job['id']}/save", headers={"X-CSRF-Token": token, "accept": "application/json"}
            ).json()
            saved += sum(1 for item in done["items"] if item["state"] == "saved")
        elapsed = time.perf_counter() - start
        print(
            f"uploads: {posted} files posted {args.batch} at a time, {saved} saved in {elapsed:.1f} s: "
            f"{saved / elapsed * 60:.0f} reports a minute"
        )
        cold = timed(client, "/stats", 1, deadline + 120)
        print(f"statistics (HTML) right after the last upload was saved (computed anew): {cold[0] * 1000:.0f} ms")
        listed = client.get("/reports.json").json()["reports"]
        key = next(r["key"] for r in listed if r["findings"])
        fp = client.get(f"/reports/{key}.json").json()["findings"]
        reviewed = client.post(
            f"/reports/{key}/review", data={"fingerprint": fp[0]["fingerprint"], "status": "confirmed", "csrf": token}
        )
        assert reviewed.status_code == 303, reviewed.text
        after_review = timed(client, "/stats", 1, deadline + 120)
        print(f"statistics (HTML) right after a review (the figures kept): {after_review[0] * 1000:.0f} ms")
        overview = timed(client, "/", 1, deadline + 120)
        print(f"overview (HTML) right after a review (the report list read anew): {overview[0] * 1000:.0f} ms")
        extra = sorted(new.glob("*.txt"))[-1].read_bytes().replace("。".encode(), "；".encode(), 1)
        job = client.post(
            "/upload.json", files=[("files", ("补充.txt", extra, "text/plain"))], headers={"X-CSRF-Token": token}
        ).json()
        while not job["done"]:
            time.sleep(0.05)
            job = client.get(f"/upload/jobs/{job['id']}.json").json()
        client.post(f"/upload/jobs/{job['id']}/save", headers={"X-CSRF-Token": token, "accept": "application/json"})
        time.sleep(20)
        warmed = timed(client, "/stats", 1, deadline + 120)
        print(f"statistics (HTML) 20 s after an upload was saved (computed ahead in the background): {warmed[0] * 1000:.0f} ms")
        print(json.dumps({"stored": len(keys), "uploaded": saved}, ensure_ascii=False))


if __name__ == "__main__":
    main()
