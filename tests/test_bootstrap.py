"""The Poisson bootstrap's draws and replicate sums: exact against formulas, independent of threads."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from losscli.cli import app
from losscli.core import bootstrap, workers
from losscli.core.accumulate import Accumulator
from losscli.core.bootstrap import REPLICATE_BLOCK, SPAN_ROWS, count_table, replicate_sums, replicate_weights
from losscli.errors import OptionError
from losscli.read.source import source_from_dataframe

from .build import Options, run
from .conftest import SAMPLE


def test_the_table_is_quadruples_of_poisson_one_with_exact_mean_and_variance() -> None:
    quads = count_table().view(np.uint8).reshape(65536, 4).astype(int)
    pmf = stats.poisson.pmf(np.arange(10), 1.0)
    joint = np.zeros((10,) * 4)
    np.add.at(joint, tuple(quads.T), 2**-16)
    want = np.multiply.outer(np.multiply.outer(pmf, pmf), np.multiply.outer(pmf, pmf))
    np.testing.assert_allclose(joint, want, atol=2.4 * 2**-16)  # every quadruple's probability
    for k in range(4):
        counts = quads[:, k]
        observed = np.bincount(counts, minlength=10)[:10] / 65536
        np.testing.assert_allclose(observed, pmf, atol=2e-4)
        # Poisson(1)'s mean and variance, exactly: a replicate's sum is unbiased (a sum is not a
        # ratio, in which an offset of the mean would cancel)
        assert counts.sum() == 65536
        assert (counts * counts).sum() == 2 * 65536
    correlation = np.corrcoef(quads.T) - np.eye(4)
    assert np.abs(correlation).max() < 1.5e-3


def test_draws_look_like_poisson_one() -> None:
    r = replicate_weights(3, 0, 20_000, 50).ravel()
    observed = np.bincount(r.astype(int), minlength=6)[:6] / r.size
    np.testing.assert_allclose(observed, stats.poisson.pmf(np.arange(6), 1.0), atol=0.003)
    # replicates are independent of each other: no correlation between two columns
    cols = replicate_weights(3, 0, 20_000, 2)
    assert abs(np.corrcoef(cols.T)[0, 1]) < 0.03


def test_more_replicates_extend_fewer() -> None:
    few = replicate_weights(1, 100, 3000, 40)
    many = replicate_weights(1, 100, 3000, REPLICATE_BLOCK + 40)
    np.testing.assert_array_equal(few, many[:, :40])


@pytest.mark.parametrize("groups", [1, 3, 200])
def test_replicate_sums_are_the_weighted_sums(groups: int) -> None:
    rng = np.random.default_rng(groups)
    rows, start, b = 5000, 777, 300
    columns = rng.normal(size=(rows, 5))
    codes = rng.integers(0, groups, rows)
    got = replicate_sums(9, start, columns, codes, groups, b)
    r = replicate_weights(9, start, rows, b)  # (rows, B)
    onehot = np.eye(groups)[codes]  # (rows, groups)
    want = np.einsum("ib,ic,ig->cbg", r, columns, onehot)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("groups", [1, 5, 300])
def test_sums_over_several_spans_are_the_weighted_sums(groups: int) -> None:
    """Rows across spans, cut into pieces (512 rows, 2048 with groups) and a part span at the end."""
    rng = np.random.default_rng(groups)
    rows, start, b = 2 * SPAN_ROWS + 999, 12_345, REPLICATE_BLOCK + 7
    columns = rng.normal(size=(rows, 3))
    codes = rng.integers(0, groups, rows)
    got = replicate_sums(4, start, columns, codes, groups, b)
    want = np.einsum("ib,ic,ig->cbg", replicate_weights(4, start, rows, b), columns, np.eye(groups)[codes])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("groups", [1, 3])
def test_equal_columns_are_reduced_once_and_give_the_weighted_sums(groups: int) -> None:
    """A --baseline pair repeats its model's and the baseline's columns, and without --weight every
    model's weight column is ones: those are reduced once. A column equal to another on most rows
    (every sampled one) but not all is still its own."""
    rng = np.random.default_rng(4)
    rows, start, b = 5000, 100, 200
    a, c = rng.normal(size=rows), rng.normal(size=rows)
    near = a.copy()
    near[1] += 1.0  # not among the sampled rows: equal on the sample, different in full
    columns = np.column_stack([np.ones(rows), a, c, np.ones(rows), a, near, c, a])
    codes = rng.integers(0, groups, rows)
    got = replicate_sums(5, start, columns, codes, groups, b)
    r = replicate_weights(5, start, rows, b)
    want = np.einsum("ib,ic,ig->cbg", r, columns, np.eye(groups)[codes])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    for copy, first in ((3, 0), (4, 1), (6, 2), (7, 1)):
        np.testing.assert_array_equal(got[copy], got[first])
    assert not np.allclose(got[5], got[1], rtol=1e-12, atol=0)


@pytest.mark.parametrize(("groups", "rows"), [(1, 6000), (1, 40_000), (4, 6000), (300, 6000)])
def test_replicate_sums_are_identical_for_any_thread_count(groups: int, rows: int) -> None:
    """40 000 rows with one group are cut into spans of rows, each a task of its own."""
    rng = np.random.default_rng(0)
    columns = rng.normal(size=(rows, 4))
    codes = rng.integers(0, groups, rows)
    b = 3 * REPLICATE_BLOCK + 5
    try:
        workers.set_threads(1)
        one = replicate_sums(2, 50, columns, codes, groups, b)
        workers.set_threads(3)
        three = replicate_sums(2, 50, columns, codes, groups, b)
    finally:
        workers.set_threads(None)
    np.testing.assert_array_equal(one, three)
    if rows == 40_000:  # and the spans' sums are the weighted sums
        want = np.einsum("ib,ic->cb", replicate_weights(2, 50, rows, b), columns)
        np.testing.assert_allclose(one[:, :, 0], want, rtol=1e-12, atol=1e-9)


def test_memory_does_not_grow_with_replicates_times_rows() -> None:
    """B = 20 000 on 8 192 rows: a weight matrix would be 1.3 GB; the tiles stay small."""
    keys = [("a", "mse"), ("b", "mse")]
    acc = Accumulator(keys, replicates=20_000)
    rng = np.random.default_rng(0)
    losses = {k: rng.uniform(size=8192) for k in keys}
    codes = acc.groups.encode([], 8192)
    tracemalloc.start()
    try:
        acc.update(losses, None, codes, 0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20


def test_state_too_big_for_memory_is_refused_up_front() -> None:
    with pytest.raises(OptionError, match=r"needs about [\d.]+ GB of replicate and group state"):
        Accumulator([("a", "mse"), ("a", "mae")], replicates=10**12)


def test_state_too_big_is_refused_when_the_groups_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "memory_limit", lambda: 2**20)  # 1 MB
    keys = [("a", "mse")]
    acc = Accumulator(keys, replicates=1000)  # 16 kB per group
    codes = acc.groups.encode([(np.arange(100), list(range(100)))], 100)
    # 100 groups x 1000 replicates x 8 bytes x (2 state arrays + 2 columns a batch + 2 while growing)
    refusal = r"1000 over 100 group\(s\) found so far x 1 model-loss pair\(s\) needs about 5 MB.*lower --bootstrap"
    with pytest.raises(OptionError, match=refusal):
        acc.update({keys[0]: np.ones(100)}, None, codes, 0)


def test_the_command_line_refuses_a_state_too_big_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 2, one sentence with the estimate and the three ways out, no traceback."""
    monkeypatch.setattr(bootstrap, "memory_limit", lambda: 2**22)  # 4 MB: one group fits, four do not
    args = ["eval", str(SAMPLE / "house_prices.csv"), "-l", "mae", "--ci", "0.95", "--bootstrap", "20000"]
    result = CliRunner().invoke(app, [*args, "--by", "region", "-q"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # 4 regions x 20 000 replicates x 8 bytes x (2 state arrays x 3 models + 6 columns a batch
    # (a weight and a loss per model) + 2 while growing) = 9.0 MB
    assert "needs about 9 MB of replicate and group state, more than the 4 MB allowed" in lines[0]
    for way_out in ("lower --bootstrap", "--ci-method t", "fewer --by groups"):
        assert way_out in lines[0]
    t_method = CliRunner().invoke(app, [*args[:-2], "--ci-method", "t", "--by", "region", "-q", "-f", "csv"])
    assert t_method.exit_code == 0, t_method.output


def _intervals(chunk_rows: int | None = None, threads: int | None = None, seed: int = 11) -> np.ndarray:
    """Every interval bound of a run on one group, unweighted (the path reducing inside blocks)."""
    rng = np.random.default_rng(5)
    n = 3 * SPAN_ROWS + 123
    y = rng.normal(size=n)
    frame = pd.DataFrame({"y": y, "a": y + rng.normal(size=n), "b": y + rng.standard_t(3, size=n)})
    options = Options(ci=0.9, bootstrap=2 * REPLICATE_BLOCK + 17, seed=seed, baseline="a")
    try:
        workers.set_threads(threads)
        ev = run(source_from_dataframe(frame), ["mse", "mae", "rmse"], options=options, chunk_rows=chunk_rows)
    finally:
        workers.set_threads(None)
    names = ("ci_low", "ci_high", "delta_ci_low", "delta_ci_high")
    return np.array([[getattr(r, name) for name in names] for r in ev.results], dtype=float)


def test_intervals_are_the_same_for_any_chunk_size_and_thread_count() -> None:
    """Batches cut anywhere (inside a tile, across tiles), one thread or three: rtol 1e-12."""
    whole = _intervals()
    assert np.isfinite(whole).all()
    for chunk_rows, threads in ((1000, 1), (SPAN_ROWS, 3), (SPAN_ROWS // 3 + 1, 2), (None, 1)):
        np.testing.assert_allclose(_intervals(chunk_rows, threads), whole, rtol=1e-12, atol=0)


def test_the_seed_fixes_the_intervals() -> None:
    np.testing.assert_array_equal(_intervals(seed=11), _intervals(seed=11))
    other = _intervals(seed=12)
    assert not np.allclose(other[:, :2], _intervals(seed=11)[:, :2], rtol=1e-6)


@pytest.mark.parametrize("baseline", [None, "a"])
def test_a_state_growing_with_the_groups_found_is_refused_before_it_passes_the_limit(
    monkeypatch: pytest.MonkeyPatch, baseline: str | None
) -> None:
    """Groups found batch after batch: the refusal comes before the state (means, paired sums,
    replicate sums, and what growing them copies) holds more than the memory allowed."""
    limit = 64 * 2**20
    monkeypatch.setattr(bootstrap, "memory_limit", lambda: limit)
    keys = [(m, loss) for m in ("a", "b") for loss in ("mse", "mae")]
    acc = Accumulator(keys, replicates=200, baseline=baseline)
    rng = np.random.default_rng(0)
    rows = 2000

    def feed() -> None:
        for batch in range(100):  # 500 new groups a batch
            values = list(range(batch * 500, (batch + 1) * 500))
            codes = acc.groups.encode([(rng.integers(0, 500, rows), values)], rows)
            acc.update({key: rng.uniform(size=rows) for key in keys}, None, codes, batch * rows)

    refusal = r"found so far x 4 model-loss pair\(s\) needs about \d+ MB.*64 MB allowed"
    tracemalloc.start()
    try:
        with pytest.raises(OptionError, match=refusal):
            feed()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 1000 < len(acc.groups) < 50_000
    assert peak < limit
