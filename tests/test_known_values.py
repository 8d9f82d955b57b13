"""Every registered loss against an independent reference, with and without weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from losscli import losses

from .data import losscli_value, make_data
from .reference import PARAM_CASES, REFERENCES

CASES = [
    pytest.param(loss.name, params, id=f"{loss.name}-{params or 'defaults'}")
    for loss in losses.all_losses()
    for params in [{}, *PARAM_CASES.get(loss.name, [])]
]


@pytest.mark.parametrize(("name", "params"), CASES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_matches_reference(name: str, params: dict[str, Any], weighted: bool) -> None:
    loss = losses.get(name)
    y, p = make_data(loss, n=500, seed=len(name))
    w = np.random.default_rng(1).uniform(0.1, 3.0, len(y)) if weighted else None
    expected = REFERENCES[name](y, p, w, **params)
    assert losscli_value(loss, y, p, w, **params) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_huber_by_hand_values() -> None:
    # |r| = 0.5 -> 0.125; |r| = 3 with delta 1 -> 1 * (3 - 0.5) = 2.5
    got = losses.get("huber").per_row(np.array([0.0, 0.0]), np.array([0.5, -3.0]))
    assert got.tolist() == [0.125, 2.5]


def test_bce_at_the_clip_is_minus_log_eps() -> None:
    eps = np.finfo(np.float64).eps
    got = losses.get("bce").per_row(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    np.testing.assert_allclose(got, -np.log(eps), rtol=1e-12)


def test_hinge_reads_zero_labels_as_minus_one() -> None:
    # y=0 is the negative class: score -0.5 leaves a shortfall of 0.5 to the margin.
    got = losses.get("hinge").per_row(np.array([0.0, 1.0]), np.array([-0.5, 2.0]))
    assert got.tolist() == [0.5, 0.0]


def test_rmse_takes_the_root_after_the_weighted_mean() -> None:
    y = np.zeros(4)
    p = np.array([1.0, 1.0, 3.0, 3.0])
    w = np.array([3.0, 1.0, 0.0, 0.0])
    # Only the weight-1 residuals count: sqrt(mean(1)) = 1, not mean(sqrt) of anything else.
    assert losscli_value(losses.get("rmse"), y, p, w) == 1.0
    assert losscli_value(losses.get("rmse"), y, p) == pytest.approx(np.sqrt(5.0))
