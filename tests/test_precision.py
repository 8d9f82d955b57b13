"""Intervals and paired tests to the last digit when a loss's mean dwarfs its spread.

The state keeps centred, mergeable moments (core/spread.py), not sum w l^2: at mean/spread
1e8..1e10 the t interval and the paired test equal scipy (t.interval, ttest_rel; the
weighted versions by the formula written here) to rtol 1e-12, with or without groups, and
the same to rtol 1e-12 across chunk sizes and formats.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import losscli
from losscli.core import spread
from losscli.losses.regression import log_cosh

N = 4000
SCALES = [1e-8, 1e-9, 1e-10]  # mean/spread of the loss: 1e8, 1e9, 1e10
RTOL = 1e-12
EPS = np.finfo(float).eps


def _frame(scale: float, n: int = N, seed: int = 0) -> pd.DataFrame:
    """y = 0 and predictions about 1 (mae about 1) spread by ``scale``; b a little worse."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": np.zeros(n),
            "a": 1.0 + rng.normal(0.0, scale, n),
            "b": 1.0 + rng.normal(0.0, scale, n) + 0.03 * scale,
            "w": rng.uniform(0.5, 2.0, n),
            "g": rng.choice(["x", "y", "z"], n),
        }
    )


def _weighted_t(x: np.ndarray, w: np.ndarray, level: float) -> tuple[float, float, float]:
    """(mean, half-width, two-sided p of mean = 0): the weighted mean, the weighted variance
    scaled by n_eff / (n_eff - 1), Kish's n_eff = (sum w)^2 / sum w^2, Student t with n_eff - 1."""
    mean = float(np.sum(w * x) / np.sum(w))
    n_eff = float(np.sum(w) ** 2 / np.sum(w * w))
    var = float(np.sum(w * (x - mean) ** 2) / np.sum(w)) * n_eff / (n_eff - 1)
    se = math.sqrt(var / n_eff)
    half = float(stats.t.ppf(0.5 + level / 2, n_eff - 1)) * se
    return mean, half, float(2 * stats.t.sf(abs(mean / se), n_eff - 1))


def _row(out: pd.DataFrame, model: str, group: str | None = None) -> pd.Series:
    rows = out[out.model == model]
    if group is not None:
        rows = rows[rows.g == group]
    return rows.iloc[0]


def _close_to_interval(row: pd.Series, low: float, high: float, prefix: str = "ci") -> None:
    got_low, got_high = row[f"{prefix}_low"], row[f"{prefix}_high"]
    assert got_low == pytest.approx(low, rel=RTOL)
    assert got_high == pytest.approx(high, rel=RTOL)
    # The width too, to rtol 1e-12 or what two numbers near the mean can hold (a few units in
    # its last place), whichever is more.
    width = high - low
    assert abs((got_high - got_low) - width) <= RTOL * width + 8 * EPS * max(abs(low), abs(high))


@pytest.mark.parametrize("scale", SCALES)
def test_t_interval_and_paired_test_equal_scipy(scale: float) -> None:
    df = _frame(scale)
    out = losscli.evaluate(df, "mae", target="y", preds=["a", "b"], ci=0.95, ci_method="t", baseline="a")
    la, lb = np.abs(df.a.to_numpy()), np.abs(df.b.to_numpy())
    row = _row(out, "b")
    _close_to_interval(row, *stats.t.interval(0.95, N - 1, loc=lb.mean(), scale=stats.sem(lb)))
    d = lb - la
    assert row.delta == pytest.approx(d.mean(), rel=RTOL)
    _close_to_interval(row, *stats.t.interval(0.95, N - 1, loc=d.mean(), scale=stats.sem(d)), "delta_ci")
    assert row.p_value == pytest.approx(stats.ttest_rel(lb, la).pvalue, rel=RTOL)


@pytest.mark.parametrize("scale", SCALES)
def test_weighted_and_grouped_equal_the_formula(scale: float) -> None:
    df = _frame(scale, seed=1)
    out = losscli.evaluate(
        df, "mae", target="y", preds=["a", "b"], weight="w", by="g", ci=0.9, ci_method="t", baseline="a"
    )
    for group in (None, "x", "y", "z"):
        part = df if group is None else df[df.g == group]
        row = _row(out, "b", "(all)" if group is None else group)
        la, lb, w = np.abs(part.a.to_numpy()), np.abs(part.b.to_numpy()), part.w.to_numpy()
        mean, half, _ = _weighted_t(lb, w, 0.9)
        _close_to_interval(row, mean - half, mean + half)
        mean, half, p = _weighted_t(lb - la, w, 0.9)
        assert row.delta == pytest.approx(mean, rel=RTOL)
        _close_to_interval(row, mean - half, mean + half, "delta_ci")
        assert row.p_value == pytest.approx(p, rel=RTOL)


