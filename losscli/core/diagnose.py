"""Every model's diagnostics in one mergeable state, finished into a ``Diagnosis``.

The engine hands each batch over as arrays (target, weight, each model's
predictions and its per-row losses under every candidate loss); this module
knows nothing of files or columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any, TypeVar

import numpy as np

from . import spread
from .diagnostics import (
    EXACT_ROWS,
    CalibrationBins,
    Concentration,
    IdsOf,
    Moments,
    WorstRow,
    WorstRows,
    dot,
    kendall_tau,
    ranking,
)
from .sketch import FloatArray, Sketch
from .stats import PairedTest, paired_t_test

# A Gaussian's MAD is 0.6745 sigma: 1.4826 MAD estimates sigma (scipy's scale="normal").
MAD_TO_SIGMA = 1.482602218505602
# Huber's delta = 1.345 sigma keeps 95% of the mean's efficiency on Gaussian errors (Huber 1981).
HUBER_TUNING = 1.345
GAUSSIAN_RMSE_OVER_MAE = math.sqrt(math.pi / 2.0)

K = TypeVar("K")


@dataclass
class ModelBatch:
    """One model's share of a batch: predictions, rows it is evaluated on, per-row losses by label."""

    y_pred: np.ndarray
    valid: np.ndarray | None
    losses: dict[str, FloatArray]


@dataclass
class ModelState:
    """What is kept for one model."""

    residual: Moments = field(default_factory=Moments)
    abs_sum: float = 0.0
    concentration: Concentration = field(default_factory=Concentration)
    sketch: Sketch = field(default_factory=lambda: Sketch(EXACT_ROWS))
    calibration: CalibrationBins | None = None
    # label -> [sum w*l, sum w, rows]
    sums: dict[str, np.ndarray] = field(default_factory=dict)
    worst: dict[str, WorstRows] = field(default_factory=dict)

    def merge(self, o: ModelState) -> ModelState:
        cal = self.calibration.merge(o.calibration) if self.calibration and o.calibration else self.calibration
        worst = {k: self.worst[k].merge(o.worst[k]) if k in o.worst else self.worst[k] for k in self.worst}
        return ModelState(
            self.residual.merge(o.residual),
            self.abs_sum + o.abs_sum,
            self.concentration.merge(o.concentration),
            self.sketch.merge(o.sketch),
            cal,
            _add(self.sums, o.sums),
            worst | {k: v for k, v in o.worst.items() if k not in worst},
        )


def _add(a: dict[K, np.ndarray], b: dict[K, np.ndarray]) -> dict[K, np.ndarray]:
    """Key-wise sum; a key in one dict only keeps its value."""
    out = dict(a)
    for k, v in b.items():
        out[k] = out[k] + v if k in out else v
    return out


