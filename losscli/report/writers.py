"""The one writer of every file losscli writes (``eval -o``, ``--per-row -o``, ``plot -o``).

Its promises:

- never over an input: every file the run reads (globs and directories expanded,
  ``--truth``, and stdin's file when stdin is redirected from one) is compared with
  the output, by device and inode, before anything is read;
- straight through to what is not a regular file: character devices (``/dev/null``),
  FIFOs, sockets and ``/dev/stdout`` are opened and written, never replaced;
- through a symlink to its target, keeping the link (as ``cp`` and ``sort -o`` do);
- atomic over a regular file: a temporary with a short name beside the target is
  renamed onto it, so a reader never sees half a file, an interrupted run leaves
  the old file untouched, and a valid long name is never refused for its temporary;
- an overwritten file keeps its mode (and owner, where allowed); a new file gets
  ``0666 & ~umask``, as ``open()`` would give it;
- the temporary is removed on any exception, and so on the signals the CLI turns
  into one (SIGINT, SIGTERM, SIGHUP).

``atomicwrites`` (archived in 2022) and its successors handle only the rename; the
special cases above are the whole of the work, so this stays standard library.
"""

from __future__ import annotations

import contextlib
import csv
import fnmatch
import glob as globbing
import io
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import OptionError, OutputError, ReaderGone
from ..read.arrow_numpy import float64_array
from ..request import PER_ROW_FORMATS

# Temporaries being written: removed by the signal watcher if the process must end abruptly.
_TEMPORARIES: set[str] = set()

# Paths that name an already open stream of this process: always written through.
_STREAM_PATHS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/")


def check_output(output: str, inputs: Sequence[str], flag: str = "--output") -> None:
    """Refuse an output that is (or would land inside) an input; fail before reading if
    the output cannot be written at all."""
    out = Path(output)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise OptionError(f"{flag} {output}: the folder {folder} does not exist")
    if out.is_dir():
        raise OptionError(f"{flag} {output} is a directory; name a file")
    if not os.access(folder, os.W_OK):
        raise OptionError(f"{flag} {output}: the folder {folder} is not writable")
    if not _is_regular_or_new(output):
        return  # a device or FIFO is written through; it cannot be an input file
    real = os.path.realpath(output)
    target = _identity(real)
    for given in inputs:
        if given == "-":
            if target is not None and target == _stdin_identity():
                raise OptionError(f"{flag} {output} is the file on stdin; choose another name so the input is kept")
            continue
        if target is not None and target in _identities(given):
            raise OptionError(f"{flag} {output} is an input file; choose another name so the input is kept")
        if _inside(real, given):
            raise OptionError(f"{flag} {output} is inside the input dataset {given}; write it elsewhere")


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _stdin_identity() -> tuple[int, int] | None:
    try:
        st = os.fstat(0)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def _identities(given: str) -> set[tuple[int, int]]:
    """Device and inode of every file an input names (a glob expanded)."""
    paths = globbing.glob(given) if globbing.has_magic(given) else [given]
    return {i for i in map(_identity, paths) if i is not None}


def _inside(real: str, given: str) -> bool:
    """The output would land in an input directory, or be matched by an input glob."""
    if os.path.isdir(given):
        return Path(os.path.realpath(given)) in Path(real).parents
    if globbing.has_magic(given):
        pattern = os.path.join(os.path.realpath(os.path.dirname(given) or "."), os.path.basename(given))
        return fnmatch.fnmatch(real, pattern)
    return False


def _is_regular_or_new(path: str) -> bool:
    if os.path.abspath(path).startswith(_STREAM_PATHS):
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True


@contextlib.contextmanager
def output_path(path: str, flag: str = "--output") -> Iterator[str]:
    """The path to write ``path``'s content to: ``path`` itself for a device, FIFO or
    stream; else a temporary beside the real file, renamed onto it when the block ends
    without error and removed when it does not."""
    if not _is_regular_or_new(path):
        yield path
        return
    real = os.path.realpath(path)  # through a symlink: the link stays, its target changes
    folder = os.path.dirname(real)
    # Registered before it exists: a signal arriving between the creation and the try below
    # finds it in _TEMPORARIES (removed by the interrupted exit, or by the signal watcher).
    # os.urandom(6).hex() is secrets.token_hex(6) without importing hmac and hashlib at start.
    tmp = os.path.join(folder, f".losscli-{os.urandom(6).hex()}")
    _TEMPORARIES.add(tmp)
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        _TEMPORARIES.discard(tmp)
        raise OutputError(f"{flag} {path}: cannot be written ({exc.strerror or exc})") from None
    try:
        yield tmp
        _copy_mode(real, tmp)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        _TEMPORARIES.discard(tmp)


