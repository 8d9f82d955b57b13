"""stats.py's t intervals, paired t-tests and verdicts, for many targets (groups) at once.

With 200,000 groups, finishing one group at a time spends seconds in Python on what
is a handful of array operations. Each function here gives, element by element,
the float its one-target counterpart in stats.py gives, bit for bit: NumPy's
+, -, *, / and sqrt round as IEEE says, as Python's floats do; the logarithms,
the exponential, lgamma and powers are the math module's, called per element
(NumPy's own may differ in the last bit); and the iterations (the incomplete
beta's continued fraction, the quantile's bisection) stop for each element at
the step where it would stop alone. tests/test_many_groups.py checks it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .stats import _finish_clipped, _log_beta_front, student_t_quantile, t_delta_interval

# Per target: (sum w x, the centred M2 of x, sum w, sum w^2), as stats.py's functions take one.
Moments = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]

_TINY = 1e-300  # stats._beta_continued_fraction's


def each(function: Callable[[float], float], values: np.ndarray) -> np.ndarray:
    """``function`` (a math-module one) of every value, in Python floats."""
    return np.fromiter(map(function, values.tolist()), dtype=np.float64, count=len(values))


def _once_each(function: Callable[[float], float], values: np.ndarray) -> np.ndarray:
    """each(), computed once per distinct value (degrees of freedom without weights: few)."""
    doubled = values * 2.0  # halves of whole numbers (df / 2 without weights) are whole here
    with np.errstate(invalid="ignore"):
        small = bool(len(values) and np.all((doubled > 0) & (doubled < 1 << 22)))  # no zero: no -0.0
    if small and np.array_equal(doubled, np.trunc(doubled)):  # found by counting, not hashing
        codes = doubled.astype(np.int64)
        present = np.flatnonzero(np.bincount(codes))
        by_code = np.empty(int(present[-1]) + 1)
        by_code[present] = [function(v / 2.0) for v in present.tolist()]  # the same floats as given
        result: np.ndarray = by_code[codes]
        return result
    listed = values.tolist()
    known = {v: function(v) for v in set(listed)}
    return np.fromiter(map(known.__getitem__, listed), dtype=np.float64, count=len(listed))


def _square(value: float) -> float:
    try:
        return value**2  # Python's power (the C library's pow), as stats.py squares
    except OverflowError:
        return math.inf


def _variances(m2: np.ndarray, sum_w: np.ndarray, sum_w2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """spread.variance() of each target: (the weighted sample variance, Kish's n_eff)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n_eff = np.where(sum_w2 > 0, sum_w * sum_w / sum_w2, 0.0)
        variance = np.where((sum_w > 0) & (n_eff > 1), m2 / sum_w * n_eff / (n_eff - 1.0), np.nan)
    return variance, n_eff


def _means_and_ses(sum_x: np.ndarray, m2: np.ndarray, sum_w: np.ndarray, sum_w2: np.ndarray) -> Arrays:
    """stats._mean_and_se() of each target: (weighted mean, its standard error, degrees of freedom)."""
    none = (sum_w <= 0) | (sum_w2 <= 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mean = np.where(none, np.nan, sum_x / sum_w)
        one = none | (sum_w * sum_w / sum_w2 <= 1)
        variance, n_eff = _variances(m2, sum_w, sum_w2)
        se = np.where(one, np.nan, np.sqrt(variance / n_eff))
    return mean, se, np.where(one, np.nan, n_eff - 1.0)


def paired_t_tests(sum_wd: np.ndarray, m2_d: np.ndarray, sum_w: np.ndarray, sum_w2: np.ndarray) -> Moments:
    """stats.paired_t_test() of each target: (mean, t, df, p-value), each an array."""
    no_weight = sum_w <= 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mean = np.where(no_weight, np.nan, sum_wd / sum_w)
        variance, n_eff = _variances(m2_d, sum_w, sum_w2)
        untested = no_weight | (n_eff <= 1)
        df = np.where(untested, np.nan, n_eff - 1.0)
        # Every row differs by the same amount: no doubt at all (or no difference).
        constant = ~untested & (variance == 0.0)
        t = np.where(untested | constant, np.nan, mean / np.sqrt(variance / n_eff))
    p = np.where(constant, np.where(mean == 0, 1.0, 0.0), np.nan)
    tested = np.flatnonzero(~untested & ~constant)
    p[tested] = student_t_two_sided_ps(t[tested], df[tested])
    return mean, t, df, p


def student_t_two_sided_ps(t: np.ndarray, df: np.ndarray, fronts: np.ndarray | None = None) -> np.ndarray:
    """stats.student_t_two_sided_p() of each (t, df); ``fronts``, when given, is
    log_beta_fronts(df) (a bisection asks at many t for the same df)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tt = t * t
        x, y = df / (df + tt), tt / (df + tt)
    p = betaincs(df / 2.0, 0.5, x, y, fronts)
    p[np.isinf(t)] = 0.0
    return p


def log_beta_fronts(df: np.ndarray) -> np.ndarray:
    """stats._log_beta_front(df / 2, 1/2) of each df: the t distribution's constant."""
    return _once_each(lambda v: _log_beta_front(v, 0.5), df / 2.0)


def betaincs(a: np.ndarray, b: float, x: np.ndarray, y: np.ndarray, fronts: np.ndarray | None = None) -> np.ndarray:
    """stats.betainc(a, b, x, y) of each (a, x, y): the regularised incomplete beta I_x(a, b);
    ``fronts``, when given, is stats._log_beta_front(a, b) of each a."""
    out = np.where(x <= 0.0, 0.0, np.where(y <= 0.0, 1.0, np.nan))
    inside = np.flatnonzero(~(x <= 0.0) & ~(y <= 0.0))
    a, x, y = a[inside], x[inside], y[inside]
    # log x as log1p(-y) where y < 0.5, log y as log1p(-x) where x < 0.5: whichever is exact
    log_x, log_y = _log_either(x, y), _log_either(y, x)
    front_log = _once_each(lambda v: _log_beta_front(v, b), a) if fronts is None else fronts[inside]
    with np.errstate(invalid="ignore", over="ignore"):
        front = each(math.exp, front_log + a * log_x + b * log_y)
        # The continued fraction converges fast on this side of the mean; symmetry otherwise.
        low = x < (a + 1.0) / (a + b + 2.0)
    # A NaN front (NaN or infinite inputs) gives a NaN value whatever the fraction: not run.
    known = np.flatnonzero(~np.isnan(front))
    fraction = np.full(len(a), np.nan)
    first = np.where(low, a, b)[known]
    second = np.where(low, b, a)[known]
    fraction[known] = continued_fractions(first, second, np.where(low, x, y)[known])
    with np.errstate(invalid="ignore", over="ignore"):
        out[inside] = np.where(low, front * fraction / a, 1.0 - front * fraction / b)
    return out


def _log_either(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log(x) of each element, as math.log1p(-y) where y < 0.5, else math.log(x) (y = 1 - x)."""
    small = y < 0.5
    out = np.empty(len(x))
    out[small] = each(math.log1p, -y[small])
    out[~small] = each(math.log, x[~small])
    return out


def continued_fractions(a: np.ndarray, b: np.ndarray, x: np.ndarray, max_terms: int = 100_000) -> np.ndarray:
    """stats._beta_continued_fraction() of each (a, b, x) (Lentz's method): each element stops
    at its own term, as it does alone. The same operations on each element (a product's
    operands swapped at most: IEEE's product is symmetric), in place: a new array per
    operation would cost its page faults."""
    if not len(a):
        return np.empty(0)
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c: np.ndarray = np.ones(len(a))
    d: np.ndarray = 1.0 / _floor(1.0 - qab * x / qap)
    h: np.ndarray = d.copy()
    out = np.full(len(a), np.nan)
    left: np.ndarray = np.arange(len(a))  # the elements computed (some may have stopped: not ``going``)
    going: np.ndarray = np.ones(len(a), dtype=bool)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore", under="ignore"):
        for m in range(1, max_terms + 1):
            delta = _lentz_steps(m, (a, b, x, qab, qap, qam), c, d, h)
            done = going & (np.abs(delta - 1.0) < 1e-16) if m < max_terms else going
            if done.any():
                out[left[done]] = h[done]
                going &= ~done
                count = np.count_nonzero(going)
                if not count:
                    break
                if 2 * count < len(going):  # drop the stopped ones when they are most
                    left, a, b, x, qab, qap, qam, c, d, h, going = (
                        v[going] for v in (left, a, b, x, qab, qap, qam, c, d, h, going)
                    )
    return out


def _lentz_steps(m: int, terms: tuple[np.ndarray, ...], c: np.ndarray, d: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Term m of the continued fraction, its two numerators: c, d and h updated in place;
    the last factor of h returned."""
    a, b, x, qab, qap, qam = terms
    m2 = 2 * m
    a_m2 = a + m2
    # m (b - m) x / ((qam + m2)(a + m2)), then -(a + m)(qab + m) x / ((a + m2)(qap + m2))
    first = b - m
    first *= m
    first *= x
    below = qam + m2
    below *= a_m2
    first /= below
    second = a + m
    np.negative(second, out=second)
    second *= qab + m
    second *= x
    np.add(qap, m2, out=below)
    below *= a_m2
    second /= below
    delta = a_m2  # its room, reused
    for numerator in (first, second):
        np.multiply(numerator, d, out=below)
        below += 1.0
        np.divide(1.0, _floor_in_place(below), out=d)
        np.divide(numerator, c, out=c)
        c += 1.0
        _floor_in_place(c)
        np.multiply(d, c, out=delta)
        h *= delta
    return delta


def _floor_in_place(values: np.ndarray) -> np.ndarray:
    """_floor(), in place."""
    big = np.abs(values) > _TINY
    if not big.all():
        values[~big] = _TINY
    return values


def _floor(values: np.ndarray) -> np.ndarray:
    """A value, or the continued fraction's tiny where it is smaller in size (or NaN)."""
    return np.where(np.abs(values) > _TINY, values, _TINY)


def verdicts(p_value: np.ndarray, delta: np.ndarray, level: float) -> list[str]:
    """stats.verdict() of each (p-value, delta)."""
    with np.errstate(invalid="ignore"):
        called = np.isinf(delta) | (np.isfinite(p_value) & (p_value < 1.0 - level) & (delta != 0))
        which = np.where(called, np.where(delta < 0, 1, 2), 0)
    out: list[str] = np.array(["n.s.", "better", "worse"])[which].tolist()
    return out


def student_t_quantiles(level: float, df: np.ndarray) -> np.ndarray:
    """stats.student_t_quantile() of each degrees of freedom (finite, positive).

    Without weights they are whole numbers, few distinct: each is found once. With
    weights each group has its own: those below 1000 are found by one bisection of
    them all; 1000 and more need a group of over 1000 rows, so they are few."""
    whole = np.array_equal(df, np.trunc(df))  # without weights (counted, not hashed)
    if whole or len(df) <= 32 or len(set(df.tolist())) * 4 <= len(df):
        return _once_each(lambda v: student_t_quantile(level, v), df)
    last = _LAST_BISECTED.get(level)  # every model and loss of a run with weights has the same df
    if last is not None and np.array_equal(last[0], df):
        return last[1].copy()
    out = np.empty(len(df))
    exact = df < 1000
    out[exact] = _t_quantiles_exact(level, df[exact])
    out[~exact] = each(lambda v: student_t_quantile(level, v), df[~exact])
    _LAST_BISECTED.clear()
    _LAST_BISECTED[level] = (df.copy(), out.copy())
    return out


# The last quantiles bisected, by level: (the df, their quantiles). One entry: a run's.
_LAST_BISECTED: dict[float, tuple[np.ndarray, np.ndarray]] = {}


def _t_quantiles_exact(level: float, df: np.ndarray) -> np.ndarray:
    """stats._t_quantile_exact() of each df: bisection on the two-sided p (monotone in t),
    each element stopping where it would alone."""
    fronts = log_beta_fronts(df)  # found once: each df's p is asked for at 50 or so t
    high = np.ones(len(df))
    growing = np.arange(len(df))
    while growing.size:
        growing = growing[student_t_two_sided_ps(high[growing], df[growing], fronts[growing]) > 1.0 - level]
        high[growing] *= 2.0
    low = np.zeros(len(df))
    going = np.arange(len(df))
    for _ in range(200):
        mid = (low[going] + high[going]) / 2.0
        above = student_t_two_sided_ps(mid, df[going], fronts[going]) > 1.0 - level
        low[going[above]] = mid[above]
        high[going[~above]] = mid[~above]
        going = going[~(high[going] - low[going] <= 1e-15 * high[going])]
        if not going.size:
            break
    out: np.ndarray = (low + high) / 2.0
    return out


def _quantiles_where(level: float, df: np.ndarray, ok: np.ndarray) -> np.ndarray:
    q = np.full(len(df), np.nan)
    q[ok] = student_t_quantiles(level, df[ok])
    return q


def t_intervals(
    moments: Moments, level: float, finish: Callable[[float], float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """stats.t_interval() of each target: (low ends, high ends)."""
    mean, se, df = _means_and_ses(*moments)
    ok = np.isfinite(se)
    half = _quantiles_where(level, df, ok) * se
    low, high = np.where(ok, mean - half, np.nan), np.where(ok, mean + half, np.nan)
    if finish is None:
        return low, high
    if finish is math.sqrt:  # NumPy's root is IEEE's, as math's; below 0, the root of 0
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.where(low < 0, 0.0, low)), np.sqrt(high)
    for i in np.flatnonzero(ok).tolist():
        low[i], high[i] = _finish_clipped(finish, float(low[i])), finish(float(high[i]))
    return low, high


def t_delta_intervals(
    model: Moments, base: Moments, paired: Moments, level: float, finish: Callable[[float], float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """stats.t_delta_interval() of each target: (low ends, high ends)."""
    d_mean, d_se, df = _means_and_ses(*paired)
    ok = np.isfinite(d_se)
    q = _quantiles_where(level, df, ok)
    nan = np.full(len(q), np.nan)
    if finish is None:
        return np.where(ok, d_mean - q * d_se, nan), np.where(ok, d_mean + q * d_se, nan)
    if finish is not math.sqrt:  # no such finisher yet: one target at a time
        ends = [
            t_delta_interval(*_at(i, model, base, paired), level, finish) if ok[i] else (math.nan,) * 2
            for i in range(len(q))
        ]
        return np.array([e[0] for e in ends]), np.array([e[1] for e in ends])
    (a, a_se, _), (b, b_se, _) = _means_and_ses(*model), _means_and_ses(*base)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope_a, slope_b = (np.where(v > 0, 0.5 / np.sqrt(v), math.inf) for v in (a, b))
        a_var, b_var, d_var = (each(_square, v) for v in (a_se, b_se, d_se))
        # stats.t_delta_interval's delta method, the same operations in the same order
        variance = (slope_a - slope_b) * (slope_a * a_var - slope_b * b_var) + slope_a * slope_b * d_var
        delta = np.sqrt(a) - np.sqrt(b)
        half = q * np.sqrt(np.where(variance < 0.0, 0.0, variance))  # max(variance, 0.0): NaN stays
    return np.where(ok, delta - half, nan), np.where(ok, delta + half, nan)


Scalars = tuple[float, float, float, float]


def _at(i: int, model: Moments, base: Moments, paired: Moments) -> tuple[Scalars, Scalars, Scalars]:
    """The i-th target's moments, as stats.t_delta_interval() takes them."""
    a, b, d = (tuple(float(v[i]) for v in m) for m in (model, base, paired))
    return (a[0], a[1], a[2], a[3]), (b[0], b[1], b[2], b[3]), (d[0], d[1], d[2], d[3])
