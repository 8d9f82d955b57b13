"""Threshold gates for CI jobs: --fail-above LOSS=VALUE and --fail-if-worse."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import LossCliError, OptionError
from .evaluation import Evaluation
from .report import resolve_label


@dataclass(frozen=True)
class Threshold:
    """``[MODEL:]LOSS=VALUE``: the loss must not exceed VALUE (for MODEL, or every model)."""

    text: str
    target: str
    limit: float


def parse_threshold(text: str) -> Threshold:
    """Check the syntax before any data is read; the loss is resolved after the run."""
    target, sep, raw = text.rpartition("=")
    if not sep or not target.strip():
        raise OptionError(f"--fail-above takes LOSS=VALUE or MODEL:LOSS=VALUE, got {text!r}")
    try:
        limit = float(raw)
    except ValueError:
        raise OptionError(f"--fail-above {text!r}: {raw!r} is not a number") from None
    if math.isnan(limit):
        raise OptionError(f"--fail-above {text!r}: the limit must be a number, not nan")
    return Threshold(text, target.strip(), limit)


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
        for r in overall:
            if r.model in models and r.loss == label and not r.value <= threshold.limit:
                found.append(
                    f"{r.model}: {label} = {r.value!r} is above {threshold.limit!r} (--fail-above {threshold.text})"
                )
    if fail_if_worse:
        if ev.options.baseline is None:
            raise OptionError("--fail-if-worse needs --baseline MODEL to compare with")
        for r in overall:
            if r.verdict == "worse":
                found.append(
                    f"{r.model}: {r.loss} is significantly worse than {ev.options.baseline} "
                    f"(delta {r.delta!r}, p = {r.p_value:.3g}) (--fail-if-worse)"
                )
    return found
