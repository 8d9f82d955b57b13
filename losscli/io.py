"""Readers: a path, ``-`` (stdin) or a DataFrame becomes a stream of pyarrow batches.

Nothing here holds a whole file. A source first shows its schema and a small
sample (what layout detection needs), then streams record batches of just the
columns asked for, with every numeric column decoded as float64.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
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

    def batches(self, columns: list[str], numbers: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Record batches of ``columns`` in file order.

        ``numbers`` (default: every numeric column) are decoded as float64; in a
        CSV every other column is read as text, so no later block can change a type.
        """
        wanted = [c for c in columns if is_numeric(self.schema.field(c).type)] if numbers is None else numbers
        numeric = [c for c in wanted if is_numeric(self.schema.field(c).type)]
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
        sample = pacsv.read_csv(
            pa.BufferReader(cut), read_options=pacsv.ReadOptions(use_threads=False), parse_options=parse
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"{name}: not valid {fmt.upper()} ({_csv_reason(exc)})") from None
    schema = sample.schema

    def open_(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        convert = pacsv.ConvertOptions(include_columns=columns, column_types=_column_types(schema, columns, numeric))
        if stdin is None:
            yield from _file_batches(path, parse, convert, schema)
        else:
            yield from _stream_batches(head, stdin, parse, convert, schema)

    return Source(name, fmt, schema, sample, open_)


def _column_types(schema: pa.Schema, columns: list[str], numeric: list[str]) -> dict[str, pa.DataType]:
    """Fix every column's type from the sample, so a later block cannot change it.

    Numbers become float64 (an int column may hold 1.5 further down); booleans stay
    booleans (their text is true/false); anything else stays text.
    """
    types = {}
    for col in columns:
        dtype = schema.field(col).type
        if col not in numeric:
            types[col] = pa.string()
        else:
            types[col] = dtype if pa.types.is_boolean(dtype) else pa.float64()
    return types


def _file_batches(
    path: str, parse: pacsv.ParseOptions, convert: pacsv.ConvertOptions, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    read = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    try:
        yield from pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise _csv_error(path, exc, schema, lambda col: _string_batches_of_file(path, parse, col)) from None


def _stream_batches(
    head: bytes, stream: IO[bytes], parse: pacsv.ParseOptions, convert: pacsv.ConvertOptions, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """Parse a read-once stream (stdin) in blocks of whole lines.

    Arrow is handed each block as its own buffer, parsed on this thread: an Arrow
    worker thread still alive when the interpreter exits aborts the process
    ("terminate called without an active exception"; seen in about 2% of runs
    when Arrow read the Python stream or parsed blocks on its thread pool).
    """
    headerless = pacsv.ReadOptions(column_names=schema.names, use_threads=False)
    offset = 0
    for i, block in enumerate(_line_blocks(head, stream)):
        read = pacsv.ReadOptions(use_threads=False) if i == 0 else headerless
        try:
            table = pacsv.read_csv(
                pa.BufferReader(block), read_options=read, parse_options=parse, convert_options=convert
            )
        except pa.ArrowInvalid as exc:

            def column_text(col: str, block: bytes = block, read: pacsv.ReadOptions = read) -> Iterator[pa.RecordBatch]:
                as_text = pacsv.ConvertOptions(include_columns=[col], column_types={col: pa.string()})
                table = pacsv.read_csv(
                    pa.BufferReader(block), read_options=read, parse_options=parse, convert_options=as_text
                )
                yield from table.to_batches()

            raise _csv_error("<stdin>", exc, schema, column_text, offset) from None
        offset += table.num_rows
        yield from table.to_batches()


def _line_blocks(head: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """``head`` and then the rest of ``stream`` as blocks that end at a newline."""
    pending = head
    while True:
        data = stream.read(CSV_BLOCK_BYTES)
        if not data:
            if pending.strip():
                yield pending
            return
        pending += data
        cut = pending.rfind(b"\n") + 1
        if cut:
            yield pending[:cut]
            pending = pending[cut:]


_CONVERSION = re.compile(r"In CSV column #(\d+): .*invalid value '(.*)'")


def _csv_error(
    name: str,
    exc: pa.ArrowInvalid,
    schema: pa.Schema,
    column_text: Callable[[str], Iterator[pa.RecordBatch]],
    row_offset: int = 0,
) -> LossCliError:
    """Turn pyarrow's message into a sentence naming the column and the row."""
    match = _CONVERSION.search(str(exc))
    if match:
        column = schema.names[int(match.group(1))]
        value = match.group(2)
        row = _first_non_number_row(column_text(column))
        where = f", row {row_offset + row}" if row is not None else ""
        return BadValueError(
            f"{name}: column {column!r}{where} holds {value!r}, which is not a number; fix or drop that row"
        )
    return InputError(f"{name}: not valid CSV ({_csv_reason(exc)})")


def _string_batches_of_file(path: str, parse: pacsv.ParseOptions, column: str) -> Iterator[pa.RecordBatch]:
    convert = pacsv.ConvertOptions(include_columns=[column], column_types={column: pa.string()})
    yield from pacsv.open_csv(path, parse_options=parse, convert_options=convert)


def _first_non_number_row(batches: Iterator[pa.RecordBatch]) -> int | None:
    """The 1-based row of the first cell that is not a number."""
    offset = 0
    for batch in batches:
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
