"""Mergeable state: every loss value is finish(sum(w * l) / sum(w)).

State is kept per (model, loss) as small vectors over groups (one group when
there is no ``--by``): weighted sums, weights, counts; B bootstrap replicate
sums when intervals are asked for; and the moments of the per-row difference
to a baseline model. States from different chunks, processes or machines merge
by addition, so the result does not depend on how the rows were split.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..arrow_buffers import int64_array, null_mask, numpy_dtype, numpy_view, values_buffer
from ..errors import OptionError
from . import bootstrap, spread
from .bootstrap import replicate_sums

GroupKey = tuple[Hashable, ...]
Key = tuple[str, str]  # (model, loss label)


# One NaN object: a dict finds a key by identity before equality, so with every NaN group
# value made this one, NaN is one group (as 0.0 and -0.0 are, being equal), in every batch.
_NAN = float("nan")


def _same_nan(value: Any) -> Any:
    return _NAN if isinstance(value, float) and value != value else value


def _python_values(values: Any) -> list[Any]:
    """An Arrow array's values as Python objects, every NaN the one _NAN."""
    import pyarrow as pa

    out: list[Any] = values.to_pylist()
    if values.type in (pa.float64(), pa.float32()) and len(values):
        own = numpy_view(values, numpy_dtype(values.type))
        for i in np.flatnonzero(np.isnan(own) & ~null_mask(values)).tolist():
            out[i] = _NAN
    return out


def _signed_zeros(idx: np.ndarray, values: Any) -> tuple[np.ndarray, Any, Any]:
    """(idx, values, lookup) where -0.0 is looked up as 0.0: Python's == (the dict's) holds
    them equal, Arrow's hash does not. A batch holding both keeps the first seen."""
    import pyarrow as pa

    if values.type not in (pa.float64(), pa.float32()) or not len(values):
        return idx, values, values
    data = values_buffer(values, numpy_dtype(values.type))  # from the buffer's start: lookup keeps the offset
    zeros = np.flatnonzero((data[values.offset :] == 0) & ~null_mask(values))
    if not zeros.size:
        return idx, values, values
    if zeros.size > 1:  # 0.0 and -0.0: rows of the second are the first's, and later codes move down
        first, second = int(zeros[0]), int(zeros[1])
        idx = np.where(idx == second, first, idx)
        idx = idx - (idx > second)
        values = pa.concat_arrays([values.slice(0, second), values.slice(second + 1)])
        return _signed_zeros(idx, values)
    fixed = np.add(data, 0.0, dtype=data.dtype)  # -0.0 + 0.0 is 0.0; every other value is unchanged
    lookup = pa.Array.from_buffers(
        values.type, len(values), [values.buffers()[0], pa.py_buffer(fixed)], values.null_count, values.offset
    )
    return idx, values, lookup


class _IntegerCodes:
    """The codes of integer group values by direct addressing: an array over the range of the
    values seen (-1: not seen), so a batch's values are found in time linear in their number
    (a hash join against every value seen costs the groups so far, each batch)."""

    # The table may span this many values, or four per group, whichever is more.
    SPAN = 1 << 21

    def __init__(self) -> None:
        self.low = 0
        self.table = np.zeros(0, dtype=np.int64)
        self.null = -1
        self._found: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))

    def find(self, values: Any, groups: int) -> np.ndarray | None:
        """Each value's code (-1: new), or None when the values span too wide a range."""
        data = numpy_view(values, numpy_dtype(values.type)).astype(np.int64)
        nulls = null_mask(values)
        out = np.full(len(data), self.null, dtype=np.int64)
        valid = ~nulls
        if valid.any():
            lo, hi = int(data[valid].min()), int(data[valid].max())
            if not self._cover(lo, hi, groups + len(data)):
                return None
            out[valid] = self.table[data[valid] - self.low]
        self._found = (data, nulls)
        return out

    def store(self, position: np.ndarray) -> None:
        """Remember the codes of the values find() was last given."""
        data, nulls = self._found
        valid = ~nulls
        self.table[data[valid] - self.low] = position[valid]
        if nulls.any():
            self.null = int(position[nulls][0])

    def _cover(self, lo: int, hi: int, groups: int) -> bool:
        """Grow the table to cover lo..hi; False when that would span too many values."""
        high = self.low + len(self.table) - 1
        if len(self.table) and lo >= self.low and hi <= high:
            return True
        low, high = (min(lo, self.low), max(hi, high)) if len(self.table) else (lo, hi)
        if high - low + 1 > max(self.SPAN, 4 * groups):
            return False
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[self.low - low : self.low - low + len(self.table)] = self.table
        self.low, self.table = low, table
        return True


# Arrow mode's hash join is left for the dict once the values seen pass this many times a
# batch's distinct values (at least 8,192 of them).
_HASH_JOIN_LIMIT = 8


class _Parts:
    """An Arrow array grown batch by batch, kept in parts and joined only when read whole
    (joining every batch copied all the values seen so far, each batch)."""

    def __init__(self, first: Any) -> None:
        self.parts = [first]
        self.size = len(first)
        self.type = first.type

    def add(self, part: Any) -> _Parts:
        if len(part):
            self.parts.append(part)
            self.size += len(part)
        return self

    def whole(self) -> Any:
        if len(self.parts) > 1:
            import pyarrow as pa

            self.parts = [pa.concat_arrays(self.parts)]
        return self.parts[0]


