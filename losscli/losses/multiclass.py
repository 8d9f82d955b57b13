"""Multiclass losses: y_true class indices 0..k-1 (or an (n, k) matrix of soft
targets), y_pred an (n, k) matrix of probabilities, logits or scores."""

from __future__ import annotations

import numpy as np

from ._common import EPS, LABEL_SMOOTHING, log_softmax, resolve_eps, target_matrix, true_class_column, xlogy
from ._registry import FloatArray, Interval, Loss, Param, ParamValue, ValueDomain, register


def _smoothed_targets(y_true: np.ndarray, k: int, label_smoothing: float) -> FloatArray:
    """torch's label smoothing: (1 - s) * target + s / k."""
    t = target_matrix(y_true, k)
    return t * (1.0 - label_smoothing) + label_smoothing / k if label_smoothing else t


def categorical_cross_entropy(
    y_true: np.ndarray, y_pred: FloatArray, *, eps: ParamValue, label_smoothing: float = 0.0, normalize: bool = False
) -> FloatArray:
    """-sum_k t_k log p_k, p clipped to [eps, 1 - eps]; with class indices, -log p[y].

    >>> categorical_cross_entropy(np.array([0, 1]), np.array([[0.5, 0.5], [0.25, 0.75]]), eps="auto").round(6).tolist()
    [0.693147, 0.287682]
    """
    if normalize:
        y_pred = y_pred / y_pred.sum(axis=1, keepdims=True)
    e = resolve_eps(eps)
    if y_true.ndim == 1 and not label_smoothing:
        return -np.log(np.clip(true_class_column(y_true, y_pred), e, 1.0 - e))
    t = _smoothed_targets(y_true, y_pred.shape[1], label_smoothing)
    return -(t * np.log(np.clip(y_pred, e, 1.0 - e))).sum(axis=1)


def categorical_cross_entropy_with_logits(
    y_true: np.ndarray, y_pred: FloatArray, *, label_smoothing: float = 0.0
) -> FloatArray:
    """-sum_k t_k log_softmax(z)_k, log-sum-exp shifted by the row maximum (torch cross_entropy).

    >>> categorical_cross_entropy_with_logits(np.array([1]), np.array([[1e4, -1e4]])).tolist()
    [20000.0]
    """
    log_q = log_softmax(y_pred)
    if y_true.ndim == 1 and not label_smoothing:
        return -true_class_column(y_true, log_q)
    t = _smoothed_targets(y_true, y_pred.shape[1], label_smoothing)
    return -(t * log_q).sum(axis=1)


