"""Confidence intervals and paired tests, computed from accumulated state only.

No SciPy at run time: the Student t distribution comes from the regularised
incomplete beta function, evaluated by its continued fraction (Lentz's
method), accurate to about 1e-14 -- checked against scipy in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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


def paired_t_test(sum_wd: float, sum_wd2: float, sum_w: float, sum_w2: float) -> PairedTest:
    """The two-sided paired t-test from mergeable moments.

    With weights, the mean and variance are weighted and the sample size is
    Kish's effective n = (sum w)^2 / sum w^2; without weights this is exactly
    scipy.stats.ttest_rel.
    """
    if sum_w <= 0:
        return PairedTest(math.nan, math.nan, math.nan, math.nan)
    mean = sum_wd / sum_w
    n_eff = sum_w * sum_w / sum_w2
    if n_eff <= 1:
        return PairedTest(mean, math.nan, math.nan, math.nan)
    variance = max(sum_wd2 / sum_w - mean * mean, 0.0) * n_eff / (n_eff - 1.0)
    df = n_eff - 1.0
    if variance == 0.0:
        # Every row differs by the same amount: no doubt at all (or no difference).
        return PairedTest(mean, math.nan, df, 1.0 if mean == 0 else 0.0)
    t = mean / math.sqrt(variance / n_eff)
    return PairedTest(mean, t, df, student_t_two_sided_p(t, df))


def student_t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    # The continued fraction converges fast on this side of the mean; use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


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
    """'better', 'worse' or 'n.s.' (not significant at 1 - level); lower loss is better."""
    if not math.isfinite(p_value) or p_value >= 1.0 - level or delta == 0:
        return "n.s."
    return "better" if delta < 0 else "worse"