class GroupIndex:
    """Dense codes for group keys (tuples of --by values), in first-seen order.

    One --by column given as an Arrow array (the common case) is looked up in C: the
    distinct values seen so far are kept as an Arrow array, each batch's values are found
    in it by a hash join (``pyarrow.compute.index_in``) and only the new ones appended; the
    Python tuples are made once, when ``keys`` is read. Otherwise (several columns, values
    given as lists, a type Arrow cannot hash, or once ``code`` is called) keys go through
    a dict. Either way values group as Python compares them: 0.0 and -0.0 are one group
    (named as first seen), every NaN is one group, null (None) is a group of its own.
    """

    def __init__(self) -> None:
        self._keys: list[GroupKey] = []
        self._codes: dict[GroupKey, int] = {}
        self._seen: _Parts | None = None  # Arrow mode: the distinct values seen, -0.0 as 0.0 (looked up)
        self._names: _Parts | None = None  # Arrow mode: the same values as first seen (the keys)
        # The last batch encode() gave in Arrow mode: (its codes, each row's index among the
        # batch's values, those values' codes), for grouping().
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._integers: _IntegerCodes | None = None  # Arrow mode, integer values: see _IntegerCodes

    def __len__(self) -> int:
        return self._seen.size if self._seen is not None else len(self._keys)

    @property
    def keys(self) -> list[GroupKey]:
        if self._seen is not None and self._names is not None and len(self._keys) < self._seen.size:
            self._keys += zip(_python_values(self._names.whole().slice(len(self._keys))))
        return self._keys

    def _to_python(self) -> None:
        """Leave Arrow mode: every key so far a Python tuple in the dict."""
        if self._seen is not None:
            keys = self.keys
            self._codes = dict(zip(keys, range(len(keys)), strict=True))
            self._seen = self._names = None

    def code(self, key: GroupKey) -> int:
        self._to_python()
        key = tuple(map(_same_nan, key))
        if key not in self._codes:
            self._codes[key] = len(self._keys)
            self._keys.append(key)
        return self._codes[key]

    def encode(self, columns: Sequence[tuple[np.ndarray, Any]], n: int) -> np.ndarray:
        """Per-row group codes for one batch (all zero without --by).

        Each --by column comes dictionary-encoded: (per-row index, distinct values, as a
        list or an Arrow array numbered in the order the rows first show them, as
        read.arrow_numpy.group_codes gives), so only distinct values are looked up.
        """
        if not columns:
            self.code(())
            return np.zeros(n, dtype=np.intp)
        if len(columns) == 1 and not isinstance(columns[0][1], list | tuple) and (self._seen is not None or not self):
            codes = self._encode_arrow(*columns[0])
            if codes is not None:
                return codes
        self._to_python()
        listed = [(idx, [*map(_same_nan, v if isinstance(v, list | tuple) else v.to_pylist())]) for idx, v in columns]
        return self._encode_python(listed, n)

    def _encode_arrow(self, idx: np.ndarray, values: Any) -> np.ndarray | None:
        """encode() of one Arrow column in Arrow mode; None where it cannot be (another type)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        idx, values, lookup = _signed_zeros(idx, values)
        if self._seen is None and pa.types.is_integer(lookup.type) and lookup.type != pa.uint64():
            self._integers = _IntegerCodes()  # from the first batch on, or never
        seen = self._seen if self._seen is not None else _Parts(lookup.slice(0, 0))
        if seen.type != lookup.type:
            return None
        position = None if self._integers is None else self._integers.find(lookup, seen.size)
        if position is None:
            self._integers = None  # values too far apart for a table: Arrow's hash join from now on
            if seen.size > _HASH_JOIN_LIMIT * max(len(lookup), 1 << 13):
                # index_in hashes every value seen, each batch: past this the dict's cost per
                # distinct value of the batch is the smaller (4M distinct strings: 4.8 s vs 22 s).
                return None
            try:
                found = pc.index_in(lookup, value_set=seen.whole(), skip_nulls=False)
            except pa.ArrowNotImplementedError:  # a type Arrow cannot hash: the dict takes it
                return None
            position = numpy_view(found, np.int32).astype(np.int64)
            position[null_mask(found)] = -1  # not seen yet
        new = np.flatnonzero(position < 0)
        position[new] = np.arange(seen.size, seen.size + len(new))
        if self._integers is not None:
            self._integers.store(position)
        taken = int64_array(new)
        self._seen = seen.add(lookup.take(taken))
        names = self._names if self._names is not None else _Parts(values.slice(0, 0))
        self._names = names.add(values.take(taken))
        codes: np.ndarray = position[idx]
        self._last = (codes, idx, position)
        return codes

    def grouping(self, codes: np.ndarray) -> Grouping:
        """The Grouping of a batch's ``codes`` (as encode() gave them)."""
        if self._last is not None and self._last[0] is codes:  # encode() knows the batch's groups
            return Grouping(self._last[1], self._last[2], len(self))
        if len(self) <= len(codes):  # few groups: bincount over all of them is cheap
            return Grouping(codes, None, len(self))
        present, inverse = np.unique(codes, return_inverse=True)
        return Grouping(inverse.reshape(-1), present, len(self))

    def _encode_python(self, columns: Sequence[tuple[np.ndarray, list[Hashable]]], n: int) -> np.ndarray:
        """encode() through the dict: the distinct combinations of the batch, decoded to tuples."""
        # One integer per row for the combination (mixed radix over the dictionaries),
        # so a 1-D unique finds the batch's distinct combinations and their first rows.
        radices = [max(len(values), 1) for _, values in columns]
        if math.prod(radices) >= 2**62:
            return self._encode_rows(columns, n)
        flat = np.zeros(n, dtype=np.int64)
        for (idx, _), radix in zip(columns, radices, strict=True):
            flat = flat * radix + idx
        combos, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # new groups get codes in first-seen order
        digits, rest = [], combos[order]
        for radix in reversed(radices):
            digits.append((rest % radix).tolist())
            rest = rest // radix
        decoded = [[values[i] for i in d] for (_, values), d in zip(columns, reversed(digits), strict=True)]
        batch_keys = list(zip(*decoded, strict=True))  # first-seen order
        found: list[int | None] = list(map(self._codes.get, batch_keys))  # one C-level pass; new keys: None
        missing = [i for i, code in enumerate(found) if code is None]
        new_keys = [batch_keys[i] for i in missing]
        if len(dict.fromkeys(new_keys)) == len(new_keys):  # distinct (0.0 and -0.0 are one key)
            start = len(self._keys)
            self._codes.update(zip(new_keys, range(start, start + len(new_keys)), strict=True))
            self._keys += new_keys
            for k, i in enumerate(missing):
                found[i] = start + k
        else:
            for i in missing:
                found[i] = self.code(batch_keys[i])
        local = np.empty(len(combos), dtype=np.intp)
        local[order] = np.array(found, dtype=np.intp)
        return local[inverse.reshape(-1)]

    def _encode_rows(self, columns: Sequence[tuple[np.ndarray, list[Hashable]]], n: int) -> np.ndarray:
        """encode() for combinations too many to number in 62 bits: unique rows of indices."""
        indices = np.column_stack([idx for idx, _ in columns])
        combos, first, inverse = np.unique(indices, axis=0, return_index=True, return_inverse=True)
        local = np.empty(len(combos), dtype=np.intp)
        for c in np.argsort(first, kind="stable"):
            local[c] = self.code(tuple(values[i] for i, (_, values) in zip(combos[c], columns, strict=True)))
        return local[inverse.reshape(-1)]


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """sum(a * b) without BLAS: a BLAS dot wakes BLAS's own threads, which on a busy
    machine (or beside our pool) costs a hundred times the arithmetic."""
    return float(np.einsum("i,i->", a, b))


