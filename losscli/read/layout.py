"""Column roles: which columns are the target, each model's predictions, weight and id.

``resolve_layout`` looks at a source's schema and a small sample once and
decides; ``Layout.extract`` then turns every record batch into the same
per-model NumPy arrays, whatever the file looked like.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import pyarrow as pa

from ..errors import ColumnError, OptionError
from ..losses import TASKS, Task
from ..request import Columns, Request
from ..spec import LossSpec, format_value
from .arrow_numpy import row_numbers
from .dialect import DOT_GROUPS, comma_fix, dot_fix, is_number_in
from .source import Source, is_number, is_numeric

PANDAS_INDEX = re.compile(r"^(\s*|Unnamed: 0)$")
TARGET_NAMES = ("y_true", "y_test", "y", "target", "label", "actual", "truth")
ID_NAMES = ("id", "row_id", "index")
WEIGHT_NAMES = ("weight", "sample_weight", "weights")
# Schema metadata a reshaping (read/reshape.py) leaves: the models' columns, the columns that came
# along as context, and {column: model name} where a model's column could not bear its name.
MODELS_KEY = b"losscli.models"
CONTEXT_KEY = b"losscli.context"
NAMES_KEY = b"losscli.names"


@dataclass(frozen=True)
class Model:
    """One model's prediction columns: one column, or k class columns in class order, or a
    predictive distribution (MODEL.mean + MODEL.std/var; MODEL.q10, MODEL.q50, ...)."""

    name: str
    columns: tuple[str, ...]
    # A single list<number> column holding all k class probabilities (Parquet/Arrow).
    list_width: int = 0
    # point: one number a row; gaussian: columns (mean, std or var); quantiles: one column a
    # level, levels ascending (0.1 for q10).
    kind: Literal["point", "gaussian", "quantiles"] = "point"
    spread: Literal["", "std", "var"] = ""
    levels: tuple[float, ...] = ()

    @property
    def point_column(self) -> int | None:
        """Which column a point loss reads: the mean, the median (q50), or None (no median)."""
        if self.kind == "gaussian":
            return 0
        if self.kind == "quantiles":
            return next((i for i, q in enumerate(self.levels) if abs(q - 0.5) < 1e-12), None)
        return None

    def describe(self) -> str:
        if self.kind == "gaussian":
            return f"{self.name} (gaussian: {self.columns[0]}, {self.columns[1]})"
        return f"{self.name} (quantiles {', '.join(f'{100 * q:g}%' for q in self.levels)})"


@dataclass
class Layout:
    """The column roles of one source, and how to read one batch into arrays."""

    source: str
    task: Task
    target: str
    models: tuple[Model, ...]
    weight: str | None = None
    id: str | None = None
    classes: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    # Soft targets: one target column per class, in class order (``target`` is their prefix).
    target_columns: tuple[str, ...] = ()
    # Columns whose values split the rows into groups (--by).
    by: tuple[str, ...] = ()
    # The columns whose types the reader guessed from text (a CSV), and the decimal mark it read
    # with: a text cell there is judged by that reader's rules, never called "stored as text".
    guessed: frozenset[str] = frozenset()
    decimal: str | None = None

    @property
    def columns(self) -> list[str]:
        cols = list(self.target_columns) or [self.target]
        cols += [c for m in self.models for c in m.columns]
        cols += [c for c in (self.weight,) if c]
        cols += list(self.by)
        return list(dict.fromkeys(cols))

    @property
    def number_columns(self) -> list[str]:
        """The columns read as numbers: target, predictions, weight (not id or --by)."""
        return [c for c in self.columns if c not in self.by]

    def ids(self, batch: pa.RecordBatch, row_offset: int) -> pa.Array:
        """The id column of a batch, or 1-based row numbers where there is none."""
        if self.id is not None and self.id in batch.schema.names:
            return batch.column(self.id)
        return row_numbers(batch.num_rows, row_offset + 1)


@dataclass(frozen=True)
class _Roles:
    """The columns that are not predictions: found first, so the rest can be models."""

    target: str
    soft: tuple[str, ...]
    weight: str | None
    id: str | None
    by: tuple[str, ...]
    # The index pandas writes with a DataFrame (see pandas_index).
    index: tuple[str, ...] = ()

    @property
    def taken(self) -> set[str]:
        taken = {c for c in (self.target, self.weight, self.id, *self.soft, *self.by) if c}
        return taken | set(self.index)


def off_nominal(layout: Layout, spec: LossSpec, model: str, value: float) -> float | None:
    """How far ``value`` lies from the model's nominal level, for a loss that has one (coverage:
    1 - alpha of the model's own quantiles); None for every other loss. Ranks and verdicts read it."""
    if spec.loss.nominal is None:
        return None
    levels = next(m.levels for m in layout.models if m.name == model)
    return abs(value - spec.loss.nominal(levels, **spec.kernel_params))


def resolve_layout(source: Source, specs: Sequence[LossSpec], request: Request) -> Layout:
    """Assign every column a role and decide the task; say what was auto-detected."""
    names = source.schema.names
    dupes = sorted(n for n, count in Counter(names).items() if count > 1)  # O(columns), not O(columns^2)
    if dupes:
        raise ColumnError(f"{source.name}: the column name {dupes[0]!r} appears more than once")
    columns = request.columns
    roles = _find_roles(source, request)
    if not roles.soft and _is_list(source.schema.field(roles.target).type):
        raise ColumnError(
            f"{source.name}: the target {roles.target!r} holds several values per row (one-hot or soft targets); "
            "give class indices (y.argmax(axis=1)) or, for soft targets, one column per class (y.CLASS)"
        )
    notes: list[str] = []
    pred_cols = _find_predictions(source, request, roles, notes)
    _one_value_cells(source, request, roles, pred_cols)
    numbers = ([] if roles.soft else [roles.target]) + ([roles.weight] if roles.weight else [])
    for column in numbers:  # the columns read as numbers (the predictions were checked when found)
        refuse_other_notation(source, column, request.inputs.decimal)
    dist_models, pred_cols = distribution_models(pred_cols, columns.class_sep)
    task = _task_of(source, specs, request, roles, pred_cols, dist_models)
    notes += _classes_as_models(source, specs, task, roles.target, pred_cols)
    models, class_names = (
        _group_models(source, task, pred_cols, columns.class_sep, columns.classes) if pred_cols else ([], ())
    )
    if task == "binary" and not roles.soft:
        models = _class_pairs(source, roles.target, models, columns.class_sep, columns.positive, notes)
    models = _with_distributions(source, task, models, dist_models, notes)
    renamed = json.loads((source.schema.metadata or {}).get(NAMES_KEY, b"{}"))
    models = [replace(m, name=renamed.get(m.name, m.name)) if m.columns == (m.name,) else m for m in models]
    soft = roles.soft and _align_soft_target(source, roles.target, roles.soft, class_names, columns.class_sep)
    notes.insert(0, _detected(request, roles, task, models))
    notes += _task_notes(source, request, roles, task, class_names)
    if roles.index:
        shown = [f"column {c!r}" if c.strip() else "the first column (no name)" for c in roles.index]
        notes.insert(
            1,
            f"{' and '.join(shown)} {'looks' if len(shown) == 1 else 'look'} like the index pandas writes and "
            f"{'is' if len(shown) == 1 else 'are'} not {'a model' if len(shown) == 1 else 'models'} "
            "(--pred picks the models)",
        )
    return Layout(
        source=source.name,
        task=task,
        target=roles.target,
        models=tuple(models),
        weight=roles.weight,
        id=roles.id,
        classes=class_names,
        notes=notes,
        target_columns=soft,
        by=roles.by,
        guessed=frozenset(c for c in source.schema.names if source.guessed(c)),
        decimal=request.inputs.decimal,
    )


