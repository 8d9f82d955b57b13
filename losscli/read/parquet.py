"""Parquet: one file, a directory of partitions, or a glob of files; read by row groups."""

from __future__ import annotations

import glob as globbing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from .source import SAMPLE_ROWS, Source, cast_batch, first_line, table_opener

# Row groups are decoded in batches this big: few Python round trips per file (the
# kernels cut them into cache-sized blocks anyway), small enough that the batches in
# flight stay a few MB (64k rows: 0.93x the time and 0.88x the peak memory of 128k,
# interleaved, on 4M rows x 5 columns).
PARQUET_BATCH_ROWS = 1 << 16
# Column chunks are read through a buffer this big instead of whole (pre_buffer, or one read
# per chunk): memory stays flat and fresh pages are not faulted in for every row group.
PARQUET_BUFFER_BYTES = 1 << 16


def open_parquet(path: str, data: Any = None) -> Source:
    """``path`` is a file, a directory or a glob; ``data`` is a buffer (Parquet on stdin)."""
    name = "<stdin>" if data is not None else path
    if data is None and (Path(path).is_dir() or globbing.has_magic(path)):
        return _open_dataset(path)
    try:
        # No pre_buffer: it keeps the file's column chunks in memory as it goes, so
        # peak RSS grew with the rows (218 / 318 / 517 MB at 5M / 10M / 20M rows).
        pf = pq.ParquetFile(_readable(path, data), pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)
        schema = pf.schema_arrow
        rows = pf.metadata.num_rows
        if rows <= SAMPLE_ROWS:
            # The whole file is the sample: read at once, its columns decoded on Arrow's threads
            # (20,000 columns of 2,000 rows: 1.5-2 s, against 3-4 s a batch of every column).
            sample = pf.read(use_threads=True)
        else:
            first = next(pf.iter_batches(batch_size=SAMPLE_ROWS), None)
            sample = pa.Table.from_batches([first]) if first is not None else schema.empty_table()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{name}: not a readable Parquet file ({first_line(exc)})") from None
    if sample.num_rows == rows:
        # The sample is the whole file (a wide file of few rows: 20,000 columns of 2,000 rows
        # decode in seconds, one column chunk per row group at a time): read it once, not twice.
        return Source(name, "parquet", schema, sample, table_opener(sample), rows=rows)

    def open_file(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        # The file opened above, its footer parsed once (20,000 columns: 0.2 s a parse).
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
            yield cast_batch(batch, numeric)

    return Source(name, "parquet", schema, sample, open_file, rows=rows)


def _readable(path: str, data: Any) -> Any:
    return pa.BufferReader(data) if data is not None else path


def _open_dataset(path: str, one_file: str | None = None, keys: pa.Schema | None = None) -> Source:
    """A directory or glob; ``one_file`` of it with the partition ``keys`` (a Dask task's share)."""
    import pyarrow.dataset as ds

    # An explicit, sorted list of files: the same order for every engine (bootstrap
    # draws follow the row position).
    files = [one_file] if one_file is not None else parquet_files(path)
    if not files:
        raise InputError(
            f"{path}: no Parquet file matches" if globbing.has_magic(path) else f"{path}: no Parquet file in it"
        )
    # Folders named key=value (hive partitioning) become columns, typed from their values.
    partitioning: Any = ds.partitioning(keys, flavor="hive") if keys is not None else "hive"
    # As for one file: no pre-buffering, column chunks through a small buffer (the sample too).
    options = ds.ParquetFragmentScanOptions(
        pre_buffer=False, use_buffered_stream=True, buffer_size=PARQUET_BUFFER_BYTES
    )
    parquet = ds.ParquetFileFormat(default_fragment_scan_options=options)
    try:
        dataset = ds.dataset(files, format=parquet, partitioning=partitioning, partition_base_dir=base_dir(path))
        schema = dataset.schema
        sample = dataset.head(SAMPLE_ROWS)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet dataset ({first_line(exc)})") from None
    found = {k for f in dataset.get_fragments() for k in ds.get_partition_keys(f.partition_expression)}
    keys = tuple(n for n in schema.names if n in found)

    def open_ds(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        batches = dataset.to_batches(columns=columns, batch_size=PARQUET_BATCH_ROWS, fragment_readahead=1)
        for batch in batches:
            yield cast_batch(batch, numeric)

    notes = [f"{path}: partition keys {', '.join(keys)} (from the folder names) are columns, for --by"] if keys else []
    return Source(path, "parquet", schema, sample, open_ds, notes=notes, partitions=keys)


def open_partition(path: str, file: str, keys: pa.Schema) -> Source:
    """One file of the dataset ``path``, with its partition key columns (as the whole dataset types them)."""
    return _open_dataset(path, file, keys)


def base_dir(path: str) -> str:
    """Where partition folders start: the directory itself, or a glob's folders before the first wildcard."""
    if not globbing.has_magic(path):
        return path
    parts = Path(path).parts
    fixed = next(i for i, part in enumerate(parts) if globbing.has_magic(part))
    return str(Path(*parts[:fixed])) if fixed else "."


def parquet_files(path: str) -> list[str]:
    """The files of a Parquet file, directory or glob (for engines that split by file)."""
    if globbing.has_magic(path):
        return sorted(globbing.glob(path))
    if Path(path).is_dir():
        files = sorted(str(p) for p in Path(path).rglob("*.parquet"))
        _one_format(path, files)
        return files
    return [path]


# Data files of other formats: a directory holding them besides Parquet was not meant as a dataset.
_OTHER_DATA = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".arrow", ".feather", ".ipc", ".gz", ".zst", ".bz2")


def _one_format(path: str, parquet: list[str]) -> None:
    """A directory is read as a Parquet dataset only when Parquet is all the data it holds."""
    others = sorted(str(p) for p in Path(path).rglob("*") if p.is_file() and p.suffix.lower() in _OTHER_DATA)
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise InputError(
            f"{path}: a directory is read as one Parquet dataset, but it also holds {len(others)} other data "
            f"file(s) ({shown}) besides {len(parquet)} Parquet file(s); give the files, or a quoted glob "
            f"such as '{path.rstrip('/')}/*.parquet'"
        )
