"""Regression losses: per-row kernels over the residual r = y_pred - y_true."""

from __future__ import annotations

import math

import numpy as np

from ._registry import POSITIVE, FloatArray, Loss, Param, register


def squared_error(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """(y_pred - y_true)^2; best value 0.

    >>> squared_error(np.array([1.0, 2.0]), np.array([1.5, 0.0])).tolist()
    [0.25, 4.0]
    """
    r = y_pred - y_true
    return r * r


def absolute_error(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """|y_pred - y_true|; best value 0.

    >>> absolute_error(np.array([1.0, 2.0]), np.array([1.5, 0.0])).tolist()
    [0.5, 2.0]
    """
    return np.abs(y_pred - y_true)


def huber(y_true: FloatArray, y_pred: FloatArray, *, delta: float) -> FloatArray:
    """0.5 r^2 if |r| <= delta else delta (|r| - 0.5 delta); best value 0.

    Written as 0.5 q^2 + delta (|r| - q) with q = min(|r|, delta): the same
    piecewise function without a branch or a second full-length temporary.

    >>> huber(np.array([0.0, 0.0]), np.array([0.5, 3.0]), delta=1.0).tolist()
    [0.125, 2.5]
    """
    a = np.abs(y_pred - y_true)
    q = np.minimum(a, delta)
    return 0.5 * q * q + delta * (a - q)


MSE = register(
    Loss(
        name="mse",
        aliases=("mean_squared_error", "l2"),
        task="regression",
        kernel=squared_error,
        formula="mean((y_pred - y_true)^2)",
        description="Mean squared error: punishes large errors, sensitive to outliers.",
        reference="scikit-learn mean_squared_error; torch mse_loss; Keras MeanSquaredError",
        explain=(
            "The mean of squared residuals. Squaring makes one error of 10 cost as much as "
            "a hundred errors of 1, so a few outliers can decide which model looks best. "
            "It is the loss whose minimiser is the conditional mean."
        ),
    )
)

RMSE = register(
    Loss(
        name="rmse",
        aliases=("root_mean_squared_error",),
        task="regression",
        kernel=squared_error,
        finisher=math.sqrt,
        formula="sqrt(mean((y_pred - y_true)^2))",
        description="Root mean squared error: MSE in the units of the target.",
        reference="scikit-learn root_mean_squared_error",
        explain=(
            "The square root of MSE, taken once after the (weighted) mean, not per row, "
            "so it ranks models exactly as MSE does but reads in the target's units."
        ),
    )
)

MAE = register(
    Loss(
        name="mae",
        aliases=("mean_absolute_error", "l1"),
        task="regression",
        kernel=absolute_error,
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

HUBER = register(
    Loss(
        name="huber",
        task="regression",
        kernel=huber,
        params=(Param("delta", 1.0, "where the loss turns from quadratic to linear", domain=POSITIVE),),
        formula="mean(0.5 r^2 if |r| <= delta else delta (|r| - 0.5 delta)), r = y_pred - y_true",
        description="Huber loss: quadratic for small errors, linear beyond delta.",
        reference="torch huber_loss; Keras Huber (same definition, delta=1 by default)",
        explain=(
            "Quadratic near zero like MSE, linear beyond delta like MAE (scaled by delta), "
            "so it is smooth at zero yet robust to outliers. torch smooth_l1_loss(beta) "
            "equals huber(delta=beta) / beta."
        ),
    )
)
