"""Requests for tests that drive the library below the CLI: keyword arguments in the
Python API's spelling -> one typed Request, then the same engine the CLI calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from losscli.engines.evaluation import Evaluation
from losscli.read.plan import Plan
from losscli.read.source import Source
from losscli.request import Columns, Engine, Inputs, Request, Statistics, losses_from

Options = Statistics  # the statistics part of a request, as tests used to spell it

_COLUMN_KEYS = {"target", "preds", "weight", "id_column", "class_sep", "positive", "classes", "nan"}


def request(
    losses: Sequence[str] = (),
    *,
    options: Statistics | None = None,
    chunk_rows: int | None = None,
    paths: Sequence[str] = ("<test>",),
    engine: Engine | None = None,
    **columns: Any,
) -> Request:
    unknown = set(columns) - _COLUMN_KEYS
    assert not unknown, f"not a column option: {unknown}"
    cols = Columns(
        target=columns.get("target"),
        preds=tuple(columns.get("preds", ())),
        weight=columns.get("weight"),
        id=columns.get("id_column"),
        class_sep=columns.get("class_sep", "."),
        positive=columns.get("positive"),
        classes=tuple(columns.get("classes", ())),
        nan=columns.get("nan", "error"),
    )
    return Request(
        Inputs(tuple(paths)),
        cols,
        losses_from(list(losses)),
        options or Statistics(),
        engine=engine or Engine(chunk_rows=chunk_rows),
    )


def run(source: Source, losses: Sequence[str] = (), **kwargs: Any) -> Evaluation:
    from losscli.engines.local import run as run_local

    return run_local(source, request(losses, **kwargs))


def make_plan(source: Source, losses: Sequence[str] = (), **kwargs: Any) -> Plan:
    from losscli.read.plan import make_plan as plan

    return plan(source, request(losses, **kwargs))


def run_dask(path: str, losses: Sequence[str] = (), *, workers: int = 2, **kwargs: Any) -> Evaluation:
    from losscli.engines.dask import run_dask as on_dask

    return on_dask(request(losses, paths=(path,), engine=Engine("dask", workers=workers), **kwargs))