@dataclass
class DiagnosticsState:
    """Mergeable state of every model, the target, and each pair of models under each loss."""

    task: str
    models: tuple[str, ...]
    labels: tuple[str, ...]
    primary: str
    probabilities: frozenset[str] = frozenset()
    top: int = 5
    rows: int = 0
    target: Moments = field(default_factory=Moments)
    target_range: tuple[float, float] = (math.inf, -math.inf)
    class_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    per_model: dict[str, ModelState] = field(default_factory=dict)
    # (model a, model b, label) -> [sum w d, pivot, shift, M2 of d (spread.py), sum w, sum w^2],
    # d = l_a - l_b
    pairs: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)
    # label -> why it cannot rank these models (a value outside the loss's domain, ...)
    dropped: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for m in self.models:
            if m not in self.per_model:
                cal = CalibrationBins() if m in self.probabilities and self.task != "regression" else None
                self.per_model[m] = ModelState(calibration=cal)

    @property
    def paired_labels(self) -> tuple[str, ...]:
        """The losses whose paired tests a rule reads: the primary one, and mae (for Huber at the robust scale)."""
        return tuple(label for label in self.labels if label in (self.primary, "mae"))

    def drop(self, label: str, reason: str) -> None:
        self.dropped.setdefault(label, reason)

    def update(
        self,
        y_true: np.ndarray,
        weight: FloatArray | None,
        row_offset: int,
        ids_of: IdsOf,
        batches: dict[str, ModelBatch],
    ) -> None:
        n = len(y_true)
        self.rows += n
        self._update_target(y_true, weight)
        for model, batch in batches.items():
            self._update_model(self.per_model[model], y_true, weight, row_offset, ids_of, batch)
        for a, b in combinations(self.models, 2):
            ba, bb = batches[a], batches[b]
            both = _both(ba.valid, bb.valid)
            pw = weight if both is None else np.where(both, 1.0 if weight is None else weight, 0.0)
            for label in self.paired_labels:
                if label in ba.losses and label in bb.losses:
                    key = (a, b, label)
                    sums = _paired_sums(ba.losses[label] - bb.losses[label], pw, both)
                    self.pairs[key] = _paired_merge(self.pairs[key], sums) if key in self.pairs else sums

    def _update_target(self, y_true: np.ndarray, w: FloatArray | None) -> None:
        if self.task == "regression":
            self.target = self.target.merge(Moments.of(y_true, w))
            self.target_range = (
                min(self.target_range[0], float(y_true.min())),
                max(self.target_range[1], float(y_true.max())),
            )
        elif y_true.ndim == 1:
            counts = np.bincount(y_true.astype(np.intp), weights=w)
            size = max(len(counts), len(self.class_weights))
            self.class_weights = np.pad(self.class_weights, (0, size - len(self.class_weights)))
            self.class_weights[: len(counts)] += counts

    def _update_model(
        self,
        state: ModelState,
        y_true: np.ndarray,
        weight: FloatArray | None,
        offset: int,
        ids_of: IdsOf,
        batch: ModelBatch,
    ) -> None:
        # Every row counts unless --nan drop left some out: then index the rows that do.
        rows: Any = slice(None) if batch.valid is None else np.flatnonzero(batch.valid)
        ww = None if weight is None else weight[rows]
        count = len(y_true) if batch.valid is None else len(rows)
        if self.task == "regression":
            r = batch.y_pred[rows] - y_true[rows]
            state.residual = state.residual.merge(Moments.of(r, ww))
            state.abs_sum += float(np.abs(r).sum()) if ww is None else dot(ww, np.abs(r))
            # Unweighted, the median is NumPy's (the mean of the middle two); weighted, the inverted CDF.
            state.sketch.update(r, ww)
        elif state.calibration is not None:
            state.calibration.update(y_true[rows], batch.y_pred[rows], np.ones(count) if ww is None else ww)
        if self.primary in batch.losses:
            values = batch.losses[self.primary]
            contribution = values if weight is None else weight * values
            state.concentration.update(contribution[rows])
            state.worst.setdefault(self.primary, WorstRows(self.top)).update(contribution, offset, ids_of, batch.valid)
        w_sum = float(count) if ww is None else float(ww.sum())
        for label, values in batch.losses.items():
            v = values[rows]
            sums = np.array([float(v.sum()) if ww is None else dot(ww, v), w_sum, count])
            state.sums[label] = state.sums[label] + sums if label in state.sums else sums

    def merge(self, o: DiagnosticsState) -> DiagnosticsState:
        """The state of this data followed by ``o``'s (row positions are global, so order is kept)."""
        lo = min(self.target_range[0], o.target_range[0])
        hi = max(self.target_range[1], o.target_range[1])
        size = max(len(self.class_weights), len(o.class_weights))
        classes = np.pad(self.class_weights, (0, size - len(self.class_weights))) + np.pad(
            o.class_weights, (0, size - len(o.class_weights))
        )
        pairs = dict(self.pairs)
        for k, v in o.pairs.items():
            pairs[k] = _paired_merge(pairs[k], v) if k in pairs else v
        return DiagnosticsState(
            self.task,
            self.models,
            self.labels,
            self.primary,
            self.probabilities,
            self.top,
            self.rows + o.rows,
            self.target.merge(o.target),
            (lo, hi),
            classes,
            {m: self.per_model[m].merge(o.per_model[m]) for m in self.models},
            pairs,
            o.dropped | self.dropped,
        )


