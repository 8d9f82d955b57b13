"""The Python API: the same request and the same engine as the command line, results as a
pandas DataFrame.

>>> import pandas as pd
>>> df = pd.DataFrame({"y": [1.0, 2.0], "a": [1.5, 2.0]})
>>> evaluate(df, ["mse", "mae"]).to_dict("records")
[{'model': 'a', 'loss': 'mse', 'value': 0.125, 'n': 2}, {'model': 'a', 'loss': 'mae', 'value': 0.25, 'n': 2}]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import OptionError
from .request import Columns, Engine, Inputs, Request, Statistics, losses_from

if TYPE_CHECKING:
    import pandas as pd


def evaluate(
    data: str | Sequence[str] | pd.DataFrame,
    losses: Sequence[str] | str = (),
    *,
    target: str | None = None,
    preds: Sequence[str] | str = (),
    weight: str | None = None,
    id_column: str | None = None,
    class_sep: str = ".",
    input_format: str | None = None,
    by: Sequence[str] | str = (),
    ci: float | None = None,
    bootstrap: int | None = None,
    seed: int | None = None,
    baseline: str | None = None,
    min_group_n: int | None = None,
    truth: str | None = None,
    join: str | None = None,
    model_col: str | None = None,
    names: Sequence[str] = (),
    nan: str = "error",
    positive: str | None = None,
    classes: Sequence[str] = (),
    engine: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    chunk_rows: int | None = None,
) -> pd.DataFrame:
    """Evaluate a file path (or a list of paths, one model each) or a DataFrame.

    Returns a tidy DataFrame with columns model, loss (the label, e.g.
    ``huber(delta=5)``), value and n; with ``by``, one column per group column
    (None on the overall rows); with ``ci``, ci_low and ci_high; with
    ``baseline``, delta, delta_rel, its interval, p_value and verdict. The
    keyword arguments are the command line's options (``engine="dask"`` for a
    Parquet dataset on a Dask cluster); ``chunk_rows`` caps the rows handled at
    once (results do not depend on it). Errors are
    ``losscli.errors`` exceptions with the same one-sentence messages.
    """
    from .engines import evaluate_request

    request = Request(
        _inputs(data, input_format, truth, join, model_col, names),
        Columns(target, _names(preds), weight, id_column, class_sep, positive, tuple(classes), nan),
        losses_from([losses] if isinstance(losses, str) else list(losses)),
        Statistics(ci, bootstrap, seed, baseline, _names(by), min_group_n),
        engine=Engine(engine, scheduler, workers, chunk_rows),
        caller="api",
    )
    return evaluate_request(request).to_pandas()


def _inputs(
    data: object,
    input_format: str | None,
    truth: str | None,
    join: str | None,
    model_col: str | None,
    names: Sequence[str],
) -> Inputs:
    if isinstance(data, str):
        return Inputs((data,), None, input_format, truth, join, model_col, tuple(names))
    if isinstance(data, list | tuple):
        return Inputs(tuple(str(p) for p in data), None, input_format, truth, join, model_col, tuple(names))
    if data is None:
        raise OptionError("data= needs a file path, a list of paths, or a pandas DataFrame")
    return Inputs((), data, input_format, truth, join, model_col, tuple(names))


def _names(value: Sequence[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
