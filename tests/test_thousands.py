"""Thousands separators are said as such: no hint names an option that would read wrong numbers."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
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


REVENUE = 'y,a,revenue\n1,1.5,"1,234,567"\n2,2.5,"12,000"\n3,2.0,999\n'


@pytest.mark.parametrize("args", [["-p", "a"], ["-p", "a", "--by", "revenue"], ["-p", "a", "--id", "revenue"]])
def test_a_thousands_column_not_read_as_numbers_is_not_refused(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "rev.csv"
    path.write_text(REVENUE)
    result = runner.invoke(app, ["eval", str(path), "-t", "y", "-l", "mse", "-f", "csv", *args])
    assert result.exit_code == 0, result.output
    # mse of a against y: ((1 - 1.5)^2 + (2 - 2.5)^2 + (3 - 2)^2) / 3
    assert f"a,3,{(0.25 + 0.25 + 1.0) / 3}," in result.stdout
    if "--by" in args:
        assert '"1,234,567",a,1,0.25,1' in result.stdout


@pytest.mark.parametrize("args", [[], ["-p", "revenue"], ["-p", "a", "-w", "revenue"], ["-t", "revenue", "-p", "a"]])
def test_a_thousands_column_read_as_numbers_is_refused(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "rev.csv"
    path.write_text(REVENUE)
    result = runner.invoke(app, ["eval", str(path), "-l", "mse", *(["-t", "y"] if "-t" not in args else []), *args])
    assert result.exit_code == 2, result.output
    assert "column 'revenue' holds '1,234,567' in row 1; ',' in '1,234,567' separates thousands" in result.stderr


def test_a_declared_text_column_of_thousands_is_text(tmp_path: Path) -> None:
    path = tmp_path / "rev.parquet"
    table = pa.table({"y": [1.0, 2.0, 3.0], "a": [1.5, 2.5, 2.0], "revenue": ["1,000", "2,500", "12,000"]})
    pq.write_table(table, path)
    result = runner.invoke(app, ["eval", str(path), "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert f"a,3,{(0.25 + 0.25 + 1.0) / 3}," in result.stdout
    assert "skipped non-numeric columns revenue" in result.stderr