def _task_of(
    source: Source,
    specs: Sequence[LossSpec],
    request: Request,
    roles: _Roles,
    pred_cols: list[str],
    dist_models: list[Model],
) -> Task:
    """The task, from the losses or the data, with the options and columns it cannot take refused."""
    columns = request.columns
    if dist_models and not pred_cols:
        task: Task = "regression"
        _only_regression(source, specs, roles.target, dist_models)
    elif roles.soft:
        task = _soft_task(specs)
    else:
        task = _decide_task(source, specs, roles.target, pred_cols, columns, request)
    _check_task_options(source, request, roles, task)
    _one_value_per_row(source, specs, task, pred_cols)
    if task == "multiclass" and not roles.soft and not columns.classes:
        _bare_classes_named(source, specs, roles.target, pred_cols, columns.class_sep)
    return task


def _find_roles(source: Source, request: Request) -> _Roles:
    columns = request.columns
    target, soft = _find_target(source, columns.target, columns.class_sep, request)
    weight = _named(source, columns.weight, request.flag("weight")) if columns.weight else None
    if weight is not None and weight in (target, *soft):
        raise OptionError(f"{request.flag('weight')} {weight!r} is the target; weight the rows by another column")
    named = [_named(source, c, request.flag("by")) for c in request.stats.by]
    if columns.id:
        id_col: str | None = _named(source, columns.id, request.flag("id"))
        _id_alone(request, id_col, target, soft, weight, named)
    else:  # an id found by its name yields to a role the user gave it (-w id, --by id, -t id)
        id_col = auto_detect(source.schema.names, ID_NAMES)
        if id_col in (target, weight, *soft, *named):
            id_col = None
    by = tuple(dict.fromkeys(named))
    if len(by) < len(named):  # the results have one key per --by given: two naming one column misalign them
        twice = next(c for c in by if named.count(c) > 1)
        spelled = " and ".join(repr(g) for g, c in zip(request.stats.by, named, strict=True) if c == twice)
        raise OptionError(f"{request.flag('by')} names the column {twice!r} twice ({spelled}); give it once")
    for col in by:
        if col in (target, weight, *soft) or col in columns.preds:
            raise OptionError(
                f"{request.flag('by')} {col!r} is also the target, the weight or a prediction; group by another column"
            )
    # An index column --pred names (by name or glob) is a model: the user chose it.
    index = tuple(c for c in pandas_index(source.schema) if c not in (target, weight, id_col, *by))
    return _Roles(target, soft, weight, id_col, by, tuple(c for c in index if not matches_pred(c, columns.preds)))


def pred_parts(preds: Sequence[str]) -> list[str]:
    """The names and globs of --pred, each given alone or in a comma list."""
    return [p.strip() for pattern in preds for p in pattern.split(",") if p.strip()]


def matches_pred(column: str, preds: Sequence[str]) -> bool:
    """Whether --pred names ``column`` (by name or glob)."""
    return any(fnmatch.fnmatchcase(column, p) for p in pred_parts(preds))


_STORED_INDEX = re.compile(r"^__index_level_\d+__$")


def pandas_index(schema: pa.Schema) -> list[str]:
    """The columns that hold the index pandas wrote with a DataFrame: a nameless first column or
    'Unnamed: 0' (``to_csv``), ``__index_level_N__`` (``to_parquet``, ``pa.Table.from_pandas``),
    and any column the schema's pandas metadata lists among its ``index_columns`` (a named index)."""
    names = schema.names
    found = [names[0]] if names and PANDAS_INDEX.match(names[0]) else []
    found += [n for n in names if _STORED_INDEX.match(n)]
    try:
        listed = json.loads((schema.metadata or {}).get(b"pandas", b"{}")).get("index_columns", [])
    except (ValueError, AttributeError):  # metadata another writer spelled otherwise: names only
        listed = []
    found += [n for n in listed if isinstance(n, str) and n in names]  # a RangeIndex is a dict: no column
    return list(dict.fromkeys(found))


def _find_predictions(source: Source, request: Request, roles: _Roles, notes: list[str]) -> list[str]:
    """The prediction columns: as given by --pred, else every other column holding numbers."""
    meta = source.schema.metadata or {}
    if MODELS_KEY in meta:  # a reshaping (long, one file per model) made these the models
        return [c for c in json.loads(meta[MODELS_KEY]) if c not in roles.taken]
    context = set(json.loads(meta.get(CONTEXT_KEY, b"[]")))
    if request.columns.preds:
        pred_cols = _match_patterns(source, request.columns.preds, roles.taken, request.flag("preds"), request, roles)
        for name in pred_cols:
            refuse_other_notation(source, name, request.inputs.decimal)
    else:
        # A hive partition key (month=1) is a group, never a model; --truth columns are context.
        taken = roles.taken  # a property: built once here, not once per column
        candidates = [
            n for n in source.schema.names if n not in taken and n not in context and n not in source.partitions
        ]
        left = [n for n in source.schema.names if n in context and n not in taken]
        if left:
            notes.append(f"columns {_list(left)} of --truth are not models (--weight and --by can use them)")
        for name in candidates:
            refuse_other_notation(source, name, request.inputs.decimal)
        pred_cols = [n for n in candidates if _looks_numeric(source, n, request.inputs.decimal)]
        numeric = set(pred_cols)  # a set: membership per candidate is O(1), not O(models)
        skipped = [n for n in candidates if n not in numeric]
        # A column named like a weight or an id is never guessed to be a model, even when another
        # column has that role (--id linear leaves 'id' out, with a note, not scored as row numbers).
        unused_weight = [n for n in pred_cols if n.lower() in WEIGHT_NAMES]
        unused_id = [n for n in pred_cols if n.lower() in ID_NAMES]
        pred_cols = [n for n in pred_cols if n not in unused_weight and n not in unused_id]
        if skipped:
            notes.append(f"skipped non-numeric columns {_list(skipped)}")
        if unused_id:
            notes.append(
                f"column {unused_id[0]!r} looks like an id and is not a model"
                + (f" (the id is {roles.id!r})" if roles.id else "")
                + f"; name it with {request.flag('preds')} to evaluate it"
            )
        if unused_weight:
            notes.append(
                f"column {unused_weight[0]!r} looks like a weight and is not a model; "
                + (
                    f"the weight is {roles.weight!r}; name it with {request.flag('preds')} to evaluate it"
                    if roles.weight
                    else f"pass {request.flag('weight')} {unused_weight[0]} to use it"
                )
            )
    if not pred_cols:
        text = [
            n
            for n in source.schema.names
            if n not in roles.taken and not _looks_numeric(source, n, request.inputs.decimal)
        ]
        why = f" ({_what_they_hold(source, text[:5])})" if text else ""
        raise ColumnError(
            f"{source.name}: no prediction columns besides the target {roles.target!r}{why}; "
            f"name them with {request.flag('preds')}"
        )
    return pred_cols


