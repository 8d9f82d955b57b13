"""Bounded-memory, mergeable summaries of one stream of numbers.

Some of what ``losscli advise`` reports (a median, the MAD, the share held by the
largest 1%) needs more than sums. These states keep what is needed exactly while
it fits a fixed bound, say when they have passed it (``exact``), and merge so
that the answer does not depend on how the rows were split:

- ``TopValues`` keeps the ``capacity`` largest values. The largest values of a
  union are among the largest of its parts, so it merges exactly: the sum of the
  k largest is exact while k <= capacity.
- ``Sketch`` keeps every value (and weight) up to ``exact_rows`` rows; past that
  it folds them into a histogram with SUB_BINS bins per octave of |x| (each bin at
  most 1/128 = 0.78% of its values wide), from which quantiles are within 0.78% of
  |x| and sums of the largest values within 0.78% of the partly-taken bin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SUB_BINS = 128
# A float64's bits, read as an integer, grow with its magnitude: dropping all but the top
# 7 of the 52 mantissa bits leaves the exponent and 128 equal sub-bins per octave.
_SHIFT = 52 - 7


def bin_index(x: FloatArray) -> IntArray:
    """A histogram bin per value, ordered as the values: 0 holds 0, negatives below, positives above."""
    magnitude = np.abs(x).view(np.int64) >> _SHIFT
    return np.where(x < 0, -magnitude, magnitude)


def _bin_sums(
    offset: IntArray, x: FloatArray, weight: FloatArray | None, size: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per bin: the sum of weights, of weight * x and of weight * x^2."""
    wx = x if weight is None else weight * x
    counts = np.bincount(offset, minlength=size) if weight is None else np.bincount(offset, weight, size)
    # Weighted bincounts are float64 already (astype copies nothing); NumPy's stubs say int.
    sum_wx = np.bincount(offset, wx, size).astype(np.float64, copy=False)
    sum_wx2 = np.bincount(offset, wx * x, size).astype(np.float64, copy=False)
    return counts.astype(np.float64, copy=False), sum_wx, sum_wx2


