"""Binary losses: y_true in {0, 1}; y_pred a probability, a logit or a raw score.

brier and zero_one serve binary and multiclass data with one kernel: a 1-D
y_pred is the binary case, an (n, k) y_pred the multiclass one.
"""

from __future__ import annotations

import numpy as np

from ._block import Block, Rows
from ._common import EPS, LABEL_SMOOTHING, resolve_eps, target_matrix
from ._registry import NON_NEGATIVE, UNIT, FloatArray, Loss, Param, ParamValue, register


def _smoothed(y_true: FloatArray, label_smoothing: float) -> FloatArray:
    # Keras' binary label smoothing: squeeze 0/1 towards 0.5.
    return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def binary_cross_entropy(
    y_true: FloatArray, y_pred: FloatArray, *, eps: ParamValue, label_smoothing: float = 0.0
) -> FloatArray:
    """-(y log p + (1 - y) log(1 - p)), p clipped to [eps, 1 - eps]; best value 0.

    log1p(-p) keeps log(1 - p) exact for small p.

    >>> binary_cross_entropy(np.array([1.0, 0.0]), np.array([0.5, 0.5]), eps="auto").round(6).tolist()
    [0.693147, 0.693147]
    """
    e = resolve_eps(eps)
    p = np.clip(y_pred, e, 1.0 - e)
    y = _smoothed(y_true, label_smoothing)
    return -(y * np.log(p) + (1.0 - y) * np.log1p(-p))


def binary_cross_entropy_block(b: Block, *, eps: ParamValue, label_smoothing: float = 0.0) -> Rows | None:
    """binary_cross_entropy of hard 0/1 targets for every model of a block: log p where y = 1 and
    log1p(-p) where y = 0 (what y log p + (1 - y) log1p(-p) is, bit for bit); the loss is -1 times it."""
    ones = b.hard_labels
    if label_smoothing or ones is None:
        return None
    e = resolve_eps(eps)
    p, out = b.buffer(), b.buffer()
    for i, pred in enumerate(b.preds):
        np.clip(pred, e, 1.0 - e, out=p[i])
    np.negative(p, out=out)
    np.log1p(out, out=out)
    np.log(p, out=p)
    np.copyto(out, p, where=ones)
    return out, -1.0


def binary_cross_entropy_with_logits(
    y_true: FloatArray, y_pred: FloatArray, *, label_smoothing: float = 0.0
) -> FloatArray:
    """softplus(z) - y z: the cross-entropy of sigmoid(z), without taking a log of it.

    >>> binary_cross_entropy_with_logits(np.array([1.0, 0.0]), np.array([1e300, 1e300])).tolist()
    [0.0, 1e+300]
    """
    y = _smoothed(y_true, label_smoothing)
    # max(z, 0) - y z first: for |z| near 1e300 softplus(z) - y z would cancel to nan.
    return np.maximum(y_pred, 0.0) - y * y_pred + np.log1p(np.exp(-np.abs(y_pred)))


def focal(y_true: FloatArray, y_pred: FloatArray, *, gamma: float, alpha: ParamValue) -> FloatArray:
    """ce * (1 - p_t)^gamma [* alpha_t], p_t the probability of the true class (torchvision).

    >>> focal(np.array([1.0]), np.array([0.5]), gamma=0.0, alpha=None).round(6).tolist()
    [0.693147]
    """
    ce = binary_cross_entropy(y_true, y_pred, eps="auto")
    p_t = y_pred * y_true + (1.0 - y_pred) * (1.0 - y_true)
    loss = ce * (1.0 - p_t) ** gamma if gamma else ce
    if alpha is not None:
        a = float(alpha)
        loss = loss * (a * y_true + (1.0 - a) * (1.0 - y_true))
    return loss


