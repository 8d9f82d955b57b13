"""Random test data shaped for each loss and task, and a helper that runs losscli on it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import log_softmax, softmax

from losscli import evaluate
from losscli.losses import Loss, Task
from losscli.spec import format_value

CLASSES = ("a", "b", "c")
# The quantile levels of test quantile-set models: columns m.q10, m.q50, m.q90.
LEVELS = (0.1, 0.5, 0.9)


def kernel_args(loss: Loss) -> dict[str, Any]:
    """What a kernel needs beyond the loss's parameters: a quantile set's levels."""
    return {"levels": np.array(LEVELS)} if loss.pred_shape == "quantiles" else {}


def cases(loss: Loss) -> list[Task]:
    """Every task a loss serves (brier and zero_one serve two)."""
    return list(loss.tasks)


def make_data(loss: Loss, n: int, seed: int, task: Task | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) in the shape and domain ``loss`` takes for ``task``."""
    rng = np.random.default_rng(seed)
    task = task or loss.task
    if task == "regression" and loss.pred_shape == "gaussian":
        y = rng.normal(3.0, 2.0, n)
        return y, np.column_stack([y + rng.standard_t(df=3, size=n), rng.lognormal(-0.5, 0.8, n)])
    if task == "regression" and loss.pred_shape == "quantiles":
        y = rng.normal(3.0, 2.0, n)
        centre = y + rng.normal(0.0, 1.0, n)
        spread = rng.lognormal(0.0, 0.5, n)
        return y, np.column_stack([centre - 1.28 * spread, centre, centre + 1.28 * spread])
    if task == "regression":
        if loss.value_domain is not None:  # logs and deviances: keep both sides positive
            y = rng.gamma(2.0, 2.0, n) + 0.05
            return y, y * rng.lognormal(0.0, 0.4, n)
        y = rng.normal(3.0, 2.0, n)
        return y, y + rng.standard_t(df=2, size=n)  # heavy tails: some residuals are large
    if task == "binary":
        y = rng.integers(0, 2, n).astype(float)
        if loss.pred_kind == "probability" or loss.name == "zero_one":
            p = rng.uniform(0, 1, n)
            p[:3] = [0.0, 1.0, 0.5][: min(n, 3)]  # the clipped edges and the threshold
        elif loss.pred_kind == "logit":
            p = rng.normal(0, 3, n)
        else:
            p = rng.normal(0, 2, n)
        return y, p
    y = rng.integers(0, len(CLASSES), n)
    scores = rng.normal(0, 1.5, (n, len(CLASSES)))
    if loss.pred_kind == "probability":
        return y, softmax(scores, axis=1)
    if loss.pred_kind == "log_probability":
        return y, log_softmax(scores, axis=1)
    return y, scores


def perfect(loss: Loss, y: np.ndarray, task: Task) -> np.ndarray:
    """Predictions that are exactly right in the loss's own terms."""
    if task == "regression" and loss.pred_shape == "gaussian":
        return np.column_stack([y, np.zeros_like(y)])  # a point mass on the target
    if task == "regression" and loss.pred_shape == "quantiles":
        return np.column_stack([y, y, y])
    if task == "regression":
        return y.copy()
    if task == "binary":
        if loss.pred_kind in ("score", "logit") and loss.name != "zero_one":
            return np.where(y > 0, 5.0, -5.0)  # beyond the hinge margin
        return y.copy()
    onehot = np.eye(len(CLASSES))[y]
    # Scores: +5 for the true class, -5 for the others (one-vs-all wants both margins).
    return onehot * 10.0 - 5.0 if loss.pred_kind == "score" else onehot


def frame(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None, shape: str = "point") -> pd.DataFrame:
    cols: dict[str, Any] = {}
    if y.ndim == 2:
        cols |= {f"y.{c}": y[:, k] for k, c in enumerate(CLASSES)}
    else:
        cols["y"] = y
    if shape == "gaussian":
        cols |= {"m.mean": p[:, 0], "m.var": p[:, 1]}
    elif shape == "quantiles":
        cols |= {f"m.q{100 * q:g}": p[:, k] for k, q in enumerate(LEVELS)}
    elif p.ndim == 2:
        cols |= {f"m.{c}": p[:, k] for k, c in enumerate(CLASSES)}
    else:
        cols["m"] = p
    if w is not None:
        cols["w"] = w
    return pd.DataFrame(cols)


def losscli_value(loss: Loss, y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None, **params: Any) -> float:
    """What losscli's public API says, for one model under one loss."""
    spec = loss.name + "".join(f":{k}={format_value(v)}" for k, v in params.items())
    result = evaluate(
        frame(y, p, w, loss.pred_shape), [spec], target="y", preds=["m*"], weight="w" if w is not None else None
    )
    assert len(result) == 1
    return float(result["value"].iloc[0])
