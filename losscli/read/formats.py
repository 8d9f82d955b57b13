"""Readers: a path, a glob, ``-`` (stdin) or a DataFrame becomes a stream of pyarrow batches.

Formats: CSV and TSV (plain, .gz, .zst, .bz2), Parquet (file, directory or
glob), JSON Lines, Arrow IPC / Feather. The format comes from --input-format,
else the file's suffix, else (stdin) the first bytes. CSV, Parquet, JSON Lines
and IPC files stream in batches; Parquet and IPC on stdin are read into memory
first (they need random access).
"""

from __future__ import annotations

import io
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import ColumnError, InputError, OptionError
from ..request import Request
from .delimited import open_delimited
from .dialect import Dialect
from .source import Source

FORMATS = ("csv", "tsv", "parquet", "jsonl", "json", "arrow", "npz")
SNIFF_HEAD = 4096  # bytes of stdin read to tell its format
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".npz": "npz",
    ".npy": "npy",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}
_COMPRESSED = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
FILE_SUFFIXES = frozenset(_SUFFIXES) | frozenset(_COMPRESSED)
# First bytes that name a format (stdin has no suffix).
_MAGIC = (
    (b"PAR1", "parquet"),
    (b"ARROW1", "arrow"),
    (b"\xff\xff\xff\xff", "arrow"),
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bz2"),
    (b"\x93NUMPY", "npy"),
    (b"PK\x03\x04", "npz"),
)


def detect_format(path: str, explicit: str | None = None) -> tuple[str, str | None]:
    """(format, compression) from --input-format, else the suffix; stdin is sniffed later."""
    if explicit:
        if explicit not in FORMATS:
            raise InputError(f"unknown input format {explicit!r}; choose one of {', '.join(FORMATS)}")
        return explicit, None
    if path == "-":
        return "sniff", None
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = _COMPRESSED.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]], compression
    if Path(path).is_dir() or path.endswith("*.parquet"):
        return "parquet", None
    if not Path(path).exists():
        raise InputError(f"{path}: no such file")
    shown = "".join(Path(path).suffixes) or "(none)"
    raise InputError(
        f"{path}: cannot tell the format from the suffix {shown!r}; name it with --input-format ({', '.join(FORMATS)})"
    )


def dialect_of(request: Request) -> Dialect:
    """The request's --delimiter and --decimal, as the CSV reader takes them."""
    return Dialect.of(request.inputs.delimiter, request.inputs.decimal)


def open_source(path: str, input_format: str | None = None, dialect: Dialect | None = None) -> Source:
    """Open ``path`` (a file, a directory or glob of Parquet files, or ``-`` for stdin).

    ``dialect``: the delimiter and decimal mark of CSV/TSV (an error for other formats).
    """
    source = _open(path, input_format, dialect or Dialect())
    names = source.schema.names
    dupes = sorted(n for n, count in Counter(names).items() if count > 1)  # O(columns), not O(columns^2)
    if dupes:
        raise ColumnError(f"{source.name}: the column name {dupes[0]!r} appears more than once")
    return source


def _open(path: str, input_format: str | None, dialect: Dialect) -> Source:
    fmt, compression = detect_format(path, input_format)
    if path == "-":
        return _open_stdin(fmt, dialect)
    p = Path(path)
    if not p.exists() and not (fmt == "parquet" and any(ch in path for ch in "*?[")):
        raise InputError(f"{path}: no such file")
    if p.is_dir() and fmt != "parquet":
        raise InputError(f"{path}: is a directory, not a {fmt.upper()} file")
    if p.exists() and not p.is_file() and not p.is_dir():
        # A FIFO or <(...) gives its bytes once; a file is opened twice (its head is sniffed first).
        raise InputError(
            f"{path}: is a pipe or a device, not a file, and can be read only once; "
            f"give it on stdin instead: losscli eval - < {path}"
        )
    if compression and fmt not in ("csv", "tsv", "jsonl", "json"):
        raise InputError(f"{path}: compressed {fmt} is not supported; compress CSV, TSV or JSON Lines only")
    if fmt not in ("csv", "tsv"):
        _no_dialect(path, fmt, dialect)
        return _reader(fmt)(path)
    return _delimited(path, fmt, dialect)


