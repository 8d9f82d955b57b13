"""Docs are checked, not hoped for: the README, help texts and the registry agree."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

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


def _readme_commands(piped: bool) -> list[tuple[str, list[str]]]:
    """Every ``$ ...`` line in the README's code blocks that runs losscli, with the
    lines shown under it; ``piped`` selects shell pipelines or plain commands."""
    examples = []
    for block in re.findall(r"```\n(.*?)```", README, re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("$ ") or "losscli" not in line or ("|" in line) != piped:
                continue
            output = []
            for out in lines[i + 1 :]:
                if out.startswith("$ "):
                    break
                output.append(out)
            examples.append((line[2:], output))
    return examples


def _readme_examples() -> list[tuple[str, list[str]]]:
    return [(c, out) for c, out in _readme_commands(piped=False) if c.startswith("losscli ")]


def _readme_pipelines() -> list[tuple[str, list[str]]]:
    return _readme_commands(piped=True)


@pytest.mark.parametrize(("command", "expected"), _readme_examples(), ids=[c for c, _ in _readme_examples()])
def test_readme_examples_print_what_the_readme_shows(command: str, expected: list[str]) -> None:
    args = shlex.split(command)[1:]
    if any(line.startswith("┏") for line in expected):
        args += ["--format", "table"]  # the README shows what a terminal shows
    result = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
    expected_err = [line for line in expected if line.startswith("losscli: ")]
    expected_out = [line for line in expected if not line.startswith("losscli: ")]
    assert result.stderr.splitlines() == expected_err
    assert [line.rstrip() for line in result.stdout.splitlines()] == expected_out


@pytest.mark.parametrize(("command", "expected"), _readme_pipelines(), ids=[c for c, _ in _readme_pipelines()])
def test_readme_pipelines_in_a_real_shell(command: str, expected: list[str]) -> None:
    """The README's pipeline examples, run by bash with the installed losscli."""
    tokens = list(shlex.shlex(command, posix=True, punctuation_chars=True))
    programs = [tokens[0]] + [tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t == "|"]
    for program in programs:
        if program != "losscli" and shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected
