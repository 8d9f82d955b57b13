"""Columns of text built by Arrow's kernels, for the CSV/TSV of many groups.

A delimited table of G groups x M models is G x M lines; joining each in Python
cost a few microseconds a line. Here each column becomes an Arrow string array
(numbers formatted in C, exactly as Python's ``repr`` and ``str`` write them)
and the lines are joined column-wise by Arrow (render._joined_rows gathers each
column in output order first).

No Python scalar is handed to pyarrow (``pa.scalar`` and ``pa.array`` of Python
objects import pandas, which ``eval`` must not pay for): scalars are taken out of
arrays built from buffers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_buffers import bool_array, float64_array, int64_array, string_bytes

# Arrow writes a double in its shortest round-trip digits, as repr does, but in fixed
# notation over another range: both use it between 1e-4 and 1e10, where only a whole
# number differs ("1" against "1.0"). Outside, repr writes the value (few, in practice).
_PLAIN_LOW, _PLAIN_HIGH = 1e-4, 1e10


def strings(texts: Sequence[str]) -> pa.Array:
    """Python strings as an Arrow string array (from buffers: no pandas)."""
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    joined = "".join(texts)
    if joined.isascii():  # a character is a byte: the lengths are the offsets' steps
        np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=offsets[1:])
        data = joined.encode("ascii")
    else:
        encoded = [t.encode("utf-8") for t in texts]
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(texts)), out=offsets[1:])
        data = b"".join(encoded)
    return pa.Array.from_buffers(pa.large_string(), len(texts), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def header_first(header: str, rows: int) -> pa.Array:
    """A column of ``rows`` empty strings but the first, ``header``: put before the first
    column with nothing between, the header becomes the text's first line (no copy of the text)."""
    data = header.encode("utf-8")
    offsets = np.full(rows + 1, len(data), dtype=np.int64)
    offsets[0] = 0
    return pa.Array.from_buffers(pa.large_string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def scalar(text: str) -> Any:
    """One string as an Arrow scalar (pa.scalar would import pandas)."""
    return strings([text])[0]


def integer_texts(values: np.ndarray, blank: np.ndarray | None = None) -> pa.Array:
    """Integers as str() writes them; '' where ``blank`` is set (a rank without a value)."""
    return _blanked(pc.cast(int64_array(values), pa.large_string()), blank)


def _blanked(text: pa.Array, blank: np.ndarray | None) -> pa.Array:
    return pc.if_else(bool_array(blank), scalar(""), text) if blank is not None and blank.any() else text


def float_texts(values: np.ndarray, blank: np.ndarray | None = None) -> pa.Array:
    """Floats as repr() writes them ('1.0', '1e-05', 'nan', '-inf'); '' where ``blank`` is set
    (a field not computed there)."""
    data = np.ascontiguousarray(values, dtype=np.float64)
    text = pc.cast(float64_array(data), pa.large_string())
    size = np.abs(data)
    with np.errstate(invalid="ignore"):
        plain = ((size >= _PLAIN_LOW) & (size < _PLAIN_HIGH)) | (data == 0)
        whole = plain & (data == np.trunc(data))
    if whole.any():
        text = pc.if_else(bool_array(whole), pc.binary_join_element_wise(text, scalar(".0"), scalar("")), text)
    other = ~plain & np.isfinite(data)
    if other.any():
        text = pc.replace_with_mask(text, bool_array(other), strings([repr(v) for v in data[other].tolist()]))
    return _blanked(text, blank)


def optional_floats(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """Python floats or None as (float64 values, where None), for float_texts; None when some
    value is of another type (a str, or an int, which repr writes without '.0')."""
    if not set(map(type, values)) <= {float, type(None)}:
        return None
    if None not in values:
        return np.array(values, dtype=np.float64), np.zeros(len(values), dtype=bool)
    cells = np.array(values, dtype=object)
    missing: np.ndarray = cells == None  # noqa: E711 (element-wise, as `is None`: None equals only None)
    cells[missing] = 0.0
    return cells.astype(np.float64), missing


def joined_lines(columns: Sequence[Any], delimiter: str) -> pa.Array:
    """Each row's cells joined by ``delimiter``, with a newline after: one string per row.
    A column is a string array or a string scalar (the same text on every row); the first
    is put before the second with nothing between (header_first)."""
    between, end = scalar(delimiter), scalar("\n")
    pieces = [columns[0], *(piece for column in columns[1:] for piece in (column, between))]
    return pc.binary_join_element_wise(*pieces[:-1], end, scalar(""))  # one pass


def concatenated(lines: pa.Array) -> str:
    """The strings of an array without nulls, one after another."""
    return str(string_bytes(lines), "utf-8")  # no bytes copy between