@dataclass
class Bins:
    """Per bin of |x|: sum of weights, of weight * x, of weight * x^2, over the range of bins in use."""

    low: int = 0
    w: FloatArray = field(default_factory=lambda: np.zeros(0))
    wx: FloatArray = field(default_factory=lambda: np.zeros(0))
    wx2: FloatArray = field(default_factory=lambda: np.zeros(0))

    def add(self, index: IntArray, x: FloatArray, weight: FloatArray | None) -> None:
        if x.size == 0:
            return
        self.cover(int(index.min()), int(index.max()))
        self.take(*_bin_sums(index - self.low, x, weight, len(self.w)))

    def take(self, w: FloatArray, wx: FloatArray, wx2: FloatArray) -> None:
        self.w += w
        self.wx += wx
        self.wx2 += wx2

    def cover(self, lo: int, hi: int) -> None:
        """Grow the stored range to hold bins lo..hi."""
        if len(self.w) == 0:
            self.low = lo
            self.w, self.wx, self.wx2 = (np.zeros(hi - lo + 1) for _ in range(3))
            return
        new_low, new_high = min(lo, self.low), max(hi, self.low + len(self.w) - 1)
        if new_low == self.low and new_high == self.low + len(self.w) - 1:
            return
        start = self.low - new_low

        def grown(a: FloatArray) -> FloatArray:
            out = np.zeros(new_high - new_low + 1)
            out[start : start + len(a)] = a
            return out

        self.w, self.wx, self.wx2 = grown(self.w), grown(self.wx), grown(self.wx2)
        self.low = new_low

    def merge(self, other: Bins) -> Bins:
        out = Bins(self.low, self.w.copy(), self.wx.copy(), self.wx2.copy())
        if len(other.w) == 0:
            return out
        out.cover(other.low, other.low + len(other.w) - 1)
        start = other.low - out.low
        for mine, theirs in ((out.w, other.w), (out.wx, other.wx), (out.wx2, other.wx2)):
            mine[start : start + len(theirs)] += theirs
        return out

    def points(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(mean value, weight, weight * x^2) of every bin that holds weight, by increasing |x|."""
        used = self.w > 0
        return self.wx[used] / self.w[used], self.w[used], self.wx2[used]


@dataclass
class Histogram:
    """Log-binned sums of a signed stream: negatives and positives (and 0) in two ranges of |x|.

    Two ranges, so values near 0 on one side do not make the other side span every exponent.
    """

    negative: Bins = field(default_factory=Bins)
    positive: Bins = field(default_factory=Bins)

    def add(self, x: FloatArray, weight: FloatArray | None) -> None:
        if x.size == 0:
            return
        magnitude = np.abs(x).view(np.int64) >> _SHIFT
        below = x < 0
        if not below.any():
            self.positive.add(magnitude, x, weight)
            return
        # Both sides cover the batch's whole range of |x| (residuals are roughly symmetric), so
        # one bincount over [negative bins, positive bins] fills both, without copying the sides out.
        lo, hi = int(magnitude.min()), int(magnitude.max())
        self.negative.cover(lo, hi)
        self.positive.cover(lo, hi)
        split = len(self.negative.w)
        offset = np.where(below, magnitude - self.negative.low, magnitude - self.positive.low + split)
        sums = _bin_sums(offset, x, weight, split + len(self.positive.w))
        self.negative.take(*(a[:split] for a in sums))
        self.positive.take(*(a[split:] for a in sums))

    def merge(self, other: Histogram) -> Histogram:
        return Histogram(self.negative.merge(other.negative), self.positive.merge(other.positive))

    @property
    def size(self) -> int:
        return len(self.negative.w) + len(self.positive.w)

    def points(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(mean value, weight, weight * x^2) of every bin that holds weight, in increasing order."""
        (nx, nw, nx2), (px, pw, px2) = self.negative.points(), self.positive.points()
        # Negatives by increasing |x| are in decreasing order: reversed, they come first.
        return np.concatenate((nx[::-1], px)), np.concatenate((nw[::-1], pw)), np.concatenate((nx2[::-1], px2))


def weighted_quantile(x: FloatArray, weight: FloatArray | None, q: float) -> float:
    """The q-quantile: NumPy's linear one without weights, the inverted CDF with weights.

    Weighted, it is the smallest x whose cumulative weight reaches q of the total
    (``np.quantile(x, q, weights=w, method="inverted_cdf")``).
    """
    if x.size == 0:
        return math.nan
    if weight is None:
        return float(np.quantile(x, q))
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(weight[order])
    if cumulative[-1] <= 0:
        return math.nan
    return float(x[order][int(np.searchsorted(cumulative, q * cumulative[-1], side="left"))])


@dataclass
class Sketch:
    """Every (value, weight) up to ``exact_rows`` rows, then a log-binned histogram."""

    exact_rows: int
    chunks: list[tuple[FloatArray, FloatArray | None]] = field(default_factory=list)
    rows: int = 0
    histogram: Histogram | None = None

    @property
    def exact(self) -> bool:
        return self.histogram is None

    def update(self, x: FloatArray, weight: FloatArray | None = None) -> None:
        self.rows += len(x)
        if self.histogram is not None:
            self.histogram.add(x, weight)
            return
        self.chunks.append((x.copy(), None if weight is None else weight.copy()))
        if self.rows > self.exact_rows:
            self._fold()

    def _fold(self) -> None:
        self.histogram = Histogram()
        for x, weight in self.chunks:
            self.histogram.add(x, weight)
        self.chunks = []

    def merge(self, other: Sketch) -> Sketch:
        out = Sketch(self.exact_rows, [*self.chunks, *other.chunks], self.rows + other.rows)
        if self.histogram is not None or other.histogram is not None or out.rows > out.exact_rows:
            out._fold()
            for part in (self.histogram, other.histogram):
                if part is not None:
                    assert out.histogram is not None
                    out.histogram = out.histogram.merge(part)
        return out

    def values(self) -> tuple[FloatArray, FloatArray | None]:
        """The exact values and their weights (None when no chunk had weights)."""
        if not self.chunks:
            return np.zeros(0), None
        x = np.concatenate([c[0] for c in self.chunks])
        if all(c[1] is None for c in self.chunks):
            return x, None
        return x, np.concatenate([c[1] if c[1] is not None else np.ones(len(c[0])) for c in self.chunks])

    def quantile(self, q: float) -> float:
        if self.histogram is None:
            return weighted_quantile(*self.values(), q)
        means, w, _ = self.histogram.points()
        return weighted_quantile(means, w, q)

    def mad(self) -> float:
        """The median absolute deviation from the median (scipy's median_abs_deviation, scale 1)."""
        if self.histogram is None:
            x, weight = self.values()
            return weighted_quantile(np.abs(x - weighted_quantile(x, weight, 0.5)), weight, 0.5)
        means, w, _ = self.histogram.points()
        return weighted_quantile(np.abs(means - weighted_quantile(means, w, 0.5)), w, 0.5)

    def huber_sum(self, delta: float) -> float:
        """Sum of weight * huber(x; delta): 0.5 x^2 within delta, delta (|x| - delta / 2) beyond."""
        if self.histogram is None:
            x, weight = self.values()
            a = np.abs(x)
            per_row = np.where(a <= delta, 0.5 * x * x, delta * (a - 0.5 * delta))
            return float(per_row.sum() if weight is None else (weight * per_row).sum())
        means, w, wx2 = self.histogram.points()
        a = np.abs(means)
        # A bin lies within 0.78% of its mean: only a bin straddling delta is approximate.
        return float(np.where(a <= delta, 0.5 * wx2, delta * (a * w - 0.5 * delta * w)).sum())

    def top_sum(self, k: int) -> float:
        """Sum of the k largest values (rows counted once each; weights are ignored)."""
        if self.histogram is None:
            x, _ = self.values()
            return float(np.sort(x)[::-1][:k].sum())
        means, w, _ = self.histogram.points()
        taken = np.minimum(w[::-1], np.maximum(k - np.concatenate(([0.0], np.cumsum(w[::-1])[:-1])), 0.0))
        return float((taken * means[::-1]).sum())


@dataclass
class TopValues:
    """The ``capacity`` largest values seen (or all, until more than 2 x capacity), their count and sum.

    Values are cut back to the ``capacity`` largest only when twice that many are held,
    so the partition runs once per ``capacity`` rows, not once per batch.
    """

    capacity: int
    values: FloatArray = field(default_factory=lambda: np.zeros(0))
    rows: int = 0
    total: float = 0.0
    # Some values were cut: only the ``capacity`` largest are known to be the largest.
    cut: bool = False

    def update(self, x: FloatArray) -> None:
        self.rows += len(x)
        self.total += float(x.sum())
        self.values = np.concatenate((self.values, x))
        self._bound()

    def _bound(self) -> None:
        if len(self.values) > 2 * self.capacity:
            self.values = _largest(self.values, self.capacity)
            self.cut = True

    def merge(self, other: TopValues) -> TopValues:
        out = TopValues(
            self.capacity,
            np.concatenate((self.values, other.values)),
            self.rows + other.rows,
            self.total + other.total,
            self.cut or other.cut,
        )
        out._bound()
        return out

    def top_sum(self, k: int) -> float | None:
        """Sum of the k largest values, or None when some of them may have been cut."""
        if self.cut and k > self.capacity:
            return None
        return float(np.sort(self.values)[::-1][:k].sum())


def _largest(x: FloatArray, k: int) -> FloatArray:
    if len(x) <= k:
        return x
    return np.partition(x, len(x) - k)[len(x) - k :]
