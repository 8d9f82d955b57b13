"""Every reduction is a merge of partial sums: chunking and merging change nothing."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from losscli.core.accumulate import Accumulator, GroupIndex, MeanState
from losscli.core.bootstrap import replicate_weights
from losscli.read.arrow_numpy import group_codes
from losscli.read.formats import open_source
from losscli.read.source import source_from_dataframe

from .build import Options, run


def test_merge_equals_one_pass() -> None:
    rng = np.random.default_rng(0)
    values, weights = rng.uniform(size=1000), rng.uniform(size=1000)
    whole = MeanState()
    whole.update(values, weights)
    left, right = MeanState(), MeanState()
    left.update(values[:377], weights[:377])
    right.update(values[377:], weights[377:])
    merged = left.merge(right)
    assert merged.n.tolist() == whole.n.tolist() == [1000]
    assert merged.mean()[0] == pytest.approx(whole.mean()[0], rel=1e-12)
    assert merged.mean()[0] == pytest.approx(np.average(values, weights=weights), rel=1e-12)


def test_empty_state_has_no_mean() -> None:
    state = MeanState()
    state.update(np.array([1.0]), np.array([0.0]))
    assert np.isnan(state.mean()[0])


def test_group_index_codes_in_first_seen_order() -> None:
    index = GroupIndex()
    codes = index.encode([(np.array([1, 0, 1, 2]), ["x", "y", None])], 4)
    assert codes.tolist() == [0, 1, 0, 2]
    assert index.keys == [("y",), ("x",), (None,)]
    assert index.encode([(np.array([0]), ["x"])], 1).tolist() == [1]


def test_accumulators_with_different_groups_merge_by_key() -> None:
    keys = [("m", "mse")]
    a, b = Accumulator(keys), Accumulator(keys)
    ca = a.groups.encode([(np.array([0, 1]), ["north", "south"])], 2)
    a.update({keys[0]: np.array([1.0, 3.0])}, None, ca, 0)
    cb = b.groups.encode([(np.array([0, 1]), ["south", "east"])], 2)  # south is code 0 here
    b.update({keys[0]: np.array([5.0, 7.0])}, None, cb, 2)
    merged = a.merge(b)
    by_group = dict(zip(merged.groups.keys, merged.means[keys[0]].mean(), strict=True))
    assert by_group == {("north",): 1.0, ("south",): 4.0, ("east",): 7.0}


def test_replicate_weights_depend_only_on_seed_and_row() -> None:
    whole = replicate_weights(7, 0, 5000, 20)
    pieces = np.vstack([replicate_weights(7, s, min(333, 5000 - s), 20) for s in range(0, 5000, 333)])
    np.testing.assert_array_equal(whole, pieces)
    assert not np.array_equal(whole, replicate_weights(8, 0, 5000, 20))
    # Poisson(1): mean and variance 1
    assert whole.mean() == pytest.approx(1.0, abs=0.02)
    assert whole.var() == pytest.approx(1.0, abs=0.05)


def _frame(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    y = rng.normal(size=n)
    return pd.DataFrame(
        {
            "y": y,
            "a": y + rng.normal(size=n),
            "b": y + rng.standard_t(2, size=n),
            "w": rng.uniform(0.5, 2, n),
            "region": rng.choice(["n", "s", "e"], n),
        }
    )


@pytest.mark.parametrize("chunk_rows", [1000, 65_536, None])
def test_results_do_not_depend_on_chunk_size(chunk_rows: int | None) -> None:
    df = _frame()
    losses = ["mse", "rmse", "mae", "huber:delta=0.7"]
    options = Options(ci=0.9, bootstrap=200, seed=3, baseline="a", by=("region",))
    whole = run(source_from_dataframe(df), losses, weight="w", options=options)
    chunked = run(source_from_dataframe(df), losses, weight="w", options=options, chunk_rows=chunk_rows)
    for r_whole, r_chunked in zip(whole.results, chunked.results, strict=True):
        assert (r_chunked.model, r_chunked.loss, r_chunked.group) == (r_whole.model, r_whole.loss, r_whole.group)
        assert r_chunked.n == r_whole.n
        for name in ("value", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p_value"):
            assert getattr(r_chunked, name) == pytest.approx(getattr(r_whole, name), rel=1e-12, nan_ok=True), name


def test_small_chunks_give_the_same_numbers() -> None:
    df = _frame(400)
    whole = run(source_from_dataframe(df), ["mse", "mae"], weight="w")
    for chunk_rows in (1, 7):
        chunked = run(source_from_dataframe(df), ["mse", "mae"], weight="w", chunk_rows=chunk_rows)
        for a, b in zip(whole.results, chunked.results, strict=True):
            assert b.value == pytest.approx(a.value, rel=1e-12)


def test_csv_and_parquet_give_the_same_numbers(sample) -> None:
    csv = run(open_source(str(sample / "house_prices.csv")), ["mse", "mae", "huber:delta=5"])
    parquet = run(open_source(str(sample / "house_prices.parquet")), ["mse", "mae", "huber:delta=5"])
    assert [(r.model, r.loss) for r in csv.results] == [(r.model, r.loss) for r in parquet.results]
    for a, b in zip(csv.results, parquet.results, strict=True):
        assert a.value == pytest.approx(b.value, rel=1e-12)


@pytest.mark.parametrize("wide", [False, True])
def test_group_codes_of_several_columns_are_first_seen_combinations(
    monkeypatch: pytest.MonkeyPatch, wide: bool
) -> None:
    """Codes equal pandas' first-seen factorisation of the value tuples, batch after batch."""
    if wide:  # force the path for combinations too many to number in 62 bits
        monkeypatch.setattr("losscli.core.accumulate.math.prod", lambda radices: 2**62)
    rng = np.random.default_rng(0)
    index = GroupIndex()
    seen: list[tuple[object, ...]] = []
    for _ in range(3):
        a_values, b_values = ["x", "y", None, "z"], [1, 2, 3]
        a, b = rng.integers(0, 4, 300), rng.integers(0, 3, 300)
        codes = index.encode([(a, a_values), (b, b_values)], 300)
        tuples = [(a_values[i], b_values[j]) for i, j in zip(a, b, strict=True)]
        seen += [t for t in dict.fromkeys(tuples) if t not in seen]
        assert codes.tolist() == [seen.index(t) for t in tuples]
    assert index.keys == seen