def _paired_sums(d: FloatArray, weight: FloatArray | None, both: np.ndarray | None) -> np.ndarray:
    """[sum w d, pivot, shift, M2 of d, sum w, sum w^2] over the rows both models are evaluated on."""
    if both is not None:
        d = np.where(both, d, 0.0)
    if weight is None:
        n = float(len(d))
        return np.array([d.sum(), *spread.of_rows(d, None, n), n, n])
    total = float(weight.sum())
    return np.array([(weight * d).sum(), *spread.of_rows(d, weight, total), total, dot(weight, weight)])


def _paired_merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two _paired_sums merged: sums added, the spreads by Chan's update."""
    merged = spread.pair_scalar(
        float(a[4]), (float(a[1]), float(a[2]), float(a[3])), float(b[4]), (float(b[1]), float(b[2]), float(b[3]))
    )
    out: np.ndarray = a + b
    out[1:4] = merged
    return out


def _both(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    return a if b is None else a & b


@dataclass(frozen=True)
class ModelReport:
    """One model's diagnostics by name, which of them are approximate, and its worst rows by loss."""

    name: str
    n: int
    metrics: dict[str, float]
    approximate: tuple[str, ...]
    worst: dict[str, list[WorstRow]]


@dataclass(frozen=True)
class Disagreement:
    """Two models whose order flips: ``losses`` is (a loss that prefers the first, one that prefers the second)."""

    models: tuple[str, str]
    losses: tuple[str, str]
    first_better: tuple[str, ...]
    second_better: tuple[str, ...]


@dataclass
class Diagnosis:
    """Everything ``advise`` reports and its rules read, finished from a ``DiagnosticsState``."""

    task: str
    rows: int
    primary: str
    target: dict[str, float]
    models: dict[str, ModelReport]
    values: dict[str, dict[str, float]]
    rankings: dict[str, list[str]]
    taus: dict[tuple[str, str], float]
    disagreements: list[Disagreement]
    paired: dict[str, dict[tuple[str, str], PairedTest]]
    dropped: dict[str, str]
    # The Huber loss at the robust scale as a spec (``huber:delta=12.3``) and its label, if any.
    huber_spec: str | None = None
    huber_label: str | None = None
    # The model the others are compared with (--baseline), if one was named.
    baseline: str | None = None
    # --positive: the target's labels as read, and whether each is the positive one (to name the other).
    labels: dict[str, bool] = field(default_factory=dict)


def finish(state: DiagnosticsState, finishers: Mapping[str, Callable[[float], float]] | None = None) -> Diagnosis:
    """Read the merged state once: diagnostics, loss values, rankings, flips, paired tests.

    ``finishers`` turn a label's weighted mean into its value (RMSE's square root).
    """
    labels = [label for label in state.labels if label not in state.dropped]
    done = finishers or {}
    values = {
        label: {m: _finished(done.get(label), _mean(state.per_model[m].sums.get(label))) for m in state.models}
        for label in labels
    }
    reports = {m: _model_report(state, m, labels) for m in state.models}
    huber_spec = huber_label = None
    if state.task == "regression":
        huber_spec, huber_label = _huber_at_scale(state, reports, values)
    labels = list(values)
    rankings = {label: ranking(values[label]) for label in labels}
    taus = {
        (a, b): kendall_tau([values[a][m] for m in state.models], [values[b][m] for m in state.models])
        for a, b in combinations(labels, 2)
    }
    paired = {
        label: {
            (a, b): paired_t_test(*(float(state.pairs[(a, b, label)][i]) for i in (0, 3, 4, 5)))
            for a, b in _pairs(state, label)
        }
        for label in labels
    }
    return Diagnosis(
        state.task,
        state.rows,
        state.primary,
        _target(state),
        reports,
        values,
        rankings,
        taus,
        disagreements(values, state.models, state.primary),
        paired,
        dict(state.dropped),
        huber_spec,
        huber_label,
    )


def _pairs(state: DiagnosticsState, label: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in combinations(state.models, 2) if (a, b, label) in state.pairs]


def _finished(finisher: Callable[[float], float] | None, mean: float) -> float:
    return finisher(mean) if finisher is not None and math.isfinite(mean) else mean


def _mean(sums: np.ndarray | None) -> float:
    if sums is None or not sums[1] > 0:
        return math.nan
    return float(sums[0] / sums[1])


def _target(state: DiagnosticsState) -> dict[str, float]:
    if state.task == "regression":
        t = state.target
        return {
            "mean": t.mean,
            "std": math.sqrt(t.variance),
            "min": state.target_range[0],
            "max": state.target_range[1],
        }
    total = float(state.class_weights.sum())
    return {str(i): float(c) / total for i, c in enumerate(state.class_weights)} if total > 0 else {}


def _model_report(state: DiagnosticsState, model: str, labels: list[str]) -> ModelReport:
    s = state.per_model[model]
    metrics: dict[str, float] = {}
    approximate: list[str] = []
    if state.task == "regression":
        mse = s.residual.mean_square
        mae = s.abs_sum / s.residual.w if s.residual.w > 0 else math.nan
        rmse = math.sqrt(mse)
        mad = s.sketch.mad()
        metrics |= {
            "bias": s.residual.mean,
            "rmse": rmse,
            "mae": mae,
            "rmse_over_mae": rmse / mae if mae > 0 else math.nan,
            "excess_kurtosis": s.residual.excess_kurtosis,
            "median_residual": s.sketch.quantile(0.5),
            "mad": mad,
            "robust_scale": MAD_TO_SIGMA * mad,
            "top1_share": s.concentration.share(),
        }
        if not s.sketch.exact:
            approximate += ["median_residual", "mad", "robust_scale"]
    else:
        metrics["log_loss"] = _mean(s.sums.get(state.primary))
        metrics["top1_share"] = s.concentration.share()
        if s.calibration is not None:
            cal = s.calibration
            metrics |= {
                "ece": cal.ece(),
                "mean_confidence": cal.mean_confidence(),
                "accuracy": cal.accuracy(),
                "overconfidence": cal.mean_confidence() - cal.accuracy(),
            }
    if not s.concentration.exact:
        approximate.append("top1_share")
    if state.primary in s.worst and state.primary in s.sums and s.sums[state.primary][0] > 0:
        # The share of the --top worst rows: the rows the report names.
        metrics["top_rows_share"] = float(s.worst[state.primary].values.sum() / s.sums[state.primary][0])
    n = int(s.sums[labels[0]][2]) if labels and labels[0] in s.sums else 0
    worst = {label: s.worst[label].rows() for label in labels if label in s.worst}
    return ModelReport(model, n, metrics, tuple(approximate), worst)


def _huber_at_scale(
    state: DiagnosticsState, reports: dict[str, ModelReport], values: dict[str, dict[str, float]]
) -> tuple[str | None, str | None]:
    """Huber with delta = 1.345 x the median of the models' robust scales, to 3 significant digits."""
    scales = [r.metrics["robust_scale"] for r in reports.values() if math.isfinite(r.metrics["robust_scale"])]
    if not scales or not float(np.median(scales)) > 0:
        return None, None
    delta = float(f"{HUBER_TUNING * float(np.median(scales)):.3g}")
    spec = f"huber:delta={_number(delta)}"
    label = f"huber(delta={_number(delta)})"
    for m, report in reports.items():
        if not state.per_model[m].sketch.exact:
            reports[m] = replace(report, approximate=(*report.approximate, label))
    values[label] = {
        m: state.per_model[m].sketch.huber_sum(delta) / state.per_model[m].residual.w
        if state.per_model[m].residual.w > 0
        else math.nan
        for m in state.models
    }
    return spec, label


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def disagreements(values: dict[str, dict[str, float]], models: tuple[str, ...], primary: str) -> list[Disagreement]:
    """Every pair of models ordered one way by some loss and the other way by another."""
    out = []
    for a, b in combinations(models, 2):
        first = tuple(lb for lb, v in values.items() if v[a] < v[b])
        second = tuple(lb for lb, v in values.items() if v[b] < v[a])
        if first and second:
            pick_first = primary if primary in first else first[0]
            pick_second = primary if primary in second else second[0]
            out.append(Disagreement((a, b), (pick_first, pick_second), first, second))
    return out
