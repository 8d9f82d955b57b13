"""Refuse values a loss cannot take, naming the first one: file, column, row, rule.

The registry declares what each loss needs (probabilities, rows that sum to 1,
targets > 0, ...); this module enforces it on every batch before a kernel runs,
so a kernel never sees input it would turn into NaN or a silent wrong number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import BadValueError
from ..losses import Interval
from ..losses._registry import NON_NEGATIVE, UNIT
from ..spec import LossSpec
from .extract import BatchArrays
from .layout import Layout, Model

# Rows of class probabilities must sum to 1 within this (as the issue and scikit-learn's spirit).
ROW_SUM_TOLERANCE = 1e-6


def check_batch(layout: Layout, specs: Sequence[LossSpec], arrays: BatchArrays) -> None:
    """Raise BadValueError for the first value any requested loss cannot take."""
    done: set[tuple[object, ...]] = set()
    for spec in specs:
        loss = spec.loss
        domain = loss.domain(spec.params)
        if domain.target is not None and ("target", domain.target) not in done:
            _within(layout, arrays, (layout.target,), arrays.y_true, domain.target, spec, "targets", domain.why)
            done.add(("target", domain.target))
        for model in layout.models:
            y_pred = arrays.preds[model.name]
            if model.kind != "point":
                _check_point_read(layout, arrays, model, spec, domain.pred, done)
                continue
            if loss.pred_kind == "probability":
                # normalize=true takes any non-negative weights per class and rescales them.
                free = spec.params.get("normalize") or spec.params.get("unnormalized")
                interval, what = (NON_NEGATIVE, "values") if free else (UNIT, "probabilities")
                if (model.name, interval) not in done:
                    _within(layout, arrays, model.columns, y_pred, interval, spec, what, "")
                    done.add((model.name, interval))
            if domain.pred is not None and (model.name, domain.pred) not in done:
                _within(layout, arrays, model.columns, y_pred, domain.pred, spec, "predictions", domain.why)
                done.add((model.name, domain.pred))
            # One rule for every loss that takes distributions (cce, kl_div, brier): rows sum to 1.
            distribution = loss.needs_distribution or loss.pred_kind == "probability"
            summed = distribution and not spec.params.get("unnormalized")
            if summed and y_pred.ndim == 2 and (model.name, "sum", spec) not in done:
                _row_sums(layout, arrays, model, y_pred, spec)
                done.add((model.name, "sum", spec))


def _check_point_read(
    layout: Layout,
    arrays: BatchArrays,
    model: Model,
    spec: LossSpec,
    pred: Interval | None,
    done: set[tuple[object, ...]],
) -> None:
    """A distribution model under a point loss: the column it reads (mean or median) must fit."""
    index = model.point_column
    if pred is None or spec.loss.pred_shape != "point" or index is None or (model.name, pred) in done:
        return
    if model.kind == "quantiles" and spec.loss.on_quantiles is not None:
        return
    column = arrays.preds[model.name][:, index]
    _within(
        layout, arrays, (model.columns[index],), column, pred, spec, "predictions", spec.loss.domain(spec.params).why
    )
    done.add((model.name, pred))


def _within(
    layout: Layout,
    arrays: BatchArrays,
    columns: tuple[str, ...],
    values: np.ndarray,
    interval: Interval,
    spec: LossSpec,
    what: str,
    why: str,
) -> None:
    if values.ndim == 2 and values.shape[1] != len(columns):
        return  # soft targets: checked as a distribution when read
    # Every value lies in the interval when its least and greatest do (NaN makes both NaN):
    # two reductions instead of two comparisons into temporaries and their conjunction.
    if values.size and interval.contains(float(values.min())) and interval.contains(float(values.max())):
        return
    inside = np.ones(values.shape, dtype=bool)
    if np.isfinite(interval.low):
        inside &= values >= interval.low if interval.low_closed else values > interval.low
    if np.isfinite(interval.high):
        inside &= values <= interval.high if interval.high_closed else values < interval.high
    if inside.all():
        return
    flat = inside.reshape(len(values), -1)
    row, col = (int(i) for i in np.argwhere(~flat)[0])
    value = float(values.reshape(len(values), -1)[row, col])
    hint = "; for raw scores use a logits loss, hinge or zero_one:threshold=0" if what == "probabilities" else ""
    because = f" ({why})" if why else ""
    raise BadValueError(
        f"{layout.source}: column {columns[col]!r}, row {arrays.row_offset + row + 1} holds {value!r}, "
        f"but {spec.label} needs {what} {interval.describe()}{because}{hint}"
    )


def _row_sums(layout: Layout, arrays: BatchArrays, model: Model, y_pred: np.ndarray, spec: LossSpec) -> None:
    """Rows must sum to 1, or with normalize=true to something positive."""
    # einsum adds along the short rows 3-4x faster than sum(axis=1); the tolerance is far above
    # any difference of summation order, and a reported sum is the row's own.
    sums = np.einsum("ij->i", y_pred)
    if spec.params.get("normalize"):
        bad = np.flatnonzero(sums <= 0)
        if bad.size:
            raise BadValueError(
                f"{layout.source}: the values of model {model.name!r} in row {arrays.row_offset + int(bad[0]) + 1} "
                f"sum to 0, so {spec.label} cannot rescale them into probabilities"
            )
        return
    bad = np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE)
    if bad.size:
        i = int(bad[0])
        raise BadValueError(
            f"{layout.source}: the probabilities of model {model.name!r} in row {arrays.row_offset + i + 1} "
            f"sum to {float(y_pred[i].sum())!r}, not 1; {_remedy(spec)}"
        )


def _remedy(spec: LossSpec) -> str:
    if spec.loss.param("unnormalized") is not None:
        return f"pass {spec.name}:unnormalized=true to compute it on such rows anyway (as torch and Keras)"
    if spec.loss.param("normalize") is not None:
        return f"pass {spec.name}:normalize=true to rescale each row, or use {spec.name}_logits for scores"
    return f"{spec.name} takes one probability distribution per row: rescale the rows, or use cce:normalize=true"
