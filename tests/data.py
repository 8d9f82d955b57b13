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


def cases(loss: Loss) -> list[Task]:
    """Every task a loss serves (brier and zero_one serve two)."""
    return list(loss.tasks)


def make_data(loss: Loss, n: int, seed: int, task: Task | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) in the shape and domain ``loss`` takes for ``task``."""
    rng = np.random.default_rng(seed)
    task = task or loss.task
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
    if task == "regression":
        return y.copy()
    if task == "binary":
        if loss.pred_kind in ("score", "logit") and loss.name != "zero_one":
            return np.where(y > 0, 5.0, -5.0)  # beyond the hinge margin
        return y.copy()
    onehot = np.eye(len(CLASSES))[y]
    return onehot * 5.0 if loss.pred_kind == "score" else onehot


def frame(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    if y.ndim == 2:
        cols |= {f"y.{c}": y[:, k] for k, c in enumerate(CLASSES)}
    else:
        cols["y"] = y
    if p.ndim == 2:
        cols |= {f"m.{c}": p[:, k] for k, c in enumerate(CLASSES)}
    else:
        cols["m"] = p
    if w is not None:
        cols["w"] = w
    return pd.DataFrame(cols)


def losscli_value(loss: Loss, y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None, **params: Any) -> float:
    """What losscli's public API says, for one model under one loss."""
    spec = loss.name + "".join(f":{k}={format_value(v)}" for k, v in params.items())
    result = evaluate(frame(y, p, w), [spec], target="y", preds=["m*"], weight="w" if w is not None else None)
    assert len(result) == 1
    return float(result["value"].iloc[0])
