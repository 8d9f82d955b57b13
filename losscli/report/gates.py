"""Gates for CI jobs: --fail-above LOSS=VALUE, --fail-if-worse, --fail-if-worse-by LOSS=AMOUNT.

Every gate applies to every row shown: the values over all data and, with
--by, each group's. The outcome is data (one ``Gate`` per rule, model and
group, in ``meta.gates``) before it is a message.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..core.finish import Result
from ..engines.evaluation import Evaluation
from ..errors import LossCliError, OptionError
from ..request import Threshold
from .summary import group_text, json_value, resolve_label


@dataclass(frozen=True)
class Gate:
    """One rule checked on one model (in one group): passed when the value is on the good side of
    the threshold (at or below it; at or above it for a skill score, where higher is better)."""

    rule: str  # as typed: "--fail-above mae=20"
    model: str
    loss: str
    group: dict[str, Any] | None
    value: float
    threshold: float | None  # None for --fail-if-worse, which is a test, not a limit
    passed: bool
    why: str  # the sentence printed when it failed

    def record(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "model": self.model,
            "loss": self.loss,
            "group": None if self.group is None else {k: json_value(v) for k, v in self.group.items()},
            "value": _finite(self.value),
            "threshold": _finite(self.threshold),
            "passed": self.passed,
        }

    def message(self) -> str:
        return f"{self.why} ({self.rule})"


def _finite(value: float | None) -> float | None:
    # JSON has no NaN or infinity.
    return value if value is not None and math.isfinite(value) else None


def _resolve(ev: Evaluation, threshold: Threshold, option: str) -> tuple[list[str], str]:
    """(models, label) a threshold applies to."""
    try:
        return ev.models, resolve_label(ev, threshold.target)
    except LossCliError:
        readings = _model_readings(ev, threshold.target)
        if len(readings) == 1 and threshold.target not in ev.models:
            model, label = readings[0]
            return [model], label
        if readings:
            raise OptionError(_ambiguous(ev, threshold, option, readings)) from None
        model, sep, loss = threshold.target.partition(":")
        if sep and model in ev.models:
            return [model], resolve_label(ev, loss)
        raise OptionError(
            f"{option} {threshold.text!r}: {threshold.target!r} names no loss of this run "
            f"({', '.join(s.label for s in ev.specs)}), nor MODEL:LOSS with a model of "
            f"{', '.join(ev.models)}"
        ) from None


def _model_readings(ev: Evaluation, target: str) -> list[tuple[str, str]]:
    """Every (model, loss) that MODEL:LOSS can mean: a model's name may hold ':' itself."""
    readings = []
    for at, char in enumerate(target):
        if char == ":" and target[:at] in ev.models:
            try:
                readings.append((target[:at], resolve_label(ev, target[at + 1 :])))
            except LossCliError:
                continue
    return readings


def _ambiguous(ev: Evaluation, threshold: Threshold, option: str, readings: list[tuple[str, str]]) -> str:
    """Two readings of MODEL:LOSS (or one, and the whole being a model's name): refused, never guessed."""
    limit = threshold.text.rpartition("=")[2]
    said = [f"model {model!r} at {label}" for model, label in readings]
    spelled = [f"'{model}:{label}={limit}' for the model {model!r}" for model, label in readings]
    if threshold.target in ev.models:
        said.append(f"the model {threshold.target!r}")
        spelled = [f"'{threshold.target}:{ev.specs[0].label}={limit}' for the model {threshold.target!r}"]
    return (
        f"{option} {threshold.text!r} is ambiguous, as a model's name holds ':': it reads as {' or as '.join(said)}; "
        f"write {' or '.join(spelled)}, and rename the model whose name holds ':' to gate the other alone"
    )


def _where(ev: Evaluation, r: Result) -> str:
    """``gbm`` over all rows, ``gbm [region=east]`` in a group."""
    if r.group is None:
        return r.model
    return f"{r.model} [{', '.join(f'{c}={v}' for c, v in zip(ev.stats.by, group_text(ev, r.group), strict=True))}]"


def _group(ev: Evaluation, r: Result) -> dict[str, Any] | None:
    return None if r.group is None else dict(zip(ev.stats.by, r.group, strict=True))


def _higher_is_better(ev: Evaluation, label: str) -> bool:
    return any(s.loss.higher_is_better for s in ev.specs if s.label == label)


def _above(ev: Evaluation, threshold: Threshold) -> Iterator[Gate]:
    rule = f"--fail-above {threshold.text}"
    models, label = _resolve(ev, threshold, "--fail-above")
    if _higher_is_better(ev, label):
        raise OptionError(
            f"--fail-above {threshold.text!r}: {label} is a skill score (higher is better), so a limit "
            "above which to fail would fail the good models; gate on its loss instead"
        )
    for r in ev.results:
        if r.model in models and r.loss == label:
            passed = r.value <= threshold.limit
            why = f"{_where(ev, r)}: {label} {_why(r, threshold.limit)}"
            yield Gate(rule, r.model, label, _group(ev, r), r.value, threshold.limit, passed, why)


