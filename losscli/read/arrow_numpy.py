"""Arrow columns to NumPy as the readers need them: float64 with NaN for null, matrices
of list columns, dictionary and group codes. Built from the buffers (see
losscli.arrow_buffers: the usual conversions import pandas)."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pyarrow as pa

from ..arrow_buffers import bool_array, int64_array, null_mask, numpy_view


def combined(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def to_float64(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric column as float64, nulls as NaN."""
    array = combined(column)
    if array.type != pa.float64():
        array = array.cast(pa.float64())
    values = numpy_view(array, np.float64)
    if array.null_count:
        values = values.copy()
        values[null_mask(array)] = np.nan
    return values


# Rows x columns of a transposing block: about 256 KiB, so it stays in a core's cache.
_TRANSPOSE_ELEMENTS = 1 << 15


def side_by_side(columns: list[np.ndarray]) -> np.ndarray:
    """``np.column_stack(columns)``, about 2x faster: each cache-sized block of rows is stacked
    as (columns, rows), then transposed into place (column_stack writes with a stride, which
    was most of a 10-class batch's extraction)."""
    n, k = len(columns[0]), len(columns)
    out = np.empty((n, k))
    step = max(64, _TRANSPOSE_ELEMENTS // max(k, 1))
    block = np.empty((k, min(n, step)))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        part = block[:, : hi - lo]
        for j, column in enumerate(columns):
            part[j] = column[lo:hi]
        out[lo:hi] = part.T
    return out


def list_to_matrix(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """A list<number> column as an (n, k) float64 matrix and a mask of rows that are
    missing or have another length than the first row (those rows are NaN)."""
    import pyarrow.compute as pc

    array = combined(column)
    n = len(array)
    lengths = to_float64(pc.list_value_length(array))
    k = int(lengths[np.isfinite(lengths)][0]) if np.isfinite(lengths).any() else 0
    bad = ~np.isfinite(lengths) | (lengths != k)
    out = np.full((n, k), np.nan)
    good = np.flatnonzero(~bad)
    if good.size:
        flat = to_float64(pc.list_flatten(array.filter(bool_array(~bad))))
        out[good] = flat.reshape(good.size, k)
    return out, bad


def dictionary_codes(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[Hashable]]:
    """A column as (per-row index into its distinct values, the distinct values); null is None."""
    import pyarrow.compute as pc  # only text labels and --by columns need it

    encoded = pc.dictionary_encode(combined(column))
    values: list[Hashable] = [*encoded.dictionary.to_pylist(), None]
    codes = numpy_view(encoded.indices.cast(pa.int64()), np.int64).copy()
    codes[null_mask(encoded.indices)] = len(values) - 1
    return codes, values


def group_codes(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """A --by column as (per-row index, its distinct values as an Arrow array, null one of them).

    The values are numbered in the order the rows first show them (null too), so a
    consumer can give new groups codes in first-seen order without looking at the rows.
    """
    import pyarrow.compute as pc

    array = combined(column)
    if pa.types.is_dictionary(array.type):  # encoding it again would keep its nulls and its order
        array = array.dictionary_decode()
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    values = encoded.dictionary
    codes = numpy_view(encoded.indices.cast(pa.int64()), np.int64)
    seen = np.maximum.accumulate(codes) if len(codes) else codes
    # Arrow numbers a dictionary in first-seen order; check it (one pass) rather than rely on it.
    if len(codes) and (seen[0] != 0 or seen[-1] != len(values) - 1 or (np.diff(seen) > 1).any()):
        distinct, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        renumber = np.empty(len(distinct), dtype=np.int64)
        renumber[order] = np.arange(len(distinct))
        codes = renumber[inverse.reshape(-1)]
        values = values.take(int64_array(distinct[order]))
    return codes, values


def row_numbers(n: int, start: int = 0) -> pa.Array:
    """start, start+1, ... as an int64 Arrow array."""
    return int64_array(np.arange(start, start + n, dtype=np.int64))
