"""Losses that follow torch's conventions, checked against torch itself.

Skipped where torch is not installed (it is not a test dependency: too large).
CI installs the CPU build when the machine has it on disk and runs this file.
"""

from __future__ import annotations

import numpy as np
import pytest

from losscli import losses

from .data import losscli_value, make_data

torch = pytest.importorskip("torch")
F = torch.nn.functional


def t(a: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(a)).double()


@pytest.mark.parametrize(
    ("name", "params", "reference"),
    [
        ("mse", {}, lambda y, p: F.mse_loss(t(p), t(y))),
        ("mae", {}, lambda y, p: F.l1_loss(t(p), t(y))),
        ("huber", {}, lambda y, p: F.huber_loss(t(p), t(y))),
        ("huber", {"delta": 2.5}, lambda y, p: F.huber_loss(t(p), t(y), delta=2.5)),
        ("smooth_l1", {"beta": 0.3}, lambda y, p: F.smooth_l1_loss(t(p), t(y), beta=0.3)),
        ("smooth_l1", {"beta": 0.0}, lambda y, p: F.smooth_l1_loss(t(p), t(y), beta=0.0)),
        ("bce_logits", {}, lambda y, z: F.binary_cross_entropy_with_logits(t(z), t(y))),
        ("bce", {}, lambda y, p: F.binary_cross_entropy(t(np.clip(p, 1e-12, 1 - 1e-12)), t(y))),
        ("cce_logits", {}, lambda y, z: F.cross_entropy(t(z), torch.from_numpy(y))),
        (
            "cce_logits",
            {"label_smoothing": 0.1},
            lambda y, z: F.cross_entropy(t(z), torch.from_numpy(y), label_smoothing=0.1),
        ),
        ("nll", {}, lambda y, logp: F.nll_loss(t(logp), torch.from_numpy(y))),
        ("kl_div", {}, lambda y, p: F.kl_div(t(np.log(p)), t(np.eye(p.shape[1])[y]), reduction="batchmean")),
    ],
)
def test_matches_torch(name: str, params: dict, reference) -> None:
    loss = losses.get(name)
    y, p = make_data(loss, 400, seed=21)
    if name == "bce":
        p = np.clip(p, 1e-12, 1 - 1e-12)  # torch clamps log at -100 where scikit-learn clips at eps
    expected = float(reference(y, p))
    assert losscli_value(loss, y, p, **params) == pytest.approx(expected, rel=1e-10)


def test_cross_entropy_with_soft_targets_and_smoothing_matches_torch() -> None:
    rng = np.random.default_rng(3)
    target = rng.dirichlet([1.0, 1.0, 1.0], 200)
    z = rng.normal(0, 2, (200, 3))
    expected = float(F.cross_entropy(t(z), t(target), label_smoothing=0.2))
    assert losscli_value(losses.get("cce_logits"), target, z, label_smoothing=0.2) == pytest.approx(expected, rel=1e-10)


def test_focal_matches_torchvision_formula_in_torch() -> None:
    # torchvision.ops.sigmoid_focal_loss, written with torch ops on logit(p)
    loss = losses.get("focal")
    y, p = make_data(loss, 300, seed=4)
    p = np.clip(p, 1e-6, 1 - 1e-6)
    inputs = t(np.log(p / (1 - p)))
    targets = t(y)
    prob = torch.sigmoid(inputs)
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = prob * targets + (1 - prob) * (1 - targets)
    focal = ce * ((1 - p_t) ** 2.0)
    focal = (0.25 * targets + 0.75 * (1 - targets)) * focal
    assert losscli_value(loss, y, p, gamma=2.0, alpha=0.25) == pytest.approx(float(focal.mean()), rel=1e-8)


def test_focal_logits_matches_torchvision_formula_in_torch() -> None:
    # torchvision.ops.sigmoid_focal_loss, written with torch ops on the logits themselves
    loss = losses.get("focal_logits")
    y, z = make_data(loss, 300, seed=5)
    inputs, targets = t(z), t(y)
    prob = torch.sigmoid(inputs)
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = prob * targets + (1 - prob) * (1 - targets)
    focal = ce * ((1 - p_t) ** 2.0)
    focal = (0.25 * targets + 0.75 * (1 - targets)) * focal
    assert losscli_value(loss, y, z, gamma=2.0, alpha=0.25) == pytest.approx(float(focal.mean()), rel=1e-8)


def test_kl_div_unnormalized_matches_torch_kl_div() -> None:
    rng = np.random.default_rng(8)
    target = rng.dirichlet([1.0, 2.0, 1.0], 100)
    p = rng.uniform(0.05, 0.9, (100, 3))  # rows do not sum to 1
    expected = float(F.kl_div(t(np.log(p)), t(target), reduction="batchmean"))
    got = losscli_value(losses.get("kl_div"), target, p, unnormalized=True)
    assert got == pytest.approx(expected, rel=1e-10)


def test_sum_reduction_matches_torch_reduction_sum() -> None:
    from losscli import evaluate

    from .data import frame

    rng = np.random.default_rng(9)
    y = rng.normal(size=200)
    p = y + rng.standard_t(2, 200)
    got = evaluate(frame(y, p), ["huber", "mse"], target="y", reduction="sum")["value"].tolist()
    assert got[0] == pytest.approx(float(F.huber_loss(t(p), t(y), reduction="sum")), rel=1e-10)
    assert got[1] == pytest.approx(float(F.mse_loss(t(p), t(y), reduction="sum")), rel=1e-10)


def test_ignore_index_matches_torch_cross_entropy() -> None:
    from losscli import evaluate

    rng = np.random.default_rng(10)
    z = rng.normal(0, 2, (120, 3))
    y = rng.integers(0, 3, 120)
    y[rng.random(120) < 0.25] = -100
    df = {"y": y} | {f"m.{c}": z[:, k] for k, c in enumerate("abc")}
    import pandas as pd

    got = evaluate(pd.DataFrame(df), ["cce_logits:ignore_index=-100"], classes=["0", "1", "2"])
    expected = float(F.cross_entropy(t(z), torch.from_numpy(y), ignore_index=-100))
    assert got["value"].iloc[0] == pytest.approx(expected, rel=1e-10)
    assert got["n"].iloc[0] == int((y != -100).sum())


@pytest.mark.parametrize("params", [{}, {"full": True}, {"eps": 0.5}])
def test_gaussian_nll_matches_torch_gaussian_nll_loss(params: dict) -> None:
    loss = losses.get("gaussian_nll")
    y, p = make_data(loss, 300, seed=12)
    criterion = torch.nn.GaussianNLLLoss(full=params.get("full", False), eps=params.get("eps", 1e-6))
    expected = float(criterion(t(p[:, 0]), t(y), t(p[:, 1])))
    assert losscli_value(loss, y, p, **params) == pytest.approx(expected, rel=1e-10)
