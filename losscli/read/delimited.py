"""CSV and TSV, plain or compressed (gzip, zstd, bz2), from a file or stdin.

Types are inferred from the first megabyte and then pinned, so a later block
cannot change a column's type; a file is parsed by pyarrow's streaming reader,
stdin is cut into blocks of whole lines, parsed several at a time on reader
threads and yielded in order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import BadValueError, EmptyInputError, InputError, LossCliError
from .dialect import (
    CANDIDATES,
    EXTRA_NULLS,
    NAMES,
    describe,
    sniff_delimiter,
    typed,
)
from .prefetch import ahead, reader_threads
from .source import Source, first_line, first_non_number

# Bytes read ahead to infer column types; the same bytes are parsed again, not re-read.
SNIFF_BYTES = 1 << 20
# Blocks parsed one per thread; a few of them in memory at a time.
CSV_BLOCK_BYTES = 1 << 20


def open_delimited(
    path: str, *, delimiter: str | None, fmt: str, stream: Any = None, decimal: str | None = None
) -> Source:
    """A CSV/TSV file (compressed by its suffix), or ``stream`` (stdin, already decompressed).

    ``delimiter`` None: sniffed from the first lines (comma when nothing fits them).
    """
    name = "<stdin>" if stream is not None else path
    try:
        opened = os.stat(path).st_size if stream is None else 0
        if stream is not None:
            head = _read_head(stream.read)
        else:
            with pa.input_stream(path, compression="detect") as fh:
                head = _read_head(fh.read)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{name}: cannot be read ({first_line(exc)})") from None
    if not head.strip():
        raise EmptyInputError(f"{name}: the file is empty; it needs a header line and data rows")
    if b"\x00" in head:
        raise InputError(f"{name}: holds binary data (NUL bytes), not {fmt.upper()} text")

    notes: list[str] = []
    if delimiter is None:
        # Nothing else fits: a comma, even with decimal commas (then quoted, as pandas writes them).
        delimiter = sniff_delimiter(head, decimal) or ","
        if delimiter != ",":
            notes.append(
                f"{name}: the delimiter is {describe(delimiter)}, sniffed from the first lines (--delimiter sets it)"
            )
    # A quoted field may hold a line break: blocks are cut by quotes too (no slower, measured).
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    nulls = [*pacsv.ConvertOptions().null_values, *EXTRA_NULLS]
    numbers = {"null_values": nulls, "decimal_point": decimal or ".", "strings_can_be_null": True}
    # Infer types from whole lines only: cut the sample at its last newline.
    cut = head if len(head) < SNIFF_BYTES else head[: _line_end(head, len(head))] or head
    try:
        sample = pacsv.read_csv(
            pa.BufferReader(cut),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=max(len(cut) + 1, 1 << 10)),
            parse_options=parse,
            convert_options=pacsv.ConvertOptions(**numbers),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"{name}: not valid {fmt.upper()} ({_csv_reason(exc)}){_delimiter_hint(delimiter)}") from None
    schema = sample.schema
    _check_header(name, schema, fmt, delimiter)
    if delimiter == ";" and decimal is None:
        notes += _dot_groups(name, cut, parse, sample)

    def open_(columns: list[str], numeric: list[str]) -> Iterator[pa.RecordBatch]:
        convert = pacsv.ConvertOptions(
            include_columns=columns, column_types=_column_types(schema, columns, numeric), **numbers
        )
        if stream is None:
            yield from _file_batches(path, parse, convert, schema, opened, _line_end(head, len(head)))
        else:
            yield from _parsed_blocks("<stdin>", _line_blocks(head, stream), parse, convert, schema)

    return Source(name, fmt, schema, sample, open_, notes=notes, guessed_types=True)


# '.' between thousands, as a ';' file from a European spreadsheet may write 1000 (1.000): one
# group of three after a leading 1-999 (a '0.' is a decimal); a number under 1000 has no dot.
_DOT_GROUPED = re.compile(r"^\s*[+-]?[1-9]\d{0,2}\.\d{3}\s*$")
_UNDER_1000 = re.compile(r"^\s*[+-]?\d{1,3}\s*$")
DOT_LOOK_BYTES = 1 << 16


def _dot_groups(name: str, cut: bytes, parse: pacsv.ParseOptions, sample: pa.Table) -> list[str]:
    """A note for each column of a ';' file read as decimals whose every cell could be '.'-grouped
    thousands (1.000, 2.400, 999): read as 1.0 and 2.4, which may be 1000 and 2400. Ordinary
    decimals (1.5, 0.125, 1234.5) have cells no thousands grouping writes, and get no note."""
    floats = [f.name for f in sample.schema if pa.types.is_floating(f.type)]
    if not floats:
        return []
    head = cut[: _line_end(cut, DOT_LOOK_BYTES)] if len(cut) > DOT_LOOK_BYTES else cut
    try:
        text = pacsv.read_csv(
            pa.BufferReader(head),
            parse_options=parse,
            convert_options=pacsv.ConvertOptions(
                include_columns=floats, column_types=dict.fromkeys(floats, pa.string()), strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid:  # the sample parsed; a cut that does not is no reason to fail
        return []
    notes = []
    for col in floats:
        cells = [c for c in text.column(col).to_pylist() if c is not None and c.strip()]
        grouped = [c for c in cells if _DOT_GROUPED.match(c)]
        if grouped and all(_DOT_GROUPED.match(c) or _UNDER_1000.match(c) for c in cells):
            cell = grouped[0].strip()
            notes.append(
                f"{name}: column {col!r} holds numbers such as {cell!r}, read as decimals ({cell} = "
                f"{float(cell):g}); if '.' separates thousands there ({cell} = {int(cell.replace('.', ''))}), "
                "remove the separators: losscli reads none"
            )
    return notes


def _check_header(name: str, schema: pa.Schema, fmt: str, delimiter: str) -> None:
    """Catch a wrong delimiter early: one column whose name holds another delimiter."""
    names = schema.names
    other = next((c for c in CANDIDATES if c != delimiter and len(names) == 1 and c in names[0]), None)
    if other is not None:
        looks = {"\t": "like TSV (tab-separated)", ",": "like CSV (comma-separated)"}.get(
            other, f"{NAMES[other]}-separated"
        )
        fix = f"--input-format {'tsv' if other == chr(9) else 'csv'} or " if {other, delimiter} == {",", "\t"} else ""
        raise InputError(
            f"{name}: the header has one column {names[0][:60]!r}; the file looks {looks}, "
            f"not {fmt.upper()} with the delimiter {describe(delimiter)}: give {fix}--delimiter {typed(other)}"
        )
    # A nameless first column is the index pandas writes (df.to_csv()): the layout leaves it out.
    blank = [i for i, n in enumerate(names) if not n.strip() and i > 0]
    if blank:
        raise InputError(f"{name}: column {blank[0] + 1} of the header has no name; every column needs one")


def _delimiter_hint(delimiter: str) -> str:
    """The likely fix of a row with the wrong number of fields: another delimiter."""
    return f"; the delimiter was {describe(delimiter)}: if that is wrong, give --delimiter"


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
    path: str,
    parse: pacsv.ParseOptions,
    convert: pacsv.ConvertOptions,
    schema: pa.Schema,
    opened: int,
    header_bytes: int = 0,
) -> Iterator[pa.RecordBatch]:
    """pyarrow's streaming reader: one parsing thread, but about 0.8x the CPU of parsing the same
    blocks one read_csv at a time, and on two cores the evaluation needs the other one.
    Its first block must hold the header line (tens of thousands of columns can pass 1 MiB)."""
    read = pacsv.ReadOptions(block_size=max(CSV_BLOCK_BYTES, 2 * header_bytes))
    try:
        yield from pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        _unchanged(path, opened)  # a line cut in two is the file changing, not a bad file
        if not _CONVERSION.search(str(exc)):
            _numbered_parse_error(path, parse, convert, schema)
        raise _csv_error(
            path, exc, schema, lambda col: _string_batches_of_file(path, parse, col), delimiter=parse.delimiter
        ) from None
    _unchanged(path, opened)


def _numbered_parse_error(
    path: str, parse: pacsv.ParseOptions, convert: pacsv.ConvertOptions, schema: pa.Schema
) -> None:
    """Raise the error of a line that does not parse, with its row: the streaming reader names
    none past its first block, so the file is parsed again in numbered blocks, as stdin is."""
    with pa.input_stream(path, compression="detect") as fh:
        for _ in _parsed_blocks(path, _line_blocks(b"", fh), parse, convert, schema):
            pass


def _unchanged(path: str, opened: int) -> None:
    """A file cut (or grown) at a line end while it was read gives no parse error, only fewer
    rows than the file it was: refuse rather than report on part of it."""
    now = os.stat(path).st_size
    if now != opened:
        raise InputError(f"{path}: changed while it was read ({opened} bytes, then {now}); evaluate a copy")


def _parsed_blocks(
    name: str, blocks: Iterator[pa.Buffer], parse: pacsv.ParseOptions, convert: pacsv.ConvertOptions, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """Parse blocks of whole lines (stdin), several at once on their own threads, yielded in order.

    Blocks cut at line ends outside quotes (a quoted field may hold a line break) parse
    independently. Files do not come here: on two cores the evaluation needs
    the other one, and pyarrow's streaming reader parses with less CPU.
    Arrow is handed each block as its own buffer and parses it on the reader thread that
    asks (``use_threads=False``), never on its own pool: an Arrow worker thread still alive
    when the interpreter exits aborts the process ("terminate called without an active
    exception"; seen in about 2% of runs when Arrow read the Python stream or parsed blocks
    on its thread pool). Ours are joined before the batches end, whatever ends them.
    """
    names = schema.names

    def parse_block(numbered: tuple[int, pa.Buffer]) -> pa.Table:
        i, block = numbered
        read = _block_options(i, block, names)
        return pacsv.read_csv(pa.BufferReader(block), read_options=read, parse_options=parse, convert_options=convert)

    offset = 0
    for (i, block), parsed in ahead(parse_block, enumerate(blocks), reader_threads()):
        try:
            table = parsed.result()
        except pa.ArrowInvalid as exc:

            def column_text(col: str, i: int = i, block: pa.Buffer = block) -> Iterator[pa.RecordBatch]:
                as_text = pacsv.ConvertOptions(include_columns=[col], column_types={col: pa.string()})
                read = _block_options(i, block, names)
                table = pacsv.read_csv(
                    pa.BufferReader(block), read_options=read, parse_options=parse, convert_options=as_text
                )
                yield from table.to_batches()

            rows_before = -1 if i == 0 else offset  # the first block's first line is the header
            raise _csv_error(
                name, exc, schema, column_text, offset, delimiter=parse.delimiter, rows_before=rows_before
            ) from None
        offset += table.num_rows
        yield from table.to_batches()


def _block_options(i: int, block: pa.Buffer, names: list[str]) -> pacsv.ReadOptions:
    """The first block holds the header; the others are named by it. One block, one batch."""
    size = max(block.size + 1, 1 << 10)
    if i == 0:
        return pacsv.ReadOptions(use_threads=False, block_size=size)
    return pacsv.ReadOptions(use_threads=False, block_size=size, column_names=names)


def _line_blocks(head: bytes, stream: Any) -> Iterator[pa.Buffer]:
    """``head`` and then the rest of ``stream`` as blocks that end at a newline (the last one
    may not), each read into its own buffer: no copy but the partial line carried over."""
    tail = head
    while True:
        buffer = bytearray(len(tail) + CSV_BLOCK_BYTES)
        buffer[: len(tail)] = tail
        end = len(tail) + _fill(stream, memoryview(buffer)[len(tail) :])
        if end == len(tail):
            if tail.strip():
                yield pa.py_buffer(tail)
            return
        cut = _line_end(buffer, end)
        if not cut:  # a line longer than a block: read on
            tail = bytes(buffer[:end])
            continue
        tail = bytes(buffer[cut:end])
        yield pa.py_buffer(buffer).slice(0, cut)


def _line_end(data: bytes | bytearray, end: int) -> int:
    r"""Where the last whole line of ``data[:end]`` ends (0: none does), ``data`` starting at a
    line. Lines end at \n, or at \r alone as in old Mac files (only when no \n is found:
    \r|\n cut in two would leave an empty line, which is skipped anyway). A line break inside
    a quoted field is not a line end: there, an odd number of quotes lies before it (a quote
    written twice inside a field counts two, so the parity holds).

    >>> _line_end(b'y,note\n1,"a\nb"\n2,"c\nd', 22)
    15
    """
    newline = b"\n" if data.find(b"\n", 0, end) >= 0 else b"\r"
    cut = data.rfind(newline, 0, end) + 1
    quotes = data.count(b'"', 0, cut)
    while cut and quotes % 2:
        before = data.rfind(newline, 0, cut - 1) + 1
        quotes -= data.count(b'"', before, cut)
        cut = before
    return cut


# A header line longer than this is not a CSV header.
HEAD_LIMIT = 64 << 20


def _read_head(read: Callable[[int], bytes]) -> bytes:
    """The first SNIFF_BYTES, and more until they hold a whole line (a header of tens of
    thousands of columns is longer than SNIFF_BYTES)."""
    head = bytes(read(SNIFF_BYTES))
    while len(head) < HEAD_LIMIT and not _line_end(head, len(head)):
        more = bytes(read(SNIFF_BYTES))
        if not more:
            break
        head += more
    return head


def _fill(stream: Any, view: memoryview) -> int:
    """Read into ``view`` until it is full or the stream ends (a pipe gives a little at a time)."""
    readinto = getattr(stream, "readinto", None)
    done = 0
    while done < len(view):
        if readinto is not None:
            got = readinto(view[done:]) or 0
        else:  # a stream with its sniffed head put back
            data = stream.read(len(view) - done)
            got = len(data)
            view[done : done + got] = data
        if not got:
            break
        done += got
    return done


_CONVERSION = re.compile(r"In CSV column #(\d+): .*invalid value '(.*)'")


def _csv_error(
    name: str,
    exc: pa.ArrowInvalid,
    schema: pa.Schema,
    column_text: Callable[[str], Iterator[pa.RecordBatch]],
    row_offset: int = 0,
    *,
    delimiter: str = ",",
    rows_before: int | None = None,
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
    reason = _csv_reason(exc, rows_before)
    return InputError(f"{name}: not valid CSV ({reason}){_delimiter_hint(delimiter)}")


def _string_batches_of_file(path: str, parse: pacsv.ParseOptions, column: str) -> Iterator[pa.RecordBatch]:
    convert = pacsv.ConvertOptions(include_columns=[column], column_types={column: pa.string()})
    yield from pacsv.open_csv(path, parse_options=parse, convert_options=convert)


def _first_non_number_row(batches: Iterator[pa.RecordBatch]) -> int | None:
    """The 1-based row of the first cell that is not a number."""
    offset = 0
    for batch in batches:
        i = first_non_number(batch.column(0).to_pylist())
        if i is not None:
            return offset + i + 1
        offset += batch.num_rows
    return None


_PARSED_ROW = re.compile(r"^Row #(\d+): ")


def _csv_reason(exc: Exception, rows_before: int | None = -1) -> str:
    """pyarrow's reason; its "Row #N" (counted from the first line it was given, the header
    included) becomes the data row N + ``rows_before`` (None: left as pyarrow says it)."""
    text = first_line(exc).removeprefix("CSV parse error: ")
    match = _PARSED_ROW.match(text)
    if match is None or rows_before is None:
        return text
    row = int(match.group(1)) + rows_before
    return f"{f'row {row}' if row >= 1 else 'the header'}: {text[match.end() :]}"
