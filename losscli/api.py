"""The Python API: the same request and the same engine as the command line, results as a
pandas DataFrame.

``data`` is a path or a list of paths (one model each), a pandas or polars DataFrame, a
pyarrow Table or RecordBatch, an object with ``__arrow_c_stream__``, or a dict of
equal-length arrays (2-D: a multiclass model, rows x classes); anything else is a TypeError.

>>> import pandas as pd
>>> df = pd.DataFrame({"y": [1.0, 2.0], "a": [1.5, 2.0]})
>>> evaluate(df, ["mse", "mae"]).to_dict("records")
[{'model': 'a', 'loss': 'mse', 'value': 0.125, 'n': 2}, {'model': 'a', 'loss': 'mae', 'value': 0.25, 'n': 2}]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .errors import ArgumentTypeError, DataTypeError, LossCliWarning, OptionError
from .request import Columns, Engine, Inputs, Output, Request, Statistics, losses_from, percent_level, positive_label

if TYPE_CHECKING:
    import pandas as pd

    from .engines.evaluation import Evaluation


def evaluate(
    data: str | Sequence[str] | pd.DataFrame | Any,
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
    reduction: str = "mean",
    ci_method: str | None = None,
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
    threads: int | None = None,
    chunk_rows: int | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    timeout: float | None = None,
) -> pd.DataFrame:
    """Evaluate files or data in memory (see the module docstring for ``data``).

    Returns a tidy DataFrame: model, loss (the label, e.g. ``huber(delta=5)``), value, n;
    with ``by`` one column per group column (``"(all)"`` on the overall rows, None where
    the group value is missing); with ``ci`` ci_low, ci_high; with ``baseline``
    delta, delta_rel, its interval, p_value, verdict. The keywords are the command line's
    options. Errors are ``losscli.errors`` exceptions (each also a ValueError, TypeError or
    KeyError); notes are in ``frame.attrs["notes"]``.
    """
    from .api_errors import speaking_of_parameters
    from .engines import evaluate_request

    columns = Columns(
        target, _names("preds", preds), weight, id_column, class_sep, positive_label(positive), _classes(classes), nan
    )
    ci, said = _percent(ci)
    with speaking_of_parameters():  # readers word their messages for the CLI; say them as parameters
        request = Request(
            replace(_inputs(data, input_format, truth, join, model_col, names), delimiter=delimiter, decimal=decimal),
            columns,
            losses_from(_names("losses", losses)),
            Statistics(ci, bootstrap, seed, baseline, _names("by", by), min_group_n, reduction, ci_method),
            engine=Engine(engine, scheduler, workers, chunk_rows, threads, timeout),
            caller="api",
        )
        return _said(evaluate_request(request), said)


def _percent(ci: float | None) -> tuple[float | None, list[str]]:
    """``ci=95`` is 95%, with a note, as ``--ci 95`` is."""
    level = percent_level(ci)
    if level is None:
        return ci, []
    return level, [f"ci={float(ci or 0):g} read as {float(ci or 0):g}% ({level:g})"]


def _said(evaluation: Evaluation, said: Sequence[str] = ()) -> pd.DataFrame:
    """What the command line says on stderr: every note in attrs, the warnings as Python warnings."""
    from .report.summary import ambiguous_groups

    frame = evaluation.to_pandas()
    frame.attrs["notes"] = [*said, *evaluation.notes, *ambiguous_groups(evaluation, "frame")]
    for note in evaluation.notes:
        if note.startswith("warning: "):
            warnings.warn(note.removeprefix("warning: "), LossCliWarning, stacklevel=3)
    return frame


def advise(
    data: str | Sequence[str] | pd.DataFrame,
    *,
    target: str | None = None,
    preds: Sequence[str] | str = (),
    weight: str | None = None,
    id_column: str | None = None,
    class_sep: str = ".",
    input_format: str | None = None,
    baseline: str | None = None,
    truth: str | None = None,
    join: str | None = None,
    model_col: str | None = None,
    names: Sequence[str] = (),
    nan: str = "error",
    positive: str | None = None,
    classes: Sequence[str] = (),
    top: int = 5,
    chunk_rows: int | None = None,
) -> dict[str, Any]:
    """Which loss to report for ``data``, and why the models rank differently: ``losscli advise``.

    Returns the same dict as ``losscli advise -f json`` (task, models, rankings,
    disagreements, worst_rows, recommendation, ...); ``data`` is what
    ``evaluate`` takes, and the keyword arguments are the command line's options.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "a": [1.5, 2, 2, 4], "b": [1.0, 2.5, 3.5, 4.5]})
    >>> report = advise(df)
    >>> report["rankings"]["mse"], report["models"]["a"]["bias"]
    (['b', 'a'], -0.125)
    """
    from .api_errors import speaking_of_parameters
    from .engines.advise import advise_request
    from .report.advise import report_of

    with speaking_of_parameters():
        request = Request(
            _inputs(data, input_format, truth, join, model_col, names),
            Columns(target, _names("preds", preds), weight, id_column, class_sep, positive_label(positive)),
            (),
            Statistics(baseline=baseline),
            output=Output(top=top),
            engine=Engine(chunk_rows=chunk_rows),
            caller="api",
        )
        return report_of(advise_request(request), positive).to_data()


def _inputs(
    data: object,
    input_format: str | None,
    truth: str | None,
    join: str | None,
    model_col: str | None,
    names: Sequence[str],
) -> Inputs:
    given = _names("names", names)
    if isinstance(data, str | os.PathLike):
        return Inputs((os.fspath(data),), None, input_format, truth, join, model_col, given)
    if isinstance(data, list | tuple) and data and all(isinstance(p, str | os.PathLike) for p in data):
        return Inputs(tuple(map(os.fspath, data)), None, input_format, truth, join, model_col, given)
    if isinstance(data, list | tuple) and not data:
        raise OptionError("data= is empty; give a file path, a list of paths, or data in memory")
    if data is None:
        from .read.tables import ACCEPTED

        raise DataTypeError(f"data= needs {ACCEPTED}")
    return Inputs((), data, input_format, truth, join, model_col, given)


def _names(keyword: str, value: object) -> tuple[str, ...]:
    """One name, or a list of them (a lone string is one name, not its letters)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ArgumentTypeError(f"{keyword}= takes a string or a list of strings, not {type(value).__name__} {value!r:.40}")


def _classes(value: object) -> tuple[str, ...]:
    """``classes="a,b,c"`` as on the command line, or a list."""
    if isinstance(value, str):
        return tuple(c.strip() for c in value.split(",")) if value else ()
    return _names("classes", value)
