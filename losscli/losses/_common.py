"""Parameters and numerics that several loss families share."""

from __future__ import annotations

import numpy as np

from ._registry import OPEN_UNIT, UNIT, FloatArray, Param, ParamValue

FLOAT64_EPS = float(np.finfo(np.float64).eps)
LOG2 = float(np.log(2.0))

EPS = Param(
    "eps",
    "auto",
    "probabilities are clipped to [eps, 1 - eps]; auto = float64 machine epsilon (scikit-learn on float64)",
    kind="float_or_auto",
    domain=OPEN_UNIT,  # eps = 0 would take log(0) of a confident right prediction: 0 * -inf = nan
)
LABEL_SMOOTHING = Param(
    "label_smoothing",
    0.0,
    "mix the targets with the uniform distribution: (1 - s) * target + s / k",
    domain=UNIT,
)


def resolve_eps(eps: ParamValue) -> float:
    """``eps=auto`` is float64 machine epsilon, as scikit-learn's log_loss on float64 input
    (losscli reads every number as float64; scikit-learn on float32 uses float32 epsilon)."""
    return FLOAT64_EPS if eps is None or eps == "auto" else float(eps)


def log_softmax(z: FloatArray) -> FloatArray:
    """Row-wise z - logsumexp(z), shifted by the row maximum so exp never overflows."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def xlogy(x: FloatArray, y: FloatArray) -> FloatArray:
    """x * log(y) with 0 * log(anything) = 0 (scipy.special.xlogy without scipy)."""
    safe = np.where(x == 0, 1.0, y)
    return np.where(x == 0, 0.0, x * np.log(safe))


def target_matrix(y_true: np.ndarray, k: int) -> FloatArray:
    """Class indices (n,) as one-hot rows (n, k); soft targets (n, k) as they are."""
    if y_true.ndim == 2:
        return np.asarray(y_true, dtype=np.float64)
    onehot = np.zeros((len(y_true), k))
    onehot[np.arange(len(y_true)), y_true.astype(np.intp)] = 1.0
    return onehot


def true_class_column(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    """y_pred[i, y_true[i]] for every row: the score given to the right class."""
    return np.take_along_axis(y_pred, y_true.reshape(-1, 1).astype(np.intp), axis=1)[:, 0]


IGNORE_INDEX = Param(
    "ignore_index",
    None,
    "rows whose target is this class index (or label) are left out (torch ignore_index, Keras ignore_class)",
    kind="float_or_none",
    kernel_arg=False,
)
