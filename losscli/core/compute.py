"""Losses for one batch, computed in cache-sized blocks, reduced inside the block.

A batch is cut into blocks so every temporary stays in the CPU cache. Within a
block the residual r = y_pred - y_true is computed once and shared by every
loss that is a function of r alone (mse, mae, huber, ...), and a kernel asked
twice with the same parameters (mse and rmse) runs once.

When nobody needs the per-row losses (no ``--per-row``, one group), each
block goes straight to its partial sums, so no batch-sized array is written
per loss. Such a block lays every model side by side, (models, rows), so one
NumPy call serves them all, and each loss's block form (``losses._block``)
writes into buffers each thread keeps from block to block. A batch with
enough work is cut into one contiguous run of blocks per thread (``workers``);
every block's sums are added in block order, so the numbers are identical for
any thread count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..losses._block import Block, Buffers, Rows
from ..spec import LossSpec
from . import spread
from .accumulate import Accumulator, Key
from .workers import parallel_map, thread_count


class Prediction(Protocol):
    """What the core needs to know of a model's prediction (read.layout.Model has it)."""

    @property
    def kind(self) -> str: ...
    @property
    def point_column(self) -> int | None: ...
    @property
    def levels(self) -> tuple[float, ...]: ...


# Per-row losses (--per-row, groups): 8k rows of float64 is 64 KiB an array, under glibc's
# malloc mmap threshold (128 KiB), where every fresh temporary would cost page faults.
BLOCK_ROWS = 1 << 13
# Reduced in blocks: rows x models per block. A (models, rows) array is 256 KiB, so the
# handful a block uses stay in a core's L2; they are buffers reused from block to block.
BLOCK_ELEMENTS = 1 << 15
# ... but never fewer rows than this: thousands of models go in groups (a NumPy call per model
# and block would otherwise be the whole cost).
MIN_BLOCK_ROWS = 1 << 10
# A task on the thread pool gets at least this many rows x models x kernels (about a
# millisecond of NumPy): below it, handing work to a thread and back costs more than it saves
# (one model's mse over a 128k-row batch runs faster on one thread).
MIN_TASK_WORK = 1 << 18

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
    if not n or not preds:
        return
    shared = weight is None and not valid  # every model has the same weights: one column for all
    layout = acc.replicate_layout(shared) if acc.replicates else []
    columns = np.empty((n, len(layout))) if acc.replicates else None
    # A block is (models, rows) of about BLOCK_ELEMENTS; with thousands of models it takes
    # MIN_BLOCK_ROWS rows of a group of them (with the baseline, which every pair needs).
    names = list(preds)
    rows = min(n, max(MIN_BLOCK_ROWS, BLOCK_ELEMENTS // len(names)))
    per_group = max(1, BLOCK_ELEMENTS // rows)
    baseline = acc.baseline if acc.paired else None
    for g in range(0, len(names), per_group):
        members = names[g : g + per_group]
        extra = [baseline] if baseline is not None and baseline not in members else []
        group = {m: preds[m] for m in members + extra}
        batch = _Batch(specs, y_true, group, weight, valid, baseline, layout, set(members))
        batch.spread = acc.spread
        _reduce_group(acc, batch, rows, columns)
    if columns is not None:
        acc.add_replicate_columns(columns, codes, row_offset, 1, shared)


def _reduce_group(acc: Accumulator, batch: _Batch, step: int, columns: np.ndarray | None) -> None:
    """One group of models over the whole batch, in blocks of ``step`` rows."""
    n = len(batch.y)

    def run(part: list[int]) -> list[np.ndarray]:
        buffers = _thread_buffers()
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):  # per thread
            return [batch.sums(lo, min(n, lo + step), buffers, columns) for lo in part]

    # Each task is a contiguous run of blocks (long GIL-free stretches per thread); every block's
    # sums are the same whichever task holds it, and they are added here in block order, so the
    # numbers are identical for any thread count.
    tasks = min(thread_count(), n * len(batch.preds) * len(batch.forms) // MIN_TASK_WORK)
    sums = [s for part in parallel_map(run, _runs(list(range(0, n, step)), tasks)) for s in part]
    batch.add_to(acc, batch.total(sums))


_local = threading.local()


def _thread_buffers() -> Buffers:
    """This thread's buffers, kept from batch to batch: a few MiB, allocated (and faulted in) once."""
    if not hasattr(_local, "buffers"):
        _local.buffers = Buffers()
    buffers: Buffers = _local.buffers
    return buffers


def _runs(items: list[int], parts: int) -> list[list[int]]:
    """``items`` cut into at most ``parts`` contiguous runs of near-equal length."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    out, lo = [], 0
    for i in range(parts):
        hi = lo + size + (i < extra)
        out.append(items[lo:hi])
        lo = hi
    return out


class _Batch:
    """What every block of one batch computes, and where its sums go.

    A block's sums are one vector: per job (distinct kernel call) and model, sum w*l and
    sum w*l^2; per model sum w, sum w^2 and the count; with a baseline, per job and model the
    paired moments (sum w*d, w*d^2, w, w^2, count, w*l, w*l of the baseline).
    """

    def __init__(
        self,
        specs: Sequence[LossSpec],
        y_true: np.ndarray,
        preds: dict[str, np.ndarray],
        weight: np.ndarray | None,
        valid: dict[str, np.ndarray],
        baseline: str | None,
        layout: list[tuple[Key | None, str]],
        members: set[str],
    ) -> None:
        self.specs, self.y, self.weight, self.valid, self.layout = specs, y_true, weight, valid, layout
        self.members = members  # the models whose sums and columns are this batch's (not a guest baseline)
        self.spread = True  # the means' spread too (only the t interval reads it; else left 0)
        self.names = list(preds)
        self.preds = [preds[m] for m in self.names]
        self.jobs, self.order = _jobs(specs, self.preds[0].ndim)
        self.forms = [_Form.of(spec, by_residual) for spec, by_residual in self.jobs]
        self.base = None if baseline is None else self.names.index(baseline)
        jm = len(self.jobs) * len(self.names)
        self.size = 4 * jm + 3 * len(self.names) + (9 * jm if self.base is not None else 0)

    def _views(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The means (..., jobs, 4, models), weights (..., 3, models) and paired (..., jobs, 9,
        models) parts of one block's vector, or of a stack of them (leading axes)."""
        j, m, lead = len(self.jobs), len(self.names), out.shape[:-1]
        means = out[..., : 4 * j * m].reshape(*lead, j, 4, m)
        weights = out[..., 4 * j * m : 4 * j * m + 3 * m].reshape(*lead, 3, m)
        paired = out[..., 4 * j * m + 3 * m :].reshape(*lead, j, 9, m) if self.base is not None else out[..., :0]
        return means, weights, paired

    def total(self, sums: list[np.ndarray]) -> np.ndarray:
        """The blocks' vectors (in block order) as one: sums added, spreads merged (spread.combine)."""
        stacked = np.stack(sums)
        out: np.ndarray = stacked.sum(axis=0)
        means, weights, paired = self._views(stacked)
        merged_means, _, merged_paired = self._views(out)
        w = np.broadcast_to(weights[:, None, 0, :], (len(sums), *means.shape[1:2], means.shape[-1]))
        merged_means[:, 1:4] = np.stack(spread.combine(w, means[:, :, 1], means[:, :, 2], means[:, :, 3]), axis=1)
        if self.base is not None:
            parts = (paired[:, :, k] for k in (4, 1, 2, 3))
            merged_paired[:, 1:4] = np.stack(spread.combine(*parts), axis=1)
        return out

    def sums(self, lo: int, hi: int, buffers: Buffers, columns: np.ndarray | None) -> np.ndarray:
        """The sums of rows lo..hi; fills those rows of the bootstrap columns when asked."""
        block = Block(self.y[lo:hi], [p[lo:hi] for p in self.preds], buffers)
        w, counts = self._weights(block, lo, hi)
        out = np.zeros(self.size)
        means, weights, paired = self._views(out)
        n = float(hi - lo)
        weights[0], weights[1] = (n, n) if w is None else (w.sum(axis=1), np.einsum("ij,ij->i", w, w))
        moments = _Moments(block, w, weights[0])
        rows = [form.rows(block) for form in self.forms]
        for j, (values, scale) in enumerate(rows):
            if not self.spread:
                means[j, 0] = scale * moments.first(values)
                continue
            first, pivot, shift, m2 = moments.of(values)
            means[j] = scale * first, scale * pivot, scale * shift, (scale * scale) * m2
        weights[2] = counts
        if self.base is not None or columns is not None:
            per_row = [_materialized(r, block) for r in rows]
            if self.base is not None:
                self._paired(block, per_row, (w, counts), (lo, hi), paired, means)
            if columns is not None:
                self._fill_columns(columns, lo, hi, per_row, w)
        return out

    def _weights(self, block: Block, lo: int, hi: int) -> tuple[np.ndarray | None, np.ndarray | int]:
        """Each model's weights on rows lo..hi, (models, rows) (0 on its dropped rows; None when
        nothing is weighted or dropped), and each model's count of rows."""
        n, shape = hi - lo, block.shape
        w = None if self.weight is None else self.weight[lo:hi]
        if not self.valid:
            return (None if w is None else np.broadcast_to(w, shape)), n
        out = block.buffer()
        counts = np.full(len(self.names), n)
        for i, name in enumerate(self.names):
            mask = self.valid.get(name)
            if mask is None:
                out[i] = 1.0 if w is None else w
            else:
                np.multiply(1.0 if w is None else w, mask[lo:hi], out=out[i])
                counts[i] = np.count_nonzero(mask[lo:hi])
        return out, counts

    def _paired(
        self,
        block: Block,
        per_row: list[np.ndarray],
        weights: tuple[np.ndarray | None, np.ndarray | int],
        rows: tuple[int, int],
        paired: np.ndarray,
        means: np.ndarray,
    ) -> None:
        """Per job, the moments of d = loss(model) - loss(baseline) on the rows both kept."""
        (w, counts), (lo, hi) = weights, rows
        base = self.base
        assert base is not None
        both = self.valid.get(self.names[base])
        pw: np.ndarray | None = w
        count = counts  # rows each model kept (the baseline kept all)
        if both is not None and w is not None:  # the baseline's dropped rows count for no pair
            pw = np.multiply(w, both[lo:hi], out=block.buffer())
            mine = [self.valid.get(m) for m in self.names]
            count = np.array([np.count_nonzero(both[lo:hi] if v is None else both[lo:hi] & v[lo:hi]) for v in mine])
        d = block.buffer()
        n = float(hi - lo)
        sw, sw2 = (np.full(len(per_row[0]), n),) * 2 if pw is None else (pw.sum(axis=1), np.einsum("ij,ij->i", pw, pw))
        moments = _Moments(block, pw, sw)
        for j, v in enumerate(per_row):
            np.subtract(v, v[base], out=d)
            wd, pivot, shift, m2 = moments.of(d)
            if pw is None:
                sums = (wd, pivot, shift, m2, sw, sw2, count, means[j, 0], means[j, 0, base])
            else:
                wm, wb = np.einsum("ij,ij->i", pw, v), np.einsum("ij,j->i", pw, v[base])
                sums = (wd, pivot, shift, m2, sw, sw2, count, wm, wb)
            for k, value in enumerate(sums):
                paired[j, k] = value

    def _fill_columns(
        self, columns: np.ndarray, lo: int, hi: int, per_row: list[np.ndarray], w: np.ndarray | None
    ) -> None:
        """Rows lo..hi of the bootstrap columns: per model its weights, then weight x loss per key."""
        index = {name: i for i, name in enumerate(self.names)}
        job = {spec.label: j for spec, j in zip(self.specs, self.order, strict=True)}
        for c, (slot, model) in enumerate(self.layout):
            if model not in self.members:
                continue
            m = index[model]
            if slot is None:
                columns[lo:hi, c] = 1.0 if w is None else w[m]
            else:
                values = per_row[job[slot[1]]][m]
                columns[lo:hi, c] = values if w is None else w[m] * values

    def add_to(self, acc: Accumulator, total: np.ndarray) -> None:
        """Add a batch's summed block vector to the accumulator."""
        means, weights, paired = self._views(total)
        job = {spec.label: j for spec, j in zip(self.specs, self.order, strict=True)}
        # As Python floats once (the same values float() gives): no NumPy indexing per model.
        sums, (ws, w2s, counts) = means.tolist(), weights.tolist()
        for m, model in enumerate(self.names):
            if model not in self.members:
                continue
            for spec in self.specs:
                (wls, pivots, shifts, m2s) = sums[job[spec.label]]
                acc.means[(model, spec.label)].add_sums(
                    wls[m], ws[m], int(counts[m]), (pivots[m], shifts[m], m2s[m]), w2s[m]
                )
        for key, state in acc.paired.items():
            if key[0] not in self.members:
                continue
            state.add_sums(tuple(paired[job[key[1]], :, self.names.index(key[0])].tolist()))


class _Moments:
    """Per model of a block's (models, rows) arrays: sum w*x and the spread (spread.py: pivot,
    shift, centred M2) in two passes over the block (in cache)."""

    def __init__(self, block: Block, w: np.ndarray | None, sum_w: np.ndarray) -> None:
        self.block, self.w = block, w
        with np.errstate(invalid="ignore", divide="ignore"):
            self.sum_w = sum_w.astype(np.float64)
            self.safe_w = np.where(self.sum_w > 0, self.sum_w, 1.0)
        self._tmp: np.ndarray | None = None

    def first(self, x: np.ndarray) -> np.ndarray:
        """sum w*x per model: the per-row path's order, wl = w * l, then its sum."""
        if self.w is None:
            plain: np.ndarray = x.sum(axis=1)
            return plain
        if self._tmp is None:
            self._tmp = self.block.buffer()
        total: np.ndarray = np.multiply(x, self.w, out=self._tmp).sum(axis=1)
        return total

    def of(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        first = self.first(x)
        if self._tmp is None:
            self._tmp = self.block.buffer()
        tmp = self._tmp
        with np.errstate(invalid="ignore", divide="ignore"):
            pivot = np.where(self.sum_w > 0, first / self.safe_w, 0.0)
            u = np.subtract(x, pivot[:, None], out=tmp)
            wu = u if self.w is None else self.w * u
            shift = wu.sum(axis=1)
            m2 = np.maximum(np.einsum("ij,ij->i", wu, u) - shift * shift / self.safe_w, 0.0)
        return first, pivot, shift, m2


@dataclass(frozen=True)
class _Form:
    """How one job computes its per-row losses for a block: its block form, else its kernel per model."""

    block: Callable[..., Rows | None] | None
    kernel: Callable[..., np.ndarray]
    params: dict[str, Any]

    @classmethod
    def of(cls, spec: LossSpec, by_residual: bool) -> _Form:
        form = spec.loss.block_kernel
        usable = form is not None and (by_residual or spec.loss.residual_kernel is None)
        return cls(form if usable else None, spec.loss.kernel, spec.kernel_params)

    def rows(self, block: Block) -> Rows:
        """Every model's per-row losses, (values, scale)."""
        if self.block is not None:
            rows = self.block(block, **self.params)
            if rows is not None:
                return rows
        out = block.buffer()
        for i, p in enumerate(block.preds):
            out[i] = self.kernel(block.y, p, **self.params)
        return out, 1.0


def _materialized(rows: Rows, block: Block) -> np.ndarray:
    values, scale = rows
    return values if scale == 1.0 else np.multiply(values, scale, out=block.buffer())


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
