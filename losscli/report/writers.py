"""Writing results: atomically to a file, never over an input, and per-row streams.

A file is written to a temporary name in the same folder and renamed into
place, so a reader never sees half a file and an interrupted run leaves the
old one untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import OptionError
from ..read.arrow_numpy import float64_array
from ..request import PER_ROW_FORMATS


def refuse_inputs(output: str, inputs: Sequence[str]) -> None:
    """Never write over a file the user gave as input; fail before reading if the
    output cannot be written at all."""
    out = Path(output)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise OptionError(f"--output {output}: the folder {folder} does not exist")
    if out.is_dir():
        raise OptionError(f"--output {output} is a directory; name a file")
    if not os.access(folder, os.W_OK):
        raise OptionError(f"--output {output}: the folder {folder} is not writable")
    for given in inputs:
        if given == "-":
            continue
        src = Path(given)
        same = out.exists() and src.exists() and os.path.samefile(out, src)
        if same or out.resolve() == src.resolve():
            raise OptionError(f"--output {output} is an input file; choose another name so the input is kept")
        if src.is_dir() and src.resolve() in out.resolve().parents:
            raise OptionError(f"--output {output} is inside the input dataset {given}; write it elsewhere")


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """A temporary path beside ``path``, renamed onto it when the block ends without error."""
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise OptionError(f"--output {path}: the folder {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomically(path: str, text: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


class PerRowWriter:
    """Streams one row per input row: the id, then one column per (model, loss).

    Constant memory: every batch is written as it comes. CSV/TSV/JSONL go to
    stdout or a file; Parquet needs a file.
    """

    def __init__(self, fmt: str, path: str | None) -> None:
        if fmt not in PER_ROW_FORMATS:
            raise OptionError(f"--per-row writes {', '.join(PER_ROW_FORMATS)}, not {fmt}")
        if fmt == "parquet" and path is None:
            raise OptionError("--per-row as parquet needs --output FILE.parquet")
        self.fmt = fmt
        self.path = path
        self._atomic: Any = None
        self._tmp: str | None = None
        self._writer: Any = None
        self._sink: Any = None  # the Arrow stream under a CSV/TSV writer
        self._text: IO[bytes] | None = None

    def __enter__(self) -> PerRowWriter:
        if self.path is not None:
            self._atomic = atomic_path(self.path)
            self._tmp = self._atomic.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            if self._sink is not None:
                self._sink.flush()
                if self._tmp is not None:  # never close stdout
                    self._sink.close()
            if self._text is not None and self._text is not sys.stdout.buffer:
                self._text.close()
            elif self._text is not None:
                self._text.flush()
        finally:
            if self._atomic is not None:
                self._atomic.__exit__(*exc)

    def write(self, id_name: str, ids: Any, columns: dict[str, np.ndarray]) -> None:
        import pyarrow as pa

        arrays = [ids, *(float64_array(v) for v in columns.values())]
        batch = pa.RecordBatch.from_arrays(arrays, names=[id_name, *columns])
        if self.fmt == "jsonl":
            self._write_jsonl(batch)
        elif self.fmt == "parquet":
            import pyarrow.parquet as pq

            if self._writer is None:
                self._writer = pq.ParquetWriter(self._tmp, batch.schema)
            self._writer.write_batch(batch)
        else:
            self._write_delimited(batch)

    def _stream(self) -> Any:
        import pyarrow as pa

        if self._tmp is not None:
            return pa.OSFile(self._tmp, "wb")
        return pa.PythonFile(sys.stdout.buffer, mode="w")

    def _write_delimited(self, batch: Any) -> None:
        import pyarrow.csv as pacsv

        if self._writer is None:
            options = pacsv.WriteOptions(delimiter="\t" if self.fmt == "tsv" else ",", quoting_style="needed")
            self._sink = self._stream()
            self._writer = pacsv.CSVWriter(self._sink, batch.schema, write_options=options)
        self._writer.write_batch(batch)

    def _write_jsonl(self, batch: Any) -> None:
        """One JSON object per row, as json.dumps writes it, built a column at a time by
        Arrow string kernels (one json.dumps per record was 10x slower than the CSV writer)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self._text is None:
            sys.stdout.flush()  # bytes go under the text layer: anything written before goes first
            self._text = open(self._tmp, "wb") if self._tmp else sys.stdout.buffer  # noqa: SIM115
        pieces: list[Any] = []
        for i, name in enumerate(batch.schema.names):
            pieces += [pa.scalar(("{" if i == 0 else ", ") + json.dumps(name) + ": "), _json_cells(batch.column(i))]
        lines = pc.binary_join_element_wise(*pieces, pa.scalar("}\n"), "")
        if len(lines):
            self._text.write(_joined(lines))


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
