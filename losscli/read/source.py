"""The Source: one tabular input seen as a schema, a sample and a stream of batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import InputError

if TYPE_CHECKING:
    import pandas as pd

BATCH_ROWS = 1 << 16
SAMPLE_ROWS = 10_000

# open(columns, numeric) -> batches of those columns, ``numeric`` ones as float64
Opener = Callable[[list[str], list[str]], Iterator[pa.RecordBatch]]


@dataclass
class Source:
    """One tabular input: its display name, schema, a sample, and a batch stream."""

    name: str
    format: str
    schema: pa.Schema
    sample: pa.Table
    _open: Opener = field(repr=False)
    # What the reader decided and the user should hear (a sniffed delimiter, partition keys).
    notes: list[str] = field(default_factory=list)
    # Columns that come from the file's place, not its content (hive partition keys).
    partitions: tuple[str, ...] = ()
    # Whether the reader guessed the column types from the cells (CSV, TSV, Python objects): then
    # a text column holding some numbers is numbers with a bad cell. Parquet, Arrow, JSON and
    # DataFrames declare their types, so a text column there is text whatever its cells look like.
    guessed_types: bool = False
    # Columns whose types a file declared in a source that otherwise guessed them (a Parquet
    # truth joined to CSV predictions): text there, whatever its cells look like.
    declared: frozenset[str] = frozenset()
    # The rows it holds, where known without reading them (a Parquet footer, NumPy headers, a table).
    rows: int | None = None

    def __post_init__(self) -> None:
        # Dictionary (categorical) columns are read by their values, never their codes:
        # a pandas categorical 0/1 target holds the labels 0 and 1, whatever its codes are.
        if any(pa.types.is_dictionary(f.type) for f in self.schema):
            self.schema = pa.schema([_plain_field(f) for f in self.schema], metadata=self.schema.metadata)
            self.sample = _decoded(self.sample)
            opener = self._open
            self._open = lambda columns, numeric: (_decoded(b) for b in opener(columns, numeric))

    def batches(self, columns: list[str], numbers: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Record batches of ``columns`` in file order.

        ``numbers`` (default: every numeric column) are decoded as float64; in a
        CSV every other column is read as text, so no later block can change a type.
        """
        wanted = [c for c in columns if is_numeric(self.schema.field(c).type)] if numbers is None else numbers
        numeric = [c for c in wanted if is_numeric(self.schema.field(c).type)]
        yield from self._open(columns, numeric)

    def guessed(self, column: str) -> bool:
        """Whether the reader guessed this column's type from its cells (a CSV column)."""
        return self.guessed_types and column not in self.declared

    @property
    def stem(self) -> str:
        """A model name taken from the file name: ``runs/model_a.csv.gz`` -> ``model_a``."""
        if self.name.startswith("<"):
            return "model"
        from .formats import FILE_SUFFIXES  # the readers' own table of suffixes

        name = Path(self.name).name
        while Path(name).suffix.lower() in FILE_SUFFIXES:
            name = name[: -len(Path(name).suffix)]
        return name or "model"


def is_numeric(dtype: pa.DataType) -> bool:
    """Columns losscli can read as numbers: ints, floats, booleans, decimals, all-null."""
    return bool(
        pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_boolean(dtype)
        or pa.types.is_null(dtype)
        or pa.types.is_decimal(dtype)
    )


def _plain_field(f: pa.Field) -> pa.Field:
    return f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f


def _decoded(data: pa.Table | pa.RecordBatch) -> Any:
    """``data`` with every dictionary column replaced by its values."""
    if not any(pa.types.is_dictionary(f.type) for f in data.schema):
        return data
    columns = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in data.columns]
    kind = pa.Table if isinstance(data, pa.Table) else pa.RecordBatch
    return kind.from_arrays(columns, names=data.schema.names)


def cast_batch(batch: pa.RecordBatch, numeric: list[str]) -> pa.RecordBatch:
    """``batch`` with the ``numeric`` columns as float64; untouched when they already are."""
    names = batch.schema.names
    if all(batch.schema.field(c).type == pa.float64() for c in numeric):
        return batch
    arrays = [
        batch.column(i).cast(pa.float64()) if name in numeric else batch.column(i) for i, name in enumerate(names)
    ]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def table_opener(table: pa.Table) -> Opener:
    """Batches of an in-memory table, as a Source opens them."""

    def open_(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in table.select(columns).to_batches(max_chunksize=BATCH_ROWS):
            yield cast_batch(batch, numeric)

    return open_


def source_from_table(
    table: pa.Table, name: str, fmt: str = "arrow", guessed_types: bool = False, declared: frozenset[str] = frozenset()
) -> Source:
    """An in-memory table as a Source (DataFrames, joined or reshaped inputs)."""
    sample, opener = table.slice(0, SAMPLE_ROWS), table_opener(table)
    return Source(
        name, fmt, table.schema, sample, opener, guessed_types=guessed_types, declared=declared, rows=table.num_rows
    )


def source_from_dataframe(df: pd.DataFrame | object) -> Source:
    """A DataFrame as a Source, so the API and the CLI share one path."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InputError(f"data= takes a file path, a list of paths or a pandas DataFrame, not {type(df).__name__}")
    table = table_from_pandas(df)
    return source_from_table(table, "<dataframe>")


def first_non_number(cells: Iterable[object]) -> int | None:
    """The 0-based position of the first cell that is neither missing nor a number."""
    for i, cell in enumerate(cells):
        if cell is not None and not is_number(cell):
            return i
    return None


def is_number(cell: object) -> bool:
    try:
        float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def table_from_pandas(df: Any) -> pa.Table:
    """A DataFrame as an Arrow table; a column Arrow cannot type is named in one sentence."""
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        # The failing column is the one Arrow cannot convert alone: a column mixing int and float
        # converts fine, and is not to blame for another column's objects.
        for i, name in enumerate(df.columns):
            column = df.iloc[:, i]
            try:
                pa.Array.from_pandas(column)
            except (pa.ArrowException, ValueError, TypeError) as column_exc:
                raise InputError(_unconvertible(str(name), column, column_exc)) from None
        raise InputError(f"the DataFrame cannot be converted to Arrow: {first_line(exc)}") from None


def _unconvertible(name: str, column: Any, exc: BaseException) -> str:
    """Why one DataFrame column is not an Arrow column, and the fix that keeps its values."""
    kinds = sorted({type(v).__name__ for v in column.dropna().tolist()})
    if len(kinds) > 1:
        # astype(str) would turn numbers into text: offered only when text is one of the kinds.
        fix = f", as df[{name!r}].astype(str) does" if "str" in kinds else ""
        return f"column {name!r} of the DataFrame mixes {' and '.join(kinds)} values; give it one type{fix}"
    return f"column {name!r} of the DataFrame cannot be converted to Arrow: {first_line(exc)}"