def _first_seen(values: list[object]) -> tuple[list[int], list[object]]:
    """Codes in first-seen order as Python compares values, every NaN one value: the reference."""
    seen: dict[object, int] = {}
    names: list[object] = []
    codes = []
    for v in values:
        key = ("nan",) if isinstance(v, float) and math.isnan(v) else v  # 0.0 == -0.0: one key
        if key not in seen:
            seen[key] = len(names)
            names.append(v)
        codes.append(seen[key])
    return codes, names


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


@pytest.mark.parametrize("kind", ["int", "wide", "int8", "float", "text"])
@pytest.mark.parametrize("cuts", [(), (1,), (7, 8, 200), (50, 100, 150, 250)])
def test_group_codes_of_arrow_columns_are_first_seen_across_batches(kind: str, cuts: tuple[int, ...]) -> None:
    """One --by column read as Arrow (looked up by index_in): codes and keys as a dict of Python
    values gives them, batch after batch, with NaN, null, 0.0 and -0.0 (named as first seen)."""
    rng = np.random.default_rng(len(cuts))
    pool: dict[str, list[object]] = {
        "int": [*range(-3, 40), None],
        "wide": [*range(-3, 40), None, 10**15, -(10**15)],  # too far apart for a table: a hash join
        "int8": [*range(-128, 128, 9), None],
        "float": [-0.0, 0.0, math.nan, None, 1.5, -2.0, 1e300, *np.round(rng.normal(size=30), 2).tolist()],
        "text": ["a", "", None, "b", "(all)", "ü", *(f"g{i}" for i in range(30))],
    }
    values = [pool[kind][i] for i in rng.integers(0, len(pool[kind]), 300)]
    types = {"int": pa.int64(), "wide": pa.int64(), "int8": pa.int8(), "float": pa.float64(), "text": pa.string()}
    array = pa.array(values, type=types[kind])
    want_codes, want_names = _first_seen(values)
    index = GroupIndex()
    got: list[int] = []
    bounds = [0, *cuts, len(values)]
    for lo, hi in itertools.pairwise(bounds):
        idx, distinct = group_codes(array.slice(lo, hi - lo))
        got += index.encode([(idx, distinct)], hi - lo).tolist()
    assert got == want_codes
    assert len(index) == len(want_names)
    assert all(_same(k[0], v) for k, v in zip(index.keys, want_names, strict=True))
    if kind == "float":
        return
    # Given as lists afterwards (the dict takes over), the codes go on alike.
    more = [pool[kind][i] for i in rng.integers(0, len(pool[kind]), 50)]
    codes, names = _first_seen(values + more)
    distinct_more = list(dict.fromkeys(more))
    listed = np.array([distinct_more.index(v) for v in more])
    assert index.encode([(listed, distinct_more)], 50).tolist() == codes[300:]
    assert len(index) == len(names)


