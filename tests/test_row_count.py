"""The progress bar's total: counted where the file says, else estimated close to the rows
written here (each file's rows are known to the test that writes it)."""

from __future__ import annotations

import bz2
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from losscli.cli import progress
from losscli.read.formats import open_source
from losscli.read.rows import RowCount, count_rows

ROWS = 500_000


def _count(path: Path) -> RowCount | None:
    return count_rows(open_source(str(path)), [str(path)])


@pytest.fixture(scope="module")
def growing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV whose rows grow along the file: the id gains digits, the values too (12 MB)."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("rows") / "grow.csv"
    scale = np.linspace(1, 1000, ROWS)
    y = (rng.normal(size=ROWS) * scale).round(3)
    with path.open("w") as fh:
        fh.write("id,y,m\n")
        fh.writelines(f"{i + 1},{a},{a + 1.5}\n" for i, a in enumerate(y))
    return path


def test_a_csv_whose_rows_grow_is_estimated_along_the_whole_file(growing: Path) -> None:
    counted = _count(growing)
    assert counted is not None
    assert not counted.exact
    # From the first megabyte's bytes per row alone it was 1.10x the rows.
    assert counted.rows == pytest.approx(ROWS, rel=0.01)


@pytest.mark.parametrize("codec", ["gzip", "zstd", "bz2"])
def test_a_compressed_csv_is_estimated_from_its_decompressed_head(growing: Path, codec: str) -> None:
    suffix = {"gzip": "gz", "zstd": "zst", "bz2": "bz2"}[codec]
    path = growing.with_name(f"grow.csv.{suffix}")
    with pa.output_stream(str(path), compression=codec) as out:
        out.write(growing.read_bytes())
    counted = _count(path)
    assert counted is not None
    assert not counted.exact
    # The rows of its first 8 decompressed MB (bz2: its first whole blocks past 1 MB) times the
    # file's compressed size over theirs.
    assert counted.rows == pytest.approx(ROWS, rel=0.1)


def test_a_bz2_file_of_several_streams_is_estimated(growing: Path) -> None:
    # pbzip2 and `cat a.bz2 b.bz2` write one stream after another: every stream is read.
    data = growing.read_bytes()
    half = data.index(b"\n", 1 << 19) + 1  # the first stream ends within the head
    path = growing.with_name("streams.csv.bz2")
    path.write_bytes(bz2.compress(data[:half]) + bz2.compress(data[half:]))
    counted = _count(path)
    assert counted is not None
    assert not counted.exact
    assert counted.rows == pytest.approx(ROWS, rel=0.1)


def test_quoted_line_breaks_are_not_counted_as_rows(tmp_path: Path) -> None:
    n = 40_000
    path = tmp_path / "notes.csv"
    with path.open("w") as fh:
        fh.write("id,note,y,m\n")
        fh.writelines(f'{i},"line one\nline two",{i % 7},{i % 5}\n' for i in range(n))
    counted = _count(path)
    assert path.stat().st_size > 1 << 20
    assert counted is not None
    assert counted.rows == pytest.approx(n, rel=0.01)


def test_a_small_text_file_is_counted_by_its_sample(tmp_path: Path) -> None:
    path = tmp_path / "small.jsonl"
    path.write_text("".join(f'{{"y": {i}, "m": {i + 1}}}\n' for i in range(1234)))
    assert _count(path) == RowCount(1234, exact=True)


def test_a_large_json_lines_file_is_estimated(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(f'{{"y": {i}, "m": {i + 1}}}\n' for i in range(100_000)))
    counted = _count(path)
    assert counted is not None
    assert counted.rows == pytest.approx(100_000, rel=0.01)


def test_parquet_numpy_and_arrow_files_are_counted(tmp_path: Path) -> None:
    n = 70_001
    table = pa.table({"y": np.arange(n, dtype=float), "m": np.ones(n)})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=10_000)
    assert _count(tmp_path / "t.parquet") == RowCount(n, exact=True)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(3):
        pq.write_table(table, folder / f"{i}.parquet")
    assert _count(folder) == RowCount(3 * n, exact=True)
    np.savez(tmp_path / "t.npz", y=np.arange(n, dtype=float), m=np.ones(n))
    assert _count(tmp_path / "t.npz") == RowCount(n, exact=True)
    # Was the file's bytes scaled by its first batch's rows per megabyte: 0.46x the rows.
    feather.write_feather(table, tmp_path / "t.arrow", chunksize=16_384)
    assert _count(tmp_path / "t.arrow") == RowCount(n, exact=False)  # 4 batches of 16,384, then 4,465
    feather.write_feather(table, tmp_path / "one.arrow", chunksize=n)
    assert _count(tmp_path / "one.arrow") == RowCount(n, exact=True)


def test_rows_are_unknown_on_stdin_and_for_several_text_files(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pacsv.write_csv(pa.table({"y": [1.0, 2.0], "m": [1.0, 1.0]}), path)
    source = open_source(str(path))
    assert count_rows(source, ["-"]) is None
    assert count_rows(source, [str(path), str(path)]) is None


def test_the_bar_says_about_and_its_total_follows_the_rows_past_an_estimate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = progress._LazyBar(RowCount(1000, exact=False), show_now=True)
    bar(600)
    assert bar.total == 1000
    bar(600)  # past the estimate: the total follows, 1% ahead, so the bar is never over full
    assert bar.total == 1212
    assert bar._bar.tasks[0].total == 1212
    assert bar._bar.tasks[0].completed == 1200
    bar.close()
    exact = progress._LazyBar(RowCount(1000, exact=True), show_now=True)
    exact(1000)
    assert exact.total == 1000
    exact.close()
    drawn = capsys.readouterr().err
    assert "/about 1,000 rows" in drawn or "/about 1,212 rows" in drawn
