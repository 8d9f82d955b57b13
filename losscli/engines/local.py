"""The local engine: source -> batches -> accumulators -> results, in one pass on this machine.

``accumulate`` is the pass itself (the Dask engine runs it on each partition);
``conclude`` finishes the merged state. Neither imports pandas.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..core.accumulate import Accumulator, Key
from ..core.compute import model_losses
from ..core.finish import finish
from ..errors import BadValueError, EmptyInputError
from ..read.checks import check_batch
from ..read.extract import BatchArrays, Extractor
from ..read.plan import Plan, make_plan
from ..read.prefetch import prefetched
from ..read.source import Source
from ..request import Request, ignore_label
from ..spec import LossSpec, format_value
from .evaluation import Evaluation

if TYPE_CHECKING:
    import pyarrow as pa

Progress = Callable[[int], None]


class BatchObserver(Protocol):
    """Mergeable state fed every checked batch of the evaluation's own pass (the HTML
    report's residual histograms and calibration tables); merged like the accumulator."""

    def update(self, arrays: BatchArrays) -> None: ...

    def merge(self, other: Any) -> Any: ...


# Makes an empty observer before the pass, from the plan and the source's sample.
ObserverFactory = Callable[[Source, Plan, Request], BatchObserver]


class PerRowSink(Protocol):
    """Receives the per-row losses of every batch (``--per-row``)."""

    def write(self, id_name: str, ids: pa.Array, columns: dict[str, np.ndarray]) -> None: ...


@dataclass
class Partial:
    """The mergeable outcome of reading some rows: the accumulator, the row count, dropped rows."""

    acc: Accumulator
    rows: int
    dropped: dict[str, int]
    observed: BatchObserver | None = None
    ignored: int = 0  # rows left out by ignore_index

    def merge(self, other: Partial) -> Partial:
        dropped = {m: self.dropped.get(m, 0) + other.dropped.get(m, 0) for m in {*self.dropped, *other.dropped}}
        observed = None if self.observed is None else self.observed.merge(other.observed)
        acc, rows, ignored = self.acc.merge(other.acc), self.rows + other.rows, self.ignored + other.ignored
        return Partial(acc, rows, dropped, observed, ignored)


def run(
    source: Source,
    request: Request,
    *,
    per_row: PerRowSink | None = None,
    progress: Progress | None = None,
    notes: list[str] | None = None,
    observer: ObserverFactory | None = None,
) -> Evaluation:
    """Evaluate every model in ``source`` under every loss of ``request``, in one pass;
    ``observer`` makes a state that sees every checked batch of that pass."""
    plan = make_plan(source, request)
    watch = None if observer is None else observer(source, plan, request)
    partial = accumulate(source, plan, request, per_row=per_row, progress=progress, observer=watch)
    return conclude(plan, partial, request, notes or [])


def new_accumulator(plan: Plan, request: Request) -> Accumulator:
    keys: list[Key] = [(m.name, s.label) for m in plan.layout.models for s in plan.specs]
    stats = request.stats
    return Accumulator(
        keys,
        replicates=stats.replicates,
        baseline=stats.baseline,
        seed=stats.seed_value,
        skills=_skill_functions(plan.specs),
    )


def _skill_functions(specs: list[LossSpec]) -> dict[str, Any]:
    """Per skill-score label: its target statistics with the parameters bound (None: kept targets)."""
    out: dict[str, Any] = {}
    for s in specs:
        skill = s.loss.skill
        if skill is not None:
            out[s.label] = None if skill.stats is None else functools.partial(skill.stats, **s.kernel_params)
    return out


def accumulate(
    source: Source,
    plan: Plan,
    request: Request,
    *,
    row_offset: int = 0,
    per_row: PerRowSink | None = None,
    progress: Progress | None = None,
    observer: BatchObserver | None = None,
) -> Partial:
    """One pass over ``source``: every batch checked, every loss computed, state updated.

    ``row_offset`` is the position of the source's first row in the whole data (a
    partition's offset), so bootstrap draws are the same however the data is split.
    """
    layout, specs = plan.layout, plan.specs
    acc = new_accumulator(plan, request)
    log_fill = any(s.loss.pred_kind == "log_probability" for s in specs)
    extractor = Extractor(layout, request.columns, log_fill=log_fill, ignore_index=ignore_label(specs))
    columns = layout.columns + ([layout.id] if per_row is not None and layout.id else [])
    rows = 0
    batches = source.batches(list(dict.fromkeys(columns)), layout.number_columns)
    for batch in _sliced(prefetched(batches), request.engine.chunk_rows):
        position = row_offset + rows
        arrays = extractor.extract(batch, position)
        check_batch(layout, specs, arrays)
        if observer is not None:
            observer.update(arrays)
        losses = {
            (model.name, spec.label): values
            for model in layout.models
            for spec, values in zip(
                specs, model_losses(specs, arrays.y_true, arrays.preds[model.name], model), strict=True
            )
        }
        codes = acc.groups.encode(arrays.groups, batch.num_rows)
        with np.errstate(over="ignore", invalid="ignore"):  # infinite losses stay inf (or nan), said as such
            acc.update(losses, arrays.weight, codes, position, arrays.valid, arrays.y_true)
        if per_row is not None:
            per_row.write(layout.id or "row", layout.ids(batch, position), _masked_losses(losses, arrays))
        rows += batch.num_rows
        if progress is not None:
            progress(batch.num_rows)
    return Partial(acc, rows, dict(extractor.dropped), observer, extractor.ignored)


def _masked_losses(losses: dict[Key, np.ndarray], arrays: BatchArrays) -> dict[str, np.ndarray]:
    """Per-row output columns ``MODEL:LOSS``; rows a model dropped (--nan drop) are NaN."""
    return {
        f"{m}:{label}": v if m not in arrays.valid else np.where(arrays.valid[m], v, np.nan)
        for (m, label), v in losses.items()
    }


def conclude(plan: Plan, partial: Partial, request: Request, notes: list[str] | None = None) -> Evaluation:
    """Finish the merged state into results, with notes about what was done."""
    said = [*(notes or []), *plan.notes]
    if partial.rows == 0:
        raise EmptyInputError(f"{plan.source}: has a header but no data rows")
    if any(partial.dropped.values()):
        counts = ", ".join(f"{m} {partial.dropped.get(m, 0)}" for m in (mm.name for mm in plan.layout.models))
        said.append(f"dropped rows with missing values (--nan drop): {counts}")
    if partial.ignored:
        label = format_value(ignore_label(plan.specs))
        if partial.ignored == partial.rows:
            raise BadValueError(f"{plan.source}: every row's target is {label}, the ignore_index label; none is left")
        said.append(f"left out {partial.ignored} row(s) whose target is {label} (ignore_index)")
    results, hidden = finish(partial.acc, plan.specs, request.stats)
    if hidden:
        said.append(f"hid {hidden} group(s) with fewer than {request.stats.min_rows} rows (--min-group-n)")
    if not any(r.weight_sum > 0 for r in results if r.group is None):
        raise BadValueError(
            f"{plan.source}: the weights in column {plan.layout.weight!r} sum to zero; "
            "at least one row needs a positive weight"
        )
    return Evaluation(plan.source, plan.layout, plan.specs, results, partial.rows, request, said, partial.observed)


def _sliced(batches: Iterator[pa.RecordBatch], chunk_rows: int | None) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if chunk_rows is None or batch.num_rows <= chunk_rows:
            yield batch
        else:
            for start in range(0, batch.num_rows, chunk_rows):
                yield batch.slice(start, chunk_rows)
