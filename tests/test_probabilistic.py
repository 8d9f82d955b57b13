"""Predictive distributions: Gaussian (MODEL.mean + MODEL.std/var) and quantile sets
(MODEL.q10, MODEL.q2.5, ...), read from files and scored against SciPy, scikit-learn and
formulas written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.stats import norm
from sklearn import metrics
from typer.testing import CliRunner

from losscli import evaluate, losses
from losscli.cli import app
from losscli.errors import BadValueError, LossCliWarning, OptionError

from .conftest import SAMPLE

runner = CliRunner()


def _gaussian_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, n)
    return pd.DataFrame(
        {
            "y": y,
            "a.mean": y + rng.normal(0, 1, n),
            "a.std": rng.uniform(0.5, 2.0, n),
            "b.mean": y + rng.normal(0.5, 2, n),
            "b.var": rng.uniform(0.5, 4.0, n),
        }
    )


def _quantile_frame(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1, n)
    centre = y + rng.normal(0, 0.5, n)
    spread = rng.uniform(0.2, 1.5, n)
    levels = (0.025, 0.1, 0.5, 0.9, 0.975)
    cols = {f"m.q{100 * q:g}": centre + norm.ppf(q) * spread for q in levels}
    return pd.DataFrame({"y": y} | cols)


def test_crps_closed_form_equals_the_integral_of_the_squared_cdf_difference() -> None:
    y = np.array([0.3, -1.2, 4.0])
    mean = np.array([0.0, 0.5, 1.0])
    std = np.array([1.0, 0.3, 2.0])
    got = losses.crps_gaussian(y, np.column_stack([mean, std**2]))
    for i in range(3):
        m, s = mean[i], std[i]
        below, _ = integrate.quad(lambda x, m=m, s=s: norm.cdf(x, m, s) ** 2, -np.inf, y[i])
        above, _ = integrate.quad(lambda x, m=m, s=s: (1 - norm.cdf(x, m, s)) ** 2, y[i], np.inf)
        assert got[i] == pytest.approx(below + above, rel=1e-8)


def test_a_gaussian_file_is_detected_and_std_and_var_columns_agree() -> None:
    df = _gaussian_frame()
    got = evaluate(df, ["crps", "gaussian_nll:full=true"])
    for model, spread in (("a", "std"), ("b", "var")):
        std = df[f"{model}.{spread}"] if spread == "std" else np.sqrt(df[f"{model}.{spread}"])
        z = (df["y"] - df[f"{model}.mean"]) / std
        crps = np.mean(std * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi)))
        nll = -np.mean(norm.logpdf(df["y"], df[f"{model}.mean"], std))
        rows = got[got["model"] == model].set_index("loss")["value"]
        assert rows["crps"] == pytest.approx(crps, rel=1e-10)
        assert rows["gaussian_nll(full=true)"] == pytest.approx(nll, rel=1e-10)


def test_point_losses_on_a_gaussian_file_use_the_mean() -> None:
    df = _gaussian_frame()
    got = evaluate(df, ["mse", "mae"]).set_index(["model", "loss"])["value"]
    for model in ("a", "b"):
        assert got[(model, "mse")] == pytest.approx(metrics.mean_squared_error(df["y"], df[f"{model}.mean"]))
        assert got[(model, "mae")] == pytest.approx(metrics.mean_absolute_error(df["y"], df[f"{model}.mean"]))


def test_pinball_over_a_quantile_set_averages_scikit_learns_pinball_over_the_levels() -> None:
    df = _quantile_frame()
    w = np.linspace(0.5, 2.0, len(df))
    df["w"] = w
    got = evaluate(df, ["pinball"], weight="w")["value"].iloc[0]
    levels = (0.025, 0.1, 0.5, 0.9, 0.975)
    expected = np.mean(
        [metrics.mean_pinball_loss(df["y"], df[f"m.q{100 * q:g}"], alpha=q, sample_weight=w) for q in levels]
    )
    assert got == pytest.approx(expected, rel=1e-12)


def test_interval_score_and_coverage_take_the_widest_pair_or_the_alpha_given() -> None:
    df = _quantile_frame()
    y = df["y"].to_numpy()

    def score(low: np.ndarray, high: np.ndarray, a: float) -> float:
        return float(np.mean((high - low) + 2 / a * (low - y) * (y < low) + 2 / a * (y - high) * (y > high)))

    got = evaluate(df, ["interval_score", "interval_score:alpha=0.2", "coverage", "coverage:alpha=0.2"])
    values = got.set_index("loss")["value"]
    lo95, hi95 = df["m.q2.5"].to_numpy(), df["m.q97.5"].to_numpy()
    lo80, hi80 = df["m.q10"].to_numpy(), df["m.q90"].to_numpy()
    assert values["interval_score"] == pytest.approx(score(lo95, hi95, 0.05), rel=1e-12)
    assert values["interval_score(alpha=0.2)"] == pytest.approx(score(lo80, hi80, 0.2), rel=1e-12)
    assert values["coverage"] == np.mean((lo95 <= y) & (y <= hi95))
    assert values["coverage(alpha=0.2)"] == np.mean((lo80 <= y) & (y <= hi80))


def test_the_cli_says_what_each_loss_reads(tmp_path: Path) -> None:
    path = str(tmp_path / "quantiles.csv")
    _quantile_frame().to_csv(path, index=False)
    result = runner.invoke(app, ["eval", path, "-l", "mae,coverage:alpha=0.2", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert "predictive distributions: m (quantiles 2.5%, 10%, 50%, 90%, 97.5%)" in result.stderr
    assert "mae on m: its median m.q50" in result.stderr
    assert "coverage(alpha=0.2) on m: the central 80% interval m.q10..m.q90 (nominal coverage 0.8)" in result.stderr


@pytest.mark.parametrize(
    ("frame", "losses_", "message"),
    [
        (pd.DataFrame({"y": [1.0, 2.0], "m": [1.0, 2.0]}), ["crps"], "crps needs a Gaussian"),
        (pd.DataFrame({"y": [1.0, 2.0], "m": [1.0, 2.0]}), ["coverage"], "coverage needs quantiles"),
        (
            pd.DataFrame({"y": [1.0, 2.0], "m.q10": [0.0, 1.0], "m.q90": [2.0, 3.0]}),
            ["mse"],
            "quantiles without a median",
        ),
        (
            pd.DataFrame({"y": [1.0, 2.0], "m.q10": [0.0, 1.0], "m.q90": [2.0, 3.0]}),
            ["interval_score:alpha=0.5"],
            "needs columns q25 and q75",
        ),
        (
            pd.DataFrame({"y": [1.0, 2.0], "m.q10": [0.0, 1.0], "m.q50": [1.0, 2.0], "m.q90": [2.0, 3.0]}),
            ["quantile:alpha=0.9"],
            "leave out alpha",
        ),
    ],
)
def test_a_loss_the_prediction_cannot_feed_is_one_sentence(
    frame: pd.DataFrame, losses_: list[str], message: str
) -> None:
    with pytest.raises(OptionError, match=message):
        evaluate(frame, losses_)


def test_a_negative_std_names_its_cell() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0], "m.mean": [1.0, 2.0], "m.std": [0.5, -0.1]})
    with pytest.raises(BadValueError, match=r"column 'm.std', row 2 holds -0.1"):
        evaluate(df, ["crps"])


def test_nan_drop_leaves_a_gaussian_row_out() -> None:
    df = _gaussian_frame(50)
    df.loc[3, "a.std"] = np.nan
    with pytest.warns(LossCliWarning, match="different rows"):  # model b keeps row 3 (issue 12)
        got = evaluate(df, ["crps"], nan="drop").set_index("model")
    keep = df.index != 3
    std = df.loc[keep, "a.std"]
    z = (df.loc[keep, "y"] - df.loc[keep, "a.mean"]) / std
    expected = np.mean(std * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi)))
    assert got.loc["a", "n"] == 49
    assert got.loc["a", "value"] == pytest.approx(expected, rel=1e-10)


def test_residual_plot_of_distribution_models_uses_the_mean_or_median() -> None:
    result = runner.invoke(app, ["plot", "residuals", str(SAMPLE / "forecast_quantiles.csv"), "--no-color"])
    assert result.exit_code == 0, result.output
    assert "qr" in result.stdout


def test_coverage_ranks_by_distance_from_the_nominal_level() -> None:
    y = np.linspace(0, 1, 100)
    # under: covers 50% of an 80% interval; over: covers 100%; close: covers 78%
    under = np.where(np.arange(100) % 2 == 0, y - 1, y + 1), np.full(100, 5.0)
    df = pd.DataFrame(
        {
            "y": y,
            "under.q10": under[0],
            "under.q90": under[1],
            "over.q10": y - 9,
            "over.q90": y + 9,
            "close.q10": np.where(np.arange(100) < 78, y - 1, y + 1),
            "close.q90": y + 2,
        }
    )
    result = runner.invoke(app, ["eval", "-", "-l", "coverage", "-f", "csv", "-q"], input=df.to_csv(index=False))
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.stdout.splitlines()[1:]]
    values = {r[0]: float(r[2]) for r in rows}
    assert values == {"under": 0.5, "over": 1.0, "close": 0.78}
    # distances from 0.8: close 0.02, over 0.2, under 0.3
    assert [r[0] for r in rows] == ["close", "over", "under"]


def test_normal_cdf_agrees_with_scipy_over_the_whole_range() -> None:
    from scipy.special import ndtr

    from losscli.losses.probabilistic import normal_cdf

    z = np.concatenate([np.linspace(-37, 38, 150_001), [0.0, -0.0, 1e-300, -1e300, 1e300, 0.70710678, 1.4142135]])
    got, expected = normal_cdf(z), ndtr(z)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)


def test_distribution_losses_in_blocks_equal_the_kernel_on_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    from losscli.core import compute
    from losscli.read.layout import Model
    from losscli.spec import parse_specs

    monkeypatch.setattr(compute, "BLOCK_ROWS", 7)
    df = _gaussian_frame(100)
    y = df["y"].to_numpy()
    p = np.column_stack([df["a.mean"], df["a.std"] ** 2])
    model = Model("a", ("a.mean", "a.std"), kind="gaussian", spread="std")
    specs = parse_specs(["crps", "gaussian_nll", "mae"])
    got = compute.model_losses(specs, y, p, model)
    np.testing.assert_allclose(got[0], losses.crps_gaussian(y, p), rtol=1e-15)
    np.testing.assert_allclose(got[1], losses.gaussian_nll(y, p, eps=1e-6, full=False), rtol=1e-15)
    np.testing.assert_allclose(got[2], np.abs(y - p[:, 0]), rtol=1e-15)


@pytest.mark.parametrize(
    ("frame", "specs"),
    [
        (_gaussian_frame(300), ["crps", "gaussian_nll", "mse"]),
        (_quantile_frame(300), ["quantile", "interval_score", "coverage", "mae"]),
    ],
    ids=["gaussian", "quantiles"],
)
def test_results_do_not_depend_on_chunks(frame: pd.DataFrame, specs: list[str]) -> None:
    whole = evaluate(frame, specs)
    chunked = evaluate(frame, specs, chunk_rows=13)
    np.testing.assert_allclose(chunked["value"], whole["value"], rtol=1e-12)


def test_advise_refuses_distribution_models_with_the_way_out() -> None:
    result = runner.invoke(app, ["advise", str(SAMPLE / "forecast.csv")])
    assert result.exit_code == 2
    assert "advise compares point predictions" in result.stderr


def test_advise_ranks_point_losses_only() -> None:
    from losscli.engines.advise import candidate_specs

    names = {s.name for s in candidate_specs("regression", "values")}
    assert "mse" in names
    assert not names & {"crps", "gaussian_nll", "interval_score", "coverage", "d2_tweedie", "d2_absolute_error"}


@pytest.mark.parametrize("name", ["forecast.csv", "forecast_quantiles.csv"])
def test_the_html_report_of_distribution_models(tmp_path: Path, name: str) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["eval", str(SAMPLE / name), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "it scores a predicted distribution" in result.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")
