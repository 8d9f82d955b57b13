"""What the plots show, computed without any plotting library.

Curves are evaluated on a grid from the registry's kernels. Residual
histograms and calibration tables are mergeable states filled batch by batch,
in one pass, like the accumulators of ``eval``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError
from ..losses import Interval
from ..spec import LossSpec

# Every model gets the same colour in every plot: the n-th model the n-th colour.
PALETTE = ("blue", "red", "green", "orange", "magenta", "cyan", "violet", "gray")
MATPLOTLIB_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#e377c2", "#17becf", "#9467bd", "#7f7f7f")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Curve:
    """One line of a plot: a label and its points."""

    label: str
    x: np.ndarray
    y: np.ndarray


def loss_curves(
    specs: Sequence[LossSpec], low: float, high: float, points: int = 401, *, gradient: bool = False
) -> tuple[str, list[Curve]]:
    """(x-axis name, curves) for the losses: loss against the residual for regression
    losses; against the prediction for y = 1 and y = 0 for binary ones. With ``gradient``,
    d loss / d y_pred instead (the registry's declared gradient): why huber is robust."""
    tasks = {s.loss.task for s in specs}
    shaped = [s.label for s in specs if s.loss.pred_shape != "point"]
    if shaped:
        raise OptionError(f"plot curves draws losses of one prediction a row; {shaped[0]} scores a distribution")

    def values(spec: LossSpec, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        params = spec.kernel_params
        out: np.ndarray = spec.loss.grad(y, x, **params) if gradient else spec.loss.kernel(y, x, **params)
        return out

    if tasks == {"regression"}:
        r = np.linspace(low, high, points)
        return "residual (y_pred - y_true)", [_regression_curve(s, r, values) for s in specs]
    if tasks == {"binary"}:
        kinds = {s.loss.pred_kind for s in specs}
        if kinds <= {"probability"}:
            x = np.linspace(max(low, 0.0), min(high, 1.0), points)
            axis = "predicted probability of class 1"
        else:
            x = np.linspace(low, high, points)
            axis = "score or logit" if kinds != {"probability"} else "prediction"
        curves = []
        for s in specs:
            for label_value in (1.0, 0.0):
                y = values(s, np.full_like(x, label_value), x)
                curves.append(Curve(f"{s.label}, y={int(label_value)}", x, y))
        return axis, curves
    raise OptionError(
        "plot curves draws regression losses (against the residual) or binary losses (against the "
        f"prediction), one kind at a time; got {', '.join(sorted(tasks))}"
    )


def _regression_curve(
    spec: LossSpec, r: np.ndarray, values: Callable[[LossSpec, np.ndarray, np.ndarray], np.ndarray]
) -> Curve:
    """The loss against the residual at y_true = 0, or at y_true = 1 where the loss needs positive
    targets (msle, poisson, gamma, tweedie); points outside the loss's domain are left out."""
    domain = spec.loss.domain(spec.params)
    y0 = 1.0 if domain.target is not None and not domain.target.contains(0.0) else 0.0
    y = np.full_like(r, y0)
    p = y + r
    inside = np.ones(len(r), dtype=bool) if domain.pred is None else _within(domain.pred, p)
    with np.errstate(all="ignore"):
        loss = np.where(inside, values(spec, y, np.where(inside, p, y0)), np.nan)
    keep = np.isfinite(loss)
    if not keep.any():
        raise OptionError(
            f"{spec.label} is not defined on residuals {r[0]:g}..{r[-1]:g} (y_true = {y0:g}); choose another --range"
        )
    return Curve(spec.label + ("" if y0 == 0 else " (y_true = 1)"), r[keep], loss[keep])


def _within(interval: Interval, x: np.ndarray) -> np.ndarray:
    above = x >= interval.low if interval.low_closed else x > interval.low
    below = x <= interval.high if interval.high_closed else x < interval.high
    inside: np.ndarray = above & below
    return inside


def parse_range(text: str) -> tuple[float, float]:
    """'-4:4' -> (-4.0, 4.0)."""
    low, sep, high = text.partition(":")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        raise OptionError(f"--range takes LOW:HIGH, such as -4:4, not {text!r}") from None
    if not sep or not np.isfinite(lo) or not np.isfinite(hi) or lo >= hi or not np.isfinite(hi - lo):
        raise OptionError(f"--range takes LOW:HIGH with LOW < HIGH, not {text!r}")
    return lo, hi


@dataclass
class Histogram:
    """Counts of values per bin of fixed edges, with the values below and above them."""

    edges: np.ndarray
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    below: int = 0
    above: int = 0
    infinite: int = 0  # of those below or above: residuals beyond float64

    def __post_init__(self) -> None:
        if self.counts.size == 0:
            self.counts = np.zeros(len(self.edges) - 1, dtype=np.int64)

    def update(self, values: np.ndarray) -> None:
        self.infinite += int(np.isinf(values).sum())
        self.below += int((values < self.edges[0]).sum())
        self.above += int((values > self.edges[-1]).sum())
        inside = values[(values >= self.edges[0]) & (values <= self.edges[-1])]
        self.counts += np.histogram(inside, bins=self.edges)[0]

    def merge(self, other: Histogram) -> Histogram:
        return Histogram(
            self.edges,
            self.counts + other.counts,
            self.below + other.below,
            self.above + other.above,
            self.infinite + other.infinite,
        )

    @property
    def centres(self) -> np.ndarray:
        centres: np.ndarray = (self.edges[:-1] + self.edges[1:]) / 2
        return centres


def residual_edges(sample_residuals: np.ndarray, bins: int = 40) -> np.ndarray:
    """Bin edges fixed from a sample: its 0.5% to 99.5% range, widened by 5%.

    Fixed before the pass, so every batch (and every worker) bins alike; values
    outside are counted as below/above.
    """
    finite = sample_residuals[np.isfinite(sample_residuals)]
    if finite.size == 0:
        return np.linspace(-1.0, 1.0, bins + 1)
    low, high = np.quantile(finite, [0.005, 0.995])
    if low == high:
        low, high = low - 0.5, high + 0.5
    pad = 0.05 * (high - low)
    return np.linspace(low - pad, high + pad, bins + 1)


@dataclass
class Calibration:
    """Per probability bin: rows, sum of predictions, sum of outcomes (a reliability diagram)."""

    bins: int = 10
    n: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_y: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if self.n.size == 0:
            self.n, self.sum_p, self.sum_y = np.zeros(self.bins), np.zeros(self.bins), np.zeros(self.bins)

    def update(self, p: np.ndarray, y: np.ndarray) -> None:
        # Bin k holds [k/bins, (k+1)/bins); p = 1 goes in the last bin.
        k = np.minimum((p * self.bins).astype(np.intp), self.bins - 1)
        self.n += np.bincount(k, minlength=self.bins)
        self.sum_p += np.bincount(k, weights=p, minlength=self.bins)
        self.sum_y += np.bincount(k, weights=y, minlength=self.bins)

    def merge(self, other: Calibration) -> Calibration:
        return Calibration(self.bins, self.n + other.n, self.sum_p + other.sum_p, self.sum_y + other.sum_y)

    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean prediction, observed frequency, rows) of the bins that hold rows."""
        used = self.n > 0
        return self.sum_p[used] / self.n[used], self.sum_y[used] / self.n[used], self.n[used]


@dataclass
class QuantileCalibration:
    """Per quantile level tau: rows, and rows whose target is at or below the predicted
    tau-quantile. A calibrated model has that fraction equal to tau (mergeable by addition)."""

    levels: tuple[float, ...]
    n: int = 0
    below: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if self.below.size == 0:
            self.below = np.zeros(len(self.levels))

    def update(self, q: np.ndarray, y: np.ndarray) -> None:
        self.n += len(y)
        self.below += (y[:, None] <= q).sum(axis=0)

    def merge(self, other: QuantileCalibration) -> QuantileCalibration:
        return QuantileCalibration(self.levels, self.n + other.n, self.below + other.below)

    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(nominal level, observed fraction of targets at or below, rows), as Calibration.table."""
        n = max(self.n, 1)
        return np.array(self.levels), self.below / n, np.full(len(self.levels), self.n)


def calibration_words(
    tables: Mapping[str, Calibration | QuantileCalibration], positive: str | None = None
) -> tuple[str, str, str]:
    """(title, x label, y label) of a reliability diagram of probabilities or of quantiles;
    ``positive``: the label --positive named, which is what "1" stands for."""
    if any(isinstance(t, QuantileCalibration) for t in tables.values()):
        return (
            "calibration: share of targets at or below each predicted quantile",
            "quantile level",
            "fraction of y <= quantile",
        )
    event = "1" if positive is None else positive
    return (
        f"calibration: observed frequency of y={event} against the mean prediction",
        "mean predicted probability",
        f"fraction of y = {event}",
    )