def _delimited(path: str, fmt: str, dialect: Dialect, stream: Any = None) -> Source:
    """CSV (delimiter sniffed unless given) or TSV (tab unless given)."""
    delimiter = dialect.delimiter or ("\t" if fmt == "tsv" else None)
    return open_delimited(path, delimiter=delimiter, decimal=dialect.decimal, fmt=fmt, stream=stream)


def _no_dialect(path: str, fmt: str, dialect: Dialect) -> None:
    if dialect.given:
        option = "--delimiter" if dialect.delimiter is not None else "--decimal"
        raise OptionError(f"{option} applies to CSV and TSV text; {path} is {fmt}")


def _reader(fmt: str) -> Callable[..., Source]:
    """The opener of a binary format, imported on first use (pyarrow.parquet alone costs
    25 ms of start-up that a CSV run should not pay)."""
    if fmt == "parquet":
        from .parquet import open_parquet

        return open_parquet
    if fmt == "jsonl":
        from .jsonl import open_jsonl

        return open_jsonl
    if fmt == "json":
        from .json_array import open_json

        return open_json
    if fmt in ("npz", "npy"):
        from .numpy_files import open_numpy

        return open_numpy
    from .ipc import open_ipc

    return open_ipc


class _Prefixed:
    """A read-once stream with its first bytes (already read to sniff the format) put back."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = head
        self._rest = rest
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            data, self._head = self._head + bytes(self._rest.read()), b""
            return data
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            if len(data) < size:
                data += bytes(self._rest.read(size - len(data)))
            return data
        return bytes(self._rest.read(size))

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


class _Stdin:
    """stdin's descriptor read directly, each read filled until ``size`` or the end.

    Not ``sys.stdin.buffer``: a reader thread blocked in its read holds the buffer's lock, and an
    interrupted run whose upstream is still silent would then abort at interpreter shutdown
    (which takes that lock to close stdin) instead of exiting 128 + the signal.
    """

    def __init__(self, fd: int) -> None:
        self._raw = io.FileIO(fd, "rb", closefd=False)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self._raw.readall()
        parts, left = [], size
        while left > 0 and (part := self._raw.read(left)):
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def readinto(self, view: memoryview) -> int:
        return self._raw.readinto(view) or 0  # a short read; _fill asks again

    def isatty(self) -> bool:
        return self._raw.isatty()

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return False

    def close(self) -> None:
        """stdin stays open: it is the process's, not the reader's."""


def _read_to_eof(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _open_stdin(fmt: str, dialect: Dialect) -> Source:
    """stdin: CSV/TSV stream in blocks; other formats are identified by their first bytes."""
    raw: Any
    try:
        raw = _Stdin(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):  # a stdin without a descriptor (a test's, a notebook's)
        raw = sys.stdin.buffer
    if raw.isatty():
        # On a terminal Ctrl-D ends one read, not the stream: each buffered read would wait
        # for another. Read up to the first end of input once; typed or pasted data is small.
        raw = io.BytesIO(_read_to_eof(sys.stdin.fileno()))
    if fmt in ("csv", "tsv"):
        return _delimited("-", fmt, dialect, stream=raw)
    head = raw.read(SNIFF_HEAD)
    stream = _Prefixed(head, raw)
    kind = fmt if fmt != "sniff" else next((k for magic, k in _MAGIC if head.startswith(magic)), "text")
    if kind in ("gzip", "zstd", "bz2"):
        # Decompressed on this thread as it is read (an Arrow thread reading a Python stream
        # can still be running when the interpreter exits, which aborts the process).
        decompressed = pa.CompressedInputStream(pa.PythonFile(stream, mode="r"), kind)
        return _delimited("-", "csv", dialect, stream=decompressed)
    # Text: JSON Lines if it starts with '{', a JSON array if with '[', else CSV (delimiter sniffed).
    if kind == "text" and head.lstrip()[:1] in (b"{", b"["):
        kind = "jsonl" if head.lstrip().startswith(b"{") else "json"
    if kind != "text":
        _no_dialect("<stdin>", kind, dialect)
        return _reader(kind)("-", data=pa.py_buffer(stream.read()))
    return _delimited("-", "csv", dialect, stream=stream)
