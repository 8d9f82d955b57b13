"""JSON Lines: one object per line, parsed by pyarrow in blocks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson

from ..errors import EmptyInputError, InputError
from .source import Source, first_line, is_numeric

SNIFF_BYTES = 1 << 20
BLOCK_BYTES = 1 << 22


def open_jsonl(path: str, data: Any = None) -> Source:
    """A JSON Lines file (compressed by its suffix) or ``data`` (a buffer, from stdin)."""
    name = "<stdin>" if data is not None else path

    def stream() -> Any:
        return pa.BufferReader(data) if data is not None else pa.input_stream(path, compression="detect")

    try:
        with stream() as fh:
            head = bytes(fh.read(SNIFF_BYTES))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{name}: cannot be read ({first_line(exc)})") from None
    if not head.strip():
        raise EmptyInputError(f"{name}: the file is empty; it needs one JSON object per line")
    cut = head if len(head) < SNIFF_BYTES else head[: head.rfind(b"\n") + 1]
    try:
        sample = pajson.read_json(pa.BufferReader(cut), read_options=pajson.ReadOptions(use_threads=False))
    except pa.ArrowInvalid as exc:
        raise InputError(f"{name}: not valid JSON Lines ({_numbered(first_line(exc), 0)})") from None
    schema = sample.schema

    def open_(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        # Pin the types seen in the sample: numbers as float64 (1 then 1.5 is fine). Only the
        # columns read: an unused column of objects would be pinned as text and fail the parse.
        wanted = set(columns)
        fields = [pa.field(f.name, _pinned(f.type, f.name in numeric)) for f in schema if f.name in wanted]
        parse = pajson.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")
        read = pajson.ReadOptions(block_size=BLOCK_BYTES, use_threads=data is None)
        try:
            for batch in pajson.open_json(stream(), read_options=read, parse_options=parse):
                yield batch.select(columns)
        except pa.ArrowInvalid as exc:
            # Read again on one thread, block after block, to count the rows before the bad one.
            again = pajson.ReadOptions(block_size=BLOCK_BYTES, use_threads=False)
            rows = _rows_before_error(lambda: pajson.open_json(stream(), read_options=again, parse_options=parse))
            raise InputError(f"{name}: not valid JSON Lines ({_numbered(first_line(exc), rows)})") from None

    return Source(name, "jsonl", schema, sample, open_)


def _pinned(dtype: pa.DataType, numeric: bool) -> pa.DataType:
    """The type a column keeps in every block: numbers as float64, a list of numbers (a model's
    class probabilities) as a list of float64, anything else as text."""
    if numeric:
        return pa.float64()
    if is_numeric(dtype):
        return dtype
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return pa.list_(pa.float64()) if is_numeric(dtype.value_type) else pa.list_(pa.string())
    return pa.string()


_IN_ROW = re.compile(r" in row (\d+)$")


def _numbered(reason: str, rows_before: int) -> str:
    """pyarrow's "in row N" counts from 0 within its block; messages count rows from 1 over the file."""
    return _IN_ROW.sub(lambda m: f" in row {rows_before + int(m.group(1)) + 1}", reason)


def _rows_before_error(batches: Callable[[], Iterable[pa.RecordBatch]]) -> int:
    """The rows parsed before the block that fails (one batch per block)."""
    rows = 0
    try:
        for batch in batches():
            rows += batch.num_rows
    except pa.ArrowInvalid:
        pass
    return rows