def remove_temporaries() -> None:
    """Every temporary still being written, removed (the last act of an interrupted process)."""
    for tmp in list(_TEMPORARIES):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _copy_mode(real: str, tmp: str) -> None:
    """The mode (and owner) of the file being replaced, or what a new file would get."""
    try:
        st = os.stat(real)
    except FileNotFoundError:
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    with contextlib.suppress(OSError):  # only root may give a file away; others keep their own
        os.chown(tmp, st.st_uid, st.st_gid)


def write_text(path: str, text: str | Iterable[str], flag: str = "--output") -> None:
    """``text`` (or its pieces, made as they are written) to ``path`` through the one writer."""
    try:
        with output_path(path, flag) as target, open(target, "w", encoding="utf-8", newline="") as fh:
            for piece in [text] if isinstance(text, str) else text:
                fh.write(piece)
            fh.flush()
            with contextlib.suppress(OSError):  # a FIFO or a device cannot be synced
                os.fsync(fh.fileno())
    except OSError as exc:
        raise OutputError(f"{flag} {path}: cannot be written ({exc.strerror or exc})") from None


class PerRowWriter:
    """Streams one row per input row: the id, then one column per (model, loss).

    Constant memory: every batch is written as it comes. CSV/TSV/JSONL go to
    stdout or a file; Parquet needs a file. Write errors become OutputError (one
    sentence) and a reader of stdout that went away becomes ReaderGone (exit 0).
    """

    def __init__(self, fmt: str, path: str | None) -> None:
        if fmt not in PER_ROW_FORMATS:
            raise OptionError(f"--per-row writes {', '.join(PER_ROW_FORMATS)}, not {fmt}")
        if fmt == "parquet" and path is None:
            raise OptionError("--per-row as parquet needs --output FILE.parquet")
        self.fmt = fmt
        self.path = path
        self._target: contextlib.AbstractContextManager[str] | None = None
        self._tmp: str | None = None
        self._parquet: Any = None
        self._file: IO[bytes] | None = None
        self._header = True

    def __enter__(self) -> PerRowWriter:
        if self.path is not None:
            self._target = output_path(self.path)
            self._tmp = self._target.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._errors():
            try:
                self._close()
            except BaseException:
                if self._target is not None:
                    self._target.__exit__(*sys.exc_info())
                raise
            if self._target is not None:
                self._target.__exit__(*exc)

    def _close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._file is not None:
            self._file.close()
        elif self._tmp is None:
            sys.stdout.buffer.flush()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise ReaderGone() from None
        except OSError as exc:
            where = f"--output {self.path}" if self.path else "stdout"
            raise OutputError(f"cannot write the per-row losses to {where} ({exc.strerror or exc})") from None

    def write(self, id_name: str, ids: Any, columns: dict[str, np.ndarray]) -> None:
        import pyarrow as pa

        arrays = [ids, *(float64_array(v) for v in columns.values())]
        batch = pa.RecordBatch.from_arrays(arrays, names=[id_name, *columns])
        with self._errors():
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                if self._parquet is None:
                    self._parquet = pq.ParquetWriter(self._tmp, batch.schema)
                self._parquet.write_batch(batch)
            else:
                self._put(_jsonl(batch) if self.fmt == "jsonl" else self._delimited(batch))

    def _put(self, data: bytes) -> None:
        if self._tmp is None:
            sys.stdout.flush()  # bytes go under the text layer: anything written before goes first
            sys.stdout.buffer.write(data)
            return
        if self._file is None:
            self._file = open(self._tmp, "wb")  # noqa: SIM115 (closed in __exit__)
        self._file.write(data)

    def _delimited(self, batch: Any) -> bytes:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        delimiter = "\t" if self.fmt == "tsv" else ","
        # Arrow quotes every header name whatever the quoting style: the header is written by the
        # csv module, as the summary's is (quoted only when a name holds the delimiter, a quote
        # or a line break).
        header = b""
        if self._header:
            line = io.StringIO()
            csv.writer(line, delimiter=delimiter, lineterminator="\n").writerow(batch.schema.names)
            header = line.getvalue().encode()
        self._header = False
        # Arrow's writer quotes every text cell ("a1" for a1) or none: text columns (the id) are
        # looked at first; with no cell to quote Arrow writes them bare, else the lines are
        # joined here (1.2x the writer's time, on those batches only).
        texts = {i: _text(batch.column(i)) for i in range(batch.num_columns) if _is_text(batch.column(i).type)}
        quote = {i: _to_quote(text, delimiter) for i, text in texts.items()}
        if any(q is not None for q in quote.values()):
            return header + _quoted_lines(batch, delimiter, texts, quote)
        plain = pa.RecordBatch.from_arrays(
            [texts.get(i, batch.column(i)) for i in range(batch.num_columns)], names=batch.schema.names
        )
        style = "none" if texts else "needed"  # numbers are never quoted either way
        options = pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style=style)
        sink = pa.BufferOutputStream()
        pacsv.write_csv(plain, sink, write_options=options)
        return header + bytes(sink.getvalue())


