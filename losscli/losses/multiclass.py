"""Multiclass losses: y_true class indices 0..k-1 (or an (n, k) matrix of soft
targets), y_pred an (n, k) matrix of probabilities, logits or scores."""

from __future__ import annotations

import numpy as np

from ._block import Block, Rows
from ._common import (
    EPS,
    IGNORE_INDEX,
    LABEL_SMOOTHING,
    log_softmax,
    resolve_eps,
    target_matrix,
    true_class_column,
    xlogy,
)
from ._registry import NON_NEGATIVE, UNIT, FloatArray, Interval, Loss, Param, ParamValue, ValueDomain, register


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


def categorical_cross_entropy_block(
    b: Block, *, eps: ParamValue, label_smoothing: float = 0.0, normalize: bool = False
) -> Rows | None:
    """categorical_cross_entropy on class indices for every model of a block: the true class's
    probability gathered into one buffer, clipped and logged in place; the loss is -1 times it."""
    if normalize or label_smoothing or b.y.ndim != 1:
        return None
    e = resolve_eps(eps)
    out = b.buffer()
    for i, p in enumerate(b.preds):
        # mode="clip" skips the bounds check's copy: the evaluator's checks have refused any
        # class index outside 0..k-1 before a block is cut.
        np.take(p.reshape(-1), b.class_positions(p.shape[1]), out=out[i], mode="clip")
    np.clip(out, e, 1.0 - e, out=out)
    np.log(out, out=out)
    return out, -1.0


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


# --- more multiclass margins and focal losses -----------------------------------------------------


def _true_mask(y_true: np.ndarray, y_pred: FloatArray) -> np.ndarray:
    mask = np.zeros(y_pred.shape, dtype=bool)
    mask[np.arange(len(y_true)), y_true.astype(np.intp)] = True
    return mask


