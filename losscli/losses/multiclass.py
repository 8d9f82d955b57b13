"""Multiclass losses: y_true class indices 0..k-1, y_pred an (n, k) array."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._registry import HALF_OPEN_UNIT, FloatArray, Loss, Param, ParamValue, register
from .binary import resolve_eps

IntArray = npt.NDArray[np.intp]


def true_class_column(y_true: IntArray, y_pred: FloatArray) -> FloatArray:
    """y_pred[i, y_true[i]] for every row: the score given to the right class."""
    return np.take_along_axis(y_pred, y_true.reshape(-1, 1).astype(np.intp), axis=1)[:, 0]


def categorical_cross_entropy(y_true: IntArray, y_pred: FloatArray, *, eps: ParamValue) -> FloatArray:
    """-log p[y], p clipped to [eps, 1 - eps]; best value 0.

    >>> categorical_cross_entropy(np.array([0, 1]), np.array([[0.5, 0.5], [0.25, 0.75]]), eps="auto").round(6).tolist()
    [0.693147, 0.287682]
    """
    e = resolve_eps(eps)
    return -np.log(np.clip(true_class_column(y_true, y_pred), e, 1.0 - e))


CCE = register(
    Loss(
        name="cce",
        aliases=("categorical_crossentropy", "cross_entropy", "categorical_cross_entropy"),
        task="multiclass",
        kernel=categorical_cross_entropy,
        pred_kind="probability",
        target_kind="class_index",
        params=(
            Param(
                "eps",
                "auto",
                "probabilities are clipped to [eps, 1 - eps]; auto = float64 machine epsilon",
                kind="float_or_auto",
                domain=HALF_OPEN_UNIT,
            ),
        ),
        zero_at_perfect=False,
        formula="mean(-log p[y]), p clipped to [eps, 1 - eps]",
        description="Categorical cross-entropy (multiclass log loss) on class probabilities.",
        reference="scikit-learn log_loss (multiclass); torch nll_loss on log-probabilities",
        explain=(
            "The negative log of the probability given to the true class. Only that class's "
            "probability counts; the rest matter through normalisation. Predicted rows "
            "should sum to 1."
        ),
    )
)
