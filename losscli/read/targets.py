"""Targets: one batch's target column(s) -> what the task needs.

Regression: the numbers. Binary: 0/1 (from 0/1, -1/1, booleans, or ``--positive
LABEL``). Multiclass: class indices 0..k-1 (from labels matched to the class
names, or integers), or an (n, k) matrix of soft targets.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
import pyarrow as pa

from ..arrow_buffers import null_mask
from ..errors import BadValueError, OptionError
from ..request import Columns
from ..spec import format_value
from .arrow_numpy import combined, dictionary_codes, side_by_side, to_float64
from .layout import Layout, renumbering
from .source import is_numeric

# (column, its name, row offset) -> (float64 values, rows that hold a number)
ReadNumbers = Callable[[pa.Array | pa.ChunkedArray, str, int], tuple[np.ndarray, np.ndarray]]
# (column name, its missing cells in this batch): told, so the first one over all columns is named
Missing = Callable[[str, np.ndarray], None]


class TargetReader:
    """Reads the target of every batch of one layout; remembers the binary labels it has seen."""

    def __init__(
        self,
        layout: Layout,
        columns: Columns,
        numbers: ReadNumbers,
        ignore_index: float | None = None,
        missing: Missing | None = None,
    ) -> None:
        self.layout = layout
        # ignore_index (multiclass): rows whose target is this label are left out for every
        # model, like --nan drop, but on purpose: counted apart and never an error.
        self.ignore_index = ignore_index
        self.ignored = 0
        self.ignored_rows: np.ndarray | None = None
        self.positive = columns.positive
        self.drop = columns.nan in ("drop", "drop-any")
        self._numbers = numbers
        self._missing = missing
        self._seen_zero = False
        self._seen_minus_one = False
        # --positive: every distinct label seen (as text), and whether it is the positive one;
        # checked after the last batch (the label may first appear after the sample).
        self.labels: dict[str, bool] = {}

    @property
    def source(self) -> str:
        return self.layout.source

    def read(self, batch: pa.RecordBatch, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """The batch's targets as the task needs them, and the rows that hold one."""
        self.ignored_rows = None
        if self.layout.target_columns:
            return self._soft_target(batch, row_offset)
        return self._target(batch.column(self.layout.target), row_offset)

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
        """--positive LABEL: 1 where the target equals LABEL, 0 elsewhere (two labels at most)."""
        array = combined(column)
        missing = null_mask(array)
        if is_numeric(array.type):
            wanted = _positive_number(self.positive or "", self.layout.target)
            values = to_float64(array)
            missing |= np.isnan(values)
            distinct = np.unique(values[~missing])
            self._remember([format_value(float(v)) for v in distinct], [v == wanted for v in distinct])
            y = (values == wanted).astype(np.float64)
        else:
            codes, labels = dictionary_codes(array)
            present = [i for i in range(len(labels) - 1) if (codes == i).any()]
            self._remember([str(labels[i]) for i in present], [labels[i] == self.positive for i in present])
            y = np.array([label == self.positive for label in labels], dtype=np.float64)[codes]
        if len(self.labels) > 2:
            self._not_binary(row_offset + len(y))
        if missing.any() and not self.drop:
            self._refuse_missing(missing, row_offset)
        return y, ~missing

    def _refuse_missing(self, missing: np.ndarray, row_offset: int) -> None:
        """Missing labels with --nan error: told to the extractor (which names the first missing
        cell over every column), else refused here."""
        if self._missing is not None:
            self._missing(self.layout.target, missing)
            return
        i = int(np.flatnonzero(missing)[0])
        raise BadValueError(
            f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} is missing; "
            "fill it, or pass --nan drop to leave such rows out"
        )

    def _remember(self, labels: list[str], positive: list[bool]) -> None:
        for label, is_positive in zip(labels, positive, strict=True):
            self.labels.setdefault(label, bool(is_positive))

    def _not_binary(self, last_row: int) -> None:
        shown = ", ".join(repr(label) for label in list(self.labels)[:6])
        more = "" if len(self.labels) <= 6 else ", ..."
        raise BadValueError(
            f"{self.source}: --positive {self.positive!r} makes a binary task, but the target "
            f"{self.layout.target!r} holds more than two labels ({shown}{more}) by row {last_row}; "
            "drop --positive for a regression or multiclass target"
        )

    def _binary(self, values: np.ndarray, ok: np.ndarray, row_offset: int) -> np.ndarray:
        bad = np.flatnonzero(ok & (values != 0) & (values != 1) & (values != -1))
        if bad.size:
            i = int(bad[0])
            raise BadValueError(
                f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} holds "
                f"{format_value(float(values[i]))}; binary losses need labels 0/1 (or -1/1, or booleans), "
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
            return self._text_labels(array, row_offset)
        values, ok = self._numbers(array, self.layout.target, row_offset)
        if self.ignore_index is not None:
            skip = ok & (values == self.ignore_index)
            self._ignore(skip)
            ok = ok & ~skip
            values = np.where(skip, 0.0, values)
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
        if wrong.size and all(_is_int_text(c) for c in classes) and values[wrong[0]] == np.round(values[wrong[0]]):
            i = int(wrong[0])
            index = bool(np.all((values[ok] == np.round(values[ok])) & (values[ok] >= 0) & (values[ok] < k)))
            raise BadValueError(
                f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} holds "
                f"{float(values[i]):g}, which names no class column (classes: {', '.join(classes)}); "
                + renumbering(k, index, lambda option, value: f"--{option} '{value}'")
            )
        if wrong.size:
            i = int(wrong[0])
            label = format_value(float(values[i]))  # a label as written: 3, not 3.0
            raise BadValueError(
                f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} holds "
                f"{label}, which is not a class index 0..{k - 1} (classes: {', '.join(classes)})"
            )
        return np.where(ok, idx, 0).astype(np.intp), ok

    def _text_labels(self, array: pa.Array, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """Text labels matched to the class names; the ignore_index label left out."""
        classes = self.layout.classes
        codes, labels = dictionary_codes(array)
        position: dict[Hashable, int] = {c: i for i, c in enumerate(classes)}
        lookup = np.array([position.get(v, -1) if v is not None else -2 for v in labels], dtype=np.intp)
        idx = lookup[codes]
        skipped = np.zeros(len(idx), dtype=bool)
        if self.ignore_index is not None:
            skip = np.array([v is not None and _same_label(v, self.ignore_index) for v in labels], dtype=bool)
            skipped = skip[codes]
            idx = np.where(skipped, 0, idx)
            self._ignore(skipped)
        unknown = np.flatnonzero(idx == -1)
        if unknown.size:
            i = int(unknown[0])
            raise BadValueError(
                f"{self.source}: column {self.layout.target!r}, row {row_offset + i + 1} holds the label "
                f"{labels[codes[i]]!r}, which is not one of the classes {', '.join(classes)}"
            )
        missing = idx == -2
        if missing.any() and not self.drop:
            self._refuse_missing(missing, row_offset)
        return np.where(missing, 0, idx).astype(np.intp), ~missing & ~skipped

    def _ignore(self, rows: np.ndarray) -> None:
        self.ignored_rows = rows
        self.ignored += int(rows.sum())

    def _soft_target(self, batch: pa.RecordBatch, row_offset: int) -> tuple[np.ndarray, np.ndarray]:
        """k target columns: a probability distribution per row."""
        pairs = [self._numbers(batch.column(c), c, row_offset) for c in self.layout.target_columns]
        t = side_by_side([v for v, _ in pairs])
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


def _same_label(label: object, ignore_index: float) -> bool:
    """A text label equals ignore_index when it spells the same number ('-100', '3')."""
    try:
        return float(str(label)) == ignore_index
    except ValueError:
        return False


def _positive_number(text: str, target: str) -> float:
    if text.strip().lower() in ("true", "false"):  # a boolean target: true is 1
        return 1.0 if text.strip().lower() == "true" else 0.0
    try:
        return float(text)
    except ValueError:
        raise OptionError(
            f"--positive {text!r}: the target {target!r} holds numbers; name one of them (e.g. --positive 1)"
        ) from None


def check_positive(source: str, target: str, positive: str, labels: dict[str, bool]) -> None:
    """After the last batch: --positive must name a label the target holds, and there must be
    another one (else every row is of one class and the loss says nothing)."""
    shown = ", ".join(repr(label) for label in sorted(labels)) or "none"
    if not any(labels.values()):
        raise BadValueError(
            f"{source}: --positive {positive!r} is not a label of the target {target!r} "
            f"(its labels are {shown}); name one of them"
        )
    if len(labels) > 2:
        raise BadValueError(
            f"{source}: --positive {positive!r} makes a binary task, but the target {target!r} "
            f"holds more than two labels ({shown}); drop --positive for a regression or multiclass target"
        )


def _is_int_text(text: str) -> bool:
    return text.lstrip("-").isdigit()
