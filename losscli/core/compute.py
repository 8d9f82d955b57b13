"""Losses for one batch, computed in cache-sized blocks, reduced inside the block.

A batch is cut into blocks of BLOCK_ROWS rows so every temporary stays in the
CPU cache. Within a block the residual r = y_pred - y_true is computed once
and shared by every loss that is a function of r alone (mse, mae, huber, ...),
and a kernel asked twice with the same parameters (mse and rmse) runs once.

When nobody needs the per-row losses (no ``--per-row``, one group), each
block goes straight to its partial sums, so no batch-sized array is written
per loss. Blocks run on the thread pool (``workers``) and their sums are added
in block order, so the numbers are identical for any thread count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..spec import LossSpec
from .accumulate import Accumulator, Key, dot
from .workers import parallel_map


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

Job = tuple[LossSpec, bool]  # a distinct kernel call, and whether it takes the residual


def _jobs(specs: Sequence[LossSpec], ndim: int) -> tuple[list[Job], list[int]]:
    """The distinct kernel calls and, for each spec, which call gives its values."""
    slots: dict[tuple[object, ...], int] = {}
    order: list[int] = []
    jobs: list[Job] = []
    for spec in specs:
        by_residual = spec.loss.residual_kernel is not None and ndim == 1
        fn = spec.loss.residual_kernel if by_residual else spec.loss.kernel
        key = (fn, tuple(sorted(spec.kernel_params.items())))
        if key not in slots:
            slots[key] = len(jobs)
            jobs.append((spec, by_residual))
        order.append(slots[key])
    return jobs, order


def _block_losses(jobs: list[Job], y: np.ndarray, p: np.ndarray) -> list[np.ndarray]:
    """Every job's per-row losses for one block (the residual computed once)."""
    r = p - y if any(by_residual for _, by_residual in jobs) else None
    out = []
    for spec, by_residual in jobs:
        if by_residual:
            out.append(spec.loss.residual_kernel(r, **spec.kernel_params))  # type: ignore[misc]
        else:
            out.append(spec.loss.kernel(y, p, **spec.kernel_params))
    return out


def batch_losses(specs: Sequence[LossSpec], y_true: np.ndarray, y_pred: np.ndarray) -> list[np.ndarray]:
    """The per-row losses of every spec for one model's batch, in the order of ``specs``."""
    n = len(y_true)
    jobs, order = _jobs(specs, y_pred.ndim)
    outs = [np.empty(n) for _ in jobs]
    # A loss too large for float64 (or the log of 0 with bce:eps=0) is inf: the engine says which
    # model and row, as a warning of its own, never NumPy's.
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        for lo in range(0, n, BLOCK_ROWS):
            hi = min(n, lo + BLOCK_ROWS)
            for out, values in zip(outs, _block_losses(jobs, y_true[lo:hi], y_pred[lo:hi]), strict=True):
                out[lo:hi] = values
    return [outs[i] for i in order]


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


@dataclass
class _BlockSums:
    """One block's contribution with one group: per key (wl, wl2), per model (w, w2, n),
    per paired key (wd, wd2, w, w2, n, w * model loss, w * baseline loss)."""

    means: dict[Key, tuple[float, float]]
    weights: dict[str, tuple[float, float, int]]
    paired: dict[Key, tuple[float, float, float, float, int, float, float]]


def update_batch(
    acc: Accumulator,
    specs: Sequence[LossSpec],
    y_true: np.ndarray,
    preds: dict[str, np.ndarray],
    weight: np.ndarray | None,
    codes: np.ndarray,
    row_offset: int,
    valid: dict[str, np.ndarray] | None = None,
    keep_rows: bool = False,
    models: Mapping[str, Prediction] | None = None,
) -> dict[Key, np.ndarray] | None:
    """Add one batch to ``acc``; return its per-row losses when ``keep_rows`` (for --per-row).

    ``models`` says, by name, what each model predicts (default: points). With
    one group, point predictions, no skill score and no per-row output, blocks
    are reduced where they are computed, on the thread pool; otherwise per-row
    losses go through Accumulator.update (bincount per group). Both give the same
    numbers to rounding (rtol 1e-12).
    """
    valid = valid or {}
    points = models is None or all(m.kind == "point" for m in models.values())
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):  # inf stays inf, said so
        if keep_rows or len(acc.groups) > 1 or acc.skills or acc.pair_boot or not points:
            per_row = per_row_losses(specs, y_true, preds, models)
            acc.update(per_row, weight, codes, row_offset, valid, y_true)
            return per_row if keep_rows else None
        _reduce_in_blocks(acc, specs, y_true, preds, weight, codes, row_offset, valid)
    return None


