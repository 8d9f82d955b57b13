"""One loss of one model as a float, called the way scikit-learn's metrics are.

    >>> score("huber:delta=2", [1.0, 2.0, 3.0], [1.5, 2.0, 6.0])
    1.375

The arrays go through the same reading, checks and accumulation as ``losscli
eval``, so the value, the validation and the messages are the CLI's for the
same data (messages name the parameters: ``y_pred``, ``sample_weight``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .api_errors import speaking_of_parameters
from .errors import ArgumentTypeError, BadValueError, DataTypeError, LossCliWarning, OptionError
from .request import Columns, Inputs, Request, losses_from, positive_label


def score(
    loss: str,
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    positive: str | None = None,
    classes: Sequence[str] = (),
    nan: str = "error",
    levels: Sequence[float] = (),
) -> float:
    """``loss`` (with parameters, ``"huber:delta=2"``) of ``y_pred`` against ``y_true``.

    ``y_pred`` is 1-D for regression and binary losses, rows x classes for
    multiclass ones (``y_true`` then holds class indices 0..k-1, labels named
    by ``classes``, or rows x classes soft targets). ``sample_weight`` weights
    the rows as scikit-learn's does; ``positive`` names the positive label of
    a binary target that is not 0/1; ``nan="drop"`` leaves out missing rows.
    Predictive distributions: rows x 2 of (mean, variance) for gaussian_nll and
    crps; rows x k quantiles with their ``levels`` (0.1, 0.5, 0.9) for
    interval_score, coverage and quantile (pinball over the set).
    """

    from .engines.local import run
    from .read.source import source_from_table

    with speaking_of_parameters():
        classes, levels = _arguments(loss, sample_weight, classes, levels)
        specs = losses_from([loss])
        if len(specs) != 1:
            raise OptionError(f"score takes one loss, got {len(specs)} ({loss!r}); call it once per loss")
        spec = specs[0]
        truth, pred = np.asarray(y_true), np.asarray(y_pred)
        sample_weight = _weight_vector(sample_weight, len(truth) if truth.ndim else 0)
        _real(truth, pred, sample_weight)
        pred = _with_levels(spec.label, spec.loss.tasks, pred, levels)
        shape = _distribution_shape(spec.label, spec.loss.pred_shape, pred, levels)
        if shape is None:
            truth, pred = _columns_as_vectors(spec.loss.tasks, truth, pred)
            _check_shapes(spec.label, spec.loss.tasks, truth, pred, sample_weight)
        elif truth.ndim == 2 and truth.shape[1] == 1:
            truth = truth.ravel()
        names = _distribution_names(shape, levels)
        columns: dict[str, Any] = {**_columns("y_true", truth), **_columns("y_pred", pred, names)}
        if sample_weight is not None:
            columns["sample_weight"] = np.asarray(sample_weight, dtype=np.float64)
        table = _table(columns)
        chosen = Columns(
            target="y_true",
            preds=("y_pred.*" if pred.ndim == 2 else "y_pred",),
            weight="sample_weight" if sample_weight is not None else None,
            positive=positive_label(positive),
            classes=classes,
            nan=nan,
        )
        request = Request(Inputs((), table), chosen, specs, caller="api")
        evaluation = run(source_from_table(table, "<arrays>"), request)
    _warn(evaluation.notes)
    return float(evaluation.results[0].value)


def _warn(notes: Sequence[str]) -> None:
    """The run's warnings as LossCliWarning, as evaluate() warns on the same data: an inf is never silent."""
    for note in notes:
        if note.startswith("warning: "):
            warnings.warn(note.removeprefix("warning: "), LossCliWarning, stacklevel=3)


def _weight_vector(sample_weight: Any, rows: int) -> np.ndarray | None:
    """The weights as one value per row, read as scikit-learn reads them: an (n, 1) column is the
    vector it holds, a scalar weighs every row alike; any other shape is one sentence."""
    if sample_weight is None:
        return None
    weight = np.asarray(sample_weight)
    if weight.ndim == 0:
        return np.full(rows, weight, dtype=np.result_type(weight, np.float64))
    if weight.ndim == 2 and weight.shape[1] == 1:
        return weight.ravel()
    if weight.ndim != 1:
        raise BadValueError(
            f"sample_weight has shape {weight.shape}; give one weight per row "
            "(a 1-D array, an (n, 1) column or a scalar)"
        )
    return weight


