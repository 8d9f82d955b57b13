"""Independent reference values: scikit-learn where it has the loss, a formula
written out here otherwise (from torch's, torchvision's or Keras' documented
definition). Nothing in this file calls losscli.

Each entry maps a registry name to a function (y_true, y_pred, sample_weight,
**params) -> float. The completeness test fails if a registered loss has no
entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit, log_expit, log_softmax, rel_entr, softmax
from scipy.stats import norm
from sklearn import metrics

Reference = Callable[..., float]
EPS64 = np.finfo(np.float64).eps


def _wmean(values: np.ndarray, w: np.ndarray | None) -> float:
    return float(np.average(values, weights=w))


def _onehot(y: np.ndarray, k: int) -> np.ndarray:
    return y if y.ndim == 2 else np.eye(k)[y]


# --- regression ------------------------------------------------------------------------------


def huber_by_hand(y, p, w, delta=1.0):
    r = np.abs(p - y)
    return _wmean(np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)), w)


def smooth_l1_by_hand(y, p, w, beta=1.0):
    # torch.nn.functional.smooth_l1_loss, as documented (beta = 0: the L1 branch everywhere)
    r = np.abs(p - y)
    quadratic = 0.5 * r**2 / beta if beta else np.inf
    return _wmean(np.where(r < beta, quadratic, r - 0.5 * beta), w)


def log_cosh_by_hand(y, p, w):
    return _wmean(np.log(np.cosh(p - y)), w)


def smape_by_hand(y, p, w):
    den = np.abs(y) + np.abs(p)
    per_row = np.divide(2 * np.abs(p - y), den, out=np.zeros_like(den), where=den != 0)
    return _wmean(per_row, w)


def mape_sklearn(y, p, w, percent=False):
    value = float(metrics.mean_absolute_percentage_error(y, p, sample_weight=w))
    return value * 100 if percent else value


# --- binary ----------------------------------------------------------------------------------


def bce_reference(y, p, w, eps="auto", label_smoothing=0.0):
    if label_smoothing:
        # Keras BinaryCrossentropy(label_smoothing=s): y -> y (1 - s) + s / 2, clip at eps
        e = EPS64 if eps == "auto" else eps
        ys = y * (1 - label_smoothing) + 0.5 * label_smoothing
        pc = np.clip(p, e, 1 - e)
        return _wmean(-(ys * np.log(pc) + (1 - ys) * np.log(1 - pc)), w)
    if eps != "auto":
        p = np.clip(p, eps, 1 - eps)  # scikit-learn no longer takes eps; clip as it does
    return float(metrics.log_loss(y, p, sample_weight=w, labels=[0, 1]))


def bce_logits_by_hand(y, z, w, label_smoothing=0.0):
    # torch binary_cross_entropy_with_logits; log_expit is log(sigmoid) computed exactly
    ys = y * (1 - label_smoothing) + 0.5 * label_smoothing
    return _wmean(-(ys * log_expit(z) + (1 - ys) * log_expit(-z)), w)


def focal_by_hand(y, p, w, gamma=2.0, alpha=None):
    # torchvision.ops.sigmoid_focal_loss with p = sigmoid(inputs)
    pc = np.clip(p, EPS64, 1 - EPS64)
    ce = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = loss * (alpha * y + (1 - alpha) * (1 - y))
    return _wmean(loss, w)


def focal_logits_by_hand(y, z, w, gamma=2.0, alpha=None):
    # torchvision.ops.sigmoid_focal_loss(inputs=z, targets=y), as its source reads
    p = expit(z)
    ce = -(y * log_expit(z) + (1 - y) * log_expit(-z))
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return _wmean(loss, w)


def brier_sklearn(y, p, w):
    if p.ndim == 1:
        return float(metrics.brier_score_loss(y, p, sample_weight=w, pos_label=1))
    if y.ndim == 2:  # soft targets: scikit-learn takes labels only
        return _wmean(((p - y) ** 2).sum(axis=1), w)
    return float(metrics.brier_score_loss(y, p, sample_weight=w, labels=list(range(p.shape[1]))))


def hinge_sklearn(y, p, w):
    return float(metrics.hinge_loss(np.where(y > 0, 1, -1), p, sample_weight=w))


def squared_hinge_by_hand(y, p, w):
    # Keras SquaredHinge: labels 0/1 read as -1/1
    s = np.where(y > 0, 1.0, -1.0)
    return _wmean(np.maximum(0, 1 - s * p) ** 2, w)


def zero_one_sklearn(y, p, w, threshold=0.5):
    predicted = np.argmax(p, axis=1) if p.ndim == 2 else (p > threshold).astype(int)
    return float(metrics.zero_one_loss(y, predicted, sample_weight=w))


# --- multiclass ------------------------------------------------------------------------------


def cce_reference(y, p, w, eps="auto", label_smoothing=0.0, normalize=False):
    k = p.shape[1]
    if normalize:
        p = p / p.sum(axis=1, keepdims=True)
    if eps == "auto" and not label_smoothing and y.ndim == 1:
        return float(metrics.log_loss(y, p, sample_weight=w, labels=list(range(k))))
    e = EPS64 if eps == "auto" else eps
    t = _onehot(y, k) * (1 - label_smoothing) + label_smoothing / k
    return _wmean(-(t * np.log(np.clip(p, e, 1 - e))).sum(axis=1), w)


def cce_logits_by_hand(y, z, w, label_smoothing=0.0):
    # torch cross_entropy(input=z, target, label_smoothing=s): target (1 - s) t + s / k
    k = z.shape[1]
    t = _onehot(y, k) * (1 - label_smoothing) + label_smoothing / k
    return _wmean(-(t * log_softmax(z, axis=1)).sum(axis=1), w)


def nll_by_hand(y, logp, w):
    return _wmean(-logp[np.arange(len(y)), y], w)


def kl_by_scipy(y, p, w):
    return _wmean(rel_entr(_onehot(y, p.shape[1]), p).sum(axis=1), w)


def multiclass_hinge_sklearn(y, z, w):
    return float(metrics.hinge_loss(y, z, sample_weight=w, labels=list(range(z.shape[1]))))


def squared_crammer_singer_by_hand(y, z, w):
    # torchmetrics _multiclass_hinge_loss_update, crammer-singer, squared=True (no softmax step)
    rows = np.arange(len(y))
    others = z.copy()
    others[rows, y] = -np.inf
    return _wmean(np.clip(1 - (z[rows, y] - others.max(axis=1)), 0, None) ** 2, w)


def ova_hinge_by_hand(y, z, w, squared=False):
    # torchmetrics one-vs-all: margin z at the true class, -z elsewhere; per-class means, averaged here
    onehot = np.eye(z.shape[1], dtype=bool)[y]
    margin = np.where(onehot, z, -z)
    h = np.clip(1 - margin, 0, None)
    h = h**2 if squared else h
    return float(np.mean([np.average(h[:, k], weights=w) for k in range(z.shape[1])]))


def categorical_hinge_keras(y, z, w):
    # keras.losses.categorical_hinge: pos = sum(t z), neg = max((1 - t) z), max(neg - pos + 1, 0)
    t = _onehot(y, z.shape[1])
    pos = (t * z).sum(axis=1)
    neg = ((1 - t) * z).max(axis=1)
    return _wmean(np.maximum(neg - pos + 1.0, 0.0), w)


def categorical_focal_keras(y, p, w, gamma=2.0, alpha=None, eps="auto"):
    # keras.losses.categorical_focal_crossentropy (from_logits=False), in float64
    e = EPS64 if eps == "auto" else eps
    t = _onehot(y, p.shape[1])
    pc = np.clip(p, e, 1 - e)
    a = 1.0 if alpha is None else alpha
    return _wmean((a * (1 - pc) ** gamma * -t * np.log(pc)).sum(axis=1), w)


def categorical_focal_logits_by_hand(y, z, w, gamma=2.0, alpha=None):
    t = _onehot(y, z.shape[1])
    p = softmax(z, axis=1)
    a = 1.0 if alpha is None else alpha
    return _wmean((a * (1 - p) ** gamma * -t * log_softmax(z, axis=1)).sum(axis=1), w)


def kl_reference(y, p, w, unnormalized=False):
    return kl_by_scipy(y, p, w)


# --- predictive distributions: y_pred (n, 2) [mean, var], or (n, 3) quantiles at 0.1, 0.5, 0.9 ----


def gaussian_nll_scipy(y, p, w, eps=1e-6, full=False):
    # torch GaussianNLLLoss = -log N(y; mean, max(var, eps)) without 0.5 log(2 pi) unless full
    std = np.sqrt(np.maximum(p[:, 1], eps))
    nll = -norm.logpdf(y, loc=p[:, 0], scale=std)
    return _wmean(nll if full else nll - 0.5 * np.log(2 * np.pi), w)


def crps_scipy(y, p, w):
    # Gneiting & Raftery (2007) eq. 21 with scipy's normal cdf and pdf
    sigma = np.sqrt(p[:, 1])
    z = (y - p[:, 0]) / sigma
    return _wmean(sigma * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi)), w)


def interval_score_by_hand(y, q, w, alpha=None):
    # the test data's interval is q10..q90: alpha 0.2
    a = 0.2 if alpha is None else alpha
    low, high = q[:, 0], q[:, 2]
    return _wmean((high - low) + 2 / a * (low - y) * (y < low) + 2 / a * (y - high) * (y > high), w)


def coverage_by_hand(y, q, w, alpha=None):
    return _wmean(((q[:, 0] <= y) & (y <= q[:, 2])).astype(float), w)


REFERENCES: dict[str, Reference] = {
    "mse": lambda y, p, w: float(metrics.mean_squared_error(y, p, sample_weight=w)),
    "rmse": lambda y, p, w: float(metrics.root_mean_squared_error(y, p, sample_weight=w)),
    "mae": lambda y, p, w: float(metrics.mean_absolute_error(y, p, sample_weight=w)),
    "huber": huber_by_hand,
    "smooth_l1": smooth_l1_by_hand,
    "log_cosh": log_cosh_by_hand,
    "gaussian_nll": gaussian_nll_scipy,
    "crps": crps_scipy,
    "interval_score": interval_score_by_hand,
    "coverage": coverage_by_hand,
    "quantile": lambda y, p, w, alpha=0.5: float(metrics.mean_pinball_loss(y, p, alpha=alpha, sample_weight=w)),
    "mape": mape_sklearn,
    "smape": smape_by_hand,
    "msle": lambda y, p, w: float(metrics.mean_squared_log_error(y, p, sample_weight=w)),
    "rmsle": lambda y, p, w: float(metrics.root_mean_squared_log_error(y, p, sample_weight=w)),
    "poisson": lambda y, p, w: float(metrics.mean_poisson_deviance(y, p, sample_weight=w)),
    "gamma": lambda y, p, w: float(metrics.mean_gamma_deviance(y, p, sample_weight=w)),
    "tweedie": lambda y, p, w, power=0.0: float(metrics.mean_tweedie_deviance(y, p, power=power, sample_weight=w)),
    "d2_tweedie": lambda y, p, w, power=0.0: float(metrics.d2_tweedie_score(y, p, power=power, sample_weight=w)),
    "d2_absolute_error": lambda y, p, w: float(metrics.d2_absolute_error_score(y, p, sample_weight=w)),
    "d2_pinball": lambda y, p, w, alpha=0.5: float(metrics.d2_pinball_score(y, p, alpha=alpha, sample_weight=w)),
    "bce": bce_reference,
    "bce_logits": bce_logits_by_hand,
    "focal": focal_by_hand,
    "focal_logits": focal_logits_by_hand,
    "brier": brier_sklearn,
    "hinge": hinge_sklearn,
    "squared_hinge": squared_hinge_by_hand,
    "zero_one": zero_one_sklearn,
    "cce": cce_reference,
    "cce_logits": cce_logits_by_hand,
    "nll": nll_by_hand,
    "kl_div": kl_reference,
    "multiclass_hinge": multiclass_hinge_sklearn,
    "multiclass_squared_hinge": squared_crammer_singer_by_hand,
    "ova_hinge": ova_hinge_by_hand,
    "categorical_hinge": categorical_hinge_keras,
    "categorical_focal": categorical_focal_keras,
    "categorical_focal_logits": categorical_focal_logits_by_hand,
}

# Parameter sets checked besides the defaults.
PARAM_CASES: dict[str, list[dict[str, Any]]] = {
    "huber": [{"delta": 0.3}, {"delta": 2.5}],
    "smooth_l1": [{"beta": 0.25}, {"beta": 3.0}, {"beta": 0.0}],
    "quantile": [{"alpha": 0.1}, {"alpha": 0.9}, {"alpha": 0.0}, {"alpha": 1.0}],
    "mape": [{"percent": True}],
    "tweedie": [{"power": p} for p in (-0.5, 1.0, 1.5, 2.0, 3.0)],
    "d2_tweedie": [{"power": p} for p in (-0.5, 1.0, 1.5, 2.0, 3.0)],
    "d2_pinball": [{"alpha": 0.1}, {"alpha": 0.9}, {"alpha": 0.5}],
    "bce": [{"eps": 1e-7}, {"label_smoothing": 0.1}],
    "bce_logits": [{"label_smoothing": 0.2}],
    "focal": [{"gamma": 0.0}, {"gamma": 1.5, "alpha": 0.25}, {"gamma": 2.0, "alpha": 0.9}],
    "focal_logits": [{"gamma": 0.0}, {"gamma": 1.5, "alpha": 0.25}, {"gamma": 0.5, "alpha": 0.9}],
    "ova_hinge": [{"squared": True}],
    "gaussian_nll": [{"full": True}, {"eps": 0.5}],
    "interval_score": [{"alpha": 0.2}],
    "coverage": [{"alpha": 0.2}],
    "categorical_focal": [{"gamma": 0.0}, {"gamma": 1.0, "alpha": 0.25, "eps": 1e-7}],
    "categorical_focal_logits": [{"gamma": 0.0}, {"gamma": 3.0, "alpha": 0.25}],
    "kl_div": [{"unnormalized": True}],
    "zero_one": [{"threshold": 0.3}],
    "cce": [{"eps": 1e-3}, {"label_smoothing": 0.1}],
    "cce_logits": [{"label_smoothing": 0.1}],
}