def per_row_losses(
    specs: Sequence[LossSpec],
    y_true: np.ndarray,
    preds: dict[str, np.ndarray],
    models: Mapping[str, Prediction] | None = None,
) -> dict[Key, np.ndarray]:
    """Every (model, loss)'s per-row losses of one batch (``models``: what each predicts)."""
    out: dict[Key, np.ndarray] = {}
    for name, p in preds.items():
        values = batch_losses(specs, y_true, p) if models is None else model_losses(specs, y_true, p, models[name])
        out |= {(name, spec.label): v for spec, v in zip(specs, values, strict=True)}
    return out


def _reduce_in_blocks(
    acc: Accumulator,
    specs: Sequence[LossSpec],
    y_true: np.ndarray,
    preds: dict[str, np.ndarray],
    weight: np.ndarray | None,
    codes: np.ndarray,
    row_offset: int,
    valid: dict[str, np.ndarray],
) -> None:
    n = len(y_true)
    shared = weight is None and not valid  # every model has the same weights: one column for all
    layout = acc.replicate_layout(shared) if acc.replicates else []
    columns = np.empty((n, len(layout))) if acc.replicates else None

    def one_block(lo: int) -> _BlockSums:
        hi = min(n, lo + BLOCK_ROWS)
        return _block_sums(acc, specs, y_true, preds, weight, valid, lo, hi, columns, layout)

    # Blocks run on the pool; their sums are added here, in block order.
    for sums in parallel_map(one_block, range(0, n, BLOCK_ROWS)):
        for model, (w, w2, count) in sums.weights.items():
            for spec in specs:
                wl, wl2 = sums.means[(model, spec.label)]
                acc.means[(model, spec.label)].add_sums(wl, w, count, wl2, w2)
        for key, moments in sums.paired.items():
            acc.paired[key].add_sums(*moments)
    if columns is not None:
        acc.add_replicate_columns(columns, codes, row_offset, 1, shared)


def _block_sums(
    acc: Accumulator,
    specs: Sequence[LossSpec],
    y_true: np.ndarray,
    preds: dict[str, np.ndarray],
    weight: np.ndarray | None,
    valid: dict[str, np.ndarray],
    lo: int,
    hi: int,
    columns: np.ndarray | None,
    layout: list[tuple[Key | None, str]],
) -> _BlockSums:
    """The sums of rows lo..hi; fills those rows of the bootstrap columns when asked."""
    y, w_all = y_true[lo:hi], None if weight is None else weight[lo:hi]
    values: dict[Key, np.ndarray] = {}
    weights: dict[str, np.ndarray | None] = {}
    out = _BlockSums({}, {}, {})
    for model, pred in preds.items():
        jobs, order = _jobs(specs, pred.ndim)
        computed = _block_losses(jobs, y, pred[lo:hi])
        mask = valid.get(model)
        w = _masked(w_all, None if mask is None else mask[lo:hi], hi - lo)
        weights[model] = w
        count = hi - lo if mask is None else int(np.count_nonzero(mask[lo:hi]))
        rows = float(hi - lo)
        out.weights[model] = (rows, rows, count) if w is None else (float(w.sum()), dot(w, w), count)
        for spec, i in zip(specs, order, strict=True):
            l = computed[i]  # noqa: E741
            values[(model, spec.label)] = l
            wl = l if w is None else w * l
            out.means[(model, spec.label)] = (float(wl.sum()), dot(wl, l))
    for key in acc.paired:
        base = acc.baseline or ""
        w, count = _paired_weight(w_all, valid, key[0], base, lo, hi)
        d = values[key] - values[(base, key[1])]
        wd = d if w is None else w * d
        lm, lb = values[key], values[(base, key[1])]
        wm, wb = (float(lm.sum()), float(lb.sum())) if w is None else (dot(w, lm), dot(w, lb))
        sw, sw2 = (float(hi - lo), float(hi - lo)) if w is None else (float(w.sum()), dot(w, w))
        out.paired[key] = (float(wd.sum()), dot(wd, d), sw, sw2, count, wm, wb)
    if columns is not None:
        for i, (slot, model) in enumerate(layout):
            w = weights[model]
            if slot is None:
                columns[lo:hi, i] = 1.0 if w is None else w
            else:
                columns[lo:hi, i] = values[slot] if w is None else w * values[slot]
    return out


def _masked(weight: np.ndarray | None, mask: np.ndarray | None, n: int) -> np.ndarray | None:
    """Weights with dropped rows set to 0 (None when nothing is weighted or dropped)."""
    if mask is None:
        return weight
    masked: np.ndarray = (np.ones(n) if weight is None else weight) * mask
    return masked


def _paired_weight(
    weight: np.ndarray | None, valid: dict[str, np.ndarray], model: str, base: str, lo: int, hi: int
) -> tuple[np.ndarray | None, int]:
    """The block's weights (rows lo..hi) where both the model and the baseline are evaluated, and their count."""
    a, b = valid.get(model), valid.get(base)
    if a is None and b is None:
        return weight, hi - lo
    both = [m[lo:hi] for m in (a, b) if m is not None]
    mask = both[0] if len(both) == 1 else both[0] & both[1]
    return _masked(weight, mask, hi - lo), int(np.count_nonzero(mask))
