"""NumPy files: an .npz archive of named arrays, or .npy files of one array each.

Arrays become columns: a 1-D array (or n x 1) is one column, a 2-D n x k array a
list column of k class values per row (a multiclass model). Nothing is loaded
whole: .npy files and stored (``np.savez``) members are memory-mapped,
compressed (``np.savez_compressed``) members are decompressed as they are
read, and batches are slices of rows. Rows of different arrays match by
position, so every array must have the same length.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa

from ..errors import BadValueError, ColumnError, EmptyInputError, InputError
from .source import BATCH_ROWS, SAMPLE_ROWS, Source, cast_batch, first_line

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra field length
_KINDS = "biuf"  # bool, int, unsigned, float: what a loss can read (and text labels, 'U')


@dataclass
class ArrayColumn:
    """One array seen as a column: its length, its class width (0: 1-D) and a row reader."""

    name: str
    rows: int
    width: int
    dtype: np.dtype[Any]
    read: Callable[[int, int], np.ndarray]

    @property
    def arrow_type(self) -> pa.DataType:
        value = pa.string() if self.dtype.kind == "U" else pa.from_numpy_dtype(self.dtype)
        return pa.list_(pa.float64(), self.width) if self.width else value

    def arrow(self, start: int, stop: int) -> pa.Array:
        block = self.read(start, stop)
        if not self.width:
            return pa.array(np.ascontiguousarray(block.reshape(-1)))
        flat = np.ascontiguousarray(block, dtype=np.float64).reshape(-1)
        return pa.FixedSizeListArray.from_arrays(pa.array(flat), self.width)


def open_numpy(path: str, data: Any = None) -> Source:
    """An .npz archive (file or ``data``, a buffer from stdin); a lone .npy is refused with the fix."""
    name = "<stdin>" if data is not None else path
    is_npz = bytes(data[:2]) == b"PK" if data is not None else Path(path).suffix.lower() == ".npz"
    if not is_npz:
        raise InputError(
            f"{name} holds one array; give each model's array as a .npy file and the targets with "
            "--truth y.npy (losscli eval model_a.npy model_b.npy --truth y.npy), or save them together with np.savez"
        )
    columns = _npz_columns(name, path if data is None else io.BytesIO(bytes(data)))
    return arrays_source(name, columns)


def open_npy_files(paths: list[str], names: list[str], truth: str | None, target: str | None) -> Source:
    """Several .npy files, one model each (named after the file), and the targets' file (``--truth``)."""
    columns = [_npy_column(path, name) for path, name in zip(paths, names, strict=True)]
    if truth is not None:
        columns.insert(0, _npy_column(truth, target or "y_true"))
    seen: dict[str, str] = {}
    for column, path in zip(columns, [*([truth] if truth else []), *paths], strict=True):
        if column.name in seen:
            raise ColumnError(f"{path} and {seen[column.name]} both give the column {column.name!r}; rename one")
        seen[column.name] = str(path)
    return arrays_source(" + ".join([*paths, *([truth] if truth else [])]), columns, files=seen)


