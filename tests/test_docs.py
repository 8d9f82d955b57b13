"""Docs are checked, not hoped for: the README, help texts and the registry agree."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shlex
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
import typer

from losscli import losses
from losscli.cli import app
from losscli.report import catalogue

from .conftest import ROOT
from .reference import REFERENCES

README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_fresh_machine_commands() -> None:
    block = README.split("```")[1].strip().splitlines()
    assert block == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/losscli eval sample_data/house_prices.csv",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest",
    ]


def test_readme_loss_table_is_the_registry() -> None:
    table = re.search(r"<!-- losses:start -->\n(.*)<!-- losses:end -->", README, re.S)
    assert table is not None
    assert table.group(1) == catalogue.as_markdown(), "regenerate with: losscli losses --format markdown"


@pytest.mark.parametrize("loss", losses.all_losses(), ids=lambda loss: loss.name)
def test_every_loss_is_documented_and_tested(loss: losses.Loss) -> None:
    assert loss.name in REFERENCES, "add an independent reference in tests/reference.py"
    assert loss.formula
    assert loss.description
    assert loss.reference
    assert len(loss.explain) > 40
    assert f"`{loss.name}`" in README
    for param in loss.params:
        assert param.help


def test_every_command_has_help() -> None:
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert set(commands) >= {"eval", "losses"}
    for name, command in commands.items():
        assert command.help, f"command {name} has no help"
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"option {param.name} of {name} has no help"


# A plain fenced block (```toml and ```yaml blocks hold no commands): the opening and closing fences
# are whole lines, so a block's end is never taken for the next block's start.
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


def _readme_commands() -> list[tuple[str, list[str]]]:
    """Every ``$ ...`` line in the README's code blocks that runs losscli, with the lines
    shown under it (what a terminal shows: stdout and stderr as they come)."""
    examples = []
    for block in (body for lang, body in FENCE.findall(README) if not lang):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("$ ") or "losscli" not in line:
                continue
            output = []
            for out in lines[i + 1 :]:
                if out.startswith("$ "):
                    break
                output.append(out)
            examples.append((line[2:], output))
    return examples


TERMINAL_COLUMNS = 100
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def in_a_terminal(
    command: str, columns: int = TERMINAL_COLUMNS, env: dict[str, str] | None = None, raw: bool = False
) -> list[str]:
    """``command`` run by bash on a pseudo-terminal ``columns`` wide, as a user would type it:
    losscli sees a terminal (a table by default, the terminal's width), stdout and stderr
    arrive interleaved as on a screen. Without colour: the README cannot show it."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    environment = {k: v for k, v in os.environ.items() if k in keep}
    environment |= {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    # A config file above the checkout must not change what the README shows.
    environment |= {"TERM": "xterm", "PYTHONIOENCODING": "utf-8", "LOSSCLI_NO_CONFIG": "1"} | (env or {})
    environment = {k: v for k, v in environment.items() if v}  # an empty value removes a variable
    proc = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=environment, stdin=secondary, stdout=secondary,
                            stderr=secondary, start_new_session=True)  # fmt: skip
    os.close(secondary)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], 120)
            if not ready:
                raise TimeoutError(command)
            try:
                chunk = os.read(primary, 1 << 16)
            except OSError:  # the terminal closed: every process on it has ended
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        proc.wait(timeout=60)
        os.close(primary)
    # What a screen shows is the text: colour codes (jq colours its output on a terminal) are not.
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    if not raw:
        text = ANSI.sub("", text)
    return [line.rstrip() for line in text.splitlines()]


@pytest.mark.parametrize(("command", "expected"), _readme_commands(), ids=[c for c, _ in _readme_commands()])
def test_readme_examples_print_what_a_terminal_shows(command: str, expected: list[str]) -> None:
    """Every example, pipelines included, in a real terminal 100 columns wide."""
    tokens = list(shlex.shlex(command, posix=True, punctuation_chars=True))
    starts = [0] + [i + 1 for i, t in enumerate(tokens[:-1]) if t == "|"]
    # The program of each stage, after any VAR=value assignments.
    programs = [next(t for t in tokens[i:] if "=" not in t) for i in starts]
    for program in programs:
        if program != "losscli" and shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")
    assert in_a_terminal(command) == [line.rstrip() for line in expected]
