"""Every reduction is a merge of partial sums: chunking and merging change nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from losscli.accumulate import Accumulator, MeanState
from losscli.evaluation import run
from losscli.io import open_source, source_from_dataframe


def test_merge_equals_one_pass() -> None:
    rng = np.random.default_rng(0)
    values, weights = rng.uniform(size=1000), rng.uniform(size=1000)
    whole = MeanState()
    whole.update(values, weights)
    left, right = MeanState(), MeanState()
    left.update(values[:377], weights[:377])
    right.update(values[377:], weights[377:])
    merged = left.merge(right)
    assert merged.n == whole.n == 1000
    assert merged.mean() == pytest.approx(whole.mean(), rel=1e-12)
    assert merged.mean() == pytest.approx(np.average(values, weights=weights), rel=1e-12)


def test_accumulators_merge_by_key() -> None:
    a = Accumulator.empty([("m", "mse")])
    b = Accumulator.empty([("m", "mse")])
    a.update(("m", "mse"), np.array([1.0, 3.0]), None)
    b.update(("m", "mse"), np.array([5.0]), None)
    assert a.merge(b).states[("m", "mse")].mean() == 3.0


def test_empty_state_has_no_mean() -> None:
    assert np.isnan(MeanState().mean())


@pytest.mark.parametrize("chunk_rows", [1, 7, 64, None])
def test_results_do_not_depend_on_chunk_size(chunk_rows: int | None) -> None:
    rng = np.random.default_rng(3)
    n = 500
    y = rng.normal(size=n)
    df = pd.DataFrame({"y": y, "a": y + rng.normal(size=n), "b": y + rng.standard_t(2, size=n)})
    df["w"] = rng.uniform(0.5, 2, n)
    losses = ["mse", "rmse", "mae", "huber:delta=0.7"]
    whole = run(source_from_dataframe(df), losses, weight="w")
    chunked = run(source_from_dataframe(df), losses, weight="w", chunk_rows=chunk_rows)
    for r_whole, r_chunked in zip(whole.results, chunked.results, strict=True):
        assert r_chunked.value == pytest.approx(r_whole.value, rel=1e-12)
        assert r_chunked.n == r_whole.n == n


def test_csv_and_parquet_give_the_same_numbers(sample) -> None:
    csv = run(open_source(str(sample / "house_prices.csv")), ["mse", "mae", "huber:delta=5"])
    parquet = run(open_source(str(sample / "house_prices.parquet")), ["mse", "mae", "huber:delta=5"])
    assert [(r.model, r.loss) for r in csv.results] == [(r.model, r.loss) for r in parquet.results]
    for a, b in zip(csv.results, parquet.results, strict=True):
        assert a.value == pytest.approx(b.value, rel=1e-12)
