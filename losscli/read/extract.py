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
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..errors import BadValueError
from ..request import Columns
from .arrow_numpy import group_codes, list_to_matrix, side_by_side, to_float64
from .dialect import DOT_GROUPS, dot_fix, is_number_in
from .layout import Layout, Model
from .source import is_number, is_numeric
from .targets import TargetReader


@dataclass
class BatchArrays:
    """One batch as NumPy: target, weight (or None) and every model's predictions."""

    y_true: np.ndarray
    weight: np.ndarray | None
    preds: dict[str, np.ndarray]
    row_offset: int
    # Each --by column dictionary-encoded: (per-row index, distinct values as an Arrow array).
    groups: list[tuple[np.ndarray, pa.Array]] = field(default_factory=list)
    # Per model, the rows it is evaluated on; absent when every row counts.
    valid: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y_true)


class Extractor:
    """Reads batches of one layout; remembers what it has seen (labels, dropped rows)."""

    def __init__(
        self, layout: Layout, columns: Columns, *, log_fill: bool = False, ignore_index: float | None = None
    ) -> None:
        self.layout = layout
        self.drop = columns.nan in ("drop", "drop-any")
        # drop-any: a row missing for one model is left out for all, so all share their rows.
        self.drop_any = columns.nan == "drop-any"
        # Whether some rows count for one model and not another (said in the output).
        self.rows_differ = False
        # --nan error: the missing cells of the batch, per column in the order read (target,
        # weight, predictions), so the error names the first row over all of them.
        self._missing: list[tuple[str, np.ndarray]] = []
        self.targets = TargetReader(layout, columns, self.numbers, ignore_index, self._missing_cells)
        # Placeholder for dropped multiclass rows: a uniform distribution (its log for nll).
        k = max(len(layout.classes), 1)
        self._class_fill = math.log(1.0 / k) if log_fill else 1.0 / k
        self.dropped: dict[str, int] = {m.name: 0 for m in layout.models}

    @property
    def source(self) -> str:
        return self.layout.source

    @property
    def ignored(self) -> int:
        """Rows left out so far because their target is the ignore_index label."""
        return self.targets.ignored

    def extract(self, batch: pa.RecordBatch, row_offset: int) -> BatchArrays:
        """Convert one batch; raise BadValueError naming the first bad cell."""
        layout = self.layout
        self._missing.clear()
        y_true, row_ok = self.targets.read(batch, row_offset)
        weight = None
        if layout.weight:
            weight, ok = self._weight(batch, row_offset)
            row_ok &= ok
        if not row_ok.all():
            y_true = self._fill_target(y_true, row_ok)
        read = {model.name: self._prediction(batch, model, row_offset) for model in layout.models}
        if self._missing:
            self._refuse_missing(row_offset)
        if self.drop_any:
            row_ok = np.logical_and.reduce([row_ok, *(ok for _, ok in read.values())])
        preds: dict[str, np.ndarray] = {}
        valid: dict[str, np.ndarray] = {}
        for name, (values, ok) in read.items():
            ok = ok & row_ok
            if not ok.all():
                values = self._fill_prediction(values, ok, y_true)
                valid[name] = ok
                skipped = self.targets.ignored_rows
                self.dropped[name] += int((~ok if skipped is None else ~ok & ~skipped).sum())
            preds[name] = values
        # Rows differ when one model keeps a row another drops (one model alone differs from nothing).
        masks = [valid.get(name, row_ok) for name in preds]
        if valid and any((m != masks[0]).any() for m in masks[1:]):
            self.rows_differ = True
        groups = [group_codes(batch.column(c)) for c in layout.by]
        return BatchArrays(y_true, weight, preds, row_offset, groups, valid)

    def _weight(self, batch: pa.RecordBatch, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """The weights (0 where missing, with --nan drop) and the rows that hold one; never negative."""
        name = self.layout.weight or ""
        weight, ok = self.numbers(batch.column(name), name, row_offset)
        bad = np.flatnonzero(ok & (weight < 0))
        if bad.size:
            raise BadValueError(
                f"{self.source}: column {name!r}, row {row_offset + bad[0] + 1} "
                f"holds the negative weight {float(weight[bad[0]])!r}; weights must be >= 0"
            )
        return np.where(ok, weight, 0.0), ok

    # --- cells -------------------------------------------------------------------------------

    def numbers(self, column: pa.Array | pa.ChunkedArray, name: str, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """(float64 values, rows that hold a number); infinities and, unless dropping, NaN are errors."""
        if not is_numeric(column.type):
            where = _first_non_number(column, row_offset, name in self.layout.guessed, self.layout.decimal)
            raise BadValueError(f"{self.source}: column {name!r}{where}")
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
            self._missing_cells(name, ~finite)
        return values, finite

    def _missing_cells(self, name: str, missing: np.ndarray) -> None:
        self._missing.append((name, missing))

    def _refuse_missing(self, row_offset: int) -> None:
        """--nan error: name the earliest missing cell of the batch over every column read (at
        one row, the first column read), and count the other missing cells of the batch."""
        first = [(int(np.argmax(m)), k) for k, (_, m) in enumerate(self._missing)]
        i, k = min(first)
        left = [int(m.sum()) - (j == k) for j, (_, m) in enumerate(self._missing)]
        others = sum(left)
        more = ""
        if others:
            names = list(dict.fromkeys(n for (n, _), c in zip(self._missing, left, strict=True) if c))
            where = f"column {names[0]!r}" if len(names) == 1 else f"columns {', '.join(map(repr, names))}"
            more = f" (and at least {others} more missing cell{'s' if others > 1 else ''}, in {where})"
        raise BadValueError(
            f"{self.source}: column {self._missing[k][0]!r}, row {row_offset + i + 1} is missing (empty or NaN)"
            f"{more}; fill it, or pass --nan drop to leave such rows out"
        )

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
        pairs = [self.numbers(batch.column(c), c, row_offset) for c in model.columns]
        if len(pairs) == 1 and self.layout.task != "multiclass" and model.kind == "point":
            return pairs[0]
        matrix = side_by_side([v for v, _ in pairs])
        ok = np.logical_and.reduce([m for _, m in pairs])
        if model.kind == "gaussian":
            matrix[:, 1] = self._variance(matrix[:, 1], ok, model, row_offset)
        return matrix, ok

    def _variance(self, spread: np.ndarray, ok: np.ndarray, model: Model, row_offset: int) -> np.ndarray:
        """A Gaussian's spread column as a variance (std squared); negative spreads are errors."""
        bad = np.flatnonzero(ok & (spread < 0))
        if bad.size:
            i = int(bad[0])
            what = "standard deviation" if model.spread == "std" else "variance"
            raise BadValueError(
                f"{self.source}: column {model.columns[1]!r}, row {row_offset + i + 1} holds "
                f"{float(spread[i])!r}; a predicted {what} must be >= 0"
            )
        return spread * spread if model.spread == "std" else spread

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


def _first_non_number(column: pa.Array | pa.ChunkedArray, row_offset: int, guessed: bool, decimal: str | None) -> str:
    """Where a text column read as numbers first fails, by the reader's own rules (its decimal mark)."""
    cells = column.to_pylist()
    i = next((j for j, c in enumerate(cells) if c is not None and not is_number_in(c, decimal)), None)
    if i is None and not guessed:  # every cell reads as a number, but the source declares them text
        return f" holds numbers stored as text (type {column.type}); store them as numbers, or choose other columns"
    if i is None:  # a reader that guessed the types reads such a column as numbers: not reached
        i = 0
    row, cell = row_offset + i + 1, cells[i]
    if decimal == "," and isinstance(cell, str) and (is_number(cell) or DOT_GROUPS.match(cell)):
        return f", row {row} holds {cell!r}{dot_fix(cell)}"
    return f", row {row} holds {cell!r}, which is not a number; fix the cell or choose other columns"
