"""Start-up of a two-CPU local Ray (docs/scale.md), in a virtualenv holding only Ray:

python3.11 -m venv /tmp/venv-ray && /tmp/venv-ray/bin/pip install ray
/tmp/venv-ray/bin/python benchmarks/startup_ray.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from startup_rss import tree_rss_mib

t0 = time.perf_counter()
import ray  # noqa: E402

t1 = time.perf_counter()


@ray.remote
def add(xs: list[int]) -> int:
    return sum(xs)


if __name__ == "__main__":
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    t2 = time.perf_counter()
    ray.get(add.remote([1, 2]))
    t3 = time.perf_counter()
    n, mib = tree_rss_mib(os.getpid())
    ray.shutdown()
    t4 = time.perf_counter()
    print(
        f"ray import {t1 - t0:.2f} s; ray.init(num_cpus=2) {t2 - t1:.2f} s; first task {t3 - t2:.2f} s; "
        f"shutdown {t4 - t3:.2f} s; {n} processes, {mib:.0f} MiB resident"
    )
