"""Start-up and exit of the command line: only the invoked subcommand is built, with the same
output as the whole app; a finished run ends without the interpreter's teardown
(cli/leave.py), its exit code and every byte of output kept, nothing pending cut short."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from losscli.cli import _for_arguments, app
from losscli.cli.leave import leave_now

from .conftest import SAMPLE
from .test_outputs import losscli

HOUSES = str(SAMPLE / "house_prices.csv")

ARGUMENTS = [
    ["eval", "--help"],
    ["eval", "-h"],
    ["eval"],
    ["eval", HOUSES, "--bogus"],
    ["eval", HOUSES, "-l", "nope"],
    ["eval", HOUSES, "-f", "csv"],
    ["losses"],
    ["plot"],
    ["plot", "--help"],
    ["advise", "--help"],
    ["evl"],
    ["--help"],
    ["--version"],
    [],
]


@pytest.mark.parametrize("args", ARGUMENTS, ids=" ".join)
def test_building_only_the_named_command_changes_no_output(args: list[str]) -> None:
    whole = CliRunner().invoke(app, args)
    only = CliRunner().invoke(_for_arguments(args), args)
    assert (only.exit_code, only.output) == (whole.exit_code, whole.output)


def test_only_the_named_command_is_built() -> None:
    assert [c.name for c in _for_arguments(["eval", "x.csv"]).registered_commands] == ["eval"]
    assert [g.name for g in _for_arguments(["plot", "calibration"]).registered_groups] == ["plot"]
    assert _for_arguments(["--help"]) is app
    assert _for_arguments(["evl"]) is app


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
