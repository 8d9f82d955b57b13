"""The readers' fast paths: CSV blocks parsed several at a time, Parquet read through a buffer,
and the threads behind them ending whatever happens. References are computed with NumPy here."""

from __future__ import annotations

import csv
import gzip
import io
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

import losscli
from losscli.cli import app
from losscli.read import delimited
from losscli.read.prefetch import ahead, prefetched

ROWS = 30_000


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few kilobytes, so a small file is hundreds of blocks parsed on several threads."""
    monkeypatch.setattr(delimited, "SNIFF_BYTES", 1000)
    monkeypatch.setattr(delimited, "CSV_BLOCK_BYTES", 4096)


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y = rng.normal(10, 3, ROWS)
    return y, y + rng.normal(0, 1, ROWS), y + rng.standard_t(3, ROWS)


def _text(newline: str = "\n") -> str:
    y, a, b = _data()
    return "y,a,b" + newline + "".join(f"{u:.17g},{v:.17g},{w:.17g}{newline}" for u, v, w in zip(y, a, b, strict=True))


def _check(frame: pd.DataFrame) -> None:
    y, a, b = _data()
    values = {(r.model, r.loss): r.value for r in frame.itertuples()}
    for name, p in (("a", a), ("b", b)):
        assert values[(name, "mse")] == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
        assert values[(name, "mae")] == pytest.approx(np.mean(np.abs(p - y)), rel=1e-12)
    assert set(frame["n"]) == {ROWS}


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_csv_file_read_in_many_blocks_gives_every_row_once(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "many.csv"
    path.write_bytes(_text(newline).encode())
    _check(losscli.evaluate(str(path), ["mse", "mae"], target="y"))


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("threads", [1, 3])
def test_stdin_parsed_in_many_blocks_on_threads_gives_every_row_once(
    monkeypatch: pytest.MonkeyPatch, newline: str, threads: int
) -> None:
    monkeypatch.setattr(delimited, "reader_threads", lambda: threads)
    result = _stdin(_text(newline), "-l", "mse,mae", "-t", "y")
    assert result.exit_code == 0, result.output
    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    y, a, b = _data()
    for name, p in (("a", a), ("b", b)):
        assert float(rows[name]["mse"]) == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
        assert float(rows[name]["mae"]) == pytest.approx(np.mean(np.abs(p - y)), rel=1e-12)
        assert int(rows[name]["n"]) == ROWS


def _stdin(text: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["eval", "-", "-f", "csv", "-q", *args], input=text)


@pytest.mark.usefixtures("small_blocks")
def test_a_compressed_csv_is_read_in_blocks_too(tmp_path: Path) -> None:
    path = tmp_path / "many.csv.gz"
    path.write_bytes(gzip.compress(_text().encode()))
    _check(losscli.evaluate(str(path), ["mse", "mae"], target="y"))


@pytest.mark.usefixtures("small_blocks")
def test_a_line_longer_than_a_block_is_read_whole_from_stdin() -> None:
    note = "x" * 20_000  # one text cell five blocks long
    result = _stdin("y,a,note\n1,2,short\n3,5," + note + "\n2,2,short\n", "-l", "mse", "-t", "y", "-p", "a")
    assert result.exit_code == 0, result.output
    assert float(next(csv.DictReader(io.StringIO(result.stdout)))["mse"]) == pytest.approx((1 + 4 + 0) / 3, rel=1e-12)


@pytest.mark.usefixtures("small_blocks")
def test_a_bad_cell_in_a_later_block_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_text("y,a\n" + "1,2\n" * 9_999 + "1,oops\n" + "1,2\n" * 5_000)
    with pytest.raises(ValueError, match=r"column 'a', row 10000 holds 'oops'"):
        losscli.evaluate(str(path), ["mse"], target="y")
    _no_reader_threads()


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("bad_row", [2, 9_000])
def test_a_ragged_row_on_stdin_is_named_by_its_row(bad_row: int) -> None:
    result = _stdin("y,a\n" + "1,2\n" * (bad_row - 1) + "3\n" + "1,2\n" * 100, "-l", "mse", "-t", "y")
    assert result.exit_code == 2, result.output
    assert f"<stdin>: not valid CSV (row {bad_row}: Expected 2 columns, got 1: 3)" in result.stderr


def test_parquet_read_through_a_buffer_gives_every_row(tmp_path: Path) -> None:
    y, a, b = _data()
    path = tmp_path / "groups.parquet"
    pq.write_table(pa.table({"y": y, "a": a, "b": b}), path, row_group_size=7_000)
    _check(losscli.evaluate(str(path), ["mse", "mae"], target="y", chunk_rows=4_096))


def test_a_parquet_file_within_the_sample_is_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file no longer than the sample (a wide file of few rows) is evaluated from the sample:
    every row of every row group, once, with the values NumPy gives; its row count is the footer's."""
    from losscli.read.formats import open_source
    from losscli.read.source import SAMPLE_ROWS

    y, a, b = (v[: SAMPLE_ROWS // 2] for v in _data())
    path = tmp_path / "few.parquet"
    # int64 predictions too: they are cast to float64 as the stream casts them.
    pq.write_table(pa.table({"y": y, "a": a, "b": b, "k": np.rint(b).astype(np.int64)}), path, row_group_size=700)
    decoded = []
    for method in ("iter_batches", "read"):  # the file is read whole (Arrow's threads), or batch by batch
        original = getattr(pq.ParquetFile, method)
        monkeypatch.setattr(pq.ParquetFile, method, lambda *a, _f=original, **k: decoded.append(1) or _f(*a, **k))
    assert open_source(str(path)).rows == len(y)
    frame = losscli.evaluate(str(path), ["mse", "mae"], target="y")
    assert len(decoded) == 2  # once for open_source above, once for the evaluation: never again for the rows
    values = {(r.model, r.loss): r.value for r in frame.itertuples()}
    for name, p in (("a", a), ("b", b), ("k", np.rint(b))):
        assert values[(name, "mse")] == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
        assert values[(name, "mae")] == pytest.approx(np.mean(np.abs(p - y)), rel=1e-12)
    assert set(frame["n"]) == {len(y)}


def test_a_parquet_dataset_read_through_a_buffer_gives_every_row(tmp_path: Path) -> None:
    y, a, b = _data()
    half = ROWS // 2
    for part, rows in (("k=1", slice(0, half)), ("k=2", slice(half, ROWS))):
        (tmp_path / part).mkdir()
        table = pa.table({"y": y[rows], "a": a[rows], "b": b[rows]})
        pq.write_table(table, tmp_path / part / "data.parquet", row_group_size=4_000)
    _check(losscli.evaluate(str(tmp_path), ["mse", "mae"], target="y"))


def _no_reader_threads() -> None:
    deadline = time.monotonic() + 5
    while any(t.name.startswith(("losscli-reader", "losscli-parse")) for t in threading.enumerate()):
        assert time.monotonic() < deadline, [t.name for t in threading.enumerate()]
        time.sleep(0.01)


def test_ahead_keeps_the_order_and_a_bounded_number_in_flight() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(i: int) -> int:
        with lock:
            started.append(i)
        time.sleep(0.001 * (i % 3))  # later items finish first now and then
        return i * i

    seen = []
    for i, future in ahead(work, iter(range(40)), threads=3):
        assert max(started) <= i + 3  # never more than threads + 1 items beyond the one handed out
        seen.append((i, future.result()))
    assert seen == [(i, i * i) for i in range(40)]
    _no_reader_threads()


def test_stopping_early_ends_every_thread() -> None:
    def items() -> Iterator[int]:
        yield from range(1_000_000)

    for i, future in prefetched(ahead(lambda x: x, items(), threads=2)):
        assert future.result() == i
        if i == 10:
            break
    _no_reader_threads()


def test_an_error_in_the_work_is_raised_in_order_and_ends_every_thread() -> None:
    def work(i: int) -> int:
        if i == 5:
            raise ValueError("five")
        return i

    got: list[int] = []

    def consume() -> None:
        for _, future in prefetched(ahead(work, iter(range(100)), threads=2)):
            got.append(future.result())

    with pytest.raises(ValueError, match="five"):
        consume()
    assert got == [0, 1, 2, 3, 4]
    _no_reader_threads()


def test_keeping_freed_memory_is_set_once_and_harmless() -> None:
    from losscli.read import memory

    memory.keep_freed_memory()
    memory.keep_freed_memory()
    assert memory._tuned == sys.platform.startswith("linux")
    assert np.ones(1 << 22).sum() == 1 << 22  # big blocks are still allocated and freed


def _quoted_text(newline: str = "\n") -> str:
    """_text's rows with a text column whose quoted value holds line breaks that look like rows."""
    y, a, b = _data()
    note = '"x' + newline + "1000,1000,5000,z" + newline + 'said ""ok"""'
    lines = (
        f"{u:.17g},{v:.17g},{w:.17g},{note if i % 7 == 0 else 'plain'}"
        for i, (u, v, w) in enumerate(zip(y, a, b, strict=True))
    )
    return "y,a,b,note" + newline + newline.join(lines) + newline


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_breaks_inside_quoted_fields_are_not_rows(tmp_path: Path, newline: str) -> None:
    # A block cut at a line break inside quotes once read its tail as a row (1000,1000,5000):
    # wrong numbers with exit 0 on stdin, and an error naming pyarrow's options from a file.
    text = _quoted_text(newline)
    assert len(pd.read_csv(io.StringIO(text))) == ROWS  # the reference reader agrees on the rows
    path = tmp_path / "quoted.csv"
    path.write_bytes(text.encode())
    _check(losscli.evaluate(str(path), ["mse", "mae"], target="y", preds=["a", "b"]))
    result = _stdin(text, "-l", "mse,mae", "-t", "y", "-p", "a,b")
    assert result.exit_code == 0, result.output
    y, a, b = _data()
    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    for name, p in (("a", a), ("b", b)):
        assert float(rows[name]["mse"]) == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
        assert int(rows[name]["n"]) == ROWS


def test_line_end_skips_breaks_inside_quotes() -> None:
    data = b'y,note\n1,"a\nb"\n2,"c\n""d""\ne"\n3,'
    assert delimited._line_end(data, len(data)) == data.index(b"3,")
    assert delimited._line_end(data, data.index(b"2,") + 4) == data.index(b"2,")
    assert delimited._line_end(b'"open\nquote', 11) == 0


@pytest.mark.usefixtures("small_blocks")
def test_a_header_longer_than_the_sniffed_bytes(tmp_path: Path) -> None:
    # Tens of thousands of model columns make a header longer than the first block.
    names = [f"model_number_{i}" for i in range(300)]  # about 4.8 kB: longer than SNIFF_BYTES and a block
    rows = [(float(r), *(r + 0.5 + i / 1000 for i in range(len(names)))) for r in range(4)]
    text = "y," + ",".join(names) + "\n" + "".join(",".join(f"{v:.17g}" for v in row) + "\n" for row in rows)
    path = tmp_path / "wide.csv"
    path.write_text(text)
    for frame in (losscli.evaluate(str(path), ["mse"], target="y"),):
        values = dict(zip(frame["model"], frame["value"], strict=True))
        for i, name in enumerate(names):
            assert values[name] == pytest.approx(np.mean([(row[i + 1] - row[0]) ** 2 for row in rows]), rel=1e-12)
    result = _stdin(text, "-l", "mse", "-t", "y")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == len(names) + 1


@pytest.mark.parametrize(("rows", "columns"), [(0, 3), (1, 1), (5, 10), (70_000, 10), (9_999, 3), (300, 2_000)])
def test_columns_side_by_side_are_numpy_column_stack(rows: int, columns: int) -> None:
    from losscli.read.arrow_numpy import side_by_side

    values = [np.random.default_rng(c).random(rows) for c in range(columns)]
    matrix = side_by_side(values)
    assert matrix.flags.c_contiguous
    assert matrix.flags.writeable
    np.testing.assert_array_equal(matrix, np.column_stack(values))
