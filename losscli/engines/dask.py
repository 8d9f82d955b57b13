"""The Dask engine: one task per Parquet file, states merged in a tree.

    losscli eval 'data/preds-*.parquet' --engine dask [--scheduler tcp://host:8786]

Without --scheduler a LocalCluster of worker processes is started on this
machine. Each worker opens its file, reduces it to an Accumulator (sums,
bootstrap replicate sums, paired moments, per group) and returns only that
small state; states are merged pairwise on the cluster; the client finishes
them exactly as the local engine does. Bootstrap draws depend on a row's
position in the whole dataset (each file's offset comes from the Parquet
footers), so intervals equal the local engine's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..errors import InputError, OptionError
from ..evaluation import Evaluation, Options, Partial, Plan, accumulate, conclude, make_plan
from ..io import open_source
from ..io.parquet import parquet_files

CONNECT_TIMEOUT_S = 10


def _reduce_file(path: str, row_offset: int, plan: Plan, options: Options, nan: str, positive: str | None) -> Partial:
    """Runs on a worker: one file -> its mergeable state."""
    return accumulate(open_source(path, "parquet"), plan, options, nan=nan, positive=positive, row_offset=row_offset)


def _merge(a: Partial, b: Partial) -> Partial:
    return a.merge(b)


def run_dask(
    path: str,
    losses: Sequence[str] = (),
    *,
    scheduler: str | None = None,
    workers: int = 2,
    options: Options | None = None,
    nan: str = "error",
    positive: str | None = None,
    **layout: Any,
) -> Evaluation:
    """Evaluate a Parquet file, directory or glob on a Dask cluster."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise OptionError("--engine dask needs Dask: pip install 'losscli[dask]' (dask and distributed)") from None
    import pyarrow.parquet as pq

    options = options or Options()
    files = parquet_files(path)
    if not files:
        raise InputError(f"{path}: no Parquet file found")
    source = open_source(path, "parquet")
    plan = make_plan(source, losses, options=options, positive=positive, **layout)
    offsets = []
    position = 0
    for file in files:
        offsets.append(position)
        position += pq.read_metadata(file).num_rows

    cluster = None
    if scheduler is None:
        # Workers' own logs would repeat a user error (with its traceback) before our sentence.
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise OptionError(
            f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({str(exc).splitlines()[0]}); "
            "check the address (tcp://HOST:8786) or leave --scheduler out for a local cluster"
        ) from None
    try:
        states = [
            client.submit(_reduce_file, file, offset, plan, options, nan, positive, pure=False)
            for file, offset in zip(files, offsets, strict=True)
        ]
        while len(states) > 1:  # a tree of pairwise merges, so no worker holds every state
            pairs = [client.submit(_merge, a, b, pure=False) for a, b in zip(states[::2], states[1::2], strict=False)]
            states = pairs + ([states[-1]] if len(states) % 2 else [])
        partial: Partial = states[0].result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    plan.notes.append(f"dask: {len(files)} file(s) on {'a local cluster' if cluster else scheduler}")
    return conclude(plan, partial, options)
