"""Every loss's declared gradient (d loss / d y_pred) against a central finite difference.

For every loss, every task it serves and every parameter set the reference tests use.
Kinks (hinge margins, |r| at 0, clipping edges) have no derivative: a point is compared
only where the two one-sided differences agree, which is where the loss is smooth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from losscli import losses

from .data import kernel_args, make_data
from .reference import PARAM_CASES

CASES = [
    pytest.param(loss, task, params, id=f"{loss.name}-{task}-{params or 'defaults'}")
    for loss in losses.all_losses()
    for task in loss.tasks
    for params in [{}, *PARAM_CASES.get(loss.name, [])]
    if task == loss.task or not params
]

H = 1e-6


def _one_sided(loss: losses.Loss, y: np.ndarray, p: np.ndarray, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """(forward, backward) differences of each row's loss in each entry of y_pred."""
    forward = np.empty_like(p)
    backward = np.empty_like(p)
    base = loss.per_row(y, p, **params)
    flat_p = p.reshape(len(p), -1)
    for j in range(flat_p.shape[1]):
        up, down = flat_p.copy(), flat_p.copy()
        step = H * np.maximum(1.0, np.abs(flat_p[:, j]))
        up[:, j] += step
        down[:, j] -= step
        f_up = loss.per_row(y, up.reshape(p.shape), **params)
        f_down = loss.per_row(y, down.reshape(p.shape), **params)
        forward.reshape(len(p), -1)[:, j] = (f_up - base) / step
        backward.reshape(len(p), -1)[:, j] = (base - f_down) / step
    return forward, backward


@pytest.mark.parametrize(("loss", "task", "params"), CASES)
def test_gradient_is_the_central_difference(loss: losses.Loss, task: Any, params: dict[str, Any]) -> None:
    y, p = make_data(loss, n=200, seed=7, task=task)
    params = params | kernel_args(loss)
    if loss.pred_kind == "probability":  # stay off the clipping edges 0 and 1
        p = np.clip(p, 1e-3, 1 - 1e-3)
        if p.ndim == 2:
            p = p / p.sum(axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        forward, backward = _one_sided(loss, y, p, params)
        grad = loss.grad(y, p, **params)
    assert grad.shape == p.shape
    central = (forward + backward) / 2
    scale = np.maximum(1.0, np.abs(central))
    smooth = np.isfinite(central) & (np.abs(forward - backward) <= 1e-4 * scale)
    assert smooth.mean() > 0.5, "too few smooth points to check"
    np.testing.assert_allclose(grad[smooth], central[smooth], rtol=1e-4, atol=1e-5 * scale[smooth].max())


def test_every_loss_declares_a_gradient() -> None:
    missing = [loss.name for loss in losses.all_losses() if loss.gradient is None]
    assert not missing


def test_huber_gradient_is_bounded_by_delta_and_mse_is_not() -> None:
    r = np.linspace(-100, 100, 1001)
    y = np.zeros_like(r)
    assert np.abs(losses.get("huber").grad(y, r, delta=1.5)).max() == 1.5
    assert np.abs(losses.get("mse").grad(y, r)).max() == 200.0


def test_pinball_over_a_quantile_set_has_the_central_difference_gradient() -> None:
    loss = losses.get("quantile")
    rng = np.random.default_rng(2)
    y = rng.normal(size=100)
    q = np.sort(y[:, None] + rng.normal(size=(100, 3)), axis=1)
    levels = np.array([0.1, 0.5, 0.9])
    assert loss.on_quantiles is not None
    assert loss.on_quantiles_gradient is not None
    grad = loss.on_quantiles_gradient(y, q, levels=levels)
    for j in range(3):
        up, down = q.copy(), q.copy()
        up[:, j] += H
        down[:, j] -= H
        central = (loss.on_quantiles(y, up, levels=levels) - loss.on_quantiles(y, down, levels=levels)) / (2 * H)
        np.testing.assert_allclose(grad[:, j], central, rtol=1e-6, atol=1e-8)