def _table(columns: dict[str, Any]) -> Any:
    """The arrays as an Arrow table; an object array mixing numbers and text is one sentence."""
    import pyarrow as pa

    try:
        return pa.table(columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        name = next((n for n, v in columns.items() if _unconvertible(v)), "an array")
        raise DataTypeError(
            f"{name.split('.')[0]} mixes types Arrow cannot put in one column ({exc}); give numbers (or labels) only"
        ) from None


def _unconvertible(values: Any) -> bool:
    import pyarrow as pa

    try:
        pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return True
    return False


def _with_levels(label: str, tasks: Sequence[str], y_pred: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """Quantile levels belong to a regression loss; one level makes a 1-D y_pred the column it is."""
    if levels and "regression" not in tasks:
        raise BadValueError(
            f"levels= gives the levels of quantile predictions, but {label} is a "
            f"{'/'.join(tasks)} loss, which scores no quantiles; leave out levels"
        )
    return y_pred.reshape(-1, 1) if len(levels) == 1 and y_pred.ndim == 1 else y_pred


def _arguments(loss: Any, sample_weight: Any, classes: Any, levels: Any) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """One sentence, a TypeError or ValueError, for an argument of the wrong kind: never a
    NumPy or string-method internal (a list as the loss, a column name as the weights)."""
    from .api import _classes

    if not isinstance(loss, str):
        once = "; call score once per loss" if isinstance(loss, list | tuple) else ""
        raise ArgumentTypeError(
            f"loss= takes one loss as a string, such as 'mse' or 'huber:delta=2', not {_shown(loss)}{once}"
        )
    if sample_weight is not None:
        _weights(sample_weight)
    if isinstance(levels, str | bytes) or not isinstance(levels, Sequence | np.ndarray):
        raise ArgumentTypeError(
            f"levels= takes a list of quantile levels, such as [0.1, 0.5, 0.9], not {_shown(levels)}"
        )
    if not all(isinstance(q, int | float | np.integer | np.floating) and not isinstance(q, bool) for q in levels):
        raise ArgumentTypeError(f"levels= takes numbers, such as [0.1, 0.5, 0.9], not {_shown(levels)}")
    out = tuple(float(q) for q in levels)
    twice = next((q for i, q in enumerate(out) if q in out[:i]), None)
    if twice is not None:  # a level is one column: two columns at one level would leave one unread
        raise BadValueError(f"levels= holds {twice:g} twice; give each quantile column its own level")
    return _classes(classes), out


def _weights(sample_weight: Any) -> None:
    """``sample_weight`` holds numbers: a column name is evaluate()'s ``weight=``."""
    array = np.asarray(sample_weight)
    if array.dtype.kind in "biufc":  # shapes: _weight_vector; complex numbers: _real
        return
    if array.ndim == 0:
        name = (
            " (a column name is evaluate()'s weight=; score takes the arrays)" if isinstance(sample_weight, str) else ""
        )
        raise ArgumentTypeError(
            f"sample_weight= takes one weight per row (or one for all), not {_shown(sample_weight)}{name}"
        )
    for row, value in enumerate(array.tolist(), start=1):
        try:
            float(value)
        except (TypeError, ValueError):
            raise BadValueError(f"sample_weight holds {value!r:.40} at row {row}, which is not a number") from None


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.40}"


def _real(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any) -> None:
    """Complex numbers have no order and no loss here: one sentence, a TypeError as NumPy's would be."""
    arrays = [("y_true", y_true), ("y_pred", y_pred)]
    if sample_weight is not None:
        arrays.append(("sample_weight", np.asarray(sample_weight)))
    for name, array in arrays:
        if np.iscomplexobj(array):
            raise DataTypeError(f"{name} holds complex numbers; losses take real numbers (give its .real part)")


def _columns_as_vectors(tasks: Sequence[str], y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An (n, 1) column is the vector it holds, as scikit-learn's regression metrics read it:
    y_pred for losses of one prediction a row (a multiclass-only loss needs rows x classes,
    and one class is no classes), y_true whenever y_pred is not itself one column."""
    if y_pred.ndim == 2 and y_pred.shape[1] == 1 and tuple(tasks) != ("multiclass",):
        y_pred = y_pred.ravel()
    if y_true.ndim == 2 and y_true.shape[1] == 1 and not (y_pred.ndim == 2 and y_pred.shape[1] == 1):
        y_true = y_true.ravel()
    return y_true, y_pred


def _columns(name: str, values: np.ndarray, suffixes: Sequence[str] = ()) -> dict[str, Any]:
    """A 1-D array as one column; rows x k as k columns NAME.0 .. NAME.k-1 (classes in order),
    or NAME.mean/NAME.var and NAME.q10 ... for a predictive distribution."""
    if values.ndim == 1:
        return {name: values}
    suffixes = suffixes or [str(j) for j in range(values.shape[1])]
    return {f"{name}.{s}": np.ascontiguousarray(values[:, j], dtype=np.float64) for j, s in enumerate(suffixes)}


def _distribution_shape(label: str, shape: str, y_pred: np.ndarray, levels: Sequence[float]) -> str | None:
    """'gaussian' or 'quantiles' when y_pred is a predictive distribution; None otherwise."""
    if levels:
        if y_pred.ndim != 2 or y_pred.shape[1] != len(levels):
            raise BadValueError(f"levels names {len(levels)} quantiles; give y_pred as rows x {len(levels)}")
        if not all(0 < q < 1 for q in levels):
            raise BadValueError(
                f"levels are quantile levels between 0 and 1, such as 0.1, 0.5, 0.9; got {list(levels)}"
            )
        return "quantiles"
    if shape == "quantiles":
        raise BadValueError(f"{label} scores quantiles: give y_pred as rows x k and their levels=[0.1, 0.5, 0.9]")
    if shape == "gaussian":
        if y_pred.ndim != 2 or y_pred.shape[1] != 2:
            raise BadValueError(f"{label} scores a Gaussian: give y_pred as rows x 2 (mean, variance)")
        return "gaussian"
    return None


def _distribution_names(shape: str | None, levels: Sequence[float]) -> list[str]:
    if shape == "gaussian":
        return ["mean", "var"]
    if shape == "quantiles":
        return [f"q{100 * q:.12g}" for q in levels]
    return []


def _check_shapes(label: str, tasks: Sequence[str], y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any) -> None:
    """One sentence for shapes the loss cannot take, as torchmetrics and scikit-learn say it."""
    for name, array in (("y_true", y_true), ("y_pred", y_pred)):
        if array.ndim not in (1, 2):
            raise BadValueError(f"{name} has shape {array.shape}; give 1-D arrays, or 2-D rows x classes")
    if y_pred.ndim == 2 and "multiclass" not in tasks:
        raise BadValueError(
            f"y_pred has shape {y_pred.shape} (rows x classes), but {label} is a {'/'.join(tasks)} loss "
            "that takes one prediction per row; give a 1-D y_pred"
        )
    if y_pred.ndim == 1 and tasks == ("multiclass",):
        raise BadValueError(f"{label} is a multiclass loss; give y_pred as a 2-D array of rows x classes")
    if y_true.ndim == 2 and (y_pred.ndim != 2 or y_true.shape[1] != y_pred.shape[1]):
        raise BadValueError(
            f"y_true has shape {y_true.shape} (soft targets) but y_pred has shape {y_pred.shape}; "
            "they need the same number of classes"
        )
    lengths = [("y_true", len(y_true)), ("y_pred", len(y_pred))]
    if sample_weight is not None:
        lengths.append(("sample_weight", len(np.asarray(sample_weight))))
    if len({n for _, n in lengths}) > 1:
        shown = ", ".join(f"{name} has {n}" for name, n in lengths)
        raise BadValueError(f"the arrays must have one value per row, but {shown}")
