"""Per-row losses for one batch, computed in cache-sized blocks.

A batch is cut into blocks of BLOCK_ROWS rows so every temporary stays in the
CPU cache. Within a block the residual r = y_pred - y_true is computed once
and shared by every loss that is a function of r alone (mse, mae, huber, ...),
and a kernel asked twice with the same parameters (mse and rmse) runs once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..spec import LossSpec


class Prediction(Protocol):
    """What the core needs to know of a model's prediction (read.layout.Model has it)."""

    @property
    def kind(self) -> str: ...
    @property
    def point_column(self) -> int | None: ...
    @property
    def levels(self) -> tuple[float, ...]: ...


# 16k rows of float64 is 128 KiB an array: a few of them fit in L2.
BLOCK_ROWS = 1 << 14


def batch_losses(specs: Sequence[LossSpec], y_true: np.ndarray, y_pred: np.ndarray) -> list[np.ndarray]:
    """The per-row losses of every spec for one model's batch, in the order of ``specs``."""
    n = len(y_true)
    slots: dict[tuple[object, ...], int] = {}
    order: list[int] = []
    jobs: list[tuple[LossSpec, bool]] = []
    for spec in specs:
        by_residual = spec.loss.residual_kernel is not None and y_pred.ndim == 1
        fn = spec.loss.residual_kernel if by_residual else spec.loss.kernel
        key = (fn, tuple(sorted(spec.kernel_params.items())))
        if key not in slots:
            slots[key] = len(jobs)
            jobs.append((spec, by_residual))
        order.append(slots[key])
    outs = [np.empty(n) for _ in jobs]
    # A loss too large for float64 (or the log of 0 with bce:eps=0) is inf: the engine says which
    # model and row, as a warning of its own, never NumPy's.
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        _fill(jobs, outs, y_true, y_pred, n)
    return [outs[i] for i in order]


def _fill(
    jobs: list[tuple[LossSpec, bool]], outs: list[np.ndarray], y_true: np.ndarray, y_pred: np.ndarray, n: int
) -> None:
    any_residual = any(by_residual for _, by_residual in jobs)
    for lo in range(0, n, BLOCK_ROWS):
        hi = min(n, lo + BLOCK_ROWS)
        y, p = y_true[lo:hi], y_pred[lo:hi]
        r = p - y if any_residual else None
        for (spec, by_residual), out in zip(jobs, outs, strict=True):
            if by_residual:
                out[lo:hi] = spec.loss.residual_kernel(r, **spec.kernel_params)  # type: ignore[misc]
            else:
                out[lo:hi] = spec.loss.kernel(y, p, **spec.kernel_params)


def model_losses(
    specs: Sequence[LossSpec], y_true: np.ndarray, y_pred: np.ndarray, model: Prediction
) -> list[np.ndarray]:
    """The per-row losses of one model, whatever it predicts.

    A predictive distribution feeds its own losses whole (with the quantile levels);
    point losses read its mean or median column, through the shared-residual path, and
    a point loss with a quantile-set form (pinball) takes the whole set.
    """
    if model.kind == "point":
        return batch_losses(specs, y_true, y_pred)
    whole = [s for s in specs if s.loss.pred_shape != "point" or (model.kind == "quantiles" and s.loss.on_quantiles)]
    point = [s for s in specs if s not in whole]
    out: dict[LossSpec, np.ndarray] = {}
    if point:
        index = model.point_column
        assert index is not None  # the planner refuses a point loss without a point column
        out |= dict(zip(point, batch_losses(point, y_true, np.ascontiguousarray(y_pred[:, index])), strict=True))
    extra = {"levels": np.asarray(model.levels)} if model.kind == "quantiles" else {}
    n = len(y_true)
    with np.errstate(over="ignore", under="ignore"):
        for spec in whole:
            params = spec.kernel_params
            kernel = spec.loss.kernel
            if spec.loss.pred_shape == "point":  # pinball over the set: each level is its own alpha
                kernel = spec.loss.on_quantiles  # type: ignore[assignment]
                params = {k: v for k, v in params.items() if k != "alpha"}
            values = out[spec] = np.empty(n)
            for lo in range(0, n, BLOCK_ROWS):  # cache-sized blocks, as for point losses
                hi = min(n, lo + BLOCK_ROWS)
                values[lo:hi] = kernel(y_true[lo:hi], y_pred[lo:hi], **params, **extra)
    return [out[s] for s in specs]
