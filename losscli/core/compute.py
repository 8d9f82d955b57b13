"""Per-row losses for one batch, computed in cache-sized blocks.

A batch is cut into blocks of BLOCK_ROWS rows so every temporary stays in the
CPU cache. Within a block the residual r = y_pred - y_true is computed once
and shared by every loss that is a function of r alone (mse, mae, huber, ...),
and a kernel asked twice with the same parameters (mse and rmse) runs once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..spec import LossSpec

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
        key = (fn, tuple(sorted(spec.params.items())))
        if key not in slots:
            slots[key] = len(jobs)
            jobs.append((spec, by_residual))
        order.append(slots[key])
    outs = [np.empty(n) for _ in jobs]
    with np.errstate(over="ignore", under="ignore"):  # a loss too large for float64 is inf, said as inf
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
                out[lo:hi] = spec.loss.residual_kernel(r, **spec.params)  # type: ignore[misc]
            else:
                out[lo:hi] = spec.loss.kernel(y, p, **spec.params)
