"""Plots: the plotted numbers checked against numpy, images and terminal output checked."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from losscli.cli import app
from losscli.plots import collect, data
from losscli.read.formats import open_source
from losscli.spec import parse_specs

from .build import make_plan
from .conftest import SAMPLE

HOUSE = pd.read_csv(SAMPLE / "house_prices.csv")
CHURN = pd.read_csv(SAMPLE / "churn.csv")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_regression_curves_are_the_formulas() -> None:
    axis, curves = data.loss_curves(parse_specs(["mse", "huber:delta=2", "mae"]), -4, 4, points=9)
    assert axis.startswith("residual")
    r = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(curves[0].y, r**2)
    np.testing.assert_allclose(curves[1].y, np.where(np.abs(r) <= 2, 0.5 * r**2, 2 * (np.abs(r) - 1)))
    np.testing.assert_allclose(curves[2].y, np.abs(r))


def test_gradient_curves_are_the_derivatives() -> None:
    _, curves = data.loss_curves(parse_specs(["mse", "huber:delta=1.5", "log_cosh"]), -4, 4, points=9, gradient=True)
    r = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(curves[0].y, 2 * r)
    np.testing.assert_allclose(curves[1].y, np.clip(r, -1.5, 1.5))  # bounded by delta: robust
    np.testing.assert_allclose(curves[2].y, np.tanh(r))


def test_binary_gradient_curves_are_the_derivatives() -> None:
    _, curves = data.loss_curves(parse_specs(["bce_logits"]), -3, 3, points=7, gradient=True)
    z = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(curves[0].y, 1 / (1 + np.exp(-z)) - 1)  # y = 1
    np.testing.assert_allclose(curves[1].y, 1 / (1 + np.exp(-z)))  # y = 0


def test_grad_in_the_terminal_names_the_axis() -> None:
    result = invoke("plot", "curves", "mse", "huber", "--grad", "--no-color")
    assert result.exit_code == 0, result.output
    assert "gradients: mse, huber" in result.stdout
    assert "d loss / d y_pred" in result.stdout


def test_curves_of_a_distribution_loss_are_refused() -> None:
    result = invoke("plot", "curves", "crps")
    assert result.exit_code == 2
    assert "crps scores a distribution" in result.stderr


def test_binary_curves_show_both_labels() -> None:
    axis, curves = data.loss_curves(parse_specs(["bce"]), 0.1, 0.9, points=5)
    assert axis == "predicted probability of class 1"
    p = np.linspace(0.1, 0.9, 5)
    assert [c.label for c in curves] == ["bce, y=1", "bce, y=0"]
    np.testing.assert_allclose(curves[0].y, -np.log(p))
    np.testing.assert_allclose(curves[1].y, -np.log(1 - p))


def test_residual_histograms_count_every_row() -> None:
    source = open_source(str(SAMPLE / "house_prices.csv"))
    hists = collect.residual_histograms(source, make_plan(source, ["mse"]), bins=12)
    for model in ("linear", "gbm", "knn"):
        h = hists[model]
        r = (HOUSE[model] - HOUSE.y).to_numpy()
        inside = r[(r >= h.edges[0]) & (r <= h.edges[-1])]
        np.testing.assert_array_equal(h.counts, np.histogram(inside, bins=h.edges)[0])
        assert h.below == int((r < h.edges[0]).sum())
        assert h.above == int((r > h.edges[-1]).sum())
        assert h.counts.sum() + h.below + h.above == len(HOUSE)


def test_histograms_merge_like_one_pass() -> None:
    edges = np.linspace(-1, 1, 5)
    values = np.random.default_rng(0).normal(size=300)
    whole, left, right = data.Histogram(edges), data.Histogram(edges), data.Histogram(edges)
    whole.update(values)
    left.update(values[:100])
    right.update(values[100:])
    merged = left.merge(right)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    assert (merged.below, merged.above) == (whole.below, whole.above)


def test_calibration_table_is_binned_by_hand() -> None:
    source = open_source(str(SAMPLE / "churn.csv"))
    tables = collect.calibration_tables(source, make_plan(source, ["brier"]), bins=5)
    p, y = CHURN.xgb.to_numpy(), CHURN.y.to_numpy()
    k = np.minimum((p * 5).astype(int), 4)
    mean_p, freq, n = tables["xgb"].table()
    used = [b for b in range(5) if (k == b).any()]
    np.testing.assert_allclose(mean_p, [p[k == b].mean() for b in used])
    np.testing.assert_allclose(freq, [y[k == b].mean() for b in used])
    np.testing.assert_array_equal(n, [(k == b).sum() for b in used])


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize(
    "args",
    [
        ["curves", "mse", "mae", "huber:delta=1", "log_cosh", "--range", "-3:3"],
        ["curves", "mse", "huber:delta=1", "--grad"],
        ["residuals", str(SAMPLE / "house_prices.csv")],
        ["calibration", str(SAMPLE / "churn.parquet")],
        ["losses", str(SAMPLE / "house_prices.csv"), "-l", "huber", "--by", "region"],
    ],
    ids=["curves", "gradients", "residuals", "calibration", "losses"],
)
def test_png_of_the_requested_size(tmp_path: Path, args: list[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "fig.png"
    result = invoke("plot", *args, "--output", str(out), "--size", "640x400")
    assert result.exit_code == 0, result.output
    assert _png_size(out) == (640, 400)


@pytest.mark.parametrize(
    "args",
    [
        ["curves", "mse", "huber:delta=3"],
        ["curves", "bce", "--range", "0:1"],
        ["curves", "hinge", "squared_hinge", "--range", "-3:3"],
        ["residuals", str(SAMPLE / "house_prices.csv")],
        ["calibration", str(SAMPLE / "churn.csv")],
        ["losses", str(SAMPLE / "house_prices.csv"), "-l", "mae", "--by", "region"],
    ],
)
def test_terminal_plots_render_at_a_fixed_width(args: list[str]) -> None:
    result = invoke("plot", *args, "--no-color")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) > 5
    assert max(len(line) for line in lines) <= 80
    assert "\x1b[" not in result.stdout


def test_group_bars_show_the_eval_values() -> None:
    out = invoke("plot", "losses", str(SAMPLE / "house_prices.csv"), "-l", "mae", "--by", "region", "--no-color")
    north_gbm = np.abs(HOUSE.gbm - HOUSE.y)[HOUSE.region == "north"].mean()
    assert f"{north_gbm:.2f}" in out.stdout


def test_plot_errors_are_sentences(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for args, words in (
        (["curves", "bce", "cce"], "one kind at a time"),
        (["curves", "mse", "--range", "3:1"], "LOW < HIGH"),
        (["curves", "hubr"], "did you mean 'huber'"),
        (["residuals", str(SAMPLE / "churn.csv")], "needs a regression target"),
        (["calibration", str(SAMPLE / "house_prices.csv")], "needs binary probabilities or quantile columns"),
        (["curves", "mse", "-o", str(tmp_path / "x.gif")], "write a figure as .png, .svg, .pdf"),
        (["curves", "mse", "-o", str(tmp_path / "x.png"), "--size", "big"], "--size takes WIDTHxHEIGHT"),
    ):
        result = invoke("plot", *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    missing = invoke("plot", "curves", "mse", "-o", str(tmp_path / "x.png"))
    assert missing.exit_code == 2
    assert "pip install 'losscli[plot]'" in missing.stderr


def test_quantile_calibration_is_the_share_of_targets_below_each_quantile() -> None:
    df = pd.read_csv(SAMPLE / "forecast_quantiles.csv")
    source = open_source(str(SAMPLE / "forecast_quantiles.csv"))
    tables = collect.calibration_tables(source, make_plan(source, []))
    for model in ("qr", "wide"):
        levels, observed, _ = tables[model].table()
        assert levels.tolist() == [0.1, 0.5, 0.9]
        expected = [np.mean(df["y"] <= df[f"{model}.q{q}"]) for q in (10, 50, 90)]
        np.testing.assert_allclose(observed, expected)


def test_quantile_calibration_in_the_terminal() -> None:
    result = invoke("plot", "calibration", str(SAMPLE / "forecast_quantiles.csv"), "--no-color")
    assert result.exit_code == 0, result.output
    assert "share of targets at or below each predicted quantile" in result.stdout
