"""Parquet: one file, a directory of partitions, or a glob of files; read by row groups."""

from __future__ import annotations

import glob as globbing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from .source import BATCH_ROWS, SAMPLE_ROWS, Source, cast_numeric, first_line


def open_parquet(path: str, data: Any = None) -> Source:
    """``path`` is a file, a directory or a glob; ``data`` is a buffer (Parquet on stdin)."""
    name = "<stdin>" if data is not None else path
    if data is None and (Path(path).is_dir() or globbing.has_magic(path)):
        return _open_dataset(path)
    try:
        pf = pq.ParquetFile(pa.BufferReader(data) if data is not None else path)
        schema = pf.schema_arrow
        first = next(pf.iter_batches(batch_size=SAMPLE_ROWS), None)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{name}: not a readable Parquet file ({first_line(exc)})") from None
    sample = pa.Table.from_batches([first]) if first is not None else schema.empty_table()

    def open_file(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        reader = pq.ParquetFile(pa.BufferReader(data) if data is not None else path)
        for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            yield from cast_numeric(pa.Table.from_batches([batch]), numeric).to_batches()

    return Source(name, "parquet", schema, sample, open_file)


def _open_dataset(path: str) -> Source:
    import pyarrow.dataset as ds

    files = sorted(globbing.glob(path)) if globbing.has_magic(path) else None
    if files is not None and not files:
        raise InputError(f"{path}: no file matches this pattern")
    try:
        dataset = ds.dataset(files if files is not None else path, format="parquet")
        schema = dataset.schema
        sample = dataset.head(SAMPLE_ROWS)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet dataset ({first_line(exc)})") from None

    def open_ds(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in dataset.to_batches(columns=columns, batch_size=BATCH_ROWS):
            yield from cast_numeric(pa.Table.from_batches([batch]), numeric).to_batches()

    return Source(path, "parquet", schema, sample, open_ds)


def parquet_files(path: str) -> list[str]:
    """The files of a Parquet file, directory or glob (for engines that split by file)."""
    if globbing.has_magic(path):
        return sorted(globbing.glob(path))
    if Path(path).is_dir():
        return sorted(str(p) for p in Path(path).rglob("*.parquet"))
    return [path]
