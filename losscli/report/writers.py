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
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..arrow_buffers import float64_array, null_mask, string_bytes
from ..errors import OptionError, OutputError, ReaderGone
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
        """The batch (the id, then float64 losses) as CSV/TSV lines; the header before the first."""
        import pyarrow as pa

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
        if not _is_text(batch.column(0).type):
            return header + _arrow_csv(batch, delimiter)
        # Arrow's writer quotes every text cell ("a1" for a1) or none: it writes each run of rows
        # whose ids all need quotes, or none do; where such runs are many (ids to quote
        # scattered through the batch) the ids are quoted here, each beside its line of losses.
        ids = _text(batch.column(0))
        plain = pa.RecordBatch.from_arrays([ids, *batch.columns[1:]], names=batch.schema.names)
        needs = _to_quote(ids, delimiter)
        if needs is None:
            return header + _arrow_csv(plain, delimiter, "none")
        starts = [0, *(np.flatnonzero(needs[1:] != needs[:-1]) + 1).tolist()]
        if len(starts) > _MOST_RUNS:
            return header + _beside_quoted_ids(ids, pa.array(needs), batch, delimiter)
        runs = zip(starts, [*starts[1:], len(needs)], strict=True)
        return header + b"".join(
            _arrow_csv(plain.slice(a, b - a), delimiter, "needed" if needs[a] else "none") for a, b in runs
        )


# Runs of rows Arrow's writer is called for, at most, in a batch: each call costs about 30 us.
_MOST_RUNS = 64


def _arrow_csv(batch: Any, delimiter: str, quoting: str = "needed") -> bytes:
    """Arrow's CSV writer, no header (numbers are never quoted in either quoting style)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style=quoting)
    sink = pa.BufferOutputStream()
    pacsv.write_csv(batch, sink, write_options=options)
    return bytes(sink.getvalue())


def _text(column: Any) -> Any:
    """A text column as plain strings (a dictionary decoded, bytes read as UTF-8, a view copied),
    as Arrow's writer and string kernels take them."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    # Array.cast imports pyarrow.compute (25-80 ms): a CSV's ids are strings already.
    return column if column.type == pa.string() else column.cast(pa.string())


# Bytes that make a CSV/TSV cell need quotes anywhere in it, and at its edges (white space).
_WHITE_SPACE = np.zeros(256, dtype=bool)
_WHITE_SPACE[list(b" \t\n\v\f\r")] = True


def _structural(delimiter: str) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[[ord(delimiter), ord('"'), ord("\r"), ord("\n")]] = True
    return table


_STRUCTURAL = {",": _structural(","), "\t": _structural("\t")}


def _to_quote(text: Any, delimiter: str) -> np.ndarray | None:
    """Which cells of a string array must be quoted (None: none): those holding the delimiter, a
    quote or a line break, beginning or ending with white space, or empty (so an empty text reads
    apart from a missing one, which is written empty). Read from the array's bytes and offsets:
    most batches of ids hold none of those bytes and no empty cell, seen by memchr alone (under 1%
    of Arrow's writer's time on a CSV's ids; no regex kernel, no pyarrow.compute to import)."""
    n = len(text)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + n + 1]
    data = text.buffers()[2]
    cells = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]] if data is not None else np.empty(0, np.uint8)
    body = cells.tobytes()
    structural = any(ch in body for ch in (delimiter.encode(), b'"', b"\r", b"\n"))
    lengths = np.diff(offsets)
    if not structural and lengths.all() and not any(ch in body for ch in (b" ", b"\t", b"\v", b"\f")):
        return None
    local = offsets - offsets[0]
    needs = lengths == 0
    if needs.any():  # a missing cell is written empty, unquoted
        needs &= ~null_mask(text)
    if structural:
        inside = np.flatnonzero(_STRUCTURAL[delimiter][cells])
        needs[np.searchsorted(local, inside, side="right") - 1] = True
    full = np.flatnonzero(lengths)
    needs[full[_WHITE_SPACE[cells[local[full]]] | _WHITE_SPACE[cells[local[full + 1] - 1]]]] = True
    return needs if needs.any() else None


def _beside_quoted_ids(ids: Any, quote: Any, batch: Any, delimiter: str) -> bytes:
    """Each id (quoted where ``quote`` says, a missing one empty), the delimiter, and its line
    of losses as Arrow's writer wrote it (numbers hold no line break: one line per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    quoted = pc.binary_join_element_wise('"', pc.replace_substring(ids, '"', '""'), '"', "")
    cells = pc.fill_null(pc.if_else(quote, quoted, ids), "")
    rest = pa.RecordBatch.from_arrays(batch.columns[1:], names=batch.schema.names[1:])
    written = pa.py_buffer(_arrow_csv(rest, delimiter))
    ends = np.flatnonzero(np.frombuffer(written, dtype=np.uint8) == ord("\n"))
    offsets = np.concatenate([[0], ends + 1]).astype(np.int32)
    losses = pa.StringArray.from_buffers(len(ends), pa.py_buffer(offsets), written)
    return bytes(string_bytes(pc.binary_join_element_wise(cells, losses, delimiter)))


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
    return bytes(string_bytes(lines))


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
