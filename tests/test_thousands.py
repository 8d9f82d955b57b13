"""Thousands separators are said as such: no hint names an option that would read wrong numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from losscli.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "args", "said", "not_said"),
    [
        # 1.000,5 = 1000.5 with --decimal , already given: the '.' is the problem, not the decimal mark
        ("y;a\n1;2\n2;1.000,5\n", ["--decimal", ","], "'.' in '1.000,5' separates thousands", "pass --decimal"),
        ("y;a\n1;2\n2;1.000,5\n", [], "remove the separators and pass --decimal ,", "to read them"),
        # '1,000' is 1000 or 1.0: --decimal , would read 1.0, so it is offered only as the other reading
        ('y,a\n1,2\n2,"1,000"\n', [], "separates thousands (1000) or marks the decimal (1.0)", "to read them"),
        ('y,a\n1,2\n2,"1,000,000"\n', [], "',' in '1,000,000' separates thousands", "--decimal"),
        # another cell shows the decimal comma: then --decimal , reads the right numbers
        ('y,a\n1,"2,5"\n2,"1,000"\n', [], "pass --decimal , to read them", "thousands"),
    ],
)
def test_the_hint_fits_the_notation(tmp_path: Path, text: str, args: list[str], said: str, not_said: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    result = runner.invoke(app, ["eval", str(path), "-l", "mse", *args])
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert not_said not in result.stderr
    assert "Traceback" not in result.output


def test_following_the_decimal_comma_hint_reads_right_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('y,a\n1,"2,5"\n2,"1,000"\n')
    result = runner.invoke(app, ["eval", str(path), "-l", "mse", "--decimal", ",", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.output
    # rows: (2.5 - 1)^2 = 2.25, (1.0 - 2)^2 = 1
    assert result.stdout.splitlines()[1].split(",")[:3] == ["a", "2", str((2.25 + 1.0) / 2)]