def _worse_by(ev: Evaluation, threshold: Threshold) -> Iterator[Gate]:
    """Worse than the baseline (in the same group) by more than an amount, or a percentage of
    the baseline's value."""
    rule = f"--fail-if-worse-by {threshold.text}"
    models, label = _resolve(ev, threshold, "--fail-if-worse-by")
    base = {r.group: r.value for r in ev.results if r.model == ev.stats.baseline and r.loss == label}
    # Worse is higher for a loss, lower for a skill score.
    sign = -1.0 if _higher_is_better(ev, label) else 1.0
    amount = f"{threshold.limit:g}%" if threshold.relative else repr(threshold.limit)
    for r in ev.results:
        if r.model == ev.stats.baseline or r.model not in models or r.loss != label:
            continue
        b = base[r.group]
        if ev.rows_differ and r.delta is not None and math.isfinite(r.delta):
            yield _worse_by_on_shared_rows(ev, r, rule, threshold, sign, amount)
            continue
        margin = abs(b) * threshold.limit / 100 if threshold.relative else threshold.limit
        limit = b + sign * margin
        passed = sign * r.value <= sign * limit
        why = f"{_where(ev, r)}: {label} = {r.value!r} is worse than {ev.stats.baseline}'s {b!r} by more than {amount}"
        if math.isnan(b) or math.isnan(r.value):  # nothing to compare fails the gate, and says why
            missing = ev.stats.baseline if math.isnan(b) else r.model
            why = f"{_where(ev, r)}: {label} cannot be compared with {ev.stats.baseline}'s: {missing} has no value here"
        yield Gate(rule, r.model, label, _group(ev, r), r.value, limit, passed, why)


def _worse_by_on_shared_rows(
    ev: Evaluation, r: Result, rule: str, threshold: Threshold, sign: float, amount: str
) -> Gate:
    """With --nan drop, the models kept different rows: the margin is checked on the paired delta
    (the rows both kept), as the delta beside it is, not on values over different rows. The
    record then holds the delta and the margin."""
    delta, rel = r.delta or 0.0, r.delta_rel
    # delta_rel = delta / |baseline on the shared rows|; with delta 0 nothing is worse anyway.
    base = abs(delta / rel) if rel is not None and math.isfinite(rel) and rel != 0 else 0.0
    margin = base * threshold.limit / 100 if threshold.relative else threshold.limit
    passed = sign * delta <= margin
    why = (
        f"{_where(ev, r)}: {r.loss} is worse than {ev.stats.baseline}'s by {delta!r} on the rows both kept, "
        f"more than {amount}"
    )
    return Gate(rule, r.model, r.loss, _group(ev, r), sign * delta, margin, passed, why)


def _significantly_worse(ev: Evaluation) -> Iterator[Gate]:
    for r in ev.results:
        if r.verdict == "baseline" or r.model == ev.stats.baseline:
            continue
        p = r.p_value if r.p_value is not None else math.nan
        base = ev.result(ev.stats.baseline or "", r.loss, r.group).value
        if math.isnan(base) or math.isnan(r.value):
            # No verdict because one side has no value: never a silent pass, as --fail-above
            # and --fail-if-worse-by fail on the same data.
            missing = ev.stats.baseline if math.isnan(base) else r.model
            why = (
                f"{_where(ev, r)}: {r.loss} cannot be compared with {ev.stats.baseline}'s: {missing} has no value here"
            )
            yield Gate("--fail-if-worse", r.model, r.loss, _group(ev, r), r.value, None, False, why)
            continue
        if r.verdict is None:
            continue
        # A loss that went infinite or undefined where the baseline's did not is worse, whatever the test says.
        broken = not math.isfinite(r.value) and math.isfinite(base)
        why = (
            f"{_where(ev, r)}: {r.loss} = {r.value!r} is not finite, and {ev.stats.baseline}'s is {base!r}"
            if broken
            else f"{_where(ev, r)}: {r.loss} is significantly worse than {ev.stats.baseline} "
            f"(delta {r.delta!r}, p = {p:.3g})"
        )
        passed = r.verdict != "worse" and not broken
        yield Gate("--fail-if-worse", r.model, r.loss, _group(ev, r), r.value, None, passed, why)


def check_gates(ev: Evaluation) -> list[Gate]:
    """Every gate of the request on every row shown (all data, and each group shown)."""
    gates = ev.request.gates
    found: list[Gate] = []
    for threshold in gates.fail_above:
        found += _above(ev, threshold)
    for threshold in gates.fail_if_worse_by:
        found += _worse_by(ev, threshold)
    if gates.fail_if_worse:
        found += _significantly_worse(ev)
    return found


def breaches(ev: Evaluation) -> list[str]:
    """A sentence for every gate that failed."""
    return [g.message() for g in check_gates(ev) if not g.passed]


def _why(r: Result, limit: float) -> str:
    """Why a value fails its limit: above it, or no value at all (and why not)."""
    if r.n == 0:
        return "has no value: no row is left for this model (every row was dropped by --nan drop)"
    if math.isnan(r.value):
        return "is nan (not a number), so it cannot be shown to be at most the limit"
    return f"= {r.value!r} is above {limit!r}"