def negative_log_likelihood(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    """-log_p[y]: y_pred holds log-probabilities (torch nll_loss).

    >>> negative_log_likelihood(np.array([1]), np.log(np.array([[0.5, 0.5]]))).round(6).tolist()
    [0.693147]
    """
    return -true_class_column(y_true, y_pred)


def kl_divergence(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    """sum_k t_k log(t_k / p_k), 0 log 0 = 0 (torch kl_div on log p, reduction='batchmean').

    >>> kl_divergence(np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]])).tolist()
    [0.0]
    """
    t = target_matrix(y_true, y_pred.shape[1])
    with np.errstate(divide="ignore"):  # p = 0 where t > 0 is a true infinity
        return (xlogy(t, t) - xlogy(t, y_pred)).sum(axis=1)


def crammer_singer_hinge(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    """max(0, 1 - (z_y - max_{k != y} z_k)): scikit-learn's multiclass hinge_loss.

    >>> crammer_singer_hinge(np.array([0, 1]), np.array([[2.0, 0.5], [0.2, 0.0]])).tolist()
    [0.0, 1.2]
    """
    n = len(y_true)
    rows = np.arange(n)
    others = y_pred.copy()
    others[rows, y_true] = -np.inf
    margin = y_pred[rows, y_true] - others.max(axis=1)
    return np.maximum(0.0, 1.0 - margin)


register(
    Loss(
        name="cce",
        aliases=("categorical_crossentropy", "categorical_cross_entropy", "cross_entropy", "multiclass_log_loss"),
        task="multiclass",
        kernel=categorical_cross_entropy,
        pred_kind="probability",
        target_kind="class_index",
        params=(
            EPS,
            LABEL_SMOOTHING,
            Param("normalize", False, "divide each row of predictions by its sum first", kind="bool"),
        ),
        soft_targets=True,
        needs_distribution=True,
        zero_at_perfect=False,
        formula="mean(-sum_k t_k log p_k), p clipped to [eps, 1 - eps]; hard labels: mean(-log p[y])",
        description="Categorical cross-entropy (multiclass log loss) on class probabilities.",
        reference="scikit-learn log_loss (multiclass); Keras CategoricalCrossentropy",
        explain=(
            "The negative log of the probability given to the true class (with soft targets, "
            "the cross-entropy between target and predicted distributions). Each row must "
            "sum to 1 within 1e-6, or normalize=true divides it by its sum. Clipping at "
            "float64 epsilon as scikit-learn; Keras clips at 1e-7 (eps=1e-7). "
            "label_smoothing as torch and Keras: targets become (1 - s) t + s / k."
        ),
    )
)

register(
    Loss(
        name="cce_logits",
        aliases=("categorical_crossentropy_logits", "cross_entropy_logits", "softmax_cross_entropy"),
        task="multiclass",
        kernel=categorical_cross_entropy_with_logits,
        pred_kind="logit",
        target_kind="class_index",
        params=(LABEL_SMOOTHING,),
        soft_targets=True,
        zero_at_perfect=False,
        formula="mean(-sum_k t_k log_softmax(z)_k), log-sum-exp shifted by the row max",
        description="Categorical cross-entropy on logits (unnormalised scores).",
        reference="torch cross_entropy (including label_smoothing); Keras from_logits=True",
        explain=(
            "torch's cross_entropy: softmax and log in one stable step, so logits of +-1e4 "
            "give exact finite values. With label_smoothing s the target is (1 - s) t + s / k, "
            "exactly as torch."
        ),
    )
)

register(
    Loss(
        name="nll",
        aliases=("nll_loss", "negative_log_likelihood"),
        task="multiclass",
        kernel=negative_log_likelihood,
        pred_kind="log_probability",
        target_kind="class_index",
        value_domain=lambda params: ValueDomain(pred=Interval(high=0.0), why="log-probabilities"),
        zero_at_perfect=False,
        formula="mean(-log_p[y]), inputs are log-probabilities",
        description="Negative log-likelihood on log-probabilities (the output of log_softmax).",
        reference="torch nll_loss",
        explain=(
            "torch's nll_loss: the predictions are already log-probabilities, and the loss is "
            "minus the one of the true class. On the same model it equals cce on exp(log p) "
            "without clipping."
        ),
    )
)

register(
    Loss(
        name="kl_div",
        aliases=("kl", "kl_divergence", "kullback_leibler"),
        task="multiclass",
        kernel=kl_divergence,
        pred_kind="probability",
        target_kind="class_index",
        soft_targets=True,
        formula="mean(sum_k t_k log(t_k / p_k)), 0 log 0 = 0",
        description="Kullback-Leibler divergence from the target distribution to the predicted one.",
        reference="torch kl_div(log p, t, reduction='batchmean'); Keras KLDivergence",
        explain=(
            "How many nats are lost when the predicted distribution stands in for the target "
            "one. Meant for soft targets (k target columns); with hard labels it equals cce "
            "without clipping. A zero probability where the target is positive gives "
            "infinity, as in torch. torch's kl_div takes log p as input: losscli takes p."
        ),
    )
)

register(
    Loss(
        name="multiclass_hinge",
        aliases=("crammer_singer", "multi_hinge"),
        task="multiclass",
        kernel=crammer_singer_hinge,
        pred_kind="score",
        target_kind="class_index",
        formula="mean(max(0, 1 - (z_y - max_{k != y} z_k)))",
        description="Crammer-Singer multiclass hinge loss on class scores.",
        reference="scikit-learn hinge_loss (multiclass)",
        explain=(
            "The true class's score must beat the best other class by a margin of 1. "
            "Scores are raw decision values (one column per class)."
        ),
    )
)
