"""Broken streams are sentences, not tracebacks (issue 13, items 8-10): full disks, readers
that go away, truncated inputs and closed standard streams, in real processes."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from .conftest import SAMPLE
from .test_outputs import COMMAND, HOUSES, losscli

FORMATS = ["table", "csv", "tsv", "json", "jsonl", "markdown"]


def _one_sentence(done: subprocess.CompletedProcess[bytes], *words: str) -> None:
    assert done.returncode == 2, done.stderr
    last = done.stderr.decode().splitlines()[-1]
    assert last.startswith("losscli: error: "), done.stderr
    assert b"Traceback" not in done.stderr
    for word in words:
        assert word in last


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 6 MB of CSV: more than a reader's first block, so truncation is met mid-stream."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    rng = np.random.default_rng(0)
    values = rng.random((200_000, 3))
    with path.open("w") as fh:
        fh.write("y,a,b\n")
        np.savetxt(fh, values, fmt="%.8f", delimiter=",")
    return path


# --- 8. a full disk, on stdout and under --output ----------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_full_stdout_is_one_sentence(fmt: str) -> None:
    with open("/dev/full", "wb") as full:
        done = losscli("eval", HOUSES, "-f", fmt, stdout=full, stderr=subprocess.PIPE)
    _one_sentence(done, "stdout", "No space left")


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_a_full_stdout_with_per_row_is_one_sentence(fmt: str) -> None:
    with open("/dev/full", "wb") as full:
        done = losscli("eval", HOUSES, "--per-row", "-f", fmt, stdout=full, stderr=subprocess.PIPE)
    _one_sentence(done, "stdout", "No space left")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_full_disk_under_per_row_output_leaves_nothing(tmp_path: Path, big_csv: Path, fmt: str) -> None:
    """A file size limit (ulimit -f) stands for a full file system: the write fails midway."""

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    done = losscli("eval", big_csv, "--per-row", "-o", tmp_path / f"rows.{fmt}", preexec_fn=small_files)
    _one_sentence(done, "--output", "rows")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_under_summary_output_leaves_nothing(tmp_path: Path) -> None:
    def tiny_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (10, 10))

    done = losscli("eval", HOUSES, "-o", tmp_path / "out.csv", preexec_fn=tiny_files)
    _one_sentence(done, "--output")
    assert list(tmp_path.iterdir()) == []


# --- 9. a reader that goes away is not an error ------------------------------------------------


@pytest.mark.parametrize("args", [["--per-row"], ["--per-row", "-f", "jsonl"], ["-f", "csv"]])
def test_a_reader_that_goes_away_is_exit_0(big_csv: Path, args: list[str]) -> None:
    done = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" | head -1 > /dev/null', "-", *COMMAND, "eval", str(big_csv), *args],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert b"error" not in done.stderr


# --- 10. what pyarrow raises as a plain OSError, and closed standard streams --------------------


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".zst"])
def test_a_truncated_compressed_file_is_one_sentence(tmp_path: Path, big_csv: Path, suffix: str) -> None:
    raw = big_csv.read_bytes()
    if suffix == ".gz":
        packed = gzip.compress(raw)
    elif suffix == ".bz2":
        packed = bz2.compress(raw)
    else:
        sink = pa.BufferOutputStream()
        with pa.CompressedOutputStream(sink, "zstd") as out:
            out.write(raw)
        packed = sink.getvalue().to_pybytes()
    assert len(packed) > 1_000_000
    path = tmp_path / f"cut.csv{suffix}"
    path.write_bytes(_truncated(packed))
    _one_sentence(losscli("eval", path), str(path))


def test_a_truncated_gzip_on_stdin_is_one_sentence(big_csv: Path) -> None:
    _one_sentence(losscli("eval", "-", input=_truncated(gzip.compress(big_csv.read_bytes()))), "cannot be read")


def test_a_truncated_arrow_stream_is_one_sentence(tmp_path: Path, big_csv: Path) -> None:
    table = pacsv.read_csv(big_csv)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=10_000)
    path = tmp_path / "cut.arrow"
    path.write_bytes(_truncated(sink.getvalue()))
    _one_sentence(losscli("eval", path), str(path))
    _one_sentence(losscli("eval", "-", input=path.read_bytes()))


def test_a_truncated_truth_file_is_one_sentence_naming_it(tmp_path: Path) -> None:
    n = 200_000
    rng = np.random.default_rng(1)
    preds = tmp_path / "preds.csv"
    preds.write_text("id,a\n" + "".join(f"{i},{v:.6f}\n" for i, v in enumerate(rng.random(n))))
    truth = tmp_path / "truth.csv.gz"
    truth.write_bytes(_truncated(gzip.compress(("id,y\n" + "".join(f"{i},{i % 7}\n" for i in range(n))).encode())))
    _one_sentence(losscli("eval", preds, "--truth", truth, "--id", "id"), str(truth))


def test_a_file_cut_while_it_is_read_is_one_sentence(tmp_path: Path, big_csv: Path) -> None:
    path = tmp_path / "shrinking.csv"
    header, _, body = big_csv.read_bytes().partition(b"\n")
    path.write_bytes(header + b"\n" + body * 10)
    with subprocess.Popen(
        [*COMMAND, "eval", str(path), "--per-row", "-o", "rows.csv"], cwd=tmp_path, stderr=subprocess.PIPE
    ) as process:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            temporaries = list(tmp_path.glob(".losscli-*"))
            if temporaries and temporaries[0].stat().st_size > 1_000_000:
                break
            time.sleep(0.01)
        os.truncate(path, 2_000_000)
        assert process.wait(timeout=60) == 2
        assert process.stderr is not None
        assert b"changed while it was read" in process.stderr.read()
    assert not (tmp_path / "rows.csv").exists()


def test_closed_stdin_is_one_sentence() -> None:
    done = subprocess.run(["bash", "-c", '"$@" <&-', "-", *COMMAND, "eval", "-"], capture_output=True, timeout=60)
    _one_sentence(done)


def test_closed_stdout_is_refused_before_reading() -> None:
    done = subprocess.run(
        ["bash", "-c", '"$@" >&-', "-", *COMMAND, "eval", str(HOUSES)], capture_output=True, timeout=60
    )
    _one_sentence(done, "stdout is closed")


def test_closed_stdout_is_fine_with_an_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = subprocess.run(
        ["bash", "-c", '"$@" >&-', "-", *COMMAND, "eval", str(HOUSES), "-o", str(out)], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("model,n,")


@pytest.mark.parametrize("stderr", ["2>&-", "2>/dev/full"])
def test_an_unwritable_stderr_still_gives_the_results(tmp_path: Path, stderr: str) -> None:
    """Notes that cannot be said are dropped; the results and the exit code still tell."""
    out = tmp_path / "out.csv"
    script = f'"$@" {stderr}; echo "exit $?" > {out}.code'
    done = subprocess.run(
        ["bash", "-c", script, "-", *COMMAND, "eval", str(HOUSES), "--fail-above", "mse=1"],
        capture_output=True,
        timeout=60,
    )
    assert done.stdout.decode().startswith("model,n,")
    assert Path(f"{out}.code").read_text() == "exit 1\n"


def test_an_output_file_never_takes_the_place_of_a_closed_stderr(tmp_path: Path) -> None:
    """With fd 2 closed, the first file opened would become 'stderr' and receive the notes."""
    out = tmp_path / "out.csv"
    subprocess.run(
        ["bash", "-c", '"$@" 2>&-', "-", *COMMAND, "eval", str(SAMPLE / "house_prices.csv"), "-o", str(out)],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert b"losscli:" not in out.read_bytes()


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["advise", "-h"]])
def test_help_into_a_reader_that_leaves_exits_0(args: list[str]) -> None:
    """`losscli --help | head -1` under `set -o pipefail`: Rich exits 1 on the broken pipe."""
    env = {**os.environ, "COLUMNS": "60"}
    with subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        assert process.wait(timeout=60) == 0
        assert process.stderr.read() == b""
