"""What the results say, independent of how they are printed: the order of
models, their ranks, the best value per loss, and the reproducibility signature."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import __version__
from ..core.accumulate import GroupKey
from ..core.finish import ALL_ROWS, Result
from ..engines.evaluation import Evaluation
from ..errors import LossCliError, OptionError
from ..read.layout import off_nominal
from ..spec import LossSpec, format_value, parse_spec

# The version of the JSON layout (report/results.schema.json); raised when a field changes meaning.
SCHEMA_VERSION = 1
REDUCTION = "weighted mean sum(w*l)/sum(w), finisher after the mean"
REDUCTION_SUM = "weighted sum sum(w*l)"


@dataclass(frozen=True)
class Row:
    """One line of a summary: a model (in one group), its results by loss label, its rank."""

    group: GroupKey | None
    model: str
    n: int
    results: dict[str, Result]
    rank: int | None  # None: no value to rank (no rows left, or undefined); listed last


def resolve_label(ev: Evaluation, text: str) -> str:
    """A loss as the user names it (``huber(delta=2)``, ``huber:delta=2``, an alias) -> its label."""
    labels = [s.label for s in ev.specs]
    if text in labels:
        return text
    try:
        wanted = parse_spec(text).identity
    except LossCliError:  # not a spec either: fall through to the error below
        wanted = None
    # huber, huber:delta=1 and huber(delta=1) are one loss: the resolved specs are compared, not the text.
    for spec in ev.specs:
        if spec.identity == wanted:
            return spec.label
    raise OptionError(f"{text!r} is not one of the losses of this run ({', '.join(labels)})")


def summary(ev: Evaluation, sort: str | None = None, targets: Sequence[int] | None = None) -> list[Row]:
    """Rows grouped as in ``ev.groups`` (or only the ``targets``, positions in it); within a
    group sorted by ``sort`` (default: the first loss), lower first; equal values share a rank
    (1, 1, 3). Ranked column-wise: O(results) array work and one argsort per loss."""
    label = sort_label(ev, sort)
    rank, missing = rank_and_missing(ev, label)
    shown = list(range(len(ev.table.groups))) if targets is None else list(targets)
    # A few targets of a million: only theirs are made lists.
    order = np.argsort(rank[shown], axis=1, kind="stable").tolist()
    places = ranks_shown(rank[shown], missing[shown])
    models, table, first = ev.models, ev.table, ev.specs[0].label
    rows: list[Row] = []
    for i, t in enumerate(shown):
        group = table.groups[t]
        for j in order[i]:
            model = models[j]
            results = {s.label: table.result(t, (model, s.label)) for s in ev.specs}
            rows.append(Row(group, model, results[first].n, results, places[i][j]))
    return rows


def sort_label(ev: Evaluation, sort: str | None) -> str:
    """The loss label the rows are sorted by: --sort, else the first loss."""
    if not sort:
        return ev.specs[0].label
    try:
        return resolve_label(ev, sort)
    except OptionError as exc:  # name the option: it may come from a config file
        raise OptionError(f"{ev.request.flag('sort')}: {exc}") from None


def ranks(ev: Evaluation) -> dict[tuple[GroupKey | None, str, str], int | None]:
    """The rank of every model under every loss, per group: lower is better, ties share a rank.

    When the models were evaluated on different rows (--nan drop) and a baseline is given,
    models are ranked by their difference to the baseline, which is taken on shared rows."""
    out: dict[tuple[GroupKey | None, str, str], int | None] = {}
    for spec in ev.specs:
        matrix = rank_lists(ev, spec.label)
        for group, row in zip(ev.table.groups, matrix, strict=True):
            for model, rank in zip(ev.models, row, strict=True):
                out[(group, spec.label, model)] = rank
    return out


def rank_matrix(ev: Evaluation, label: str) -> np.ndarray:
    """ranks() of one loss as an array (targets x models, in ``ev.models`` order), for ordering:
    NaN last, and every NaN equal to every other, as a stable sort gives."""
    return rank_and_missing(ev, label)[0]


def rank_lists(ev: Evaluation, label: str) -> list[list[int | None]]:
    """rank_matrix() as lists, None where a model has no value to rank (NaN: no rows, or undefined)."""
    shown: list[list[int | None]] = ranks_shown(*rank_and_missing(ev, label))
    return shown


def ranks_shown(rank: np.ndarray, missing: np.ndarray) -> Any:
    """Ranks (any shape) as (nested) lists of ints, None where ``missing``: no value, no rank."""
    shown = rank.astype(object)
    shown[missing] = None
    return shown.tolist()


def rank_and_missing(ev: Evaluation, label: str) -> tuple[np.ndarray, np.ndarray]:
    """(rank_matrix, where the value ranked by is NaN: no rank is shown there)."""
    bad = badness_matrix(ev, label, by_delta=ev.stats.baseline is not None and ev.rows_differ)
    targets, models = bad.shape
    order = np.argsort(bad, axis=1, kind="stable")  # NaN sorts last
    ordered = np.take_along_axis(bad, order, axis=1)
    same = (ordered[:, 1:] == ordered[:, :-1]) | (np.isnan(ordered[:, 1:]) & np.isnan(ordered[:, :-1]))
    starts = np.concatenate([np.ones((targets, 1), dtype=bool), ~same], axis=1)
    # A tie shares the rank of its first member: the position where its run starts, plus one.
    first = np.maximum.accumulate(np.where(starts, np.arange(models), 0), axis=1) + 1
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, first, axis=1)
    return rank, np.isnan(bad)


def badness_matrix(ev: Evaluation, label: str, by_delta: bool = False) -> np.ndarray:
    """badness() of every value of one loss (targets x models); with ``by_delta``, of the
    difference to the baseline where there is one (not for a loss with a nominal value)."""
    spec = ev.table.specs[label]
    by_delta = by_delta and spec.loss.nominal is None
    nominal = _nominal_levels(ev, spec)
    columns = []
    # Where the baseline has no value (no rows in that group), there is no delta to rank by:
    # those targets rank by the models' own values, NaN (the baseline's) last.
    base = ev.table.value[(ev.stats.baseline or "", label)] if by_delta else None
    own = np.isnan(base) if base is not None else None
    for model in ev.models:
        key = (model, label)
        values = ev.table.value[key]
        if by_delta and own is not None:
            deltas = ev.table.column(key, "delta")
            paired = np.array([v if d is None else d for v, d in zip(values.tolist(), deltas, strict=True)])
            values = np.where(own, values, paired)
        if spec.loss.higher_is_better:
            values = -values
        elif nominal is not None:
            values = np.abs(values - nominal[model])
        columns.append(np.asarray(values, dtype=np.float64))
    return np.column_stack(columns)


def _nominal_levels(ev: Evaluation, spec: LossSpec) -> dict[str, float] | None:
    """Per model, the nominal value of a loss that has one (coverage); None for other losses."""
    if spec.loss.nominal is None:
        return None
    return {m.name: spec.loss.nominal(m.levels, **spec.kernel_params) for m in ev.layout.models}


def best_matrix(ev: Evaluation, label: str) -> np.ndarray:
    """Per target and model, whether its value is the best of its group under ``label``: the
    lowest badness among the values that are not NaN (none with fewer than two models)."""
    values = np.column_stack([ev.table.value[(m, label)] for m in ev.models]).astype(np.float64)
    bad = badness_matrix(ev, label)
    finite = ~np.isnan(values)
    if values.shape[1] < 2:
        return np.zeros(values.shape, dtype=bool)
    scores = np.where(finite, bad, np.inf)
    top = scores.min(axis=1, keepdims=True)
    best: np.ndarray = finite & (bad == top)
    return best


def best_models(ev: Evaluation) -> dict[tuple[GroupKey | None, str], set[str]]:
    """Per (group, loss label), the models with the best value: the lowest, or the highest for
    a skill score (none when fewer than two models, or no finite value)."""
    out: dict[tuple[GroupKey | None, str], set[str]] = {}
    for spec in ev.specs:
        for group, row in zip(ev.table.groups, best_matrix(ev, spec.label).tolist(), strict=True):
            out[(group, spec.label)] = {m for m, best in zip(ev.models, row, strict=True) if best}
    return out


def badness(ev: Evaluation, label: str, model: str, value: float) -> float:
    """What ranks a value, lower first: the loss itself; a skill score (D2) negated; for a
    loss with a nominal value (coverage), the distance from that model's nominal."""
    spec = ev.table.specs[label]
    if spec.loss.higher_is_better:
        return -value
    distance = off_nominal(ev.layout, spec, model, value)
    return value if distance is None else distance


