"""The orchestrator: source -> layout -> batches -> accumulators -> results.

``run`` is what the CLI calls; it never imports pandas. ``evaluate`` is the
Python API: the same run, returned as a tidy pandas DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .accumulate import Accumulator
from .checks import check_batch
from .errors import BadValueError, EmptyInputError
from .io import Source, open_source, source_from_dataframe
from .layout import BatchArrays, Layout, resolve_layout
from .losses import ParamValue
from .spec import LossSpec, parse_specs

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass(frozen=True)
class Result:
    """One finished value: a model under one loss."""

    model: str
    loss: str
    name: str
    params: dict[str, ParamValue]
    value: float
    n: int
    weight_sum: float


@dataclass
class Evaluation:
    """Everything a renderer needs: the results and what they were computed from."""

    source: str
    layout: Layout
    specs: list[LossSpec]
    results: list[Result]
    rows: int
    notes: list[str] = field(default_factory=list)

    @property
    def models(self) -> list[str]:
        return [m.name for m in self.layout.models]

    def value(self, model: str, label: str) -> float:
        return next(r.value for r in self.results if r.model == model and r.loss == label)

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [{"model": r.model, "loss": r.loss, "value": r.value, "n": r.n} for r in self.results],
            columns=["model", "loss", "value", "n"],
        )


def run(
    source: Source,
    losses: Sequence[str] = (),
    *,
    target: str | None = None,
    preds: Sequence[str] = (),
    weight: str | None = None,
    id_column: str | None = None,
    class_sep: str = ".",
    chunk_rows: int | None = None,
) -> Evaluation:
    """Evaluate every model in ``source`` under every loss, in one pass.

    ``chunk_rows`` caps the rows handled at once (the reader's batches are
    sliced); results do not depend on it beyond floating-point rounding.
    """
    specs = parse_specs(losses)
    layout = resolve_layout(
        source, specs, target=target, preds=preds, weight=weight, id_column=id_column, class_sep=class_sep
    )
    notes = list(layout.notes)
    if not specs:
        specs = parse_specs(default_losses(layout, source))
        notes.append(f"losses: {', '.join(s.label for s in specs)} (default for {layout.task}; choose with --loss)")

    keys = [(m.name, s.label) for m in layout.models for s in specs]
    acc = Accumulator.empty(keys)
    rows = 0
    for batch in _sliced(source.batches(layout.columns), chunk_rows):
        arrays = layout.extract(batch, rows)
        _accumulate(acc, layout, specs, arrays)
        rows += batch.num_rows
    if rows == 0:
        raise EmptyInputError(f"{source.name}: has a header but no data rows")

    results = []
    for (model, label), state in acc.states.items():
        spec = next(s for s in specs if s.label == label)
        if state.sum_w <= 0:
            raise BadValueError(
                f"{source.name}: the weights in column {layout.weight!r} sum to zero; "
                "at least one row needs a positive weight"
            )
        value = spec.loss.finish(state.mean())
        results.append(Result(model, label, spec.name, spec.params, value, state.n, state.sum_w))
    return Evaluation(source.name, layout, specs, results, rows, notes)


def _sliced(batches: Iterator[pa.RecordBatch], chunk_rows: int | None) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if chunk_rows is None or batch.num_rows <= chunk_rows:
            yield batch
        else:
            for start in range(0, batch.num_rows, chunk_rows):
                yield batch.slice(start, chunk_rows)


def _accumulate(acc: Accumulator, layout: Layout, specs: list[LossSpec], arrays: BatchArrays) -> None:
    check_batch(layout, specs, arrays)
    for model in layout.models:
        y_pred = arrays.preds[model.name]
        for spec in specs:
            per_row = spec.loss.kernel(arrays.y_true, y_pred, **spec.params)
            acc.update((model.name, spec.label), per_row, arrays.weight)


def default_losses(layout: Layout, source: Source) -> tuple[str, ...]:
    """The losses most people report for the task; scores get score losses, not bce."""
    if layout.task == "regression":
        return ("mse", "rmse", "mae", "huber")
    if _looks_like_probabilities(layout, source):
        return ("bce", "brier", "zero_one") if layout.task == "binary" else ("cce", "brier", "zero_one")
    if layout.task == "binary":
        return ("bce_logits", "hinge", "zero_one:threshold=0")
    return ("cce_logits", "multiclass_hinge", "zero_one")


def _looks_like_probabilities(layout: Layout, source: Source) -> bool:
    """Every prediction in the sample lies in [0, 1]."""
    sample = source.sample
    for model in layout.models:
        for column in model.columns:
            values = sample.column(column).drop_null().to_pylist()
            if any(not isinstance(v, int | float) or v < 0 or v > 1 for v in values):
                return False
    return True


def evaluate(
    data: str | pd.DataFrame | Any,
    losses: Sequence[str] | str = (),
    *,
    target: str | None = None,
    preds: Sequence[str] | str = (),
    weight: str | None = None,
    id_column: str | None = None,
    class_sep: str = ".",
    input_format: str | None = None,
) -> pd.DataFrame:
    """Evaluate a file path or a DataFrame; return a tidy DataFrame (model, loss, value, n).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0], "a": [1.5, 2.0]})
    >>> evaluate(df, ["mse", "mae"]).to_dict("records")
    [{'model': 'a', 'loss': 'mse', 'value': 0.125, 'n': 2}, {'model': 'a', 'loss': 'mae', 'value': 0.25, 'n': 2}]
    """
    source = open_source(data, input_format) if isinstance(data, str) else source_from_dataframe(data)
    return run(
        source,
        [losses] if isinstance(losses, str) else losses,
        target=target,
        preds=[preds] if isinstance(preds, str) else preds,
        weight=weight,
        id_column=id_column,
        class_sep=class_sep,
    ).to_pandas()
