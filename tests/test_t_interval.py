"""The analytic (t) interval from mergeable moments, against scipy and written-out formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from losscli.core.accumulate import MeanState
from losscli.core.stats import student_t_quantile, t_delta_interval, t_interval


@pytest.mark.parametrize("df", [1, 2, 7, 30, 400, 999, 1000, 5000, 1e6])
@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_t_quantile_is_scipys(df: float, level: float) -> None:
    assert student_t_quantile(level, df) == pytest.approx(stats.t.ppf(0.5 + level / 2, df), rel=1e-11)


def _moments(values: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float, float, float]:
    state = MeanState()
    for part in np.array_split(np.arange(len(values)), 3):  # merged from pieces, as a run does
        state.update(values[part], None if weights is None else weights[part])
    return state.moments()


def test_unweighted_interval_is_scipys_t_interval() -> None:
    x = np.random.default_rng(0).exponential(size=200)
    low, high = t_interval(*_moments(x), 0.95)
    want = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (low, high) == pytest.approx(want, rel=1e-12)


def test_weighted_interval_uses_kish_effective_size() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=300), rng.uniform(0.5, 2.0, 300)
    mean = np.average(x, weights=w)
    n_eff = w.sum() ** 2 / (w**2).sum()
    variance = np.average((x - mean) ** 2, weights=w) * n_eff / (n_eff - 1)
    half = stats.t.ppf(0.95, n_eff - 1) * math.sqrt(variance / n_eff)
    assert t_interval(*_moments(x, w), 0.9) == pytest.approx((mean - half, mean + half), rel=1e-10)


def test_finisher_is_applied_to_both_ends() -> None:
    x = np.random.default_rng(2).exponential(size=100)
    low, high = t_interval(*_moments(x), 0.95)
    assert t_interval(*_moments(x), 0.95, math.sqrt) == pytest.approx((math.sqrt(low), math.sqrt(high)), rel=1e-12)


def test_delta_interval_without_finisher_is_the_paired_t_interval() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.exponential(size=150), rng.exponential(size=150)
    d = a - b
    want = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    got = t_delta_interval(_moments(a), _moments(b), _moments(d), 0.95)
    assert got == pytest.approx(want, rel=1e-10)


def test_delta_interval_with_a_root_is_the_delta_method() -> None:
    rng = np.random.default_rng(4)
    shared = rng.exponential(size=400)
    a, b = shared + rng.exponential(0.3, 400), shared + rng.exponential(0.5, 400)
    n = len(a)
    cov = np.cov(a, b) / n  # covariance matrix of the two means
    ga, gb = 0.5 / math.sqrt(a.mean()), 0.5 / math.sqrt(b.mean())
    se = math.sqrt(ga**2 * cov[0, 0] + gb**2 * cov[1, 1] - 2 * ga * gb * cov[0, 1])
    delta = math.sqrt(a.mean()) - math.sqrt(b.mean())
    q = stats.t.ppf(0.975, n - 1)
    got = t_delta_interval(_moments(a), _moments(b), _moments(a - b), 0.95, math.sqrt)
    assert got == pytest.approx((delta - q * se, delta + q * se), rel=1e-6)


def test_too_few_rows_give_no_interval() -> None:
    assert all(math.isnan(v) for v in t_interval(*_moments(np.array([1.0])), 0.95))


def test_coverage_of_the_95_percent_t_interval() -> None:
    """300 data sets with a known mean squared error of 1: about 95% of intervals cover it."""
    rng = np.random.default_rng(42)
    covered = 0
    for _ in range(300):
        squared = rng.normal(size=120) ** 2
        low, high = t_interval(*_moments(squared), 0.95)
        covered += low <= 1.0 <= high
    assert 0.92 * 300 <= covered <= 0.98 * 300


def test_a_groups_moments_are_its_rows_moments() -> None:
    rng = np.random.default_rng(5)
    x, codes = rng.exponential(size=500), rng.integers(0, 3, 500)
    state = MeanState()
    state.update(x, None, codes, 3)
    for g in range(3):
        assert state.moments(g) == pytest.approx(_moments(x[codes == g]), rel=1e-12)
    assert state.moments(slice(None)) == pytest.approx(_moments(x), rel=1e-12)
