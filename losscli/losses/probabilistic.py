"""Losses of predictive distributions: a Gaussian per row, or a set of quantiles per row.

A Gaussian model's y_pred is an (n, 2) matrix [mean, variance] (std columns are squared
when read); a quantile model's is (n, k), one column per level, levels ascending, and the
kernels take those levels as ``levels``. Point losses (mse, mae, ...) on such models use
the mean or the median; that choice is the reader's, not these kernels'.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._registry import POSITIVE, FloatArray, Interval, Loss, Param, ParamValue, register

OPEN_UNIT = Interval(0.0, 1.0, low_closed=False, high_closed=False)

SQRT_PI = math.sqrt(math.pi)
LOG_2PI = math.log(2.0 * math.pi)
# Levels closer than this are the same level (q2.5 read as 0.025 in binary).
LEVEL_TOLERANCE = 1e-9


# NumPy has no erf. Phi is computed as Cephes' ndtr (S. Moshier, public domain) computes it,
# which is also what scipy.special.ndtr runs: erf by a rational function of x^2 for |x| < 1,
# erfc by exp(-x^2) times a rational function of |x| beyond (two ranges), to about 1e-16.
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)  # fmt: skip
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)  # fmt: skip
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)  # fmt: skip
_ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)  # fmt: skip
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)  # fmt: skip
_ERFC_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)  # fmt: skip


def _ratio(top: tuple[float, ...], bottom: tuple[float, ...], x: FloatArray) -> FloatArray:
    """top(x) / bottom(x), both by Horner's rule (highest power first), in place."""
    num = np.full_like(x, top[0])
    for c in top[1:]:
        num *= x
        num += c
    den = np.full_like(x, bottom[0])
    for c in bottom[1:]:
        den *= x
        den += c
    num /= den
    return num


def normal_cdf(z: FloatArray) -> FloatArray:
    """Phi(z), the standard normal CDF, vectorised (Cephes ndtr's rational approximations).

    Each value goes through one range's rational function only.

    >>> normal_cdf(np.array([0.0, -40.0])).tolist()
    [0.5, 0.0]
    """
    x = np.asarray(z, dtype=np.float64) / math.sqrt(2.0)
    ax = np.minimum(np.abs(x), 40.0)  # erfc(40) underflows to 0: keep the polynomials finite
    lower = np.empty_like(ax)  # Phi(-|z|) = erfc(|x|) / 2
    small = ax < 1.0
    mid = ~small & (ax < 8.0)
    large = ~small & ~mid
    erf_small = ax[small] * _ratio(_ERF_T, _ERF_U, ax[small] ** 2)
    lower[small] = 0.5 * (1.0 - erf_small)
    with np.errstate(under="ignore"):
        lower[mid] = 0.5 * np.exp(-(ax[mid] ** 2)) * _ratio(_ERFC_P, _ERFC_Q, ax[mid])
        lower[large] = 0.5 * np.exp(-(ax[large] ** 2)) * _ratio(_ERFC_R, _ERFC_S, ax[large])
    out = np.where(x > 0, 1.0 - lower, lower)
    # Near 0, (1 + erf(x)) / 2 keeps the digits that 1 - erfc(|x|) / 2 would lose.
    near = small & (ax < math.sqrt(0.5))
    out[near] = 0.5 + 0.5 * np.sign(x[near]) * erf_small[near[small]]
    return out


def normal_pdf(z: FloatArray) -> FloatArray:
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def gaussian_nll(y_true: FloatArray, y_pred: FloatArray, *, eps: float, full: bool) -> FloatArray:
    """torch GaussianNLLLoss: 0.5 (log max(var, eps) + (y - mean)^2 / max(var, eps)) [+ 0.5 log 2 pi].

    >>> gaussian_nll(np.array([0.0]), np.array([[0.0, 1.0]]), eps=1e-6, full=False).tolist()
    [0.0]
    """
    mean, var = y_pred[:, 0], np.maximum(y_pred[:, 1], eps)
    r = y_true - mean
    loss = 0.5 * (np.log(var) + r * r / var)
    return loss + 0.5 * LOG_2PI if full else loss