def weighted_mean(sum_wl: np.ndarray, sum_w: np.ndarray) -> np.ndarray:
    """sum_wl / sum_w elementwise; NaN where there is no weight."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: np.ndarray = np.where(sum_w > 0, sum_wl / np.where(sum_w > 0, sum_w, 1.0), np.nan)
    return mean


def _size(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MB"


def _grow(array: np.ndarray, size: int) -> np.ndarray:
    """Pad the last axis with zeros up to ``size`` groups."""
    have = array.shape[-1]
    if size <= have:
        return array
    # Not np.pad: its generality costs 20 us a call, once per (model, loss) state (20,000 models: 0.4 s).
    grown = np.zeros((*array.shape[:-1], size), dtype=array.dtype)
    grown[..., :have] = array
    return grown


def _plus(state: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """state + batch per group, where the batch's sums may cover more groups (new ones): added
    into the batch's fresh array, so the state is not copied to grow every batch."""
    if len(state) > len(batch):
        total: np.ndarray = state + _grow(batch, len(state))
        return total
    batch[: len(state)] += state
    return batch


def _room(state: Any, name: str, groups: int) -> np.ndarray:
    """``state.name`` grown to ``groups`` groups (zeros for the new), as the head of a buffer
    kept in ``state.room`` that doubles: groups found a few a batch do not copy the state
    every batch."""
    current: np.ndarray = getattr(state, name)
    if len(current) >= groups:
        return current
    buffer: np.ndarray | None = state.room.get(name)
    if buffer is None or current.base is not buffer or len(buffer) < groups:
        buffer = np.zeros(max(groups, 2 * len(current), 64), dtype=current.dtype)
        buffer[: len(current)] = current
        state.room[name] = buffer
    grown: np.ndarray = buffer[:groups]
    setattr(state, name, grown)
    return grown


@dataclass(frozen=True)
class Grouping:
    """One batch's rows in groups: each row's index among ``present`` (the codes of the batch's
    groups), or, with ``present`` None, each row's code itself. Sums per group are made over
    the batch's own groups, then added into the state: O(rows) a batch, not O(groups)."""

    rows: np.ndarray
    present: np.ndarray | None
    groups: int

    def sums(self, weights: np.ndarray | None = None) -> np.ndarray:
        size = self.groups if self.present is None else self.present.size
        return np.bincount(self.rows, weights=weights, minlength=size)

    @functools.cached_property
    def counts(self) -> np.ndarray:
        """Rows per group (one bincount for every state the batch goes into)."""
        return self.sums()

    def counted(self, counted: np.ndarray | None) -> np.ndarray:
        """Rows per group of those ``counted`` (None: every row)."""
        if counted is None:
            return self.counts
        return Grouping(self.rows[counted], self.present, self.groups).sums()

    def add(self, state: Any, name: str, sums: np.ndarray) -> None:
        """state.name += a batch's ``sums`` per group (``sums`` is left as it is)."""
        if self.present is None:
            setattr(state, name, _plus(getattr(state, name), sums.copy()))
        else:
            np.add.at(_room(state, name, self.groups), self.present, sums)  # faster than a[i] += (NumPy 2)

    def gather(self, array: np.ndarray) -> np.ndarray:
        """A state's per-group ``array`` at the batch's groups (0 for groups it has not seen)."""
        grown = _grow(array, self.groups)[: self.groups]
        return grown if self.present is None else grown[self.present]

    def merge_spread(self, state: Any, before: np.ndarray, batch_w: np.ndarray, part: tuple[np.ndarray, ...]) -> None:
        """Merge a batch's spread per group (pivot, shift, M2; weights ``batch_w``) into
        ``state``'s, whose weights were ``before``: spread.combine over the batch's groups."""
        names = ("pivot", "shift", "m2")
        if self.present is None:
            mine = tuple(_grow(getattr(state, name), self.groups)[: self.groups] for name in names)
            merged = spread.pair((before, *mine), (batch_w, *part))
            for name, value in zip(names, merged, strict=True):
                setattr(state, name, value)
            return
        arrays = [_room(state, name, self.groups) for name in names]
        merged = spread.pair((before, *(a[self.present] for a in arrays)), (batch_w, *part))
        for array, value in zip(arrays, merged, strict=True):
            array[self.present] = value