def test_chunk_sizes_and_formats_give_the_same_digits(tmp_path: Path) -> None:
    df = _frame(1e-9, n=20_000, seed=2)
    df.to_csv(tmp_path / "d.csv", index=False, float_format="%.17g")
    df.to_parquet(tmp_path / "d.parquet", index=False)
    runs = [
        losscli.evaluate(
            str(tmp_path / name), ["mae", "mse"], preds=["a", "b"], ci=0.95, ci_method="t", baseline="a", chunk_rows=c
        )
        for name in ("d.csv", "d.parquet")
        for c in (None, 777, 5000)
    ]
    columns = ["value", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p_value"]
    first = runs[0][columns].to_numpy(dtype=float)
    for other in runs[1:]:
        np.testing.assert_allclose(other[columns].to_numpy(dtype=float), first, rtol=RTOL)


def test_merging_parts_is_the_two_pass_m2_of_the_whole() -> None:
    """spread.combine of parts cut anywhere equals sum (x - mean)^2 of the whole, at mean/spread 1e10."""
    rng = np.random.default_rng(3)
    x = 1e5 + rng.normal(0, 1e-5, 10_000)
    w = rng.uniform(0.1, 3.0, len(x))
    cuts = np.sort(rng.choice(np.arange(1, len(x)), 40, replace=False)).tolist()
    bounds = list(zip([0, *cuts], [*cuts, len(x)], strict=True))
    parts = [spread.of_rows(x[lo:hi], w[lo:hi], float(w[lo:hi].sum())) for lo, hi in bounds]
    weights = np.array([[float(w[lo:hi].sum())] for lo, hi in bounds])
    pivot, shift, m2 = (np.array([[p[i]] for p in parts]) for i in range(3))
    _, _, merged = spread.combine(weights, pivot, shift, m2)
    mean = np.sum(w * x) / np.sum(w)
    assert merged[0] == pytest.approx(np.sum(w * (x - mean) ** 2), rel=RTOL)


def _log_cosh_reference(r: float) -> float:
    """log cosh r: mpmath at 50 digits where installed, else its series near 0 (to r^8, whose
    next term is below 1e-24 relative for |r| < 1e-4) and log(cosh) in float64 far from 0."""
    a = abs(r)
    try:
        import mpmath
    except ImportError:
        if a < 1e-4:
            return a * a / 2 - a**4 / 12 + a**6 / 45 - 17 * a**8 / 2520
        return a - math.log(2.0) + math.log1p(math.exp(-2.0 * a)) if a > 1 else math.log(math.cosh(a))
    with mpmath.workdps(50):
        x = mpmath.mpf(a)
        if a < 1e-4:  # cosh(x) is 1 to 50 digits below about 1e-25: the series is the reference there
            return float(x**2 / 2 - x**4 / 12 + x**6 / 45 - 17 * x**8 / 2520)
        return float(mpmath.log(mpmath.cosh(x)))


def test_log_cosh_is_exact_from_tiny_to_huge_residuals() -> None:
    """rtol 1e-12 for |r| from 1e-150 (where r^2 / 2 is still a normal float64) to 1e300,
    without an overflow; and equal to |r| + log1p(exp(-2|r|)) - log 2 where that form is exact."""
    r = np.concatenate([10.0 ** np.arange(-150.0, 300.5, 0.5), np.linspace(0.01, 30.0, 600)])
    r = np.concatenate([r, -r])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        got = log_cosh(np.zeros(len(r)), r)
    expected = np.array([_log_cosh_reference(float(x)) for x in r])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)
    far = np.abs(r) >= 1.0
    old_form = np.abs(r[far]) + np.log1p(np.exp(-2.0 * np.abs(r[far]))) - math.log(2.0)
    np.testing.assert_allclose(got[far], old_form, rtol=RTOL)
    assert losscli.score("log_cosh", [0.0], [1e-8]) == pytest.approx(5e-17, rel=RTOL)


