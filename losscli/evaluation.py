"""The orchestrator: source -> layout -> batches -> accumulators -> results.

``run`` is what the CLI calls; it never imports pandas. ``evaluate`` is the
Python API: the same run, returned as a tidy pandas DataFrame.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .accumulate import Accumulator, GroupKey, Key, MeanState, weighted_mean
from .checks import check_batch
from .compute import batch_losses
from .errors import BadValueError, EmptyInputError, OptionError
from .extract import Extractor
from .io import Source, source_from_dataframe
from .layout import Layout, resolve_layout
from .losses import ParamValue
from .prefetch import prefetched
from .spec import LossSpec, parse_specs
from .stats import paired_t_test, percentile_interval, verdict

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


class PerRowSink(Protocol):
    """Receives the per-row losses of every batch (``--per-row``)."""

    def write(self, id_name: str, ids: pa.Array, columns: dict[str, np.ndarray]) -> None: ...


@dataclass(frozen=True)
class Options:
    """What was asked for beyond the losses: statistics and grouping."""

    ci: float | None = None
    bootstrap: int = 1000
    seed: int = 0
    baseline: str | None = None
    by: tuple[str, ...] = ()
    min_group_n: int = 0

    @property
    def level(self) -> float:
        """The confidence level for intervals and for calling a difference significant."""
        return self.ci if self.ci is not None else 0.95


@dataclass(frozen=True)
class Result:
    """One finished value: a model under one loss, over all rows or one group."""

    model: str
    loss: str
    name: str
    params: dict[str, ParamValue]
    value: float
    n: int
    weight_sum: float
    group: GroupKey | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    delta: float | None = None
    delta_rel: float | None = None
    delta_ci_low: float | None = None
    delta_ci_high: float | None = None
    p_value: float | None = None
    verdict: str | None = None


@dataclass
class Evaluation:
    """Everything a renderer needs: the results and what they were computed from."""

    source: str
    layout: Layout
    specs: list[LossSpec]
    results: list[Result]
    rows: int
    options: Options = field(default_factory=Options)
    notes: list[str] = field(default_factory=list)

    @property
    def models(self) -> list[str]:
        return [m.name for m in self.layout.models]

    @property
    def groups(self) -> list[GroupKey | None]:
        """None (all rows) first, then every group that is shown, in first-seen order."""
        return list(dict.fromkeys(r.group for r in self.results))

    def result(self, model: str, label: str, group: GroupKey | None = None) -> Result:
        return next(r for r in self.results if r.model == model and r.loss == label and r.group == group)

    def value(self, model: str, label: str, group: GroupKey | None = None) -> float:
        return self.result(model, label, group).value

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        records = []
        for r in self.results:
            record: dict[str, Any] = {"model": r.model, "loss": r.loss, "value": r.value, "n": r.n}
            for i, col in enumerate(self.options.by):
                record[col] = None if r.group is None else r.group[i]
            if self.options.ci is not None:
                record |= {"ci_low": r.ci_low, "ci_high": r.ci_high}
            if self.options.baseline is not None:
                record |= {
                    "delta": r.delta,
                    "delta_rel": r.delta_rel,
                    "delta_ci_low": r.delta_ci_low,
                    "delta_ci_high": r.delta_ci_high,
                    "p_value": r.p_value,
                    "verdict": r.verdict,
                }
            records.append(record)
        return pd.DataFrame(records)


@dataclass
class Plan:
    """What to compute, decided once from the schema and a sample: the layout and the losses."""

    source: str
    layout: Layout
    specs: list[LossSpec]
    notes: list[str]


def make_plan(
    source: Source,
    losses: Sequence[str] = (),
    *,
    target: str | None = None,
    preds: Sequence[str] = (),
    weight: str | None = None,
    id_column: str | None = None,
    class_sep: str = ".",
    options: Options | None = None,
    positive: str | None = None,
    classes: Sequence[str] = (),
) -> Plan:
    """Resolve the columns' roles and the losses (defaults from the task when none are given)."""
    options = options or Options()
    specs = parse_specs(losses)
    layout = resolve_layout(
        source,
        specs,
        target=target,
        preds=preds,
        weight=weight,
        id_column=id_column,
        class_sep=class_sep,
        by=options.by,
        positive=positive,
        classes=classes,
    )
    notes = list(layout.notes)
    if not specs:
        specs = parse_specs(default_losses(layout, source))
        notes.append(f"losses: {', '.join(s.label for s in specs)} (default for {layout.task}; choose with --loss)")
    if options.baseline is not None and options.baseline not in [m.name for m in layout.models]:
        raise OptionError(
            f"--baseline {options.baseline!r} is not a model in {source.name} "
            f"(models: {', '.join(m.name for m in layout.models)})"
        )
    return Plan(source.name, layout, specs, notes)


