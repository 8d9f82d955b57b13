"""Confidence intervals, paired tests and groups, checked against numpy and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from losscli.core.stats import betainc, paired_t_test, percentile_interval, student_t_two_sided_p
from losscli.read.source import source_from_dataframe

from .build import Options, run


def _regression(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    return pd.DataFrame({"y": y, "a": y + rng.normal(0, 1.0, n), "b": y + rng.normal(0, 1.2, n)})


@pytest.mark.parametrize(("a", "b", "x"), [(0.5, 0.5, 0.3), (2.0, 0.5, 0.9), (15.0, 0.5, 0.99), (1e3, 0.5, 0.5)])
def test_betainc_matches_scipy(a: float, b: float, x: float) -> None:
    assert betainc(a, b, x) == pytest.approx(special.betainc(a, b, x), rel=1e-12)


@pytest.mark.parametrize(("t", "df"), [(0.3, 2), (2.1, 10), (-4.0, 57), (1.0, 5000.0), (8.0, 3)])
def test_student_t_matches_scipy(t: float, df: float) -> None:
    assert student_t_two_sided_p(t, df) == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_paired_test_is_scipys_ttest_rel(seed: int) -> None:
    df = _regression(200 + 37 * seed, seed)
    ev = run(source_from_dataframe(df), ["mse", "mae"], options=Options(baseline="a"))
    for label, per_row in (("mse", lambda p: (p - df.y) ** 2), ("mae", lambda p: np.abs(p - df.y))):
        expected = stats.ttest_rel(per_row(df.b), per_row(df.a)).pvalue
        assert ev.result("b", label).p_value == pytest.approx(expected, rel=1e-8)
        assert ev.result("b", label).delta == pytest.approx(per_row(df.b).mean() - per_row(df.a).mean(), rel=1e-10)


def test_weighted_paired_test_with_integer_weights_is_the_test_on_repeated_rows_mean() -> None:
    # Kish's effective n differs from repeating rows, but the mean difference must not.
    df = _regression(100, 9)
    df["w"] = np.random.default_rng(1).integers(1, 4, 100).astype(float)
    ev = run(source_from_dataframe(df), ["mae"], weight="w", options=Options(baseline="a"))
    d = np.abs(df.b - df.y) - np.abs(df.a - df.y)
    assert ev.result("b", "mae").delta == pytest.approx(np.average(d, weights=df.w), rel=1e-10)
    test = paired_t_test(
        float((df.w * d).sum()),
        float((df.w * (d - np.average(d, weights=df.w)) ** 2).sum()),
        float(df.w.sum()),
        float((df.w**2).sum()),
    )
    assert ev.result("b", "mae").p_value == pytest.approx(test.p_value, rel=1e-12)


def test_poisson_bootstrap_agrees_with_a_percentile_bootstrap() -> None:
    """Both estimate the same sampling distribution: their intervals agree within Monte Carlo error."""
    df = _regression(400, 11)
    ev = run(source_from_dataframe(df), ["mse"], options=Options(ci=0.9, bootstrap=2000, seed=5))
    r = ev.result("a", "mse")
    losses = ((df.a - df.y) ** 2).to_numpy()
    rng = np.random.default_rng(0)
    means = np.array([losses[rng.integers(0, len(losses), len(losses))].mean() for _ in range(2000)])
    low, high = np.quantile(means, [0.05, 0.95])
    width = high - low
    assert r.ci_low == pytest.approx(low, abs=0.08 * width)
    assert r.ci_high == pytest.approx(high, abs=0.08 * width)


@pytest.mark.slow
def test_coverage_of_the_95_percent_interval() -> None:
    """300 data sets with a known mean squared error: about 95% of intervals cover it."""
    rng = np.random.default_rng(42)
    covered = 0
    runs = 300
    for i in range(runs):
        n = 120
        y = rng.normal(size=n)
        p = y + rng.normal(0, 1.0, n)  # residual ~ N(0, 1): true MSE = 1
        ev = run(
            source_from_dataframe(pd.DataFrame({"y": y, "m": p})),
            ["mse"],
            options=Options(ci=0.95, bootstrap=300, seed=i),
        )
        r = ev.result("m", "mse")
        covered += r.ci_low <= 1.0 <= r.ci_high
    assert 0.92 * runs <= covered <= 0.98 * runs


def test_rmse_interval_takes_the_root_per_replicate() -> None:
    df = _regression(300, 2)
    ev = run(source_from_dataframe(df), ["mse", "rmse"], options=Options(ci=0.9, bootstrap=300, seed=1))
    mse, rmse = ev.result("a", "mse"), ev.result("a", "rmse")
    assert rmse.ci_low == pytest.approx(np.sqrt(mse.ci_low), rel=1e-6)
    assert rmse.ci_high == pytest.approx(np.sqrt(mse.ci_high), rel=1e-6)


def test_delta_interval_keeps_the_pairing() -> None:
    """The same replicate weights for both models: the delta interval is much narrower than the
    difference of the two marginal intervals when the models' errors are correlated."""
    rng = np.random.default_rng(4)
    y = rng.normal(size=500)
    shared = rng.normal(0, 2.0, 500)
    df = pd.DataFrame({"y": y, "a": y + shared, "b": y + shared + rng.normal(0, 0.1, 500)})
    ev = run(source_from_dataframe(df), ["mae"], options=Options(ci=0.95, bootstrap=400, baseline="a"))
    b, a = ev.result("b", "mae"), ev.result("a", "mae")
    assert b.delta_ci_high - b.delta_ci_low < 0.2 * ((b.ci_high - b.ci_low) + (a.ci_high - a.ci_low))
    assert b.delta_ci_low <= b.delta <= b.delta_ci_high


