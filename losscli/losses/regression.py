"""Regression losses: per-row kernels over y_true, y_pred (r = y_pred - y_true)."""

from __future__ import annotations

import math

import numpy as np

from ._common import FLOAT64_EPS, LOG2, xlogy
from ._registry import (
    NON_NEGATIVE,
    POSITIVE,
    UNIT,
    FloatArray,
    Interval,
    Loss,
    Param,
    ParamValue,
    ValueDomain,
    register,
)

ABOVE_MINUS_ONE = Interval(-1.0, math.inf, low_closed=False)


# Losses of the residual alone: r = y_pred - y_true. The evaluator computes r once per
# block and hands it to every such loss (``residual_kernel``); the (y, p) kernels below
# are the same functions for callers that hold y and p.


def squared_residual(r: FloatArray) -> FloatArray:
    return r * r


def absolute_residual(r: FloatArray) -> FloatArray:
    return np.abs(r)


def huber_residual(r: FloatArray, *, delta: float) -> FloatArray:
    # 0.5 q^2 + delta (|r| - q), q = min(|r|, delta): the piecewise function without a branch.
    a = np.abs(r)
    q = np.minimum(a, delta)
    return 0.5 * q * q + delta * (a - q)


def smooth_l1_residual(r: FloatArray, *, beta: float) -> FloatArray:
    return huber_residual(r, delta=beta) / beta


def log_cosh_residual(r: FloatArray) -> FloatArray:
    a = np.abs(r)
    return a + np.log1p(np.exp(-2.0 * a)) - LOG2


def pinball_residual(r: FloatArray, *, alpha: float) -> FloatArray:
    # With d = y - p = -r: alpha max(d, 0) + (1 - alpha) max(-d, 0) = max(alpha d, (alpha - 1) d).
    return np.maximum(-alpha * r, (1.0 - alpha) * r)


