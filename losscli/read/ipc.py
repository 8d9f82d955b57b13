"""Arrow IPC: the file format (Feather v2, .arrow/.feather) and the stream format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from ..errors import InputError
from .source import SAMPLE_ROWS, Source, cast_batch, first_line


def open_ipc(path: str, data: Any = None) -> Source:
    """An Arrow IPC file or stream, from ``path`` or ``data`` (a buffer, from stdin)."""
    name = "<stdin>" if data is not None else path

    def reader() -> Any:
        src = pa.BufferReader(data) if data is not None else pa.memory_map(path)
        try:
            return ipc.open_file(src)
        except pa.ArrowInvalid:
            src = pa.BufferReader(data) if data is not None else pa.memory_map(path)
            return ipc.open_stream(src)

    try:
        first = reader()
        schema = first.schema
        batches = _iterate(first)
        head = next(batches, None)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{name}: not a readable Arrow IPC/Feather file ({first_line(exc)})") from None
    sample = pa.Table.from_batches([head]).slice(0, SAMPLE_ROWS) if head is not None else schema.empty_table()

    def open_(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in _iterate(reader()):
            yield cast_batch(batch.select(columns), numeric)

    return Source(name, "arrow", schema, sample, open_)


def _iterate(reader: Any) -> Iterator[pa.RecordBatch]:
    if isinstance(reader, ipc.RecordBatchFileReader):
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)
    else:
        yield from reader
