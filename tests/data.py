"""Random test data shaped for each task, and a helper that runs losscli on it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from losscli import evaluate
from losscli.losses import Loss
from losscli.spec import format_value

CLASSES = ("a", "b", "c")


def make_data(loss: Loss, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) in the shape and domain ``loss`` takes."""
    rng = np.random.default_rng(seed)
    if loss.task == "regression":
        y = rng.normal(3.0, 2.0, n)
        p = y + rng.standard_t(df=2, size=n)  # heavy tails: some residuals are large
        return y, p
    if loss.task == "binary":
        y = rng.integers(0, 2, n).astype(float)
        if loss.pred_kind == "probability":
            p = rng.uniform(0, 1, n)
            p[:3] = [0.0, 1.0, 0.5][: min(n, 3)]  # the clipped edges
        else:
            p = rng.normal(0, 2, n)
        return y, p
    y = rng.integers(0, len(CLASSES), n)
    logits = rng.normal(0, 1.5, (n, len(CLASSES)))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, p


def frame(loss: Loss, y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> pd.DataFrame:
    cols: dict[str, Any] = {"y": y}
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
    result = evaluate(frame(loss, y, p, w), [spec], target="y", weight="w" if w is not None else None)
    assert len(result) == 1
    return float(result["value"].iloc[0])
