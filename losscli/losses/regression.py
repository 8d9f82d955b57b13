"""Regression losses: per-row kernels over y_true, y_pred (r = y_pred - y_true)."""

from __future__ import annotations

import math

import numpy as np

from ._block import Block, Rows, materialize
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
    Skill,
    ValueDomain,
    register,
)

ABOVE_MINUS_ONE = Interval(-1.0, math.inf, low_closed=False)


# Losses of the residual alone: r = y_pred - y_true. Each is written once, as a block form
# (``block_kernel``): the evaluator computes r, |r| and r^2 once per block for every model and
# loss and hands the block to each, whose values go into buffers reused from block to block
# (see _block.py). The per-row residual kernels are the block forms on a block of one residual,
# and the (y, p) kernels below are the same functions for callers that hold y and p.


def squared_block(b: Block) -> Rows:
    return b.square, 1.0


def absolute_block(b: Block) -> Rows:
    return b.abs, 1.0


def huber_block(b: Block, *, delta: float) -> Rows:
    # q (|r| - q / 2), q = min(|r|, delta): 0.5 r^2 inside delta, delta (|r| - delta / 2) beyond, without
    # a branch, in four passes and one rounding fewer than 0.5 q^2 + delta (|r| - q).
    a, q, out = b.abs, b.buffer(), b.buffer()
    np.minimum(a, delta, out=q)
    np.multiply(q, -0.5, out=out)
    out += a
    out *= q
    return out, 1.0


def smooth_l1_block(b: Block, *, beta: float) -> Rows:
    # torch: beta = 0 is exactly the L1 loss (the quadratic zone has shrunk to nothing).
    if not beta:
        return b.abs, 1.0
    values, _ = huber_block(b, delta=beta)
    return values, 1.0 / beta


# Beyond this |r|, log cosh r is |r| - log 2 to the last digit (the rest, log1p(exp(-2|r|)),
# is below 1e-17).
LOG_COSH_LINEAR = 20.0


def log_cosh_block(b: Block) -> Rows:
    # log cosh r = log1p(cosh r - 1), and cosh r - 1 = m^2 / (2 (1 + m)) with m = expm1(|r|):
    # nothing cancels near 0, where |r| + log1p(exp(-2|r|)) - log 2 kept no digit below 1e-8.
    # Past LOG_COSH_LINEAR it is |r| - log 2, so m never overflows.
    a, m, out = b.abs, b.buffer(), b.buffer()
    np.minimum(a, LOG_COSH_LINEAR, out=m)
    np.expm1(m, out=m)
    np.add(m, 1.0, out=out)
    out *= 2.0
    m *= m
    np.divide(m, out, out=out)
    np.log1p(out, out=out)
    np.subtract(a, LOG2, out=out, where=a > LOG_COSH_LINEAR)
    return out, 1.0


def pinball_block(b: Block, *, alpha: float) -> Rows:
    if alpha == 0.5:  # max(-r/2, r/2) is |r| / 2 exactly: the block's |r|, its sums for free
        return b.abs, 0.5
    # With d = y - p = -r: alpha max(d, 0) + (1 - alpha) max(-d, 0) = max(alpha d, (alpha - 1) d).
    r, out, other = b.residual, b.buffer(), b.buffer()
    np.multiply(r, -alpha, out=out)
    np.multiply(r, 1.0 - alpha, out=other)
    np.maximum(out, other, out=out)
    return out, 1.0


def squared_residual(r: FloatArray) -> FloatArray:
    return materialize(squared_block(Block.of_residual(r)))


def absolute_residual(r: FloatArray) -> FloatArray:
    return materialize(absolute_block(Block.of_residual(r)))


def huber_residual(r: FloatArray, *, delta: float) -> FloatArray:
    return materialize(huber_block(Block.of_residual(r), delta=delta))


def smooth_l1_residual(r: FloatArray, *, beta: float) -> FloatArray:
    return materialize(smooth_l1_block(Block.of_residual(r), beta=beta))


