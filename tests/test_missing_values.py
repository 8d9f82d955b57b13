"""A number without a value is written one way in a row: `nan` in CSV (null in JSON), as the
README says; the API's number columns are float (NaN), never objects holding None."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from typer.testing import CliRunner

import losscli
from losscli.cli import app


def _groups_without_weight(tmp_path: Path) -> Path:
    # group z has only weight 0: no value, no difference, no interval, no test
    path = tmp_path / "gw.csv"
    path.write_text("y,a,b,g,w\n1,2,2,x,1\n2,3,3,x,0\n3,3,4,y,1\n4,4,5,z,0\n5,1,1,z,0\n")
    return path


def test_a_csv_row_writes_every_missing_number_as_nan(tmp_path: Path) -> None:
    args = ["eval", str(_groups_without_weight(tmp_path)), "-l", "mse", "--ci", "0.95", "--baseline", "a"]
    result = CliRunner().invoke(app, [*args, "--by", "g", "-w", "w", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    row = next(r for r in rows if r["g"] == "z" and r["model"] == "b")
    numbers = ["mse", "mse:ci_low", "mse:ci_high", "mse:delta", "mse:delta_rel", "mse:delta_ci_low"]
    numbers += ["mse:delta_ci_high", "mse:p_value"]
    assert {row[k] for k in numbers} == {"nan"}
    assert row["rank"] == ""  # no value, no rank: blank, as the README says


def test_the_api_frame_has_float_columns_where_a_number_is_not_computed(tmp_path: Path) -> None:
    frame = losscli.evaluate(str(_groups_without_weight(tmp_path)), "mse", baseline="a")
    for column in ("delta", "delta_rel", "delta_ci_low", "delta_ci_high", "p_value"):
        assert frame[column].dtype == float, column
    assert all(math.isnan(v) for v in frame["delta_ci_low"])  # no --ci: no interval