def _text(column: Any) -> Any:
    """A text column as plain strings (a dictionary decoded, bytes read as UTF-8, a view copied),
    as Arrow's writer and string kernels take them."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    # Array.cast imports pyarrow.compute (25-80 ms): a CSV's ids are strings already.
    return column if column.type == pa.string() else column.cast(pa.string())


def _to_quote(text: Any, delimiter: str) -> Any:
    """Where a text cell must be quoted (None: nowhere): it holds the delimiter, a quote or a
    line break, begins or ends with white space, or is empty (so it reads apart from a missing
    one, which is written empty)."""
    if not _may_need_quotes(text, delimiter):
        return None
    import pyarrow.compute as pc

    needs = pc.match_substring_regex(text, f'[{re.escape(delimiter)}"\\r\\n]|^\\s|\\s$|^$')
    return needs if pc.any(needs).as_py() else None


_WHITE_SPACE = np.frombuffer(b" \t\n\v\f\r", dtype=np.uint8)


def _may_need_quotes(text: Any, delimiter: str) -> bool:
    """A quick look at a string array's bytes (a third of the regex's time, which then says
    which cells): a structural character anywhere, an empty or missing cell, or white space
    at a cell's edge."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    if not len(text) or offsets[-1] == offsets[0]:
        return bool(len(text))
    body = bytes(memoryview(text.buffers()[2])[int(offsets[0]) : int(offsets[-1])])
    if any(ch in body for ch in (delimiter.encode(), b'"', b"\r", b"\n")):
        return True
    lengths = np.diff(offsets)
    if not lengths.all():
        return True
    cells = np.frombuffer(body, dtype=np.uint8)
    starts = offsets[:-1] - offsets[0]
    edges = np.concatenate([cells[starts], cells[starts + lengths - 1]])
    return bool(np.isin(edges, _WHITE_SPACE).any())


def _quoted_lines(batch: Any, delimiter: str, texts: dict[int, Any], quote: dict[int, Any]) -> bytes:
    """The batch's lines joined from each column's text: Arrow's own cast for numbers (what its
    writer writes), a text cell quoted where ``quote`` says, a missing cell empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces: list[Any] = []
    for i in range(batch.num_columns):
        pieces += [pa.scalar(delimiter)] if i else []
        cells = texts[i] if i in texts else pc.cast(batch.column(i), pa.string())
        if quote.get(i) is not None:
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(cells, '"', '""'), '"', "")
            cells = pc.if_else(quote[i], quoted, cells)
        pieces.append(pc.fill_null(cells, "") if cells.null_count else cells)
    return bytes(_joined(pc.binary_join_element_wise(*pieces, pa.scalar("\n"), ""))) if batch.num_rows else b""


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    # By name for the view types: pyarrow 15 (the oldest supported) has no is_string_view.
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return kind in (pa.string(), pa.large_string(), pa.binary(), pa.large_binary()) or str(kind).endswith("_view")


def _jsonl(batch: Any) -> bytes:
    """One JSON object per row, as json.dumps writes it, built a column at a time by Arrow
    string kernels (one json.dumps per record was 10x slower than the CSV writer)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces: list[Any] = []
    for i, name in enumerate(batch.schema.names):
        pieces += [pa.scalar(("{" if i == 0 else ", ") + json.dumps(name) + ": "), _json_cells(batch.column(i))]
    lines = pc.binary_join_element_wise(*pieces, pa.scalar("}\n"), "")
    return bytes(_joined(lines)) if len(lines) else b""


def _joined(lines: Any) -> memoryview:
    """The concatenation of a string array without nulls: its data buffer between the first and last offsets."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def _json_cells(column: Any) -> Any:
    """Each value of an Arrow column as JSON text (non-finite floats and nulls as null), as an Arrow array.

    Floats are formatted by Arrow (shortest round-trip digits); a whole number
    gets ".0" so it reads back as a float, as json.dumps writes it. The
    notation may differ from repr (0.00001 for 1e-05): the same number.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        finite = np.isfinite(values)
        text = pc.cast(column, pa.string())
        whole = finite & (np.trunc(np.where(finite, values, 0.0)) == values)
        if whole.any():
            whole_text = pc.and_(pa.array(whole), pc.invert(pc.match_substring(text, "e")))
            text = pc.if_else(whole_text, pc.binary_join_element_wise(text, ".0", ""), text)
        return text if finite.all() else pc.if_else(pa.array(finite), text, "null")
    if pa.types.is_integer(column.type) and column.null_count == 0:
        return pc.cast(column, pa.string())
    return pa.array([json.dumps(_finite_or_none(v)) for v in column.to_pylist()], pa.string())


def _finite_or_none(value: Any) -> Any:
    return None if isinstance(value, float) and not np.isfinite(value) else value


def append_text(path: str, text: str) -> None:
    """Append to a file another program collects (GitHub's step summary). Appending, not
    replacing: earlier steps' text in the same file is kept."""
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fh.write(text)