@dataclass
class Partial:
    """The mergeable outcome of reading some rows: the accumulator, the row count, dropped rows."""

    acc: Accumulator
    rows: int
    dropped: dict[str, int]

    def merge(self, other: Partial) -> Partial:
        dropped = {m: self.dropped.get(m, 0) + other.dropped.get(m, 0) for m in {*self.dropped, *other.dropped}}
        return Partial(self.acc.merge(other.acc), self.rows + other.rows, dropped)


def accumulate(
    source: Source,
    plan: Plan,
    options: Options,
    *,
    nan: str = "error",
    positive: str | None = None,
    row_offset: int = 0,
    per_row: PerRowSink | None = None,
    chunk_rows: int | None = None,
    progress: Any = None,
) -> Partial:
    """One pass over ``source``: every batch checked, every loss computed, state updated.

    ``row_offset`` is the position of the source's first row in the whole data (a
    partition's offset), so bootstrap draws are the same however the data is split.
    """
    layout, specs = plan.layout, plan.specs
    keys: list[Key] = [(m.name, s.label) for m in layout.models for s in specs]
    acc = Accumulator(
        keys,
        replicates=options.bootstrap if options.ci is not None else 0,
        baseline=options.baseline,
        seed=options.seed,
    )
    extractor = Extractor(
        layout, nan=nan, positive=positive, log_fill=any(s.loss.pred_kind == "log_probability" for s in specs)
    )
    columns = layout.columns + ([layout.id] if per_row is not None and layout.id else [])
    rows = 0
    batches = source.batches(list(dict.fromkeys(columns)), layout.number_columns)
    for batch in _sliced(prefetched(batches), chunk_rows):
        position = row_offset + rows
        arrays = extractor.extract(batch, position)
        check_batch(layout, specs, arrays)
        losses_of_batch = {
            (model.name, spec.label): values
            for model in layout.models
            for spec, values in zip(specs, batch_losses(specs, arrays.y_true, arrays.preds[model.name]), strict=True)
        }
        codes = acc.groups.encode(arrays.groups, batch.num_rows)
        with np.errstate(over="ignore", invalid="ignore"):  # infinite losses stay inf (or nan), said as such
            acc.update(losses_of_batch, arrays.weight, codes, position, arrays.valid)
        if per_row is not None:
            columns_out = {
                f"{m}:{label}": v if m not in arrays.valid else np.where(arrays.valid[m], v, np.nan)
                for (m, label), v in losses_of_batch.items()
            }
            per_row.write(layout.id or "row", layout.ids(batch, position), columns_out)
        rows += batch.num_rows
        if progress is not None:
            progress(batch.num_rows)
    return Partial(acc, rows, dict(extractor.dropped))


