"""Confidence intervals and paired tests, computed from accumulated state only.

No SciPy at run time: the Student t distribution comes from the regularised
incomplete beta function, evaluated by its continued fraction (Lentz's
method), accurate to about 1e-14 -- checked against scipy in the tests.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from . import spread


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile bootstrap interval of ``replicates`` at ``level`` (e.g. 0.95)."""
    values = replicates[np.isfinite(replicates)]
    if values.size == 0:
        return (math.nan, math.nan)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return (float(low), float(high))


@dataclass(frozen=True)
class PairedTest:
    """A paired t-test (Diebold-Mariano for one-step forecasts) on d = L_model - L_base."""

    mean: float
    t: float
    df: float
    p_value: float


def paired_t_test(sum_wd: float, m2_d: float, sum_w: float, sum_w2: float) -> PairedTest:
    """The two-sided paired t-test from mergeable moments: sum w d, the centred
    M2 = sum w (d - mean)^2 (spread.py), sum w and sum w^2.

    With weights, the mean and variance are weighted and the sample size is
    Kish's effective n = (sum w)^2 / sum w^2; without weights this is exactly
    scipy.stats.ttest_rel.
    """
    if sum_w <= 0:
        return PairedTest(math.nan, math.nan, math.nan, math.nan)
    mean = sum_wd / sum_w
    variance, n_eff = spread.variance(m2_d, sum_w, sum_w2)
    if n_eff <= 1:
        return PairedTest(mean, math.nan, math.nan, math.nan)
    df = n_eff - 1.0
    if variance == 0.0:
        # Every row differs by the same amount: no doubt at all (or no difference).
        return PairedTest(mean, math.nan, df, 1.0 if mean == 0 else 0.0)
    t = mean / math.sqrt(variance / n_eff)
    return PairedTest(mean, t, df, student_t_two_sided_p(t, df))


def student_t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 0.0
    # x = df / (df + t^2) and 1 - x, each without the other's rounding (both near 0 or 1)
    return betainc(df / 2.0, 0.5, df / (df + t * t), t * t / (df + t * t))


def betainc(a: float, b: float, x: float, y: float | None = None) -> float:
    """The regularised incomplete beta function I_x(a, b); ``y`` = 1 - x when the caller
    knows it more exactly than 1 - x rounds."""
    y = 1.0 - x if y is None else y
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = (
        _log_beta_front(a, b)
        + a * (math.log1p(-y) if y < 0.5 else math.log(x))
        + b * (math.log1p(-x) if x < 0.5 else math.log(y))
    )
    front = math.exp(log_front)
    # The continued fraction converges fast on this side of the mean; use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, y) / b


def _log_beta_front(a: float, b: float) -> float:
    """log(Gamma(a + b) / (Gamma(a) Gamma(b))). For a large beside b, lgamma(a + b) - lgamma(a)
    cancels (lgamma(50000) is 4.9e5: 1e-10 lost), so the difference of Stirling's series is
    taken instead, term by term."""
    if a < 50.0 or b > 1.0:
        return math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    c = a + b
    ratio = (a - 0.5) * math.log1p(b / a) + b * math.log(c) - b + _stirling_tail(c) - _stirling_tail(a)
    return ratio - math.lgamma(b)


def _stirling_tail(x: float) -> float:
    """lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2), to 1e-20 for x >= 50."""
    r = 1.0 / (x * x)
    return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r / 1188)))) / x


def _beta_continued_fraction(a: float, b: float, x: float, max_terms: int = 100_000) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, max_terms + 1):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            delta = d * c
            h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


def verdict(p_value: float, delta: float, level: float) -> str:
    """'better', 'worse' or 'n.s.' (not significant at 1 - level); lower loss is better. An
    infinite delta (a loss beyond float64 on one side only) has no test, but its sign is the
    answer: as the --fail-if-worse gate reads it.

    >>> verdict(math.nan, math.inf, 0.95), verdict(math.nan, -math.inf, 0.95)
    ('worse', 'better')
    """
    if math.isinf(delta):
        return "better" if delta < 0 else "worse"
    if not math.isfinite(p_value) or p_value >= 1.0 - level or delta == 0:
        return "n.s."
    return "better" if delta < 0 else "worse"


def student_t_quantile(level: float, df: float) -> float:
    """The t such that P(|T| <= t) = ``level`` for Student's t with ``df`` degrees of freedom.

    Exact (bisection on the regularised incomplete beta) below 1000 degrees of
    freedom and cached; above, the Cornish-Fisher expansion around the normal
    quantile (relative error below 1e-11 there), refined by one Newton step.
    """
    if df >= 1000:
        z = NormalDist().inv_cdf(0.5 + level / 2.0)
        z3, z5, z7 = z**3, z**5, z**7
        t = float(
            z
            + (z3 + z) / (4 * df)
            + (5 * z5 + 16 * z3 + 3 * z) / (96 * df**2)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df**3)
        )
        if df >= 10_000:  # the expansion is exact there (and the continued fraction loses digits)
            return t
        # One Newton step on the two-sided p (its slope is -2 pdf) takes the expansion's
        # 1e-11 to the last digits.
        log_pdf = _log_beta_front(df / 2.0, 0.5) - 0.5 * math.log(df) - (df + 1.0) / 2.0 * math.log1p(t * t / df)
        return t + (student_t_two_sided_p(t, df) - (1.0 - level)) / (2.0 * math.exp(log_pdf))
    return _t_quantile_exact(level, df)


