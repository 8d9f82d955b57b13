"""What a notebook holds, as a Source: pandas or polars DataFrames, Arrow tables and
batches, anything with ``__arrow_c_stream__``, and dicts of equal-length arrays.

polars is never imported: its DataFrame (like DuckDB's and many others' results)
speaks the Arrow PyCapsule stream interface, which pyarrow reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import BadValueError, DataTypeError, InputError
from .source import Source, first_line, source_from_table, table_from_pandas

ACCEPTED = (
    "a path or a list of paths, a pandas or polars DataFrame, a pyarrow Table or RecordBatch, "
    "an object with __arrow_c_stream__, or a dict of equal-length arrays or lists"
)


def source_from_data(data: Any) -> Source:
    """An in-memory table of any accepted kind as a Source; a TypeError names the kinds for anything else."""
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "columns"):
        table = table_from_pandas(data)
        return source_from_table(_plain_types(table), "<dataframe>")
    if isinstance(data, pa.Table):
        return source_from_table(_plain_types(data), "<table>")
    if isinstance(data, pa.RecordBatch):
        return source_from_table(_plain_types(pa.Table.from_batches([data])), "<record batch>")
    if isinstance(data, Mapping):
        # Python lists and object arrays carry no column types: pyarrow guessed them, as in a CSV.
        return source_from_table(table_from_arrays(data, "data"), "<arrays>", guessed_types=True)
    if hasattr(data, "__arrow_c_stream__"):
        name = f"<{module} {type(data).__name__}>"
        try:
            table = pa.table(data)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InputError(f"{name}: cannot be read through its Arrow stream ({first_line(exc)})") from None
        return source_from_table(_plain_types(table), name)
    raise DataTypeError(f"data= takes {ACCEPTED}; got {type(data).__module__}.{type(data).__name__}")


def table_from_arrays(arrays: Mapping[Any, Any], parameter: str) -> pa.Table:
    """Named 1-D arrays or lists as columns; a 2-D array (rows x classes) as a list column."""
    for k, v in arrays.items():
        if not isinstance(v, pa.Array | pa.ChunkedArray) and np.ndim(v) == 0:
            # len() of a number is Python's TypeError, not a sentence: say what is needed.
            raise DataTypeError(
                f"{parameter}=: {str(k)!r} is a single value ({type(v).__name__} {v!r:.40}), not an array; "
                "give each column as a list or array of one value per row"
            )
    lengths = {str(k): len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        (a, n), (b, m) = next((x, y) for x in lengths.items() for y in lengths.items() if x[1] != y[1])
        raise BadValueError(
            f"{parameter}=: the array {a!r} has {n} rows but {b!r} has {m}; every array needs one value per row"
        )
    return pa.table({str(k): column(v, f"{parameter}[{str(k)!r}]") for k, v in arrays.items()})


def column(values: Any, where: str) -> pa.Array | pa.ChunkedArray:
    """One array-like as an Arrow column: 1-D as is, rows x k as a list column of k numbers."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 2:
        flat = np.ascontiguousarray(array, dtype=np.float64).reshape(-1)
        return pa.FixedSizeListArray.from_arrays(pa.array(flat), array.shape[1])
    if array.ndim != 1:
        raise BadValueError(f"{where} has shape {array.shape}; give 1-D arrays, or 2-D rows x classes")
    try:
        return pa.array(array)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed objects: as text, so the first cell that is not a number is named later.
        return pa.array([None if v is None else str(v) for v in array.tolist()])


def _plain_types(table: pa.Table) -> pa.Table:
    """Categoricals (dictionaries), string views and large strings (what pandas and polars
    export) as plain values, which every check reads: a categorical target is its labels."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type) or _is_wide_text(f.type):
            column = pa.chunked_array([_plain(chunk) for chunk in table.column(i).chunks], _plain_type(f.type))
            table = table.set_column(i, f.name, column)
    return table


def _is_wide_text(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype))


def _plain_type(dtype: pa.DataType) -> pa.DataType:
    value = dtype.value_type if pa.types.is_dictionary(dtype) else dtype
    return pa.string() if _is_wide_text(value) else value


def _plain(chunk: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(chunk.type):
        # Decoded by position: Arrow cannot take() from a string-view dictionary.
        values = chunk.dictionary.cast(_plain_type(chunk.type))
        return values.take(chunk.indices)
    return chunk.cast(pa.string())
