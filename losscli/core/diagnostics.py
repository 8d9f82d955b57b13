"""How each model errs, in streaming, mergeable state: the numbers ``losscli advise`` decides on.

Every state is filled batch by batch (``update``), combined with ``merge`` and
read once at the end, so a file is read in one pass in bounded memory and the
answer does not depend on how the rows were split (rounding aside):

- ``Moments``: weighted central moments up to the fourth, merged with Pébay's
  formulas (no cancellation from raw power sums): bias, RMSE, kurtosis.
- ``Concentration``: the share of a loss held by the worst 1% of rows. The
  largest TOP_CAPACITY contributions are kept exactly (exact up to
  100 * TOP_CAPACITY = 13.1M rows per model, 1 MiB); beyond, a log-binned
  histogram answers within 0.78% of the partly-taken bin (``exact`` says which).
- ``WorstRows``: the ``top`` rows contributing most, with their ids.
- ``CalibrationBins``: binned expected calibration error, mean confidence and
  accuracy.
The median, MAD and Huber at the robust scale come from ``sketch.Sketch``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .sketch import FloatArray, IntArray, Sketch, TopValues

# The worst 1% of rows: k = ceil(rows * TOP_PERCENT / 100), in integers so 300 rows give 3.
TOP_PERCENT = 1
TOP_CAPACITY = 1 << 17
# Residuals kept exactly for the median, the MAD and Huber at the robust scale (16 MiB per model).
EXACT_ROWS = 1 << 20
CALIBRATION_BINS = 10

IdsOf = Callable[[IntArray], list[object]]


@dataclass(frozen=True)
class Moments:
    """Weight, mean and central moment sums M2..M4 of one variable (frequency weights)."""

    w: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    m3: float = 0.0
    m4: float = 0.0

    @classmethod
    def of(cls, x: FloatArray, weight: FloatArray | None = None) -> Moments:
        total = float(len(x)) if weight is None else float(weight.sum())
        if total <= 0:
            return cls()
        mean = float(x.sum() if weight is None else dot(weight, x)) / total
        d = x - mean
        d2 = d * d
        wd2 = d2 if weight is None else weight * d2
        return cls(total, mean, float(wd2.sum()), dot(wd2, d), dot(wd2, d2))

    def merge(self, o: Moments) -> Moments:
        """Pébay (2008), eq. 3.1: the moments of the union of two weighted sets."""
        if o.w <= 0:
            return self
        if self.w <= 0:
            return o
        wa, wb = self.w, o.w
        w = wa + wb
        d = o.mean - self.mean
        m2 = self.m2 + o.m2 + d * d * wa * wb / w
        m3 = self.m3 + o.m3 + d**3 * wa * wb * (wa - wb) / w**2 + 3 * d * (wa * o.m2 - wb * self.m2) / w
        m4 = (
            self.m4
            + o.m4
            + d**4 * wa * wb * (wa * wa - wa * wb + wb * wb) / w**3
            + 6 * d * d * (wa * wa * o.m2 + wb * wb * self.m2) / w**2
            + 4 * d * (wa * o.m3 - wb * self.m3) / w
        )
        return Moments(w, self.mean + d * wb / w, m2, m3, m4)

    @property
    def variance(self) -> float:
        """Population (biased) variance: M2 / W."""
        return self.m2 / self.w if self.w > 0 else math.nan

    @property
    def mean_square(self) -> float:
        return self.variance + self.mean * self.mean if self.w > 0 else math.nan

    @property
    def excess_kurtosis(self) -> float:
        """W M4 / M2^2 - 3: 0 for a Gaussian (scipy.stats.kurtosis, fisher=True, bias=True)."""
        return self.w * self.m4 / (self.m2 * self.m2) - 3.0 if self.m2 > 0 else math.nan


def dot(a: FloatArray, b: FloatArray) -> float:
    """sum(a * b) without a temporary; einsum rather than BLAS, whose threads contend on a busy machine."""
    return float(np.einsum("i,i->", a, b))


@dataclass
class Concentration:
    """The share of a non-negative loss total held by the ceil(1%) of rows contributing most."""

    top: TopValues = field(default_factory=lambda: TopValues(TOP_CAPACITY))
    # Only consulted past TOP_CAPACITY * 100 rows; a histogram from the first row so it can be.
    sketch: Sketch = field(default_factory=lambda: Sketch(exact_rows=0))

    def update(self, contributions: FloatArray) -> None:
        self.top.update(contributions)
        self.sketch.update(contributions)

    def merge(self, other: Concentration) -> Concentration:
        return Concentration(self.top.merge(other.top), self.sketch.merge(other.sketch))

    @property
    def k(self) -> int:
        return -(-self.top.rows * TOP_PERCENT // 100)

    @property
    def exact(self) -> bool:
        return self.top.top_sum(self.k) is not None

    def share(self) -> float:
        if self.top.rows == 0 or not self.top.total > 0:
            return math.nan
        top = self.top.top_sum(self.k)
        return (top if top is not None else self.sketch.top_sum(self.k)) / self.top.total


@dataclass(frozen=True)
class WorstRow:
    id: object
    position: int
    value: float


@dataclass
class WorstRows:
    """The ``top`` largest values with their row positions and ids; ties go to the earlier row."""

    top: int
    values: FloatArray = field(default_factory=lambda: np.zeros(0))
    positions: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ids: list[object] = field(default_factory=list)

    def update(self, values: FloatArray, row_offset: int, ids_of: IdsOf, valid: np.ndarray | None = None) -> None:
        index = np.arange(len(values)) if valid is None else np.flatnonzero(valid)
        if self.top == 0 or index.size == 0:
            return
        v = values[index]
        k = min(self.top, len(v))
        cut = np.partition(v, len(v) - k)[len(v) - k]
        keep = np.flatnonzero(v >= cut)
        keep = keep[np.lexsort((keep, -v[keep]))][:k]
        rows = index[keep]
        self._take(v[keep], rows + row_offset, ids_of(rows))

    def _take(self, values: FloatArray, positions: IntArray, ids: list[object]) -> None:
        all_v = np.concatenate((self.values, values))
        all_p = np.concatenate((self.positions, positions.astype(np.int64)))
        all_ids = [*self.ids, *ids]
        order = np.lexsort((all_p, -all_v))[: self.top]
        self.values, self.positions, self.ids = all_v[order], all_p[order], [all_ids[i] for i in order]

    def merge(self, other: WorstRows) -> WorstRows:
        out = WorstRows(self.top, self.values, self.positions, list(self.ids))
        out._take(other.values, other.positions, other.ids)
        return out

    def rows(self) -> list[WorstRow]:
        return [WorstRow(i, int(p), float(v)) for i, p, v in zip(self.ids, self.positions, self.values, strict=True)]


@dataclass
class CalibrationBins:
    """Per bin of [k/B, (k+1)/B) (1 in the last): weight, weighted confidence, weighted outcome.

    Binary: the bins are of p (the probability of the positive class) and the
    outcome is y, as a reliability diagram (``losscli plot calibration``).
    Multiclass: of the top-class probability, and the outcome is whether the
    top class is right (top-label calibration, Guo et al. 2017). Either way
    ``confidence`` and ``correct`` also hold the top-label sums: mean confidence
    minus accuracy is > 0 for an over-confident model.
    """

    bins: int = CALIBRATION_BINS
    w: FloatArray = field(default_factory=lambda: np.zeros(CALIBRATION_BINS))
    wp: FloatArray = field(default_factory=lambda: np.zeros(CALIBRATION_BINS))
    wy: FloatArray = field(default_factory=lambda: np.zeros(CALIBRATION_BINS))
    confidence: float = 0.0
    correct: float = 0.0

    def update(self, y_true: np.ndarray, y_pred: FloatArray, weight: FloatArray) -> None:
        if y_pred.ndim == 1:
            binned, outcome = y_pred, (y_true > 0.5).astype(np.float64)
            top = np.maximum(y_pred, 1.0 - y_pred)
            right = ((y_pred > 0.5) == (y_true > 0.5)).astype(np.float64)
        else:
            top = y_pred.max(axis=1)
            right = (np.argmax(y_pred, axis=1) == y_true).astype(np.float64)
            binned, outcome = top, right
        k = np.minimum((binned * self.bins).astype(np.intp), self.bins - 1)
        self.w += np.bincount(k, weights=weight, minlength=self.bins)
        self.wp += np.bincount(k, weights=weight * binned, minlength=self.bins)
        self.wy += np.bincount(k, weights=weight * outcome, minlength=self.bins)
        self.confidence += float((weight * top).sum())
        self.correct += float((weight * right).sum())

    def merge(self, other: CalibrationBins) -> CalibrationBins:
        return CalibrationBins(
            self.bins,
            self.w + other.w,
            self.wp + other.wp,
            self.wy + other.wy,
            self.confidence + other.confidence,
            self.correct + other.correct,
        )

    def ece(self) -> float:
        """Sum over bins of (bin weight / total) * |mean outcome - mean confidence|."""
        total = float(self.w.sum())
        return float(np.abs(self.wy - self.wp).sum()) / total if total > 0 else math.nan

    def mean_confidence(self) -> float:
        total = float(self.w.sum())
        return self.confidence / total if total > 0 else math.nan

    def accuracy(self) -> float:
        total = float(self.w.sum())
        return self.correct / total if total > 0 else math.nan


def ranking(values: dict[str, float]) -> list[str]:
    """Models best (lowest) first; ties keep the given order; NaN last."""
    order = list(values)
    return sorted(order, key=lambda m: (math.isnan(values[m]), values[m] if not math.isnan(values[m]) else 0.0))


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b between two score vectors (scipy.stats.kendalltau's default)."""
    n = len(a)
    concordant = discordant = ties_a = ties_b = 0
    for i in range(n):
        for j in range(i + 1, n):
            da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif da == db:
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b))
    return (concordant - discordant) / denominator if denominator > 0 else math.nan
