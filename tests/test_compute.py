"""Reducing inside the block and the thread pool change no number: equal to the per-row path
(rtol 1e-12), identical for any thread count, the same for any chunking."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from losscli.core import workers
from losscli.core.accumulate import Accumulator
from losscli.core.compute import BLOCK_ROWS, update_batch
from losscli.spec import parse_specs

REGRESSION = ["mse", "rmse", "mae", "huber", "log_cosh", "quantile:alpha=0.9"]


@pytest.fixture(autouse=True)
def _default_threads() -> Iterator[None]:
    yield
    workers.set_threads(None)


def _data(task: str, n: int, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    if task == "regression":
        y = rng.normal(size=n)
        return y, {m: y + rng.normal(0, 1 + i, n) for i, m in enumerate("abc")}
    if task == "binary":
        y = rng.integers(0, 2, n).astype(float)
        return y, {m: rng.uniform(0.01, 0.99, n) for m in "abc"}
    y = rng.integers(0, 10, n).astype(float)
    preds = {}
    for m in "abc":
        p = rng.uniform(size=(n, 10))
        preds[m] = p / p.sum(axis=1, keepdims=True)
    return y, preds


CASES = {"regression": REGRESSION, "binary": ["bce", "brier"], "multiclass": ["cce", "brier"]}


def _states(acc: Accumulator) -> list[np.ndarray]:
    out = []
    for state in acc.means.values():
        # The spread's pivot and shift depend on how rows were cut (only their sum is the mean):
        # its M2 is the number to compare.
        out += [state.sum_wl, state.sum_w, state.n, state.m2, state.sum_w2]
        out += [np.array([state.total_wl, state.total_w, state.total[2], state.total_w2])]
    for paired in acc.paired.values():
        out += [a for i, a in enumerate(paired.fields()) if i not in (1, 2)]
    for boot in acc.boot.values():
        out += [boot.sum_rwl, boot.sum_rw]
    return out


def _run(
    task: str,
    *,
    blocks: bool,
    n: int = 3 * BLOCK_ROWS + 123,
    chunk: int | None = None,
    weighted: bool = False,
    dropped: bool = False,
    replicates: int = 0,
) -> Accumulator:
    specs = parse_specs(CASES[task])
    y, preds = _data(task, n)
    rng = np.random.default_rng(9)
    weight = rng.uniform(0, 2, n) if weighted else None
    valid = {"b": rng.uniform(size=n) > 0.1} if dropped else {}
    keys = [(m, s.label) for m in preds for s in specs]
    acc = Accumulator(keys, replicates=replicates, baseline="a", seed=5)
    step = chunk or n
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        codes = acc.groups.encode([], hi - lo)
        part_valid = {m: v[lo:hi] for m, v in valid.items()}
        part = {m: p[lo:hi] for m, p in preds.items()}
        w = None if weight is None else weight[lo:hi]
        # keep_rows=True forces the per-row path (Accumulator.update); False reduces in blocks
        update_batch(acc, specs, y[lo:hi], part, w, codes, lo, part_valid, keep_rows=not blocks)
    return acc


def _assert_close(a: Accumulator, b: Accumulator, rtol: float = 1e-12) -> None:
    for x, y in zip(_states(a), _states(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("task", list(CASES))
@pytest.mark.parametrize(("weighted", "dropped"), [(False, False), (True, False), (False, True), (True, True)])
def test_reducing_in_blocks_equals_the_per_row_path(task: str, weighted: bool, dropped: bool) -> None:
    blocks = _run(task, blocks=True, weighted=weighted, dropped=dropped, replicates=40)
    rows = _run(task, blocks=False, weighted=weighted, dropped=dropped, replicates=40)
    _assert_close(blocks, rows)


@pytest.mark.parametrize("task", list(CASES))
@pytest.mark.parametrize(("weighted", "dropped"), [(False, False), (True, True)])
def test_models_in_groups_equal_the_per_row_path(
    task: str, weighted: bool, dropped: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of models go in groups of a block each, the baseline a guest in every group."""
    from losscli.core import compute

    monkeypatch.setattr(compute, "BLOCK_ELEMENTS", 4000)
    monkeypatch.setattr(compute, "MIN_BLOCK_ROWS", 3000)  # one model per group, blocks of 3000 rows
    blocks = _run(task, blocks=True, weighted=weighted, dropped=dropped, replicates=20)
    rows = _run(task, blocks=False, weighted=weighted, dropped=dropped, replicates=20)
    _assert_close(blocks, rows)


@pytest.mark.parametrize("task", list(CASES))
def test_any_thread_count_gives_identical_numbers(task: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from losscli.core import compute

    monkeypatch.setattr(compute, "MIN_TASK_WORK", 1)  # every block count as enough work for a thread
    monkeypatch.setattr(compute, "BLOCK_ELEMENTS", 1000)  # dozens of blocks, tasks of several each
    monkeypatch.setattr(compute, "MIN_BLOCK_ROWS", 1)
    workers.set_threads(1)
    one = _run(task, blocks=True, weighted=True, replicates=30)
    workers.set_threads(2)
    two = _run(task, blocks=True, weighted=True, replicates=30)
    workers.set_threads(5)
    five = _run(task, blocks=True, weighted=True, replicates=30)
    for x, y, z in zip(_states(one), _states(two), _states(five), strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)


@pytest.mark.parametrize("chunk", [1000, BLOCK_ROWS, 5 * BLOCK_ROWS])
def test_any_chunking_gives_the_same_numbers(chunk: int) -> None:
    whole = _run("regression", blocks=True, weighted=True, dropped=True, replicates=30)
    _assert_close(_run("regression", blocks=True, chunk=chunk, weighted=True, dropped=True, replicates=30), whole)


def test_squared_error_sums_are_the_formula() -> None:
    y, preds = _data("regression", 50_000)
    acc = _run("regression", blocks=True, n=50_000)
    r = preds["b"] - y
    state = acc.means[("b", "mse")]
    assert state.total_wl == pytest.approx(r @ r, rel=1e-12)
    square = r * r
    assert state.total[2] == pytest.approx(((square - square.mean()) ** 2).sum(), rel=1e-12)
    d = r * r - (preds["a"] - y) ** 2
    assert acc.paired[("b", "mse")].m2[0] == pytest.approx(((d - d.mean()) ** 2).sum(), rel=1e-12)
