"""Independent reference values: scikit-learn where it has the loss, a formula
written out here otherwise. Nothing in this file calls losscli.

Each entry maps a registry name to a function (y_true, y_pred, sample_weight,
**params) -> float. The completeness test fails if a registered loss has no
entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics

Reference = Callable[..., float]


def _wmean(values: np.ndarray, w: np.ndarray | None) -> float:
    return float(np.average(values, weights=w))


def huber_by_hand(y: np.ndarray, p: np.ndarray, w: np.ndarray | None, delta: float = 1.0) -> float:
    r = np.abs(p - y)
    per_row = np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))
    return _wmean(per_row, w)


def hinge_sklearn(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
    return float(metrics.hinge_loss(np.where(y > 0, 1, -1), p, sample_weight=w))


def bce_sklearn(y: np.ndarray, p: np.ndarray, w: np.ndarray | None, eps: Any = "auto") -> float:
    if eps != "auto":
        # scikit-learn no longer takes eps; clip by hand as it does with machine eps.
        p = np.clip(p, eps, 1 - eps)
    return float(metrics.log_loss(y, p, sample_weight=w, labels=[0, 1]))


def cce_sklearn(y: np.ndarray, p: np.ndarray, w: np.ndarray | None, eps: Any = "auto") -> float:
    if eps != "auto":
        # By hand: -log of the clipped true-class probability.
        return _wmean(-np.log(np.clip(p[np.arange(len(y)), y], eps, 1 - eps)), w)
    return float(metrics.log_loss(y, p, sample_weight=w, labels=list(range(p.shape[1]))))


REFERENCES: dict[str, Reference] = {
    "mse": lambda y, p, w: float(metrics.mean_squared_error(y, p, sample_weight=w)),
    "rmse": lambda y, p, w: float(metrics.root_mean_squared_error(y, p, sample_weight=w)),
    "mae": lambda y, p, w: float(metrics.mean_absolute_error(y, p, sample_weight=w)),
    "huber": huber_by_hand,
    "bce": bce_sklearn,
    "hinge": hinge_sklearn,
    "cce": cce_sklearn,
}

# Parameter sets checked besides the defaults.
PARAM_CASES: dict[str, list[dict[str, Any]]] = {
    "huber": [{"delta": 0.3}, {"delta": 2.5}],
    "bce": [{"eps": 1e-7}],
    "cce": [{"eps": 1e-3}],
}
