"""One streaming pass over a file for the residual and calibration plots, and the same
states filled inside ``eval``'s own pass for the HTML report (``Distributions``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError
from ..read.extract import BatchArrays, Extractor
from ..read.layout import Model
from ..read.plan import Plan
from ..read.source import Source, source_from_table
from ..request import Columns, Request
from .data import Calibration, Histogram, QuantileCalibration, residual_edges


def _batches(source: Source, plan: Plan, columns: Columns) -> Iterator[BatchArrays]:
    extractor = Extractor(plan.layout, columns)
    rows = 0
    for batch in source.batches(plan.layout.columns, plan.layout.number_columns):
        arrays = extractor.extract(batch, rows)
        rows += batch.num_rows
        yield arrays


def sample_residual_edges(source: Source, plan: Plan, columns: Columns, bins: int) -> np.ndarray:
    """Edges from the sample (the first rows), fixed before the pass, so the pass is a single
    one and every batch or worker bins alike."""
    points = {m.name: _point_column(m) for m in plan.layout.models}
    sample = np.concatenate(
        [
            residual(arr.preds[m.name], points[m.name], arr.y_true)[arr.valid[m.name]]
            if m.name in arr.valid
            else residual(arr.preds[m.name], points[m.name], arr.y_true)
            for arr in _batches(source_from_table(source.sample, source.name), plan, columns)
            for m in plan.layout.models
        ]
        or [np.zeros(1)]
    )
    return residual_edges(sample, bins)


def residual_histograms(
    source: Source, plan: Plan, columns: Columns = Columns(), *, bins: int = 40
) -> dict[str, Histogram]:
    """Per model, the histogram of y_pred - y_true over every row (regression)."""
    if plan.layout.task != "regression":
        raise OptionError(f"plot residuals needs a regression target; this task is {plan.layout.task}")
    points = {m.name: _point_column(m) for m in plan.layout.models}
    edges = sample_residual_edges(source, plan, columns, bins)
    histograms = {m.name: Histogram(edges) for m in plan.layout.models}
    for arrays in _batches(source, plan, columns):
        for name, hist in histograms.items():
            r = residual(arrays.preds[name], points[name], arrays.y_true)
            hist.update(r if name not in arrays.valid else r[arrays.valid[name]])
    return histograms


def _point_column(model: Model) -> int | None:
    """A distribution model's residual is that of its mean or median (None: one column)."""
    if model.kind == "point":
        return None
    if model.point_column is None:
        raise OptionError(f"plot residuals: model {model.name!r} has quantiles without a median (q50)")
    return model.point_column


def _point(values: np.ndarray, column: int | None) -> np.ndarray:
    return values if column is None else values[:, column]


def residual(values: np.ndarray, column: int | None, y_true: np.ndarray) -> np.ndarray:
    """y_pred - y_true; a difference beyond float64 (1e308 - -1e308) is a true infinity, counted
    above or below the bins and said by ``Histogram.infinite``, not a warning."""
    with np.errstate(over="ignore"):
        r: np.ndarray = _point(values, column) - y_true
    return r


def calibration_tables(
    source: Source, plan: Plan, columns: Columns = Columns(), *, bins: int = 10
) -> dict[str, Calibration] | dict[str, QuantileCalibration]:
    """Per model, the reliability table of binary probabilities, or of quantile forecasts."""
    if any(m.kind == "quantiles" for m in plan.layout.models):
        return quantile_calibration(source, plan, columns)
    if plan.layout.task != "binary":
        raise OptionError(
            "plot calibration needs binary probabilities or quantile columns (MODEL.q10, ...); "
            f"this task is {plan.layout.task}"
        )
    tables = {m.name: Calibration(bins) for m in plan.layout.models}
    for arrays in _batches(source, plan, columns):
        for model in plan.layout.models:
            p = arrays.preds[model.name]
            bad = np.flatnonzero((p < 0) | (p > 1))
            if bad.size:
                raise OptionError(
                    f"{plan.source}: column {model.columns[0]!r}, row {arrays.row_offset + bad[0] + 1} holds "
                    f"{float(p[bad[0]])!r}; a calibration plot needs probabilities in [0, 1]"
                )
            keep = arrays.valid.get(model.name)
            tables[model.name].update(
                p if keep is None else p[keep], arrays.y_true if keep is None else arrays.y_true[keep]
            )
    return tables


