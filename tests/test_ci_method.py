"""--ci-method t and --threads, end to end: the CLI and the API against scipy's t interval."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import losscli
from losscli.cli import app

from .conftest import SAMPLE

HOUSES = SAMPLE / "house_prices.csv"


def _frame() -> pd.DataFrame:
    return pd.read_csv(HOUSES)


def test_t_interval_of_mae_equals_scipy_on_the_sample() -> None:
    df = _frame()
    result = CliRunner().invoke(app, ["eval", str(HOUSES), "-l", "mae", "--ci", "0.9", "--ci-method", "t", "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(io.StringIO(result.stdout)).set_index("model")
    for model in ("linear", "gbm", "knn"):
        errors = np.abs(df[model] - df["y"])
        low, high = stats.t.interval(0.9, len(errors) - 1, loc=errors.mean(), scale=stats.sem(errors))
        assert rows.loc[model, "mae:ci_low"] == pytest.approx(low, rel=1e-10)
        assert rows.loc[model, "mae:ci_high"] == pytest.approx(high, rel=1e-10)


def test_t_delta_interval_is_the_paired_t_interval() -> None:
    df = _frame()
    out = losscli.evaluate(str(HOUSES), ["mae"], ci=0.95, ci_method="t", baseline="linear")
    gbm = out.set_index("model").loc["gbm"]
    d = np.abs(df["gbm"] - df["y"]) - np.abs(df["linear"] - df["y"])
    low, high = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert gbm["delta_ci_low"] == pytest.approx(low, rel=1e-10)
    assert gbm["delta_ci_high"] == pytest.approx(high, rel=1e-10)


def test_the_signature_names_the_method() -> None:
    result = CliRunner().invoke(app, ["eval", str(HOUSES), "-l", "mae", "--ci", "0.9", "--ci-method", "t", "-v", "-q"])
    assert "ci:0.9:method=t" in result.stderr


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_threads_do_not_change_a_digit(threads: int) -> None:
    one = losscli.evaluate(str(HOUSES), ["mse", "mae", "huber", "log_cosh"], threads=1)
    many = losscli.evaluate(str(HOUSES), ["mse", "mae", "huber", "log_cosh"], threads=threads, chunk_rows=37)
    np.testing.assert_allclose(many["value"], one["value"], rtol=1e-12)
