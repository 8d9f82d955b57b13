"""What each model's predictions are: probabilities, log-probabilities or scores (logits).

Decided per model from the sample, said in a note, and used to choose the default losses
and zero_one's threshold. Models of different kinds are never given one set of defaults:
that would rank a probability model and a logit model on different scales.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import OptionError
from ..request import Request
from ..spec import LossSpec, parse_spec
from .arrow_numpy import list_to_matrix, to_float64
from .layout import Layout, Model
from .source import Source, is_numeric

Kind = Literal["probabilities", "log-probabilities", "scores"]
# A row of log-probabilities has logsumexp 0; of probabilities, sum 1 (as read/checks.py).
ROW_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ModelKind:
    """One model's kind and the evidence, for notes and messages."""

    model: str
    kind: Kind
    why: str


def model_kinds(layout: Layout, source: Source) -> list[ModelKind]:
    """The kind of every model's predictions, judged on the sample."""
    return [_kind(layout, model, _sample_matrix(source, model)) for model in layout.models]


def _sample_matrix(source: Source, model: Model) -> np.ndarray:
    """The model's sampled predictions, (n,) or (n, k); rows with a missing value left out."""
    if model.list_width:
        matrix, bad = list_to_matrix(source.sample.column(model.columns[0]))
        return matrix[~bad] if matrix.shape[1] else np.zeros((0, model.list_width))
    columns = []
    for name in model.columns:
        column = source.sample.column(name)
        columns.append(to_float64(column) if is_numeric(column.type) else np.full(len(column), np.nan))
    values = np.column_stack(columns) if len(columns) > 1 else columns[0]
    finite = np.isfinite(values) if values.ndim == 1 else np.isfinite(values).all(axis=1)
    kept: np.ndarray = values[finite]
    return kept


def _kind(layout: Layout, model: Model, values: np.ndarray) -> ModelKind:
    if not len(values):
        return ModelKind(model.name, "probabilities", "no value in the sample: assumed")
    outside = np.flatnonzero(((values < 0) | (values > 1)).reshape(len(values), -1).any(axis=1))
    if not outside.size:
        if values.ndim == 1 and np.isin(values, (0.0, 1.0)).all():
            return ModelKind(model.name, "probabilities", "only 0 and 1: hard labels, scored as certain probabilities")
        return ModelKind(model.name, "probabilities", "every value in [0, 1]")
    example = values[outside[0]]
    shown = f"{float(np.ravel(example)[np.argmax((example < 0) | (example > 1))])!r}"
    if values.ndim == 2 and (values <= 0).all():
        with np.errstate(under="ignore"):
            sums = np.exp(values).sum(axis=1)
        if (np.abs(sums - 1.0) <= ROW_SUM_TOLERANCE).all():
            return ModelKind(model.name, "log-probabilities", "every value <= 0, exp of each row sums to 1")
    return ModelKind(model.name, "scores", f"values outside [0, 1], e.g. {shown}")


def kinds_note(kinds: list[ModelKind]) -> str:
    by_kind: dict[str, list[ModelKind]] = {}
    for k in kinds:
        by_kind.setdefault(k.kind, []).append(k)
    parts = [f"{kind} ({', '.join(k.model for k in ks)}: {ks[0].why})" for kind, ks in by_kind.items()]
    return "predictions: " + "; ".join(parts)


def one_kind(kinds: list[ModelKind], request: Request, what: str) -> Kind:
    """The kind every model shares; models of different kinds are refused, naming each."""
    distinct = list(dict.fromkeys(k.kind for k in kinds))
    if len(distinct) == 1:
        return distinct[0]
    looks = "; ".join(f"{k.model} looks like {k.kind} ({k.why})" for k in kinds)
    raise OptionError(
        f"the models hold different kinds of predictions ({looks}), so {what} would compare them on "
        f"different scales; choose the losses with {request.flag('losses')} (e.g. bce for probabilities, "
        f"bce_logits for scores) or pick models of one kind with {request.flag('preds')}"
    )


def follow_kind(
    specs: list[LossSpec], kinds: list[ModelKind], request: Request, notes: list[str], binary: bool
) -> list[LossSpec]:
    """zero_one's binary threshold follows the predictions: 0.5 on probabilities, 0 on scores,
    unless given; a logits loss given probabilities is said in a note."""
    out: list[LossSpec] = []
    for spec in specs:
        if spec.name == "zero_one" and binary:
            spec = _threshold(spec, kinds, request, notes)
        probable = [k.model for k in kinds if k.kind == "probabilities"]
        if spec.loss.pred_kind == "logit" and probable:
            notes.append(
                f"{spec.label} reads the predictions of {', '.join(probable)} as logits, but every "
                f"value lies in [0, 1]: if they are probabilities, use {spec.name.removesuffix('_logits')}"
            )
        elif spec.loss.pred_kind == "score" and spec.name != "zero_one" and probable:
            notes.append(
                f"{spec.label} reads the predictions of {', '.join(probable)} as raw scores (a margin around 0), "
                "though every value lies in [0, 1]"
            )
        out.append(spec)
    return out


def _threshold(spec: LossSpec, kinds: list[ModelKind], request: Request, notes: list[str]) -> LossSpec:
    if "threshold" in dict(spec.given):
        notes.append(f"zero_one: class 1 where the prediction > {spec.params['threshold']} (given)")
        return spec
    kind = one_kind(kinds, request, "one zero_one threshold (give zero_one:threshold=T)")
    if kind != "probabilities":
        spec = parse_spec("zero_one:threshold=0")
    threshold = spec.params["threshold"]
    notes.append(
        f"zero_one: class 1 where the prediction > {threshold:g}, as the predictions are {kind} "
        "(zero_one:threshold=T sets it)"
    )
    return spec
