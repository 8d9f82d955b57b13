"""One record batch -> NumPy arrays: the target, the weight and every model's predictions.

Every cell is checked on the way: a value that is not a number, infinite, or
(with ``--nan error``, the default) missing, is a BadValueError naming the
file, column and row. With ``--nan drop`` a missing value drops the row for
the models it concerns: such rows get a harmless placeholder and a False in
the model's ``valid`` mask, so kernels and checks never see NaN and the
accumulator gives them no weight.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .arrow_numpy import combined, dictionary_codes, list_to_matrix, null_mask, to_float64
from .errors import BadValueError, OptionError
from .io import is_numeric
from .io.source import first_non_number
from .layout import Layout, Model

NAN_POLICIES = ("error", "drop")


@dataclass
class BatchArrays:
    """One batch as NumPy: target, weight (or None) and every model's predictions."""

    y_true: np.ndarray
    weight: np.ndarray | None
    preds: dict[str, np.ndarray]
    row_offset: int
    # Each --by column dictionary-encoded: (per-row index, distinct values).
    groups: list[tuple[np.ndarray, list[Hashable]]] = field(default_factory=list)
    # Per model, the rows it is evaluated on; absent when every row counts.
    valid: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y_true)


class Extractor:
    """Reads batches of one layout; remembers what it has seen (labels, dropped rows)."""

    def __init__(
        self, layout: Layout, *, nan: str = "error", positive: str | None = None, log_fill: bool = False
    ) -> None:
        if nan not in NAN_POLICIES:
            raise OptionError(f"--nan takes error or drop, not {nan!r}")
        self.layout = layout
        self.drop = nan == "drop"
        self.positive = positive
        # Placeholder for dropped multiclass rows: a uniform distribution (its log for nll).
        k = max(len(layout.classes), 1)
        self._class_fill = math.log(1.0 / k) if log_fill else 1.0 / k
        self.dropped: dict[str, int] = {m.name: 0 for m in layout.models}
        self._seen_zero = False
        self._seen_minus_one = False

    @property
    def source(self) -> str:
        return self.layout.source

    def extract(self, batch: pa.RecordBatch, row_offset: int) -> BatchArrays:
        """Convert one batch; raise BadValueError naming the first bad cell."""
        layout = self.layout
        if layout.target_columns:
            y_true, row_ok = self._soft_target(batch, row_offset)
        else:
            y_true, row_ok = self._target(batch.column(layout.target), row_offset)
        weight = None
        if layout.weight:
            weight, ok = self._numbers(batch.column(layout.weight), layout.weight, row_offset)
            bad = np.flatnonzero(ok & (weight < 0))
            if bad.size:
                raise BadValueError(
                    f"{self.source}: column {layout.weight!r}, row {row_offset + bad[0] + 1} "
                    f"holds the negative weight {float(weight[bad[0]])!r}; weights must be >= 0"
                )
            row_ok &= ok
            weight = np.where(ok, weight, 0.0)
        if not row_ok.all():
            y_true = self._fill_target(y_true, row_ok)
        preds: dict[str, np.ndarray] = {}
        valid: dict[str, np.ndarray] = {}
        for model in layout.models:
            values, ok = self._prediction(batch, model, row_offset)
            ok &= row_ok
            if not ok.all():
                values = self._fill_prediction(values, ok, y_true)
                valid[model.name] = ok
                self.dropped[model.name] += int((~ok).sum())
            preds[model.name] = values
        groups = [dictionary_codes(batch.column(c)) for c in layout.by]
        return BatchArrays(y_true, weight, preds, row_offset, groups, valid)

    # --- cells -------------------------------------------------------------------------------

    def _numbers(self, column: pa.Array | pa.ChunkedArray, name: str, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """(float64 values, rows that hold a number); infinities and, unless dropping, NaN are errors."""
        if not is_numeric(column.type):
            raise BadValueError(
                f"{self.source}: column {name!r}{_first_non_number(column, row_offset)} "
                "is not a number; fix the cell or choose other columns"
            )
        values = to_float64(column)
        finite = np.isfinite(values)
        if finite.all():
            return values, finite
        infinite = np.flatnonzero(np.isinf(values))
        if infinite.size:
            i = int(infinite[0])
            raise BadValueError(
                f"{self.source}: column {name!r}, row {row_offset + i + 1} is {float(values[i])!r}; "
                "every target, prediction and weight must be finite"
            )
        if not self.drop:
            missing = np.flatnonzero(~finite)
            i = int(missing[0])
            count = f" (and at least {missing.size - 1} more)" if missing.size > 1 else ""
            raise BadValueError(
                f"{self.source}: column {name!r}, row {row_offset + i + 1} is missing (empty or NaN){count}; "
                "fill it, or pass --nan drop to leave such rows out"
            )
        return values, finite

    def _target(self, column: pa.Array | pa.ChunkedArray, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        task = self.layout.task
        if task == "multiclass":
            return self._class_indices(column, row_offset)
        if task == "binary" and self.positive is not None:
            return self._positive_label(column, row_offset)
        values, ok = self._numbers(column, self.layout.target, row_offset)
        if task == "binary":
            return self._binary(values, ok, row_offset), ok
        return values, ok

    def _positive_label(self, column: pa.Array | pa.ChunkedArray, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """--positive LABEL: 1 where the target equals LABEL, 0 elsewhere."""
        array = combined(column)
        missing = null_mask(array)
        if is_numeric(array.type):
            try:
                wanted = float(self.positive)  # type: ignore[arg-type]
            except ValueError:
                raise OptionError(
                    f"--positive {self.positive!r}: the target {self.layout.target!r} holds numbers"
                ) from None
            values = to_float64(array)
            missing |= np.isnan(values)
            y = (values == wanted).astype(np.float64)
        else:
            codes, labels = dictionary_codes(array)
            y = np.array([label == self.positive for label in labels], dtype=np.float64)[codes]
        if missing.any() and not self.drop:
            i = int(np.flatnonzero(missing)[0])
            raise BadValueError(
                f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} is missing; "
                "fill it, or pass --nan drop to leave such rows out"
            )
        return y, ~missing

    def _binary(self, values: np.ndarray, ok: np.ndarray, row_offset: int) -> np.ndarray:
        bad = np.flatnonzero(ok & (values != 0) & (values != 1) & (values != -1))
        if bad.size:
            i = int(bad[0])
            raise BadValueError(
                f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} holds "
                f"{float(values[i])!r}; binary losses need labels 0/1 (or -1/1, or booleans), "
                "or --positive LABEL to name the positive class"
            )
        self._seen_zero |= bool((values == 0).any())
        self._seen_minus_one |= bool((values == -1).any())
        if self._seen_zero and self._seen_minus_one:
            raise BadValueError(
                f"{self.source}: column {self.layout.target!r} mixes the labels 0 and -1; "
                "binary labels must be 0/1 or -1/1"
            )
        return np.where(values == 1, 1.0, 0.0)

    def _class_indices(self, column: pa.Array | pa.ChunkedArray, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """Class labels (matched to class names) or integer indices -> 0..k-1."""
        classes = self.layout.classes
        k = len(classes)
        array = combined(column)
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            codes, labels = dictionary_codes(array)
            position: dict[Hashable, int] = {c: i for i, c in enumerate(classes)}
            lookup = np.array([position.get(v, -1) if v is not None else -2 for v in labels], dtype=np.intp)
            idx = lookup[codes]
            unknown = np.flatnonzero(idx == -1)
            if unknown.size:
                i = int(unknown[0])
                raise BadValueError(
                    f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} holds the label "
                    f"{labels[codes[i]]!r}, which is not one of the classes {', '.join(classes)}"
                )
            missing = idx == -2
            if missing.any() and not self.drop:
                i = int(np.flatnonzero(missing)[0])
                raise BadValueError(
                    f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} is missing; "
                    "fill it, or pass --nan drop to leave such rows out"
                )
            return np.where(missing, 0, idx).astype(np.intp), ~missing
        values, ok = self._numbers(array, self.layout.target, row_offset)
        if all(_is_int_text(c) for c in classes):
            # Class columns named 0, 1, 2...: the target holds those names.
            names = np.array([float(c) for c in classes])
            order = np.argsort(names)
            pos = np.clip(np.searchsorted(names[order], values), 0, k - 1)
            known = names[order][pos] == values
            idx = order[pos]
        else:
            known = (values == np.round(values)) & (values >= 0) & (values < k)
            idx = np.where(known, values, 0).astype(np.intp)
        wrong = np.flatnonzero(ok & ~known)
        if wrong.size:
            i = int(wrong[0])
            raise BadValueError(
                f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} holds "
                f"{float(values[i])!r}, which is not a class index 0..{k - 1} (classes: {', '.join(classes)})"
            )
        return np.where(ok, idx, 0).astype(np.intp), ok

    def _soft_target(self, batch: pa.RecordBatch, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """k target columns: a probability distribution per row."""
        pairs = [self._numbers(batch.column(c), c, row_offset) for c in self.layout.target_columns]
        t = np.column_stack([v for v, _ in pairs])
        ok = np.logical_and.reduce([m for _, m in pairs])
        bad = np.flatnonzero(ok & (((t < 0) | (t > 1)).any(axis=1) | (np.abs(t.sum(axis=1) - 1.0) > 1e-6)))
        if bad.size:
            i = int(bad[0])
            raise BadValueError(
                f"{self.source}: the soft target columns {self.layout.target}.* in row "
                f"{row_offset + i + 1} are not a distribution (values in [0, 1] summing to 1, got "
                f"{', '.join(f'{v:g}' for v in t[i])})"
            )
        return t, ok

    def _prediction(self, batch: pa.RecordBatch, model: Model, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        if model.list_width:
            matrix, bad = list_to_matrix(batch.column(model.columns[0]))
            if matrix.shape[1] not in (0, model.list_width) or (bad.any() and not self.drop):
                i = int(np.flatnonzero(bad)[0]) if bad.any() else 0
                raise BadValueError(
                    f"{self.source}: column {model.columns[0]!r}, row {row_offset + i + 1} is not a list of "
                    f"{model.list_width} numbers (one per class)"
                )
            if matrix.shape[1] == 0:
                matrix = np.full((batch.num_rows, model.list_width), np.nan)
            return matrix, ~bad & np.isfinite(matrix).all(axis=1)
        pairs = [self._numbers(batch.column(c), c, row_offset) for c in model.columns]
        if len(pairs) == 1 and self.layout.task != "multiclass":
            return pairs[0]
        return np.column_stack([v for v, _ in pairs]), np.logical_and.reduce([m for _, m in pairs])

    # --- placeholders for dropped rows ---------------------------------------------------------

    def _fill_target(self, y_true: np.ndarray, ok: np.ndarray) -> np.ndarray:
        if y_true.ndim == 2:
            return np.where(ok[:, None], y_true, 1.0 / y_true.shape[1])
        # 1.0 lies inside every regression domain (> -1, > 0) and is a valid class/label.
        fill = 1.0 if self.layout.task == "regression" else 0
        return np.where(ok, y_true, fill).astype(y_true.dtype)

    def _fill_prediction(self, values: np.ndarray, ok: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        if values.ndim == 2:
            return np.where(ok[:, None], values, self._class_fill)
        if self.layout.task == "regression":
            return np.where(ok, values, y_true)
        return np.where(ok, values, 0.5)


def _first_non_number(column: pa.Array | pa.ChunkedArray, row_offset: int) -> str:
    cells = column.to_pylist()
    i = first_non_number(cells)
    if i is None:
        return f" (type {column.type})"
    return f", row {row_offset + i + 1} holds {cells[i]!r}, which"


def _is_int_text(text: str) -> bool:
    return text.lstrip("-").isdigit()
