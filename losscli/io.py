"""Readers: a path, ``-`` (stdin) or a DataFrame becomes a stream of pyarrow batches.

Nothing here holds a whole file. A source first shows its schema and a small
sample (what layout detection needs), then streams record batches of just the
columns asked for, with every numeric column decoded as float64.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import BadValueError, EmptyInputError, InputError, LossCliError

if TYPE_CHECKING:
    import pandas as pd

# Bytes read ahead to infer column types; the same bytes are replayed, not re-read.
SNIFF_BYTES = 1 << 20
CSV_BLOCK_BYTES = 1 << 22
PARQUET_BATCH_ROWS = 1 << 16

FORMATS = ("csv", "tsv", "parquet")
_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def detect_format(path: str, explicit: str | None = None) -> str:
    """The format named by ``explicit``, else by the file's suffix; stdin is CSV."""
    if explicit:
        if explicit not in FORMATS:
            raise InputError(f"unknown input format {explicit!r}; choose one of {', '.join(FORMATS)}")
        return explicit
    if path == "-":
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if Path(path).is_dir():
        return "parquet"
    raise InputError(
        f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; "
        f"name it with --input-format ({', '.join(FORMATS)})"
    )


@dataclass
class Source:
    """One tabular input: its display name, schema, a sample, and a batch stream."""

    name: str
    format: str
    schema: pa.Schema
    sample: pa.Table
    _open: Any = field(repr=False)

    def batches(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """Record batches of ``columns`` in file order, numeric columns as float64."""
        numeric = [c for c in columns if is_numeric(self.schema.field(c).type)]
        yield from self._open(columns, numeric)

    @property
    def stem(self) -> str:
        return Path(self.name).stem if self.name not in ("<stdin>", "<dataframe>") else "model"


def is_numeric(dtype: pa.DataType) -> bool:
    """Columns losscli can read as numbers: ints, floats, booleans, all-null."""
    return bool(
        pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_boolean(dtype)
        or pa.types.is_null(dtype)
        or pa.types.is_decimal(dtype)
    )


def open_source(path: str, input_format: str | None = None) -> Source:
    """Open ``path`` (or ``-`` for stdin) for streaming; raise InputError on failure."""
    fmt = detect_format(path, input_format)
    if path != "-":
        p = Path(path)
        if not p.exists():
            raise InputError(f"{path}: no such file")
        if p.is_dir() and fmt != "parquet":
            raise InputError(f"{path}: is a directory, not a {fmt.upper()} file")
    if fmt == "parquet":
        return _open_parquet(path)
    return _open_delimited(path, delimiter="\t" if fmt == "tsv" else ",", fmt=fmt)


def source_from_dataframe(df: pd.DataFrame) -> Source:
    """A DataFrame as a Source, so the API and the CLI share one path."""
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InputError(f"the DataFrame cannot be converted to Arrow: {exc}") from None
    return source_from_table(table, "<dataframe>")


def source_from_table(table: pa.Table, name: str) -> Source:
    def open_(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        sub = _cast_numeric(table.select(columns), numeric)
        yield from sub.to_batches(max_chunksize=PARQUET_BATCH_ROWS)

    return Source(name, "arrow", table.schema, table.slice(0, 10_000), open_)


def _cast_numeric(table: pa.Table, numeric: list[str]) -> pa.Table:
    for col in numeric:
        i = table.schema.get_field_index(col)
        if table.schema.field(i).type != pa.float64():
            table = table.set_column(i, col, table.column(i).cast(pa.float64()))
    return table


# --- Parquet ---------------------------------------------------------------------------------


def _open_parquet(path: str) -> Source:
    try:
        if Path(path).is_dir():
            import pyarrow.dataset as ds

            dataset = ds.dataset(path, format="parquet")
            schema = dataset.schema
            sample = dataset.head(10_000)

            def open_ds(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
                for batch in dataset.to_batches(columns=columns, batch_size=PARQUET_BATCH_ROWS):
                    yield from _cast_numeric(pa.Table.from_batches([batch]), numeric).to_batches()

            return Source(path, "parquet", schema, sample, open_ds)
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        first = next(pf.iter_batches(batch_size=10_000), None)
        sample = pa.Table.from_batches([first]) if first is not None else schema.empty_table()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None

    def open_file(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        reader = pq.ParquetFile(path)
        for batch in reader.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
            yield from _cast_numeric(pa.Table.from_batches([batch]), numeric).to_batches()

    return Source(path, "parquet", schema, sample, open_file)


# --- CSV / TSV -------------------------------------------------------------------------------


class _ReplayStream(io.RawIOBase):
    """A read-once stream (stdin) with bytes already taken from it put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _open_delimited(path: str, *, delimiter: str, fmt: str) -> Source:
    name = "<stdin>" if path == "-" else path
    stdin = sys.stdin.buffer if path == "-" else None
    try:
        if stdin is not None:
            head = stdin.read(SNIFF_BYTES)
        else:
            with open(path, "rb") as fh:
                head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if not head.strip():
        raise EmptyInputError(f"{name}: the file is empty; it needs a header line and data rows")
    if b"\x00" in head:
        raise InputError(f"{name}: holds binary data (NUL bytes), not {fmt.upper()} text")

    parse = pacsv.ParseOptions(delimiter=delimiter)
    # Infer types from whole lines only: cut the sample at its last newline.
    cut = head if len(head) < SNIFF_BYTES else head[: head.rfind(b"\n") + 1] or head
    try:
        sample = pacsv.read_csv(io.BytesIO(cut), parse_options=parse)
    except pa.ArrowInvalid as exc:
        raise InputError(f"{name}: not valid {fmt.upper()} ({_csv_reason(exc)})") from None
    schema = sample.schema

    def open_(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        convert = pacsv.ConvertOptions(
            include_columns=columns,
            column_types={c: pa.float64() for c in numeric},
        )
        read = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
        stream: Any = path if stdin is None else _ReplayStream(head, stdin)
        try:
            reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
            yield from reader
        except pa.ArrowInvalid as exc:
            raise _csv_error(name, exc, path if stdin is None else None, parse, schema) from None

    return Source(name, fmt, schema, sample, open_)


_CONVERSION = re.compile(r"In CSV column #(\d+): .*invalid value '(.*)'")


def _csv_error(
    name: str, exc: pa.ArrowInvalid, path: str | None, parse: pacsv.ParseOptions, schema: pa.Schema
) -> LossCliError:
    """Turn pyarrow's message into a sentence naming the column and, for a file, the row."""
    match = _CONVERSION.search(str(exc))
    if match:
        column = schema.names[int(match.group(1))]
        value = match.group(2)
        where = ""
        if path is not None:
            row = _first_non_numeric_row(path, column, parse)
            where = f", row {row}" if row is not None else ""
        return BadValueError(
            f"{name}: column {column!r}{where} holds {value!r}, which is not a number; fix or drop that row"
        )
    return InputError(f"{name}: not valid CSV ({_csv_reason(exc)})")


def _first_non_numeric_row(path: str, column: str, parse: pacsv.ParseOptions) -> int | None:
    """The 1-based data row of the first cell in ``column`` that is not a number."""
    convert = pacsv.ConvertOptions(include_columns=[column], column_types={column: pa.string()})
    offset = 0
    for batch in pacsv.open_csv(path, parse_options=parse, convert_options=convert):
        for i, cell in enumerate(batch.column(0).to_pylist()):
            if cell is None:
                continue
            try:
                float(cell)
            except ValueError:
                return offset + i + 1
        offset += batch.num_rows
    return None


def _csv_reason(exc: Exception) -> str:
    text = _first_line(exc)
    return text.removeprefix("CSV parse error: ")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
