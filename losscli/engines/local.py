"""The local engine: source -> batches -> accumulators -> results, in one pass on this machine.

``accumulate`` is the pass itself (the Dask engine runs it on each partition);
``conclude`` finishes the merged state. Neither imports pandas.
"""

from __future__ import annotations

import contextlib
import functools
import math
import operator
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..core.accumulate import Accumulator, Key
from ..core.compute import per_row_losses, update_batch
from ..core.finish import ALL_ROWS, ResultTable, finish_table
from ..core.stats import verdict
from ..core.workers import set_threads
from ..errors import BadValueError, EmptyInputError
from ..read.checks import check_batch
from ..read.extract import BatchArrays, Extractor
from ..read.layout import Layout, off_nominal
from ..read.memory import keep_freed_memory
from ..read.plan import Plan, make_plan
from ..read.prefetch import prefetched
from ..read.source import Source
from ..read.targets import check_positive
from ..request import Request, ignore_label
from ..spec import LossSpec, format_value
from .evaluation import Evaluation

if TYPE_CHECKING:
    import pyarrow as pa

Progress = Callable[[int], None]
# {drop}, {drop_any} and {baseline}: the options as the caller writes them (--nan drop or nan='drop').
DIFFERENT_ROWS = (
    "warning: the models were evaluated on different rows ({drop}); comparisons with {baseline} use the rows "
    "both models kept, and {drop_any} evaluates every model on the rows all of them have"
)


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
    # --positive: the target's distinct labels seen, and whether each is the positive one.
    labels: dict[str, bool] = field(default_factory=dict)
    # Some rows counted for one model and not another (--nan drop).
    rows_differ: bool = False
    # (model, loss label) -> the first row whose loss is not finite.
    infinite: dict[Key, int] = field(default_factory=dict)

    def merge(self, other: Partial) -> Partial:
        dropped = {m: self.dropped.get(m, 0) + other.dropped.get(m, 0) for m in {*self.dropped, *other.dropped}}
        labels = self.labels | other.labels
        differ = self.rows_differ or other.rows_differ
        infinite = {k: min(self.infinite.get(k, v), v) for k, v in other.infinite.items()}
        infinite = self.infinite | infinite
        observed = None if self.observed is None else self.observed.merge(other.observed)
        acc, rows, ignored = self.acc.merge(other.acc), self.rows + other.rows, self.ignored + other.ignored
        return Partial(acc, rows, dropped, observed, ignored, labels, differ, infinite)


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
    set_threads(request.engine.threads)
    if request.caller == "cli":  # a process of its own: batches reuse the memory freed before them
        keep_freed_memory()
    with _bootstrap_processes(source, request):  # started before the plan: their start-up overlaps it
        plan = make_plan(source, request)
        watch = None if observer is None else observer(source, plan, request)
        partial = accumulate(source, plan, request, per_row=per_row, progress=progress, observer=watch)
    return conclude(plan, partial, request, notes or [])


def _bootstrap_processes(source: Source, request: Request) -> contextlib.AbstractContextManager[None]:
    """Worker processes for the bootstrap of one group (core/processes.py) for the pass, ended
    after it; started now when the source says its rows (their start-up overlaps the first batch)."""
    replicates = request.stats.replicates
    if not replicates or request.stats.by:
        return contextlib.nullcontext()
    from ..core import processes

    rows = source.rows if source.rows is not None else _rows_by_size(source, request.inputs.paths)
    return processes.session(None if rows is None else rows * replicates)


