"""Many groups: --ci-method t and --baseline finished for every group at once (core/at_once.py).

The at-once path gives, bit for bit, the floats the one-group-at-a-time path gives (stats.py's
scalar functions, as before), and each group's value is its own t interval and paired t-test:
scipy's t.interval, ttest_rel and ttest_1samp on the group's rows (the weighted versions by the
formula written here).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import losscli
from losscli.core import at_once, finish, spread
from losscli.core import stats as lstats
from losscli.errors import LossCliWarning

GROUPS = 300
LEVEL = 0.9


def _frame(seed: int = 1) -> pd.DataFrame:
    """Groups 0-9 of one row, 10-19 of two, 20 of 1,500 and 21 of 12,000 rows (df past 1000 and
    10,000), the rest a few rows each; in group 22 b is a plus 0.5 on every row (no spread: p = 0),
    in 23 b equals a (p = 1), and c equals a everywhere."""
    rng = np.random.default_rng(seed)
    g = np.concatenate(
        [
            np.arange(GROUPS),
            np.arange(10, GROUPS),
            np.full(1500, 20),
            np.full(12_000, 21),
            rng.integers(22, GROUPS, 5 * GROUPS),
        ]
    )
    y = rng.normal(size=len(g))
    a = y + rng.normal(0.0, 1.0, len(g))
    b = y + rng.normal(0.1, 1.1, len(g))
    b[g == 22] = a[g == 22] + 0.5
    b[g == 23] = a[g == 23]
    w = rng.uniform(0.1, 3.0, len(g))
    return pd.DataFrame({"y": y, "a": a, "b": b, "c": a.copy(), "w": w, "g": g})


def _with_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """NaN in some of b's rows (5%, all of group 24's, one of group 10's two): with --nan drop,
    b and the baseline a are compared on the rows both kept."""
    out = df.copy()
    rng = np.random.default_rng(5)
    gaps = (rng.uniform(size=len(out)) < 0.05) | (out.g == 24).to_numpy()
    gaps[np.flatnonzero(out.g == 10)[0]] = True
    out.loc[gaps, "b"] = np.nan
    return out


def _evaluate(df: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, from_: int, **options: object) -> pd.DataFrame:
    monkeypatch.setattr(finish, "AT_ONCE_FROM", from_)
    with warnings.catch_warnings():  # --nan drop: the note that the models kept different rows
        warnings.filterwarnings("ignore", "the models were evaluated on different rows", LossCliWarning)
        out: pd.DataFrame = losscli.evaluate(df, target="y", preds=["a", "b", "c"], by="g", **options)  # type: ignore[arg-type]
    return out


def _same_bits(mine: pd.Series, theirs: pd.Series) -> bool:
    """The same float64 bit for bit (NaN's sign and payload aside), or the same objects."""
    if mine.dtype != np.float64:
        return bool((mine.fillna("-") == theirs.fillna("-")).all())
    x, y = mine.to_numpy(), theirs.to_numpy()
    return bool(np.all((x.view(np.int64) == y.view(np.int64)) | (np.isnan(x) & np.isnan(y))))


CASES = {
    "t and baseline": {"ci": LEVEL, "ci_method": "t", "baseline": "a"},
    "weighted": {"ci": LEVEL, "ci_method": "t", "baseline": "a", "weight": "w"},
    "nan dropped": {"ci": LEVEL, "ci_method": "t", "baseline": "a", "nan": "drop"},
    "weighted, nan dropped": {"ci": LEVEL, "ci_method": "t", "baseline": "a", "nan": "drop", "weight": "w"},
    "baseline only": {"baseline": "b", "nan": "drop"},
    "t only": {"ci": 0.95, "ci_method": "t", "weight": "w"},
    "sums": {"baseline": "a", "reduction": "sum", "weight": "w", "nan": "drop"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_group_at_once_is_the_one_at_a_time_result_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    df = _with_gaps(_frame()) if "nan" in CASES[case] else _frame()
    losses = ["mse", "mae"] if case == "sums" else ["mse", "mae", "rmse"]  # sums: no root
    if case == "baseline only":
        losses.append("d2_mae")  # a skill score (higher is better): no t interval
    at_once_out = _evaluate(df, monkeypatch, 0, losses=losses, **CASES[case])
    one_by_one = _evaluate(df, monkeypatch, 10**9, losses=losses, **CASES[case])
    assert list(at_once_out.columns) == list(one_by_one.columns)
    assert len(at_once_out) == (GROUPS + 1) * 3 * len(losses)
    for column in at_once_out.columns:
        assert _same_bits(at_once_out[column], one_by_one[column]), column
    if "baseline" in CASES[case]:
        verdicts = set(at_once_out.verdict.dropna())
        assert {"baseline", "n.s."} <= verdicts
        assert verdicts & {"better", "worse"}


def _t_interval(x: np.ndarray, level: float) -> tuple[float, float]:
    return stats.t.interval(level, len(x) - 1, loc=x.mean(), scale=stats.sem(x))  # type: ignore[no-any-return]


def _check_group(r: pd.DataFrame, la: np.ndarray, lb: np.ndarray, root: bool) -> None:
    """One group's row of b against the baseline a: losses la, lb per row (squared for a root)."""
    finish_: Callable[[float], float] = math.sqrt if root else float
    assert r.value == pytest.approx(finish_(lb.mean()), rel=1e-12)
    assert r.delta == pytest.approx(finish_(lb.mean()) - finish_(la.mean()), rel=1e-9, abs=1e-13)
    if len(lb) < 2:
        assert math.isnan(r.ci_low)
        assert math.isnan(r.ci_high)
        assert math.isnan(r.p_value)
        assert r.verdict == "n.s."
        return
    low, high = _t_interval(lb, LEVEL)
    assert r.ci_low == pytest.approx(finish_(max(low, 0.0)), rel=1e-10, abs=1e-13)
    assert r.ci_high == pytest.approx(finish_(high), rel=1e-10)
    d = lb - la
    if np.ptp(d) == 0:  # scipy has no test there: every row differs by the same amount
        assert r.p_value == (1.0 if d[0] == 0 else 0.0)
        return
    p = stats.ttest_rel(lb, la).pvalue
    assert p == pytest.approx(stats.ttest_1samp(d, 0.0).pvalue, rel=1e-12)
    assert r.p_value == pytest.approx(p, rel=1e-10, abs=1e-300)
    assert r.verdict == ("n.s." if p >= 1 - LEVEL else ("better" if d.mean() < 0 else "worse"))
    if root:  # the delta method, with the three variances of the means
        a, b, n = la.mean(), lb.mean(), len(d)
        slope_a, slope_b = 0.5 / math.sqrt(a), 0.5 / math.sqrt(b)
        va, vb, vd = (np.var(x, ddof=1) / n for x in (la, lb, d))
        variance = slope_a**2 * va + slope_b**2 * vb - slope_a * slope_b * (va + vb - vd)
        half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * math.sqrt(max(variance, 0.0))
        low, high = r.delta - half, r.delta + half
    else:
        low, high = _t_interval(d, LEVEL)
    assert r.delta_ci_low == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert r.delta_ci_high == pytest.approx(high, rel=1e-9, abs=1e-12)


def test_every_group_is_its_own_t_interval_and_paired_test(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _frame()
    out = _evaluate(df, monkeypatch, 0, losses=["mse", "mae", "rmse"], ci=LEVEL, ci_method="t", baseline="a")
    rows = out[out.g != "(all)"].set_index(["g", "model", "loss"])
    per_row = {"mse": np.square, "mae": np.abs, "rmse": np.square}
    for g, part in df.groupby("g"):
        for label, loss in per_row.items():
            la, lb = loss(part.a - part.y).to_numpy(), loss(part.b - part.y).to_numpy()
            _check_group(rows.loc[(g, "b", label)], la, lb, root=label == "rmse")
            same = rows.loc[(g, "c", label)]  # c is a: no difference, no doubt
            assert (same.delta, same.p_value, same.verdict) == (0.0, 1.0, "n.s.") or len(part) == 1


def _weighted(x: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """(mean, standard error, df): the weighted mean, the weighted variance scaled by
    n_eff / (n_eff - 1) with Kish's n_eff = (sum w)^2 / sum w^2, and n_eff - 1."""
    mean = float(np.sum(w * x) / np.sum(w))
    n_eff = float(np.sum(w) ** 2 / np.sum(w * w))
    variance = float(np.sum(w * (x - mean) ** 2) / np.sum(w)) * n_eff / (n_eff - 1)
    return mean, math.sqrt(variance / n_eff), n_eff - 1


def test_weighted_groups_are_their_own_weighted_t_interval_and_test(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _frame()
    options = {"ci": LEVEL, "ci_method": "t", "baseline": "a", "weight": "w"}
    out = _evaluate(df, monkeypatch, 0, losses=["mae"], **options)
    rows = out[out.g != "(all)"].set_index(["g", "model"])
    checked = 0
    for g, part in df.groupby("g"):
        w = part.w.to_numpy()
        la, lb = np.abs(part.a - part.y).to_numpy(), np.abs(part.b - part.y).to_numpy()
        r = rows.loc[(g, "b")]
        if len(part) < 2 or g in (22, 23):
            continue
        mean, se, df_ = _weighted(lb, w)
        half = stats.t.ppf(0.5 + LEVEL / 2, df_) * se
        assert (r.ci_low, r.ci_high) == pytest.approx((max(mean - half, 0.0), mean + half), rel=1e-10, abs=1e-13)
        d_mean, d_se, _ = _weighted(lb - la, w)
        d_half = stats.t.ppf(0.5 + LEVEL / 2, df_) * d_se
        assert r.delta == pytest.approx(d_mean, rel=1e-12, abs=1e-15)
        assert (r.delta_ci_low, r.delta_ci_high) == pytest.approx((d_mean - d_half, d_mean + d_half), rel=1e-9)
        assert r.p_value == pytest.approx(2 * stats.t.sf(abs(d_mean / d_se), df_), rel=1e-10, abs=1e-300)
        checked += 1
    assert checked > 250


def _moments(rng: np.random.Generator, m: int, weighted: bool) -> at_once.Moments:
    """Random (sum w x, M2, sum w, sum w^2) with the edges: no weight, one row's worth of weight,
    no spread, NaN, and sizes past 1000 and 10,000 rows."""
    n = rng.integers(1, 40, m).astype(float)
    n[:20] = [0, 1, 1, 2, 2, 1001, 1500, 9999, 12_000, 3, 3, 5, 0, 2, 7, 7, 50_000, 4, 4, 2]
    w = n * rng.uniform(0.2, 3.0, m) if weighted else n
    with np.errstate(invalid="ignore", divide="ignore"):  # Kish's n_eff = n / (1 to 2)
        w2 = np.where(n > 0, w * w / n * rng.uniform(1.0, 2.0, m), 0.0) if weighted else n.copy()
    sum_x = rng.normal(size=m) * w
    m2 = rng.uniform(0, 5, m) * w
    m2[10:12] = 0.0  # every row the same: p = 0, or 1 where the mean is 0 too
    sum_x[11] = 0.0
    sum_x[12], m2[13] = math.nan, math.nan
    return sum_x, m2, w, w2


def _same(mine: np.ndarray, theirs: list[float]) -> bool:
    ref = np.array(theirs, dtype=np.float64)
    return bool(np.all((mine.view(np.int64) == ref.view(np.int64)) | (np.isnan(mine) & np.isnan(ref))))


@pytest.mark.parametrize("weighted", [False, True])
def test_the_at_once_functions_are_stats_one_at_a_time_bit_for_bit(weighted: bool) -> None:
    rng = np.random.default_rng(7)
    m = 300
    moments = _moments(rng, m, weighted)
    one = [tuple(float(v[i]) for v in moments) for i in range(m)]
    tests = at_once.paired_t_tests(*moments)
    scalar = [lstats.paired_t_test(*o) for o in one]
    for field, values in zip(("mean", "t", "df", "p_value"), tests, strict=True):
        assert _same(values, [getattr(s, field) for s in scalar]), field
    positive = (np.abs(moments[0]), *moments[1:])
    for finisher in (None, math.sqrt):
        low, high = at_once.t_intervals(positive, 0.95, finisher)
        ends = [lstats.t_interval(abs(o[0]), *o[1:], 0.95, finisher) for o in one]
        assert _same(low, [e[0] for e in ends])
        assert _same(high, [e[1] for e in ends])
        other = (positive[0] * rng.uniform(0.5, 1.5, m), *positive[1:])
        paired = (positive[0] - other[0], *moments[1:])
        low, high = at_once.t_delta_intervals(positive, other, paired, 0.95, finisher)
        ends = [
            lstats.t_delta_interval(*(tuple(float(v[i]) for v in x) for x in (positive, other, paired)), 0.95, finisher)  # type: ignore[arg-type]
            for i in range(m)
        ]
        assert _same(low, [e[0] for e in ends])
        assert _same(high, [e[1] for e in ends])
    p, delta = tests[3], moments[0]
    assert at_once.verdicts(p, delta, 0.95) == [lstats.verdict(a, b, 0.95) for a, b in zip(p, delta, strict=True)]


@pytest.mark.parametrize("size", [1, 3, 1000, 70_000])
def test_pairing_two_parts_is_combining_them_bit_for_bit(size: int) -> None:
    """spread.pair (every batch's groups into the state's) is spread.combine of the two parts
    stacked: the same floats, signed zeros, parts without weight and NaN included."""
    rng = np.random.default_rng(size)

    def part() -> tuple[np.ndarray, ...]:
        w = rng.integers(0, 4, size).astype(float)
        pivot, shift, m2 = rng.normal(size=size), rng.normal(size=size) * 1e-3, rng.uniform(size=size)
        for x in (w, pivot, shift, m2):
            x[rng.uniform(size=size) < 0.1] = -0.0
        shift[rng.uniform(size=size) < 0.01] = math.nan
        return w, pivot, shift, m2

    a, b = part(), part()
    stacked = [np.stack([x, y]) for x, y in zip(a, b, strict=True)]
    for mine, theirs in zip(spread.pair(a, b), spread.combine(*stacked), strict=True):
        assert _same(mine, theirs.tolist())


def test_an_infinite_loss_in_both_models_of_a_group_warns_only_as_losscli() -> None:
    """inf - inf in the at-once deltas is the NaN the one-at-a-time path gives, with no raw
    RuntimeWarning (pytest turns one into an error)."""
    g = np.repeat(np.arange(70), 3)
    y = np.zeros(len(g))
    a = np.where(g == 4, 1e300, 0.5)
    frame = pd.DataFrame({"g": g, "y": y, "a": a, "b": a + 0.25})
    results = {}
    for at_from in (64, 10**9):
        finish.AT_ONCE_FROM, before = at_from, finish.AT_ONCE_FROM
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                results[at_from] = losscli.evaluate(frame, target="y", losses=["mse"], by="g", baseline="a")
        finally:
            finish.AT_ONCE_FROM = before
        assert all(issubclass(w.category, LossCliWarning) for w in caught), [str(w.message) for w in caught]
    pd.testing.assert_frame_equal(results[64], results[10**9])
