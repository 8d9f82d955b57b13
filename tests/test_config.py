"""Configuration a team can commit: [tool.losscli] in the nearest pyproject.toml, or a
losscli.toml, in a temporary directory tree; the command line and LOSSCLI_* override it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from losscli.cli import app

from .conftest import SAMPLE

HOUSES = str(SAMPLE / "house_prices.csv")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """repo/pyproject.toml with [tool.losscli]; the commands run in repo/a/b."""
    repo = tmp_path / "repo"
    (repo / "a" / "b").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.losscli]\nloss = ["mse", "huber:delta=2"]\nbaseline = "linear"\n'
        'fail-above = ["mse=3000"]\nformat = "markdown"\n'
    )
    monkeypatch.chdir(repo / "a" / "b")
    monkeypatch.delenv("LOSSCLI_NO_CONFIG")  # the tests' default (conftest.py) is to ignore config files
    return repo


def run(*args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["eval", HOUSES, *args], env=env)


def test_the_nearest_pyproject_sets_defaults(tree: Path) -> None:
    result = run("-q")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "| model | n | mse | Δ mse | huber(delta=2) | Δ huber(delta=2) | rank |"
    assert "baseline" in result.stdout


def test_the_command_line_overrides_the_config(tree: Path) -> None:
    result = run("-q", "-f", "csv", "-l", "mae", "--fail-above", "mae=1")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("model,n,mae,mae:delta,")  # baseline still from the file
    assert "(--fail-above mae=1)" in result.stderr
    assert "mse=3000" not in result.stderr


def test_a_gate_from_the_config_fails_the_run(tree: Path) -> None:
    (tree / "pyproject.toml").write_text('[tool.losscli]\nfail-above = ["mse=1000"]\nformat = "csv"\n')
    result = run("-q")
    assert result.exit_code == 1
    assert "(--fail-above mse=1000)" in result.stderr


def test_no_config_and_its_environment_variable_ignore_the_file(tree: Path) -> None:
    for result in (run("-q", "--no-config"), run("-q", env={"LOSSCLI_NO_CONFIG": "1"})):
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] == "model,n,mse,rmse,mae,huber,rank"


def test_verbose_says_which_file(tree: Path) -> None:
    result = run("-v")
    assert f"losscli: config: [tool.losscli] in {tree / 'pyproject.toml'}" in result.stderr.splitlines()


def test_a_losscli_toml_nearer_wins_and_has_top_level_keys(tree: Path) -> None:
    (tree / "a" / "losscli.toml").write_text('loss = "mae"\nformat = "json"\ndigits = 6\n')
    result = run("-q", "-v")
    assert {r["loss"] for r in json.loads(result.stdout)} == {"mae"}
    assert f"losscli: config: {tree / 'a' / 'losscli.toml'}" in result.stderr


def test_a_pyproject_without_the_table_is_passed_over(tree: Path) -> None:
    (tree / "a" / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    assert run("-q").stdout.startswith("| model |")


def test_an_environment_variable_beats_the_config(tree: Path) -> None:
    result = run("-q", env={"LOSSCLI_FORMAT": "csv"})
    assert result.stdout.startswith("model,n,mse,mse:delta")


def test_an_unknown_key_names_the_key_and_the_file(tree: Path) -> None:
    (tree / "pyproject.toml").write_text('[tool.losscli]\nfail_above = ["mse=1"]\n')
    result = run("-q")
    assert result.exit_code == 2
    assert result.stderr == (
        f"losscli: error: unknown key 'fail_above' in [tool.losscli] in {tree / 'pyproject.toml'} "
        "(did you mean 'fail-above'?); keys are the long options of losscli eval.\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("digits = 40\n", "digits: 40 is not in the range 1<=x<=17"),
        ('digits = "many"\n', "digits = 'many' must be a whole number"),
        ('threads = "two"\n', "threads = 'two' must be a whole number"),
        ("threads = 2.5\n", "threads = 2.5 must be a whole number"),  # Click would take it as 2
        ("bootstrap = true\n", "bootstrap = true must be a whole number"),  # Click would take it as 1
        ('ci = "high"\n', "ci = 'high' must be a number"),
        ('quiet = "yes"\n', "quiet is a flag; write quiet = true or false"),
        ('baseline = ["a", "b"]\n', "baseline takes one value"),
        ("loss = [\n", "not valid TOML"),
    ],
)
def test_values_are_checked_as_on_the_command_line(tree: Path, content: str, message: str) -> None:
    (tree / "a" / "losscli.toml").write_text(content)
    result = run()
    assert result.exit_code == 2
    assert result.stderr.startswith("losscli: error: ")
    assert message in result.stderr
    assert str(tree / "a" / "losscli.toml") in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_option_that_does_not_apply_is_refused_and_blamed_on_the_file(tree: Path) -> None:
    (tree / "a" / "losscli.toml").write_text('join = "inner"\n')
    result = run("-q")
    assert result.exit_code == 2
    assert result.stderr == (
        "losscli: error: --join says how to join --truth to the predictions; there is no --truth "
        f"(--join comes from {tree / 'a' / 'losscli.toml'}).\n"
    )


def test_ci_as_a_percentage_from_the_config_is_read_with_a_note(tree: Path) -> None:
    (tree / "a" / "losscli.toml").write_text('ci = 95\nbootstrap = 50\nloss = "mae"\nformat = "csv"\n')
    result = run()
    assert result.exit_code == 0, result.output
    assert "losscli: --ci 95 read as 95% (0.95)" in result.stderr.splitlines()
    assert result.stdout.splitlines()[0] == "model,n,mae,mae:ci_low,mae:ci_high,rank"
