"""The advise pass: source -> batches -> diagnostics state -> Diagnosis, in one pass.

It reads exactly as ``eval`` does (the same plan, extractor, checks and batches);
instead of a fixed list of losses it computes every registry loss that applies to
the task and the kind of predictions, drops (with the reason) a loss the data
falls outside of, and fills the diagnostics state of ``core.diagnose``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..core.compute import batch_losses
from ..core.diagnose import Diagnosis, DiagnosticsState, ModelBatch, finish
from ..errors import BadValueError, EmptyInputError, OptionError
from ..losses import REGISTRY
from ..read.checks import ROW_SUM_TOLERANCE, check_batch
from ..read.extract import BatchArrays, Extractor
from ..read.layout import Layout
from ..read.plan import Plan, make_plan
from ..read.prefetch import prefetched
from ..request import Request
from ..spec import LossSpec, parse_spec
from .local import _sliced

if TYPE_CHECKING:
    import pyarrow as pa

    from ..read.source import Source
    from . import ProgressFactory


# The prediction kinds of each task, and which registry losses rank them.
PROBABILITY_KINDS = ("probability",)
SCORE_KINDS = ("logit", "score")
PRIMARY = {
    ("regression", "values"): "mse",
    ("binary", "probabilities"): "bce",
    ("binary", "scores"): "bce_logits",
    ("multiclass", "probabilities"): "cce",
    ("multiclass", "scores"): "cce_logits",
}


def candidate_specs(task: str, kind: str) -> list[LossSpec]:
    """Every registry loss of the task that takes this kind of prediction, with default parameters."""
    if task == "regression":
        # Losses of one number a row, lower is better: not skill scores (D2), not distribution scores.
        return [
            parse_spec(loss.name)
            for loss in REGISTRY
            if loss.task == "regression" and loss.pred_shape == "point" and not loss.higher_is_better
        ]
    wanted = PROBABILITY_KINDS if kind == "probabilities" else SCORE_KINDS
    specs = [
        parse_spec(loss.name)
        for loss in REGISTRY
        if task in loss.tasks and loss.pred_kind in wanted and loss.name != "zero_one"
    ]
    # zero_one reads scores: its threshold is 0.5 for probabilities, 0 for scores (binary only).
    if task == "binary":
        specs.append(parse_spec("zero_one" if kind == "probabilities" else "zero_one:threshold=0"))
    elif task == "multiclass":
        specs.append(parse_spec("zero_one"))
    return specs


def prediction_kinds(layout: Layout, sample: pa.Table, request: Request) -> dict[str, str]:
    """Per model, from the sample: values (regression), probabilities, or scores.

    Probabilities: every value in [0, 1] and, with several classes, every row summing
    to 1. The pass then checks that every row agrees, so the guess is never silently wrong.
    """
    if layout.task == "regression":
        return {m.name: "values" for m in layout.models}
    table = sample.select(list(dict.fromkeys(layout.columns))).combine_chunks()
    batch = table.to_batches()[0] if table.num_rows else None
    if batch is None:
        return {m.name: "probabilities" for m in layout.models}
    arrays = Extractor(layout, request.columns).extract(batch, 0)
    kinds = {}
    for model in layout.models:
        p = arrays.preds[model.name]
        ok = arrays.valid.get(model.name, np.ones(len(p), dtype=bool))
        p = p[ok]
        inside = bool(((p >= 0) & (p <= 1)).all())
        if inside and p.ndim == 2:
            inside = bool((np.abs(p.sum(axis=1) - 1.0) <= ROW_SUM_TOLERANCE).all())
        kinds[model.name] = "probabilities" if inside else "scores"
    return kinds


@dataclass
class AdvisePlan:
    """What the pass computes: the eval plan's layout, the kind per model, the candidate losses."""

    plan: Plan
    kinds: dict[str, str]
    specs: list[LossSpec]
    primary: str
    notes: list[str]


def make_advise_plan(plan: Plan, sample: pa.Table, request: Request) -> AdvisePlan:
    layout = plan.layout
    if layout.target_columns:
        raise OptionError(f"{plan.source}: advise needs one label per row, not soft target columns")
    shaped = [m for m in layout.models if m.kind != "point"]
    if shaped:
        # The losses eval takes for that kind: crps and gaussian_nll score a Gaussian, not quantiles.
        fits = "crps, gaussian_nll" if shaped[0].kind == "gaussian" else "quantile, interval_score, coverage"
        raise OptionError(
            f"{plan.source}: advise compares point predictions, and {shaped[0].describe()} predicts a distribution; "
            f"score it with eval ({fits}), or pick point models with --pred"
        )
    kinds = prediction_kinds(layout, sample, request)
    distinct = sorted(set(kinds.values()))
    if len(distinct) > 1:
        by_kind = "; ".join(f"{k}: {', '.join(m for m in kinds if kinds[m] == k)}" for k in distinct)
        raise OptionError(
            f"{plan.source}: advise compares models of one kind of prediction, but these differ ({by_kind}); "
            "choose models with --pred"
        )
    kind = distinct[0]
    notes = [n for n in plan.notes if not n.startswith("losses: ")]
    if layout.task != "regression":
        if kind == "probabilities":
            sums = ", rows summing to 1" if layout.task == "multiclass" else ""
            notes.append(f"predictions: probabilities (every value of the first rows in [0, 1]{sums})")
        else:
            notes.append("predictions: scores, read as logits (values outside [0, 1] in the first rows)")
    specs = candidate_specs(layout.task, kind)
    return AdvisePlan(plan, kinds, specs, PRIMARY[(layout.task, kind)], notes)