def _what_they_hold(source: Source, names: list[str]) -> str:
    """What columns that are not numbers hold, by kind: "ts holds dates/times, not numbers; g is text"."""
    kinds: dict[str, list[str]] = {}
    for name in names:
        dtype = source.schema.field(name).type
        if pa.types.is_temporal(dtype):
            kind = "dates/times"
        elif _is_text(dtype) and not source.guessed(name):  # a CSV cell is text by nature: say no numbers
            kind = "text"
        else:
            kind = "other"
        kinds.setdefault(kind, []).append(name)
    parts = []
    for kind, cols in kinds.items():
        one = len(cols) == 1
        said = {
            "dates/times": f"{'holds' if one else 'hold'} dates/times, not numbers",
            "text": f"{'is' if one else 'are'} text",
            "other": f"{'holds' if one else 'hold'} no numbers",
        }[kind]
        parts.append(f"{', '.join(cols)} {said}")
    return "; ".join(parts)


def _check_task_options(source: Source, request: Request, roles: _Roles, task: Task) -> None:
    """Options that only apply to one task are refused on another; a text binary target needs
    its positive label named."""
    columns = request.columns
    if columns.positive is not None and task != "binary":
        raise OptionError(
            f"{request.flag('positive')} names the positive class of a binary task, but this task is {task}"
        )
    if columns.class_sep != "." and task != "multiclass":
        raise OptionError(
            f"{request.flag('class_sep')} splits MODEL{columns.class_sep}CLASS columns of a multiclass task, "
            f"but this task is {task}"
        )
    if columns.classes and task != "multiclass":
        raise OptionError(f"{request.flag('classes')} names the classes of a multiclass task, but this task is {task}")
    text_target = not roles.soft and not is_numeric(source.schema.field(roles.target).type)
    if task == "binary" and columns.positive is None and text_target:
        labels = _distinct(source.sample.column(roles.target))[:5]
        raise ColumnError(
            f"{source.name}: the target {roles.target!r} holds the labels {', '.join(repr(v) for v in labels)}; "
            f"name the positive one with {request.flag('positive')} LABEL"
        )


def _one_value_per_row(source: Source, specs: Sequence[LossSpec], task: Task, pred_cols: list[str]) -> None:
    """A list column (a 2-D array: rows x classes) is a multiclass model; refuse it elsewhere."""
    if task == "multiclass":
        return
    wide = next((c for c in pred_cols if _is_list(source.schema.field(c).type)), None)
    if wide is not None:
        asked = f"{', '.join(s.label for s in specs)} ({task})" if specs else f"a {task} task"
        raise ColumnError(
            f"{source.name}: {wide!r} holds several values per row (rows x classes), but {asked} takes one "
            "prediction per row; use a multiclass loss, or give one value per row (a 1-D array)"
        )


def _detected(request: Request, roles: _Roles, task: Task, models: Sequence[Model]) -> str:
    """The note that says which role every column got, and which were auto-detected."""
    columns = request.columns
    shown = f"{roles.target}{columns.class_sep}* (soft)" if roles.soft else roles.target
    detected = [f"target={shown}" + ("" if columns.target else " (auto)")]
    if roles.id:
        detected.append(f"id={roles.id}" + ("" if columns.id else " (auto)"))
    if roles.weight:
        detected.append(f"weight={roles.weight}")
    if roles.by:
        detected.append(f"by={','.join(roles.by)}")
    detected.append(f"task={task}")
    detected.append(f"models={_listed([m.name for m in models])}")
    return "columns: " + ", ".join(detected)


# A note is read by a person: thousands of model names would be one line of kilobytes.
NOTE_MODELS = 12


