"""`advise` and `plot` take eval's CSV dialect options (--delimiter, --decimal): the same data
written with a semicolon and a decimal comma reads exactly as with commas and points."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from losscli.cli import app

ROWS = [(1.5, 1.0, 2.0, "n"), (2.5, 2.0, 3.0, "s"), (3.0, 3.5, 2.0, "n"), (0.5, 0.25, 1.0, "s")]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    dot = tmp_path / "dot.csv"
    dot.write_text("y,a,b,g\n" + "".join(f"{y},{a},{b},{g}\n" for y, a, b, g in ROWS))
    comma = tmp_path / "comma.csv"
    comma.write_text("y;a;b;g\n" + "".join(f"{y};{a};{b};{g}\n".replace(".", ",") for y, a, b, g in ROWS))
    return dot, comma


@pytest.mark.parametrize(
    "command",
    [["advise", "-f", "json"], ["plot", "residuals", "--bins", "3"], ["plot", "losses", "--by", "g", "-l", "mae"]],
)
def test_dialect_options_reach_advise_and_plot(files: tuple[Path, Path], command: list[str]) -> None:
    dot, comma = files
    plain = CliRunner().invoke(
        app, [*command, str(dot), "--no-color"] if command[0] == "plot" else [*command, str(dot)]
    )
    dialect = ["--delimiter", ";", "--decimal", ","]
    args = [*command, str(comma), *dialect]
    same = CliRunner().invoke(app, [*args, "--no-color"] if command[0] == "plot" else args)
    assert plain.exit_code == 0, plain.output
    assert same.exit_code == 0, same.output
    assert same.stdout.replace(str(comma), str(dot)).replace("comma.csv", "dot.csv") == plain.stdout


def test_without_the_options_the_decimal_comma_is_named(files: tuple[Path, Path]) -> None:
    _, comma = files
    done = CliRunner().invoke(app, ["plot", "residuals", str(comma)])
    assert done.exit_code == 2
    assert "--decimal ," in done.output