@functools.lru_cache(maxsize=4096)
def _t_quantile_exact(level: float, df: float) -> float:
    low, high = 0.0, 1.0
    while student_t_two_sided_p(high, df) > 1.0 - level:
        high *= 2.0
    for _ in range(200):  # bisection: the two-sided p is monotone in t
        mid = (low + high) / 2.0
        if student_t_two_sided_p(mid, df) > 1.0 - level:
            low = mid
        else:
            high = mid
        if high - low <= 1e-15 * high:
            break
    return (low + high) / 2.0


def _mean_and_se(sum_x: float, m2: float, sum_w: float, sum_w2: float) -> tuple[float, float, float]:
    """Weighted mean, its standard error and the degrees of freedom (Kish's n_eff - 1)."""
    if sum_w <= 0 or sum_w2 <= 0:
        return (math.nan, math.nan, math.nan)
    mean = sum_x / sum_w
    if sum_w * sum_w / sum_w2 <= 1:
        return (mean, math.nan, math.nan)
    variance, n_eff = spread.variance(m2, sum_w, sum_w2)
    return (mean, math.sqrt(variance / n_eff), n_eff - 1.0)


def t_interval(
    sum_wl: float,
    m2: float,
    sum_w: float,
    sum_w2: float,
    level: float,
    finish: Callable[[float], float] | None = None,
) -> tuple[float, float]:
    """The Student t interval of a weighted mean loss, from mergeable moments (sum w l,
    the centred M2 = sum w (l - mean)^2, sum w, sum w^2).

    mean +- t(level, n_eff - 1) * s / sqrt(n_eff), with the weighted variance s^2
    and Kish's effective size n_eff = (sum w)^2 / sum w^2 (n without weights:
    then it is scipy.stats.t.interval with the sample's standard error). A
    finisher (RMSE's root) is monotone: it is applied to both ends, the low one
    clipped at 0 where the finisher is undefined below it.
    """
    mean, se, df = _mean_and_se(sum_wl, m2, sum_w, sum_w2)
    if not math.isfinite(se):
        return (math.nan, math.nan)
    half = student_t_quantile(level, df) * se
    low, high = mean - half, mean + half
    if finish is None:
        return (low, high)
    return (_finish_clipped(finish, low), finish(high))


def t_delta_interval(
    model: tuple[float, float, float, float],
    base: tuple[float, float, float, float],
    paired: tuple[float, float, float, float],
    level: float,
    finish: Callable[[float], float] | None = None,
) -> tuple[float, float]:
    """The t interval of finish(mean loss of model) - finish(mean loss of baseline).

    ``model`` and ``base`` are (sum w*l, M2 of l, sum w, sum w^2) of each
    model, ``paired`` the same for d = l_model - l_base. Without a finisher it is
    the paired t interval of the mean of d; with one (RMSE), the delta method:
    Var(f(a) - f(b)) = f'(a)^2 Va + f'(b)^2 Vb - 2 f'(a) f'(b) Cov(a, b), with
    Cov(a, b) = (Va + Vb - Vd) / 2 from the three variances.
    """
    d_mean, d_se, df = _mean_and_se(*paired)
    if not math.isfinite(d_se):
        return (math.nan, math.nan)
    q = student_t_quantile(level, df)
    if finish is None:
        return (d_mean - q * d_se, d_mean + q * d_se)
    a, a_se, _ = _mean_and_se(*model)
    b, b_se, _ = _mean_and_se(*base)
    slope_a, slope_b = _slope(finish, a), _slope(finish, b)
    # f'a^2 Va + f'b^2 Vb - 2 f'a f'b Cov with Cov = (Va + Vb - Vd) / 2, written so that
    # nothing cancels when the slopes are close (two models of about the same loss).
    a_var, b_var = a_se**2, b_se**2
    variance = (slope_a - slope_b) * (slope_a * a_var - slope_b * b_var) + slope_a * slope_b * d_se**2
    delta = finish(a) - finish(b)
    half = q * math.sqrt(max(variance, 0.0))
    return (delta - half, delta + half)


def _slope(finish: Callable[[float], float], x: float) -> float:
    """The finisher's derivative at x: exact for the root (RMSE's), else a central difference
    (finishers are smooth where used)."""
    if finish is math.sqrt:
        return 0.5 / math.sqrt(x) if x > 0 else math.inf
    h = 1e-6 * max(abs(x), 1e-12)
    return (finish(x + h) - finish(x - h)) / (2.0 * h)


def _finish_clipped(finish: Callable[[float], float], x: float) -> float:
    """finish(x), or finish(0) where x < 0 lies below the finisher's domain (RMSE's root)."""
    if x < 0:
        try:
            value = finish(x)
        except ValueError:  # math.sqrt of a negative number
            return finish(0.0)
        return finish(0.0) if math.isnan(value) else value
    return finish(x)