def quantile_calibration(source: Source, plan: Plan, columns: Columns = Columns()) -> dict[str, QuantileCalibration]:
    """Per quantile model, how often the target is at or below each predicted quantile."""
    others = [m.name for m in plan.layout.models if m.kind != "quantiles"]
    if others:
        raise OptionError(
            f"plot calibration draws quantile forecasts or binary probabilities, one kind at a time; "
            f"{others[0]!r} is not a quantile model (pick models with --pred)"
        )
    tables = {m.name: QuantileCalibration(m.levels) for m in plan.layout.models}
    for arrays in _batches(source, plan, columns):
        for name, table in tables.items():
            keep = arrays.valid.get(name)
            q, y = arrays.preds[name], arrays.y_true
            table.update(q if keep is None else q[keep], y if keep is None else y[keep])
    return tables


# Losses that read the predictions as these say they are not probabilities, whatever their range.
_NOT_PROBABILITIES = ("logit", "log_probability")


@dataclass
class Distributions:
    """The rows' pictures for the HTML report, filled batch by batch in ``eval``'s own pass.

    Regression: per model, a residual histogram (edges from the sample). Binary: per
    model, a calibration table of its probabilities; multiclass: of the probability of
    the predicted class against whether it is the true one (top-label calibration). A
    model whose predictions leave [0, 1] is named in ``not_probabilities`` and not drawn.
    Rows are counted, unweighted, as ``losscli plot`` counts them. Merges by addition.
    """

    task: str
    histograms: dict[str, Histogram] = field(default_factory=dict)
    calibrations: dict[str, Calibration] = field(default_factory=dict)
    not_probabilities: set[str] = field(default_factory=set)
    # Why there is no picture of the rows at all, when there is none.
    skipped: str | None = None
    # A predictive distribution's residual is its mean's or median's: that column, per model.
    points: dict[str, int | None] = field(default_factory=dict)

    def update(self, arrays: BatchArrays) -> None:
        for name, hist in self.histograms.items():
            r = residual(arrays.preds[name], self.points.get(name), arrays.y_true)
            hist.update(r if name not in arrays.valid else r[arrays.valid[name]])
        for name, table in list(self.calibrations.items()):
            keep = arrays.valid.get(name)
            p = arrays.preds[name] if keep is None else arrays.preds[name][keep]
            y = arrays.y_true if keep is None else arrays.y_true[keep]
            if p.size and (p.min() < 0 or p.max() > 1):
                self.not_probabilities.add(name)
                del self.calibrations[name]
            elif p.ndim == 2:
                table.update(p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64))
            else:
                table.update(p, y)

    def merge(self, other: Distributions) -> Distributions:
        dropped = self.not_probabilities | other.not_probabilities
        return Distributions(
            self.task,
            {m: h.merge(other.histograms[m]) for m, h in self.histograms.items()},
            {m: c.merge(other.calibrations[m]) for m, c in self.calibrations.items() if m not in dropped},
            dropped,
            self.skipped,
            self.points,
        )


def distributions(source: Source, plan: Plan, request: Request, *, bins: int = 40) -> Distributions:
    """An empty ``Distributions`` for the plan (an ``ObserverFactory`` of the engines)."""
    layout, models = plan.layout, [m.name for m in plan.layout.models]
    if layout.task == "regression":
        if any(m.kind == "quantiles" and m.point_column is None for m in layout.models):
            return Distributions(layout.task, skipped="no residuals: a quantile model has no median (q50)")
        edges = sample_residual_edges(source, plan, request.columns, bins)
        points = {m.name: _point_column(m) for m in layout.models}
        return Distributions(layout.task, histograms={m: Histogram(edges) for m in models}, points=points)
    if any(s.loss.pred_kind in _NOT_PROBABILITIES for s in plan.specs):
        reason = "no calibration: the losses of this run read the predictions as logits, not probabilities"
        return Distributions(layout.task, skipped=reason)
    if layout.target_columns:
        return Distributions(layout.task, skipped="no calibration: the targets are soft (one column per class)")
    return Distributions(layout.task, calibrations={m: Calibration(10) for m in models})