# How a missing group value reads for people (the table, Markdown, HTML, gate messages).
MISSING = "(missing)"


def human_value(value: Any) -> str:
    """A group value as people read it: a missing value ``(missing)``, the empty string
    ``""``, NaN ``NaN``, so that no two groups read alike (a CSV cell cannot do that).

    >>> [human_value(v) for v in (None, "", float("nan"), "x", 1.5)]
    ['(missing)', '""', 'NaN', 'x', '1.5']
    """
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value or '""'
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return str(value)


def group_text(ev: Evaluation, group: GroupKey | None) -> list[str]:
    """The group's value per --by column as people read it (human_value), '(all)' on the overall rows."""
    if group is None:
        return [ALL_ROWS] * len(ev.stats.by)
    return [human_value(v) for v in group]


def group_columns(ev: Evaluation) -> list[list[str]]:
    """The group values of every target as CSV/TSV cells, column by column (one list per --by
    column): '(all)' on the overall rows, a missing value an empty cell (as the empty string:
    ambiguous_groups() says when a run has both)."""
    columns = []
    groups: list[Any] | None = ev.table.groups[1:] if ev.table.groups and ev.table.groups[0] is None else None
    for i in range(len(ev.stats.by)):
        if groups is None:  # the overall rows are not first: not a table finish_table made
            columns.append([ALL_ROWS if g is None else "" if g[i] is None else str(g[i]) for g in ev.table.groups])
            continue
        values = list(map(operator.itemgetter(i), groups))  # a million groups: C-level passes
        texts = list(map(str, values)) if None not in values else ["" if v is None else str(v) for v in values]
        columns.append([ALL_ROWS, *texts])
    return columns


