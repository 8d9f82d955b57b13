"""Binary losses: y_true in {0, 1}, y_pred a probability or a raw score."""

from __future__ import annotations

import numpy as np

from ._registry import HALF_OPEN_UNIT, FloatArray, Loss, Param, ParamValue, register

FLOAT64_EPS = float(np.finfo(np.float64).eps)


def resolve_eps(eps: ParamValue) -> float:
    """``eps=auto`` is float64 machine epsilon, as scikit-learn's log_loss."""
    return FLOAT64_EPS if eps is None or eps == "auto" else float(eps)


def binary_cross_entropy(y_true: FloatArray, y_pred: FloatArray, *, eps: ParamValue) -> FloatArray:
    """-(y log p + (1 - y) log(1 - p)), p clipped to [eps, 1 - eps]; best value 0.

    log1p(-p) keeps log(1 - p) exact for small p.

    >>> binary_cross_entropy(np.array([1.0, 0.0]), np.array([0.5, 0.5]), eps="auto").round(6).tolist()
    [0.693147, 0.693147]
    """
    e = resolve_eps(eps)
    p = np.clip(y_pred, e, 1.0 - e)
    return -(y_true * np.log(p) + (1.0 - y_true) * np.log1p(-p))


def hinge(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """max(0, 1 - s * score) with s = 2 y - 1 in {-1, 1}; best value 0.

    >>> hinge(np.array([1.0, 0.0]), np.array([0.3, -2.0])).tolist()
    [0.7, 0.0]
    """
    sign = 2.0 * y_true - 1.0
    return np.maximum(0.0, 1.0 - sign * y_pred)


BCE = register(
    Loss(
        name="bce",
        aliases=("binary_crossentropy", "log_loss", "logloss"),
        task="binary",
        kernel=binary_cross_entropy,
        pred_kind="probability",
        target_kind="binary",
        params=(
            Param(
                "eps",
                "auto",
                "probabilities are clipped to [eps, 1 - eps]; auto = float64 machine epsilon",
                kind="float_or_auto",
                domain=HALF_OPEN_UNIT,
            ),
        ),
        zero_at_perfect=False,  # clipping leaves -log(1 - eps) > 0 at p = y
        formula="mean(-(y log p + (1 - y) log(1 - p))), p clipped to [eps, 1 - eps]",
        description="Binary cross-entropy (log loss) on predicted probabilities.",
        reference="scikit-learn log_loss (clip at float64 eps); Keras clips at 1e-7",
        explain=(
            "The negative log-likelihood of the labels under the predicted probabilities. "
            "A confident wrong prediction costs without bound (clipped at -log(eps), about 36), "
            "so it rewards calibrated probabilities. Keras BinaryCrossentropy clips at 1e-7 "
            "instead: pass eps=1e-7 to match it."
        ),
    )
)

HINGE = register(
    Loss(
        name="hinge",
        task="binary",
        kernel=hinge,
        pred_kind="score",
        target_kind="binary",
        formula="mean(max(0, 1 - s * score)), s = +1 for y = 1 and -1 for y = 0 (or -1)",
        description="Hinge loss on raw decision scores: wants a margin of 1.",
        reference="scikit-learn hinge_loss (binary); Keras Hinge",
        explain=(
            "Zero once the score is on the right side with a margin of at least 1, then "
            "linear in the shortfall: the loss of support vector machines. Labels 0/1 are "
            "read as -1/+1. It expects raw scores; on probabilities in [0, 1] every row "
            "pays at least 0 and a positive row at least 1 - p."
        ),
    )
)