def _crammer_singer_parts(y_true: np.ndarray, y_pred: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """(1 - margin, the column of the best other class) per row."""
    rows = np.arange(len(y_true))
    others = np.where(_true_mask(y_true, y_pred), -np.inf, y_pred)
    rival = others.argmax(axis=1)
    return 1.0 - (y_pred[rows, y_true] - y_pred[rows, rival]), rival


def squared_crammer_singer_hinge(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    """max(0, 1 - (z_y - max_{k != y} z_k))^2 (torchmetrics squared=True).

    >>> squared_crammer_singer_hinge(np.array([1]), np.array([[0.2, 0.0]])).round(12).tolist()
    [1.44]
    """
    return crammer_singer_hinge(y_true, y_pred) ** 2


def one_vs_all_hinge(y_true: np.ndarray, y_pred: FloatArray, *, squared: bool) -> FloatArray:
    """mean_k max(0, 1 - s_k z_k), s_k = +1 for the true class and -1 for the others.

    >>> one_vs_all_hinge(np.array([0]), np.array([[0.25, 0.2, 0.55]]), squared=False).round(12).tolist()
    [1.166666666667]
    """
    s = np.where(_true_mask(y_true, y_pred), 1.0, -1.0)
    h = np.maximum(0.0, 1.0 - s * y_pred)
    return (h * h if squared else h).mean(axis=1)


def categorical_hinge(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    """Keras CategoricalHinge: max(0, 1 + max_k((1 - t_k) z_k) - sum_k t_k z_k).

    The max runs over (1 - t) z, which is 0 at the true class, so the rival term is never
    below 0: unlike Crammer-Singer, negative scores for all other classes count as 0.

    >>> categorical_hinge(np.array([0]), np.array([[0.5, -1.0, -2.0]])).tolist()
    [0.5]
    """
    t = target_matrix(y_true, y_pred.shape[1])
    pos = (t * y_pred).sum(axis=1)
    neg = ((1.0 - t) * y_pred).max(axis=1)
    return np.maximum(0.0, neg - pos + 1.0)


def categorical_focal(
    y_true: np.ndarray, y_pred: FloatArray, *, gamma: float, alpha: ParamValue, eps: ParamValue
) -> FloatArray:
    """Keras CategoricalFocalCrossentropy: -sum_k alpha t_k (1 - p_k)^gamma log p_k, p clipped.

    >>> categorical_focal(np.array([0]), np.array([[0.5, 0.5]]), gamma=0.0, alpha=None, eps="auto").round(6).tolist()
    [0.693147]
    """
    e = resolve_eps(eps)
    p = np.clip(y_pred, e, 1.0 - e)
    t = target_matrix(y_true, y_pred.shape[1])
    a = 1.0 if alpha is None else float(alpha)
    return -(a * t * (1.0 - p) ** gamma * np.log(p)).sum(axis=1)


def categorical_focal_with_logits(
    y_true: np.ndarray, y_pred: FloatArray, *, gamma: float, alpha: ParamValue
) -> FloatArray:
    """The categorical focal loss of softmax(z), with log_softmax exact (no clipping).

    >>> categorical_focal_with_logits(np.array([0]), np.array([[0.0, 0.0]]), gamma=0.0, alpha=None).round(6).tolist()
    [0.693147]
    """
    log_p = log_softmax(y_pred)
    t = target_matrix(y_true, y_pred.shape[1])
    a = 1.0 if alpha is None else float(alpha)
    # 1 - p_k as -expm1(log p_k): exact when p_k is tiny, and never below 0.
    return -(a * t * (-np.expm1(log_p)) ** gamma * log_p).sum(axis=1)


# --- gradients: d loss / d y_pred, an (n, k) matrix ---------------------------------------------


def _softmax(z: FloatArray) -> FloatArray:
    return np.exp(log_softmax(z))


def categorical_cross_entropy_grad(
    y_true: np.ndarray, y_pred: FloatArray, *, eps: ParamValue, label_smoothing: float = 0.0, normalize: bool = False
) -> FloatArray:
    q = y_pred
    s = q.sum(axis=1, keepdims=True)
    p = q / s if normalize else q
    e = resolve_eps(eps)
    t = _smoothed_targets(y_true, q.shape[1], label_smoothing)
    inside = (p >= e) & (p <= 1.0 - e)
    g = np.where(inside, -t / np.clip(p, e, 1.0 - e), 0.0)
    if normalize:  # p = q / sum(q): dL/dq_j = (g_j - sum_k g_k p_k) / sum(q)
        g = (g - (g * p).sum(axis=1, keepdims=True)) / s
    return g


def categorical_cross_entropy_with_logits_grad(
    y_true: np.ndarray, y_pred: FloatArray, *, label_smoothing: float = 0.0
) -> FloatArray:
    """softmax(z) sum(t) - t: each entry bounded by 1."""
    t = _smoothed_targets(y_true, y_pred.shape[1], label_smoothing)
    return _softmax(y_pred) * t.sum(axis=1, keepdims=True) - t


def negative_log_likelihood_grad(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    return -_true_mask(y_true, y_pred).astype(np.float64)


def kl_divergence_grad(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    t = target_matrix(y_true, y_pred.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t == 0, 0.0, -t / y_pred)


def crammer_singer_hinge_grad(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    h, rival = _crammer_singer_parts(y_true, y_pred)
    g = np.zeros_like(y_pred, dtype=np.float64)
    rows = np.arange(len(y_true))
    active = (h > 0).astype(np.float64)
    g[rows, y_true] -= active
    g[rows, rival] += active
    return g


def squared_crammer_singer_hinge_grad(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    h, _ = _crammer_singer_parts(y_true, y_pred)
    return 2.0 * np.maximum(h, 0.0)[:, None] * crammer_singer_hinge_grad(y_true, y_pred)


def one_vs_all_hinge_grad(y_true: np.ndarray, y_pred: FloatArray, *, squared: bool) -> FloatArray:
    s = np.where(_true_mask(y_true, y_pred), 1.0, -1.0)
    h = np.maximum(0.0, 1.0 - s * y_pred)
    g = -s * (2.0 * h if squared else (h > 0))
    return g / y_pred.shape[1]


def categorical_hinge_grad(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    t = target_matrix(y_true, y_pred.shape[1])
    other = (1.0 - t) * y_pred
    rival = other.argmax(axis=1)
    active = (categorical_hinge(y_true, y_pred) > 0)[:, None]
    g = np.zeros_like(y_pred, dtype=np.float64)
    g[np.arange(len(y_pred)), rival] = 1.0 - t[np.arange(len(y_pred)), rival]
    return np.where(active, g - t, 0.0)


def categorical_focal_grad(
    y_true: np.ndarray, y_pred: FloatArray, *, gamma: float, alpha: ParamValue, eps: ParamValue
) -> FloatArray:
    e = resolve_eps(eps)
    p = np.clip(y_pred, e, 1.0 - e)
    t = target_matrix(y_true, y_pred.shape[1])
    a = 1.0 if alpha is None else float(alpha)
    inside = (y_pred >= e) & (y_pred <= 1.0 - e)
    return np.where(inside, _focal_dp(t, p, np.log(p), gamma, a), 0.0)


def _focal_dp(t: FloatArray, p: FloatArray, log_p: FloatArray, gamma: float, a: float) -> FloatArray:
    """d/dp_k of -a t_k (1 - p_k)^gamma log p_k."""
    q = 1.0 - p
    d = q**gamma / p
    if gamma:
        d = d - gamma * np.power(q, gamma - 1.0) * log_p
    return -a * t * d


def categorical_focal_with_logits_grad(
    y_true: np.ndarray, y_pred: FloatArray, *, gamma: float, alpha: ParamValue
) -> FloatArray:
    log_p = log_softmax(y_pred)
    p = np.exp(log_p)
    t = target_matrix(y_true, y_pred.shape[1])
    a = 1.0 if alpha is None else float(alpha)
    g = _focal_dp(t, p, log_p, gamma, a)
    return p * (g - (g * p).sum(axis=1, keepdims=True))  # through the softmax


_FOCAL_PARAMS = (
    Param("gamma", 2.0, "focusing power: how fast easy examples are down-weighted", domain=NON_NEGATIVE),
    Param("alpha", None, "a weight on every class (none: 1; Keras defaults to 0.25)", "float_or_none", UNIT),
)


register(
    Loss(
        name="cce",
        aliases=("categorical_crossentropy", "categorical_cross_entropy", "cross_entropy", "multiclass_log_loss"),
        task="multiclass",
        kernel=categorical_cross_entropy,
        block_kernel=categorical_cross_entropy_block,
        gradient=categorical_cross_entropy_grad,
        pred_kind="probability",
        target_kind="class_index",
        params=(
            EPS,
            LABEL_SMOOTHING,
            Param("normalize", False, "divide each row of predictions by its sum first", kind="bool"),
            IGNORE_INDEX,
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
        gradient=categorical_cross_entropy_with_logits_grad,
        pred_kind="logit",
        target_kind="class_index",
        params=(LABEL_SMOOTHING, IGNORE_INDEX),
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
        gradient=negative_log_likelihood_grad,
        pred_kind="log_probability",
        target_kind="class_index",
        params=(IGNORE_INDEX,),
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
        gradient=kl_divergence_grad,
        pred_kind="probability",
        target_kind="class_index",
        params=(
            Param(
                "unnormalized",
                False,
                "accept prediction rows that do not sum to 1 (any values >= 0), as torch, Keras and optax do",
                kind="bool",
                kernel_arg=False,
            ),
            IGNORE_INDEX,
        ),
        soft_targets=True,
        needs_distribution=True,
        formula="mean(sum_k t_k log(t_k / p_k)), 0 log 0 = 0",
        description="Kullback-Leibler divergence from the target distribution to the predicted one.",
        reference="torch kl_div(log p, t, reduction='batchmean'); Keras KLDivergence",
        explain=(
            "How many nats are lost when the predicted distribution stands in for the target "
            "one. Meant for soft targets (k target columns); with hard labels it equals cce "
            "without clipping. A zero probability where the target is positive gives "
            "infinity, as in torch. Each prediction row must sum to 1 within 1e-6: on rows that "
            "do not, sum t log(t / p) is not a divergence (it can be negative). The libraries "
            "compute it on whatever they are given: torch kl_div takes log p and sums "
            "t (log t - log p) without checking; optax kl_divergence does the same on log p; "
            "Keras KLDivergence clips t and p to [1e-7, 1] and sums t log(t / p). "
            "unnormalized=true computes losscli's formula on such rows too (values >= 0), "
            "which then equals torch and optax exactly, and Keras wherever no value is below 1e-7."
        ),
    )
)

register(
    Loss(
        name="multiclass_hinge",
        aliases=("crammer_singer", "multi_hinge"),
        task="multiclass",
        kernel=crammer_singer_hinge,
        gradient=crammer_singer_hinge_grad,
        pred_kind="score",
        target_kind="class_index",
        params=(IGNORE_INDEX,),
        formula="mean(max(0, 1 - (z_y - max_{k != y} z_k)))",
        description="Crammer-Singer multiclass hinge loss on class scores.",
        reference="scikit-learn hinge_loss (multiclass)",
        explain=(
            "The true class's score must beat the best other class by a margin of 1. "
            "Scores are raw decision values (one column per class). torchmetrics "
            "multiclass_hinge_loss (its default crammer-singer mode) softmaxes predictions "
            "outside [0, 1] first; losscli takes the scores as they are. See "
            "multiclass_squared_hinge, ova_hinge and categorical_hinge for the other forms."
        ),
    )
)

register(
    Loss(
        name="multiclass_squared_hinge",
        aliases=("squared_crammer_singer", "multi_squared_hinge"),
        task="multiclass",
        kernel=squared_crammer_singer_hinge,
        gradient=squared_crammer_singer_hinge_grad,
        pred_kind="score",
        target_kind="class_index",
        params=(IGNORE_INDEX,),
        formula="mean(max(0, 1 - (z_y - max_{k != y} z_k))^2)",
        description="Squared Crammer-Singer hinge loss on class scores.",
        reference="torchmetrics multiclass_hinge_loss(squared=True), on scores as given",
        explain=(
            "multiclass_hinge squared: smooth at the margin, harsher on large violations. "
            "torchmetrics applies softmax to predictions outside [0, 1] before the hinge; losscli "
            "takes the scores as they are, so the two agree on probabilities (or on softmax(z))."
        ),
    )
)

register(
    Loss(
        name="ova_hinge",
        aliases=("one_vs_all_hinge", "one_vs_rest_hinge"),
        task="multiclass",
        kernel=one_vs_all_hinge,
        gradient=one_vs_all_hinge_grad,
        pred_kind="score",
        target_kind="class_index",
        params=(Param("squared", False, "square each class's hinge", kind="bool"), IGNORE_INDEX),
        formula="mean(mean_k max(0, 1 - s_k z_k)), s_k = +1 for the true class, -1 for the others",
        description="One-vs-all hinge loss: a binary hinge per class, averaged over classes.",
        reference="torchmetrics multiclass_hinge_loss(multiclass_mode='one-vs-all'), averaged over classes",
        explain=(
            "Each class's score is a binary margin: the true class's must be above 1, every other "
            "one below -1. torchmetrics returns the k per-class means as a vector; losscli reports "
            "their mean (one number per model), so multiply by k for their sum. torchmetrics "
            "softmaxes predictions outside [0, 1] first; losscli takes the scores as they are."
        ),
    )
)

register(
    Loss(
        name="categorical_hinge",
        aliases=("keras_categorical_hinge",),
        task="multiclass",
        kernel=categorical_hinge,
        gradient=categorical_hinge_grad,
        pred_kind="score",
        target_kind="class_index",
        params=(IGNORE_INDEX,),
        soft_targets=True,
        formula="mean(max(0, 1 + max_k((1 - t_k) z_k) - sum_k t_k z_k))",
        description="Keras CategoricalHinge on class scores: its own formula, floored at 0.",
        reference="Keras CategoricalHinge",
        explain=(
            "Keras' categorical hinge: the true class's score must beat the largest of "
            "(1 - t_k) z_k by 1. Because that term is 0 at the true class, the rival never counts "
            "below 0: with all other scores negative it is max(0, 1 - z_y), where Crammer-Singer "
            "(multiclass_hinge) would reward the gap. The loss is floored at 0 as in Keras."
        ),
    )
)

register(
    Loss(
        name="categorical_focal",
        aliases=("categorical_focal_crossentropy", "focal_cce", "softmax_focal"),
        task="multiclass",
        kernel=categorical_focal,
        gradient=categorical_focal_grad,
        pred_kind="probability",
        target_kind="class_index",
        params=(*_FOCAL_PARAMS, EPS, IGNORE_INDEX),
        soft_targets=True,
        needs_distribution=True,
        zero_at_perfect=False,
        formula="mean(-sum_k alpha t_k (1 - p_k)^gamma log p_k), p clipped to [eps, 1 - eps]",
        description="Categorical focal loss on class probabilities: cross-entropy that down-weights easy rows.",
        reference="Keras CategoricalFocalCrossentropy (alpha=0.25, eps=1e-7 to match its defaults)",
        explain=(
            "Keras' CategoricalFocalCrossentropy: each class's cross-entropy term times "
            "(1 - p_k)^gamma and alpha. Keras defaults to alpha = 0.25 and clips at 1e-7 in "
            "float32; losscli defaults to alpha = none (1) and float64 epsilon: pass "
            "alpha=0.25,eps=1e-7 for Keras' numbers. gamma = 0 with alpha = none is exactly cce."
        ),
    )
)

register(
    Loss(
        name="categorical_focal_logits",
        aliases=("categorical_focal_crossentropy_logits", "focal_cce_logits", "softmax_focal_logits"),
        task="multiclass",
        kernel=categorical_focal_with_logits,
        gradient=categorical_focal_with_logits_grad,
        pred_kind="logit",
        target_kind="class_index",
        params=(*_FOCAL_PARAMS, IGNORE_INDEX),
        soft_targets=True,
        zero_at_perfect=False,
        formula="mean(-sum_k alpha t_k (1 - p_k)^gamma log p_k), p = softmax(z), log p exact",
        description="Categorical (softmax) focal loss on logits, with an exact log-softmax.",
        reference="Keras CategoricalFocalCrossentropy(from_logits=True), without its clipping",
        explain=(
            "The categorical focal loss of softmax(z), with log p from a shifted log-sum-exp and "
            "1 - p as -expm1(log p), so confident rows are exact. Keras from_logits=True clips "
            "softmax(z) at 1e-7 before the log; losscli does not, so the two differ only on rows "
            "whose probabilities fall below 1e-7. gamma = 0 with alpha = none is cce_logits."
        ),
    )
)
