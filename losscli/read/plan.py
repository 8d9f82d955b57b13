"""Resolve: the columns' roles and the losses, decided once from the schema and a sample."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..errors import OptionError
from ..losses import Task
from ..request import Request, ignore_label
from ..spec import LossSpec, format_value, parse_specs
from .kinds import Kind, follow_kind, kinds_note, model_kinds, one_kind
from .layout import Layout, check_distributions, resolve_layout
from .source import Source


@dataclass
class Plan:
    """What to compute: the layout and the losses, with notes on what was inferred."""

    source: str
    layout: Layout
    specs: list[LossSpec]
    notes: list[str]


def make_plan(source: Source, request: Request, *, choose_losses: bool = True) -> Plan:
    """Resolve the columns' roles and the losses (defaults from the task and the kind of
    predictions when none are given). ``choose_losses=False``: the roles only, for a caller
    that judges the predictions and picks its losses itself (advise)."""
    specs = list(request.losses)
    for spec in specs:
        _check_resolution(spec)
    layout = resolve_layout(source, specs, request)
    notes = list(layout.notes)
    if not choose_losses:
        pass
    elif layout.task != "regression":
        kinds = model_kinds(layout, source)
        notes.append(kinds_note(kinds))
        if not specs:
            kind = one_kind(kinds, request, "one set of default losses")
            specs = parse_specs(default_losses(layout.task, kind, layout))
            specs, dropped = _soft_defaults(layout, kind, specs)
            notes.append(
                f"losses: {', '.join(s.label for s in specs)} (default for {layout.task} {kind}{dropped}; "
                "choose with --loss)"
            )
            if layout.task == "binary":
                threshold = 0.5 if kind == "probabilities" else 0
                notes.append(f"zero_one: class 1 where the prediction > {threshold} (zero_one:threshold=T sets it)")
        else:
            specs = follow_kind(specs, kinds, request, notes, layout.task == "binary")
    elif not specs:
        specs = parse_specs(default_losses(layout.task, "scores", layout))
        notes.append(f"losses: {', '.join(s.label for s in specs)} (default for regression; choose with --loss)")
    notes += check_distributions(layout, specs)
    notes += _thin_tails(request)
    _by_names_clash(request, specs)
    _no_threshold_on_classes(layout.task, specs)
    if layout.target_columns and ignore_label(specs) is not None:
        raise OptionError("ignore_index leaves out rows by their class label; soft targets (k columns) have none")
    baseline = request.stats.baseline
    if baseline is not None and baseline not in [m.name for m in layout.models]:
        raise OptionError(
            f"{request.flag('baseline')} {baseline!r} is not a model in {source.name} "
            f"(models: {', '.join(m.name for m in layout.models)})"
        )
    return Plan(source.name, layout, specs, notes)


# The columns results have besides the --by columns and the loss labels: the CSV/TSV/table's
# and the Python API's DataFrame's (a group column of the same name would overwrite them).
RESULT_COLUMNS = (
    *("model", "n", "rank", "loss", "label", "value", "params", "group", "ci_low", "ci_high"),
    *("delta", "delta_rel", "delta_ci_low", "delta_ci_high", "p_value", "verdict"),
)


def _by_names_clash(request: Request, specs: list[LossSpec]) -> None:
    """A --by column named like a column of the results would appear twice in a CSV header."""
    labels = [s.label for s in specs]
    for name in request.stats.by:
        if name in RESULT_COLUMNS or any(name == label or name.startswith(f"{label}:") for label in labels):
            raise OptionError(
                f"{request.flag('by')} {name}: the results have a column {name!r} of their own, so the table "
                "would hold two; rename that column in the data to group by it"
            )


def _thin_tails(request: Request) -> list[str]:
    """A percentile interval needs replicates beyond each end: with fewer than 5 there, its ends
    are the few most extreme replicates (with none, their range), so it is too narrow."""
    stats = request.stats
    if stats.ci is None or not stats.replicates:
        return []
    # In exact arithmetic on the level as written: 100 * (1 - 0.9) / 2 is 4.999... in floats.
    level = Fraction(repr(stats.ci))
    tail = stats.replicates * (1 - level) / 2
    if tail >= 5:
        return []
    enough = math.ceil(10 / (1 - level))
    flag = request.flag("bootstrap")
    return [
        # Four digits, truncated: 4.975 must not read 5 (the rule's own bound).
        f"warning: {flag} {stats.replicates} leaves {math.floor(tail * 1000) / 1000:g} replicate(s) beyond each end of "
        f"a {format_value(stats.ci)} interval, so its ends are the few most extreme replicates and it is too narrow; "
        f"use {request.flag('bootstrap')} {enough} or more, or {request.flag('ci_method')} t"
    ]


def _no_threshold_on_classes(task: Task, specs: list[LossSpec]) -> None:
    """zero_one's threshold applies to one binary prediction; with class columns the class is the
    argmax, so a threshold given there would be silently ignored."""
    if task != "multiclass":
        return
    for spec in specs:
        if spec.loss.param("threshold") is not None and "threshold" in dict(spec.given):
            raise OptionError(
                f"{spec.label}: threshold applies to binary predictions; with class columns the predicted class "
                "is the argmax (for two class columns, evaluate the positive one as binary with -p MODEL.CLASS)"
            )


def default_losses(task: Task, kind: Kind, layout: Layout) -> tuple[str, ...]:
    """The losses most people report for the task and the kind of predictions."""
    if task == "regression":
        kinds = {m.kind for m in layout.models}
        if kinds == {"gaussian"}:
            return ("crps", "gaussian_nll", "mse", "mae")
        if kinds == {"quantiles"}:
            from ..losses.probabilistic import central_interval

            # interval_score and coverage need a central pair (q10 and q90); one level has none.
            paired = all(central_interval(m.levels, None) is not None for m in layout.models)
            return ("quantile", "interval_score", "coverage") if paired else ("quantile",)
        return ("mse", "rmse", "mae", "huber")
    if task == "binary":
        return (
            ("bce", "brier", "zero_one") if kind == "probabilities" else ("bce_logits", "hinge", "zero_one:threshold=0")
        )
    if kind == "probabilities":
        return ("cce", "brier", "zero_one")
    if kind == "log-probabilities":
        return ("nll", "zero_one")
    return ("cce_logits", "multiclass_hinge", "zero_one")


def _soft_defaults(layout: Layout, kind: Kind, specs: list[LossSpec]) -> tuple[list[LossSpec], str]:
    """Soft targets (k target columns) have no class label, so the defaults that need one
    (zero_one, nll, the hinges) are left out, said in the note; log-probabilities get cce_logits,
    as log_softmax(log p) = log p: the cross-entropy of the rows as given."""
    if not layout.target_columns:
        return specs, ""
    kept = [s for s in specs if s.loss.soft_targets]
    if not kept:  # log-probabilities: nll and zero_one both need labels
        kept = parse_specs(("cce_logits",))
    left_out = [s.label for s in specs if not s.loss.soft_targets]
    return kept, f" with soft targets; {', '.join(left_out)} left out, as soft targets hold no class label"


def _check_resolution(spec: LossSpec) -> None:
    """A clipping eps so small that 1 - eps == 1 in float64 clips nothing at the top: say so
    rather than report a number that looks clipped and is not."""
    eps = spec.params.get("eps")
    if isinstance(eps, float) and eps > 0 and 1.0 - eps == 1.0:
        raise OptionError(
            f"{spec.label}: eps={eps:g} is below what float64 resolves next to 1 (1 - eps == 1), so a "
            "prediction of 1 would not be clipped; use eps=1e-16 or larger (auto is 2.2e-16)"
        )
