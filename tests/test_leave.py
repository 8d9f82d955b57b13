"""A finished run ends without the interpreter's teardown (cli/leave.py): the exit code and
every byte of output survive, and nothing that could still be pending is cut short."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from losscli.cli.leave import leave_now

from .test_outputs import losscli

LEAVE = "import sys; from losscli.cli.leave import leave_now; sys.stdout.write('x' * 200_000); leave_now({code})"


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_the_exit_code_and_buffered_output_survive(code: int) -> None:
    done = subprocess.run([sys.executable, "-c", LEAVE.format(code=code)], capture_output=True, check=False)
    assert done.returncode == code
    assert done.stdout == b"x" * 200_000


@pytest.mark.parametrize("code", ["'a message'", "True", "1.5"])
def test_codes_only_the_interpreter_reads_are_left_to_it(code: str) -> None:
    """A string code is printed by the interpreter; leave_now returns and the caller re-raises."""
    assert leave_now(eval(code)) is None


def test_a_live_thread_that_is_not_a_daemon_is_waited_for() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert leave_now(0) is None  # still here: the thread might be writing
    finally:
        release.set()
        worker.join()


def test_a_real_run_writes_all_its_rows_and_exit_codes(tmp_path: Path) -> None:
    rows = 30_000
    path = tmp_path / "p.csv"
    path.write_text("y,a\n" + "".join(f"{i},{i + 0.5}\n" for i in range(rows)))
    done = losscli("eval", path, "-l", "mae", "--per-row", "-f", "csv", "-q")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == rows + 1
    assert done.stdout.splitlines()[-1].endswith(b",0.5")
    breached = losscli("eval", path, "-l", "mae", "--fail-above", "mae=0.1", "-f", "csv", "-q")
    assert breached.returncode == 1, breached.stderr
    assert b"0.5" in breached.stdout
    assert losscli("eval", tmp_path / "missing.csv").returncode == 2