# Per format family, the values of a --by column that it writes alike, how, and a format that does not.
_WRITTEN_ALIKE = {
    "csv": ("an empty cell", '-f json tells them apart ("" and null)'),
    "json": ("null", "-f csv tells them apart (an empty cell for a missing value)"),
    "frame": ("NaN and None, both of which isna() finds", "the missing group's value is None"),
    "human": ("", "-f csv tells them apart"),
}
_HUMAN = {"table": "the table", "markdown": "Markdown", "html": "the HTML report"}


def ambiguous_groups(ev: Evaluation, fmt: str) -> list[str]:
    """Notes for the --by columns where two distinct groups of the run are written alike in
    ``fmt``: the empty string and a missing value in CSV/TSV (both an empty cell), NaN,
    infinities and a missing value in JSON/JSONL (all null). Formats for people say
    ``(missing)``, ``""`` and ``NaN`` (human_value): only a text that reads the same does."""
    family = {"csv": "csv", "tsv": "csv", "json": "json", "jsonl": "json", "frame": "frame"}.get(fmt)
    family = "human" if fmt in _HUMAN else family
    groups: list[Any] = ev.table.groups[1:] if ev.table.groups and ev.table.groups[0] is None else []
    if family is None or not groups:
        return []
    written, apart = _WRITTEN_ALIKE[family]
    notes = []
    for i, column in enumerate(ev.stats.by):
        values = list(map(operator.itemgetter(i), groups))  # C-level passes over a million groups
        if family == "human":
            notes += _human_alike(column, values, _HUMAN[fmt], apart)
            continue
        if family == "csv":
            alike = ["the empty string", "missing values"] if None in values and "" in values else []
        else:
            alike = _null_in_json(values)
            if family == "frame":  # the frame keeps infinities as they are
                alike = [kind for kind in alike if kind in ("NaN", "missing values")]
        if len(alike) > 1:
            where = "the DataFrame holds as" if family == "frame" else f"{fmt.upper()} writes alike:"
            notes.append(f"--by {column}: {' and '.join(alike)} are different groups that {where} {written}; {apart}")
    return notes


def _human_alike(column: str, values: list[Any], where: str, apart: str) -> list[str]:
    """Notes for a text that reads as human_value() writes another group: "(missing)" beside a
    missing value, '""' beside the empty string."""
    notes = []
    for other, kind in ((None, "missing values"), ("", "the empty string")):
        shown = human_value(other)
        if other in values and shown in values:
            notes.append(f"--by {column}: {kind} and the text {shown} are different groups that {where} "
                         f"writes alike: {shown}; {apart}")  # fmt: skip
    return notes


