"""NumPy views of Arrow arrays' buffers, and Arrow arrays built from NumPy buffers.

``Array.to_numpy``, ``pa.array`` and compute calls given Python scalars all import
pandas; the CLI must not pay its start-up on every call, so the conversions losscli
needs are done here by hand. One module below every stage that meets Arrow (read,
core, report may each import it; read and core stay independent of each other).
pyarrow is imported only by the functions that build an array: the core imports this
module for input that may never have been Arrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa
    from numpy.typing import DTypeLike


def values_buffer(array: Any, dtype: DTypeLike) -> np.ndarray:
    """The values buffer of a fixed-width Arrow array as NumPy, read-only, from the buffer's
    start: the ``array.offset`` values before the array's own, then its own."""
    if not len(array):  # an empty array may have no values buffer
        return np.zeros(array.offset, dtype=dtype)
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=array.offset + len(array))


def numpy_view(array: Any, dtype: DTypeLike) -> np.ndarray:
    """A read-only NumPy view of a fixed-width Arrow array's own values."""
    return values_buffer(array, dtype)[array.offset :]


def numpy_dtype(arrow_type: Any) -> np.dtype[Any]:
    """The NumPy dtype of the values of an Arrow integer or floating-point type."""
    import pyarrow as pa

    kind = "f" if pa.types.is_floating(arrow_type) else "i" if pa.types.is_signed_integer(arrow_type) else "u"
    return np.dtype(f"{kind}{arrow_type.bit_width // 8}")


def null_mask(array: Any) -> np.ndarray:
    """True where ``array`` is null, unpacked from Arrow's validity bitmap."""
    validity = array.buffers()[0]
    if validity is None or not array.null_count:
        return np.zeros(len(array), dtype=bool)
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return ~bits[array.offset : array.offset + len(array)].astype(bool)


def int64_array(values: np.ndarray) -> pa.Array:
    """A NumPy integer vector as an int64 Arrow array."""
    import pyarrow as pa

    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def float64_array(values: np.ndarray) -> pa.Array:
    """A NumPy float vector as a float64 Arrow array."""
    import pyarrow as pa

    data = np.ascontiguousarray(values, dtype=np.float64)
    return pa.Array.from_buffers(pa.float64(), len(data), [None, pa.py_buffer(data)])


def bool_array(flags: np.ndarray) -> pa.Array:
    """A NumPy bool vector as a boolean Arrow array (bits packed as Arrow keeps them)."""
    import pyarrow as pa

    return pa.Array.from_buffers(pa.bool_(), len(flags), [None, pa.py_buffer(np.packbits(flags, bitorder="little"))])


def string_bytes(strings: Any) -> memoryview:
    """The strings of a string or large_string Arrow array without nulls, one after another,
    as UTF-8: its data buffer between the first and the last offsets (no copy)."""
    import pyarrow as pa

    if not len(strings):
        return memoryview(b"")
    width = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    ends = np.frombuffer(strings.buffers()[1], dtype=width, count=strings.offset + len(strings) + 1)
    return memoryview(strings.buffers()[2])[int(ends[strings.offset]) : int(ends[-1])]
