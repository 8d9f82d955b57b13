"""Resolve: the columns' roles and the losses, decided once from the schema and a sample."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from ..request import Request, ignore_label
from ..spec import LossSpec, parse_specs
from .layout import Layout, check_distributions, resolve_layout
from .source import Source


@dataclass
class Plan:
    """What to compute: the layout and the losses, with notes on what was inferred."""

    source: str
    layout: Layout
    specs: list[LossSpec]
    notes: list[str]


def make_plan(source: Source, request: Request) -> Plan:
    """Resolve the columns' roles and the losses (defaults from the task when none are given)."""
    specs = list(request.losses)
    layout = resolve_layout(source, specs, request)
    notes = list(layout.notes)
    if not specs:
        specs = parse_specs(default_losses(layout, source))
        notes.append(f"losses: {', '.join(s.label for s in specs)} (default for {layout.task}; choose with --loss)")
    notes += check_distributions(layout, specs)
    if layout.target_columns and ignore_label(specs) is not None:
        raise OptionError("ignore_index leaves out rows by their class label; soft targets (k columns) have none")
    baseline = request.stats.baseline
    if baseline is not None and baseline not in [m.name for m in layout.models]:
        raise OptionError(
            f"{request.flag('baseline')} {baseline!r} is not a model in {source.name} "
            f"(models: {', '.join(m.name for m in layout.models)})"
        )
    return Plan(source.name, layout, specs, notes)


def default_losses(layout: Layout, source: Source) -> tuple[str, ...]:
    """The losses most people report for the task; scores get score losses, not bce."""
    if layout.task == "regression":
        kinds = {m.kind for m in layout.models}
        if kinds == {"gaussian"}:
            return ("crps", "gaussian_nll", "mse", "mae")
        if kinds == {"quantiles"}:
            return ("quantile", "interval_score", "coverage")
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
