"""Block forms (losses/_block.py) and the sums reduced in blocks give the per-row formulas' numbers.

Each block form is checked row by row against the registry's kernel and against the formula
written out here, on adversarial data (residuals from 1e-150 to 1e150, alpha at and near 0, 0.5
and 1); the sums the evaluator keeps are checked against exact sums (math.fsum) of the plain
formula, and against scikit-learn. rtol 1e-12 throughout; atol 1e-300 only lets results in the
subnormal range (below 2.2e-308, where float64 has no relative precision) round differently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import log_loss, mean_absolute_error, mean_pinball_loss, mean_squared_error

from losscli import losses
from losscli.core import compute, workers
from losscli.core.accumulate import Accumulator
from losscli.core.compute import update_batch
from losscli.losses._block import Block, materialize
from losscli.spec import parse_specs

RTOL, ATOL = 1e-12, 1e-300

alphas = st.sampled_from([0.0, 1e-12, 1e-6, 0.1, 0.3, 0.5, 0.7, 0.9, 1 - 1e-6, 1 - 1e-12, 1.0]) | st.floats(0, 1)
deltas = st.floats(min_value=1e-6, max_value=1e6)


def _huber(r: np.ndarray, delta: float) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta))


def _smooth_l1(r: np.ndarray, beta: float) -> np.ndarray:
    a = np.abs(r)
    return a if beta == 0 else np.where(a < beta, 0.5 * r**2 / beta, a - 0.5 * beta)


def _pinball(y: np.ndarray, p: np.ndarray, alpha: float) -> np.ndarray:
    return alpha * np.maximum(y - p, 0) + (1 - alpha) * np.maximum(p - y, 0)


# name -> (params strategy, plain formula of (y, p, **params))
PLAIN: dict[str, tuple[st.SearchStrategy[dict[str, float]], Callable[..., np.ndarray]]] = {
    "mse": (st.just({}), lambda y, p: (p - y) ** 2),
    "rmse": (st.just({}), lambda y, p: (p - y) ** 2),
    "mae": (st.just({}), lambda y, p: np.abs(p - y)),
    "huber": (st.fixed_dictionaries({"delta": deltas}), lambda y, p, delta: _huber(p - y, delta)),
    "smooth_l1": (
        st.fixed_dictionaries({"beta": st.just(0.0) | deltas}),
        lambda y, p, beta: _smooth_l1(p - y, beta),
    ),
    "quantile": (st.fixed_dictionaries({"alpha": alphas}), _pinball),
}


@st.composite
def regression_blocks(draw: st.DrawFn, limit: float = 1e150) -> tuple[np.ndarray, list[np.ndarray]]:
    """Targets and 1-3 models' predictions up to ``limit`` (squares, and for sums the squares of
    squares, kept finite)."""
    n = draw(st.integers(1, 40))
    y = draw(hnp.arrays(np.float64, n, elements=st.floats(-limit, limit, allow_nan=False, allow_infinity=False)))
    # Predictions near the target (tiny residuals), far from it, and exactly on it.
    preds = []
    for _ in range(draw(st.integers(1, 3))):
        scale = draw(st.sampled_from([0.0, 1e-150, 1e-9, 1.0, 1e9, limit]))
        noise = draw(hnp.arrays(np.float64, n, elements=st.floats(-1, 1)))
        preds.append(np.clip(y + scale * noise, -limit, limit))
    return y, preds


def test_every_block_form_is_tested() -> None:
    with_blocks = {loss.name for loss in losses.all_losses() if loss.block_kernel is not None}
    assert with_blocks == set(PLAIN) | {"log_cosh", "bce", "cce"}


@pytest.mark.parametrize("name", list(PLAIN))
@given(data=regression_blocks(), draw=st.data())
@settings(max_examples=60, deadline=None)
def test_residual_block_forms_are_the_formula(
    name: str, data: tuple[np.ndarray, list[np.ndarray]], draw: st.DataObject
) -> None:
    y, preds = data
    params_strategy, plain = PLAIN[name]
    params = draw.draw(params_strategy)
    loss = losses.get(name)
    assert loss.block_kernel is not None
    got = materialize(loss.block_kernel(Block(y, preds), **params))
    for m, p in enumerate(preds):
        np.testing.assert_allclose(got[m], plain(y, p, **params), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(got[m], loss.kernel(y, p, **params), rtol=RTOL, atol=ATOL)


@given(data=regression_blocks())
@settings(max_examples=60, deadline=None)
def test_log_cosh_block_is_the_kernel_and_log_cosh(data: tuple[np.ndarray, list[np.ndarray]]) -> None:
    """The same operations as the kernel (bit for bit); and log(cosh(r)) to the absolute error the
    overflow-free identity has (|r| and log 2 cancel for small r)."""
    y, preds = data
    got = materialize(losses.get("log_cosh").block_kernel(Block(y, preds)))  # type: ignore[misc]
    for m, p in enumerate(preds):
        np.testing.assert_array_equal(got[m], losses.get("log_cosh").kernel(y, p))
        r = p - y
        small = np.abs(r) < 700
        with np.errstate(over="ignore"):
            np.testing.assert_allclose(got[m][small], np.log(np.cosh(r[small])), rtol=1e-12, atol=4e-16)


@st.composite
def classification(draw: st.DrawFn, k: int) -> tuple[np.ndarray, list[np.ndarray]]:
    n = draw(st.integers(1, 40))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    probability = st.sampled_from([0.0, 1e-300, 1e-17, 1e-9, 0.5, 1 - 1e-9, 1 - 1e-17, 1.0]) | st.floats(0, 1)
    preds = []
    for _ in range(draw(st.integers(1, 3))):
        shape = n if k == 2 else (n, k)
        preds.append(draw(hnp.arrays(np.float64, shape, elements=probability)))
    return labels.astype(np.float64), preds


@given(data=classification(2), eps=st.sampled_from(["auto", 1e-15, 1e-3]))
@settings(max_examples=80, deadline=None)
def test_bce_block_is_the_formula(data: tuple[np.ndarray, list[np.ndarray]], eps: str | float) -> None:
    y, preds = data
    loss = losses.get("bce")
    got = materialize(loss.block_kernel(Block(y, preds), eps=eps))  # type: ignore[misc]
    e = np.finfo(np.float64).eps if eps == "auto" else float(eps)
    for m, p in enumerate(preds):
        q = np.clip(p, e, 1 - e)
        np.testing.assert_array_equal(got[m], loss.kernel(y, p, eps=eps))  # bit for bit
        np.testing.assert_allclose(got[m], -(y * np.log(q) + (1 - y) * np.log1p(-q)), rtol=RTOL)


@given(data=classification(10), eps=st.sampled_from(["auto", 1e-15, 1e-3]))
@settings(max_examples=80, deadline=None)
def test_cce_block_is_the_formula(data: tuple[np.ndarray, list[np.ndarray]], eps: str | float) -> None:
    y, preds = data
    loss = losses.get("cce")
    got = materialize(loss.block_kernel(Block(y, preds), eps=eps))  # type: ignore[misc]
    e = np.finfo(np.float64).eps if eps == "auto" else float(eps)
    for m, p in enumerate(preds):
        np.testing.assert_array_equal(got[m], loss.kernel(y, p, eps=eps))  # bit for bit
        true = p[np.arange(len(y)), y.astype(int)]
        np.testing.assert_allclose(got[m], -np.log(np.clip(true, e, 1 - e)), rtol=RTOL)


def test_blocks_without_a_form_fall_back_to_the_kernel() -> None:
    y = np.array([0.0, 1.0, 1.0])
    p = np.array([0.2, 0.7, 0.9])
    assert losses.get("bce").block_kernel(Block(y, [p]), eps="auto", label_smoothing=0.1) is None  # type: ignore[misc]
    assert losses.get("bce").block_kernel(Block(y * 0.5, [p]), eps="auto") is None  # type: ignore[misc]
    cce = losses.get("cce").block_kernel
    assert cce(Block(y, [np.full((3, 2), 0.5)]), eps="auto", normalize=True) is None  # type: ignore[misc]


# --- the sums the evaluator keeps -----------------------------------------------------------


@pytest.fixture(autouse=True)
def _threads() -> Iterator[None]:
    yield
    workers.set_threads(None)


def _exact_m2(values: np.ndarray) -> float:
    """sum (x - mean)^2 in exact rational arithmetic (a float mean of equal values can miss them by
    an ulp, and its square be 1e248 where the answer is 0)."""
    xs = [Fraction(float(v)) for v in values]
    mean = sum(xs, Fraction(0)) / len(xs)
    return float(sum(((x - mean) ** 2 for x in xs), Fraction(0)))


def _reduced(
    specs: list[str], y: np.ndarray, preds: dict[str, np.ndarray], *, baseline: str | None = None
) -> Accumulator:
    parsed = parse_specs(specs)
    acc = Accumulator([(m, s.label) for m in preds for s in parsed], baseline=baseline)
    update_batch(acc, parsed, y, preds, None, acc.groups.encode([], len(y)), 0)
    return acc


@given(data=regression_blocks(limit=1e70), alpha=alphas, delta=deltas, threads=st.sampled_from([1, 2]))
@settings(max_examples=60, deadline=None)
def test_reduced_sums_are_exact_sums_of_the_formula(
    data: tuple[np.ndarray, list[np.ndarray]], alpha: float, delta: float, threads: int
) -> None:
    y, plist = data
    preds = {f"m{i}": p for i, p in enumerate(plist)}
    specs = ["mse", "mae", f"huber:delta={delta!r}", f"quantile:alpha={alpha!r}"]
    plain = [PLAIN["mse"][1], PLAIN["mae"][1], lambda y, p: _huber(p - y, delta), lambda y, p: _pinball(y, p, alpha)]
    workers.set_threads(threads)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compute, "BLOCK_ELEMENTS", 8)  # many blocks, a ragged last one
        mp.setattr(compute, "MIN_BLOCK_ROWS", 1)
        mp.setattr(compute, "MIN_TASK_WORK", 1)  # on the pool even so small
        acc = _reduced(specs, y, preds, baseline="m0")
    for model, p in preds.items():
        for spec, formula in zip(parse_specs(specs), plain, strict=True):
            rows = formula(y, p)
            state = acc.means[(model, spec.label)]
            assert state.total_wl == pytest.approx(math.fsum(rows), rel=RTOL, abs=ATOL)
            assert state.total[2] == pytest.approx(_exact_m2(rows), rel=RTOL, abs=ATOL)
            assert state.total_w == len(y)
            assert state.n[0] == len(y)
            if model != "m0":
                paired = acc.paired[(model, spec.label)]
                d = rows - formula(y, preds["m0"])
                # A signed sum is only as exact as its condition: error bounded by sum |d|.
                assert abs(paired.sum_wd[0] - math.fsum(d)) <= RTOL * math.fsum(np.abs(d)) + ATOL
                assert paired.m2[0] == pytest.approx(_exact_m2(d), rel=RTOL, abs=ATOL)


def test_reduced_sums_match_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(100, 20, 200_003)
    preds = {"a": y + rng.normal(0, 5, len(y)), "b": y + rng.standard_t(2, len(y))}
    acc = _reduced(["mse", "mae", "quantile", "quantile:alpha=0.9"], y, preds)
    n = len(y)
    for m, p in preds.items():
        assert acc.means[(m, "mse")].total_wl / n == pytest.approx(mean_squared_error(y, p), rel=RTOL)
        assert acc.means[(m, "mae")].total_wl / n == pytest.approx(mean_absolute_error(y, p), rel=RTOL)
        assert acc.means[(m, "quantile")].total_wl / n == pytest.approx(mean_pinball_loss(y, p), rel=RTOL)
        got = acc.means[(m, "quantile(alpha=0.9)")].total_wl / n
        assert got == pytest.approx(mean_pinball_loss(y, p, alpha=0.9), rel=RTOL)


def test_reduced_cross_entropy_matches_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    n, k = 100_001, 10
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), labels] += 2
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    acc = _reduced(["cce"], labels.astype(float), {"m": p})
    got = acc.means[("m", "cce")].total_wl / n
    assert got == pytest.approx(log_loss(labels, p, labels=list(range(k))), rel=RTOL)
    binary = rng.uniform(0.001, 0.999, n)
    truth = (rng.uniform(size=n) < binary).astype(float)
    acc = _reduced(["bce"], truth, {"m": binary})
    assert acc.means[("m", "bce")].total_wl / n == pytest.approx(log_loss(truth, binary), rel=RTOL)


def test_huge_residuals_give_inf_in_both_paths() -> None:
    y = np.array([0.0, 0.0, 1.0])
    p = np.array([1e200, -1e200, 1.0])
    acc = _reduced(["mse", "huber", "log_cosh", "mae"], y, {"m": p})
    assert math.isinf(acc.means[("m", "mse")].total_wl)
    assert not math.isfinite(acc.means[("m", "huber")].total[2])
    assert acc.means[("m", "log_cosh")].total_wl == pytest.approx(2e200, rel=RTOL)
    assert acc.means[("m", "mae")].total_wl == pytest.approx(2e200, rel=RTOL)