def brier(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    """(p - y)^2 for binary; sum over classes of (p_k - t_k)^2 for multiclass (scikit-learn).

    >>> brier(np.array([1.0, 0.0]), np.array([0.75, 0.5])).tolist()
    [0.0625, 0.25]
    """
    if y_pred.ndim == 1:
        return (y_pred - y_true) ** 2
    d = y_pred - target_matrix(y_true, y_pred.shape[1])
    total = (d * d).sum(axis=1)
    # Two classes are the binary case: halved as scikit-learn (scale_by_half="auto"), so the
    # one-column and the two-column layouts of the same predictions give the same value.
    return total / 2 if y_pred.shape[1] == 2 else total


def hinge(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """max(0, 1 - s * score) with s = 2 y - 1 in {-1, 1}; best value 0.

    >>> hinge(np.array([1.0, 0.0]), np.array([0.3, -2.0])).tolist()
    [0.7, 0.0]
    """
    return np.maximum(0.0, 1.0 - (2.0 * y_true - 1.0) * y_pred)


def squared_hinge(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    """max(0, 1 - s * score)^2 (Keras SquaredHinge).

    >>> squared_hinge(np.array([1.0, 0.0]), np.array([0.5, -2.0])).tolist()
    [0.25, 0.0]
    """
    return hinge(y_true, y_pred) ** 2


def zero_one(y_true: np.ndarray, y_pred: FloatArray, *, threshold: float) -> FloatArray:
    """1 where the predicted class is wrong: p > threshold for binary, argmax for multiclass.

    >>> zero_one(np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.7, 0.5]), threshold=0.5).tolist()
    [0.0, 1.0, 1.0]
    """
    if y_pred.ndim == 1:
        return ((y_pred > threshold) != (y_true > 0.5)).astype(np.float64)
    return (np.argmax(y_pred, axis=1) != y_true).astype(np.float64)


def _sigmoid(z: FloatArray) -> FloatArray:
    """1 / (1 + exp(-z)) without overflow for either sign."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def focal_with_logits(y_true: FloatArray, y_pred: FloatArray, *, gamma: float, alpha: ParamValue) -> FloatArray:
    """torchvision sigmoid_focal_loss: bce_logits(z) * (1 - p_t)^gamma [* alpha_t], p = sigmoid(z).

    1 - p_t is sigmoid(z) for y = 0 and sigmoid(-z) for y = 1, computed as such so it
    never rounds to 0 for a confident right answer.

    >>> focal_with_logits(np.array([1.0]), np.array([0.0]), gamma=0.0, alpha=None).round(6).tolist()
    [0.693147]
    """
    ce = binary_cross_entropy_with_logits(y_true, y_pred)
    loss = ce * _sigmoid((1.0 - 2.0 * y_true) * y_pred) ** gamma if gamma else ce
    if alpha is not None:
        a = float(alpha)
        loss = loss * (a * y_true + (1.0 - a) * (1.0 - y_true))
    return loss


# --- gradients: d loss / d y_pred ---------------------------------------------------------------


def _inside(p: FloatArray, e: float) -> FloatArray:
    """1 where p is inside [eps, 1 - eps] (the clip passes the change on), 0 outside."""
    return ((p >= e) & (p <= 1.0 - e)).astype(np.float64)


def binary_cross_entropy_grad(
    y_true: FloatArray, y_pred: FloatArray, *, eps: ParamValue, label_smoothing: float = 0.0
) -> FloatArray:
    e = resolve_eps(eps)
    p = np.clip(y_pred, e, 1.0 - e)
    y = _smoothed(y_true, label_smoothing)
    return (-y / p + (1.0 - y) / (1.0 - p)) * _inside(y_pred, e)


def binary_cross_entropy_with_logits_grad(
    y_true: FloatArray, y_pred: FloatArray, *, label_smoothing: float = 0.0
) -> FloatArray:
    """sigmoid(z) - y: bounded by 1 whatever the logit."""
    return _sigmoid(y_pred) - _smoothed(y_true, label_smoothing)


def focal_grad(y_true: FloatArray, y_pred: FloatArray, *, gamma: float, alpha: ParamValue) -> FloatArray:
    # L = ce(p) m, m = (1 - p_t)^gamma, d(1 - p_t)/dp = -(2y - 1)
    ce = binary_cross_entropy(y_true, y_pred, eps="auto")
    d_ce = binary_cross_entropy_grad(y_true, y_pred, eps="auto")
    q = 1.0 - (y_pred * y_true + (1.0 - y_pred) * (1.0 - y_true))
    grad = d_ce * q**gamma
    if gamma:
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = grad - ce * gamma * np.power(q, gamma - 1.0) * (2.0 * y_true - 1.0)
    return grad * _alpha_t(y_true, alpha)


def focal_with_logits_grad(y_true: FloatArray, y_pred: FloatArray, *, gamma: float, alpha: ParamValue) -> FloatArray:
    # L = ce(z) q^gamma, q = sigmoid((1 - 2y) z): dce/dz = p - y, dq/dz = (1 - 2y) q (1 - q)
    ce = binary_cross_entropy_with_logits(y_true, y_pred)
    s = 1.0 - 2.0 * y_true
    q = _sigmoid(s * y_pred)
    grad = (_sigmoid(y_pred) - y_true) * q**gamma
    if gamma:
        grad = grad + ce * gamma * q**gamma * (1.0 - q) * s
    return grad * _alpha_t(y_true, alpha)


def _alpha_t(y_true: FloatArray, alpha: ParamValue) -> FloatArray | float:
    if alpha is None:
        return 1.0
    a = float(alpha)
    return a * y_true + (1.0 - a) * (1.0 - y_true)


def brier_grad(y_true: np.ndarray, y_pred: FloatArray) -> FloatArray:
    if y_pred.ndim == 1:
        return 2.0 * (y_pred - y_true)
    return 2.0 * (y_pred - target_matrix(y_true, y_pred.shape[1]))


def hinge_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    s = 2.0 * y_true - 1.0
    return np.where(1.0 - s * y_pred > 0, -s, 0.0)


def squared_hinge_grad(y_true: FloatArray, y_pred: FloatArray) -> FloatArray:
    s = 2.0 * y_true - 1.0
    return -2.0 * s * hinge(y_true, y_pred)


def zero_one_grad(y_true: np.ndarray, y_pred: FloatArray, *, threshold: float) -> FloatArray:
    """0 almost everywhere (a step): why no model is trained on it."""
    return np.zeros_like(y_pred, dtype=np.float64)


register(
    Loss(
        name="bce",
        aliases=("binary_crossentropy", "binary_cross_entropy", "log_loss", "logloss"),
        task="binary",
        kernel=binary_cross_entropy,
        block_kernel=binary_cross_entropy_block,
        gradient=binary_cross_entropy_grad,
        pred_kind="probability",
        target_kind="binary",
        params=(EPS, LABEL_SMOOTHING),
        zero_at_perfect=False,  # clipping leaves -log(1 - eps) > 0 at p = y
        formula="mean(-(y log p + (1 - y) log(1 - p))), p clipped to [eps, 1 - eps]",
        description="Binary cross-entropy (log loss) on predicted probabilities.",
        reference="scikit-learn log_loss (clip at float64 eps); Keras clips at 1e-7",
        explain=(
            "The negative log-likelihood of the labels under the predicted probabilities. "
            "A confident wrong prediction costs without bound (clipped at -log(eps), about "
            "36), so it rewards calibrated probabilities. eps=auto is float64 machine epsilon "
            "(2.2e-16) always: losscli reads every number as float64. scikit-learn's "
            "eps='auto' follows the input's dtype instead, so on a float32 array it clips at "
            "float32 epsilon (1.2e-7); pass eps=1.1920929e-07 to match that. Keras "
            "BinaryCrossentropy clips at 1e-7 but computes in float32: eps=1e-7 matches it to "
            "float32 precision (about 1e-7 relative) on ordinary rows, and only to about 1e-2 "
            "on clipped rows, where float32 rounds 1 - 1e-7. torch binary_cross_entropy "
            "clamps the log at -100 instead. label_smoothing as Keras: y becomes y (1 - s) + s / 2."
        ),
    )
)

register(
    Loss(
        name="bce_logits",
        aliases=("binary_crossentropy_logits", "bce_with_logits", "binary_cross_entropy_with_logits"),
        task="binary",
        kernel=binary_cross_entropy_with_logits,
        gradient=binary_cross_entropy_with_logits_grad,
        pred_kind="logit",
        target_kind="binary",
        params=(LABEL_SMOOTHING,),
        zero_at_perfect=False,
        formula="mean(max(z, 0) - y z + log(1 + exp(-|z|))), z the logit",
        description="Binary cross-entropy on logits: exact, no clipping, no overflow.",
        reference="torch binary_cross_entropy_with_logits; Keras BinaryCrossentropy(from_logits=True)",
        explain=(
            "The same quantity as bce with p = sigmoid(z), computed in the softplus form so "
            "that no probability is rounded to 0 or 1 and no log of one is taken: finite "
            "and exact for |z| up to 1e300. Use it whenever the model outputs logits."
        ),
    )
)

register(
    Loss(
        name="focal",
        aliases=("focal_loss", "sigmoid_focal_loss"),
        task="binary",
        kernel=focal,
        gradient=focal_grad,
        pred_kind="probability",
        target_kind="binary",
        params=(
            Param("gamma", 2.0, "focusing power: how fast easy examples are down-weighted", domain=NON_NEGATIVE),
            Param("alpha", None, "weight of the positive class (none: no class weighting)", "float_or_none", UNIT),
        ),
        zero_at_perfect=False,
        formula="mean(-log(p_t) (1 - p_t)^gamma [alpha_t]), p_t = p if y = 1 else 1 - p",
        description="Focal loss: cross-entropy that down-weights easy, confident examples.",
        reference="torchvision.ops.sigmoid_focal_loss (on probabilities rather than logits)",
        explain=(
            "Multiplies the cross-entropy by (1 - p_t)^gamma, so examples the model already "
            "gets right with confidence count little and hard ones dominate: built for "
            "heavy class imbalance. gamma = 0 with alpha = none is exactly bce. torchvision "
            "defaults to alpha = 0.25; losscli defaults to none (no class weighting)."
        ),
    )
)

register(
    Loss(
        name="brier",
        aliases=("brier_score", "brier_score_loss"),
        task="binary",
        also_tasks=("multiclass",),
        kernel=brier,
        gradient=brier_grad,
        pred_kind="probability",
        target_kind="binary",
        soft_targets=True,
        formula="mean((p - y)^2); k >= 3 classes: mean(sum_k (p_k - [y = k])^2)",
        description="Brier score: the squared error of predicted probabilities.",
        reference="scikit-learn brier_score_loss (binary and multiclass)",
        explain=(
            "A proper scoring rule that, unlike log loss, stays bounded: a confident wrong "
            "prediction costs at most 1 (binary) or 2 (multiclass). As scikit-learn 1.9 "
            "(scale_by_half='auto'), two classes are binary in every layout: one column of "
            "positive-class probabilities or two class columns give the same value, half the "
            "sum over the two classes; three or more classes sum over classes (scikit-learn's "
            "scale_by_half=false gives twice the binary value). Keras and torch have no "
            "Brier loss; the hand-written MSE on probabilities equals the binary form."
        ),
    )
)

register(
    Loss(
        name="hinge",
        task="binary",
        kernel=hinge,
        gradient=hinge_grad,
        pred_kind="score",
        target_kind="binary",
        formula="mean(max(0, 1 - s z)), s = +1 for y = 1 and -1 for y = 0 (or -1), z the score",
        description="Hinge loss on raw decision scores: wants a margin of 1.",
        reference="scikit-learn hinge_loss (binary); Keras Hinge",
        explain=(
            "Zero once the score is on the right side with a margin of at least 1, then "
            "linear in the shortfall: the loss of support vector machines. Labels 0/1 are "
            "read as -1/+1. It expects raw scores; on probabilities in [0, 1] every positive "
            "row pays at least 1 - p."
        ),
    )
)

register(
    Loss(
        name="squared_hinge",
        task="binary",
        kernel=squared_hinge,
        gradient=squared_hinge_grad,
        pred_kind="score",
        target_kind="binary",
        formula="mean(max(0, 1 - s z)^2), s = +1 for y = 1 and -1 for y = 0 (or -1)",
        description="Squared hinge loss: the hinge squared, smooth at the margin.",
        reference="Keras SquaredHinge",
        explain=(
            "The hinge loss squared: differentiable at the margin and harsher on large "
            "violations. Labels 0/1 are read as -1/+1, as in Keras."
        ),
    )
)

register(
    Loss(
        name="zero_one",
        aliases=("zero_one_loss", "error_rate", "misclassification"),
        task="binary",
        also_tasks=("multiclass",),
        kernel=zero_one,
        gradient=zero_one_grad,
        pred_kind="score",
        target_kind="binary",
        params=(
            Param("threshold", 0.5, "binary: predict class 1 where the prediction > threshold", tasks=("binary",)),
        ),
        formula="mean([predicted class != y]); binary: class 1 where p > threshold; multiclass: argmax",
        description="Zero-one loss: the error rate (1 - accuracy).",
        reference="scikit-learn zero_one_loss (normalize=True)",
        explain=(
            "The fraction of rows whose predicted class is wrong. Binary: class 1 where the "
            "prediction is above threshold (0.5 for probabilities; use threshold=0 for "
            "scores or logits). Multiclass: the class with the largest prediction, the first "
            "one on ties, as numpy.argmax and scikit-learn's predict."
        ),
    )
)

register(
    Loss(
        name="focal_logits",
        aliases=("focal_loss_logits", "sigmoid_focal_loss_logits", "focal_with_logits"),
        task="binary",
        kernel=focal_with_logits,
        gradient=focal_with_logits_grad,
        pred_kind="logit",
        target_kind="binary",
        params=(
            Param("gamma", 2.0, "focusing power: how fast easy examples are down-weighted", domain=NON_NEGATIVE),
            Param("alpha", None, "weight of the positive class (none: no class weighting)", "float_or_none", UNIT),
        ),
        zero_at_perfect=False,
        formula="mean(bce_logits(z) (1 - p_t)^gamma [alpha_t]), p = sigmoid(z), p_t = p if y = 1 else 1 - p",
        description="Focal loss on logits: the torchvision sigmoid_focal_loss form, exact for any logit.",
        reference="torchvision.ops.sigmoid_focal_loss (alpha=none there is alpha < 0)",
        explain=(
            "torchvision's sigmoid_focal_loss on the logits it takes: the softplus cross-entropy "
            "times (1 - p_t)^gamma, with 1 - p_t computed as sigmoid(-z) or sigmoid(z) so a "
            "confident right answer costs a tiny positive number rather than exactly 0. "
            "torchvision defaults to alpha = 0.25 (alpha < 0 switches weighting off); losscli "
            "defaults to none: pass alpha=0.25 to match torchvision's default. gamma = 0 with "
            "alpha = none is exactly bce_logits."
        ),
    )
)