def conclude(plan: Plan, partial: Partial, options: Options) -> Evaluation:
    """Finish the merged state into results, with notes about what was done."""
    notes = list(plan.notes)
    if partial.rows == 0:
        raise EmptyInputError(f"{plan.source}: has a header but no data rows")
    if any(partial.dropped.values()):
        counts = ", ".join(f"{m} {partial.dropped.get(m, 0)}" for m in (mm.name for mm in plan.layout.models))
        notes.append(f"dropped rows with missing values (--nan drop): {counts}")
    results, hidden = finish(partial.acc, plan.specs, options)
    if hidden:
        notes.append(f"hid {hidden} group(s) with fewer than {options.min_group_n} rows (--min-group-n)")
    if not any(r.weight_sum > 0 for r in results if r.group is None):
        raise BadValueError(
            f"{plan.source}: the weights in column {plan.layout.weight!r} sum to zero; "
            "at least one row needs a positive weight"
        )
    return Evaluation(plan.source, plan.layout, plan.specs, results, partial.rows, options, notes)


def run(
    source: Source,
    losses: Sequence[str] = (),
    *,
    target: str | None = None,
    preds: Sequence[str] = (),
    weight: str | None = None,
    id_column: str | None = None,
    class_sep: str = ".",
    options: Options | None = None,
    per_row: PerRowSink | None = None,
    chunk_rows: int | None = None,
    nan: str = "error",
    positive: str | None = None,
    classes: Sequence[str] = (),
    progress: Any = None,
) -> Evaluation:
    """Evaluate every model in ``source`` under every loss, in one pass.

    ``chunk_rows`` caps the rows handled at once (the reader's batches are
    sliced); results do not depend on it beyond floating-point rounding.
    """
    options = options or Options()
    plan = make_plan(
        source,
        losses,
        target=target,
        preds=preds,
        weight=weight,
        id_column=id_column,
        class_sep=class_sep,
        options=options,
        positive=positive,
        classes=classes,
    )
    partial = accumulate(
        source,
        plan,
        options,
        nan=nan,
        positive=positive,
        per_row=per_row,
        chunk_rows=chunk_rows,
        progress=progress,
    )
    return conclude(plan, partial, options)


def finish(acc: Accumulator, specs: Sequence[LossSpec], options: Options) -> tuple[list[Result], int]:
    """Turn accumulated state into results: overall first, then each group.

    Returns the results and how many groups were hidden by --min-group-n.
    """
    by_label = {s.label: s for s in specs}
    overall = [None] if options.by else [()]
    group_keys: list[GroupKey | None] = [*overall, *(acc.groups.keys if options.by else [])]
    results: list[Result] = []
    hidden = 0
    for group in group_keys:
        select = _selector(acc, group)
        if group is not None and group != () and int(acc.means[acc.keys[0]].n[select].sum()) < options.min_group_n:
            hidden += 1
            continue
        for model, label in acc.keys:
            spec = by_label[label]
            results.append(_finish_one(acc, spec, model, label, select, None if group == () else group, options))
    return results, hidden


def _selector(acc: Accumulator, group: GroupKey | None) -> Any:
    """Index into the per-group arrays: every group (None) or one group's column."""
    if group is None or group == ():
        return slice(None)
    return [acc.groups.keys.index(group)]


def _finish_one(
    acc: Accumulator, spec: LossSpec, model: str, label: str, select: Any, group: GroupKey | None, options: Options
) -> Result:
    loss = spec.loss
    state = acc.means[(model, label)]
    value, sum_w = _mean_of(state, select, loss.finish)
    fields: dict[str, Any] = {}
    replicate_values = None
    if acc.replicates:
        boot = acc.boot[(model, label)]
        replicate_values = _finished(
            loss.finish, boot.sum_rwl[:, select].sum(axis=1), boot.sum_rw[:, select].sum(axis=1)
        )
        fields["ci_low"], fields["ci_high"] = percentile_interval(replicate_values, options.level)
    base = options.baseline
    if base is not None:
        base_value, _ = _mean_of(acc.means[(base, label)], select, loss.finish)
        delta = value - base_value
        fields["delta"] = delta
        fields["delta_rel"] = delta / base_value if base_value != 0 else math.nan
        if model == base:
            fields |= {"p_value": math.nan, "verdict": "baseline"}
            if acc.replicates:
                fields |= {"delta_ci_low": 0.0, "delta_ci_high": 0.0}
        else:
            paired = acc.paired[(model, label)]
            test = paired_t_test(*(float(a[select].sum()) for a in paired.fields()[:4]))
            fields["p_value"] = test.p_value
            fields["verdict"] = verdict(test.p_value, delta, options.level)
            if acc.replicates and replicate_values is not None:
                b = acc.boot[(base, label)]
                base_reps = _finished(loss.finish, b.sum_rwl[:, select].sum(axis=1), b.sum_rw[:, select].sum(axis=1))
                fields["delta_ci_low"], fields["delta_ci_high"] = percentile_interval(
                    replicate_values - base_reps, options.level
                )
    return Result(
        model,
        label,
        spec.name,
        spec.params,
        value,
        int(state.n[select].sum()),
        sum_w,
        group=group,
        **fields,
    )