def log_cosh_residual(r: FloatArray) -> FloatArray:
    return materialize(log_cosh_block(Block.of_residual(r)))


def pinball_residual(r: FloatArray, *, alpha: float) -> FloatArray:
    return materialize(pinball_block(Block.of_residual(r), alpha=alpha))


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
    """0.5 r^2 / beta if |r| < beta else |r| - 0.5 beta (torch); equals huber(delta=beta) / beta, |r| at beta=0.

    >>> smooth_l1(np.array([0.0, 0.0]), np.array([0.5, 3.0]), beta=1.0).tolist()
    [0.125, 2.5]
    """
    return smooth_l1_residual(y_pred - y_true, beta=beta)


def log_cosh(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """log(cosh(r)), as log1p(m^2 / (2 + 2m)) with m = expm1(|r|) (exact near 0), and |r| - log 2
    past |r| = 20 (so it never overflows).

    >>> log_cosh(np.array([0.0, 0.0, 0.0]), np.array([0.0, 1e-10, 1e300])).tolist()
    [0.0, 5e-21, 1e+300]
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
    # log1p(p) - log1p(y) = log1p((p - y) / (1 + y)): the difference of two logs cancels as p
    # nears y (8 digits left at p = y (1 + 1e-8)); p - y and 1 + y are exact there.
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log1p((y_pred - y_true) / (1.0 + y_true))
    d = np.where(np.isfinite(d), d, np.log1p(y_pred) - np.log1p(y_true))
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
    if p == 1:  # y log(y/p) - y + p = y phi((p - y) / y) near p = y; scikit-learn's form elsewhere
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = (y_pred - y_true) / np.where(y_true > 0, y_true, 1.0)
            # Far from p = y (p/y below 1e-16 rounds x to -1, or overflows it) the form
            # scikit-learn writes has no cancellation left to avoid.
            far = xlogy(y_true, y_true / y_pred) - y_true + y_pred
            scaled = np.where(np.abs(x) < _PHI_SERIES, y_true * _x_minus_log1p(x), far)
        return 2.0 * np.where(y_true > 0, scaled, y_pred - xlogy(y_true, y_true))
    if p == 2:  # log(p/y) + y/p - 1 = phi((y - p) / p) near p = y; scikit-learn's form elsewhere
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = (y_true - y_pred) / y_pred
            far = np.log(y_pred / y_true) + y_true / y_pred - 1.0
            return 2.0 * np.where(np.abs(x) < _PHI_SERIES, _x_minus_log1p(x), far)
    y_pos = np.maximum(y_true, 0.0) if p < 0 else y_true
    return 2.0 * (
        np.power(y_pos, 2.0 - p) / ((1.0 - p) * (2.0 - p))
        - y_true * np.power(y_pred, 1.0 - p) / (1.0 - p)
        + np.power(y_pred, 2.0 - p) / (2.0 - p)
    )


# Below this |x|, x - log1p(x) is taken from its series in u = x / (2 + x) (|u| < 1/7).
_PHI_SERIES = 0.25


def _x_minus_log1p(x: FloatArray) -> FloatArray:
    """x - log1p(x) for x > -1, to the last digits near 0, where the two cancel (a model within
    1e-4 of the target kept 8 digits of its Poisson or Gamma deviance, written as scikit-learn's).

    With u = x / (2 + x), log1p(x) = 2 atanh(u) = 2 (u + u^3/3 + u^5/5 + ...) and x - 2u = x^2 / (2 + x).

    >>> [float(f"{v:.12g}") for v in _x_minus_log1p(np.array([1e-10, 1.0]))]  # x^2/2 - x^3/3 ..., 1 - log 2
    [4.99999999967e-21, 0.30685281944]
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        direct = x - np.log1p(x)
        u = x / (2.0 + x)
        u2 = u * u
        series: FloatArray = np.full_like(u2, 1.0 / 19.0)
        for k in (17, 15, 13, 11, 9, 7, 5, 3):
            series = 1.0 / k + u2 * series
        near = x * x / (2.0 + x) - 2.0 * u * u2 * series
    out: FloatArray = np.where(np.abs(x) < _PHI_SERIES, near, direct)
    return out


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


# --- gradients: d loss / d y_pred, row by row (a subgradient at kinks) -----------------------


def squared_error_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """2 r: grows without bound, so one outlier can steer a fit."""
    return 2.0 * (y_pred - y_true)


def absolute_error_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """sign(r): every row pulls with the same force."""
    return np.sign(y_pred - y_true)


def huber_grad(y_true: FloatArray, y_pred: FloatArray, *, delta: float) -> FloatArray:
    """r clipped to [-delta, delta]: bounded by delta, hence robust."""
    return np.clip(y_pred - y_true, -delta, delta)


def smooth_l1_grad(y_true: FloatArray, y_pred: FloatArray, *, beta: float) -> FloatArray:
    r = y_pred - y_true
    return np.clip(r, -beta, beta) / beta if beta else np.sign(r)


def log_cosh_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    return np.tanh(y_pred - y_true)


def pinball_grad(y_true: FloatArray, y_pred: FloatArray, *, alpha: float) -> FloatArray:
    return np.where(y_pred > y_true, 1.0 - alpha, -alpha)


def absolute_percentage_error_grad(y_true: FloatArray, y_pred: FloatArray, *, percent: bool) -> FloatArray:
    g = np.sign(y_pred - y_true) / np.maximum(np.abs(y_true), FLOAT64_EPS)
    return g * 100.0 if percent else g


def symmetric_absolute_percentage_error_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    # d/dp of 2|r| / (|y| + |p|) = 2 (sign(r) (|y| + |p|) - |r| sign(p)) / (|y| + |p|)^2
    r = y_pred - y_true
    den = np.abs(y_true) + np.abs(y_pred)
    safe = np.where(den == 0, 1.0, den)
    return np.where(den == 0, 0.0, 2.0 * (np.sign(r) * den - np.abs(r) * np.sign(y_pred)) / (safe * safe))


def squared_log_error_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    return 2.0 * (np.log1p(y_pred) - np.log1p(y_true)) / (1.0 + y_pred)


def tweedie_deviance_grad(y_true: FloatArray, y_pred: FloatArray, *, power: float) -> FloatArray:
    """2 (p - y) p^-power for every power: 2 r (normal), 2 r / p (Poisson), 2 r / p^2 (Gamma)."""
    return 2.0 * (y_pred - y_true) * np.power(y_pred, -power) if power else 2.0 * (y_pred - y_true)


def poisson_deviance_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    return tweedie_deviance_grad(y_true, y_pred, power=1.0)


def gamma_deviance_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    return tweedie_deviance_grad(y_true, y_pred, power=2.0)


def pinball_set(y_true: FloatArray, y_pred: FloatArray, *, levels: FloatArray) -> FloatArray:
    """mean_j pinball_{tau_j}(y, q_j): the pinball loss averaged over the quantiles given.

    >>> pinball_set(np.array([1.0]), np.array([[0.0, 1.0, 2.0]]), levels=np.array([0.1, 0.5, 0.9])).round(12).tolist()
    [0.066666666667]
    """
    d = y_true[:, None] - y_pred  # > 0: under-predicted
    tau = np.asarray(levels)[None, :]
    return np.maximum(tau * d, (tau - 1.0) * d).mean(axis=1)


def pinball_set_grad(y_true: FloatArray, y_pred: FloatArray, *, levels: FloatArray) -> FloatArray:
    tau = np.asarray(levels)[None, :]
    return np.where(y_pred > y_true[:, None], 1.0 - tau, -tau) / y_pred.shape[1]


_LOG_DOMAIN = ValueDomain(target=ABOVE_MINUS_ONE, pred=ABOVE_MINUS_ONE, why="the log of 1 + value")

register(
    Loss(
        name="mse",
        aliases=("mean_squared_error", "l2"),
        task="regression",
        kernel=squared_error,
        gradient=squared_error_grad,
        residual_kernel=squared_residual,
        block_kernel=squared_block,
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
        gradient=squared_error_grad,
        residual_kernel=squared_residual,
        block_kernel=squared_block,
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
        gradient=absolute_error_grad,
        residual_kernel=absolute_residual,
        block_kernel=absolute_block,
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
        gradient=huber_grad,
        residual_kernel=huber_residual,
        block_kernel=huber_block,
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
        gradient=smooth_l1_grad,
        residual_kernel=smooth_l1_residual,
        block_kernel=smooth_l1_block,
        params=(
            Param("beta", 1.0, "where the loss turns from quadratic to linear (0: exactly L1)", domain=NON_NEGATIVE),
        ),
        symmetric=True,
        formula="mean(0.5 r^2 / beta if |r| < beta else |r| - 0.5 beta); beta = 0: mean(|r|)",
        description="Smooth L1 loss: Huber divided by beta, so its linear part has slope 1.",
        reference="torch smooth_l1_loss",
        explain=(
            "torch's smooth L1: quadratic below beta and exactly |r| - beta/2 above, so for "
            "large errors it equals MAE shifted by a constant. It is huber(delta=beta) / beta; "
            "with beta = 1 the two coincide. beta = 0 is exactly the L1 loss (mae), as torch "
            "defines it."
        ),
    )
)

register(
    Loss(
        name="log_cosh",
        aliases=("logcosh",),
        task="regression",
        kernel=log_cosh,
        gradient=log_cosh_grad,
        residual_kernel=log_cosh_residual,
        block_kernel=log_cosh_block,
        symmetric=True,
        formula="mean(log(cosh(r))), computed as log1p(m^2 / (2 + 2m)), m = expm1(|r|); |r| - log 2 past |r| = 20",
        description="Log-cosh: about r^2 / 2 for small errors and |r| - log 2 for large ones.",
        reference="Keras LogCosh (same formula, computed here without overflow)",
        explain=(
            "Behaves like half the squared error near zero and like the absolute error far "
            "from it, and is twice differentiable everywhere. cosh overflows for |r| > 710, "
            "and |r| + log1p(exp(-2|r|)) - log 2 cancels for small |r| (no digit left below "
            "1e-8), so losscli uses the identity above: finite and exact to the last digits "
            "for |r| from 1e-150 to 1e300."
        ),
    )
)

register(
    Loss(
        name="quantile",
        aliases=("pinball", "pinball_loss", "mean_pinball_loss"),
        task="regression",
        kernel=pinball,
        gradient=pinball_grad,
        residual_kernel=pinball_residual,
        block_kernel=pinball_block,
        on_quantiles=pinball_set,
        on_quantiles_gradient=pinball_set_grad,
        params=(Param("alpha", 0.5, "the quantile the predictions target", domain=UNIT),),
        formula="mean(alpha max(y - p, 0) + (1 - alpha) max(p - y, 0))",
        description="Quantile (pinball) loss: scores predictions of the alpha-quantile.",
        reference="scikit-learn mean_pinball_loss",
        explain=(
            "Under-prediction costs alpha per unit, over-prediction 1 - alpha, so the "
            "minimiser is the alpha-quantile. alpha = 0.5 is half the MAE. torch has no "
            "built-in; the usual hand-written torch version is the same formula. On a model of "
            "quantile columns (MODEL.q10, MODEL.q50, ...) it is the pinball loss averaged over the "
            "levels given, each column with its own level as alpha (then alpha is not given)."
        ),
    )
)

register(
    Loss(
        name="mape",
        aliases=("mean_absolute_percentage_error",),
        task="regression",
        kernel=absolute_percentage_error,
        gradient=absolute_percentage_error_grad,
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
        gradient=symmetric_absolute_percentage_error_grad,
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
        gradient=squared_log_error_grad,
        value_domain=lambda params: _LOG_DOMAIN,
        symmetric=True,
        formula="mean((log(1 + p) - log(1 + y))^2)",
        description="Mean squared logarithmic error: relative errors, for targets > -1.",
        reference="scikit-learn mean_squared_log_error; Keras MeanSquaredLogarithmicError",
        explain=(
            "Squared error between log(1 + value)s, so it measures ratios rather than "
            "differences and punishes under-prediction more than over-prediction. Values "
            "<= -1 are an error, as in scikit-learn. Keras MeanSquaredLogarithmicError "
            "instead clips y and p at 1e-7 (max(value, 1e-7)) before the log, so it never "
            "refuses anything but silently scores every negative value as 1e-7: on data with "
            "values below 0 Keras and losscli differ, and losscli says so with an error."
        ),
    )
)

register(
    Loss(
        name="rmsle",
        aliases=("root_mean_squared_log_error",),
        task="regression",
        kernel=squared_log_error,
        gradient=squared_log_error_grad,
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
        gradient=poisson_deviance_grad,
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
        gradient=gamma_deviance_grad,
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
        gradient=tweedie_deviance_grad,
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


# --- D2 skill scores: 1 - dev(model) / dev(best constant), as scikit-learn's d2_*_score -------
# The per-row kernel is the deviance; its weighted mean is mergeable as any loss's. The
# reference (the mean deviance of the best constant prediction) comes from the Skill.


def _tweedie_target_stats(y_true: FloatArray, *, power: float) -> FloatArray:
    """Per-row statistics whose weighted means give the deviance of the constant mean(y)."""
    if power == 0:
        second = y_true * y_true
    elif power == 1:
        second = xlogy(y_true, y_true)
    elif power == 2:
        second = np.log(y_true)
    else:
        second = np.power(np.maximum(y_true, 0.0) if power < 0 else y_true, 2.0 - power)
    return np.column_stack([y_true, second])


def _tweedie_reference(means: FloatArray, *, power: float) -> float:
    """Mean Tweedie deviance of the constant m = weighted mean(y), from the target's moments.

    The deviance against a constant is linear in mean(y) and mean(f(y)), so it merges
    exactly: 2 (E[f] / ((1-q)(2-q)) - E[y] m^(1-q) / (1-q) + m^(2-q) / (2-q)), and the
    limits at q = 0, 1, 2 (variance, 2 (E[y log y] - m log m), 2 (log m - E[log y])).
    """
    m, f = float(means[0]), float(means[1])
    q = power
    if q == 0:
        return max(f - m * m, 0.0)  # E[y^2] - m^2 cannot be negative but for rounding
    if q == 1:
        return 2.0 * (f - (m * math.log(m) if m > 0 else 0.0))
    if q == 2:
        return 2.0 * (math.log(m) - f)
    return 2.0 * (f / ((1.0 - q) * (2.0 - q)) - m ** (2.0 - q) / (1.0 - q) + m ** (2.0 - q) / (2.0 - q))


def _pinball_reference(y_true: FloatArray, weight: FloatArray, *, alpha: float) -> float:
    """Mean pinball loss of the best constant: a weighted alpha-quantile of y.

    Every alpha-quantile minimises the weighted pinball loss and gives the same
    minimum, so the inverted-CDF quantile here agrees with scikit-learn's averaged one.
    """
    order = np.argsort(y_true, kind="stable")
    y, w = y_true[order], weight[order]
    cdf = np.cumsum(w)
    total = float(cdf[-1])
    c = y[min(int(np.searchsorted(cdf, alpha * total, side="left")), len(y) - 1)]
    return float(np.dot(w, pinball_residual(c - y, alpha=alpha)) / total)


def _absolute_reference(y_true: FloatArray, weight: FloatArray) -> float:
    return 2.0 * _pinball_reference(y_true, weight, alpha=0.5)


def _d2_finish_note(what: str) -> str:
    return (
        f"1 - mean {what}(model) / mean {what}(best constant). 1 is perfect, 0 is no better than "
        "always predicting the best constant, negative is worse. Higher is better: tables rank it "
        "descending and --baseline calls a larger value better. A zero reference (a constant "
        "target) gives 1 for perfect predictions and 0 otherwise, as scikit-learn's force_finite "
        "(scikit-learn's d2_tweedie_score divides by zero there instead)."
    )


register(
    Loss(
        name="d2_tweedie",
        aliases=("d2_tweedie_score", "d2"),
        task="regression",
        kernel=tweedie_deviance,
        gradient=tweedie_deviance_grad,
        params=(
            Param(
                "power",
                0.0,
                "Tweedie power of the deviance: 0 gives R^2, 1 Poisson, 2 Gamma",
                forbidden=Interval(0.0, 1.0, low_closed=False, high_closed=False),
            ),
        ),
        value_domain=_tweedie_domain,
        skill=Skill(stats=_tweedie_target_stats, reference=_tweedie_reference),
        higher_is_better=True,
        nonnegative=False,
        zero_at_perfect=False,
        formula="1 - sum(w dev(y, p)) / sum(w dev(y, mean_w(y))), dev the Tweedie deviance",
        description="D2 Tweedie skill score: the share of Tweedie deviance explained (R^2 at power 0).",
        reference="scikit-learn d2_tweedie_score",
        explain=(
            "The fraction of the Tweedie deviance (with the given power) explained, relative to "
            "always predicting the weighted mean of the target; power 0 is the R^2 score. "
            + _d2_finish_note("deviance")
            + " The reference is exact and streams: the deviance of a constant depends on the "
            "target only through the weighted means of y and one function of y, which merge "
            "across chunks like any loss (at power 0, E[y^2] - E[y]^2 loses digits when the "
            "target's spread is tiny next to its mean). --ci replicates those means too, so each "
            "bootstrap replicate is the D2 of its reweighted rows."
        ),
    )
)

register(
    Loss(
        name="d2_absolute_error",
        aliases=("d2_absolute_error_score", "d2_mae"),
        task="regression",
        kernel=absolute_error,
        gradient=absolute_error_grad,
        skill=Skill(exact_reference=_absolute_reference),
        higher_is_better=True,
        nonnegative=False,
        zero_at_perfect=False,
        symmetric=False,
        formula="1 - sum(w |y - p|) / sum(w |y - median_w(y)|)",
        description="D2 absolute error skill score: the share of absolute error explained by the model.",
        reference="scikit-learn d2_absolute_error_score",
        explain=(
            "The fraction of absolute error explained, relative to always predicting the weighted "
            "median of the target. "
            + _d2_finish_note("absolute error")
            + " The median has no mergeable summary, so this score keeps the target and weight of "
            "every row (16 bytes a row, per model and loss) and finds the median when it "
            "finishes: exact, but memory grows with the file. --ci is refused for it (each "
            "replicate would need its own weighted median)."
        ),
    )
)

register(
    Loss(
        name="d2_pinball",
        aliases=("d2_pinball_score", "d2_quantile"),
        task="regression",
        kernel=pinball,
        gradient=pinball_grad,
        params=(Param("alpha", 0.5, "the quantile the predictions target", domain=UNIT),),
        skill=Skill(exact_reference=_pinball_reference),
        higher_is_better=True,
        nonnegative=False,
        zero_at_perfect=False,
        formula="1 - sum(w pinball_alpha(y, p)) / sum(w pinball_alpha(y, quantile_w(y, alpha)))",
        description="D2 pinball skill score: the share of pinball loss explained, for quantile predictions.",
        reference="scikit-learn d2_pinball_score",
        explain=(
            "The fraction of pinball loss explained, relative to always predicting the weighted "
            "alpha-quantile of the target (alpha = 0.5 is d2_absolute_error). "
            + _d2_finish_note("pinball loss")
            + " Any alpha-quantile gives the same reference value, so losscli's inverted-CDF "
            "quantile agrees with scikit-learn's averaged one. Like d2_absolute_error it keeps the "
            "targets (16 bytes a row) to find the quantile: exact, memory grows with the file."
        ),
    )
)
