"""Blocks: what the evaluator hands a loss's block form, and the buffers it reuses.

The evaluator cuts a batch into cache-sized blocks and lays every model side by
side, so one NumPy call serves all models: arrays are (models, rows). A loss's
block form (``Loss.block_kernel``) writes its per-row values into the block's
buffers, which are reused from block to block (no allocation, no page faults
per call), and returns ``(values, scale)``: the loss is ``scale * values``. The
scale lets a loss hand back an array the block already holds (pinball at
alpha = 0.5 is 0.5 |r|; cross-entropy is -1 times log p), so its sums cost
nothing more. ``values`` may be one of the block's shared arrays: read it, never
write it.

The per-row kernels of the residual losses are their block forms on a block of
one model, so each formula is written once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._registry import FloatArray

Rows = tuple[FloatArray, float]  # per-row losses = scale * values


class Buffers:
    """Flat float64 arrays kept from block to block (one set per thread)."""

    def __init__(self) -> None:
        self._arrays: list[np.ndarray] = []

    def get(self, index: int, shape: tuple[int, ...]) -> FloatArray:
        """Buffer ``index`` viewed as ``shape`` (grown when too small; the contents are garbage)."""
        size = math.prod(shape)
        while len(self._arrays) <= index:
            self._arrays.append(np.empty(0))
        if self._arrays[index].size < size:
            self._arrays[index] = np.empty(size)
        view: FloatArray = self._arrays[index][:size].reshape(shape)
        return view


class Block:
    """The rows lo..hi of a batch: the target, each model's predictions, the residual
    and |r| and r^2 computed once on first use, and buffers for the losses."""

    def __init__(self, y_true: np.ndarray, preds: Sequence[np.ndarray], buffers: Buffers | None = None) -> None:
        self.y = y_true
        self.preds = preds
        self.shape = (len(preds), len(y_true))
        self._buffers = buffers or Buffers()
        self._used = 0
        self._r: FloatArray | None = None
        self._abs: FloatArray | None = None
        self._square: FloatArray | None = None
        self._labels: np.ndarray | None = None
        self._positions: dict[int, np.ndarray] = {}
        self._ones: np.ndarray | bool | None = False  # False: not looked at yet

    @classmethod
    def of_residual(cls, r: FloatArray) -> Block:
        """A block whose residual is ``r`` (any shape; the per-row kernels' way in)."""
        block = cls(np.zeros(0), ())
        block.shape = r.shape
        block._r = np.asarray(r, dtype=np.float64)
        return block

    def buffer(self) -> FloatArray:
        """A fresh (models, rows) array for this block, reused by the next block."""
        self._used += 1
        return self._buffers.get(self._used - 1, self.shape)

    @property
    def residual(self) -> FloatArray:
        """r = y_pred - y_true, per model."""
        if self._r is None:
            r = self._r = self.buffer()
            for i, p in enumerate(self.preds):
                np.subtract(p, self.y, out=r[i])
        return self._r

    @property
    def abs(self) -> FloatArray:
        """|r|."""
        if self._abs is None:
            self._abs = np.abs(self.residual, out=self.buffer())
        return self._abs

    @property
    def square(self) -> FloatArray:
        """r^2 (equal to |r| * |r| bit for bit)."""
        if self._square is None:
            r = self.residual
            self._square = np.multiply(r, r, out=self.buffer())
        return self._square

    @property
    def labels(self) -> np.ndarray:
        """The target as class indices (intp), once for every model."""
        if self._labels is None:
            self._labels = self.y.astype(np.intp)
        return self._labels

    def class_positions(self, k: int) -> np.ndarray:
        """Where each row's true class sits in a flattened (rows, k) matrix."""
        if k not in self._positions:
            self._positions[k] = self.labels + np.arange(0, k * len(self.y), k)
        return self._positions[k]

    @property
    def hard_labels(self) -> np.ndarray | None:
        """Where y = 1 when every y is 0 or 1, else None."""
        if self._ones is False:
            ones = self.y == 1
            hard = np.count_nonzero(ones) + np.count_nonzero(self.y == 0) == len(self.y)
            self._ones = ones if hard else None
        return self._ones  # type: ignore[return-value]

    def known_square(self, values: FloatArray) -> FloatArray | None:
        """values * values when the block already holds it (|r|^2 is r^2), else None."""
        return self._square if values is self._abs and self._square is not None else None


def materialize(rows: Rows) -> FloatArray:
    """The per-row losses themselves: scale * values (values as they are when scale is 1)."""
    values, scale = rows
    if scale == 1.0:
        return values
    out: FloatArray = values * scale
    return out
