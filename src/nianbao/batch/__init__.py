"""The batch shell: a corpus read and checked into partitioned Parquet, locally or on Dask.

``run_batch`` (run.py) walks and hashes the files, an engine reads them (local.py: worker
processes with a per-file time limit; dask_engine.py: dask.distributed), output.py writes each
chunk as one atomic partition per table (schema.py: the one column definition), and collect.py
runs the rules across reports over the Parquet, one agency or year at a time. query.py answers
``stats --from`` and ``export --from`` through DuckDB.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENGINES", "Summary", "run_batch"]


def __getattr__(name: str) -> Any:  # lazy: ``python -m nianbao.batch.schema`` imports no runner
    if name in __all__:
        from nianbao.batch import run

        return getattr(run, name)
    raise AttributeError(name)