@dataclass
class MeanState:
    """Per group: sum of w * loss, sum of w, row count, the spread (spread.py: pivot, shift
    and centred M2 of the loss) and sum of w^2; and the same over all rows.

    The totals are kept apart (pairwise sums per batch) so the overall value does
    not depend on whether --by was given: bincount's running sum per group rounds
    differently. The spread gives the analytic (t) interval.
    """

    sum_wl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_w: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    total_wl: float = 0.0
    total_w: float = 0.0
    pivot: np.ndarray = field(default_factory=lambda: np.zeros(0))
    shift: np.ndarray = field(default_factory=lambda: np.zeros(0))
    m2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_w2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    total: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the spread over all rows
    total_w2: float = 0.0
    room: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False, kw_only=True)  # _room

    def update(
        self,
        per_row: np.ndarray,
        weight: np.ndarray | None,
        codes: np.ndarray | None = None,
        groups: int = 1,
        counted: np.ndarray | None = None,
        grouping: Grouping | None = None,
        counts_of: MeanState | None = None,
        spread_too: bool = True,
    ) -> None:
        """Add rows; ``counted`` (default: all) says which rows count in n; ``grouping``, when
        given, the rows' groups (instead of ``codes``); ``counts_of``, a state these same rows
        with the same weights were just added to: its sums of w and w^2 and its counts are
        taken as they are (the arrays are shared); ``spread_too``: keep the spread (only the t
        interval reads it; without, it stays 0)."""
        wl = per_row if weight is None else weight * per_row
        w_total = float(len(per_row)) if weight is None else float(weight.sum())
        sum_wl, total_before = float(wl.sum()), self.total_w
        if spread_too and groups == 1:
            self.total = _merged_total(self.total_w, self.total, (w_total, *spread.of_rows(per_row, weight, w_total)))
        self.total_wl += sum_wl
        self.total_w += w_total
        self.total_w2 += w_total if weight is None else dot(weight, weight)
        n_rows = len(per_row) if counted is None else int(counted.sum())
        if groups == 1:  # the one group is all rows so far
            self._one_group(n_rows)
            return
        if grouping is None:
            codes = np.zeros(len(per_row), dtype=np.intp) if codes is None else codes
            grouping = Grouping(codes, None, groups)
        batch_wl = grouping.sums(wl)
        batch_w = grouping.counts.astype(np.float64) if weight is None else grouping.sums(weight)
        # The groups' weights before this batch: a state sharing its sums with counts_of sees
        # them already added (counts without weights, so the difference is exact).
        if spread_too:
            self._merge_spread(per_row, weight, grouping, (batch_wl, batch_w, total_before), counts_of)
        grouping.add(self, "sum_wl", batch_wl)
        if counts_of is not None:
            self.sum_w, self.sum_w2, self.n = counts_of.sum_w, counts_of.sum_w2, counts_of.n
            return
        grouping.add(self, "sum_w", batch_w)
        grouping.add(self, "sum_w2", batch_w if weight is None else grouping.sums(weight * weight))
        grouping.add(self, "n", grouping.counted(counted))

    def _merge_spread(
        self,
        per_row: np.ndarray,
        weight: np.ndarray | None,
        grouping: Grouping,
        sums: tuple[np.ndarray, np.ndarray, float],
        counts_of: MeanState | None,
    ) -> None:
        """The batch's spread per group into the state's, and over all rows (from the groups':
        spread.combine over them, no pass over the rows again)."""
        batch_wl, batch_w, total_before = sums
        # The groups' weights before this batch: a state sharing its sums with counts_of sees
        # them already added (counts without weights, so the difference is exact).
        before = grouping.gather(self.sum_w if counts_of is None else counts_of.sum_w)
        if counts_of is not None:
            before = before - batch_w
        parts = spread.of_groups(per_row, weight, grouping.rows, batch_wl, batch_w)
        grouping.merge_spread(self, before, batch_w, parts)
        pivot, shift, m2 = spread.combine(*(x[:, None] for x in (batch_w, *parts)))
        total = (float(batch_w.sum()), float(pivot[0]), float(shift[0]), float(m2[0]))
        self.total = _merged_total(total_before, self.total, total)

    def _one_group(self, n_rows: int) -> None:
        self.sum_wl = np.array([self.total_wl])
        self.sum_w = np.array([self.total_w])
        self.pivot, self.shift, self.m2 = (np.array([x]) for x in self.total)
        self.sum_w2 = np.array([self.total_w2])
        self.n = _grow(self.n, 1) + n_rows

    def add_sums(self, wl: float, w: float, n: int, part: tuple[float, float, float], w2: float) -> None:
        """Add one block's sums and spread (pivot, shift, M2) when there is one group."""
        self.total = _merged_total(self.total_w, self.total, (w, *part))
        self.total_wl += wl
        self.total_w += w
        self.total_w2 += w2
        self._one_group(n)

    def merge(self, other: MeanState) -> MeanState:
        g = max(len(self.n), len(other.n))
        grown = [(_grow(a, g), _grow(b, g)) for a, b in zip(self.spread_fields(), other.spread_fields(), strict=True)]
        pivot, shift, m2 = spread.pair(*zip(*grown, strict=True))
        return MeanState(
            _grow(self.sum_wl, g) + _grow(other.sum_wl, g),
            _grow(self.sum_w, g) + _grow(other.sum_w, g),
            _grow(self.n, g) + _grow(other.n, g),
            self.total_wl + other.total_wl,
            self.total_w + other.total_w,
            pivot,
            shift,
            m2,
            _grow(self.sum_w2, g) + _grow(other.sum_w2, g),
            _merged_total(self.total_w, self.total, (other.total_w, *other.total)),
            self.total_w2 + other.total_w2,
        )

    def spread_fields(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(sum w, pivot, shift, M2) per group: one part of spread.combine."""
        return (self.sum_w, self.pivot, self.shift, self.m2)

    def moments(self, select: Any = None) -> tuple[float, float, float, float]:
        """(sum w*l, M2 of l, sum w, sum w^2) over all rows (None or a slice: the pairwise
        totals) or one group's code: the input of stats.t_interval."""
        if select is None or isinstance(select, slice):
            return (self.total_wl, self.total[2], self.total_w, self.total_w2)
        return (
            float(self.sum_wl[select]),
            float(self.m2[select]),
            float(self.sum_w[select]),
            float(self.sum_w2[select]),
        )

    def mean(self) -> np.ndarray:
        """The weighted mean per group; NaN where a group has no weight."""
        return weighted_mean(self.sum_wl, self.sum_w)


def _merged_total(
    w: float, total: tuple[float, float, float], part: tuple[float, float, float, float]
) -> tuple[float, float, float]:
    """The spread over all rows, ``total`` (of weight w), with a part's (weight, pivot, shift, M2) added."""
    return spread.pair_scalar(w, total, part[0], (part[1], part[2], part[3]))


@dataclass
class SkillState:
    """What a skill score (D2) needs beyond its mean deviance: the reference's inputs.

    Per group, the weighted sums of the target's statistics (mergeable by addition); or,
    for a reference with no finite summary (a weighted quantile), the rows' targets,
    weights and group codes themselves (mergeable by concatenation, O(rows)).
    """

    sum_ws: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    total_ws: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    # With --ci: per statistic, replicate and group, the sum of r * w * stat (m, B, groups).
    sum_rws: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))

    def add_replicates(self, rws: np.ndarray, groups: int) -> None:
        """Add one block's (m, B, groups) replicate sums of w * stat."""
        self.sum_rws = (_grow(self.sum_rws, groups) if self.sum_rws.size else np.zeros(rws.shape)) + rws

    def update(
        self, stats: np.ndarray | None, y: np.ndarray, weight: np.ndarray | None, codes: np.ndarray, groups: int
    ) -> None:
        w = np.ones(len(y)) if weight is None else weight
        if stats is None:
            keep = w > 0
            self.kept.append((y[keep].copy(), w[keep].copy(), codes[keep].copy()))
            return
        ws = stats * w[:, None]
        m = stats.shape[1]
        sums = np.stack([np.bincount(codes, weights=ws[:, j], minlength=groups) for j in range(m)], axis=1)
        self.sum_ws = (_grow(self.sum_ws.T, groups).T if self.sum_ws.size else np.zeros((groups, m))) + sums
        self.total_ws = (self.total_ws if self.total_ws.size else np.zeros(m)) + ws.sum(axis=0)

    def merge(self, other: SkillState) -> SkillState:
        if not self.sum_ws.size or not other.sum_ws.size:
            sums = self.sum_ws if self.sum_ws.size else other.sum_ws
            totals = self.total_ws if self.total_ws.size else other.total_ws
        else:
            g = max(len(self.sum_ws), len(other.sum_ws))
            sums = _grow(self.sum_ws.T, g).T + _grow(other.sum_ws.T, g).T
            totals = self.total_ws + other.total_ws
        return SkillState(sums, totals, self.kept + other.kept, _sum_grown(self.sum_rws, other.sum_rws))

    def moved(self, move: Any, mapping: np.ndarray) -> SkillState:
        """Group codes renumbered (see Accumulator.aligned_to)."""
        sums = move(self.sum_ws.T).T if self.sum_ws.size else self.sum_ws
        kept = [(y, w, mapping[c]) for y, w, c in self.kept]
        replicates = move(self.sum_rws) if self.sum_rws.size else self.sum_rws
        return SkillState(sums, self.total_ws, kept, replicates)

    def targets(self, select: Any) -> tuple[np.ndarray, np.ndarray]:
        """The kept targets and weights of the selected groups (every group for a slice)."""
        ys = [y for y, _, _ in self.kept]
        ws = [w for _, w, _ in self.kept]
        if not isinstance(select, slice):
            chosen = [np.isin(c, np.atleast_1d(select)) for _, _, c in self.kept]
            ys = [y[k] for y, k in zip(ys, chosen, strict=True)]
            ws = [w[k] for w, k in zip(ws, chosen, strict=True)]
        return (np.concatenate(ys) if ys else np.zeros(0)), (np.concatenate(ws) if ws else np.zeros(0))


