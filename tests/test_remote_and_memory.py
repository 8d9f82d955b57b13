"""Remote work fails cleanly (issue 13, item 12): what is not a Dask scheduler, and a Ctrl-C
on a local cluster. (Item 13, a bootstrap too big for memory, is refused up front by
core/bootstrap.py, with its own tests.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .conftest import SAMPLE
from .test_outputs import COMMAND, losscli

PARQUET = SAMPLE / "house_prices.parquet"


def _serve(behaviour: str) -> tuple[str, threading.Event]:
    """A TCP server on a free port that is not a Dask scheduler."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        held = []
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            if behaviour == "ssh":
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            elif behaviour == "http":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            held.append(conn)  # "silent": accept, then say nothing
        for conn in held:
            conn.close()
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}", stop


@pytest.fixture(params=["silent", "ssh", "http"])
def not_a_scheduler(request: pytest.FixtureRequest) -> Iterator[str]:
    address, stop = _serve(request.param)
    yield address
    stop.set()


def test_what_is_not_a_dask_scheduler_is_one_sentence_in_bounded_time(not_a_scheduler: str) -> None:
    pytest.importorskip("distributed")
    start = time.monotonic()
    done = losscli("eval", PARQUET, "--engine", "dask", "--scheduler", not_a_scheduler, "--timeout", "2")
    assert time.monotonic() - start < 30
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode().startswith(f"losscli: error: --scheduler {not_a_scheduler}: ")
    assert len(done.stderr.splitlines()) == 1


def test_an_address_where_nothing_listens_is_one_sentence() -> None:
    pytest.importorskip("distributed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed
    done = losscli("eval", PARQUET, "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{port}", "--timeout", "2")
    assert done.returncode == 2
    assert b"cannot connect" in done.stderr


def test_the_timeout_is_a_positive_number_of_seconds() -> None:
    done = losscli("eval", PARQUET, "--engine", "dask", "--timeout", "0")
    assert done.returncode == 2
    assert b"--timeout is a number of seconds > 0" in done.stderr


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_ctrl_c_on_a_local_cluster_is_quiet(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches the whole process group: losscli and its workers."""
    pytest.importorskip("distributed")
    rng = np.random.default_rng(0)
    for i in range(8):
        values = {c: rng.random(1_000_000) for c in ("y", "a", "b")}
        pq.write_table(pa.table(values), tmp_path / f"p{i}.parquet")
    with subprocess.Popen(
        [*COMMAND, "eval", str(tmp_path), "--engine", "dask", "--ci", "0.9", "--bootstrap", "2000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2 and time.monotonic() < deadline:  # the workers' nannies
            time.sleep(0.1)
        time.sleep(2)  # the workers are up and reducing files
        assert process.poll() is None, "the run ended before it could be interrupted"
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"Traceback" not in err, err.decode()
    assert b"leaked semaphore" not in err, err.decode()
    assert err.decode().splitlines()[-1] == "losscli: interrupted (SIGINT)"
