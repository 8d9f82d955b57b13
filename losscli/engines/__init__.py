"""Engines: how a request's rows are reduced to mergeable state, then finished.

``local`` runs one pass on this machine (a reader thread ahead of the
kernels); ``dask`` reduces each Parquet file on a worker and merges the
states in a tree. Both finish with the same code, so they give the same
numbers. ``evaluate_request`` is the one entry point the CLI and the API call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager

from ..read.source import Source
from ..request import Request
from .evaluation import Evaluation
from .local import ObserverFactory, PerRowSink, Progress

# Given the opened source, a context that yields the callback for rows read (or None).
ProgressFactory = Callable[[Source], AbstractContextManager[Progress | None]]


def evaluate_request(
    request: Request,
    *,
    per_row: PerRowSink | None = None,
    progress: ProgressFactory | None = None,
    observer: ObserverFactory | None = None,
) -> Evaluation:
    """Open the request's inputs, reduce them on its engine, and finish the results;
    ``observer`` (the HTML report's pictures) sees every batch of the same pass."""
    if request.engine.name == "dask":
        from .dask import run_dask

        return run_dask(request, observer)
    from ..read.inputs import open_inputs
    from .local import run

    source, notes = open_inputs(request)
    with progress(source) if progress is not None else contextlib.nullcontext() as advance:
        return run(source, request, per_row=per_row, progress=advance, notes=notes, observer=observer)