def test_grouping_of_a_batch_adds_as_bincount_over_every_group() -> None:
    """State added over a batch's own groups (Grouping) equals bincount over all groups."""
    rng = np.random.default_rng(5)
    index = GroupIndex()
    direct, local = MeanState(), MeanState()
    for _ in range(4):
        batch = pa.array(rng.integers(0, 5000, 800))
        idx, distinct = group_codes(batch)
        codes = index.encode([(idx, distinct)], 800)
        per_row, weight = rng.uniform(size=800), rng.uniform(size=800)
        direct.update(per_row, weight, codes, len(index))
        local.update(per_row, weight, codes, len(index), grouping=index.grouping(codes))
    for name in ("sum_wl", "sum_w", "pivot", "shift", "m2", "sum_w2", "n"):
        assert getattr(local, name).tolist() == getattr(direct, name).tolist()


def test_shared_counts_part_when_a_batch_drops_rows_for_one_model() -> None:
    """Unweighted batches that every model keeps share one key's counts; a batch where one
    model drops rows (--nan drop) gives each its own again. Counts and weight sums per group
    are those of a bincount written here, batch after batch."""
    rng = np.random.default_rng(8)
    keys = [("a", "mse"), ("a", "mae"), ("b", "mse"), ("b", "mae")]
    acc = Accumulator(keys)
    want_n = {k: np.zeros(0) for k in keys}
    for batch in range(5):
        g = rng.integers(0, 3000, 500)
        idx, distinct = group_codes(pa.array(g))
        codes = acc.groups.encode([(idx, distinct)], 500)
        kept = rng.uniform(size=500) > 0.3
        valid = {"b": kept} if batch in (2, 4) else {}
        acc.update({k: rng.uniform(size=500) for k in keys}, None, codes, batch * 500, valid)
        if batch < 2:  # every model kept every row so far: one key's counts serve all
            assert acc.means[keys[0]].n is acc.means[keys[3]].n
        for k in keys:
            rows = valid.get(k[0], np.ones(500, dtype=bool))
            add = np.bincount(codes[rows], minlength=len(acc.groups))
            want_n[k] = np.pad(want_n[k], (0, len(add) - len(want_n[k]))) + add
    for k in keys:
        assert acc.means[k].n.tolist() == want_n[k].tolist()
        assert acc.means[k].sum_w.tolist() == want_n[k].astype(float).tolist()
        assert acc.means[k].sum_w2.tolist() == want_n[k].astype(float).tolist()
    assert acc.means[keys[0]].n is not acc.means[keys[2]].n  # apart from the first batch with drops on
