"""Properties every loss must have, chosen by the flags the registry declares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli import losses
from losscli.core.accumulate import MeanState

from .data import kernel_args, make_data, perfect


def _params(flag: str | None = None) -> list:
    return [
        pytest.param(loss, task, id=f"{loss.name}-{task}")
        for loss in losses.all_losses()
        for task in loss.tasks
        if flag is None or getattr(loss, flag)
    ]


seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=60)


def mean_of(loss: losses.Loss, y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float:
    state = MeanState()
    state.update(loss.per_row(y, p, **kernel_args(loss)), w)
    return loss.finish(float(state.mean()[0]))


@pytest.mark.parametrize(("loss", "task"), _params("nonnegative"))
@given(seed=seeds, n=sizes)
@settings(max_examples=25, deadline=None)
def test_nonnegative(loss: losses.Loss, task, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed, task)
    assert (loss.per_row(y, p, **kernel_args(loss)) >= 0).all()


@pytest.mark.parametrize(("loss", "task"), _params("zero_at_perfect"))
@given(seed=seeds, n=sizes)
@settings(max_examples=25, deadline=None)
def test_zero_at_a_perfect_prediction(loss: losses.Loss, task, seed: int, n: int) -> None:
    y, _ = make_data(loss, n, seed, task)
    np.testing.assert_allclose(loss.per_row(y, perfect(loss, y, task), **kernel_args(loss)), 0.0, atol=1e-15)


@pytest.mark.parametrize(("loss", "task"), _params("symmetric"))
@given(seed=seeds, n=sizes)
@settings(max_examples=25, deadline=None)
def test_symmetric_in_target_and_prediction(loss: losses.Loss, task, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed, task)
    np.testing.assert_allclose(
        loss.per_row(p, y, **kernel_args(loss)), loss.per_row(y, p, **kernel_args(loss)), rtol=1e-12
    )


@pytest.mark.parametrize(("loss", "task"), _params())
@given(seed=seeds, n=sizes)
@settings(max_examples=20, deadline=None)
def test_invariant_to_row_order(loss: losses.Loss, task, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed, task)
    order = np.random.default_rng(seed).permutation(n)
    assert mean_of(loss, y[order], p[order]) == pytest.approx(mean_of(loss, y, p), rel=1e-12)


@pytest.mark.parametrize(("loss", "task"), _params())
@given(seed=seeds, n=sizes)
@settings(max_examples=20, deadline=None)
def test_unit_weights_equal_no_weights(loss: losses.Loss, task, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed, task)
    assert mean_of(loss, y, p, np.ones(n)) == pytest.approx(mean_of(loss, y, p), rel=1e-12)


@pytest.mark.parametrize(("loss", "task"), _params())
@given(seed=seeds, n=sizes)
@settings(max_examples=20, deadline=None)
def test_integer_weights_equal_repeated_rows(loss: losses.Loss, task, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed, task)
    counts = np.random.default_rng(seed).integers(0, 4, n)
    if counts.sum() == 0:
        counts[0] = 1
    repeated = mean_of(loss, np.repeat(y, counts, axis=0), np.repeat(p, counts, axis=0))
    assert mean_of(loss, y, p, counts.astype(float)) == pytest.approx(repeated, rel=1e-12)


def test_every_loss_is_classified() -> None:
    """Like scikit-learn's test_common: no loss escapes the property flags unexamined."""
    for loss in losses.all_losses():
        assert isinstance(loss.nonnegative, bool)
        assert isinstance(loss.zero_at_perfect, bool)
        assert isinstance(loss.symmetric, bool)
        if loss.zero_at_perfect:
            assert loss.nonnegative, f"{loss.name}: zero at perfect but may be negative?"


RESIDUAL = [pytest.param(loss, id=loss.name) for loss in losses.all_losses() if loss.residual_kernel is not None]


@pytest.mark.parametrize("loss", RESIDUAL)
@given(seed=seeds, n=sizes)
@settings(max_examples=25, deadline=None)
def test_residual_kernel_is_the_same_loss(loss: losses.Loss, seed: int, n: int) -> None:
    """The shared-residual fast path computes exactly the declared loss."""
    y, p = make_data(loss, n, seed)
    params = loss.defaults()
    np.testing.assert_allclose(loss.residual_kernel(p - y, **params), loss.kernel(y, p, **params), rtol=1e-15)


def test_blocks_and_shared_terms_give_the_kernels_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from losscli.core import compute
    from losscli.spec import parse_specs

    monkeypatch.setattr(compute, "BLOCK_ROWS", 7)  # many blocks, a ragged last one
    specs = parse_specs(["mse", "rmse", "mae", "huber:delta=0.5", "log_cosh", "quantile:alpha=0.2", "mape", "poisson"])
    rng = np.random.default_rng(0)
    y = rng.gamma(2.0, 1.0, 100) + 0.1
    p = y * rng.lognormal(0, 0.3, 100)
    got = compute.batch_losses(specs, y, p)
    for spec, values in zip(specs, got, strict=True):
        np.testing.assert_allclose(values, spec.loss.kernel(y, p, **spec.params), rtol=1e-15)
    assert got[0] is got[1]  # mse and rmse share one computation


SKILLS = [pytest.param(loss, id=loss.name) for loss in losses.all_losses() if loss.skill is not None]


@pytest.mark.parametrize("loss", SKILLS)
@given(seed=seeds, n=st.integers(min_value=2, max_value=60))
@settings(max_examples=15, deadline=None)
def test_a_skill_score_is_one_at_perfect_and_never_above(loss: losses.Loss, seed: int, n: int) -> None:
    """D2 = 1 - dev(model) / dev(best constant): 1 for a perfect model, at most 1 for any."""
    import pandas as pd

    from losscli import evaluate

    y, p = make_data(loss, n, seed)
    df = pd.DataFrame({"y": y, "model": p, "perfect": y})
    got = evaluate(df, [loss.name]).set_index("model")["value"]
    assert got["perfect"] == 1.0
    assert got["model"] <= 1.0 + 1e-12