def _mean_of(state: MeanState, select: Any, finisher: Any) -> tuple[float, float]:
    """(finished value, sum of weights) over all rows (the pairwise totals) or one group."""
    if isinstance(select, slice):
        sum_wl, sum_w = state.total_wl, state.total_w
    else:
        sum_wl, sum_w = float(state.sum_wl[select].sum()), float(state.sum_w[select].sum())
    return (finisher(sum_wl / sum_w) if sum_w > 0 else math.nan), sum_w


def _finished(finisher: Any, sum_wl: np.ndarray, sum_w: np.ndarray) -> np.ndarray:
    means = weighted_mean(sum_wl, sum_w)
    return np.array([finisher(m) if math.isfinite(m) else math.nan for m in means])


def _sliced(batches: Iterator[pa.RecordBatch], chunk_rows: int | None) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if chunk_rows is None or batch.num_rows <= chunk_rows:
            yield batch
        else:
            for start in range(0, batch.num_rows, chunk_rows):
                yield batch.slice(start, chunk_rows)


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
    data: str | Sequence[str] | pd.DataFrame | Any,
    losses: Sequence[str] | str = (),
    *,
    target: str | None = None,
    preds: Sequence[str] | str = (),
    weight: str | None = None,
    id_column: str | None = None,
    class_sep: str = ".",
    input_format: str | None = None,
    by: Sequence[str] | str = (),
    ci: float | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    baseline: str | None = None,
    min_group_n: int = 0,
    truth: str | None = None,
    join: str = "strict",
    model_col: str | None = None,
    names: Sequence[str] = (),
    nan: str = "error",
    positive: str | None = None,
    classes: Sequence[str] = (),
) -> pd.DataFrame:
    """Evaluate a file path or a DataFrame; return a tidy DataFrame (model, loss, value, n).

    With ``by``, one column per group column (None on the overall rows); with
    ``ci``, ci_low and ci_high; with ``baseline``, delta, delta_rel, its
    interval, p_value and verdict.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0], "a": [1.5, 2.0]})
    >>> evaluate(df, ["mse", "mae"]).to_dict("records")
    [{'model': 'a', 'loss': 'mse', 'value': 0.125, 'n': 2}, {'model': 'a', 'loss': 'mae', 'value': 0.25, 'n': 2}]
    """
    if isinstance(data, str | list | tuple):
        from .reshape import Inputs, open_inputs

        paths = (data,) if isinstance(data, str) else tuple(data)
        source, _ = open_inputs(
            Inputs(paths, input_format, truth, id_column, join, model_col, tuple(names), target, tuple(preds))
        )
    else:
        source = source_from_dataframe(data)  # type: ignore[arg-type]  # a DataFrame: the only other kind
    options = Options(
        ci=ci,
        bootstrap=bootstrap,
        seed=seed,
        baseline=baseline,
        by=tuple([by] if isinstance(by, str) else by),
        min_group_n=min_group_n,
    )
    return run(
        source,
        [losses] if isinstance(losses, str) else losses,
        target=target,
        preds=[preds] if isinstance(preds, str) else preds,
        weight=weight,
        id_column=id_column,
        class_sep=class_sep,
        options=options,
        nan=nan,
        positive=positive,
        classes=classes,
    ).to_pandas()
