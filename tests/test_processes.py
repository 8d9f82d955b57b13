"""The bootstrap's replicate blocks on worker processes (core/processes.py): the same digits
as threads, whoever computes a block; no process outlives a run, an error or a Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from losscli.core import bootstrap, processes, workers
from losscli.core.bootstrap import REPLICATE_BLOCK, SPAN_ROWS, replicate_sums, replicate_weights
from losscli.errors import BadValueError
from losscli.read.source import source_from_dataframe
from losscli.request import Engine

from .build import Options, request
from .test_outputs import COMMAND
from .test_remote_and_memory import _children

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="worker processes need memfd_create")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[processes.Pool]:
    """A session whose worker is up and has computed a block (not only the main process)."""
    monkeypatch.setattr(processes, "BATCH_WORK", 0)
    monkeypatch.setattr(processes, "_cores", lambda: 2)  # the same on a one-core machine
    workers.set_threads(2)
    columns = np.random.default_rng(1).normal(size=(SPAN_ROWS, 3))
    try:
        with processes.session(10**12):
            started = processes._pool
            assert started is not None
            assert started.workers
            deadline = time.monotonic() + 30
            while started.from_workers == 0 and time.monotonic() < deadline:
                replicate_sums(1, 0, columns, np.zeros(SPAN_ROWS, np.intp), 1, 8 * REPLICATE_BLOCK)
            assert started.from_workers > 0, "the worker never computed a block"
            pids = [w.process.pid for w in started.workers]
            yield started
    finally:
        workers.set_threads(None)
    assert processes._pool is None
    assert not any(_alive(pid) for pid in pids)


def _main_slowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The main process takes 20 ms more per block, so the worker claims some of every batch."""
    original = bootstrap.block_sums

    def slow(*args: object) -> np.ndarray:
        time.sleep(0.02)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bootstrap, "block_sums", slow)


@pytest.mark.parametrize("rows", [6000, 40_000, 3 * SPAN_ROWS + 123])
@pytest.mark.parametrize("replicates", [3 * REPLICATE_BLOCK + 5, 1000])
def test_blocks_on_processes_equal_threads_to_every_digit(
    pool: processes.Pool, monkeypatch: pytest.MonkeyPatch, rows: int, replicates: int
) -> None:
    columns = np.random.default_rng(rows).normal(size=(rows, 5))
    codes = np.zeros(rows, np.intp)
    _main_slowed(monkeypatch)
    before = pool.from_workers
    on_processes = replicate_sums(7, 12_345, columns, codes, 1, replicates)
    assert pool.from_workers > before
    processes._owner, owner = None, processes._owner  # this thread's batches on threads now
    try:
        two = replicate_sums(7, 12_345, columns, codes, 1, replicates)
        workers.set_threads(1)
        one = replicate_sums(7, 12_345, columns, codes, 1, replicates)
    finally:
        processes._owner = owner
        workers.set_threads(2)
    np.testing.assert_array_equal(on_processes, two)
    np.testing.assert_array_equal(on_processes, one)
    want = np.einsum("ib,ic->cb", replicate_weights(7, 12_345, rows, replicates), columns)
    np.testing.assert_allclose(on_processes[:, :, 0], want, rtol=1e-12, atol=1e-9)


def _intervals(chunk_rows: int | None, threads: int) -> np.ndarray:
    from losscli.engines.local import run

    rng = np.random.default_rng(5)
    n = 3 * SPAN_ROWS + 123
    y = rng.normal(size=n)
    frame = pd.DataFrame({"y": y, "a": y + rng.normal(size=n), "b": y + rng.standard_t(3, size=n)})
    options = Options(ci=0.9, bootstrap=2 * REPLICATE_BLOCK + 17, seed=3, baseline="a")
    req = request(["mse", "mae", "rmse"], options=options, engine=Engine(chunk_rows=chunk_rows, threads=threads))
    ev = run(source_from_dataframe(frame), req)
    names = ("ci_low", "ci_high", "delta_ci_low", "delta_ci_high")
    return np.array([[getattr(r, name) for name in names] for r in ev.results], dtype=float)