def _null_in_json(values: list[Any]) -> list[str]:
    """The kinds of value among ``values`` that JSON writes as null: NaN, inf, -inf, missing."""
    kinds: set[str] = set()
    if float in set(map(type, values)):
        kinds = {"NaN" if math.isnan(v) else str(v) for v in values if isinstance(v, float) and not math.isfinite(v)}
    return sorted(kinds, key=["NaN", "inf", "-inf"].index) + (["missing values"] if None in values else [])


def signature(ev: Evaluation) -> str:
    """A one-line reproducibility signature, as sacrebleu prints one.

    Each loss is written as a spec with every parameter, defaults included, so
    it can be pasted back into ``-l``.
    """
    parts = [f"losscli:{__version__}"]
    parts += [spec_with_all_params(s.name, run_params(s, ev)) for s in ev.specs]
    parts.append(f"weight:{ev.layout.weight or 'none'}")
    parts.append(f"reduction:{ev.stats.reduction}")
    if ev.stats.ci is not None:
        if ev.stats.ci_method == "t":
            parts.append(f"ci:{format_value(ev.stats.ci)}:method=t")
        else:
            parts.append(f"ci:{format_value(ev.stats.ci)}:bootstrap={ev.stats.replicates}:seed={ev.stats.seed_value}")
    if ev.stats.baseline is not None:
        parts.append(f"baseline:{ev.stats.baseline}:test=paired_t")
    return "|".join(parts)


def run_params(spec: LossSpec, ev: Evaluation) -> dict[str, Any]:
    """The parameters that shaped ``spec`` in this run: what a signature or a record shows.

    On a quantile set, quantile averages the pinball loss over the set's own levels and
    alpha is refused (a point model beside it takes the default), so alpha is left out:
    ``quantile`` pastes back, ``quantile:alpha=0.5`` would not and would misdescribe the value.
    """
    params = spec.params_for(ev.layout.task)
    if spec.loss.on_quantiles is not None and any(m.kind == "quantiles" for m in ev.layout.models):
        params.pop("alpha", None)
    return params


def spec_with_all_params(name: str, params: dict[str, Any]) -> str:
    return name + "".join(f":{k}={format_value(v)}" for k, v in params.items())


def meta(ev: Evaluation) -> dict[str, Any]:
    """Everything needed to reproduce the numbers, for ``--format json --meta``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "version": __version__,
        "signature": signature(ev),
        "source": ev.source,
        "rows": ev.rows,
        "target": ev.layout.target,
        "task": ev.layout.task,
        "weight": ev.layout.weight,
        "reduction": REDUCTION if ev.stats.reduction == "mean" else REDUCTION_SUM,
        "by": list(ev.stats.by),
        "losses": [
            {"label": s.label, "loss": s.name, "params": p, "spec": spec_with_all_params(s.name, p)}
            for s, p in ((s, run_params(s, ev)) for s in ev.specs)
        ],
        "ci": None if ev.stats.ci is None else _ci_meta(ev),
        "baseline": ev.stats.baseline,
        "nan": ev.request.columns.nan,
        "same_rows": not ev.rows_differ,
    } | ({"groups": _groups_meta(ev)} if ev.stats.by else {})


def _groups_meta(ev: Evaluation) -> dict[str, Any]:
    # Left out by --min-group-n is not missing: the meta says how many, as the note does.
    shown = sum(g is not None for g in ev.table.groups)
    return {"shown": shown, "hidden": ev.hidden_groups, "min_group_n": ev.stats.min_rows or None}


def _sort_key(value: float) -> tuple[bool, float]:
    # NaN last, and every NaN equal to every other (so they share a rank).
    return (True, 0.0) if math.isnan(value) else (False, value)


def _ci_meta(ev: Evaluation) -> dict[str, Any]:
    if ev.stats.ci_method == "t":
        return {"level": ev.stats.ci, "bootstrap": 0, "seed": None, "method": "t"}
    return {"level": ev.stats.ci, "bootstrap": ev.stats.replicates, "seed": ev.stats.seed_value, "method": "poisson"}


def json_value(value: Any) -> Any:
    """A value as JSON holds it (results, group values): dates and times in ISO 8601, decimals and durations as
    text (exact), NaN and infinities as null; strings, integers, booleans and floats as they are."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else str(value)
