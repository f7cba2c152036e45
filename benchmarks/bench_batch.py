"""`nianbao batch` speed with 1 and 2 processes per format, and memory over a 20,000-report run.

    python benchmarks/bench_batch.py speed --per-format 1000 [--formats txt,md,html,docx:400] [--repeat 3] [--engine dask]
    python benchmarks/bench_batch.py memory --sizes 2000,5000,20000

Sample sets are written once by `nianbao sample` into --work (default /tmp/nianbao-bench-batch)
and reused. `speed` runs the whole batch (walk and hash, read and check in worker processes,
Parquet partitions, the collection step) on one format's files with --jobs 1 and --jobs 2, best of
--repeat runs, and prints reports/s and the ratio; `read+check` is the rate inside the workers
(the sum of their per-file seconds), `whole` the wall clock of the run; the parent's CPU per report
is given whole (walk, hash, collection step) and for the reading alone (walk, hash, handing groups
to the workers, which write the partitions). `memory` runs mixed-format
sets of growing size and samples, every 0.2 s, the resident memory of the parent and of every
worker process (psutil, from a sampling process of its own, so that the pool forks its workers as
the command line does), keeping each one's peak; reading workers and the collection step's
workers are told apart by when they started.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from nianbao.batch.output import connect
from nianbao.batch.run import Summary, run_batch


def sample_set(work: Path, name: str, count: int, formats: str, seed: int) -> list[Path]:
    folder = work / name
    if not (folder / "manifest.jsonl").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        cmd = [sys.executable, "-m", "nianbao.cli", "sample", "--count", str(count), "--out", str(folder)]
        subprocess.run([*cmd, "--seed", str(seed), "--formats", formats], check=True, capture_output=True)
    files = sorted(p for p in folder.iterdir() if p.name != "manifest.jsonl")
    if len(files) < count:
        raise SystemExit(f"{folder} holds {len(files)} files, fewer than {count}: remove it to write it again")
    return files[:count]


def mixed_set(work: Path, count: int) -> list[Path]:
    """``count`` mixed-format reports: text, Markdown and HTML (a sample set of 19,000, then the
    per-format HTML and Markdown sets) with one DOCX (of the DOCX set) in every 40, so every prefix
    has the same mix. (The sample writer renders a DOCX about 40 times slower than a text file:
    about 500 were what could be written in the time.)"""
    docx = sample_set(work, "fmt-docx", max(1, count // 40), "docx", 21)
    text = sample_set(work, "mixed-text", 19_000, "txt,md,html", 11)
    text += sample_set(work, "fmt-html", 1000, "html", 21) + sample_set(work, "fmt-md", 1000, "md", 21)
    text = text[: count - len(docx)]
    out: list[Path] = []
    for i, path in enumerate(text):
        if i % 39 == 0 and i // 39 < len(docx):
            out.append(docx[i // 39])
        out.append(path)
    return out[:count]


def one_run(files: list[Path], out: Path, jobs: int, chunk: int, engine: str = "local") -> tuple[Summary, float, float]:
    """The run's summary and the workers' summed read+check wall and CPU seconds."""
    shutil.rmtree(out, ignore_errors=True)
    summary = run_batch(files, out, jobs=jobs, chunk=chunk, engine=engine)
    con = connect(out)
    wall, cpu = con.execute("SELECT sum(read_seconds), sum(cpu_seconds) FROM records").fetchone()
    con.close()
    return summary, float(wall), float(cpu)


def speed(args: argparse.Namespace) -> None:
    work: Path = args.work
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; engine {args.engine}")
    print(
        "| format | reports | jobs | whole s | whole reports/s | in workers: reports per wall s "
        "| in workers: reports per CPU s | collection s | parent CPU µs/report | of which reading |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for spec in args.formats.split(","):
        fmt, _, count = spec.partition(":")
        files = sample_set(work, f"fmt-{fmt}", int(count or args.per_format), fmt, 21)
        best: dict[int, float] = {}
        for jobs in (1, 2):
            runs = []
            for _ in range(args.repeat):
                cpu_before = psutil.Process().cpu_times()
                start = time.perf_counter()
                summary, in_wall, in_cpu = one_run(files, work / "out", jobs, args.chunk, args.engine)
                wall = time.perf_counter() - start
                cpu_after = psutil.Process().cpu_times()
                parent = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
                runs.append((wall, summary, in_wall, in_cpu, parent))
            wall, summary, in_wall, in_cpu, parent = min(runs, key=lambda r: r[0])
            best[jobs] = len(files) / wall
            n = len(files)
            print(
                f"| {fmt} | {n} | {jobs} | {wall:.2f} | {n / wall:.0f} | {n / in_wall:.0f} | {n / in_cpu:.0f} | "
                f"{summary.collection_seconds:.2f} | {parent / n * 1e6:.0f} | {summary.reading_cpu_seconds / n * 1e6:.0f} |"
            )
        ratios.append((fmt, best[2] / best[1]))
    print()
    print("| format | 2 processes / 1 process (whole run) |")
    print("|---|---|")
    for fmt, ratio in ratios:
        print(f"| {fmt} | {ratio:.2f} |")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


# The memory sampler, a process of its own: a sampling thread in this process would make the pool
# start its workers from a fork server (it does when other threads run), not by forking as the
# command line does. Peak RSS and USS (pages no other process shares) of the process given and of
# each of its descendants, five times a second, until its stdin closes; then {pid: [first seen,
# peak RSS MiB, peak USS MiB, command line]} as JSON.
SAMPLER = """
import json, select, sys, time
import psutil
root, me = psutil.Process(int(sys.argv[1])), psutil.Process().pid
peaks = {}
while not select.select([sys.stdin], [], [], 0.2)[0]:
    now = time.time()
    for p in [root, *root.children(recursive=True)]:
        if p.pid == me:
            continue
        try:
            info, cmd = p.memory_full_info(), " ".join(p.cmdline())
        except psutil.Error:
            continue
        first, rss, uss, _ = peaks.get(p.pid, (now, 0.0, 0.0, cmd))
        peaks[p.pid] = (first, max(rss, info.rss / 2**20), max(uss, info.uss / 2**20), cmd)
