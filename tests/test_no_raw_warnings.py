"""No raw NumPy warning reaches the user: residuals beyond float64 (y = 1e308, prediction = -1e308)
are infinities said in a note; advice on exact predictions says what is true, never 'nan'."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from losscli.cli import app
from losscli.engines import advise

runner = CliRunner()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def no_warning(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr
    assert "warning" not in result.stderr.replace("losscli: warning: model a: mse is not finite", "")


def test_advise_on_residuals_beyond_float64(tmp_path: Path) -> None:
    path = write(tmp_path, "ovf.csv", "y,a\n1e308,-1e308\n1,2\n3,4\n")
    result = runner.invoke(app, ["advise", path])
    no_warning(result)
    assert "model a: errors beyond float64 (inf)" in result.stderr
    assert "nan" not in result.stdout
    assert "Recommendation: report mse" in result.stdout


def test_plot_residuals_beyond_float64(tmp_path: Path) -> None:
    path = write(tmp_path, "ovf.csv", "y,a\n1e308,-1e308\n1,2\n")
    result = runner.invoke(app, ["plot", "residuals", path])
    no_warning(result)
    assert "model a: 1 residual(s) beyond float64 (inf)" in result.stderr


def test_html_report_with_residuals_beyond_float64(tmp_path: Path) -> None:
    path = write(tmp_path, "ovf.csv", "y,a\n1e308,-1e308\n1,2\n3,4\n")
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["eval", path, "-l", "mse", "-o", str(out), "-q"])
    no_warning(result)
    # the one warning said is losscli's own sentence about the infinite mse
    assert "RuntimeWarning" not in result.stderr
    assert "residuals beyond float64 (inf), counted outside the bins: a (1)" in out.read_text()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # a is exact; b errs by 0.5 on every row: RMSE/MAE = 0.5/0.5 = 1, each of 4 rows holds 25%
        (
            "y,a,b\n1.5,1.5,2\n2.5,2.5,2\n3.5,3.5,4\n4.5,4.5,4\n",
            ["a predicts every row exactly (no error).", "Every other model's RMSE/MAE is at most 1 (Gaussian: 1.25)"],
        ),
        ("y,a\n1.5,1.5\n2.5,2.5\n3,3\n", ["a predicts every row exactly", "No error shape to weigh"]),
    ],
    ids=["one-exact", "all-exact"],
)
def test_advise_on_an_exact_model_says_so(tmp_path: Path, text: str, said: list[str]) -> None:
    result = runner.invoke(app, ["advise", write(tmp_path, "exact.csv", text)])
    no_warning(result)
    assert "nan" not in result.stdout
    for words in said:
        assert words in result.stdout


def test_a_model_right_on_every_row_makes_no_confident_mistakes(tmp_path: Path) -> None:
    path = write(tmp_path, "const.csv", "y,a\n1,1\n1,1\n1,1\n")
    result = runner.invoke(app, ["advise", path])
    no_warning(result)
    assert "confident mistakes" not in result.stdout


def test_equal_losses_on_few_rows_are_not_concentrated(tmp_path: Path) -> None:
    # three rows, each off by 1: the worst row holds 1/3 of the squared error, as equal rows must
    path = write(tmp_path, "even.csv", "y,a\n1,2\n2,3\n3,4\n")
    result = runner.invoke(app, ["advise", path])
    no_warning(result)
    assert "hold 33%" not in result.stdout


def test_advise_when_a_squared_error_alone_overflows(tmp_path: Path) -> None:
    # b's residual -1e308 is finite, its square is not: no 'inf against 1.25', no 'nan% of its MSE'
    path = write(tmp_path, "ovf3.csv", "y,a,b\n1e308,-1e308,1\n1,2,1\n3,4,3\n")
    result = runner.invoke(app, ["advise", path])
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr
    assert "models a, b: errors beyond float64 (inf)" in result.stderr
    assert "nan" not in result.stdout
    assert "RMSE/MAE = inf" not in result.stdout


@pytest.mark.parametrize(("text", "hidden"), [("y,a\n1,2\n2,3\n3,5\n", False), ("y,a\n1e308,-1e308\n1,2\n", True)])
def test_advise_hides_numpy_warnings_only_where_a_residual_overflowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, hidden: bool
) -> None:
    finish = advise.finish

    def faulty(*args, **kwargs):  # type: ignore[no-untyped-def]
        np.log(np.zeros(1))  # a fault in finishing: NumPy warns (divide by zero)
        return finish(*args, **kwargs)

    monkeypatch.setattr(advise, "finish", faulty)
    result = runner.invoke(app, ["advise", write(tmp_path, "d.csv", text)])
    if hidden:
        no_warning(result)
    else:  # pytest turns the warning into an error: it was not silenced
        assert isinstance(result.exception, RuntimeWarning), result.output
