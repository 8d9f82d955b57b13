"""The Dask engine gives the local engine's numbers; memory stays flat as files grow."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from losscli.read.formats import open_source
from losscli.read.rows import RowCount
from losscli.request import Inputs, Output, Request, Statistics
from losscli.spec import parse_specs

from .build import Options, run


def _partitioned(folder: Path, parts: int = 5, rows: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = parts * rows
    y = rng.gamma(2.0, 2.0, n)
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "y": y,
            "a": y * rng.lognormal(0, 0.3, n),  # positive, so poisson is defined
            "b": y * rng.lognormal(0.1, 0.5, n),
            "w": rng.uniform(0.5, 2.0, n),
            "region": rng.choice(["n", "s", "e", "w"], n),
        }
    )
    folder.mkdir()
    for i in range(parts):
        df.iloc[i * rows : (i + 1) * rows].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return df


@pytest.mark.slow
def test_dask_engine_equals_the_local_engine(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    from .build import run_dask

    _partitioned(tmp_path / "data")
    options = Options(ci=0.9, bootstrap=200, seed=4, baseline="a", by=("region",))
    losses = ["mse", "rmse", "mae", "huber:delta=2", "poisson"]
    glob = str(tmp_path / "data" / "part-*.parquet")
    local = run(open_source(glob), losses, weight="w", options=options)
    distributed = run_dask(glob, losses, workers=2, options=options, weight="w")
    assert len(local.results) == len(distributed.results)
    for a in local.results:
        b = distributed.result(a.model, a.loss, a.group)
        assert b.n == a.n
        for name in ("value", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p_value"):
            assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-12, nan_ok=True), (a.model, a.loss, name)


@pytest.mark.slow
def test_blocks_reduced_on_threads_equal_the_dask_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One group and no --per-row: the local engine reduces in blocks on its threads (one thread
    and two give identical numbers, any chunk size the same to rtol 1e-12), and Dask agrees."""
    pytest.importorskip("dask.distributed")
    from losscli.core import compute
    from losscli.request import Engine

    monkeypatch.setattr(compute, "MIN_TASK_WORK", 1)  # small batches on the pool too
    monkeypatch.setattr(compute, "BLOCK_ELEMENTS", 999)
    monkeypatch.setattr(compute, "MIN_BLOCK_ROWS", 100)

    from .build import run_dask

    _partitioned(tmp_path / "data")
    losses = ["mse", "rmse", "mae", "huber", "log_cosh", "quantile", "quantile:alpha=0.9"]
    glob = str(tmp_path / "data" / "part-*.parquet")
    options = Options(baseline="a", ci_method="t", ci=0.9)
    runs = [
        run(open_source(glob), losses, weight="w", options=options, engine=Engine(threads=t, chunk_rows=c))
        for t, c in ((1, None), (2, None), (2, 777))
    ]
    distributed = run_dask(glob, losses, workers=2, options=options, weight="w")
    names = ("value", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high", "p_value")
    for a in runs[0].results:
        same = runs[1].result(a.model, a.loss, a.group)
        np.testing.assert_array_equal([getattr(same, k) for k in names], [getattr(a, k) for k in names])
        for other in (runs[2], distributed):
            b = other.result(a.model, a.loss, a.group)
            for name in names:
                assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-12, nan_ok=True), (a.loss, name)


@pytest.mark.slow
def test_dask_engine_from_the_command_line(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    df = _partitioned(tmp_path / "data", parts=3, rows=500)
    script = Path(sys.executable).parent / "losscli"
    done = subprocess.run(
        [str(script), "eval", str(tmp_path / "data"), "--engine", "dask", "-l", "mse", "-f", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    values = {r["model"]: r["value"] for r in json.loads(done.stdout)}
    assert values["a"] == pytest.approx(float(((df.a - df.y) ** 2).mean()), rel=1e-12)


def test_dask_engine_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from losscli.cli import app

    (tmp_path / "p.csv").write_text("y,a\n1,2\n")
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "p.csv"), "--engine", "dask"])
    assert result.exit_code == 2
    assert "--engine dask reads Parquet" in result.stderr
    (tmp_path / "p.parquet").write_bytes(b"")
    per_row = CliRunner().invoke(app, ["eval", str(tmp_path / "p.parquet"), "--engine", "dask", "--per-row"])
    assert per_row.exit_code == 2
    assert "--engine dask reads one Parquet file, directory or glob, without" in per_row.stderr


MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import numpy as np, pyarrow as pa, pyarrow.csv as csv
    rows, path = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(0)
    with csv.CSVWriter(path, pa.schema([(n, pa.float64()) for n in ("y", "a", "b", "c", "d")])) as writer:
        for start in range(0, rows, 200_000):
            n = min(200_000, rows - start)
            y = rng.normal(size=n)
            writer.write_table(pa.table({"y": y, **{m: y + rng.normal(size=n) for m in "abcd"}}))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from losscli.engines.local import run
    from losscli.read.formats import open_source
    from losscli.request import Inputs, Request, losses_from
    losses = losses_from(["mse", "rmse", "mae", "huber", "log_cosh", "quantile:alpha=0.9"])
    run(open_source(path), Request(Inputs((path,)), losses=losses))
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """
)


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """Evaluating 1.6M rows needs no more memory than 400k: the file is streamed."""
    grown = []
    for rows in (400_000, 1_600_000):
        done = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(rows), str(tmp_path / f"m{rows}.csv")],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        grown.append(int(done.stdout.strip()) / 1024)  # MiB above the baseline after writing the file
    small, large = grown
    assert large < small + 40, f"peak RSS grew from +{small:.0f} MiB to +{large:.0f} MiB"


def _request(path: str, quiet: bool) -> Request:
    return Request(Inputs((path,)), output=Output(quiet=quiet))


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from losscli.cli import progress

    path = str(Path(__file__).parent.parent / "sample_data" / "house_prices.parquet")
    monkeypatch.setattr(progress, "PROGRESS_MIN_SECONDS", 0.0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    source = open_source(path)
    assert progress.estimated_rows(source, [path]) == RowCount(200, exact=True)  # the Parquet footer's count
    with progress.progress_bar(source, _request(path, quiet=False)) as advance:
        assert advance is not None
        advance(50)  # before any speed is known: must render
        advance(150)
    with progress.progress_bar(source, _request(path, quiet=True)) as advance:
        assert advance is None


def test_progress_bar_by_estimated_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shown when rows x work per row passes two seconds: a bootstrap makes a small file long."""
    from losscli.cli import progress

    path = str(Path(__file__).parent.parent / "sample_data" / "house_prices.parquet")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(progress, "estimated_rows", lambda source, files: RowCount(5_000_000, exact=False))
    source = open_source(path)
    quick = progress.estimated_seconds(5_000_000, source, models=3, losses=2)
    slow = progress.estimated_seconds(5_000_000, source, models=3, losses=2, replicates=1000)
    assert quick < progress.PROGRESS_MIN_SECONDS < slow
    losses = tuple(parse_specs(["mse", "mae"]))
    plain = Request(Inputs((path,)), losses=losses)
    with progress.progress_bar(source, plain) as advance:
        assert not advance.shown  # type: ignore[union-attr]
    with_ci = Request(Inputs((path,)), losses=losses, stats=Statistics(ci=0.95, bootstrap=1000))
    with progress.progress_bar(source, with_ci) as advance:
        assert advance.shown  # type: ignore[union-attr]


