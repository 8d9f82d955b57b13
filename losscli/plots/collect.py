"""One streaming pass over a file for the residual and calibration plots."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import OptionError
from ..read.extract import BatchArrays, Extractor
from ..read.plan import Plan
from ..read.source import Source, source_from_table
from ..request import Columns
from .data import Calibration, Histogram, residual_edges


def _batches(source: Source, plan: Plan, columns: Columns) -> Iterator[BatchArrays]:
    extractor = Extractor(plan.layout, columns)
    rows = 0
    for batch in source.batches(plan.layout.columns, plan.layout.number_columns):
        arrays = extractor.extract(batch, rows)
        rows += batch.num_rows
        yield arrays


def residual_histograms(
    source: Source, plan: Plan, columns: Columns = Columns(), *, bins: int = 40
) -> dict[str, Histogram]:
    """Per model, the histogram of y_pred - y_true over every row (regression)."""
    if plan.layout.task != "regression":
        raise OptionError(f"plot residuals needs a regression target; this task is {plan.layout.task}")
    # Edges come from the sample (the first rows), so the pass itself is a single one.
    sample = np.concatenate(
        [
            arr.preds[m.name] - arr.y_true
            for arr in _batches(source_from_table(source.sample, source.name), plan, columns)
            for m in plan.layout.models
        ]
        or [np.zeros(1)]
    )
    edges = residual_edges(sample, bins)
    histograms = {m.name: Histogram(edges) for m in plan.layout.models}
    for arrays in _batches(source, plan, columns):
        for name, hist in histograms.items():
            r = arrays.preds[name] - arrays.y_true
            hist.update(r if name not in arrays.valid else r[arrays.valid[name]])
    return histograms


def calibration_tables(
    source: Source, plan: Plan, columns: Columns = Columns(), *, bins: int = 10
) -> dict[str, Calibration]:
    """Per model, the reliability table of binary probabilities."""
    if plan.layout.task != "binary":
        raise OptionError(f"plot calibration needs binary probabilities; this task is {plan.layout.task}")
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
