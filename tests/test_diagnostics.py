"""The advise diagnostics against independent NumPy/SciPy formulas, and streaming == in memory."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats

from losscli.core.diagnose import DiagnosticsState, ModelBatch, disagreements, finish
from losscli.core.diagnostics import (
    CalibrationBins,
    Concentration,
    Moments,
    WorstRows,
    kendall_tau,
    ranking,
)
from losscli.core.sketch import Sketch, TopValues, bin_index, weighted_quantile

RNG = np.random.default_rng(20261129)


def _splits(n: int, pieces: int, seed: int = 0) -> list[tuple[int, int]]:
    cuts = np.sort(np.random.default_rng(seed).choice(np.arange(1, n), size=pieces - 1, replace=False))
    edges = [0, *cuts.tolist(), n]
    return list(itertools.pairwise(edges))


def _streamed_moments(x: np.ndarray, w: np.ndarray | None, pieces: int) -> Moments:
    m = Moments()
    for lo, hi in _splits(len(x), pieces):
        m = m.merge(Moments.of(x[lo:hi], None if w is None else w[lo:hi]))
    return m


@pytest.mark.parametrize("pieces", [1, 2, 7, 50])
def test_moments_unweighted_match_scipy(pieces: int) -> None:
    x = 1e6 + RNG.standard_t(3, size=1000)  # a large offset: raw power sums would cancel
    m = _streamed_moments(x, None, pieces)
    assert m.mean == pytest.approx(np.mean(x), rel=1e-12)
    assert m.variance == pytest.approx(np.var(x), rel=1e-9)
    assert m.excess_kurtosis == pytest.approx(scipy.stats.kurtosis(x, fisher=True, bias=True), rel=1e-8)


def test_moments_weighted_match_formula() -> None:
    x = RNG.normal(size=500) ** 3
    w = RNG.uniform(0, 3, size=500)
    m = _streamed_moments(x, w, 9)
    mean = np.average(x, weights=w)
    var = np.average((x - mean) ** 2, weights=w)
    m4 = np.average((x - mean) ** 4, weights=w)
    assert m.mean == pytest.approx(mean, rel=1e-12)
    assert m.variance == pytest.approx(var, rel=1e-12)
    assert m.excess_kurtosis == pytest.approx(m4 / var**2 - 3, rel=1e-10)


def test_moments_integer_weights_equal_repeated_rows() -> None:
    x = RNG.normal(size=50)
    w = RNG.integers(0, 4, size=50).astype(float)
    m = Moments.of(x, w)
    repeated = np.repeat(x, w.astype(int))
    assert m.excess_kurtosis == pytest.approx(scipy.stats.kurtosis(repeated), rel=1e-10)


def _in_memory_top_share(c: np.ndarray) -> float:
    k = math.ceil(len(c) / 100)
    return float(np.sort(c)[::-1][:k].sum()) / float(c.sum())


@pytest.mark.parametrize("n", [1, 99, 100, 101, 300, 12_345])
def test_concentration_streamed_equals_in_memory(n: int) -> None:
    c = RNG.lognormal(sigma=2.0, size=n)
    state = Concentration()
    for lo, hi in _splits(n, min(n, 6)) if n > 1 else [(0, 1)]:
        part = Concentration()
        part.update(c[lo:hi])
        state = state.merge(part)
    assert state.exact
    assert state.k == math.ceil(n / 100)
    assert state.share() == pytest.approx(_in_memory_top_share(c), rel=1e-12)


def test_concentration_past_capacity_is_approximate_within_a_bin() -> None:
    c = RNG.lognormal(sigma=1.0, size=20_000)
    state = Concentration(top=TopValues(capacity=50), sketch=Sketch(exact_rows=0))
    for lo, hi in _splits(len(c), 5):
        state.update(c[lo:hi])
    assert not state.exact  # k = 200 > 50
    assert state.share() == pytest.approx(_in_memory_top_share(c), rel=0.008)


def test_top_values_keeps_the_largest_exactly() -> None:
    x = RNG.normal(size=1000)
    top = TopValues(capacity=10)
    for lo, hi in _splits(1000, 13):
        top.update(x[lo:hi])
    assert top.top_sum(10) == float(np.sort(x)[::-1][:10].sum())
    assert top.top_sum(11) is None
    assert top.total == pytest.approx(x.sum(), rel=1e-12)


def test_bin_index_is_monotone() -> None:
    x = np.sort(np.concatenate([RNG.normal(scale=s, size=200) for s in (1e-300, 1e-5, 1.0, 1e5, 1e300)] + [[0.0]]))
    assert (np.diff(bin_index(x)) >= 0).all()


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_weighted_quantile_matches_numpy(q: float) -> None:
    x = RNG.normal(size=101)
    w = RNG.uniform(0.1, 2, size=101)
    assert weighted_quantile(x, None, q) == np.quantile(x, q)
    assert weighted_quantile(x, w, q) == np.quantile(x, q, weights=w, method="inverted_cdf")


def _sketch_of(x: np.ndarray, w: np.ndarray | None, exact_rows: int, pieces: int = 5) -> Sketch:
    sketch = Sketch(exact_rows)
    for lo, hi in _splits(len(x), pieces):
        part = Sketch(exact_rows)
        part.update(x[lo:hi], None if w is None else w[lo:hi])
        sketch = sketch.merge(part)
    return sketch


def test_sketch_exact_median_mad_huber() -> None:
    x = RNG.standard_t(2, size=1000) * 7 + 3
    sketch = _sketch_of(x, None, exact_rows=10_000)
    assert sketch.exact
    assert sketch.quantile(0.5) == np.median(x)
    assert sketch.mad() == pytest.approx(scipy.stats.median_abs_deviation(x), rel=1e-15)
    delta = 2.5
    a = np.abs(x)
    huber = np.where(a <= delta, 0.5 * x**2, delta * (a - 0.5 * delta)).sum()
    assert sketch.huber_sum(delta) == pytest.approx(huber, rel=1e-12)


def test_sketch_weighted_mad() -> None:
    x = RNG.normal(size=400)
    w = RNG.uniform(0, 2, size=400)
    sketch = _sketch_of(x, w, exact_rows=10_000)
    med = np.quantile(x, 0.5, weights=w, method="inverted_cdf")
    mad = np.quantile(np.abs(x - med), 0.5, weights=w, method="inverted_cdf")
    assert sketch.mad() == mad


def test_sketch_past_its_bound_is_within_the_bin_width() -> None:
    x = RNG.standard_t(3, size=50_000) * 4 + 1
    sketch = _sketch_of(x, None, exact_rows=1000)
    assert not sketch.exact
    assert sketch.quantile(0.5) == pytest.approx(np.median(x), rel=0.008)
    assert sketch.mad() == pytest.approx(scipy.stats.median_abs_deviation(x), rel=0.02)
    a = np.abs(x)
    huber = np.where(a <= 3.0, 0.5 * x**2, 3.0 * (a - 1.5)).sum()
    assert sketch.huber_sum(3.0) == pytest.approx(huber, rel=1e-3)
    c = x**2
    assert sketch.top_sum(10) == pytest.approx(np.sort(x)[::-1][:10].sum(), rel=0.008)
    assert _sketch_of(c, None, 0).top_sum(500) == pytest.approx(np.sort(c)[::-1][:500].sum(), rel=0.008)


def test_worst_rows_streamed_equal_in_memory_with_ties() -> None:
    values = np.round(RNG.exponential(size=2000), 1)  # many ties
    ids = [f"r{i}" for i in range(2000)]
    worst = WorstRows(7)
    for lo, hi in _splits(2000, 11):
        part = WorstRows(7)
        part.update(values[lo:hi], lo, lambda rows, lo=lo: [ids[lo + int(i)] for i in rows])
        worst = worst.merge(part)
    expected = np.lexsort((np.arange(2000), -values))[:7]
    assert [r.position for r in worst.rows()] == expected.tolist()
    assert [r.id for r in worst.rows()] == [ids[i] for i in expected]
    assert [r.value for r in worst.rows()] == values[expected].tolist()


def test_worst_rows_skip_invalid_rows() -> None:
    worst = WorstRows(3)
    values = np.array([9.0, 1.0, 8.0, 2.0])
    worst.update(values, 0, lambda rows: rows.tolist(), valid=np.array([False, True, True, True]))
    assert [r.position for r in worst.rows()] == [2, 3, 1]


def _ece_reference(conf: np.ndarray, outcome: np.ndarray, w: np.ndarray, bins: int = 10) -> float:
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = (conf >= lo) & ((conf < hi) if b < bins - 1 else (conf <= hi))
        if w[inside].sum() > 0:
            gap = abs(np.average(outcome[inside], weights=w[inside]) - np.average(conf[inside], weights=w[inside]))
            total += w[inside].sum() / w.sum() * gap
    return total


def test_binary_calibration_matches_formula() -> None:
    p = RNG.uniform(size=3000)
    y = (RNG.uniform(size=3000) < p**1.5).astype(float)
    w = RNG.uniform(0.5, 1.5, size=3000)
    cal = CalibrationBins()
    for lo, hi in _splits(3000, 4):
        cal.update(y[lo:hi], p[lo:hi], w[lo:hi])
    assert cal.ece() == pytest.approx(_ece_reference(p, y, w), rel=1e-12)
    conf = np.maximum(p, 1 - p)
    right = (p > 0.5) == (y == 1)
    assert cal.mean_confidence() == pytest.approx(np.average(conf, weights=w), rel=1e-12)
    assert cal.accuracy() == pytest.approx(np.average(right, weights=w), rel=1e-12)


def test_multiclass_calibration_is_top_label() -> None:
    logits = RNG.normal(scale=2, size=(1000, 4))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([RNG.choice(4, p=row) for row in p])
    cal = CalibrationBins()
    cal.update(y, p, np.ones(1000))
    conf, right = p.max(axis=1), (p.argmax(axis=1) == y).astype(float)
    assert cal.ece() == pytest.approx(_ece_reference(conf, right, np.ones(1000)), rel=1e-12)
    assert cal.mean_confidence() - cal.accuracy() == pytest.approx(conf.mean() - right.mean(), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_kendall_tau_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 4, size=6).astype(float), rng.integers(0, 4, size=6).astype(float)
    expected = scipy.stats.kendalltau(a, b).statistic
    got = kendall_tau(a.tolist(), b.tolist())
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected, rel=1e-12)


def test_ranking_and_disagreements() -> None:
    assert ranking({"a": 2.0, "b": 1.0, "c": math.nan, "d": 1.0}) == ["b", "d", "a", "c"]
    values = {"mse": {"a": 1.0, "b": 2.0, "c": 3.0}, "mae": {"a": 2.0, "b": 1.0, "c": 3.0}}
    (flip,) = disagreements(values, ("a", "b", "c"), "mse")
    assert flip.models == ("a", "b")
    assert flip.losses == ("mse", "mae")


def _regression_state(y: np.ndarray, preds: dict[str, np.ndarray], parts: list[tuple[int, int]]) -> DiagnosticsState:
    labels = ("mse", "mae")
    total = None
    for lo, hi in parts:
        state = DiagnosticsState("regression", tuple(preds), labels, "mse", top=3)
        batches = {
            m: ModelBatch(p[lo:hi], None, {"mse": (p[lo:hi] - y[lo:hi]) ** 2, "mae": np.abs(p[lo:hi] - y[lo:hi])})
            for m, p in preds.items()
        }
        state.update(y[lo:hi], None, lo, lambda rows, lo=lo: (rows + lo + 1).tolist(), batches)
        total = state if total is None else total.merge(state)
    assert total is not None
    return total


def test_regression_diagnosis_equals_in_memory_and_does_not_depend_on_chunks() -> None:
    n = 500
    y = RNG.normal(100, 20, size=n)
    a = y + RNG.normal(2, 5, size=n)
    b = y + RNG.normal(0, 1, size=n)
    b[:5] += 300  # five rows hold nearly all of b's squared error
    one = finish(_regression_state(y, {"a": a, "b": b}, [(0, n)]))
    many = finish(_regression_state(y, {"a": a, "b": b}, _splits(n, 8)))
    for m, p in (("a", a), ("b", b)):
        r = p - y
        got = one.models[m].metrics
        assert got["bias"] == pytest.approx(r.mean(), rel=1e-12)
        assert got["rmse"] == pytest.approx(np.sqrt((r**2).mean()), rel=1e-12)
        assert got["rmse_over_mae"] == pytest.approx(np.sqrt((r**2).mean()) / np.abs(r).mean(), rel=1e-12)
        assert got["mad"] == scipy.stats.median_abs_deviation(r)
        assert got["top1_share"] == pytest.approx(_in_memory_top_share(r**2), rel=1e-12)
        for key, value in got.items():
            assert many.models[m].metrics[key] == pytest.approx(value, rel=1e-9), key
        assert [row.id for row in one.models[m].worst["mse"]] == (np.argsort(-(r**2))[:3] + 1).tolist()
    assert one.models["b"].metrics["top1_share"] > 0.9
    assert one.rankings["mse"] == ["a", "b"]
    assert one.rankings["mae"] == ["b", "a"]
    assert one.disagreements[0].models == ("a", "b")
    assert one.huber_label is not None
    assert one.huber_label in one.rankings
    test = one.paired["mse"][("a", "b")]
    d = (a - y) ** 2 - (b - y) ** 2
    assert test.p_value == pytest.approx(scipy.stats.ttest_rel((a - y) ** 2, (b - y) ** 2).pvalue, rel=1e-8)
    assert test.mean == pytest.approx(d.mean(), rel=1e-12)


def test_state_stays_bounded_however_many_rows() -> None:
    """What is kept does not grow with the rows past the bounds: the 10M-row promise, in small."""
    concentration = Concentration(top=TopValues(capacity=100), sketch=Sketch(exact_rows=0))
    sketch = Sketch(exact_rows=1000)
    worst = WorstRows(5)
    rng = np.random.default_rng(3)
    for i in range(100):
        x = rng.standard_t(3, size=2000)
        concentration.update(x * x)
        sketch.update(x)
        worst.update(x, i * 2000, lambda rows: rows.tolist())
        assert len(concentration.top.values) <= 2 * 100
        assert len(worst.ids) <= 5
    assert sketch.chunks == []
    assert sketch.histogram is not None
    # |x| spans at most ~60 octaves here: 128 bins each, for both signs.
    assert sketch.histogram.size <= 2 * 60 * 128