def _sum_grown(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b with the group axis (the last) padded to the longer; an empty one is nothing."""
    if not a.size or not b.size:
        return a if a.size else b
    g = max(a.shape[-1], b.shape[-1])
    total: np.ndarray = _grow(a, g) + _grow(b, g)
    return total


@dataclass
class BootstrapState:
    """Per replicate and group: sum of r * w * loss and sum of r * w (r ~ Poisson(1))."""

    replicates: int
    sum_rwl: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    sum_rw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def __post_init__(self) -> None:
        if self.sum_rwl.size == 0:
            self.sum_rwl = np.zeros((self.replicates, 0))
            self.sum_rw = np.zeros((self.replicates, 0))

    def add(self, rwl: np.ndarray, rw: np.ndarray, groups: int) -> None:
        """Add one block's (B, groups) replicate sums of w * loss and of w."""
        self.sum_rwl = _grow(self.sum_rwl, groups) + rwl
        self.sum_rw = _grow(self.sum_rw, groups) + rw

    def merge(self, other: BootstrapState) -> BootstrapState:
        g = max(self.sum_rwl.shape[1], other.sum_rwl.shape[1])
        return BootstrapState(
            self.replicates,
            _grow(self.sum_rwl, g) + _grow(other.sum_rwl, g),
            _grow(self.sum_rw, g) + _grow(other.sum_rw, g),
        )


@dataclass
class PairedState:
    """Moments of d = loss(model) - loss(baseline) per group, weighted: sum w d, its
    spread (spread.py: pivot, shift, centred M2), sum w, sum w^2 and the count."""

    sum_wd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pivot: np.ndarray = field(default_factory=lambda: np.zeros(0))
    shift: np.ndarray = field(default_factory=lambda: np.zeros(0))
    m2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_w: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_w2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # sum of w * loss of the model and of the baseline, on the rows both kept (--nan drop).
    sum_wm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_wb: np.ndarray = field(default_factory=lambda: np.zeros(0))
    room: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False, kw_only=True)  # _room

    def update(
        self,
        pair: tuple[np.ndarray, np.ndarray],
        weight: np.ndarray | None,
        codes: np.ndarray,
        groups: int,
        counted: np.ndarray | None = None,
        grouping: Grouping | None = None,
    ) -> None:
        """Add rows of (model loss, baseline loss); ``weight`` is 0 on rows either dropped."""
        d = pair[0] - pair[1]
        w = np.ones(len(d)) if weight is None else weight
        into = Grouping(codes, None, groups) if grouping is None else grouping
        batch_wd, batch_w = into.sums(w * d), into.sums(w)
        parts = spread.of_groups(d, weight, into.rows, batch_wd, batch_w)
        into.merge_spread(self, into.gather(self.sum_w), batch_w, parts)
        into.add(self, "sum_wm", into.sums(w * pair[0]))
        into.add(self, "sum_wb", into.sums(w * pair[1]))
        into.add(self, "sum_wd", batch_wd)
        into.add(self, "sum_w", batch_w)
        into.add(self, "sum_w2", into.sums(w * w))
        into.add(self, "n", into.counted(counted))

    def add_sums(self, sums: tuple[float, ...]) -> None:
        """Add one block's (sum w d, pivot, shift, M2, sum w, sum w^2, n, sum w m, sum w b) when
        there is one group."""
        wd, pivot, shift, m2, w, w2, n, wm, wb = sums
        p, s, m = (float(_grow(a, 1)[0]) for a in (self.pivot, self.shift, self.m2))
        merged = spread.pair_scalar(float(_grow(self.sum_w, 1)[0]), (p, s, m), w, (pivot, shift, m2))
        self.pivot, self.shift, self.m2 = (np.array([x]) for x in merged)
        self.sum_wd = _grow(self.sum_wd, 1) + wd
        self.sum_w = _grow(self.sum_w, 1) + w
        self.sum_w2 = _grow(self.sum_w2, 1) + w2
        self.n = _grow(self.n, 1) + int(n)
        self.sum_wm = _grow(self.sum_wm, 1) + wm
        self.sum_wb = _grow(self.sum_wb, 1) + wb

    def merge(self, other: PairedState) -> PairedState:
        g = max(len(self.n), len(other.n))
        a, b = ([_grow(x, g) for x in s.fields()] for s in (self, other))
        pivot, shift, m2 = spread.pair((a[4], *a[1:4]), (b[4], *b[1:4]))
        summed = [x + y for x, y in zip(a, b, strict=True)]
        return PairedState(summed[0], pivot, shift, m2, *summed[4:])

    def fields(self) -> tuple[np.ndarray, ...]:
        return (self.sum_wd, self.pivot, self.shift, self.m2, self.sum_w, self.sum_w2, self.n, self.sum_wm, self.sum_wb)

    def moments(self, select: Any) -> tuple[float, float, float, float]:
        """(sum w d, M2 of d, sum w, sum w^2) of one group's code, or of every group (a slice:
        the groups' spreads merged)."""
        if not isinstance(select, slice):
            return (
                float(self.sum_wd[select]),
                float(self.m2[select]),
                float(self.sum_w[select]),
                float(self.sum_w2[select]),
            )
        m2 = spread.combine(self.sum_w, self.pivot, self.shift, self.m2)[2] if len(self.n) else np.float64(0.0)
        return (float(self.sum_wd.sum()), float(m2), float(self.sum_w.sum()), float(self.sum_w2.sum()))