@pytest.mark.parametrize("loss", ["poisson", "gamma", "msle"])
def test_log_losses_keep_their_digits_when_the_model_is_nearly_right(loss: str) -> None:
    """y log(y/p) - y + p, log(p/y) + y/p - 1 and log1p(p) - log1p(y) cancel as p nears y
    (scikit-learn's forms kept 4 digits of the deviances at p = y (1 + 1e-6), 8 of msle at
    1e-8): against mpmath at 60 digits, rtol 1e-12, from 1e-12 to 3 apart."""
    mpmath = pytest.importorskip("mpmath")
    from losscli.losses.regression import gamma_deviance, poisson_deviance, squared_log_error

    kernel = {"poisson": poisson_deviance, "gamma": gamma_deviance, "msle": squared_log_error}[loss]
    gaps = [1e-12, 1e-9, 1e-6, 1e-4, 0.01, 0.2, 0.249, 0.251, 0.5, 3.0, -0.2, -0.249, -0.251, -0.5, -0.9]
    ys = np.array([y for y in (1e-3, 1.0, 7.3, 1e6) for _ in gaps])
    ps = np.array([y * (1.0 + g) for y in (1e-3, 1.0, 7.3, 1e6) for g in gaps])
    with mpmath.workdps(60):
        expected = []
        for y, p in zip(ys.tolist(), ps.tolist(), strict=True):
            yy, pp = mpmath.mpf(y), mpmath.mpf(p)
            if loss == "poisson":
                exact = 2 * (yy * mpmath.log(yy / pp) - yy + pp)
            elif loss == "gamma":
                exact = 2 * (mpmath.log(pp / yy) + yy / pp - 1)
            else:
                exact = (mpmath.log1p(pp) - mpmath.log1p(yy)) ** 2
            expected.append(float(exact))
    np.testing.assert_allclose(kernel(ys, ps), expected, rtol=RTOL, atol=0)


@pytest.mark.slow
def test_the_dask_engine_gives_the_same_digits(tmp_path: Path) -> None:
    """Parts reduced on workers and merged in a tree (spread.combine of the parts) equal the
    local engine to rtol 1e-12 at mean/spread 1e9, grouped and weighted."""
    pytest.importorskip("dask.distributed")
    df = _frame(1e-9, n=12_000, seed=4)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(4):
        df.iloc[i * 3000 : (i + 1) * 3000].to_parquet(folder / f"part-{i}.parquet", index=False)
    options = {"preds": ["a", "b"], "weight": "w", "by": "g", "ci": 0.95, "ci_method": "t", "baseline": "a"}
    local = losscli.evaluate(str(folder), ["mae", "mse"], **options)
    dask = losscli.evaluate(str(folder), ["mae", "mse"], engine="dask", workers=2, **options)
    columns = ["value", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p_value"]
    np.testing.assert_allclose(dask[columns].to_numpy(dtype=float), local[columns].to_numpy(dtype=float), rtol=RTOL)
    row = _row(local, "b", "(all)")
    la, lb = np.abs(df.a.to_numpy()), np.abs(df.b.to_numpy())
    assert row.p_value == pytest.approx(_weighted_t(lb - la, df.w.to_numpy(), 0.95)[2], rel=RTOL)


@pytest.mark.parametrize(
    ("loss", "y_true", "y_pred"),
    [
        ("poisson_deviance", [1.0, 0.0, 2.0], [4e-18, 0.5, 1.5]),  # a log-link rate of exp(-40)
        ("poisson_deviance", [1e-300], [1e10]),  # p / y overflows
        ("gamma_deviance", [1e-17, 2.0], [1.0, 3.0]),  # y / p rounds x to -1
    ],
)
def test_deviances_far_from_the_target_are_scikit_learns(loss: str, y_true: list[float], y_pred: list[float]) -> None:
    """Far from p = y the series' x rounds to -1 or overflows: scikit-learn's form there, finite."""
    from sklearn.metrics import mean_gamma_deviance, mean_poisson_deviance

    reference = mean_poisson_deviance if loss == "poisson_deviance" else mean_gamma_deviance
    y, p = np.array(y_true), np.array(y_pred)
    assert losscli.score(loss, y, p) == pytest.approx(reference(y, p), rel=1e-12)
