"""Outputs never destroy anything (issue 13, items 1-7): every file losscli writes goes
through one writer, checked here in real processes (devices, FIFOs, umask, signals)."""

from __future__ import annotations

import glob
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import SAMPLE

HOUSES = SAMPLE / "house_prices.csv"
SCRIPT = Path(sys.executable).parent / "losscli"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "losscli"]
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")


def losscli(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    if "stdout" not in kwargs and "stderr" not in kwargs:
        kwargs.setdefault("capture_output", True)
    kwargs.setdefault("timeout", 60)
    return subprocess.run([*COMMAND, *map(str, args)], check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def _no_temporaries(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".losscli-")]


# --- 1. devices, FIFOs, /dev/stdout and symlinks are written through, never replaced -----------


@root_only
@pytest.mark.parametrize("per_row", [False, True])
def test_a_character_device_is_written_to_not_replaced(tmp_path: Path, per_row: bool) -> None:
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    done = losscli("eval", HOUSES, "-f", "csv", "-o", null, *(["--per-row"] if per_row else []), "-q")
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(null.stat().st_mode)
    _no_temporaries(tmp_path)


@pytest.mark.parametrize("command", [["eval", HOUSES, "-f", "csv"], ["eval", HOUSES, "--per-row", "-f", "csv"]])
def test_a_fifo_is_written_to_not_replaced(tmp_path: Path, command: list[object]) -> None:
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    done = losscli(*command, "-o", fifo, "-q")  # type: ignore[arg-type]
    reader.join(timeout=30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert got
    assert got[0].startswith((b"model,n,", b"id,"))


@pytest.mark.parametrize("name", ["/dev/fd/1", "link"])
def test_a_path_to_stdout_is_stdout(tmp_path: Path, name: str) -> None:
    """Not /dev/stdout itself: as root, a regression would replace the machine's /dev/stdout
    (the old writer did), where these names put only the test's own files at risk."""
    if name == "link":
        (tmp_path / "stdout.csv").symlink_to("/proc/self/fd/1")
        name = str(tmp_path / "stdout.csv")
    done = losscli("eval", HOUSES, "-l", "mse", "-f", "csv", "-o", name, "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[0] == "model,n,mse,rank"


def test_a_symlink_is_written_through_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target.name)
    done = losscli("eval", HOUSES, "-l", "mse", "-o", link, "-q")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink()
    assert target.read_text().startswith("model,n,mse,rank")
    _no_temporaries(tmp_path)


# --- 2, 3. never over an input: globs, directories, --truth, stdin's file ----------------------


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "ds"
    folder.mkdir()
    for part in ("p1", "p2"):
        (folder / f"{part}.parquet").write_bytes((SAMPLE / "house_prices.parquet").read_bytes())
    return folder


@pytest.mark.parametrize(
    ("given", "output"),
    [
        ("ds/*.parquet", "ds/p1.parquet"),  # an input the glob names
        ("ds/*.parquet", "ds/p3.parquet"),  # a new file the glob would read next time
        ("ds", "ds/p1.parquet"),
        ("ds", "ds/new.parquet"),
    ],
)
def test_an_input_of_a_glob_or_directory_is_never_the_output(dataset: Path, given: str, output: str) -> None:
    before = {p.name: p.read_bytes() for p in dataset.iterdir()}
    done = losscli("eval", given, "--per-row", "-o", output, cwd=dataset.parent)
    assert done.returncode == 2
    assert b"input" in done.stderr
    assert {p.name: p.read_bytes() for p in dataset.iterdir()} == before


def test_the_truth_file_is_never_the_output(tmp_path: Path) -> None:
    (tmp_path / "preds.csv").write_text("id,a\n1,1.0\n2,2.0\n")
    truth = tmp_path / "truth.csv"
    truth.write_text("id,y\n1,1.5\n2,2.5\n")
    done = losscli("eval", tmp_path / "preds.csv", "--truth", truth, "--id", "id", "-f", "csv", "-o", truth)
    assert done.returncode == 2
    assert truth.read_text() == "id,y\n1,1.5\n2,2.5\n"


def test_the_file_on_stdin_is_never_the_output(tmp_path: Path) -> None:
    copy = tmp_path / "in.csv"
    copy.write_bytes(HOUSES.read_bytes())
    with copy.open("rb") as stdin:
        done = losscli("eval", "-", "-o", copy, stdin=stdin)
    assert done.returncode == 2
    assert b"stdin" in done.stderr
    assert copy.read_bytes() == HOUSES.read_bytes()


def test_a_symlink_to_an_input_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "in.csv"
    copy.write_bytes(HOUSES.read_bytes())
    (tmp_path / "alias.csv").symlink_to(copy)
    done = losscli("eval", copy, "-o", tmp_path / "alias.csv")
    assert done.returncode == 2
    assert copy.read_bytes() == HOUSES.read_bytes()


# --- 4, 5. modes and long names ----------------------------------------------------------------


def test_a_new_file_gets_0666_less_the_umask(tmp_path: Path) -> None:
    for per_row in ([], ["--per-row"]):
        out = tmp_path / f"new{len(per_row)}.csv"
        done = losscli("eval", HOUSES, "-o", out, *per_row, "-q", preexec_fn=lambda: os.umask(0o027))
        assert done.returncode == 0, done.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_an_overwritten_file_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "kept.csv"
    out.write_text("old\n")
    out.chmod(0o604)
    done = losscli("eval", HOUSES, "-o", out, "-q", preexec_fn=lambda: os.umask(0o077))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o604
    assert out.read_text().startswith("model,n,")


@pytest.mark.parametrize("per_row", [False, True])
def test_a_valid_long_name_is_written(tmp_path: Path, per_row: bool) -> None:
    out = tmp_path / ("a" * 245 + ".csv")  # 249 characters: below NAME_MAX, whatever the temporary
    done = losscli("eval", HOUSES, "-o", out, "-q", *(["--per-row"] if per_row else []))
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("id," if per_row else "model,n,")


# --- 6. signals: temporaries removed, exit 128 + signal, no traceback --------------------------

SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


def _wait_for_temporary(folder: Path, grown: int = 0) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = glob.glob(str(folder / ".losscli-*"))
        if found and os.path.getsize(found[0]) >= grown:
            return
        time.sleep(0.02)
    raise AssertionError("no temporary appeared")


def _per_row_from_stdin(folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*COMMAND, "eval", "-", "--per-row", "-o", "rows.csv"],
        cwd=folder,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_while_waiting_for_input_removes_the_temporary(tmp_path: Path, signum: int) -> None:
    """The main thread is inside pyarrow, waiting on a silent pipe: the watcher ends the run."""
    with _per_row_from_stdin(tmp_path) as process:
        assert process.stdin is not None
        assert process.stderr is not None
        process.stdin.write(b"y,a,b\n" + b"1,2,3\n" * 1000)
        process.stdin.flush()
        _wait_for_temporary(tmp_path)
        process.send_signal(signum)
        assert process.wait(timeout=30) == 128 + signum
        assert process.stderr.read() == f"losscli: interrupted ({signal.Signals(signum).name})\n".encode()
    _no_temporaries(tmp_path)
    assert not (tmp_path / "rows.csv").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: signal.Signals(s).name)
def test_a_signal_after_many_rows_from_a_silent_upstream_ends_the_run(tmp_path: Path, signum: int) -> None:
    """More than a block of stdin has come (so the reader thread is blocked in its next read,
    not the main thread): a signal ends the run at once, not when the upstream closes."""
    out = tmp_path / "summary.csv"
    with subprocess.Popen(
        [*COMMAND, "eval", "-", "-p", "a,b", "-q", "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdin is not None
        assert process.stderr is not None
        process.stdin.write(b"y,a,b\n" + b"1.5,2.25,3\n" * 300_000)  # 3.3 MB, several blocks
        process.stdin.flush()
        time.sleep(2)  # the blocks are parsed; the reader waits for more
        process.send_signal(signum)
        assert process.wait(timeout=15) == 128 + signum  # stdin is still open: the upstream is silent
        assert process.stderr.read() == f"losscli: interrupted ({signal.Signals(signum).name})\n".encode()
        process.stdin.close()
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_while_writing_removes_the_temporary(tmp_path: Path, signum: int) -> None:
    """Rows flow and the temporary grows: the main thread unwinds and the writer cleans up."""
    stop = threading.Event()
    with _per_row_from_stdin(tmp_path) as process:
        assert process.stdin is not None
        assert process.stderr is not None
        stdin = process.stdin

        def feed() -> None:
            try:
                stdin.write(b"y,a,b\n")
                while not stop.is_set():
                    stdin.write(b"1.5,2.25,3\n" * 20_000)
            except (BrokenPipeError, ValueError, OSError):
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        _wait_for_temporary(tmp_path, grown=1_000_000)
        process.send_signal(signum)
        code = process.wait(timeout=30)
        stop.set()
        feeder.join(timeout=10)
        assert code == 128 + signum
        assert b"Traceback" not in process.stderr.read()
    _no_temporaries(tmp_path)
    assert not (tmp_path / "rows.csv").exists()


# --- 7. plot -o goes through the same writer ---------------------------------------------------


def test_plot_never_writes_over_its_input(tmp_path: Path) -> None:
    copy = tmp_path / "in.png"  # a suffix plot accepts, holding the input CSV
    copy.write_bytes(HOUSES.read_bytes())
    done = losscli("plot", "residuals", copy, "--input-format", "csv", "-o", copy)
    assert done.returncode == 2
    assert b"input" in done.stderr
    assert copy.read_bytes() == HOUSES.read_bytes()


def test_plot_writes_through_symlinks_and_fifos_with_the_umask(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    real = tmp_path / "real.svg"
    real.write_text("old")
    real.chmod(0o644)
    link = tmp_path / "fig.svg"
    link.symlink_to(real.name)
    done = losscli("plot", "curves", "mse", "-o", link)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink()
    assert real.read_text().startswith("<?xml")
    assert stat.S_IMODE(real.stat().st_mode) == 0o644
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    done = losscli("plot", "curves", "mse", "-o", fifo)
    reader.join(timeout=30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert got[0].startswith(b"<?xml")
    fresh = tmp_path / "new.png"
    done = losscli("plot", "curves", "mse", "-o", fresh, preexec_fn=lambda: os.umask(0o022))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    _no_temporaries(tmp_path)