def test_progress_bar_when_the_rows_read_project_a_long_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Costs no estimate knows (many columns, per-row output, a slow disk): the bar appears
    once the rate of the rows read so far projects more than two seconds, and not before."""
    from losscli.cli import progress

    path = str(Path(__file__).parent.parent / "sample_data" / "house_prices.parquet")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(progress, "estimated_rows", lambda source, files: RowCount(1_000_000, exact=False))
    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    source = open_source(path)
    request = Request(Inputs((path,)), losses=tuple(parse_specs(["mse"])))
    with progress.progress_bar(source, request) as advance:
        assert advance is not None
        now[0] += 0.1
        advance(400_000)  # too early to judge a rate
        assert not advance.shown  # type: ignore[attr-defined]
        now[0] += 0.5
        advance(400_000)  # 800k rows in 0.6 s: about 0.75 s in all
        assert not advance.shown  # type: ignore[attr-defined]
    with progress.progress_bar(source, request) as advance:
        assert advance is not None
        now[0] += 0.6
        advance(100_000)  # 100k rows in 0.6 s: about 6 s in all
        assert advance.shown  # type: ignore[attr-defined]
        advance(100_000)


def test_no_progress_bar_over_per_row_losses_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from losscli.cli import progress

    path = str(Path(__file__).parent.parent / "sample_data" / "house_prices.parquet")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(progress, "PROGRESS_MIN_SECONDS", 0.0)
    source = open_source(path)
    with progress.progress_bar(source, Request(Inputs((path,)), output=Output(per_row=True))) as advance:
        assert advance is None


def test_no_progress_bar_in_a_pipeline() -> None:
    from losscli.cli import progress

    path = str(Path(__file__).parent.parent / "sample_data" / "house_prices.csv")
    source = open_source(path)
    # A CSV under a megabyte is read whole by its sample: counted
    assert progress.estimated_rows(source, [path]) == RowCount(200, exact=True)
    with progress.progress_bar(source, _request(path, quiet=False)) as advance:
        assert advance is None  # stderr is not a terminal under pytest


@pytest.mark.slow
def test_dask_engine_user_errors_are_one_sentence(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame({"y": [1.0, 2.0], "a": [1.0, 2.0]}).to_parquet(folder / "p0.parquet")
    pd.DataFrame({"y": [1.0, 2.0], "a": [1.0, np.nan]}).to_parquet(folder / "p1.parquet")
    script = Path(sys.executable).parent / "losscli"
    done = subprocess.run(
        [str(script), "eval", str(folder), "--engine", "dask"], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().endswith(
        "column 'a', row 4 is missing (empty or NaN); fill it, or pass --nan drop to leave such rows out."
    )
    unreachable = subprocess.run(
        [str(script), "eval", str(folder), "--engine", "dask", "--scheduler", "nonsense://x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unreachable.returncode == 2
    assert "cannot reach a Dask scheduler" in unreachable.stderr


@pytest.mark.slow
def test_dask_engine_reads_hive_partition_keys(tmp_path: Path) -> None:
    """ds/month=M/part.parquet: each worker adds its file's month, typed as the whole dataset types it."""
    pytest.importorskip("dask.distributed")
    from .build import run_dask

    df = _partitioned(tmp_path / "flat", parts=1, rows=4000).assign(month=lambda d: d.id % 3 + 1)
    for month, part in df.groupby("month"):
        folder = tmp_path / "ds" / f"month={month}"
        folder.mkdir(parents=True)
        part.drop(columns="month").to_parquet(folder / "part-0.parquet", index=False)
    options = Options(by=("month",))
    local = run(open_source(str(tmp_path / "ds")), ["mae"], preds=["a", "b"], options=options)
    distributed = run_dask(str(tmp_path / "ds"), ["mae"], workers=2, options=options, preds=["a", "b"])
    for month in (1, 2, 3):
        part = df[df.month == month]
        for model in ("a", "b"):
            expected = float(np.mean(np.abs(part[model] - part.y)))
            assert local.value(model, "mae", (month,)) == pytest.approx(expected, rel=1e-12)
            assert distributed.value(model, "mae", (month,)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_dask_engine_finishes_skill_scores_and_ignored_counts_like_local(tmp_path: Path) -> None:
    """D2's reference state (target moments, kept targets) merges across partitions."""
    pytest.importorskip("dask.distributed")
    from sklearn import metrics

    from .build import run_dask

    df = _partitioned(tmp_path / "data")
    losses = ["d2_tweedie:power=1", "d2_absolute_error", "d2_pinball:alpha=0.9"]
    glob = str(tmp_path / "data" / "part-*.parquet")
    distributed = run_dask(glob, losses, workers=2, weight="w")
    options = Options(ci=0.9, bootstrap=30, by=("region",))
    with_ci = run_dask(glob, ["d2_tweedie"], workers=2, weight="w", options=options)
    local_ci = run(open_source(glob), ["d2_tweedie"], weight="w", options=options)
    for a in local_ci.results:
        b = with_ci.result(a.model, a.loss, a.group)
        assert (b.ci_low, b.ci_high) == pytest.approx((a.ci_low, a.ci_high), rel=1e-12)
    w = df["w"].to_numpy()
    for model in ("a", "b"):
        expected = {
            "d2_tweedie(power=1)": metrics.d2_tweedie_score(df["y"], df[model], power=1, sample_weight=w),
            "d2_absolute_error": metrics.d2_absolute_error_score(df["y"], df[model], sample_weight=w),
            "d2_pinball(alpha=0.9)": metrics.d2_pinball_score(df["y"], df[model], alpha=0.9, sample_weight=w),
        }
        for label, value in expected.items():
            assert distributed.value(model, label, None) == pytest.approx(value, rel=1e-10), (model, label)