def _rows_by_size(source: Source, paths: tuple[str, ...]) -> int | None:
    """A text file's rows, roughly: its bytes at the rate of the sample its first MiB gave (a
    compressed file's compressed bytes: fewer, so workers start late rather than needlessly)."""
    from ..read.rows import HEAD_BYTES

    if len(paths) != 1 or paths[0] == "-" or not source.sample.num_rows:
        return None
    try:
        size = os.stat(paths[0]).st_size
    except OSError:
        return None
    sampled = int(source.sample.num_rows)
    return max(sampled, size * sampled // HEAD_BYTES)


def new_accumulator(plan: Plan, request: Request) -> Accumulator:
    keys: list[Key] = [(m.name, s.label) for m in plan.layout.models for s in plan.specs]
    stats = request.stats
    return Accumulator(
        keys,
        replicates=stats.replicates,
        baseline=stats.baseline,
        seed=stats.seed_value,
        skills=_skill_functions(plan.specs),
        shared=request.columns.nan == "drop",
        spread=stats.ci is not None and stats.ci_method == "t",
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
    infinite: dict[Key, int] = {}
    batches = _sliced(source.batches(list(dict.fromkeys(columns)), layout.number_columns), request.engine.chunk_rows)
    for batch, arrays in prefetched(_checked(batches, extractor, specs, row_offset)):
        position = row_offset + rows
        if observer is not None:
            observer.update(arrays)
        codes = acc.groups.encode(arrays.groups, batch.num_rows)
        losses = _update(acc, specs, arrays, codes, per_row is not None, layout, infinite)
        _first_infinite(acc, losses, arrays, infinite)
        if per_row is not None:
            per_row.write(layout.id or "row", layout.ids(batch, position), _masked_losses(losses, arrays))
        rows += batch.num_rows
        if progress is not None:
            progress(batch.num_rows)
    labels = dict(extractor.targets.labels)
    return Partial(
        acc, rows, dict(extractor.dropped), observer, extractor.ignored, labels, extractor.rows_differ, infinite
    )


def _update(
    acc: Accumulator,
    specs: list[LossSpec],
    arrays: BatchArrays,
    codes: np.ndarray,
    keep_rows: bool,
    layout: Layout,
    infinite: dict[Key, int],
) -> dict[Key, np.ndarray]:
    """Add one batch; per-row losses only for --per-row (otherwise blocks are reduced where they
    are computed), or in the rare batch where a running sum turned infinite (to name its row)."""
    preds = {m.name: arrays.preds[m.name] for m in layout.models}
    kinds = {m.name: m for m in layout.models}
    found = update_batch(
        acc, specs, arrays.y_true, preds, arrays.weight, codes, arrays.row_offset, arrays.valid, keep_rows, kinds
    )
    if found is None and any(k not in infinite and not math.isfinite(acc.means[k].total_wl) for k in acc.keys):
        found = per_row_losses(specs, arrays.y_true, preds, kinds)
    return found or {}


def _nominal_verdicts(table: ResultTable, plan: Plan, request: Request) -> None:
    """For a loss with a nominal value (coverage), better means closer to the model's nominal
    level, not lower: the verdict against the baseline reads the distance, as the rank does."""
    base = request.stats.baseline
    nominal = {s.label: s for s in plan.specs if s.loss.nominal is not None}
    if base is None or not nominal:
        return
    for model, label in table.keys:
        spec = nominal.get(label)
        extra = table.extra.get((model, label), {})
        if spec is None or "verdict" not in extra:
            continue
        theirs = table.value[(base, label)].tolist()
        p_values = extra.get("p_value") or [None] * len(theirs)
        verdicts = extra["verdict"]
        for t, (value, p) in enumerate(zip(table.value[(model, label)].tolist(), p_values, strict=True)):
            if verdicts[t] in (None, "baseline") or p is None:
                continue
            mine = off_nominal(plan.layout, spec, model, value) or 0.0
            other = off_nominal(plan.layout, spec, base, theirs[t]) or 0.0
            verdicts[t] = verdict(p, mine - other, request.stats.level)


def _first_infinite(
    acc: Accumulator, losses: dict[Key, np.ndarray], arrays: BatchArrays, found: dict[Key, int]
) -> None:
    """Remember the first row where a (model, loss) turned infinite: checked on the running sum,
    so the rows are searched only in the batch where it happens."""
    for key, values in losses.items():
        if key in found or math.isfinite(acc.means[key].total_wl):
            continue
        bad = ~np.isfinite(values)
        if key[0] in arrays.valid:
            bad &= arrays.valid[key[0]]
        # Every row finite but the sum overflowed: say it from this batch on.
        found[key] = arrays.row_offset + (int(np.flatnonzero(bad)[0]) if bad.any() else 0) + 1


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
    positive = request.columns.positive
    if positive is not None and plan.layout.task == "binary":
        check_positive(plan.source, plan.layout.target, positive, partial.labels)
    if any(partial.dropped.values()):
        counts = ", ".join(f"{m} {partial.dropped.get(m, 0)}" for m in (mm.name for mm in plan.layout.models))
        said.append(f"dropped rows with missing values ({request.given('nan', request.columns.nan)}): {counts}")
    if partial.ignored:
        label = format_value(ignore_label(plan.specs))
        if partial.ignored == partial.rows:
            raise BadValueError(f"{plan.source}: every row's target is {label}, the ignore_index label; none is left")
        said.append(f"left out {partial.ignored} row(s) whose target is {label} (ignore_index)")
    if partial.rows_differ:
        drop, drop_any = request.given("nan", "drop"), request.given("nan", "drop-any")
        said.append(DIFFERENT_ROWS.format(drop=drop, drop_any=drop_any, baseline=request.flag("baseline")))
    kinds = {s.label: s.loss.pred_kind for s in plan.specs}
    stats = request.stats
    undefined = (
        ", its interval and p-value are undefined (nan), and against the baseline an infinite difference "
        "is worse or better by its sign"
        if stats.ci is not None or stats.baseline is not None
        else ""
    )
    for (model, label), row in sorted(partial.infinite.items(), key=lambda item: item[1]):
        why = (
            "a probability of exactly 0 or 1 on the wrong side" if kinds.get(label) == "probability" else "a huge error"
        )
        said.append(
            f"warning: model {model}: {label} is not finite from row {row} on (the loss of that row, or the sum "
            f"so far, is beyond float64, e.g. {why}); it is reported as inf or nan{undefined}"
        )
    table, hidden = finish_table(partial.acc, plan.specs, request.stats)
    _nominal_verdicts(table, plan, request)
    if hidden:
        said.append(f"hid {hidden} group(s) with fewer than {request.stats.min_rows} rows (--min-group-n)")
    _no_rows_left(plan, partial, table, said, request)
    said += _t_intervals_at_zero(table, request)
    _no_group_named_all(plan, table, request)
    said += _same_number_groups(table, request)
    said += _weightless_groups(table, request, plan.layout.weight)
    return Evaluation(
        plan.source,
        plan.layout,
        plan.specs,
        table,
        partial.rows,
        request,
        said,
        partial.observed,
        partial.rows_differ,
        hidden,
    )


def _no_group_named_all(plan: Plan, table: ResultTable, request: Request) -> None:
    """'(all)' labels the overall rows in a CSV or a table: a group of that name would be one of them."""
    if len(request.stats.by) == 1 and (ALL_ROWS,) not in table.groups:  # one C-level scan
        return
    for group in table.groups:
        for column, value in zip(request.stats.by, group or (), strict=False):
            if isinstance(value, str) and value == ALL_ROWS:
                raise BadValueError(
                    f"{plan.source}: column {column!r} holds the value {ALL_ROWS!r}, which names the overall "
                    "rows of the results; rename that value to group by it"
                )


def _weightless_groups(table: ResultTable, request: Request, weight: str | None) -> list[str]:
    """A group whose rows all weigh 0 has no weighted mean: its values are nan. The whole
    file weighing nothing is an error (_no_rows_left); one group of it is said."""
    if not request.stats.by or not table.keys:
        return []
    key = table.keys[0]
    empty = np.flatnonzero((table.weight_sum[key] <= 0) & (table.n[key] > 0))
    empty = empty[empty > 0]  # the overall rows are target 0
    if not empty.size:
        return []
    names = ["/".join("" if v is None else str(v) for v in table.groups[i] or ()) for i in empty[:5].tolist()]
    more = f" and {empty.size - 5} more" if empty.size > 5 else ""
    return [
        f"the weights (column {weight!r}) of group(s) {', '.join(names)}{more} sum to zero, so their values are nan"
    ]


def _same_number_groups(table: ResultTable, request: Request) -> list[str]:
    """Group values are compared as the file holds them: a CSV column's '7', '07' and '7.0' are
    three groups (zip codes need that), where a Parquet number column has one. Say when it happens."""
    said = []
    groups: list[Any] = [g for g in table.groups[:1] if g is not None] + table.groups[1:]  # None: the overall rows
    for i, column in enumerate(request.stats.by):
        if str not in set(map(type, map(operator.itemgetter(i), groups))):  # C-level: a million groups
            continue  # no text values (a number column): nothing to say
        seen: dict[float, str] = {}
        for group in table.groups:
            value = None if group is None else group[i]
            if not isinstance(value, str):
                continue
            try:
                number = float(value)
            except ValueError:
                continue
            first = seen.setdefault(number, value)
            if first != value:
                said.append(
                    f"{request.flag('by')} {column}: {first!r} and {value!r} are the same number written "
                    "differently, and are separate groups (group values are compared as text)"
                )
                break
    return said


def _t_intervals_at_zero(table: ResultTable, request: Request) -> list[str]:
    """mean - t se can fall below 0 for a loss that cannot be negative; the interval then starts
    at 0 (finish clips it), which differs from scipy.stats.t.interval: say where."""
    if request.stats.ci is None or request.stats.ci_method != "t":
        return []
    where = []
    for key in table.keys:
        lows = table.extra.get(key, {}).get("ci_low")
        if not lows or not table.specs[key[1]].loss.nonnegative:
            continue
        values = table.value[key].tolist()
        if any(low == 0.0 and value > 0.0 for low, value in zip(lows, values, strict=True)):
            where.append(f"{key[1]} of {key[0]}")
    if not where:
        return []
    shown = ", ".join(where[:5]) + (f" and {len(where) - 5} more" if len(where) > 5 else "")
    return [
        f"the t interval reached below 0 for {shown}, and starts at 0 there (these losses cannot be negative; "
        "scipy.stats.t.interval would go below)"
    ]


def _no_rows_left(plan: Plan, partial: Partial, table: ResultTable, said: list[str], request: Request) -> None:
    """Say the true reason when nothing (or nothing for a model) is left to evaluate."""
    # The first target is all rows; its fields read as arrays, no Result per (model, loss).
    weights = np.array([table.weight_sum[key][0] for key in table.keys], dtype=np.float64)
    counts = np.array([table.n[key][0] for key in table.keys], dtype=np.int64)
    if not (weights > 0).any():
        if not (counts > 0).any():
            mode = request.columns.nan
            # drop-any leaves out a row that misses any one model's prediction; drop only one that misses all.
            what = "at least one model's prediction" if mode == "drop-any" else "every prediction"
            raise BadValueError(
                f"{plan.source}: no row is left to evaluate: {request.given('nan', mode)} left out all "
                f"{partial.rows} rows (each misses the target, the weight or {what})"
            )
        raise BadValueError(
            f"{plan.source}: the weights in column {plan.layout.weight!r} sum to zero; "
            "at least one row needs a positive weight"
        )
    empty = list(dict.fromkeys(table.keys[i][0] for i in np.flatnonzero(counts == 0).tolist()))
    if empty:
        said.append(
            f"warning: no row is left for {', '.join(empty)} (--nan drop left out every row); "
            "its values are nan and it is listed last, without a rank"
        )


def _checked(
    batches: Iterator[pa.RecordBatch], extractor: Extractor, specs: list[LossSpec], row_offset: int
) -> Iterator[tuple[pa.RecordBatch, BatchArrays]]:
    """Every batch with its arrays, extracted and checked. The reader thread runs this, so the
    next batch is converted while the current one is computed; an error reaches the pass when it
    comes to that batch, after every earlier one, as if it were raised there."""
    try:
        for batch in batches:
            arrays = extractor.extract(batch, row_offset)
            check_batch(extractor.layout, specs, arrays)
            row_offset += batch.num_rows
            yield batch, arrays
    finally:  # stopped early: the source's own clean-up (its parsing threads) runs now, here
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def _sliced(batches: Iterator[pa.RecordBatch], chunk_rows: int | None) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if chunk_rows is None or batch.num_rows <= chunk_rows:
            yield batch
        else:
            for start in range(0, batch.num_rows, chunk_rows):
                yield batch.slice(start, chunk_rows)