def _masked(weight: np.ndarray | None, mask: np.ndarray | None, n: int) -> np.ndarray | None:
    """Weights with dropped rows set to 0 (None when nothing is weighted or dropped)."""
    if mask is None:
        return weight
    masked: np.ndarray = (np.ones(n) if weight is None else weight) * mask
    return masked


def _both(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    return a if b is None else a & b


@dataclass
class Accumulator:
    """All the state of one evaluation: means, and optionally bootstrap and paired moments."""

    keys: list[Key]
    replicates: int = 0
    baseline: str | None = None
    seed: int = 0
    groups: GroupIndex = field(default_factory=GroupIndex)
    means: dict[Key, MeanState] = field(default_factory=dict)
    boot: dict[Key, BootstrapState] = field(default_factory=dict)
    paired: dict[Key, PairedState] = field(default_factory=dict)
    # Skill scores (D2): by loss label, the target statistics function (params bound), or
    # None where the reference keeps the targets; their state per key.
    skills: dict[str, Any] = field(default_factory=dict)
    skill_states: dict[Key, SkillState] = field(default_factory=dict)
    # --nan drop: models may keep different rows, so the difference to the baseline gets its own
    # replicate sums on the rows both kept: (model, baseline) per paired key.
    shared: bool = False
    pair_boot: dict[Key, tuple[BootstrapState, BootstrapState]] = field(default_factory=dict)
    # Keep the means' spread (spread.py): only the t interval reads it.
    spread: bool = True
    _checked_groups: int = field(default=1, repr=False)
    _sharing: bool = field(default=False, repr=False)  # the means share their w sums and counts
    # Some batch gave models different rows (or this state is a merge): no sharing from then on.
    _diverged: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        for key in self.keys:
            self.means.setdefault(key, MeanState())
            if key[1] in self.skills:
                self.skill_states.setdefault(key, SkillState())
            if self.replicates:
                self.boot.setdefault(key, BootstrapState(self.replicates))
            if self.baseline is not None and key[0] != self.baseline:
                self.paired.setdefault(key, PairedState())
                if self.replicates and self.shared:
                    self.pair_boot.setdefault(key, (BootstrapState(self.replicates), BootstrapState(self.replicates)))
        if self.replicates:
            self.check_fits(max(1, len(self.groups)))

    def state_bytes(self, groups: int) -> int:
        """The most bytes the state holds in a batch over ``groups`` groups: every group-sized
        array at the capacity it grows to (sums per group double their room: at most twice the
        groups), a replicate array being grown (its padded copy and the sum, beside the old),
        and the batch's replicate sums of every column, (columns, B, groups)."""
        slots = 2 * max(groups, 32)
        stats = max((s.sum_ws.shape[1] for s in self.skill_states.values() if s.sum_ws.size), default=2)
        vectors = 7 * len(self.means) + 9 * len(self.paired) + stats * len(self.skill_states)
        per_group = 8 * self.replicates * groups  # one (B, groups) float64 array
        replicated = 2 * len(self.boot) + 4 * len(self.pair_boot) + stats * len(self.skill_states)
        columns = len(self.replicate_layout()) + stats * len(self.skill_states) + 3 * len(self.pair_boot)
        growing = 2 * per_group if self.replicates else 0
        return 8 * vectors * slots + per_group * (replicated + columns) + growing

    def check_fits(self, groups: int, *, so_far: bool = False) -> None:
        """Refuse, with the estimate, a bootstrap whose state would pass the memory allowed;
        before the state grows to ``groups`` groups (``so_far``: found in the rows read so far)."""
        need, limit = self.state_bytes(groups), bootstrap.memory_limit()
        if need > limit:
            found = f"{groups:,} group(s) found so far" if so_far else f"{groups:,} group(s)"
            raise OptionError(
                f"--ci with --bootstrap {self.replicates} over {found} x {len(self.keys)} model-loss pair(s) "
                f"needs about {_size(need)} of replicate and group state, more than the {_size(limit)} allowed "
                "(a quarter of this machine's memory); lower --bootstrap, use --ci-method t "
                "(no replicates), or use fewer --by groups"
            )

    def update(
        self,
        per_row: dict[Key, np.ndarray],
        weight: np.ndarray | None,
        codes: np.ndarray,
        row_offset: int,
        valid: dict[str, np.ndarray] | None = None,
        y_true: np.ndarray | None = None,
    ) -> None:
        """Add one batch: per-row losses for every key, the batch's weights and group codes.

        ``valid`` holds, for models that lose rows to --nan drop, the rows that count:
        the others get weight 0 and are not counted in n. ``y_true`` feeds skill scores.
        """
        groups = len(self.groups)
        if self.replicates and groups > self._checked_groups:
            self.check_fits(groups, so_far=True)  # groups are found as rows come: before the state grows
            self._checked_groups = groups
        valid = valid or {}
        stats = {
            label: fn(y_true) if fn is not None and y_true is not None else None for label, fn in self.skills.items()
        }
        grouping = self.groups.grouping(codes) if groups > 1 else None
        # While every model has kept every row, every key's sums of w and w^2 and its row counts
        # per group are the same: in an unweighted batch one key's arrays serve all.
        if valid or len(per_row) != len(self.means):
            self._diverged = True
        share = grouping is not None and weight is None and not self._diverged
        if self._sharing and not share:
            for m in self.means.values():
                m.sum_w, m.sum_w2, m.n = m.sum_w.copy(), m.sum_w2.copy(), m.n.copy()
        self._sharing = share
        owner: MeanState | None = None
        for key, values in per_row.items():
            mask = valid.get(key[0])
            mean = self.means[key]
            mean.update(values, _masked(weight, mask, len(values)), codes, groups, mask, grouping, owner, self.spread)
            owner = mean if share and owner is None else owner
            if key in self.skill_states and y_true is not None:
                masked = _masked(weight, mask, len(values))
                self.skill_states[key].update(stats[key[1]], y_true, masked, codes, groups)
        for key, state in self.paired.items():
            base = self.baseline or ""
            mask = _both(valid.get(key[0]), valid.get(base))
            pair = (per_row[key], per_row[(base, key[1])])
            state.update(pair, _masked(weight, mask, len(codes)), codes, groups, mask, grouping)
        if self.replicates:
            self._update_bootstrap(per_row, weight, codes, row_offset, groups, valid, stats)

    def _update_bootstrap(
        self,
        per_row: dict[Key, np.ndarray],
        weight: np.ndarray | None,
        codes: np.ndarray,
        row_offset: int,
        groups: int,
        valid: dict[str, np.ndarray],
        stats: dict[str, np.ndarray | None] | None = None,
    ) -> None:
        n = len(codes)
        same_weights = weight is None and not valid
        layout = self.replicate_layout(same_weights)
        # A skill score's reference statistics are replicated alike: extra columns w * stat.
        extra = [(key, st) for key in self.keys if key in per_row and (st := (stats or {}).get(key[1])) is not None]
        pairs = list(self.pair_boot)
        width = len(layout) + sum(st.shape[1] for _, st in extra) + 3 * len(pairs)
        columns = np.empty((n, width))
        weights = {model: _masked(weight, valid.get(model), n) for model in dict.fromkeys(k[0] for k in self.keys)}
        for i, (key, model) in enumerate(layout):
            w = weights[model]
            if key is None:
                columns[:, i] = 1.0 if w is None else w
            else:
                columns[:, i] = per_row[key] if w is None else w * per_row[key]
        i = len(layout)
        for key, st in extra:
            w = weights[key[0]]
            columns[:, i : i + st.shape[1]] = st if w is None else w[:, None] * st
            i += st.shape[1]
        base = self.baseline or ""
        for key in pairs:  # the rows both the model and the baseline kept: w, w * model loss, w * base loss
            w = _masked(weight, _both(valid.get(key[0]), valid.get(base)), n)
            columns[:, i] = 1.0 if w is None else w
            columns[:, i + 1] = per_row[key] if w is None else w * per_row[key]
            columns[:, i + 2] = per_row[(base, key[1])] if w is None else w * per_row[(base, key[1])]
            i += 3
        sums = self.add_replicate_columns(columns, codes, row_offset, groups, same_weights)
        i = len(layout)
        for key, st in extra:
            self.skill_states[key].add_replicates(sums[i : i + st.shape[1]], groups)
            i += st.shape[1]
        for key in pairs:
            model_state, base_state = self.pair_boot[key]
            model_state.add(sums[i + 1], sums[i], groups)
            base_state.add(sums[i + 2], sums[i], groups)
            i += 3

    def replicate_layout(self, same_weights: bool = False) -> list[tuple[Key | None, str]]:
        """The columns the bootstrap reduces: per model its weight (key None), then
        weight x loss for each of its losses. One product per tile gives them all.

        ``same_weights``: every model has the same weights (no --weight, no dropped
        rows), so one weight column serves them all (a quarter less work with two losses).
        """
        out: list[tuple[Key | None, str]] = []
        models = list(dict.fromkeys(k[0] for k in self.keys))
        for j, model in enumerate(models):
            if j == 0 or not same_weights:
                out.append((None, model))
            out.extend((k, model) for k in self.keys if k[0] == model)
        return out

    def add_replicate_columns(
        self, columns: np.ndarray, codes: np.ndarray, row_offset: int, groups: int, same_weights: bool = False
    ) -> np.ndarray:
        """Add the replicate sums of one batch's columns (the first laid out as
        replicate_layout(same_weights) says); return every column's sums, (columns, B, groups)."""
        sums = replicate_sums(self.seed, row_offset, columns, codes, groups, self.replicates)
        rw: dict[str, np.ndarray] = {}
        for i, (slot, model) in enumerate(self.replicate_layout(same_weights)):
            if slot is None:
                rw[model] = sums[i]
            else:
                self.boot[slot].add(sums[i], rw[model] if model in rw else next(iter(rw.values())), groups)
        return sums

    def merge(self, other: Accumulator) -> Accumulator:
        """Combine two accumulators of the same evaluation (group codes are re-aligned)."""
        other = other.aligned_to(self.groups)
        out = Accumulator(
            self.keys,
            self.replicates,
            self.baseline,
            self.seed,
            self.groups,
            skills=self.skills,
            shared=self.shared,
            spread=self.spread,
        )
        out._diverged = True  # the parts may have kept different rows per model
        out.means = {k: self.means[k].merge(other.means[k]) for k in self.keys}
        out.skill_states = {k: self.skill_states[k].merge(other.skill_states[k]) for k in self.skill_states}
        out.boot = {k: self.boot[k].merge(other.boot[k]) for k in self.boot}
        out.paired = {k: self.paired[k].merge(other.paired[k]) for k in self.paired}
        out.pair_boot = {
            k: (m.merge(other.pair_boot[k][0]), b.merge(other.pair_boot[k][1])) for k, (m, b) in self.pair_boot.items()
        }
        return out

    def aligned_to(self, groups: GroupIndex) -> Accumulator:
        """This state with its group codes renumbered to ``groups`` (which may grow)."""
        mapping = np.array([groups.code(k) for k in self.groups.keys], dtype=np.intp)
        size = len(groups)

        def move(a: np.ndarray) -> np.ndarray:
            out = np.zeros((*a.shape[:-1], size), dtype=a.dtype)
            out[..., mapping[: a.shape[-1]]] += a  # codes are distinct: no lost updates
            return out

        out = Accumulator(
            self.keys,
            self.replicates,
            self.baseline,
            self.seed,
            groups,
            skills=self.skills,
            shared=self.shared,
            spread=self.spread,
        )
        out._diverged = self._diverged
        out.skill_states = {k: s.moved(move, mapping) for k, s in self.skill_states.items()}
        out.means = {
            k: MeanState(
                move(s.sum_wl),
                move(s.sum_w),
                move(s.n),
                s.total_wl,
                s.total_w,
                move(s.pivot),
                move(s.shift),
                move(s.m2),
                move(s.sum_w2),
                s.total,
                s.total_w2,
            )
            for k, s in self.means.items()
        }
        out.boot = {k: BootstrapState(s.replicates, move(s.sum_rwl), move(s.sum_rw)) for k, s in self.boot.items()}
        out.paired = {k: PairedState(*(move(a) for a in s.fields())) for k, s in self.paired.items()}
        out.pair_boot = {
            k: tuple(BootstrapState(s.replicates, move(s.sum_rwl), move(s.sum_rw)) for s in pair)  # type: ignore[misc]
            for k, pair in self.pair_boot.items()
        }
        return out
