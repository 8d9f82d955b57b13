"""What the results say, independent of how they are printed: the order of
models, their ranks, the best value per loss, and the reproducibility signature."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..core.accumulate import GroupKey
from ..core.finish import Result
from ..engines.evaluation import Evaluation
from ..errors import LossCliError, OptionError
from ..read.layout import off_nominal
from ..spec import format_value, parse_spec

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
    rank: int


def resolve_label(ev: Evaluation, text: str) -> str:
    """A loss as the user names it (``huber(delta=2)``, ``huber:delta=2``, an alias) -> its label."""
    labels = [s.label for s in ev.specs]
    if text in labels:
        return text
    try:
        label = parse_spec(text).label
    except LossCliError:  # not a spec either: fall through to the error below
        label = None
    if label in labels:
        return label
    raise OptionError(f"{text!r} is not one of the losses of this run ({', '.join(labels)})")


def summary(ev: Evaluation, sort: str | None = None) -> list[Row]:
    """Rows grouped as in ``ev.groups``; within a group sorted by ``sort`` (default: the
    first loss), lower first; equal values share a rank (1, 1, 3). One pass over the
    results and one sort per group: O(results + models log models)."""
    key = resolve_label(ev, sort) if sort else ev.specs[0].label
    rank = ranks(ev)
    rows: list[Row] = []
    for group, by_model in _by_group(ev).items():
        order = sorted(by_model, key=lambda m: rank[(group, key, m)])
        for model in order:
            results = by_model[model]
            rows.append(Row(group, model, next(iter(results.values())).n, results, rank[(group, key, model)]))
    return rows


def ranks(ev: Evaluation) -> dict[tuple[GroupKey | None, str, str], int]:
    """The rank of every model under every loss, per group: lower is better, ties share a rank.

    When the models were evaluated on different rows (--nan drop) and a baseline is given,
    models are ranked by their difference to the baseline, which is taken on shared rows."""
    by_delta = ev.stats.baseline is not None and ev.rows_differ
    values: dict[tuple[GroupKey | None, str], list[tuple[tuple[bool, float], str]]] = {}
    nominal = {s.label for s in ev.specs if s.loss.nominal is not None}
    for r in ev.results:
        if by_delta and r.delta is not None and r.loss not in nominal:
            value = badness(ev, r.loss, r.model, r.delta)  # a skill score's delta is negated too
        else:
            value = badness(ev, r.loss, r.model, r.value)
        values.setdefault((r.group, r.loss), []).append((_sort_key(value), r.model))
    out: dict[tuple[GroupKey | None, str, str], int] = {}
    for (group, label), pairs in values.items():
        rank, previous = 0, None
        for i, (current, model) in enumerate(sorted(pairs, key=lambda p: p[0])):
            if current != previous:
                rank, previous = i + 1, current
            out[(group, label, model)] = rank
    return out


def _by_group(ev: Evaluation) -> dict[GroupKey | None, dict[str, dict[str, Result]]]:
    grouped: dict[GroupKey | None, dict[str, dict[str, Result]]] = {}
    for r in ev.results:
        grouped.setdefault(r.group, {}).setdefault(r.model, {})[r.loss] = r
    return grouped


def best_models(ev: Evaluation) -> dict[tuple[GroupKey | None, str], set[str]]:
    """Per (group, loss label), the models with the best value: the lowest, or the highest for
    a skill score (none when fewer than two models, or no finite value)."""
    values: dict[tuple[GroupKey | None, str], dict[str, float]] = {}
    for r in ev.results:
        values.setdefault((r.group, r.loss), {})[r.model] = r.value
    best: dict[tuple[GroupKey | None, str], set[str]] = {}
    for key, by_model in values.items():
        finite = [v for v in by_model.values() if not math.isnan(v)]
        if len(by_model) < 2 or not finite:
            best[key] = set()
        else:
            scores = {m: badness(ev, key[1], m, v) for m, v in by_model.items() if not math.isnan(v)}
            top = min(scores.values())
            best[key] = {m for m, v in scores.items() if v == top}
    return best


def badness(ev: Evaluation, label: str, model: str, value: float) -> float:
    """What ranks a value, lower first: the loss itself; a skill score (D2) negated; for a
    loss with a nominal value (coverage), the distance from that model's nominal."""
    spec = next(s for s in ev.specs if s.label == label)
    if spec.loss.higher_is_better:
        return -value
    distance = off_nominal(ev.layout, spec, model, value)
    return value if distance is None else distance


def group_text(ev: Evaluation, group: GroupKey | None) -> list[str]:
    """The group's value per --by column, '(all)' on the overall rows."""
    if group is None:
        return ["(all)"] * len(ev.stats.by)
    return ["" if v is None else str(v) for v in group]


def signature(ev: Evaluation) -> str:
    """A one-line reproducibility signature, as sacrebleu prints one.

    Each loss is written as a spec with every parameter, defaults included, so
    it can be pasted back into ``-l``.
    """
    parts = [f"losscli:{__version__}"]
    parts += [spec_with_all_params(s.name, s.params) for s in ev.specs]
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
            {"label": s.label, "loss": s.name, "params": dict(s.params), "spec": spec_with_all_params(s.name, s.params)}
            for s in ev.specs
        ],
        "ci": None if ev.stats.ci is None else _ci_meta(ev),
        "baseline": ev.stats.baseline,
        "nan": ev.request.columns.nan,
        "same_rows": not ev.rows_differ,
    }


def _sort_key(value: float) -> tuple[bool, float]:
    # NaN last, and every NaN equal to every other (so they share a rank).
    return (True, 0.0) if math.isnan(value) else (False, value)


def _ci_meta(ev: Evaluation) -> dict[str, Any]:
    if ev.stats.ci_method == "t":
        return {"level": ev.stats.ci, "bootstrap": 0, "seed": None, "method": "t"}
    return {"level": ev.stats.ci, "bootstrap": ev.stats.replicates, "seed": ev.stats.seed_value, "method": "poisson"}
