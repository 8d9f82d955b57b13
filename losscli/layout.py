"""Column roles: which columns are the target, each model's predictions, weight and id.

``resolve_layout`` looks at a source's schema and a small sample once and
decides; ``Layout.extract`` then turns every record batch into the same
per-model NumPy arrays, whatever the file looked like.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import BadValueError, ColumnError, OptionError
from .io import Source, is_numeric
from .losses import TASKS, Task
from .spec import LossSpec

TARGET_NAMES = ("y_true", "y", "target", "label", "actual", "truth")
ID_NAMES = ("id", "row_id", "index")
WEIGHT_NAMES = ("weight", "sample_weight", "weights")


@dataclass(frozen=True)
class Model:
    """One model's prediction columns: one column, or k class columns in class order."""

    name: str
    columns: tuple[str, ...]


@dataclass
class BatchArrays:
    """One batch as NumPy: target, weight (or None) and every model's predictions."""

    y_true: np.ndarray
    weight: np.ndarray | None
    preds: dict[str, np.ndarray]
    row_offset: int
    # Each --by column dictionary-encoded: (per-row index, distinct values).
    groups: list[tuple[np.ndarray, list[Hashable]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.y_true)


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
    # Binary targets may come as {0, 1}, {-1, 1} or booleans; never 0 and -1 together.
    _seen_zero: bool = False
    _seen_minus_one: bool = False

    @property
    def soft_target(self) -> bool:
        return bool(self.target_columns)

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
        numbers = np.arange(row_offset + 1, row_offset + batch.num_rows + 1, dtype=np.int64)
        return pa.Array.from_buffers(pa.int64(), len(numbers), [None, pa.py_buffer(numbers)])

    def extract(self, batch: pa.RecordBatch, row_offset: int) -> BatchArrays:
        """Convert one batch; raise BadValueError naming the first bad cell."""
        if self.target_columns:
            y_true = self._soft_target(batch, row_offset)
        else:
            y_true = self._target(batch.column(self.target), row_offset)
        weight = None
        if self.weight:
            weight = self._numeric(batch.column(self.weight), self.weight, row_offset)
            bad = np.flatnonzero(weight < 0)
            if bad.size:
                raise BadValueError(
                    f"{self.source}: column {self.weight!r}, row {row_offset + bad[0] + 1} "
                    f"holds the negative weight {float(weight[bad[0]])!r}; weights must be >= 0"
                )
        preds: dict[str, np.ndarray] = {}
        for model in self.models:
            arrays = [self._numeric(batch.column(c), c, row_offset) for c in model.columns]
            preds[model.name] = arrays[0] if self.task != "multiclass" else np.column_stack(arrays)
        groups = [_dictionary_codes(batch.column(c)) for c in self.by]
        return BatchArrays(y_true, weight, preds, row_offset, groups)

    def _numeric(self, column: pa.Array | pa.ChunkedArray, name: str, row_offset: int) -> np.ndarray:
        if not is_numeric(column.type):
            raise BadValueError(
                f"{self.source}: column {name!r}{_first_non_number(column, row_offset)} "
                "is not a number; fix the cell or choose other columns"
            )
        values = _to_float64(column)
        missing = np.flatnonzero(~np.isfinite(values))
        if missing.size:
            i = missing[0]
            what = "is missing (empty or NaN)" if np.isnan(values[i]) else f"is {float(values[i])!r}"
            count = f" (and at least {missing.size - 1} more)" if missing.size > 1 else ""
            raise BadValueError(
                f"{self.source}: column {name!r}, row {row_offset + i + 1} {what}{count}; "
                "every target, prediction and weight must be a finite number"
            )
        return values

    def _target(self, column: pa.Array | pa.ChunkedArray, row_offset: int) -> np.ndarray:
        if self.task == "multiclass":
            return self._class_indices(column, row_offset)
        values = self._numeric(column, self.target, row_offset)
        if self.task == "binary":
            return self._binary(values, row_offset)
        return values

    def _soft_target(self, batch: pa.RecordBatch, row_offset: int) -> np.ndarray:
        """k target columns: a probability distribution per row."""
        t = np.column_stack([self._numeric(batch.column(c), c, row_offset) for c in self.target_columns])
        bad = np.flatnonzero(((t < 0) | (t > 1)).any(axis=1) | (np.abs(t.sum(axis=1) - 1.0) > 1e-6))
        if bad.size:
            i = int(bad[0])
            raise BadValueError(
                f"{self.source}: the soft target columns {self.target}.* in row "
                f"{row_offset + i + 1} are not a distribution (values in [0, 1] summing to 1, got "
                f"{', '.join(f'{v:g}' for v in t[i])})"
            )
        return t

    def _binary(self, values: np.ndarray, row_offset: int) -> np.ndarray:
        bad = np.flatnonzero((values != 0) & (values != 1) & (values != -1))
        if bad.size:
            i = bad[0]
            raise BadValueError(
                f"{self.source}: column {self.target!r}, row {row_offset + i + 1} holds "
                f"{float(values[i])!r}; binary losses need labels 0/1 (or -1/1)"
            )
        self._seen_zero |= bool((values == 0).any())
        self._seen_minus_one |= bool((values == -1).any())
        if self._seen_zero and self._seen_minus_one:
            raise BadValueError(
                f"{self.source}: column {self.target!r} mixes the labels 0 and -1; binary labels must be 0/1 or -1/1"
            )
        return np.where(values == -1, 0.0, values)

    def _label_indices(self, column: pa.Array) -> np.ndarray:
        """Class index per row for text labels; -1 for an unknown or missing label.

        Labels are dictionary-encoded so only the distinct ones are looked up in
        Python (and ``pa.array``, which imports pandas, is never called).
        """
        encoded = pc.dictionary_encode(column)
        position = {c: k for k, c in enumerate(self.classes)}
        lookup = np.array([position.get(v, -1) for v in encoded.dictionary.to_pylist()] + [-1], dtype=np.intp)
        codes = _numpy_view(encoded.indices.cast(pa.int64()), np.int64).copy()
        codes[_null_mask(encoded.indices)] = len(lookup) - 1
        indices: np.ndarray = lookup[codes]
        return indices

    def _class_indices(self, column: pa.Array | pa.ChunkedArray, row_offset: int) -> np.ndarray:
        """Class labels (matched to class names) or integer indices -> 0..k-1."""
        k = len(self.classes)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            idx = self._label_indices(_combined(column))
            bad = np.flatnonzero(idx < 0)
            if bad.size:
                i = int(bad[0])
                label = column[i].as_py()
                what = "is missing" if label is None else f"holds the label {label!r}"
                raise BadValueError(
                    f"{self.source}: column {self.target!r}, row {row_offset + i + 1} {what}, "
                    f"which is not one of the classes {', '.join(self.classes)}"
                )
            return idx
        values = self._numeric(column, self.target, row_offset)
        if all(_is_int_text(c) for c in self.classes):
            # Class columns named 0, 1, 2...: the target holds those names.
            names = np.array([float(c) for c in self.classes])
            order = np.argsort(names)
            pos = np.searchsorted(names[order], values)
            pos = np.clip(pos, 0, k - 1)
            ok = names[order][pos] == values
            idx = order[pos]
        else:
            ok = (values == np.round(values)) & (values >= 0) & (values < k)
            idx = np.where(ok, values, 0).astype(np.intp)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise BadValueError(
                f"{self.source}: column {self.target!r}, row {row_offset + i + 1} holds "
                f"{float(values[i])!r}, which is not a class index 0..{k - 1} "
                f"(classes: {', '.join(self.classes)})"
            )
        return idx.astype(np.intp)


def resolve_layout(
    source: Source,
    specs: Sequence[LossSpec],
    *,
    target: str | None = None,
    preds: Sequence[str] = (),
    weight: str | None = None,
    id_column: str | None = None,
    class_sep: str = ".",
    by: Sequence[str] = (),
) -> Layout:
    """Assign every column a role and decide the task; say what was auto-detected."""
    names = source.schema.names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ColumnError(f"{source.name}: the column name {dupes[0]!r} appears more than once")
    notes: list[str] = []

    target_col, soft_cols = _find_target(source, target, class_sep)
    weight_col = _named(source, weight, "--weight") if weight else None
    id_col = _named(source, id_column, "--id") if id_column else _auto(names, ID_NAMES)
    by_cols = tuple(dict.fromkeys(_named(source, c, "--by") for c in by))
    taken = {c for c in (target_col, weight_col, id_col, *soft_cols, *by_cols) if c}

    if preds:
        pred_cols = _match_patterns(source, preds, taken)
    else:
        candidates = [n for n in names if n not in taken]
        pred_cols = [n for n in candidates if _looks_numeric(source, n)]
        skipped = [n for n in candidates if n not in pred_cols]
        unused_weight = [n for n in pred_cols if n.lower() in WEIGHT_NAMES and not weight_col]
        pred_cols = [n for n in pred_cols if n not in unused_weight]
        if skipped:
            notes.append(f"skipped non-numeric columns {_list(skipped)}")
        if unused_weight:
            notes.append(
                f"column {unused_weight[0]!r} looks like a weight and is not a model; "
                f"pass --weight {unused_weight[0]} to use it"
            )
    if not pred_cols:
        raise ColumnError(
            f"{source.name}: no prediction columns besides the target {target_col!r}; name them with --pred"
        )

    task = _soft_task(specs) if soft_cols else _decide_task(source, specs, target_col, pred_cols, class_sep)
    models, classes = _group_models(source, task, pred_cols, class_sep)
    if soft_cols:
        soft_cols = _align_soft_target(source, target_col, soft_cols, classes, class_sep)

    shown = f"{target_col}{class_sep}* (soft)" if soft_cols else target_col
    detected = [f"target={shown}" + ("" if target else " (auto)")]
    if id_col:
        detected.append(f"id={id_col}" + ("" if id_column else " (auto)"))
    if weight_col:
        detected.append(f"weight={weight_col}")
    if by_cols:
        detected.append(f"by={','.join(by_cols)}")
    detected.append(f"task={task}")
    detected.append(f"models={','.join(m.name for m in models)}")
    notes.insert(0, "columns: " + ", ".join(detected))
    return Layout(
        source=source.name,
        task=task,
        target=target_col,
        models=tuple(models),
        weight=weight_col,
        id=id_col,
        classes=classes,
        notes=notes,
        target_columns=soft_cols,
        by=by_cols,
    )


def _find_target(source: Source, target: str | None, sep: str) -> tuple[str, tuple[str, ...]]:
    """The target column, or the prefix of k soft-target columns (``y.cat``, ``y.dog``)."""
    names = source.schema.names
    if target:
        if target in names or any(n.lower() == target.lower() for n in names):
            return _named(source, target, "--target"), ()
        group = tuple(n for n in names if sep and n.startswith(target + sep))
        if len(group) > 1:
            return target, group
        return _named(source, target, "--target"), ()
    found = _auto(names, TARGET_NAMES)
    if found is not None:
        return found, ()
    for prefix in TARGET_NAMES:
        group = tuple(n for n in names if sep and n.lower().startswith(prefix + sep))
        if len(group) > 1:
            return group[0][: len(prefix)], group
    raise ColumnError(
        f"{source.name}: no target column found (looked for {', '.join(TARGET_NAMES)}); "
        f"name it with --target (columns: {_list(names)})"
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


def _decide_task(source: Source, specs: Sequence[LossSpec], target: str, pred_cols: list[str], sep: str) -> Task:
    grouped = any(len(cols) > 1 for cols in _groups(pred_cols, sep).values())
    if specs:
        allowed = [t for t in TASKS if all(t in s.loss.tasks for s in specs)]
        if not allowed:
            by_task = "; ".join(f"{s.label} is {'/'.join(s.loss.tasks)}" for s in specs)
            raise OptionError(f"these losses do not share a task ({by_task}); run them separately")
        if len(allowed) == 1:
            return allowed[0]
        # A loss that serves several tasks: let the data decide among them.
        guess = _guess_task(source, target, grouped)
        return guess if guess in allowed else allowed[0]
    return _guess_task(source, target, grouped)


def _guess_task(source: Source, target: str, grouped: bool) -> Task:
    dtype = source.schema.field(target).type
    if grouped or not is_numeric(dtype):
        return "multiclass"
    if pa.types.is_boolean(dtype):
        return "binary"
    sample = source.sample.column(target)
    values = set(pc.unique(sample.drop_null()).to_pylist()) if len(sample) else set()
    if values and (values <= {0, 1} or values <= {-1, 1}):
        return "binary"
    return "regression"


def _groups(pred_cols: list[str], sep: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for col in pred_cols:
        model = col.rsplit(sep, 1)[0] if sep and sep in col else col
        groups.setdefault(model, []).append(col)
    return groups


def _group_models(source: Source, task: Task, pred_cols: list[str], sep: str) -> tuple[list[Model], tuple[str, ...]]:
    if task != "multiclass":
        return [Model(c, (c,)) for c in pred_cols], ()
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
    classes = tuple(models[0][1])
    for name, by_class in models[1:]:
        if set(by_class) != set(classes):
            raise ColumnError(
                f"{source.name}: model {name!r} has classes {_list(list(by_class))} but "
                f"{models[0][0]!r} has {_list(list(classes))}; every model needs the same classes"
            )
    built = [Model(name, tuple(by_class[c] for c in classes)) for name, by_class in models]
    return built, classes


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


def _auto(names: list[str], wanted: tuple[str, ...]) -> str | None:
    lowered = {n.lower(): n for n in reversed(names)}
    return next((lowered[w] for w in wanted if w in lowered), None)


def _match_patterns(source: Source, patterns: Sequence[str], taken: set[str]) -> list[str]:
    names = [n for n in source.schema.names if n not in taken]
    chosen: list[str] = []
    for pattern in patterns:
        for part in filter(None, (p.strip() for p in pattern.split(","))):
            hits = [n for n in names if fnmatch.fnmatchcase(n, part)]
            if not hits:
                raise ColumnError(f"{source.name}: --pred {part!r} matches no column (columns: {_list(names)})")
            chosen += hits
    return list(dict.fromkeys(chosen))


def _to_float64(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric column as float64, nulls as NaN.

    Built from the Arrow buffers directly: ``Array.to_numpy`` and any compute
    call given a Python scalar import pandas, which the CLI must not pay for.
    """
    array = _combined(column)
    if array.type != pa.float64():
        array = array.cast(pa.float64())
    values = _numpy_view(array, np.float64)
    if array.null_count:
        values = values.copy()
        values[_null_mask(array)] = np.nan
    return values


def _combined(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _numpy_view(array: pa.Array, dtype: type[np.generic]) -> np.ndarray:
    """A read-only NumPy view of the values buffer of a fixed-width Arrow array."""
    width = np.dtype(dtype).itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * width)


def _null_mask(array: pa.Array) -> np.ndarray:
    """True where ``array`` is null, unpacked from Arrow's validity bitmap."""
    validity = array.buffers()[0]
    if validity is None:
        return np.zeros(len(array), dtype=bool)
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return ~bits[array.offset : array.offset + len(array)].astype(bool)


def _dictionary_codes(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[Hashable]]:
    """A column as (per-row index into its distinct values, the distinct values); null is None."""
    encoded = pc.dictionary_encode(_combined(column))
    values: list[Hashable] = [*encoded.dictionary.to_pylist(), None]
    codes = _numpy_view(encoded.indices.cast(pa.int64()), np.int64).copy()
    codes[_null_mask(encoded.indices)] = len(values) - 1
    return codes, values


def _looks_numeric(source: Source, name: str) -> bool:
    """Numeric, or text in which some cells are numbers: a prediction column with a
    bad cell, which must be reported rather than skipped."""
    if is_numeric(source.schema.field(name).type):
        return True
    column = source.sample.column(name)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return False
    return any(_is_number(cell) for cell in column.drop_null().to_pylist()[:1000])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _first_non_number(column: pa.Array | pa.ChunkedArray, row_offset: int) -> str:
    for i, cell in enumerate(column.to_pylist()):
        if cell is None:
            continue
        try:
            float(cell)
        except (TypeError, ValueError):
            return f", row {row_offset + i + 1} holds {cell!r}, which"
    return f" (type {column.type})"


def _is_int_text(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _list(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
