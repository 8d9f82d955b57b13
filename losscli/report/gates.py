"""Threshold gates for CI jobs: --fail-above LOSS=VALUE and --fail-if-worse."""

from __future__ import annotations

from collections.abc import Sequence

from ..engines.evaluation import Evaluation
from ..errors import LossCliError, OptionError
from ..request import Threshold
from .summary import resolve_label


def _resolve(ev: Evaluation, threshold: Threshold) -> tuple[list[str], str]:
    """(models, label) a threshold applies to."""
    try:
        return ev.models, resolve_label(ev, threshold.target)
    except LossCliError:
        model, sep, loss = threshold.target.partition(":")
        if sep and model in ev.models:
            return [model], resolve_label(ev, loss)
        raise OptionError(
            f"--fail-above {threshold.text!r}: {threshold.target!r} names no loss of this run "
            f"({', '.join(s.label for s in ev.specs)}), nor MODEL:LOSS with a model of "
            f"{', '.join(ev.models)}"
        ) from None


def breaches(ev: Evaluation, thresholds: Sequence[Threshold], fail_if_worse: bool = False) -> list[str]:
    """A sentence for every overall value above its threshold, and every model significantly
    worse than the baseline when ``fail_if_worse``."""
    found = []
    overall = [r for r in ev.results if r.group is None]
    for threshold in thresholds:
        models, label = _resolve(ev, threshold)
        if any(s.loss.higher_is_better for s in ev.specs if s.label == label):
            raise OptionError(
                f"--fail-above {threshold.text!r}: {label} is a skill score (higher is better), so a limit "
                "above which to fail would fail the good models; gate on its loss instead"
            )
        for r in overall:
            if r.model in models and r.loss == label and not r.value <= threshold.limit:
                found.append(
                    f"{r.model}: {label} = {r.value!r} is above {threshold.limit!r} (--fail-above {threshold.text})"
                )
    if fail_if_worse:
        for r in overall:
            if r.verdict == "worse":
                found.append(
                    f"{r.model}: {r.loss} is significantly worse than {ev.stats.baseline} "
                    f"(delta {r.delta!r}, p = {r.p_value:.3g}) (--fail-if-worse)"
                )
    return found