def crps_gaussian(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """sigma (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)), z = (y - mean) / sigma; |y - mean| at sigma 0.

    >>> crps_gaussian(np.array([0.0, 1.0]), np.array([[0.0, 1.0], [0.0, 0.0]])).round(6).tolist()
    [0.233695, 1.0]
    """
    mean, sigma = y_pred[:, 0], np.sqrt(y_pred[:, 1])
    r = y_true - mean
    safe = np.where(sigma > 0, sigma, 1.0)
    z = r / safe
    crps = safe * (z * (2.0 * normal_cdf(z) - 1.0) + 2.0 * normal_pdf(z) - 1.0 / SQRT_PI)
    return np.where(sigma > 0, crps, np.abs(r))  # a point mass: CRPS is the absolute error


def central_interval(levels: Sequence[float] | FloatArray, alpha: ParamValue) -> tuple[int, int, float] | None:
    """(lower column, upper column, alpha) of the central (1 - alpha) interval among the levels.

    alpha none: the widest symmetric pair (tau, 1 - tau). None when the levels hold no pair.
    """
    levels = np.asarray(levels, dtype=np.float64)
    pairs = [
        (i, j)
        for i in range(len(levels))
        for j in range(len(levels))
        if levels[i] < 0.5 and abs(levels[i] + levels[j] - 1.0) < LEVEL_TOLERANCE
    ]
    if alpha is not None:
        pairs = [(i, j) for i, j in pairs if abs(2.0 * levels[i] - float(alpha)) < LEVEL_TOLERANCE]
    if not pairs:
        return None
    i, j = min(pairs, key=lambda ij: levels[ij[0]])
    return i, j, float(2.0 * levels[i])


def _interval(y_pred: FloatArray, levels: FloatArray, alpha: ParamValue) -> tuple[FloatArray, FloatArray, float]:
    found = central_interval(levels, alpha)
    if found is None:  # the planner refuses such a model before any kernel runs
        raise ValueError(f"no central interval with alpha={alpha} among the levels {list(levels)}")
    i, j, a = found
    return y_pred[:, i], y_pred[:, j], a


def interval_score(y_true: FloatArray, y_pred: FloatArray, *, levels: FloatArray, alpha: ParamValue) -> FloatArray:
    """Gneiting-Raftery: (u - l) + (2 / alpha) (l - y)[y < l] + (2 / alpha) (y - u)[y > u].

    >>> q = np.array([[1.0, 2.0], [1.0, 2.0]])
    >>> interval_score(np.array([0.0, 3.0]), q, levels=np.array([0.1, 0.9]), alpha=None).tolist()
    [11.0, 11.0]
    """
    low, high, a = _interval(y_pred, levels, alpha)
    return (high - low) + (2.0 / a) * (np.maximum(low - y_true, 0.0) + np.maximum(y_true - high, 0.0))


def coverage(y_true: FloatArray, y_pred: FloatArray, *, levels: FloatArray, alpha: ParamValue) -> FloatArray:
    """1 where l <= y <= u: its mean is the share of targets inside the central interval.

    >>> q = np.array([[1.0, 2.0], [1.0, 2.0]])
    >>> coverage(np.array([0.0, 1.5]), q, levels=np.array([0.1, 0.9]), alpha=None).tolist()
    [0.0, 1.0]
    """
    low, high, _ = _interval(y_pred, levels, alpha)
    return ((low <= y_true) & (y_true <= high)).astype(np.float64)


# --- gradients with respect to each column of y_pred --------------------------------------------


def gaussian_nll_grad(y_true: FloatArray, y_pred: FloatArray, *, eps: float, full: bool) -> FloatArray:
    """[(mean - y) / var, (1 / var - (y - mean)^2 / var^2) / 2]; 0 for var where the clamp holds it."""
    mean, raw_var = y_pred[:, 0], y_pred[:, 1]
    var = np.maximum(raw_var, eps)
    r = y_true - mean
    d_var = np.where(raw_var > eps, 0.5 * (1.0 / var - r * r / (var * var)), 0.0)
    return np.column_stack([-r / var, d_var])


def crps_gaussian_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """[1 - 2 Phi(z), (2 phi(z) - 1 / sqrt(pi)) / (2 sigma)]: bounded in the mean, like MAE."""
    mean, sigma = y_pred[:, 0], np.sqrt(y_pred[:, 1])
    safe = np.where(sigma > 0, sigma, 1.0)
    z = (y_true - mean) / safe
    d_mean = np.where(sigma > 0, 1.0 - 2.0 * normal_cdf(z), np.sign(mean - y_true))
    d_var = np.where(sigma > 0, (2.0 * normal_pdf(z) - 1.0 / SQRT_PI) / (2.0 * safe), 0.0)
    return np.column_stack([d_mean, d_var])


def interval_score_grad(y_true: FloatArray, y_pred: FloatArray, *, levels: FloatArray, alpha: ParamValue) -> FloatArray:
    found = central_interval(levels, alpha)
    assert found is not None
    i, j, a = found
    g = np.zeros_like(y_pred, dtype=np.float64)
    g[:, i] = -1.0 + (2.0 / a) * (y_true < y_pred[:, i])
    g[:, j] = 1.0 - (2.0 / a) * (y_true > y_pred[:, j])
    return g


def nominal_coverage(levels: Sequence[float], *, alpha: ParamValue) -> float:
    """1 - alpha of the central interval coverage reads (NaN where there is none)."""
    found = central_interval(levels, alpha)
    return 1.0 - found[2] if found is not None else math.nan


def coverage_grad(y_true: FloatArray, y_pred: FloatArray, *, levels: FloatArray, alpha: ParamValue) -> FloatArray:
    return np.zeros_like(y_pred, dtype=np.float64)


_INTERVAL_ALPHA = Param(
    "alpha",
    None,
    "1 - the interval's nominal coverage: 0.2 is the q10..q90 interval (none: the widest pair given)",
    "float_or_none",
    OPEN_UNIT,
)

register(
    Loss(
        name="gaussian_nll",
        aliases=("gaussian_nll_loss", "gaussiannllloss", "normal_nll"),
        task="regression",
        kernel=gaussian_nll,
        gradient=gaussian_nll_grad,
        pred_shape="gaussian",
        params=(
            Param("eps", 1e-6, "the variance is clamped to at least eps (torch's default)", domain=POSITIVE),
            Param("full", False, "add the constant 0.5 log(2 pi), the full negative log-density", kind="bool"),
        ),
        nonnegative=False,
        zero_at_perfect=False,
        formula="mean(0.5 (log max(var, eps) + (y - mean)^2 / max(var, eps))) [+ 0.5 log(2 pi)]",
        description="Gaussian negative log-likelihood of MODEL.mean and MODEL.std (or .var) columns.",
        reference="torch GaussianNLLLoss (eps=1e-6, full=False by default); scipy.stats.norm.logpdf with full=true",
        explain=(
            "How unlikely the targets are under each row's predicted normal distribution. It "
            "rewards a spread that matches the errors: too narrow and a miss costs "
            "(y - mean)^2 / var, too wide and log var grows. As torch's GaussianNLLLoss the "
            "variance is clamped to eps (1e-6) and the constant 0.5 log(2 pi) is left out "
            "unless full=true; with full=true it is -scipy.stats.norm.logpdf(y, mean, std). "
            "Needs columns MODEL.mean and MODEL.std or MODEL.var (std >= 0, var >= 0). "
            "Can be negative: a narrow, right prediction has a density above 1."
        ),
    )
)

register(
    Loss(
        name="crps",
        aliases=("crps_gaussian", "continuous_ranked_probability_score"),
        task="regression",
        kernel=crps_gaussian,
        gradient=crps_gaussian_grad,
        pred_shape="gaussian",
        formula="mean(sigma (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))), z = (y - mean) / sigma",
        description="Continuous ranked probability score of a Gaussian prediction (closed form).",
        reference="the closed form of Gneiting & Raftery (2007), checked against scipy.stats.norm",
        explain=(
            "The integral of (F(x) - [x >= y])^2 over x for each row's predicted normal CDF F: "
            "a proper score in the target's units that reduces to the absolute error when the "
            "spread is 0, so it compares probabilistic and point forecasts on one scale. Unlike "
            "gaussian_nll it grows only linearly with a miss. Needs MODEL.mean and MODEL.std "
            "(or .var) columns. Phi uses the C library's erf through NumPy."
        ),
    )
)

register(
    Loss(
        name="interval_score",
        aliases=("winkler", "winkler_score"),
        task="regression",
        kernel=interval_score,
        gradient=interval_score_grad,
        pred_shape="quantiles",
        params=(_INTERVAL_ALPHA,),
        zero_at_perfect=False,
        formula="mean((u - l) + (2 / alpha) (l - y)[y < l] + (2 / alpha) (y - u)[y > u])",
        description="Interval score of the central (1 - alpha) interval between two quantile columns.",
        reference="Gneiting & Raftery (2007) interval score (the Winkler score)",
        explain=(
            "Scores a central prediction interval [l, u], the quantiles alpha/2 and 1 - alpha/2 "
            "(q10 and q90 for alpha = 0.2): its width, plus 2 / alpha times how far each target "
            "falls outside. A proper score: it is lowest for the true quantiles, so it rewards "
            "narrow intervals only while they keep their coverage. alpha=none takes the widest "
            "symmetric pair of quantile columns (q5 and q95 if given). Needs MODEL.qNN columns."
        ),
    )
)

register(
    Loss(
        name="coverage",
        aliases=("interval_coverage", "picp"),
        task="regression",
        kernel=coverage,
        gradient=coverage_grad,
        nominal=nominal_coverage,
        pred_shape="quantiles",
        params=(_INTERVAL_ALPHA,),
        zero_at_perfect=False,
        formula="mean([l <= y <= u]), [l, u] the central (1 - alpha) interval",
        description="Share of targets inside the central interval; compare with its nominal 1 - alpha.",
        reference="the prediction interval coverage probability (PICP)",
        explain=(
            "The fraction of targets that fall inside the central interval between the quantiles "
            "alpha/2 and 1 - alpha/2. A calibrated model covers 1 - alpha of them (80% for "
            "q10..q90), and a note names the interval and its nominal level. Both under- and "
            "over-coverage are wrong, so tables rank models by their distance from the nominal "
            "level and mark the closest as best; interval_score weighs width against misses."
        ),
    )
)