@dataclass
class Advice:
    """What the advise pass found: the diagnosis, with what was read and how."""

    source: str
    layout: Layout
    kinds: dict[str, str]
    diagnosis: Diagnosis
    notes: list[str]


def advise_request(request: Request, *, progress: ProgressFactory | None = None) -> Advice:
    """Open the request's inputs as eval does, run the advise pass, finish the diagnosis."""
    from ..read.inputs import open_inputs

    source, notes = open_inputs(request)
    plan = make_plan(source, request, choose_losses=False)  # advise judges the kinds and picks losses itself
    advise_plan = make_advise_plan(plan, source.sample, request)
    with progress(source) if progress is not None else contextlib.nullcontext() as advance:
        diagnosis = diagnose(source, advise_plan, request, progress=advance)
    diagnosis.baseline = request.stats.baseline
    said = [*notes, *advise_plan.notes]
    unbounded = [m for m, r in diagnosis.models.items() if not math.isfinite(r.metrics.get("rmse", 0.0))]
    if unbounded:
        said.append(
            f"{'model' if len(unbounded) == 1 else 'models'} {', '.join(unbounded)}: errors beyond float64 (inf), "
            f"so no error statistic of {'it' if len(unbounded) == 1 else 'them'} is finite (- in a table, null in JSON)"
        )
    if diagnosis.dropped:
        first = next(iter(diagnosis.dropped.values())).removeprefix(f"{plan.source}: ")
        said.append(f"not ranked under {', '.join(diagnosis.dropped)}: the data lies outside them ({first})")
    return Advice(plan.source, plan.layout, advise_plan.kinds, diagnosis, said)


def diagnose(
    source: Source, advise_plan: AdvisePlan, request: Request, *, progress: Callable[[int], None] | None = None
) -> Diagnosis:
    """One pass over ``source``: every batch checked, every candidate loss computed, state updated."""
    layout, specs = advise_plan.plan.layout, advise_plan.specs
    probabilities = frozenset(m for m, k in advise_plan.kinds.items() if k == "probabilities")
    models = tuple(m.name for m in layout.models)
    labels = tuple(s.label for s in specs)
    state = DiagnosticsState(layout.task, models, labels, advise_plan.primary, probabilities, top=request.output.top)
    extractor = Extractor(layout, request.columns)
    primary = next(s for s in specs if s.label == advise_plan.primary)
    columns = list(dict.fromkeys(layout.columns + ([layout.id] if layout.id else [])))
    for batch in _sliced(prefetched(source.batches(columns, layout.number_columns)), request.engine.chunk_rows):
        position = state.rows
        arrays = extractor.extract(batch, position)
        check_batch(layout, [primary], arrays)  # the kind seen in the first rows holds for every row
        active = _applicable(layout, specs, arrays, state)
        per_model = {
            m.name: ModelBatch(
                arrays.preds[m.name],
                arrays.valid.get(m.name),
                dict(
                    zip(
                        [s.label for s in active],
                        batch_losses(active, arrays.y_true, arrays.preds[m.name]),
                        strict=True,
                    )
                ),
            )
            for m in layout.models
        }
        with np.errstate(over="ignore", invalid="ignore"):
            state.update(arrays.y_true, arrays.weight, position, _ids_of(layout.ids(batch, position)), per_model)
        if progress is not None:
            progress(batch.num_rows)
    if state.rows == 0:
        raise EmptyInputError(f"{advise_plan.plan.source}: has a header but no data rows")
    if not any(s.sums and next(iter(s.sums.values()))[1] > 0 for s in state.per_model.values()):
        raise BadValueError(
            f"{advise_plan.plan.source}: the weights sum to zero; at least one row needs a positive weight"
        )
    # A residual beyond float64 (1e308 - -1e308) makes that model's statistics inf or nan:
    # expected, and said in a note by ``advise_request``, not as NumPy's warning. Only then: from
    # a state finite everywhere a nan is a fault, and its warning is not hidden.
    quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    with quiet if _beyond_float64(state) else contextlib.nullcontext():
        return replace(finish(state, {s.label: s.loss.finish for s in specs}), labels=dict(extractor.targets.labels))


def _beyond_float64(state: DiagnosticsState) -> bool:
    """Whether a model's sums or residual moments overflowed (to inf, or nan from inf - inf)."""
    for model in state.per_model.values():
        moments = model.residual
        if not all(math.isfinite(v) for v in (moments.mean, moments.m2, moments.m3, moments.m4, model.abs_sum)):
            return True
        if not all(np.isfinite(sums).all() for sums in model.sums.values()):
            return True
    return False


def _applicable(layout: Layout, specs: list[LossSpec], arrays: BatchArrays, state: DiagnosticsState) -> list[LossSpec]:
    """The specs every value of this batch lies within; the others are dropped for good, with the reason."""
    active = []
    for spec in specs:
        if spec.label in state.dropped:
            continue
        try:
            check_batch(layout, [spec], arrays)
        except BadValueError as exc:
            state.drop(spec.label, str(exc))
            continue
        active.append(spec)
    return active


def _ids_of(ids: pa.Array) -> Callable[[np.ndarray], list[object]]:
    def take(rows: np.ndarray) -> list[object]:
        return [ids[int(i)].as_py() for i in rows]

    return take
