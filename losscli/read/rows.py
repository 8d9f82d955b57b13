"""How many rows an input holds, for the progress bar: counted where the file says (Parquet
footers, NumPy headers, a table in memory, a text file read whole by its sample), else estimated.

A text file's estimate is its bytes times its rows per byte, measured in the first megabyte
(the sample Arrow parsed) and in windows spread through the rest: rows whose length drifts
(an id column 1 .. 2,000,000 gains digits) are counted along the whole file, not only at its
head (which gave 9% too many rows on such a file). A compressed file's size is its
compressed bytes times the rows per compressed byte of its first eight (decompressed) megabytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyarrow as pa

from .source import Source

# The head the text readers parse for their sample (delimited.SNIFF_BYTES, jsonl.SNIFF_BYTES).
HEAD_BYTES = 1 << 20
# Windows read through the rest of a text file: 16 x 64 KiB, a few milliseconds.
WINDOWS = 16
WINDOW_BYTES = 1 << 16
# Decompressed bytes read to measure a compressed file's ratio: Arrow reads the compressed
# stream 64 KiB at a time, so the raw position overshoots by that much at most (under 4% here).
PROBE_BYTES = 8 << 20
_CODECS = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bz2"}
# bz2 decompresses at ~10 MB/s, 900 kB blocks whole: 8 MB took a second before the run began.
# Its probe is the first whole blocks past the head, fed this many compressed bytes at a time,
# so the compressed bytes they took are known to that much.
BZ2_FEED = 1 << 14


@dataclass(frozen=True)
class RowCount:
    """Rows in an input, and whether that is a count (else an estimate)."""

    rows: int
    exact: bool


def count_rows(source: Source, files: list[str]) -> RowCount | None:
    """The rows of ``source`` (opened from ``files``); None when they cannot be known before
    reading (stdin, several text files, an Arrow stream). May raise OSError or ValueError."""
    if source.rows is not None:
        return RowCount(source.rows, exact=True)
    if source.format == "parquet" and files and files[0] != "-":
        import pyarrow.parquet as pq

        from .parquet import parquet_files

        return RowCount(sum(pq.read_metadata(f).num_rows for f in parquet_files(files[0])), exact=True)
    if len(files) != 1 or files[0] == "-" or not source.sample.num_rows:
        return None
    if source.format == "arrow":
        return _ipc_rows(files[0])
    if source.format in ("csv", "tsv", "jsonl"):
        return _text_rows(files[0], source.sample.num_rows)
    return None


def _ipc_rows(path: str) -> RowCount | None:
    """An Arrow IPC file's batches are listed in its footer: every batch but the last is
    taken to hold the first's rows (as writers cut them), the last is counted."""
    import pyarrow.ipc as ipc

    with pa.memory_map(path) as mapped:
        try:
            reader = ipc.open_file(mapped)
        except pa.ArrowInvalid:
            return None  # the stream format: its batches are counted only by reading them
        n = reader.num_record_batches
        if n <= 1:
            return RowCount(reader.get_batch(0).num_rows if n else 0, exact=True)
        first, last = reader.get_batch(0).num_rows, reader.get_batch(n - 1).num_rows
    return RowCount(first * (n - 1) + last, exact=n == 2)


def _text_rows(path: str, sample_rows: int) -> RowCount:
    """CSV, TSV or JSON Lines, plain or compressed: counted when the sample read it whole."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    codec = next((name for start, name in _CODECS.items() if magic.startswith(start)), None)
    if codec is not None:
        return _compressed_rows(path, codec, sample_rows)
    size = os.path.getsize(path)
    if size <= HEAD_BYTES:
        return RowCount(sample_rows, exact=True)
    with open(path, "rb") as fh:
        head = _whole_lines(fh.read(HEAD_BYTES))
        per_line = _rows_per_line(head, sample_rows)
        rest = size - len(head)
        step = rest / WINDOWS
        densities = []
        for i in range(WINDOWS):
            fh.seek(len(head) + int(step * (i + 0.5)) - WINDOW_BYTES // 2)
            densities.append(_lines_per_byte(fh.read(WINDOW_BYTES)))
    known = [d for d in densities if d is not None]
    if per_line is None or not known:  # no line breaks to count: the head's rows per byte throughout
        return RowCount(round(size * sample_rows / len(head)), exact=False)
    return RowCount(sample_rows + round(rest * per_line * sum(known) / len(known)), exact=False)


def _compressed_rows(path: str, codec: str, sample_rows: int) -> RowCount:
    size = os.path.getsize(path)
    if codec == "bz2":
        probe, consumed, whole = _bz2_probe(path)
    else:
        with pa.OSFile(path) as raw, pa.CompressedInputStream(raw, codec) as stream:
            probe = stream.read(PROBE_BYTES)
            consumed = raw.tell()
        whole = len(probe) < PROBE_BYTES
    if len(probe) <= HEAD_BYTES:
        return RowCount(sample_rows, exact=True)
    head = _whole_lines(probe[:HEAD_BYTES])
    per_line = _rows_per_line(head, sample_rows)
    # Rows in the probe: its line breaks counted (the head's rows per byte where it has none).
    rows = probe.count(b"\n") * per_line if per_line is not None else len(probe) * sample_rows / len(head)
    if whole:
        return RowCount(round(rows), exact=False)
    return RowCount(round(rows * size / consumed), exact=False)


def _bz2_probe(path: str) -> tuple[bytes, int, bool]:
    """A .bz2 file's first whole blocks past HEAD_BYTES decompressed, the compressed bytes fed
    for them, and whether that is the whole file (streams one after another, as pbzip2 writes)."""
    import bz2

    out: list[bytes] = []
    got = consumed = 0
    decompressor = bz2.BZ2Decompressor()
    with open(path, "rb") as fh:
        while got <= HEAD_BYTES:
            chunk = fh.read(BZ2_FEED)
            if not chunk:
                return b"".join(out), consumed, True
            consumed += len(chunk)
            while chunk:
                piece = decompressor.decompress(chunk)
                out.append(piece)
                got += len(piece)
                chunk = decompressor.unused_data if decompressor.eof else b""
                if decompressor.eof:
                    decompressor = bz2.BZ2Decompressor()
    return b"".join(out), consumed, False


def _whole_lines(head: bytes) -> bytes:
    """The head as the readers parse it: cut after its last line break (when it has one)."""
    end = head.rfind(b"\n")
    return head[: end + 1] if len(head) == HEAD_BYTES and end >= 0 else head


def _rows_per_line(head: bytes, sample_rows: int) -> float | None:
    """Rows per line break in the head (below 1 where quoted cells hold line breaks)."""
    lines = head.count(b"\n")
    return sample_rows / lines if lines else None


def _lines_per_byte(window: bytes) -> float | None:
    """Line breaks per byte between a window's first and last line break."""
    first, last = window.find(b"\n"), window.rfind(b"\n")
    return (window.count(b"\n", first, last + 1) - 1) / (last - first) if last > first else None