json.dump(peaks, sys.stdout)
"""


def sampled(run: Callable[[], Summary]) -> tuple[Summary, float, dict[str, list[tuple[float, float]]]]:
    """The run's summary, its end (time.time()), and the peak (RSS, USS) MiB of each process by kind:
    ``parent``; ``reading`` workers (started before the collection step); ``collection`` workers."""
    sampler = subprocess.Popen(
        [sys.executable, "-c", SAMPLER, str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    time.sleep(0.5)  # the sampler's first look
    summary = run()
    end = time.time()
    out, _ = sampler.communicate("")
    reading_end = end - summary.collection_seconds
    kinds: dict[str, list[tuple[float, float]]] = {"parent": [], "reading": [], "collection": []}
    for pid, (first, rss, uss, cmd) in json.loads(out).items():
        if "multiprocessing" in cmd:  # a fork server or resource tracker, not nianbao's
            continue
        kind = "parent" if int(pid) == os.getpid() else "reading" if first < reading_end else "collection"
        kinds[kind].append((rss, uss))
    return summary, end, kinds


def memory(args: argparse.Namespace) -> None:
    """Each size in a fresh process (a forked worker starts as a copy of its parent, so a parent
    grown by an earlier size would inflate the next size's workers)."""
    work: Path = args.work
    sizes = [int(s) for s in args.sizes.split(",")]
    files = mixed_set(work, max(sizes))
    kinds: dict[str, int] = {}
    for f in files:
        kinds[f.suffix] = kinds.get(f.suffix, 0) + 1
    print("mix:", ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; --jobs {args.jobs}")
    print(
        "| reports | seconds | reports/s | of which collection s | partitions | parent peak RSS MiB | "
        "worker peak RSS MiB (each) | worker peak USS MiB (each) | collection worker peak USS MiB "
        "| parent CPU µs/report | of which reading | Parquet MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    sys.stdout.flush()
    for size in sizes:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--work",
                str(work),
                "--chunk",
                str(args.chunk),
                "one-size",
                str(size),
                str(args.jobs),
            ],
            check=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f} at end")


def one_size(args: argparse.Namespace) -> None:
    work: Path = args.work
    size = args.size
    files = mixed_set(work, size)
    out = work / f"out-mixed-{size}"
    shutil.rmtree(out, ignore_errors=True)
    cpu = psutil.Process().cpu_times()
    summary, _, kinds = sampled(lambda: run_batch(files, out, jobs=args.jobs, chunk=args.chunk))
    wall = summary.seconds
    after = psutil.Process().cpu_times()
    parent_cpu = (after.user + after.system) - (cpu.user + cpu.system)
    parent = max(rss for rss, _ in kinds["parent"])
    workers = sorted(kinds["reading"])
    collection = max((uss for _, uss in kinds["collection"]), default=0.0)
    size_mib = sum(p.stat().st_size for p in out.rglob("*.parquet")) / 2**20
    print(
        f"| {size} | {wall:.1f} | {size / wall:.0f} | {summary.collection_seconds:.1f} | {summary.partitions} | "
        f"{parent:.0f} | {', '.join(f'{r:.0f}' for r, _ in workers)} | {', '.join(f'{u:.0f}' for _, u in workers)} | "
        f"{collection:.0f} | {parent_cpu / size * 1e6:.0f} | {summary.reading_cpu_seconds / size * 1e6:.0f} | "
        f"{size_mib:.1f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nianbao-bench-batch"))
    parser.add_argument("--chunk", type=int, default=500)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--per-format", type=int, default=1000)
    s.add_argument("--formats", default="txt,md,html,docx", help="formats, each with its own count: txt:1000,docx:400")
    s.add_argument("--repeat", type=int, default=3)
    s.add_argument("--engine", default="local", choices=("local", "dask"))
    m = sub.add_parser("memory")
    m.add_argument("--sizes", default="2000,5000,20000")
    m.add_argument("--jobs", type=int, default=2)
    o = sub.add_parser("one-size")
    o.add_argument("size", type=int)
    o.add_argument("jobs", type=int)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    {"speed": speed, "memory": memory, "one-size": one_size}[args.command](args)


if __name__ == "__main__":
    main()