def squared_error(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """(y_pred - y_true)^2; best value 0.

    >>> squared_error(np.array([1.0, 2.0]), np.array([1.5, 0.0])).tolist()
    [0.25, 4.0]
    """
    return squared_residual(y_pred - y_true)


def absolute_error(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """|y_pred - y_true|; best value 0.

    >>> absolute_error(np.array([1.0, 2.0]), np.array([1.5, 0.0])).tolist()
    [0.5, 2.0]
    """
    return absolute_residual(y_pred - y_true)


def huber(y_true: FloatArray, y_pred: FloatArray, *, delta: float) -> FloatArray:
    """0.5 r^2 if |r| <= delta else delta (|r| - 0.5 delta); best value 0.

    >>> huber(np.array([0.0, 0.0]), np.array([0.5, 3.0]), delta=1.0).tolist()
    [0.125, 2.5]
    """
    return huber_residual(y_pred - y_true, delta=delta)


def smooth_l1(y_true: FloatArray, y_pred: FloatArray, *, beta: float) -> FloatArray:
    """0.5 r^2 / beta if |r| < beta else |r| - 0.5 beta (torch); equals huber(delta=beta) / beta.

    >>> smooth_l1(np.array([0.0, 0.0]), np.array([0.5, 3.0]), beta=1.0).tolist()
    [0.125, 2.5]
    """
    return smooth_l1_residual(y_pred - y_true, beta=beta)


def log_cosh(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """log(cosh(r)), as |r| + log1p(exp(-2|r|)) - log 2 so it never overflows.

    >>> log_cosh(np.array([0.0, 0.0]), np.array([0.0, 1e300])).tolist()
    [0.0, 1e+300]
    """
    return log_cosh_residual(y_pred - y_true)


def pinball(y_true: FloatArray, y_pred: FloatArray, *, alpha: float) -> FloatArray:
    """alpha max(y - p, 0) + (1 - alpha) max(p - y, 0): scikit-learn's mean_pinball_loss.

    >>> pinball(np.array([1.0, 1.0]), np.array([0.0, 2.0]), alpha=0.9).round(12).tolist()
    [0.9, 0.1]
    """
    return pinball_residual(y_pred - y_true, alpha=alpha)


def absolute_percentage_error(y_true: FloatArray, y_pred: FloatArray, *, percent: bool) -> FloatArray:
    """|r| / max(|y|, eps) with float64 eps (scikit-learn); times 100 with percent=true (Keras).

    >>> absolute_percentage_error(np.array([2.0, 4.0]), np.array([1.0, 5.0]), percent=False).tolist()
    [0.5, 0.25]
    """
    ape = np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), FLOAT64_EPS)
    return ape * 100.0 if percent else ape


def symmetric_absolute_percentage_error(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """2 |r| / (|y| + |p|), in [0, 2]; a row with y = p = 0 counts as 0.

    >>> symmetric_absolute_percentage_error(np.array([1.0, 0.0]), np.array([3.0, 0.0])).tolist()
    [1.0, 0.0]
    """
    denominator = np.abs(y_true) + np.abs(y_pred)
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, 2.0 * np.abs(y_pred - y_true) / safe)


def squared_log_error(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """(log1p(p) - log1p(y))^2; defined for y, p > -1.

    >>> squared_log_error(np.array([0.0]), np.array([np.e - 1])).round(12).tolist()
    [1.0]
    """
    d = np.log1p(y_pred) - np.log1p(y_true)
    return d * d


def tweedie_deviance(y_true: FloatArray, y_pred: FloatArray, *, power: float) -> FloatArray:
    """The unit deviance of a Tweedie distribution, exactly as scikit-learn computes it.

    power 0 is the squared error, 1 Poisson, 2 Gamma; (0, 1) is not defined.

    >>> tweedie_deviance(np.array([2.0]), np.array([2.0]), power=1.5).tolist()
    [0.0]
    """
    p = power
    if p == 0:
        return squared_error(y_true, y_pred)
    if p == 1:
        return 2.0 * (xlogy(y_true, y_true / y_pred) - y_true + y_pred)
    if p == 2:
        return 2.0 * (np.log(y_pred / y_true) + y_true / y_pred - 1.0)
    y_pos = np.maximum(y_true, 0.0) if p < 0 else y_true
    return 2.0 * (
        np.power(y_pos, 2.0 - p) / ((1.0 - p) * (2.0 - p))
        - y_true * np.power(y_pred, 1.0 - p) / (1.0 - p)
        + np.power(y_pred, 2.0 - p) / (2.0 - p)
    )


def poisson_deviance(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """2 (y log(y / p) - y + p), 0 log 0 = 0; scikit-learn's mean_poisson_deviance."""
    return tweedie_deviance(y_true, y_pred, power=1.0)


def gamma_deviance(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """2 (log(p / y) + y / p - 1); scikit-learn's mean_gamma_deviance."""
    return tweedie_deviance(y_true, y_pred, power=2.0)


def _tweedie_domain(params: dict[str, ParamValue]) -> ValueDomain:
    power = float(params["power"])  # type: ignore[arg-type]
    if power < 0:
        return ValueDomain(pred=POSITIVE, why=f"tweedie with power={power:g}")
    if power == 0:
        return ValueDomain()
    if power < 2:
        return ValueDomain(target=NON_NEGATIVE, pred=POSITIVE, why=f"tweedie with power={power:g}")
    return ValueDomain(target=POSITIVE, pred=POSITIVE, why=f"tweedie with power={power:g}")


_LOG_DOMAIN = ValueDomain(target=ABOVE_MINUS_ONE, pred=ABOVE_MINUS_ONE, why="the log of 1 + value")

register(
    Loss(
        name="mse",
        aliases=("mean_squared_error", "l2"),
        task="regression",
        kernel=squared_error,
        residual_kernel=squared_residual,
        symmetric=True,
        formula="mean((y_pred - y_true)^2)",
        description="Mean squared error: punishes large errors, sensitive to outliers.",
        reference="scikit-learn mean_squared_error; torch mse_loss; Keras MeanSquaredError",
        explain=(
            "The mean of squared residuals. Squaring makes one error of 10 cost as much as "
            "a hundred errors of 1, so a few outliers can decide which model looks best. "
            "Its minimiser is the conditional mean. All three libraries agree."
        ),
    )
)

register(
    Loss(
        name="rmse",
        aliases=("root_mean_squared_error",),
        task="regression",
        kernel=squared_error,
        residual_kernel=squared_residual,
        finisher=math.sqrt,
        symmetric=True,
        formula="sqrt(mean((y_pred - y_true)^2))",
        description="Root mean squared error: MSE in the units of the target.",
        reference="scikit-learn root_mean_squared_error; Keras RootMeanSquaredError",
        explain=(
            "The square root of MSE, taken once after the (weighted) mean, not per row, "
            "so it ranks models exactly as MSE does but reads in the target's units."
        ),
    )
)

register(
    Loss(
        name="mae",
        aliases=("mean_absolute_error", "l1"),
        task="regression",
        kernel=absolute_error,
        residual_kernel=absolute_residual,
        symmetric=True,
        formula="mean(|y_pred - y_true|)",
        description="Mean absolute error: robust to outliers, in the target's units.",
        reference="scikit-learn mean_absolute_error; torch l1_loss; Keras MeanAbsoluteError",
        explain=(
            "The mean of absolute residuals. Every unit of error costs the same, so an "
            "outlier counts in proportion to its size rather than its square. Its "
            "minimiser is the conditional median."
        ),
    )
)

register(
    Loss(
        name="huber",
        task="regression",
        kernel=huber,
        residual_kernel=huber_residual,
        params=(Param("delta", 1.0, "where the loss turns from quadratic to linear", domain=POSITIVE),),
        symmetric=True,
        formula="mean(0.5 r^2 if |r| <= delta else delta (|r| - 0.5 delta)), r = y_pred - y_true",
        description="Huber loss: quadratic for small errors, linear beyond delta.",
        reference="torch huber_loss; Keras Huber (same definition, delta=1 by default)",
        explain=(
            "Quadratic near zero like MSE, linear beyond delta like MAE (scaled by delta), "
            "so it is smooth at zero yet robust to outliers. torch smooth_l1_loss(beta) "
            "equals huber(delta=beta) / beta; see smooth_l1."
        ),
    )
)

register(
    Loss(
        name="smooth_l1",
        task="regression",
        kernel=smooth_l1,
        residual_kernel=smooth_l1_residual,
        params=(Param("beta", 1.0, "where the loss turns from quadratic to linear", domain=POSITIVE),),
        symmetric=True,
        formula="mean(0.5 r^2 / beta if |r| < beta else |r| - 0.5 beta)",
        description="Smooth L1 loss: Huber divided by beta, so its linear part has slope 1.",
        reference="torch smooth_l1_loss",
        explain=(
            "torch's smooth L1: quadratic below beta and exactly |r| - beta/2 above, so for "
            "large errors it equals MAE shifted by a constant. It is huber(delta=beta) / beta; "
            "with beta = 1 the two coincide."
        ),
    )
)

register(
    Loss(
        name="log_cosh",
        aliases=("logcosh",),
        task="regression",
        kernel=log_cosh,
        residual_kernel=log_cosh_residual,
        symmetric=True,
        formula="mean(log(cosh(r))), computed as |r| + log1p(exp(-2|r|)) - log 2",
        description="Log-cosh: about r^2 / 2 for small errors and |r| - log 2 for large ones.",
        reference="Keras LogCosh (same formula, computed here without overflow)",
        explain=(
            "Behaves like half the squared error near zero and like the absolute error far "
            "from it, and is twice differentiable everywhere. cosh overflows for |r| > 710, "
            "so losscli uses the identity above: finite and exact for |r| up to 1e300."
        ),
    )
)

register(
    Loss(
        name="quantile",
        aliases=("pinball", "pinball_loss", "mean_pinball_loss"),
        task="regression",
        kernel=pinball,
        residual_kernel=pinball_residual,
        params=(Param("alpha", 0.5, "the quantile the predictions target", domain=UNIT),),
        formula="mean(alpha max(y - p, 0) + (1 - alpha) max(p - y, 0))",
        description="Quantile (pinball) loss: scores predictions of the alpha-quantile.",
        reference="scikit-learn mean_pinball_loss",
        explain=(
            "Under-prediction costs alpha per unit, over-prediction 1 - alpha, so the "
            "minimiser is the alpha-quantile. alpha = 0.5 is half the MAE. torch has no "
            "built-in; the usual hand-written torch version is the same formula."
        ),
    )
)

register(
    Loss(
        name="mape",
        aliases=("mean_absolute_percentage_error",),
        task="regression",
        kernel=absolute_percentage_error,
        params=(Param("percent", False, "report percent (x 100), as Keras does", kind="bool"),),
        formula="mean(|p - y| / max(|y|, eps)), eps = float64 machine epsilon",
        description="Mean absolute percentage error, as a fraction (percent=true for %).",
        reference="scikit-learn mean_absolute_percentage_error (fraction); Keras MAPE is percent",
        explain=(
            "The error relative to the size of the target. scikit-learn returns a fraction "
            "(0.25 is 25%) and guards y = 0 with float64 epsilon, so a zero target gives a "
            "huge but finite value; Keras returns percent and clips |y| at 1e-7. "
            "percent=true multiplies by 100. Asymmetric: over-predictions cost more."
        ),
    )
)

register(
    Loss(
        name="smape",
        aliases=("symmetric_mean_absolute_percentage_error",),
        task="regression",
        kernel=symmetric_absolute_percentage_error,
        symmetric=True,
        formula="mean(2 |p - y| / (|y| + |p|)), a row with y = p = 0 counts as 0",
        description="Symmetric MAPE in its 0..2 form.",
        reference="the 0..2 form (no 100x); neither scikit-learn nor torch has it",
        explain=(
            "Divides by the mean of |y| and |p| rather than |y|, so it is bounded by 2 and "
            "treats over- and under-prediction alike. Some texts multiply by 100 or halve "
            "the denominator differently; losscli uses 2|r| / (|y| + |p|), 0/0 counted as 0."
        ),
    )
)

register(
    Loss(
        name="msle",
        aliases=("mean_squared_log_error",),
        task="regression",
        kernel=squared_log_error,
        value_domain=lambda params: _LOG_DOMAIN,
        symmetric=True,
        formula="mean((log(1 + p) - log(1 + y))^2)",
        description="Mean squared logarithmic error: relative errors, for targets > -1.",
        reference="scikit-learn mean_squared_log_error; Keras MeanSquaredLogarithmicError",
        explain=(
            "Squared error between log(1 + value)s, so it measures ratios rather than "
            "differences and punishes under-prediction more than over-prediction. Values "
            "<= -1 are an error, as in scikit-learn."
        ),
    )
)

register(
    Loss(
        name="rmsle",
        aliases=("root_mean_squared_log_error",),
        task="regression",
        kernel=squared_log_error,
        finisher=math.sqrt,
        value_domain=lambda params: _LOG_DOMAIN,
        symmetric=True,
        formula="sqrt(mean((log(1 + p) - log(1 + y))^2))",
        description="Root mean squared logarithmic error.",
        reference="scikit-learn root_mean_squared_log_error",
        explain="The square root of MSLE, taken after the mean; ranks models as MSLE does.",
    )
)

register(
    Loss(
        name="poisson",
        aliases=("poisson_deviance", "mean_poisson_deviance"),
        task="regression",
        kernel=poisson_deviance,
        value_domain=lambda params: ValueDomain(target=NON_NEGATIVE, pred=POSITIVE, why="poisson"),
        formula="mean(2 (y log(y / p) - y + p)), 0 log 0 = 0",
        description="Mean Poisson deviance: for counts, targets >= 0, predictions > 0.",
        reference="scikit-learn mean_poisson_deviance; Keras Poisson is p - y log p (a different quantity)",
        explain=(
            "The deviance of a Poisson model: the natural loss for counts and rates. "
            "Keras Poisson and torch poisson_nll_loss compute the negative log-likelihood "
            "p - y log p instead, which differs from the deviance by a term that depends "
            "only on y, so model rankings agree but values do not."
        ),
    )
)

register(
    Loss(
        name="gamma",
        aliases=("gamma_deviance", "mean_gamma_deviance"),
        task="regression",
        kernel=gamma_deviance,
        value_domain=lambda params: ValueDomain(target=POSITIVE, pred=POSITIVE, why="gamma"),
        formula="mean(2 (log(p / y) + y / p - 1))",
        description="Mean Gamma deviance: for positive skewed targets; scale-invariant.",
        reference="scikit-learn mean_gamma_deviance",
        explain=(
            "The deviance of a Gamma model. It depends only on the ratio y / p, so an error "
            "of 10% costs the same at 1 and at 1000. Targets and predictions must be > 0."
        ),
    )
)

register(
    Loss(
        name="tweedie",
        aliases=("tweedie_deviance", "mean_tweedie_deviance"),
        task="regression",
        kernel=tweedie_deviance,
        params=(
            Param(
                "power",
                0.0,
                "Tweedie power: 0 normal (squared error), 1 Poisson, 2 Gamma, 3 inverse Gaussian",
                forbidden=Interval(0.0, 1.0, low_closed=False, high_closed=False),
            ),
        ),
        value_domain=_tweedie_domain,
        formula="mean(2 (y^(2-q) / ((1-q)(2-q)) - y p^(1-q) / (1-q) + p^(2-q) / (2-q))), q = power",
        description="Mean Tweedie deviance with the given power.",
        reference="scikit-learn mean_tweedie_deviance",
        explain=(
            "A family that holds squared error (power 0), Poisson (1), Gamma (2) and inverse "
            "Gaussian (3) deviances; 1 < power < 2 suits zero-inflated positive data such as "
            "insurance claims. Domains follow scikit-learn: power < 0 needs p > 0; "
            "1 <= power < 2 needs y >= 0 and p > 0; power >= 2 needs y > 0 and p > 0; "
            "powers in (0, 1) are not defined."
        ),
    )
)
