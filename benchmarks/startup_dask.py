"""Start-up of a two-process local Dask cluster (docs/scale.md), in a virtualenv holding only Dask:

python3.11 -m venv /tmp/venv-dask && /tmp/venv-dask/bin/pip install "dask[distributed]"
/tmp/venv-dask/bin/python benchmarks/startup_dask.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from startup_rss import tree_rss_mib

t0 = time.perf_counter()
from distributed import Client, LocalCluster  # noqa: E402

t1 = time.perf_counter()

if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(2)
    t2 = time.perf_counter()
    client.submit(sum, [1, 2]).result()
    t3 = time.perf_counter()
    n, mib = tree_rss_mib(os.getpid())
    client.close()
    cluster.close()
    t4 = time.perf_counter()
    print(
        f"dask import {t1 - t0:.2f} s; LocalCluster(2 workers) up {t2 - t1:.2f} s; first task {t3 - t2:.2f} s; "
        f"close {t4 - t3:.2f} s; {n} processes, {mib:.0f} MiB resident"
    )
