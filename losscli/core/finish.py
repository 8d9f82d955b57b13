"""Finish: merged state -> one Result per (group, model, loss), with intervals and paired tests.

Every group is finished from its own column of the state arrays, so the cost
is O(groups x models x losses), whatever the number of rows.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..losses import ParamValue
from ..request import Statistics
from ..spec import LossSpec
from . import at_once
from .accumulate import Accumulator, BootstrapState, GroupKey, Key, MeanState, PairedState, weighted_mean
from .stats import paired_t_test, percentile_interval, t_delta_interval, t_interval, verdict

# Index into the per-group state arrays: every group (all rows) or one group's column.
Select = slice | int

# What the overall rows show in a --by column of a CSV or a table (JSON gives them group null).
ALL_ROWS = "(all)"


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


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while millions of small containers are built (results,
    rows): each collection would walk all of them again, which grows faster than linearly.
    Nothing built there is cyclic."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# From this many targets (the overall rows and the groups shown) on, --ci-method t and --baseline
# are finished for every target at once (at_once.py: the same floats); below, one target at a
# time, as a NumPy call's own cost would outweigh its work (20,000 models, one target each).
AT_ONCE_FROM = 64

# The fields --ci and --baseline add to a Result, in its order.
EXTRA_FIELDS = ("ci_low", "ci_high", "delta", "delta_rel", "delta_ci_low", "delta_ci_high", "p_value", "verdict")
Extras = dict[str, float | str | None]


@dataclass
class ResultTable:
    """Every finished value, column-wise: per (model, loss label), one entry per target (the
    overall rows first, then each shown group in first-seen order).

    NumPy arrays per column, so a million groups cost no Python object per value until a
    Result is asked for; ``results()`` gives the same Results the row-wise path gave."""

    keys: list[Key]
    specs: dict[str, LossSpec]  # by label
    groups: list[GroupKey | None]
    value: dict[Key, np.ndarray] = field(default_factory=dict)
    n: dict[Key, np.ndarray] = field(default_factory=dict)
    weight_sum: dict[Key, np.ndarray] = field(default_factory=dict)
    # Per key, the extra fields that were computed (--ci, --baseline), as Python values.
    extra: dict[Key, dict[str, list[Any]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.groups) * len(self.keys)

    def column(self, key: Key, name: str) -> list[Any]:
        """One field of one (model, loss) at every target, as Python values (None: not computed)."""
        if name in ("value", "n", "weight_sum"):
            array: np.ndarray = getattr(self, name)[key]
            return list(array.tolist())
        return self.extra.get(key, {}).get(name) or [None] * len(self.groups)

    def result(self, target: int, key: Key) -> Result:
        spec = self.specs[key[1]]
        extras = {f: values[target] for f, values in self.extra.get(key, {}).items()}
        value, n, sum_w = float(self.value[key][target]), int(self.n[key][target]), float(self.weight_sum[key][target])
        return Result(key[0], key[1], spec.name, spec.params, value, n, sum_w, self.groups[target], **extras)

    def results(self) -> list[Result]:
        """One Result per (target, model, loss), targets first: the order finish() always gave."""
        columns = []
        for key in self.keys:
            spec = self.specs[key[1]]
            extra = self.extra.get(key, {})
            names = [f for f in EXTRA_FIELDS if f in extra]
            lists = (self.value[key].tolist(), self.n[key].tolist(), self.weight_sum[key].tolist())
            columns.append((key, spec.name, spec.params, lists, names, [extra[f] for f in names]))
        out = []
        with paused_gc():
            for t, group in enumerate(self.groups):
                for (model, label), name, params, (values, ns, sums), names, extras in columns:
                    kw = {f: e[t] for f, e in zip(names, extras, strict=True)}
                    out.append(Result(model, label, name, params, values[t], ns[t], sums[t], group, **kw))
        return out


def finish(acc: Accumulator, specs: Sequence[LossSpec], stats: Statistics) -> tuple[list[Result], int]:
    """Turn accumulated state into results: overall first, then each group (first-seen order).

    Returns the results and how many groups were hidden by --min-group-n.
    """
    table, hidden = finish_table(acc, specs, stats)
    return table.results(), hidden


def finish_table(acc: Accumulator, specs: Sequence[LossSpec], stats: Statistics) -> tuple[ResultTable, int]:
    """finish(), column-wise: values, weights and counts of every group at once in NumPy
    (O(groups x models x losses) array work), and so --ci-method t and --baseline from
    AT_ONCE_FROM targets on; bootstrap intervals (and --baseline with them) and skill scores
    are finished group by group."""
    by_label = {s.label: s for s in specs}
    codes, hidden = _shown_groups(acc, stats)
    keys = acc.groups.keys
    shown = keys if len(codes) == len(keys) else [keys[c] for c in codes.tolist()]  # codes: every group, in order
    table = ResultTable(list(acc.keys), by_label, [None, *shown])
    per_group = bool(acc.replicates) or _t_method(stats) or stats.baseline is not None
    every_target = per_group and not acc.replicates and len(codes) + 1 >= AT_ONCE_FROM
    one_by_one = per_group and not every_target
    skills = any(by_label[label].loss.skill is not None for _, label in acc.keys)
    # One Python object per group: only for what is finished group by group.
    selects: list[Select] = [slice(None), *codes.tolist()] if one_by_one or skills else []
    overall = None if stats.by else _overall_columns(acc, by_label, stats.reduction)
    for i, key in enumerate(acc.keys):
        model, spec = key[0], by_label[key[1]]
        if overall is None:
            value, table.weight_sum[key], table.n[key] = _columns(acc.means[key], codes, spec, stats.reduction)
        else:  # views of one array per field: no NumPy call per (model, loss)
            value, table.weight_sum[key], table.n[key] = (column[i : i + 1] for column in overall)
        if spec.loss.skill is not None:
            skill = [skill_value(acc, spec, model, s, v) for s, v in zip(selects, value.tolist(), strict=True)]
            value = np.array(skill, dtype=np.float64)
        table.value[key] = value
        if one_by_one:
            rows = [_extras(acc, spec, model, s, v, stats) for s, v in zip(selects, value.tolist(), strict=True)]
            table.extra[key] = {f: [r.get(f) for r in rows] for f in EXTRA_FIELDS if any(f in r for r in rows)}
    if every_target:  # after every value: the baseline's are read
        targets = Targets(codes)
        for model, label in acc.keys:
            extra = _extras_at_once(acc, targets, by_label[label], model, table, stats)
            table.extra[(model, label)] = {f: extra[f] for f in EXTRA_FIELDS if f in extra}
    return table, hidden


def _shown_groups(acc: Accumulator, stats: Statistics) -> tuple[np.ndarray, int]:
    """The codes of the groups shown (first-seen order), and how many --min-group-n hid."""
    if not stats.by:
        return np.zeros(0, dtype=np.intp), 0
    sizes = acc.means[acc.keys[0]].n[: len(acc.groups)]
    sizes = np.pad(sizes, (0, len(acc.groups) - len(sizes)))
    shown = np.flatnonzero(sizes >= stats.min_rows)
    return shown, len(acc.groups) - len(shown)


def _columns(state: MeanState, codes: np.ndarray, spec: LossSpec, reduction: str) -> tuple[np.ndarray, ...]:
    """(value, sum of weights, n) at every target: the overall rows (the pairwise totals), then
    each group. The same arithmetic as mean_of(), elementwise (IEEE division is the same in NumPy)."""
    select: np.ndarray | slice = codes
    if len(codes) == len(state.n) and (not len(codes) or codes[-1] == len(codes) - 1):
        select = slice(None)  # codes are increasing: every group, in order (views, not copies)
    sum_wl = np.concatenate([[state.total_wl], state.sum_wl[select]], dtype=np.float64)
    sum_w = np.concatenate([[state.total_w], state.sum_w[select]], dtype=np.float64)
    n = np.concatenate([[int(state.n.sum())], state.n[select]], dtype=np.int64)
    if reduction == "sum":
        return sum_wl, sum_w, n
    value = weighted_mean(sum_wl, sum_w)
    finisher = spec.loss.finisher
    if finisher is not None:
        means, weights = value.tolist(), sum_w.tolist()
        value = np.array([finisher(m) if w > 0 else math.nan for m, w in zip(means, weights, strict=True)])
    return value, sum_w, n


def _overall_columns(acc: Accumulator, by_label: dict[str, LossSpec], reduction: str) -> tuple[np.ndarray, ...]:
    """_columns() of every key at once, without --by (the overall rows are the one target):
    (value, sum of weights, n), one entry per key in acc.keys. The same arithmetic elementwise;
    20,000 models x one loss took 0.25 s one key at a time."""
    states = [acc.means[key] for key in acc.keys]
    sum_wl = np.array([s.total_wl for s in states], dtype=np.float64)
    sum_w = np.array([s.total_w for s in states], dtype=np.float64)
    n = np.array([sum(s.n.tolist()) for s in states], dtype=np.int64)
    if reduction == "sum":
        return sum_wl, sum_w, n
    value = weighted_mean(sum_wl, sum_w)
    for i, (_, label) in enumerate(acc.keys):
        finisher = by_label[label].loss.finisher
        if finisher is not None:
            value[i] = finisher(float(value[i])) if sum_w[i] > 0 else math.nan
    return value, sum_w, n


def _extras(acc: Accumulator, spec: LossSpec, model: str, select: Select, value: float, stats: Statistics) -> Extras:
    """The interval (--ci) and the comparison with the baseline (--baseline) of one target."""
    state = acc.means[(model, spec.label)]
    extra: Extras = {}
    replicates = None
    if acc.replicates:
        replicates = _replicates(acc, spec, model, select, stats)
        rows = _count(acc, model, spec.label, select)
        extra["ci_low"], extra["ci_high"] = _percentiles(replicates, stats.level, rows)
    elif _t_method(stats):
        low, high = t_interval(*state.moments(select), stats.level, spec.loss.finisher)
        # A loss that cannot be negative has no interval below 0 (mean +- t se can reach there).
        extra["ci_low"], extra["ci_high"] = (max(low, 0.0) if spec.loss.nonnegative else low), high
    if stats.baseline is not None:
        extra |= _versus_baseline(acc, spec, model, select, value, replicates, stats)
    return extra


def _versus_baseline(
    acc: Accumulator,
    spec: LossSpec,
    model: str,
    select: Select,
    value: float,
    replicates: np.ndarray | None,
    stats: Statistics,
) -> dict[str, float | str | None]:
    """The difference to the baseline, its interval, the paired test and the verdict: all on
    the rows both models kept (with --nan drop they may differ from each model's own rows)."""
    base, label, finisher = stats.baseline or "", spec.label, spec.loss.finish
    base_value, _ = mean_of(acc.means[(base, label)], select, finisher, stats.reduction)
    if spec.loss.skill is not None:
        base_value = skill_value(acc, spec, base, select, base_value)
    if model == base:
        # Without a value (no rows left in this group) the baseline has no difference to itself either.
        zero = math.nan if math.isnan(base_value) else 0.0
        out: dict[str, float | str | None] = {"delta": zero, "delta_rel": zero if base_value else math.nan}
        out |= {"p_value": math.nan, "verdict": "baseline"}
        if acc.replicates or _t_method(stats):
            out |= {"delta_ci_low": zero, "delta_ci_high": zero}
        return out
    paired = acc.paired[(model, label)]
    same = _total(paired.n, select) == _count(acc, model, label, select) and _same_n(acc, model, base, label, select)
    if same:
        delta = _delta_on_same_rows(paired, select, spec, stats, (value, base_value))
    else:
        mine, base_value = _shared_values(paired, select, spec, stats)
        delta = mine - base_value
    # Relative to the baseline's size: a negative skill score must not flip the sign.
    out = {"delta": delta, "delta_rel": delta / abs(base_value) if base_value else math.nan}
    if math.isnan(delta):  # no rows in common, or a skill score's reference not kept per pair of rows
        out |= {"p_value": math.nan, "verdict": None}
        if acc.replicates or _t_method(stats):  # asked for and undefined: NaN as the p-value, not absent
            out |= {"delta_ci_low": math.nan, "delta_ci_high": math.nan}
        return out
    test = paired_t_test(*paired.moments(select))
    # A skill score is better when higher: the verdict reads the loss's direction.
    direction = -delta if spec.loss.higher_is_better else delta
    out |= {"p_value": test.p_value, "verdict": verdict(test.p_value, direction, stats.level)}
    if _t_method(stats):
        out["delta_ci_low"], out["delta_ci_high"] = t_delta_interval(
            acc.means[(model, label)].moments(select),
            acc.means[(base, label)].moments(select),
            paired.moments(select),
            stats.level,
            spec.loss.finisher,
        )
    if replicates is not None:
        if (model, label) in acc.pair_boot and not same:
            pair = acc.pair_boot[(model, label)]
            mine_reps, base_reps = (_reps(state, select, finisher, stats.reduction) for state in pair)
        else:
            mine_reps, base_reps = replicates, _replicates(acc, spec, base, select, stats)
        rows = _total(paired.n, select)
        out["delta_ci_low"], out["delta_ci_high"] = _percentiles(mine_reps - base_reps, stats.level, rows)
    return out


def _percentiles(replicates: np.ndarray, level: float, rows: float) -> tuple[float, float]:
    """The percentile interval, or NaN from fewer than two rows: every replicate of one row is
    that row's value (a zero-width 'interval'), as the t method's is NaN there."""
    return percentile_interval(replicates, level) if rows >= 2 else (math.nan, math.nan)


def _delta_on_same_rows(
    paired: PairedState, select: Select, spec: LossSpec, stats: Statistics, values: tuple[float, float]
) -> float:
    """value - baseline's value, from the sum of the rows' differences where that holds more
    digits: two means near 1e8 times their gap apart keep none of it in their difference."""
    value, base_value = values
    if spec.loss.skill is not None:
        return value - base_value
    sum_wd, sum_w = _total(paired.sum_wd, select), _total(paired.sum_w, select)
    if stats.reduction == "sum":
        return sum_wd
    finisher = spec.loss.finisher
    if not sum_w > 0 or (finisher is not None and finisher is not math.sqrt):
        return value - base_value
    mean_d = sum_wd / sum_w
    if finisher is None:
        return mean_d
    # sqrt(a) - sqrt(b) = (a - b) / (sqrt(a) + sqrt(b)), with a - b the mean difference
    total = value + base_value
    return mean_d / total if total > 0 and math.isfinite(total) else value - base_value


def _t_method(stats: Statistics) -> bool:
    """Intervals from running sums (--ci-method t) rather than the bootstrap."""
    return stats.ci is not None and stats.ci_method == "t"


def _shared_values(paired: PairedState, select: Select, spec: LossSpec, stats: Statistics) -> tuple[float, float]:
    """(the model's value, the baseline's) on the rows both kept (--nan drop)."""
    sums = _total(paired.sum_wm, select), _total(paired.sum_wb, select)
    sum_w = _total(paired.sum_w, select)
    if spec.loss.skill is not None or not sum_w > 0:
        return math.nan, math.nan
    if stats.reduction == "sum":
        return sums
    return spec.loss.finish(sums[0] / sum_w), spec.loss.finish(sums[1] / sum_w)


# --- every target at once ------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """The targets finished at once: the overall rows, then the groups of ``codes`` (shown)."""

    codes: np.ndarray

    def of(self, array: np.ndarray, first: float | None = None) -> np.ndarray:
        """A per-group state array at every target: ``first`` (default: the array's sum, as
        _total() over all rows) then each group's own, as float64."""
        whole = float(array.sum()) if first is None else first
        if len(self.codes) and self.codes[-1] >= len(array):  # a state that saw fewer groups: 0 there
            array = np.pad(array, (0, int(self.codes.max()) + 1 - len(array)))
        return np.concatenate([[whole], array[self.codes]], dtype=np.float64)

    def moments(self, state: MeanState) -> at_once.Moments:
        """MeanState.moments() at every target."""
        arrays = (state.sum_wl, state.m2, state.sum_w, state.sum_w2)
        wl, m2, w, w2 = (self.of(a, t) for a, t in zip(arrays, state.moments(None), strict=True))
        return wl, m2, w, w2

    def paired(self, state: PairedState) -> at_once.Moments:
        """PairedState.moments() at every target."""
        arrays = (state.sum_wd, state.m2, state.sum_w, state.sum_w2)
        wd, m2, w, w2 = (self.of(a, t) for a, t in zip(arrays, state.moments(slice(None)), strict=True))
        return wd, m2, w, w2


Columns = dict[str, list[Any]]  # per extra field, its value at every target


def _extras_at_once(
    acc: Accumulator, at: Targets, spec: LossSpec, model: str, table: ResultTable, stats: Statistics
) -> Columns:
    """_extras() of every target at once (no bootstrap): the t interval and the comparison with
    the baseline, as columns."""
    extra: Columns = {}
    if _t_method(stats):
        low, high = at_once.t_intervals(at.moments(acc.means[(model, spec.label)]), stats.level, spec.loss.finisher)
        if spec.loss.nonnegative:  # max(low, 0.0): -0.0 and NaN stay
            low = np.where(low < 0.0, 0.0, low)
        extra["ci_low"], extra["ci_high"] = low.tolist(), high.tolist()
    if stats.baseline is not None:
        extra |= _versus_baseline_at_once(acc, at, spec, model, table, stats)
    return extra


def _versus_baseline_at_once(
    acc: Accumulator, at: Targets, spec: LossSpec, model: str, table: ResultTable, stats: Statistics
) -> Columns:
    """_versus_baseline() of every target at once (no bootstrap)."""
    base, label = stats.baseline or "", spec.label
    value, base_value = table.value[(model, label)], table.value[(base, label)]
    if model == base:
        # Without a value (no rows left in a group) the baseline has no difference to itself either.
        zero = np.where(np.isnan(base_value), np.nan, 0.0)
        out: Columns = {"delta": zero.tolist(), "delta_rel": np.where(base_value != 0, zero, np.nan).tolist()}
        out |= {"p_value": [math.nan] * len(zero), "verdict": ["baseline"] * len(zero)}
        if _t_method(stats):
            out |= {"delta_ci_low": zero.tolist(), "delta_ci_high": zero.tolist()}
        return out
    paired = acc.paired[(model, label)]
    mine_n, base_n = (at.of(acc.means[(m, label)].n) for m in (model, base))
    same = (at.of(paired.n) == mine_n) & (mine_n == base_n)
    delta = _deltas_on_same_rows(paired, at, spec, stats, (value, base_value))
    if not same.all():  # on the rows both kept, where they differ from each model's own
        mine, shared_base = _shared_values_at_once(paired, at, spec, stats)
        delta, base_value = np.where(same, delta, mine - shared_base), np.where(same, base_value, shared_base)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # relative to the baseline's size
        rel = np.where(base_value != 0, delta / np.abs(base_value), np.nan)
    missing = np.isnan(delta)  # no rows in common, or a skill score's reference not kept per pair of rows
    moments = at.paired(paired)
    p_value = np.where(missing, np.nan, at_once.paired_t_tests(*moments)[3])
    # A skill score is better when higher: the verdict reads the loss's direction.
    called: list[str | None] = list(
        at_once.verdicts(p_value, -delta if spec.loss.higher_is_better else delta, stats.level)
    )
    for i in np.flatnonzero(missing).tolist():
        called[i] = None
    out = {"delta": delta.tolist(), "delta_rel": rel.tolist(), "p_value": p_value.tolist(), "verdict": called}
    if _t_method(stats):
        mine_moments, base_moments = (at.moments(acc.means[(m, label)]) for m in (model, base))
        low, high = at_once.t_delta_intervals(mine_moments, base_moments, moments, stats.level, spec.loss.finisher)
        out["delta_ci_low"], out["delta_ci_high"] = (np.where(missing, np.nan, e).tolist() for e in (low, high))
    return out


def _deltas_on_same_rows(
    paired: PairedState, at: Targets, spec: LossSpec, stats: Statistics, values: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """_delta_on_same_rows() of every target."""
    value, base_value = values
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN, as the one-at-a-time path gives
        own: np.ndarray = value - base_value
    if spec.loss.skill is not None:
        return own
    sum_wd, sum_w = at.of(paired.sum_wd), at.of(paired.sum_w)
    if stats.reduction == "sum":
        return sum_wd
    finisher = spec.loss.finisher
    if finisher is not None and finisher is not math.sqrt:
        return own
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mean_d = sum_wd / sum_w
        if finisher is not None:  # sqrt(a) - sqrt(b) = (a - b) / (sqrt(a) + sqrt(b))
            total = value + base_value
            mean_d = np.where((total > 0) & np.isfinite(total), mean_d / total, own)
    deltas: np.ndarray = np.where(sum_w > 0, mean_d, own)
    return deltas


def _shared_values_at_once(
    paired: PairedState, at: Targets, spec: LossSpec, stats: Statistics
) -> tuple[np.ndarray, np.ndarray]:
    """_shared_values() of every target: (the model's values, the baseline's)."""
    sums, sum_w = (at.of(paired.sum_wm), at.of(paired.sum_wb)), at.of(paired.sum_w)
    none = np.full(len(sum_w), np.nan)
    if spec.loss.skill is not None:
        return none, none
    if stats.reduction != "sum":
        with np.errstate(divide="ignore", invalid="ignore"):
            mine, theirs = (s / sum_w for s in sums)
            finisher = spec.loss.finisher
            if finisher is math.sqrt:  # NumPy's root is IEEE's, as math's
                sums = np.sqrt(mine), np.sqrt(theirs)
            elif finisher is not None:
                sums = at_once.each(finisher, mine), at_once.each(finisher, theirs)
            else:
                sums = mine, theirs
    mine, theirs = (np.where(sum_w > 0, s, none) for s in sums)
    return mine, theirs


def _count(acc: Accumulator, model: str, label: str, select: Select) -> float:
    return _total(acc.means[(model, label)].n, select)


def _same_n(acc: Accumulator, model: str, base: str, label: str, select: Select) -> bool:
    return _count(acc, model, label, select) == _count(acc, base, label, select)


def _total(array: np.ndarray, select: Select) -> float:
    return float(array[select].sum()) if isinstance(select, slice) else float(array[select])


def mean_of(
    state: MeanState, select: Select, finisher: Callable[[float], float], reduction: str = "mean"
) -> tuple[float, float]:
    """(finished value, sum of weights) over all rows (the pairwise totals) or one group;
    with reduction sum, sum(w * l) itself."""
    if isinstance(select, slice):
        sum_wl, sum_w = state.total_wl, state.total_w
    else:
        sum_wl, sum_w = float(state.sum_wl[select]), float(state.sum_w[select])
    if reduction == "sum":
        return sum_wl, sum_w
    return (finisher(sum_wl / sum_w) if sum_w > 0 else math.nan), sum_w


def skill_value(acc: Accumulator, spec: LossSpec, model: str, select: Select, mean_dev: float) -> float:
    """1 - mean deviance / the best constant's, as scikit-learn's D2 with force_finite."""
    skill = spec.loss.skill
    assert skill is not None
    state = acc.skill_states[(model, spec.label)]
    params = spec.kernel_params
    if skill.stats is not None and skill.reference is not None:
        means = acc.means[(model, spec.label)]
        sums = state.total_ws if isinstance(select, slice) else state.sum_ws[select]
        sum_w = means.total_w if isinstance(select, slice) else float(means.sum_w[select])
        if not sum_w > 0 or not sums.size:
            return math.nan
        reference = skill.reference(sums / sum_w, **params)
    elif skill.exact_reference is not None:
        y, w = state.targets(select)
        if not w.sum() > 0:
            return math.nan
        reference = skill.exact_reference(y, w, **params)
    else:
        return math.nan
    return d2(mean_dev, reference)


def d2(mean_dev: float, reference: float) -> float:
    """1 - mean_dev / reference; a zero reference gives 1 when perfect, else 0 (force_finite)."""
    if reference == 0:
        return 1.0 if mean_dev == 0 else 0.0
    return 1.0 - mean_dev / reference


def _replicates(acc: Accumulator, spec: LossSpec, model: str, select: Select, stats: Statistics) -> np.ndarray:
    """Every bootstrap replicate's finished value: a loss's, or a skill score's from its
    replicated deviance and replicated reference moments."""
    key = (model, spec.label)
    skill = spec.loss.skill
    if skill is None or skill.reference is None:
        return replicate_values(acc, key, select, spec.loss.finish, stats.reduction)
    boot, state = acc.boot[key], acc.skill_states[key]
    if isinstance(select, slice):
        sum_rwl, sum_rw, sum_rws = boot.sum_rwl.sum(axis=1), boot.sum_rw.sum(axis=1), state.sum_rws.sum(axis=2)
    else:
        sum_rwl, sum_rw, sum_rws = boot.sum_rwl[:, select], boot.sum_rw[:, select], state.sum_rws[:, :, select]
    out = np.full(len(sum_rw), math.nan)
    for b in np.flatnonzero(sum_rw > 0):
        reference = skill.reference(sum_rws[:, b] / sum_rw[b], **spec.kernel_params)
        out[b] = d2(float(sum_rwl[b] / sum_rw[b]), reference)
    return out


def replicate_values(
    acc: Accumulator,
    key: tuple[str, str],
    select: Select,
    finisher: Callable[[float], float],
    reduction: str = "mean",
) -> np.ndarray:
    """The finished value of every bootstrap replicate (RMSE's root per replicate; with
    reduction sum, each replicate's sum)."""
    return _reps(acc.boot[key], select, finisher, reduction)


def _reps(boot: BootstrapState, select: Select, finisher: Callable[[float], float], reduction: str) -> np.ndarray:
    if isinstance(select, slice):
        sum_rwl, sum_rw = boot.sum_rwl.sum(axis=1), boot.sum_rw.sum(axis=1)
    else:
        sum_rwl, sum_rw = boot.sum_rwl[:, select], boot.sum_rw[:, select]
    if reduction == "sum":
        sums: np.ndarray = np.asarray(sum_rwl, dtype=np.float64)
        return sums
    means = weighted_mean(sum_rwl, sum_rw)
    return np.array([finisher(m) if math.isfinite(m) else math.nan for m in means])