def _listed(names: list[str]) -> str:
    """The names, comma-separated; beyond NOTE_MODELS, the first and last few and how many in all.

    >>> _listed([f"m{i}" for i in range(20)])
    'm0,m1,m2,m3,m4,m5,...,m17,m18,m19 (20 models)'
    """
    if len(names) <= NOTE_MODELS:
        return ",".join(names)
    head, tail = names[: NOTE_MODELS // 2], names[-(NOTE_MODELS // 4) :]
    return f"{','.join(head)},...,{','.join(tail)} ({len(names)} models)"


# --- predictive distributions: MODEL.mean + MODEL.std (or .var); MODEL.q10, MODEL.q2.5, ... ---

_QUANTILE = re.compile(r"^q(\d+(?:\.\d+)?)$")


def distribution_models(pred_cols: list[str], sep: str) -> tuple[list[Model], list[str]]:
    """Models that predict a distribution, and the columns left for the usual layouts.

    MODEL{sep}mean with MODEL{sep}std or MODEL{sep}var is a Gaussian; two or more
    MODEL{sep}qP columns (P the percent, decimals allowed: q2.5) are quantiles.
    """
    if not sep:
        return [], pred_cols
    by_model: dict[str, dict[str, str]] = {}
    for col in pred_cols:
        model, found, suffix = _split_distribution(col, sep)
        if found:
            by_model.setdefault(model, {})[suffix] = col
    models: list[Model] = []
    for model, parts in by_model.items():
        built = _gaussian(model, parts) or _quantiles(model, parts)
        if built is not None:
            models.append(built)
    used = {c for m in models for c in m.columns}
    return models, [c for c in pred_cols if c not in used]


def _split_distribution(col: str, sep: str) -> tuple[str, bool, str]:
    """'m.q2.5' -> ('m', True, 'q2.5'); 'm.mean' -> ('m', True, 'mean'); others not found."""
    for suffix in ("mean", "std", "var"):
        if col.endswith(sep + suffix) and len(col) > len(sep + suffix):
            return col[: -len(sep + suffix)], True, suffix
    head, _, tail = col.rpartition(sep + "q")
    if head and _QUANTILE.match("q" + tail):
        return head, True, "q" + tail
    return col, False, ""


def _gaussian(model: str, parts: dict[str, str]) -> Model | None:
    spreads = [s for s in ("std", "var") if s in parts]
    if "mean" not in parts or len(spreads) != 1 or any(k.startswith("q") for k in parts):
        return None
    spread = spreads[0]
    return Model(model, (parts["mean"], parts[spread]), kind="gaussian", spread=spread)


def _quantiles(model: str, parts: dict[str, str]) -> Model | None:
    levels = {float(k[1:]) / 100.0: c for k, c in parts.items() if k.startswith("q")}
    # One column (m.q90) is a quantile model too, of one level: its pinball loss is at 0.9, and a
    # point loss, which needs a median, refuses it.
    if not levels or len(levels) != len(parts) or not all(0.0 < q < 1.0 for q in levels):
        return None
    ordered = sorted(levels)
    return Model(model, tuple(levels[q] for q in ordered), kind="quantiles", levels=tuple(ordered))


def check_distributions(layout: Layout, specs: Sequence[LossSpec]) -> list[str]:
    """Refuse a loss a model's kind of prediction cannot feed; say what each loss reads."""
    from ..losses.probabilistic import central_interval

    notes: list[tuple[str, str]] = []  # (loss label, what it reads), merged per reading below
    for spec in specs:
        loss = spec.loss
        for model in layout.models:
            if loss.pred_shape != "point" and model.kind != loss.pred_shape:
                need = {
                    "gaussian": "a Gaussian: columns MODEL.mean and MODEL.std (or MODEL.var)",
                    "quantiles": "quantiles: columns MODEL.q10, MODEL.q50, MODEL.q90, ... (percent after q)",
                }[loss.pred_shape]
                raise OptionError(f"{spec.label} needs {need}; model {model.name!r} has {_kind_words(model)}")
        if loss.pred_shape == "quantiles":
            for model in layout.models:
                found = central_interval(model.levels, spec.params.get("alpha"))
                if found is None:
                    raise OptionError(_no_interval(spec, model))
                i, j, a = found
                notes.append(
                    (
                        spec.label,
                        f"on {model.name}: the central {100 * (1 - a):g}% interval "
                        f"{model.columns[i]}..{model.columns[j]} (nominal coverage {1 - a:g})",
                    )
                )
        elif loss.pred_shape == "point":
            notes += [(spec.label, text) for text in _point_reads(spec, layout.models)]
    merged: dict[str, list[str]] = {}
    for label, text in notes:
        merged.setdefault(text, []).append(label)
    return [f"{', '.join(labels)} {text}" for text, labels in merged.items()]


def _point_reads(spec: LossSpec, models: Sequence[Model]) -> list[str]:
    """What a point loss reads from each distribution model: the mean, the median, the whole set."""
    notes = []
    for model in models:
        if model.kind == "point":
            continue
        if model.kind == "quantiles" and spec.loss.on_quantiles is not None:
            if any(k == "alpha" for k, _ in spec.given):
                raise OptionError(
                    f"{spec.label} on the quantile set of {model.name!r} averages the pinball loss over its "
                    "own levels; leave out alpha"
                )
            notes.append(
                f"on {model.name}: the pinball loss at its level {model.levels[0]:g}"
                if len(model.levels) == 1
                else f"on {model.name}: the pinball loss averaged over its {len(model.levels)} levels"
            )
            continue
        index = model.point_column
        if index is None:
            levels = ", ".join(f"q{100 * q:g}" for q in model.levels)
            raise OptionError(
                f"{spec.label} needs one prediction a row, and model {model.name!r} has quantiles without a median "
                f"(q50), only {levels}, and a quantile other than the median is no point prediction; add the "
                f"median, or use quantile{', interval_score or coverage' if len(model.levels) > 1 else ''}"
            )
        what = "mean" if model.kind == "gaussian" else "median"
        notes.append(f"on {model.name}: its {what} {model.columns[index]}")
    return notes


def _kind_words(model: Model) -> str:
    if model.kind == "point":
        return "one prediction a row" if len(model.columns) == 1 else "class columns"
    return model.describe().split("(", 1)[1].rstrip(")")


def _no_interval(spec: LossSpec, model: Model) -> str:
    given = spec.params.get("alpha")
    levels = ", ".join(f"q{100 * q:g}" for q in model.levels)
    if given is None:
        return (
            f"{spec.label}: model {model.name!r} has no symmetric pair of quantiles (q10 and q90, ...) among {levels}"
        )
    low, high = 100 * float(given) / 2, 100 * (1 - float(given) / 2)
    return f"{spec.label}: model {model.name!r} needs columns q{low:g} and q{high:g} for alpha={given}; it has {levels}"


def _only_regression(source: Source, specs: Sequence[LossSpec], target: str, dist_models: list[Model]) -> None:
    """A predictive distribution is of a number: a binary or multiclass loss cannot score it (read as
    its mean, bce of a forecast is a 'log loss' below 0). Refused naming the loss, the models and the
    first target value that is no label."""
    loss = next((s for s in specs if "regression" not in s.loss.tasks), None)
    if loss is None:
        return
    tasks = loss.loss.tasks
    need = (
        "a probability (or score) a row and a target of labels 0/1"
        if "binary" in tasks
        else "one column per class (MODEL.CLASS) and a target of class labels"
    )
    raise ColumnError(
        f"{source.name}: {loss.label} is a {'/'.join(tasks)} loss and needs {need}, but "
        f"{_list([m.describe() for m in dist_models])} predict distributions of a number"
        f"{_not_a_label(source, target, 'binary' in tasks)}; score them with a regression loss "
        "(crps, gaussian_nll, quantile, interval_score, mse, ...)"
    )


def _not_a_label(source: Source, target: str, binary: bool) -> str:
    """' and column 'y' holds 493.2 in row 1' for the first sampled target that no label reads as."""
    if target not in source.sample.schema.names or not is_numeric(source.sample.schema.field(target).type):
        return ""
    for row, value in enumerate(source.sample.column(target).to_pylist()):
        if value is None or value != value:
            continue
        fits = value in (0, 1, -1) if binary else float(value).is_integer() and value >= 0
        if not fits:
            return f", and column {target!r} holds {_shown(value)} in row {row + 1}"
    return ""


def _with_distributions(
    source: Source, task: Task, models: list[Model], dist_models: list[Model], notes: list[str]
) -> list[Model]:
    """Point or class models and distribution models together, in file order, said in a note."""
    if not dist_models:
        return models
    if task != "regression":
        raise ColumnError(
            f"{source.name}: {_list([m.describe() for m in dist_models])} predict distributions of a number, "
            f"but the task is {task}; pick the other columns with --pred"
        )
    notes.append("predictive distributions: " + ", ".join(m.describe() for m in dist_models))
    return _in_file_order(source, [*models, *dist_models])


def _in_file_order(source: Source, models: list[Model]) -> list[Model]:
    """Models in the order their first column appears in the file."""
    position = {name: i for i, name in enumerate(source.schema.names)}
    return sorted(models, key=lambda m: min(position.get(c, len(position)) for c in m.columns))


def _task_notes(source: Source, request: Request, roles: _Roles, task: Task, classes: tuple[str, ...]) -> list[str]:
    """What the task was inferred from, and how a numeric target maps to classes, when guessed."""
    notes: list[str] = []
    target = roles.target
    if roles.soft or not is_numeric(source.schema.field(target).type):
        return notes
    values = _distinct(source.sample.column(target))
    if task == "binary" and not request.losses and request.columns.positive is None:
        notes.append(
            f"task: binary, as the target {target!r} holds only {', '.join(map(_shown, sorted(values)))} "  # type: ignore[type-var]
            "(1 is the positive class); a regression loss such as mse makes it regression"
        )
    elif task == "regression" and len(values) == 2 and not request.losses:
        low, high = sorted(values)  # type: ignore[type-var]
        notes.append(
            f"task: regression, though the target {target!r} holds only {_shown(low)} and {_shown(high)}; if it is a "
            f"binary label, give {request.flag('positive')} {_shown(high)}"
        )
    if task == "multiclass" and not request.columns.classes and not all(_int_text(c) for c in classes):
        order = ", ".join(f"{i} = {c}" for i, c in enumerate(classes[:6])) + (", ..." if len(classes) > 6 else "")
        notes.append(
            f"classes: the target {target!r} holds class indices, read in column order ({order}); "
            f"{request.flag('classes')} states the class of each column"
        )
    return notes


def _shown(value: object) -> str:
    return format_value(float(value)) if isinstance(value, int | float) else str(value)


def _int_text(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _id_alone(
    request: Request, id_col: str | None, target: str, soft: tuple[str, ...], weight: str | None, by: list[str]
) -> None:
    """--id names a column of its own: the target, the weight or a group column given as the id too would
    be read twice over (the target's rows matched by themselves, an id weighting the rows)."""
    flag = request.flag("id")
    if id_col in (target, *soft):
        if request.columns.target is None:
            raise OptionError(
                f"{flag} {id_col!r} is the target column (found by its name); give the id another column, "
                f"or name the target with {request.flag('target')}"
            )
        raise OptionError(f"column {id_col!r} is given as both {request.flag('target')} and {flag}; give it one role")
    for option, column in (("weight", weight), *(("by", c) for c in by)):
        if id_col == column:
            raise OptionError(f"column {id_col!r} is given as both {flag} and {request.flag(option)}; give it one role")


def _find_target(source: Source, target: str | None, sep: str, request: Request) -> tuple[str, tuple[str, ...]]:
    """The target column, or the prefix of k soft-target columns (``y.cat``, ``y.dog``)."""
    names = source.schema.names
    if target:
        if target in names or any(n.lower() == target.lower() for n in names):
            return _named(source, target, request.flag("target")), ()
        group = tuple(n for n in names if sep and n.startswith(target + sep))
        if len(group) > 1:
            return target, group
        return _named(source, target, request.flag("target")), ()
    found = auto_detect(names, TARGET_NAMES)
    if found is not None:
        also = [n for n in names if n.lower() in TARGET_NAMES and n != found]
        if also:
            raise ColumnError(
                f"{source.name}: columns {found!r} and {also[0]!r} both look like the target; "
                f"name it with {request.flag('target')} (the other is then a model, or pick models with "
                f"{request.flag('preds')})"
            )
        return found, ()
    for prefix in TARGET_NAMES:
        group = tuple(n for n in names if sep and n.lower().startswith(prefix + sep))
        if len(group) > 1:
            return group[0][: len(prefix)], group
    raise ColumnError(
        f"{source.name}: no target column found (looked for {', '.join(TARGET_NAMES)}); "
        f"name it with {request.flag('target')} (columns: {_list(names)})"
    )


def _soft_task(specs: Sequence[LossSpec]) -> Task:
    unable = [s.label for s in specs if "multiclass" not in s.loss.tasks or not s.loss.soft_targets]
    if unable:
        raise OptionError(
            f"{unable[0]} cannot take soft targets (k target columns); use cce, cce_logits, kl_div "
            "or brier, or give the target as class labels"
        )
    return "multiclass"


def _align_soft_target(
    source: Source, prefix: str, columns: tuple[str, ...], classes: tuple[str, ...], sep: str
) -> tuple[str, ...]:
    by_class = {c[len(prefix) + len(sep) :]: c for c in columns}
    if set(by_class) != set(classes):
        raise ColumnError(
            f"{source.name}: the soft target columns {prefix}{sep}* have classes {_list(list(by_class))} but "
            f"the models have {_list(list(classes))}; they must be the same"
        )
    return tuple(by_class[c] for c in classes)


def _decide_task(
    source: Source, specs: Sequence[LossSpec], target: str, pred_cols: list[str], columns: Columns, request: Request
) -> Task:
    sep, positive = columns.class_sep, columns.positive
    by_name = [cols for cols in _groups(pred_cols, sep).values() if len(cols) > 1]
    grouped = bool(by_name) or any(_is_list(source.schema.field(c).type) for c in pred_cols)
    if by_name and positive is None and (not specs or len({t for s in specs for t in s.loss.tasks}) > 1):
        _not_binary_columns(source, target, by_name[0], sep)
    if specs:
        allowed = [t for t in TASKS if all(t in s.loss.tasks for s in specs)]
        if not allowed:
            by_task = "; ".join(f"{s.label} is {'/'.join(s.loss.tasks)}" for s in specs)
            raise OptionError(f"these losses do not share a task ({by_task}); run them separately")
        if len(allowed) == 1:
            return allowed[0]
        # A loss that serves several tasks: let the data decide among them.
        guess = _guess_task(source, target, grouped, positive, pred_cols)
        return guess if guess in allowed else allowed[0]
    if by_name:
        _not_class_indices(source, target, by_name[0], sep, columns.classes, request)
    if columns.classes and positive is None and len(pred_cols) > 1:
        return "multiclass"  # --classes states one model's class columns: the task it names
    return _guess_task(source, target, grouped, positive, pred_cols)


def _not_class_indices(
    source: Source, target: str, group: list[str], sep: str, classes: Sequence[str], request: Request
) -> None:
    """``lgbm.v1, lgbm.v2`` read as one model's classes need a target of class indices (or of the
    class names); a target of 1.5 or 7 says the dots only name models: say so, never read it wrong.
    Columns named by integers (m.1, m.2, m.3) are matched to the target by value: a target of
    0..2 is then a numbering that differs from the names, said as such (never "regression")."""
    dtype = source.schema.field(target).type
    if not is_numeric(dtype) or pa.types.is_boolean(dtype):
        return
    names = list(classes) or [c.rsplit(sep, 1)[1] for c in group]
    named = all(_is_int_name(n) for n in names)
    cells = source.sample.column(target).to_pylist()
    values = [(row, v) for row, v in enumerate(cells) if v is not None and v == v]
    index = all(float(v).is_integer() and 0 <= v < len(names) for _, v in values)
    for row, v in values:
        fits = float(v) in {float(n) for n in names} if named else float(v).is_integer() and 0 <= v < len(names)
        if fits:
            continue
        if named and all(float(x).is_integer() for _, x in values):
            raise ColumnError(
                f"{source.name}: the columns {', '.join(group[:3])} name the classes {_list(names, 3)}, but the "
                f"target {target!r} holds {format_value(float(v))} in row {row + 1}, which names no column; "
                f"{renumbering(len(names), index, request.given)}"
            )
        raise ColumnError(
            f"{source.name}: the columns {', '.join(group[:3])} look like one model's classes, but the target "
            f"{target!r} holds {v!r} in row {row + 1}, not a class index; this looks like regression: "
            "pass -l mse (or another regression loss) to read each column as a model"
        )


def renumbering(k: int, index: bool, given: Callable[[str, str], str]) -> str:
    """The fix for class columns named by integers that do not match the target's integers.

    >>> renumbering(3, True, lambda o, v: f"--{o} {v}")[35:109]
    'if the columns are the classes 0..2 in order, say so with --classes 0,1,2;'
    """
    if index:
        order = ",".join(map(str, range(k))) if k <= 4 else f"0,1,...,{k - 1}"
        return (
            f"the names do not match the target: if the columns are the classes 0..{k - 1} in order, say so with "
            f"{given('classes', order)}; else rename the columns after the target's values"
        )
    return (
        f"the names do not match the target: give the class of each column, in order, with "
        f"{given('classes', 'A,B,...')}, or rename the columns after the target's values"
    )


def _bare_classes_named(source: Source, specs: Sequence[LossSpec], target: str, pred_cols: list[str], sep: str) -> None:
    """Columns with no MODEL.CLASS prefix are one model's classes only where their names are the
    target's labels (or --classes says so): churn.csv's logreg, xgb, prior beside a 0/1 target are
    three models, and reading them as one model's classes would score something no one predicted."""
    if any(_is_list(source.schema.field(c).type) for c in pred_cols):
        return
    if any(sep and sep in c for c in pred_cols):  # MODEL.CLASS columns: the grouping's own checks
        return
    labels = _distinct(source.sample.column(target))
    if pa.types.is_boolean(source.schema.field(target).type):
        named = False  # a True/False target is binary: its False, True columns are one model's pair (_class_pairs)
    elif is_numeric(source.schema.field(target).type):
        ints = {float(c) for c in pred_cols if _is_int_name(c)}
        named = len(ints) == len(pred_cols) and all(float(v) in ints for v in labels)  # type: ignore[arg-type]
    else:
        named = set(map(str, labels)) <= set(pred_cols)
    if named:
        return
    asked = f"{specs[0].label} reads" if specs else "a multiclass task reads"
    shown = ", ".join(_shown(v) for v in labels[:5]) + (", ..." if len(labels) > 5 else "")
    numbers = [float(v) for v in labels if isinstance(v, int | float)]
    if numbers and set(numbers) <= {0.0, 1.0, -1.0}:
        instead = "for a binary target use a binary loss (bce, bce_logits, hinge)"
    elif numbers and not all(v.is_integer() for v in numbers):
        instead = "for a target of numbers use a regression loss (mse, mae, ...)"
    else:
        instead = "for separate models use a loss of one prediction a row"
    raise ColumnError(
        f"{source.name}: {asked} one model's class columns, but {_list(pred_cols, 5)} have no MODEL{sep}CLASS "
        f"prefix and are not named like the classes of the target {target!r} ({shown}), so they look like "
        f"separate models; {instead}, or name one model's class columns MODEL{sep}CLASS (or state the class "
        "of each column with --classes)"
    )


# Columns named like the target's labels are one model's class probabilities when every sampled row
# sums to 1 within this: an export rounded to 4 decimals is still one (cce later holds rows to 1e-6).
LABEL_COLUMNS_SUM = 1e-3


def _named_like_labels(source: Source, target: str, names: Sequence[str]) -> bool:
    """Whether ``names`` (column names, or the CLASS of MODEL.CLASS) are the target's labels: every
    sampled label among them, matched by value for a numeric target (0, 1, 2 or -1, 1)."""
    dtype = source.schema.field(target).type
    labels = _distinct(source.sample.column(target))
    if not labels:
        return False
    if pa.types.is_boolean(dtype):  # predict_proba's columns of a True/False target: False, True
        named = {_bool_name(n) for n in names}
        return None not in named and all(bool(v) in named for v in labels)
    if is_numeric(dtype):
        if not all(_is_int_name(n) for n in names):
            return False
        values = {float(n) for n in names}
        return all(float(v) in values for v in labels)  # type: ignore[arg-type]
    return {str(v) for v in labels} <= set(names)


def _classes_as_models(
    source: Source, specs: Sequence[LossSpec], task: Task, target: str, pred_cols: list[str]
) -> list[str]:
    """A regression loss asked for over columns that look like predict_proba's (named like the target's
    classes, rows summing to 1) scores each column as a model, as asked: said, with the other reading."""
    if task != "regression" or len(pred_cols) < 2 or not specs or not _named_like_labels(source, target, pred_cols):
        return []
    if _row_sums_off(source, pred_cols) is not None:
        return []
    return [
        f"columns {_list(pred_cols, 5)} are named like the classes of the target {target!r} and their rows sum "
        f"to 1, like one model's class probabilities; {specs[0].label} scores each as a model, as asked "
        "(a multiclass loss such as cce reads them as one model's classes)"
    ]


def _row_sums_off(source: Source, columns: Sequence[str]) -> tuple[int, float] | None:
    """The first sampled row (1-based) whose values do not sum to 1, with its sum; None when all do."""
    import numpy as np

    from .arrow_numpy import to_float64

    if not all(is_numeric(source.schema.field(c).type) for c in columns):
        return (1, float("nan"))
    sums = np.column_stack([to_float64(source.sample.column(c)) for c in columns]).sum(axis=1)
    off = np.flatnonzero(np.isfinite(sums) & (np.abs(sums - 1.0) > LABEL_COLUMNS_SUM))
    return (int(off[0]) + 1, float(sums[off[0]])) if off.size else None


def _class_pairs(
    source: Source, target: str, models: list[Model], sep: str, positive: str | None, notes: list[str]
) -> list[Model]:
    """Two columns named like a binary target's two labels (m.stay, m.churn; or bare 0, 1) are one model's
    class probabilities when their rows sum to 1: scored as one model by the positive class's column,
    never as two models of which one is the complement."""
    cols = [m.columns[0] for m in models]
    groups = _groups(cols, sep)
    if all(len(g) == 1 for g in groups.values()):
        pairs = {source.stem: (cols, cols)} if len(cols) == 2 else {}
    else:
        pairs = {m: (g, [c.rsplit(sep, 1)[1] for c in g]) for m, g in groups.items() if len(g) == 2}
    out = {m.columns[0]: m for m in models}
    for name, (pair, labels) in pairs.items():
        chosen = _positive_column(pair, labels, positive)
        if chosen is None or not _named_like_labels(source, target, labels):
            continue
        off = _row_sums_off(source, pair)
        if off is not None:
            notes.append(
                f"{pair[0]}, {pair[1]} are named like the target's labels, but their values in row {off[0]} sum to "
                f"{off[1]:.6g}, not 1: each is scored as a model of its own"
            )
            continue
        other = pair[1] if chosen == pair[0] else pair[0]
        notes.append(
            f"{name}: {pair[0]}, {pair[1]} are its two class probabilities (rows sum to 1), read as the "
            f"probability of the positive class {chosen!r} ({other!r} is its complement)"
        )
        out[pair[0]] = Model(name, (chosen,))
        del out[pair[1]]
    return list(out.values())


def _positive_column(pair: Sequence[str], labels: Sequence[str], positive: str | None) -> str | None:
    """The column of the positive label (1 where none is given), or None."""
    for col, label in zip(pair, labels, strict=True):
        if positive is None and ((_is_int_name(label) and int(label) == 1) or _bool_name(label) is True):
            return col
        if positive is not None and (label == positive or (_is_int_name(label) and _same_number(label, positive))):
            return col
    return None


def _bool_name(name: str) -> bool | None:
    """The truth value a column name stands for (True, true, 1; False, false, 0), or None."""
    return {"true": True, "1": True, "false": False, "0": False}.get(name.strip().lower())


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _is_int_name(name: str) -> bool:
    return name.lstrip("-").isdigit()


def _not_binary_columns(source: Source, target: str, group: list[str], sep: str) -> None:
    """``lr.l1, lr.l2`` beside a 0/1 target may be one model's two classes or two binary models
    with dotted names: the names do not tell, and the numbers differ, so say how to choose."""
    dtype = source.schema.field(target).type
    if not is_numeric(dtype) or pa.types.is_boolean(dtype):
        return
    values = set(_distinct(source.sample.column(target)))
    names = [c.rsplit(sep, 1)[1] for c in group]
    if not values or not (values <= {0, 1} or values <= {-1, 1}) or all(n.lstrip("-").isdigit() for n in names):
        return
    shown = "/".join(f"{v:g}" for v in sorted(float(str(v)) for v in values))
    raise ColumnError(
        f"{source.name}: the columns {', '.join(group[:3])} look like one model's classes, but the target "
        f"{target!r} holds only {shown}: read them as classes with a multiclass "
        "loss (-l cce or cce_logits), or each as a binary model with a binary loss (-l bce, bce_logits, hinge)"
    )


def _guess_task(source: Source, target: str, grouped: bool, positive: str | None, pred_cols: list[str]) -> Task:
    dtype = source.schema.field(target).type
    if positive is not None:
        return "binary"
    if grouped:
        return "multiclass"
    if not is_numeric(dtype):
        labels = _distinct(source.sample.column(target))
        if set(map(str, labels)) <= set(pred_cols):
            return "multiclass"  # bare class columns named after the labels
        shown = ", ".join(repr(v) for v in labels[:5])
        raise ColumnError(
            f"{source.name}: the target {target!r} holds the labels {shown}; for a binary task name the positive "
            "one with --positive LABEL, for a multiclass task give one prediction column per class (MODEL.CLASS)"
        )
    if pa.types.is_boolean(dtype):
        return "binary"  # columns False, True beside it: one model's pair, read by its True column (_class_pairs)
    if not grouped and len(pred_cols) > 1 and _named_like_labels(source, target, pred_cols):
        # scikit-learn's predict_proba as a DataFrame: columns 0, 1, 2 beside a target of 0..2.
        off = _row_sums_off(source, pred_cols)
        if off is None:
            return "multiclass"
        raise ColumnError(
            f"{source.name}: the columns {_list(pred_cols, 5)} are named like the classes of the target {target!r}, "
            f"but their values in row {off[0]} sum to {off[1]:.6g}, not 1, so they may be one model's class scores "
            "or separate models; say which with -l cce_logits (class scores), or a regression or binary loss "
            "(-l mse, -l bce: each column a model)"
        )
    sample = source.sample.column(target)
    values = set(_distinct(sample))
    if values and (values <= {0, 1} or values <= {-1, 1}):
        return "binary"
    return "regression"


def _groups(pred_cols: list[str], sep: str) -> dict[str, list[str]]:
    """Columns by model: ``MODEL{sep}CLASS`` columns grouped under MODEL, every other column alone."""
    grouped: dict[str, list[str]] = {}
    for col in pred_cols:
        if sep and sep in col:
            grouped.setdefault(col.rsplit(sep, 1)[0], []).append(col)
    lone = {col: [col] for col in pred_cols if not (sep and sep in col)}
    # A bare column named like a group's model ("m" beside "m.a") stays a group of its own.
    return grouped | {(k if k not in grouped else f"{k}\0"): v for k, v in lone.items()}


def _group_models(
    source: Source, task: Task, pred_cols: list[str], sep: str, classes: tuple[str, ...]
) -> tuple[list[Model], tuple[str, ...]]:
    if task != "multiclass":
        return [Model(c, (c,)) for c in pred_cols], ()
    lists = [c for c in pred_cols if _is_list(source.schema.field(c).type)]
    if lists:
        return _list_models(source, pred_cols, lists, classes)
    groups = _groups(pred_cols, sep)
    if all(len(cols) == 1 for cols in groups.values()):
        # Bare class columns (setosa, versicolor, ...): the whole file is one model.
        models = [(source.stem, {c: c for c in pred_cols})]
    else:
        lone = [cols[0] for cols in groups.values() if len(cols) == 1]
        if lone:
            raise ColumnError(
                f"{source.name}: column {lone[0]!r} is not part of a MODEL{sep}CLASS group; "
                "every multiclass model needs one column per class (or pick columns with --pred)"
            )
        models = [(m, {c.rsplit(sep, 1)[1]: c for c in cols}) for m, cols in groups.items()]
    names = tuple(models[0][1])
    for name, by_class in models[1:]:
        if set(by_class) != set(names):
            raise ColumnError(
                f"{source.name}: model {name!r} has classes {_list(list(by_class))} but "
                f"{models[0][0]!r} has {_list(list(names))}; every model needs the same classes"
            )
    built = [Model(name, tuple(by_class[c] for c in names)) for name, by_class in models]
    if classes:
        if len(classes) != len(names):
            raise OptionError(f"--classes names {len(classes)} classes but the models have {len(names)} columns each")
        if set(classes) & set(names) and tuple(classes) != tuple(names) and not _renumbered(classes, names):
            # The columns already name their classes: another order (or other names) would relabel them.
            raise OptionError(
                f"--classes {','.join(classes)} disagrees with the class columns' own names "
                f"({','.join(names)}); they already say which class each column is: drop --classes"
            )
        return built, classes  # the j-th column of each model is the class classes[j]
    return built, names


def _renumbered(classes: Sequence[str], names: Sequence[str]) -> bool:
    """Integer class names given for integer-named columns, as another set (columns 1..3, classes
    0..2): the numbering differs from the target's, and --classes states it; a reordering of the
    same names would silently relabel the columns, and stays refused."""
    ints = all(_is_int_name(c) for c in (*classes, *names))
    return ints and {int(c) for c in classes} != {int(c) for c in names}


def _list_models(
    source: Source, pred_cols: list[str], lists: list[str], classes: tuple[str, ...]
) -> tuple[list[Model], tuple[str, ...]]:
    """One list<number> column per model, k class probabilities in each row."""
    if len(lists) != len(pred_cols):
        other = next(c for c in pred_cols if c not in lists)
        raise ColumnError(
            f"{source.name}: column {other!r} is not a list column like {lists[0]!r}; "
            "pick the models' columns with --pred"
        )
    widths = set()
    for col in lists:
        first = next((v for v in source.sample.column(col).to_pylist() if v is not None), None)
        widths.add(len(first) if first is not None else 0)
    if len(widths) != 1 or 0 in widths:
        raise ColumnError(f"{source.name}: the list columns {_list(lists)} must all hold one number per class")
    k = widths.pop()
    if classes and len(classes) != k:
        raise OptionError(f"--classes names {len(classes)} classes but the list columns hold {k} values")
    return [Model(c, (c,), list_width=k) for c in lists], classes or tuple(str(i) for i in range(k))


def _named(source: Source, name: str, option: str) -> str:
    names: list[str] = source.schema.names
    if name in names:
        return name
    folded = [n for n in names if n.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    raise ColumnError(
        f"{source.name}: {option} names the column {name!r}, which is not there (columns: {_list(names)})"
    )


def auto_detect(names: Sequence[str], wanted: tuple[str, ...]) -> str | None:
    """The first of ``wanted`` (case-insensitive) among ``names``."""
    lowered = {n.lower(): n for n in reversed(names)}
    return next((lowered[w] for w in wanted if w in lowered), None)


def _match_patterns(
    source: Source,
    patterns: Sequence[str],
    taken: set[str],
    flag: str,
    request: Request | None = None,
    roles: _Roles | None = None,
) -> list[str]:
    names = [n for n in source.schema.names if n not in taken]
    chosen: list[str] = []
    for pattern in patterns:
        for part in filter(None, (p.strip() for p in pattern.split(","))):
            hits = [n for n in names if fnmatch.fnmatchcase(n, part)]
            other = next((n for n in sorted(taken) if fnmatch.fnmatchcase(n, part)), None)
            if not hits and other is not None and request is not None and roles is not None:
                raise OptionError(_two_roles(request, roles, other, flag))
            if not hits:
                raise ColumnError(f"{source.name}: {flag} {part!r} matches no column (columns: {_list(names)})")
            chosen += hits
    return list(dict.fromkeys(chosen))


def _two_roles(request: Request, roles: _Roles, name: str, flag: str) -> str:
    """Why a column named as a prediction is not one: it already has another role."""
    columns = request.columns
    given = (
        ("target", roles.target, columns.target),
        ("weight", roles.weight, columns.weight),
        ("id", roles.id, columns.id),
    )
    for option, column, text in given:
        if column == name and text is not None:
            return f"column {name!r} is given as both {request.flag(option)} and {flag}; give it one role"
        if column == name:
            return (
                f"column {name!r} is the {option} column (found by its name); name another with "
                f"{request.flag(option)} to score {name!r} as a prediction"
            )
    if name in roles.by:
        return f"column {name!r} is given as both {request.flag('by')} and {flag}; give it one role"
    if name in roles.soft:
        return f"column {name!r} is part of the target; it cannot also be {flag}"
    return f"column {name!r} is the index pandas wrote with the data; it cannot be {flag}"


def _distinct(column: pa.ChunkedArray) -> list[object]:
    """The distinct non-null values of a (sample) column, in first-seen order.

    Plain Python on at most SAMPLE_ROWS values: pyarrow.compute costs 25 ms to import.
    """
    return list(dict.fromkeys(v for v in column.to_pylist() if v is not None))


# The type checks below run once per column and type: 20,000 model columns share one type.
@functools.cache
def _nested(dtype: pa.DataType) -> str | None:
    """What a column holds when its cells hold several values each ("lists", "objects"), else None."""
    if pa.types.is_struct(dtype) or pa.types.is_map(dtype) or pa.types.is_union(dtype):
        return "objects"
    return "lists" if _holds_lists(dtype) else None


def _one_value_cells(source: Source, request: Request, roles: _Roles, pred_cols: list[str]) -> None:
    """A column of lists or objects (JSON Lines, Parquet) in a role that takes one value per row is
    refused by name; only a prediction may hold a list of numbers (a model's class probabilities)."""
    for col in roles.by:
        kind = _nested(source.schema.field(col).type)
        if kind:
            raise ColumnError(
                f"{source.name}: {request.flag('by')} {col}: column {col!r} holds {kind}; {request.flag('by')} "
                "needs one value per row (a string, number, date or bool)"
            )
    numbers = [("target", c) for c in (roles.soft or (roles.target,))] + [("weight", c) for c in [roles.weight] if c]
    for role, col in numbers + [("preds", c) for c in pred_cols]:
        dtype = source.schema.field(col).type
        kind = _nested(dtype)
        if kind and not (role == "preds" and _is_list(dtype)):
            wanted = "a number or a list of numbers" if role == "preds" else "a number"
            raise ColumnError(
                f"{source.name}: {request.flag(role)} {col}: column {col!r} holds {kind}; "
                f"{request.flag(role)} needs {wanted} per row"
            )


def _holds_lists(dtype: pa.DataType) -> bool:
    kinds = (pa.types.is_list, pa.types.is_large_list, pa.types.is_fixed_size_list)
    return any(kind(dtype) for kind in kinds)


@functools.cache
def _is_list(dtype: pa.DataType) -> bool:
    """A list of numbers per row: a model's k class probabilities in one column."""
    return _holds_lists(dtype) and is_numeric(dtype.value_type)


# Numbers written with a decimal comma (1,5 or 1.234,5) or thousands commas (1,000,000): another notation.
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*$|^\s*[+-]?\d{1,3}(,\d{3})+\s*$")


def refuse_other_notation(source: Source, name: str, decimal: str | None) -> None:
    """A text column whose cells are numbers with a decimal comma is an error naming the fix,
    never a column skipped as text (a model would vanish from the comparison). Only where the
    reader guessed the types (a CSV): a declared text column (Parquet, JSON Lines) is text."""
    if not source.guessed(name) or not _is_text(source.sample.schema.field(name).type):
        return
    cells = source.sample.column(name).to_pylist()[:1000]
    filled = [(i, c) for i, c in enumerate(cells) if c is not None and c.strip()]
    if decimal == ",":  # ',' is the decimal mark: a cell with '.' is what made the column text
        _refuse_dots(source, name, filled)
        return
    if filled and all(_DECIMAL_COMMA.match(c) or is_number(c) for _, c in filled):
        commas = [(i, c) for i, c in filled if _DECIMAL_COMMA.match(c)]
        if commas:
            row, cell = commas[0]
            in_file = source.format in ("csv", "tsv")
            raise ColumnError(
                f"{source.name}: column {name!r} holds {cell!r} in row {row + 1}"
                f"{comma_fix(cell, [c for _, c in filled], decimal, in_file)}"
            )


def _refuse_dots(source: Source, name: str, filled: list[tuple[int, str]]) -> None:
    """With --decimal , a column of numbers is text only for its '.' cells: name the first
    ('.'-grouped thousands before a stray decimal point), never a correct '1,5'."""
    if not filled or not all(is_number_in(c, ",") or is_number(c) or DOT_GROUPS.match(c) for _, c in filled):
        return  # text that is not numbers in either notation: skipped, or refused as text later
    odd = [(i, c) for i, c in filled if not is_number_in(c, ",")]
    grouped = [(i, c) for i, c in odd if DOT_GROUPS.match(c)]
    if not odd:  # the '.' cells lie past the cells looked at: the reading names them by row
        return
    row, cell = (grouped or odd)[0]
    raise ColumnError(f"{source.name}: column {name!r} holds {cell!r} in row {row + 1}{dot_fix(cell)}")


def _looks_numeric(source: Source, name: str, decimal: str | None) -> bool:
    """Numeric, or (where the reader guessed the types, as in a CSV) text in which some cells
    are numbers: a prediction column with a bad cell, which must be reported rather than skipped."""
    dtype = source.schema.field(name).type
    if _is_number_or_list(dtype):
        return True
    if not source.guessed(name):  # a declared text column is text, whatever its cells look like
        return False
    column = source.sample.column(name)
    if not _is_text(column.type):
        return False
    return any(is_number_in(cell, decimal) for cell in column.drop_null().to_pylist()[:1000])


@functools.cache
def _is_text(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


@functools.cache
def _is_number_or_list(dtype: pa.DataType) -> bool:
    return is_numeric(dtype) or _is_list(dtype)


def _list(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