@pytest.mark.parametrize("chunk_rows", [1000, SPAN_ROWS, SPAN_ROWS // 3 + 1, None])
def test_intervals_on_processes_equal_one_thread_for_any_chunk_size(
    pool: processes.Pool, monkeypatch: pytest.MonkeyPatch, chunk_rows: int | None
) -> None:
    """A run in the session uses its worker; with one thread it does not: the same digits."""
    _main_slowed(monkeypatch)
    before = pool.from_workers
    on_processes = _intervals(chunk_rows, threads=2)
    assert pool.from_workers > before
    one = _intervals(chunk_rows, threads=1)
    assert np.isfinite(one).all()
    np.testing.assert_array_equal(on_processes, one)


def test_a_late_or_dead_worker_never_holds_the_run_back(pool: processes.Pool) -> None:
    """A stopped worker's block is computed by the main process too; a killed one is retired."""
    rows, replicates = 3 * SPAN_ROWS, 6 * REPLICATE_BLOCK
    columns = np.random.default_rng(2).normal(size=(rows, 4))
    codes = np.zeros(rows, np.intp)
    want = replicate_sums(4, 0, columns, codes, 1, replicates)
    worker = pool.workers[0].process
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        np.testing.assert_array_equal(replicate_sums(4, 0, columns, codes, 1, replicates), want)
        assert time.monotonic() - began < 10
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    for _ in range(3):
        np.testing.assert_array_equal(replicate_sums(4, 0, columns, codes, 1, replicates), want)
    assert not pool.workers


def test_no_worker_outlives_a_run_or_an_error_in_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    from losscli.engines.local import run

    monkeypatch.setattr(processes, "START_WORK", 0)
    monkeypatch.setattr(processes, "BATCH_WORK", 0)
    pids: list[int] = []
    original = processes.Pool.__init__

    def remember(self: processes.Pool, count: int) -> None:
        original(self, count)
        pids.extend(w.process.pid for w in self.workers)

    monkeypatch.setattr(processes.Pool, "__init__", remember)
    n = 4 * SPAN_ROWS
    y = np.random.default_rng(0).normal(size=n)
    bad = y + 1
    bad[-5] = np.nan  # in the last batch
    for frame in (pd.DataFrame({"y": y, "a": y + 1}), pd.DataFrame({"y": y, "a": bad})):
        req = request(["mse"], options=Options(ci=0.9, bootstrap=500), engine=Engine(chunk_rows=SPAN_ROWS, threads=2))
        pids.clear()
        try:
            run(source_from_dataframe(frame), req)
        except BadValueError:
            assert np.isnan(frame["a"]).any()
        assert pids, "no worker started"
        assert processes._pool is None
        assert processes._owner is None
        assert not any(_alive(pid) for pid in pids)


def test_no_processes_where_they_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """One thread, a daemonic process, an embedded interpreter, a thread other than the
    session's: threads do the blocks."""
    import multiprocessing

    monkeypatch.setattr(processes, "BATCH_WORK", 0)
    workers.set_threads(1)
    try:
        assert not processes.wanted()
    finally:
        workers.set_threads(2)
    try:

        class Daemonic:
            daemon = True

        monkeypatch.setattr(multiprocessing, "current_process", lambda: Daemonic())
        assert not processes.wanted()
        monkeypatch.undo()
        assert processes.wanted()
        monkeypatch.setattr(sys, "executable", "/usr/bin/uwsgi")  # an embedding program: no interpreter
        assert not processes.wanted()
        monkeypatch.undo()
        monkeypatch.setattr(processes, "BATCH_WORK", 0)
        with processes.session(None):
            other: list[object] = []
            thread = threading.Thread(target=lambda: other.append(processes.for_batch(10**6, 1000)))
            thread.start()
            thread.join()
            assert other == [None]
    finally:
        workers.set_threads(None)


@pytest.mark.slow
def test_the_dask_engine_agrees_with_blocks_on_processes(
    pool: processes.Pool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Dask's workers reduce on their own threads (no session there); the intervals agree."""
    pytest.importorskip("dask.distributed")
    from losscli.engines.local import run
    from losscli.read.inputs import open_inputs

    from .build import run_dask

    rng = np.random.default_rng(4)
    (tmp_path / "data").mkdir()
    for part in range(3):
        y = rng.normal(size=5000)
        frame = pd.DataFrame({"y": y, "a": y + rng.normal(size=5000), "b": y + rng.normal(size=5000)})
        frame.to_parquet(tmp_path / "data" / f"part-{part}.parquet")
    glob = str(tmp_path / "data" / "part-*.parquet")
    options = Options(ci=0.9, bootstrap=3 * REPLICATE_BLOCK, baseline="a")
    _main_slowed(monkeypatch)
    req = request(["mse", "mae"], options=options, paths=(glob,), engine=Engine(threads=2))
    before = pool.from_workers
    local = run(open_inputs(req)[0], req)
    assert pool.from_workers > before
    distributed = run_dask(glob, ["mse", "mae"], workers=2, options=options)
    names = ("ci_low", "ci_high", "delta_ci_low", "delta_ci_high")
    for a in local.results:
        b = distributed.result(a.model, a.loss, a.group)
        for name in names:
            assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-12, nan_ok=True), (a.loss, name)


@pytest.mark.slow
def test_ctrl_c_ends_the_workers_quietly(tmp_path: Path) -> None:
    """Workers sit in a session of their own (a terminal's Ctrl-C reaches only losscli), and
    losscli ends them: nothing left, nothing said but the interruption."""
    n = 600_000
    rng = np.random.default_rng(0)
    y = rng.normal(size=n)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"y": y, "a": y + rng.normal(size=n)}), path)
    with subprocess.Popen(
        [*COMMAND, "eval", str(path), "-l", "mse,mae", "--ci", "0.9", "--bootstrap", "5000", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        deadline = time.monotonic() + 60
        while not (children := _children(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert children, "no worker process started"
        time.sleep(1.0)
        assert process.poll() is None, "the run ended before it could be interrupted"
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.decode().splitlines()[-1] == "losscli: interrupted (SIGINT)", err.decode()
    assert b"Traceback" not in err, err.decode()
    assert b"leaked" not in err, err.decode()
    time.sleep(0.5)
    assert not any(_alive(pid) for pid in children)


def test_a_command_line_run_uses_a_worker_and_says_nothing_of_it(tmp_path: Path) -> None:
    """Above START_WORK the run starts its worker; the output is the one-thread output."""
    n = 450_000
    rng = np.random.default_rng(0)
    y = rng.normal(size=n)
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"y": y, "a": y + rng.normal(size=n)}), path, row_group_size=100_000)
    args = [*COMMAND, "eval", str(path), "-l", "mse,mae", "--ci", "0.95", "-f", "csv"]
    both = subprocess.run([*args, "--threads", "2"], capture_output=True, timeout=120, check=False)
    one = subprocess.run([*args, "--threads", "1"], capture_output=True, timeout=120, check=False)
    assert both.returncode == 0, both.stderr
    assert one.returncode == 0, one.stderr
    assert both.stdout == one.stdout
    assert both.stderr == one.stderr


def test_a_text_files_rows_are_estimated_from_its_size(tmp_path: Path) -> None:
    """A CSV does not say its rows: its bytes at its first MiB's rate start the workers early."""
    from losscli.engines.local import _rows_by_size
    from losscli.read.inputs import open_inputs

    n = 100_000
    y = np.random.default_rng(0).normal(size=n)
    path = tmp_path / "p.csv"
    pd.DataFrame({"y": y, "a": y + 1}).to_csv(path, index=False)
    source, _ = open_inputs(request(paths=(str(path),)))
    assert source.rows is None
    rows = _rows_by_size(source, (str(path),))
    assert rows is not None
    assert 0.8 * n < rows < 1.25 * n
    assert _rows_by_size(source, ("-",)) is None


def _worker_computes_a_block() -> processes.Pool:
    """The session's pool, once its worker has computed a block."""
    started = processes._pool
    assert started is not None
    assert started.workers
    columns = np.random.default_rng(1).normal(size=(SPAN_ROWS, 3))
    deadline = time.monotonic() + 30
    while started.from_workers == 0 and time.monotonic() < deadline:
        replicate_sums(1, 0, columns, np.zeros(SPAN_ROWS, np.intp), 1, 8 * REPLICATE_BLOCK)
    assert started.from_workers > 0, "the worker never computed a block"
    return started


def test_workers_import_nothing_from_the_current_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A numpy.py in the folder a run starts from is not run by a worker (python -c would put
    the folder first on the worker's path; the main process does not have it there)."""
    marker = tmp_path / "imported"
    (tmp_path / "numpy.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise ImportError('not numpy')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(processes, "BATCH_WORK", 0)
    monkeypatch.setattr(processes, "_cores", lambda: 2)
    workers.set_threads(2)
    try:
        with processes.session(10**12):
            _worker_computes_a_block()
    finally:
        workers.set_threads(None)
    assert not marker.exists()


def test_workers_are_never_more_than_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "_cores", lambda: 2)
    workers.set_threads(16)
    try:
        with processes.session(10**12):
            started = processes._pool
            assert started is not None
            assert len(started.workers) == 1
    finally:
        workers.set_threads(None)


def test_two_runs_on_two_threads_share_no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two sessions entered at once from two threads: one owns the pool, the other runs on
    threads; neither closes the other's pool under it (was: Bad file descriptor)."""
    monkeypatch.setattr(processes, "BATCH_WORK", 0)
    monkeypatch.setattr(processes, "_cores", lambda: 2)
    original = processes.wanted

    def slow_wanted() -> bool:  # widens the gap between the owner's check and its claim
        time.sleep(0.05)
        return original()

    monkeypatch.setattr(processes, "wanted", slow_wanted)
    workers.set_threads(2)
    columns = np.random.default_rng(2).normal(size=(2 * SPAN_ROWS, 3))
    codes = np.zeros(2 * SPAN_ROWS, np.intp)
    want = replicate_sums(4, 0, columns, codes, 1, 4 * REPLICATE_BLOCK)
    errors: list[BaseException] = []
    results: list[np.ndarray] = []
    gate = threading.Barrier(2)

    def one_run() -> None:
        try:
            gate.wait()
            with processes.session(10**12):
                for _ in range(3):
                    results.append(replicate_sums(4, 0, columns, codes, 1, 4 * REPLICATE_BLOCK))
        except BaseException as exc:
            errors.append(exc)

    try:
        runs = [threading.Thread(target=one_run) for _ in range(2)]
        for t in runs:
            t.start()
        for t in runs:
            t.join(60)
    finally:
        workers.set_threads(None)
    assert not errors
    assert len(results) == 6
    for got in results:
        np.testing.assert_array_equal(got, want)
    assert processes._pool is None
    assert processes._owner is None
