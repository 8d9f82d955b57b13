"""Every registered loss against an independent reference, with and without weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn import metrics

from losscli import losses

from .data import losscli_value, make_data
from .reference import PARAM_CASES, REFERENCES

CASES = [
    pytest.param(loss.name, task, params, id=f"{loss.name}-{task}-{params or 'defaults'}")
    for loss in losses.all_losses()
    for task in loss.tasks
    for params in [{}, *PARAM_CASES.get(loss.name, [])]
    if task == loss.task or not params  # second tasks: defaults only
]


@pytest.mark.parametrize(("name", "task", "params"), CASES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_matches_reference(name: str, task: Any, params: dict[str, Any], weighted: bool) -> None:
    loss = losses.get(name)
    y, p = make_data(loss, n=500, seed=len(name), task=task)
    w = np.random.default_rng(1).uniform(0.1, 3.0, len(y)) if weighted else None
    expected = REFERENCES[name](y, p, w, **params)
    assert np.isfinite(expected)
    assert losscli_value(loss, y, p, w, **params) == pytest.approx(expected, rel=1e-10, abs=1e-13)


SOFT = [pytest.param(loss.name, id=loss.name) for loss in losses.all_losses() if loss.soft_targets]


@pytest.mark.parametrize("name", SOFT)
def test_soft_targets(name: str) -> None:
    loss = losses.get(name)
    rng = np.random.default_rng(5)
    t = rng.dirichlet([1.0, 2.0, 0.5], size=300)
    t[:5] = np.eye(3)[[0, 1, 2, 0, 1]]  # some hard rows: 0 log 0 terms
    _, p = make_data(loss, 300, seed=6, task="multiclass")
    w = rng.uniform(0.5, 2.0, 300)
    assert losscli_value(loss, t, p, w) == pytest.approx(REFERENCES[name](t, p, w), rel=1e-10)


# --- identities between losses, each checked against its definition --------------------------


def test_huber_by_hand_values() -> None:
    # |r| = 0.5 -> 0.125; |r| = 3 with delta 1 -> 1 * (3 - 0.5) = 2.5
    got = losses.get("huber").per_row(np.array([0.0, 0.0]), np.array([0.5, -3.0]))
    assert got.tolist() == [0.125, 2.5]


def test_smooth_l1_is_huber_over_beta() -> None:
    y, p = make_data(losses.get("huber"), 200, seed=3)
    for beta in (0.5, 1.0, 4.0):
        np.testing.assert_allclose(losses.smooth_l1(y, p, beta=beta), losses.huber(y, p, delta=beta) / beta, rtol=1e-12)


def test_quantile_at_one_half_is_half_the_mae() -> None:
    y, p = make_data(losses.get("mae"), 200, seed=4)
    assert losscli_value(losses.get("quantile"), y, p) == pytest.approx(
        0.5 * metrics.mean_absolute_error(y, p), rel=1e-12
    )


def test_focal_with_gamma_zero_is_bce() -> None:
    y, p = make_data(losses.get("bce"), 300, seed=8)
    assert losscli_value(losses.get("focal"), y, p, gamma=0.0) == pytest.approx(
        metrics.log_loss(y, p, labels=[0, 1]), rel=1e-12
    )


def test_tweedie_powers_are_the_named_deviances() -> None:
    y, p = make_data(losses.get("poisson"), 300, seed=9)
    assert losscli_value(losses.get("tweedie"), y, p, power=1.0) == pytest.approx(
        metrics.mean_poisson_deviance(y, p), rel=1e-12
    )
    assert losscli_value(losses.get("tweedie"), y, p, power=2.0) == pytest.approx(
        metrics.mean_gamma_deviance(y, p), rel=1e-12
    )
    assert losscli_value(losses.get("tweedie"), y, p) == pytest.approx(metrics.mean_squared_error(y, p), rel=1e-12)


def test_bce_logits_equals_bce_on_sigmoid() -> None:
    y, z = make_data(losses.get("bce_logits"), 300, seed=10)
    p = 1 / (1 + np.exp(-z))
    assert losscli_value(losses.get("bce_logits"), y, z) == pytest.approx(
        metrics.log_loss(y, p, labels=[0, 1]), rel=1e-9
    )


def test_nll_on_log_probabilities_is_cce_on_probabilities() -> None:
    y, logp = make_data(losses.get("nll"), 300, seed=11)
    assert losscli_value(losses.get("nll"), y, logp) == pytest.approx(
        metrics.log_loss(y, np.exp(logp), labels=[0, 1, 2]), rel=1e-10
    )


def test_brier_of_two_class_columns_is_the_binary_score() -> None:
    """scikit-learn 1.9 (scale_by_half="auto"): two classes are binary in either layout."""
    y, p = make_data(losses.get("brier"), 300, seed=12, task="binary")
    two = np.column_stack([1 - p, p])
    binary = losses.brier(y, p).mean()
    multiclass = losses.brier(y.astype(int), two).mean()
    assert multiclass == pytest.approx(binary, rel=1e-12)
    assert multiclass == pytest.approx(metrics.brier_score_loss(y.astype(int), two), rel=1e-12)


def test_mape_guards_zero_targets_with_float64_eps() -> None:
    got = losses.get("mape").per_row(np.array([0.0]), np.array([1.0]))
    assert got.tolist() == [1.0 / np.finfo(np.float64).eps]


def test_smape_counts_zero_over_zero_as_zero() -> None:
    assert losses.get("smape").per_row(np.array([0.0, 0.0]), np.array([0.0, 2.0])).tolist() == [0.0, 2.0]


def test_zero_one_breaks_ties_towards_the_first_class() -> None:
    got = losses.get("zero_one").per_row(np.array([0, 1]), np.array([[0.5, 0.5], [0.5, 0.5]]))
    assert got.tolist() == [0.0, 1.0]


# --- stability: extreme inputs give finite values equal to the analytic limit ----------------


def test_log_cosh_is_finite_for_huge_residuals() -> None:
    r = np.array([1e300, -1e300, 800.0, 1e-8])
    got = losses.log_cosh(np.zeros(4), r)
    assert np.isfinite(got).all()
    # limit |r| - log 2 for large |r|; r^2 / 2 for tiny r
    np.testing.assert_allclose(got[:3], np.abs(r[:3]) - np.log(2), rtol=1e-15)
    assert got[3] == pytest.approx(0.5e-16, rel=1e-6)


def test_bce_logits_is_finite_and_exact_for_huge_logits() -> None:
    y = np.array([1.0, 0.0, 1.0, 0.0])
    z = np.array([1e300, 1e300, -1e4, -1e4])
    got = losses.binary_cross_entropy_with_logits(y, z)
    np.testing.assert_array_equal(got, [0.0, 1e300, 1e4, 0.0])


def test_bce_at_probabilities_exactly_zero_and_one() -> None:
    got = losses.get("bce").per_row(np.array([0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0]))
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(got[:2], -np.log(eps), rtol=1e-12)
    np.testing.assert_allclose(got[2:], -np.log1p(-eps), rtol=1e-12)


def test_cce_logits_is_exact_for_logits_of_ten_thousand() -> None:
    z = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]])
    got = losses.categorical_cross_entropy_with_logits(np.array([0, 1]), z)
    np.testing.assert_array_equal(got, [0.0, 2e4])


def test_cce_at_probability_zero_is_minus_log_eps() -> None:
    got = losses.get("cce").per_row(np.array([1]), np.array([[1.0, 0.0]]))
    assert got[0] == pytest.approx(-np.log(np.finfo(np.float64).eps), rel=1e-12)


def test_kl_div_is_infinite_where_the_target_has_mass_and_p_is_zero() -> None:
    got = losses.kl_divergence(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]]))
    assert got.tolist() == [np.inf]


def test_rmse_takes_the_root_after_the_weighted_mean() -> None:
    y = np.zeros(4)
    p = np.array([1.0, 1.0, 3.0, 3.0])
    w = np.array([3.0, 1.0, 0.0, 0.0])
    assert losscli_value(losses.get("rmse"), y, p, w) == 1.0
    assert losscli_value(losses.get("rmse"), y, p) == pytest.approx(np.sqrt(5.0))
