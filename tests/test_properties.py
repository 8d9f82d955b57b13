"""Properties every loss must have, chosen by the flags the registry declares."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli import losses
from losscli.accumulate import MeanState

from .data import make_data

ALL = [pytest.param(loss, id=loss.name) for loss in losses.all_losses()]
NONNEGATIVE = [pytest.param(loss, id=loss.name) for loss in losses.all_losses() if loss.nonnegative]
ZERO_AT_PERFECT = [pytest.param(loss, id=loss.name) for loss in losses.all_losses() if loss.zero_at_perfect]

seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=60)


def mean_of(loss: losses.Loss, y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float:
    state = MeanState()
    state.update(loss.per_row(y, p), w)
    return loss.finish(state.mean())


@pytest.mark.parametrize("loss", NONNEGATIVE)
@given(seed=seeds, n=sizes)
@settings(max_examples=40, deadline=None)
def test_nonnegative(loss: losses.Loss, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed)
    assert (loss.per_row(y, p) >= 0).all()


@pytest.mark.parametrize("loss", ZERO_AT_PERFECT)
@given(seed=seeds, n=sizes)
@settings(max_examples=30, deadline=None)
def test_zero_at_perfect_prediction(loss: losses.Loss, seed: int, n: int) -> None:
    y, _ = make_data(loss, n, seed)
    perfect = y if loss.pred_kind == "real" else np.where(y > 0, 1.0, -1.0) * 5.0
    assert np.all(loss.per_row(y, perfect) == 0)


@pytest.mark.parametrize("loss", ALL)
@given(seed=seeds, n=sizes)
@settings(max_examples=30, deadline=None)
def test_invariant_to_row_order(loss: losses.Loss, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed)
    order = np.random.default_rng(seed).permutation(n)
    assert mean_of(loss, y[order], p[order]) == pytest.approx(mean_of(loss, y, p), rel=1e-12)


@pytest.mark.parametrize("loss", ALL)
@given(seed=seeds, n=sizes)
@settings(max_examples=30, deadline=None)
def test_unit_weights_equal_no_weights(loss: losses.Loss, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed)
    assert mean_of(loss, y, p, np.ones(n)) == pytest.approx(mean_of(loss, y, p), rel=1e-12)


@pytest.mark.parametrize("loss", ALL)
@given(seed=seeds, n=sizes)
@settings(max_examples=30, deadline=None)
def test_integer_weights_equal_repeated_rows(loss: losses.Loss, seed: int, n: int) -> None:
    y, p = make_data(loss, n, seed)
    counts = np.random.default_rng(seed).integers(0, 4, n)
    if counts.sum() == 0:
        counts[0] = 1
    repeated = mean_of(loss, np.repeat(y, counts, axis=0), np.repeat(p, counts, axis=0))
    assert mean_of(loss, y, p, counts.astype(float)) == pytest.approx(repeated, rel=1e-12)
