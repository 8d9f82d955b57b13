"""The terminal is not the data's (issue 13, item 11): names holding escape sequences or
newlines are escaped wherever a person reads them, and kept exact (but valid) where a
program does."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from losscli.cli import app
from losscli.errors import printable

ESCAPE = "a\x1b[2J\x1b]0;pwned\x07"  # clears the screen, retitles the window, rings the bell
FORGERY = "x\nlosscli: FAIL nothing"  # a newline that forges a line of losscli's own
runner = CliRunner()


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["y", ESCAPE, FORGERY, "g\x1b[31m"])
        writer.writerows([[1, 2, 3, "r\x1b[5m"], [2, 3, 5, "r\x1b[5m"], [3, 3, 4, "s"]])
    return path


def _safe_for_a_person(text: str) -> None:
    assert "\x1b" not in text
    assert "\x07" not in text
    assert not any(line.startswith("losscli: FAIL") for line in text.splitlines())


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_names_are_escaped_in_human_formats_and_notes(hostile: Path, fmt: str) -> None:
    result = runner.invoke(app, ["eval", str(hostile), "-l", "mse", "--by", "g\x1b[31m", "-f", fmt])
    assert result.exit_code == 0, result.output
    _safe_for_a_person(result.stdout)
    _safe_for_a_person(result.stderr)
    assert printable(ESCAPE) in result.stdout
    assert r"a\x1b[2J" in result.stderr  # the note about the models, escaped


def test_a_breached_gate_names_the_model_escaped(hostile: Path) -> None:
    result = runner.invoke(app, ["eval", str(hostile), "-l", "mse", "-f", "csv", "--fail-above", "mse=0.1"])
    assert result.exit_code == 1
    fails = [line for line in result.stderr.splitlines() if line.startswith("losscli: FAIL")]
    assert len(fails) == 2  # one per model, and no forged third
    assert "losscli: FAIL nothing" not in fails
    assert any(line.startswith("losscli: FAIL " + r"x\nlosscli: FAIL nothing") for line in fails)
    assert "\x1b" not in result.stderr


def test_an_error_message_escapes_the_name(hostile: Path) -> None:
    result = runner.invoke(app, ["eval", str(hostile), "--baseline", "\x1b[2Jnope"])
    assert result.exit_code == 2
    _safe_for_a_person(result.stderr)
    assert len(result.stderr.splitlines()) == 1


def test_machine_formats_keep_names_exact_and_valid(hostile: Path) -> None:
    result = runner.invoke(app, ["eval", str(hostile), "-l", "mse", "-f", "json"])
    assert {r["model"] for r in json.loads(result.stdout)} == {ESCAPE, FORGERY}
    result = runner.invoke(app, ["eval", str(hostile), "-l", "mse", "-f", "csv"])
    assert {row["model"] for row in csv.DictReader(io.StringIO(result.stdout))} == {ESCAPE, FORGERY}
    result = runner.invoke(app, ["eval", str(hostile), "-l", "mse", "-f", "csv", "--per-row"])
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header[1:] == [f"{ESCAPE}:mse", f"{FORGERY}:mse"]


def test_plot_titles_and_legends_are_escaped(hostile: Path) -> None:
    result = runner.invoke(app, ["plot", "losses", str(hostile), "--by", "g\x1b[31m", "-l", "mse", "--no-color"])
    assert result.exit_code == 0, result.output
    _safe_for_a_person(result.stdout)
    result = runner.invoke(app, ["plot", "residuals", str(hostile), "--no-color"])
    assert result.exit_code == 0, result.output
    _safe_for_a_person(result.stdout)


def test_printable_escapes_controls_and_bidi_overrides_only() -> None:
    assert printable("huber(delta=2) · Δ é") == "huber(delta=2) · Δ é"
    assert printable("a\tb\x00c\x9bd") == r"a\tb\x00c\x9bd"
    assert printable("evil\u202eexe.csv") == r"evil\u202eexe.csv"


def test_advise_escapes_names_too(hostile: Path) -> None:
    """Escape sequences are escaped; a newline inside a name still splits advise's text line
    (on stdout: it cannot forge losscli's own stderr lines, which are escaped whole)."""
    for fmt in ("table", "markdown"):
        result = runner.invoke(app, ["advise", str(hostile), "-f", fmt])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout
        assert "\x07" not in result.stdout
        _safe_for_a_person(result.stderr)
        assert printable(ESCAPE) in result.stdout