def arrays_source(name: str, columns: list[ArrayColumn], files: dict[str, str] | None = None) -> Source:
    """Columns of equal length as a Source that streams slices of rows."""
    if not columns:
        raise EmptyInputError(f"{name}: holds no arrays")
    where = files or {c.name: f"array {c.name!r}" for c in columns}
    first = columns[0]
    for column in columns[1:]:
        if column.rows != first.rows:
            raise BadValueError(
                f"{name}: {where[column.name]} has {column.rows} rows but {where[first.name]} has {first.rows}; "
                "arrays are matched by position and must have the same length"
            )
    schema = pa.schema([pa.field(c.name, c.arrow_type) for c in columns])
    by_name = {c.name: c for c in columns}

    def batch(names: list[str], start: int, stop: int) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays([by_name[n].arrow(start, stop) for n in names], names=names)

    sample = pa.Table.from_batches([batch(schema.names, 0, min(first.rows, SAMPLE_ROWS))], schema=schema)

    def open_(names: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        for start in range(0, first.rows, BATCH_ROWS):
            yield cast_batch(batch(names, start, min(first.rows, start + BATCH_ROWS)), numeric)

    return Source(name, "numpy", schema, sample, open_, rows=first.rows)


def _npy_column(path: str, name: str) -> ArrayColumn:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({first_line(exc)})") from None
    if not isinstance(array, np.ndarray):
        raise InputError(f"{path}: is an archive of several arrays; give it alone (losscli eval {path})")
    return _column(path, name, array.shape, array.dtype, lambda a, b: array[a:b])


def _npz_columns(name: str, file: str | IO[bytes]) -> list[ArrayColumn]:
    try:
        archive = zipfile.ZipFile(file)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{name}: not a readable .npz archive ({first_line(exc)})") from None
    columns = []
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            continue
        array_name = info.filename.removesuffix(".npy")
        where = f"{name}: array {array_name!r}"
        try:
            with archive.open(info) as fh:
                shape, fortran, dtype = _header(fh)
                offset = fh.tell()
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise InputError(f"{where} cannot be read ({first_line(exc)})") from None
        if info.compress_type == zipfile.ZIP_STORED and isinstance(file, str) and not fortran:
            read = _mapped(file, info, offset, shape, dtype)
        else:
            read = _streamed(archive, info, shape, dtype, fortran)
        columns.append(_column(where, array_name, shape, dtype, read))
    return columns


def _header(fh: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    version = np.lib.format.read_magic(fh)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(fh)
    return tuple(shape), bool(fortran), np.dtype(dtype)


def _mapped(
    path: str, info: zipfile.ZipInfo, offset: int, shape: tuple[int, ...], dtype: np.dtype[Any]
) -> Callable[[int, int], np.ndarray]:
    """A stored member is the .npy bytes as they are in the archive: map them in place."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        _, name_len, extra_len = _LOCAL_HEADER.unpack(fh.read(_LOCAL_HEADER.size))
    start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len + offset
    if int(np.prod(shape)) == 0:
        empty = np.empty(shape, dtype)
        return lambda a, b: empty[a:b]
    array = np.memmap(path, dtype=dtype, mode="r", offset=start, shape=shape)
    return lambda a, b: array[a:b]


def _streamed(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, shape: tuple[int, ...], dtype: np.dtype[Any], fortran: bool
) -> Callable[[int, int], np.ndarray]:
    """A compressed member, decompressed row block by row block as the batches ask for them."""
    if fortran and len(shape) > 1:
        whole = np.load(io.BytesIO(archive.read(info)), allow_pickle=False)  # columns first: no row streaming
        return lambda a, b: whole[a:b]
    row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
    state: dict[str, Any] = {"fh": None, "row": 0}

    def read(start: int, stop: int) -> np.ndarray:
        if state["fh"] is None or start < state["row"]:
            state["fh"] = archive.open(info)
            _header(state["fh"])
            state["row"] = 0
        fh = state["fh"]
        if start > state["row"]:
            fh.read((start - state["row"]) * row_bytes)
        raw = fh.read((stop - start) * row_bytes)
        state["row"] = stop
        return np.frombuffer(raw, dtype=dtype).reshape((stop - start, *shape[1:]))

    return read


def _column(
    where: str, name: str, shape: tuple[int, ...], dtype: np.dtype[Any], read: Callable[[int, int], np.ndarray]
) -> ArrayColumn:
    """Check an array can be a column: numbers (or text labels), 1-D or rows x classes."""
    if dtype.kind not in _KINDS and dtype.kind != "U":
        raise InputError(f"{where} holds {dtype} values; losscli reads arrays of numbers (or text labels)")
    if len(shape) == 0 or len(shape) > 2:
        raise InputError(
            f"{where} has shape {shape}; losscli reads 1-D arrays (one value per row) or 2-D arrays (rows x classes)"
        )
    width = shape[1] if len(shape) == 2 and shape[1] != 1 else 0
    if width and dtype.kind == "U":
        raise InputError(f"{where} is a 2-D array of text; class scores must be numbers")
    if not dtype.isnative:
        native = dtype.newbyteorder("=")
        return ArrayColumn(name, shape[0], width, native, lambda a, b: read(a, b).astype(native))
    return ArrayColumn(name, shape[0], width, dtype, read)