def test_groups_equal_filtering_the_file() -> None:
    df = _regression(600, 3)
    df["region"] = np.random.default_rng(3).choice(["n", "s", "e"], 600)
    df["w"] = np.random.default_rng(5).uniform(0.5, 2.0, 600)
    options = Options(by=("region",), baseline="a", ci=0.9, bootstrap=100)
    ev = run(source_from_dataframe(df), ["mse", "rmse", "mae"], weight="w", options=options)
    for region in ("n", "s", "e"):
        alone = run(
            source_from_dataframe(df[df.region == region]),
            ["mse", "rmse", "mae"],
            weight="w",
            options=Options(baseline="a"),
        )
        for r in alone.results:
            grouped = ev.result(r.model, r.loss, (region,))
            assert grouped.value == pytest.approx(r.value, rel=1e-12)
            assert grouped.n == r.n
            assert grouped.p_value == pytest.approx(r.p_value, rel=1e-9, nan_ok=True)
    # and the overall rows are the whole file
    whole = run(source_from_dataframe(df), ["mse"], weight="w")
    assert ev.result("b", "mse", None).value == pytest.approx(whole.value("b", "mse"), rel=1e-12)


def test_two_by_columns_and_min_group_n() -> None:
    df = pd.DataFrame({"y": np.zeros(7), "m": np.arange(7.0), "g": list("xxxxyyz"), "h": [1, 1, 2, 2, 1, 1, 1]})
    ev = run(source_from_dataframe(df), ["mae"], options=Options(by=("g", "h"), min_group_n=2))
    groups = [r.group for r in ev.results]
    assert groups == [None, ("x", 1), ("x", 2), ("y", 1)]  # ('z', 1) has one row: hidden
    assert ev.result("m", "mae", ("x", 2)).value == 2.5
    assert any("hid 1 group" in note for note in ev.notes)


def test_percentile_interval_ignores_empty_replicates() -> None:
    assert percentile_interval(np.array([np.nan, 1.0, 2.0, 3.0]), 0.5) == (1.5, 2.5)


def test_identical_models_are_not_significant() -> None:
    df = _regression(50, 1)
    df["c"] = df["a"]
    ev = run(source_from_dataframe(df), ["mse"], options=Options(baseline="a"))
    assert ev.result("c", "mse").p_value == 1.0
    assert ev.result("c", "mse").verdict == "n.s."
