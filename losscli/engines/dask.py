"""The Dask engine: one task per Parquet file, states merged in a tree.

    losscli eval 'data/preds-*.parquet' --engine dask [--scheduler tcp://host:8786]

Without --scheduler a LocalCluster of worker processes is started on this
machine. Each worker opens its file, reduces it to an Accumulator (sums,
bootstrap replicate sums, paired moments, per group) and returns only that
small state; states are merged pairwise on the cluster; the client finishes
them exactly as the local engine does. Bootstrap draws depend on a row's
position in the whole dataset (each file's offset comes from the Parquet
footers), so intervals equal the local engine's.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import signal
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import InputError, OptionError
from ..read.formats import detect_format, open_source
from ..read.parquet import open_partition, parquet_files
from ..read.plan import Plan, make_plan
from ..read.source import Source
from ..request import Request
from .evaluation import Evaluation
from .local import BatchObserver, ObserverFactory, Partial, accumulate, conclude

# A Dask handshake is a few hundred bytes; a length prefix beyond this is another protocol.
HANDSHAKE_MAX_BYTES = 1 << 20


def _reduce_file(
    path: str, row_offset: int, plan: Plan, request: Request, part: Any = None, observer: BatchObserver | None = None
) -> Partial:
    """Runs on a worker: one file -> its mergeable state.

    ``part``: (dataset path, partition key schema) when the file's folders are hive partition keys.
    ``observer`` comes empty; each task fills its own copy.
    """
    source = open_source(path, "parquet") if part is None else open_partition(part[0], path, part[1])
    observer = copy.deepcopy(observer)  # never one object filled by two tasks in one process
    return accumulate(source, plan, request, row_offset=row_offset, observer=observer)


def _merge(a: Partial, b: Partial) -> Partial:
    return a.merge(b)


def run_dask(request: Request, observer: ObserverFactory | None = None) -> Evaluation:
    """Evaluate a Parquet file, directory or glob on a Dask cluster."""
    path = request.inputs.paths[0]
    if path == "-" or detect_format(path, request.inputs.input_format)[0] != "parquet":
        raise OptionError(f"--engine dask reads Parquet (a file, directory or glob); {path} is not")
    files = parquet_files(path)
    if not files:
        raise InputError(f"{path}: no Parquet file found")
    if request.inputs.delimiter is not None or request.inputs.decimal is not None:
        raise OptionError("--engine dask reads Parquet; --delimiter and --decimal apply to CSV")
    source = open_source(path, "parquet")
    plan = make_plan(source, request)
    part = _partitions(path, source)
    empty = None if observer is None else observer(source, plan, request)
    client, cluster = _connect(request)
    try:
        partial = _reduce_on(client, files, _offsets(files), plan, request, part, empty)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    where = "a local cluster" if cluster is not None else request.engine.scheduler
    return conclude(plan, partial, request, [*source.notes, f"dask: {len(files)} file(s) on {where}"])


def _partitions(path: str, source: Source) -> tuple[str, Any] | None:
    """The dataset's hive partition keys, typed as the whole dataset types them, for every worker."""
    import pyarrow as pa

    keys = [source.schema.field(k) for k in source.partitions]
    return (path, pa.schema(keys)) if keys else None


def _offsets(files: list[str]) -> list[int]:
    """The position of each file's first row in the whole dataset, from the Parquet footers."""
    import pyarrow.parquet as pq

    offsets, position = [], 0
    for file in files:
        offsets.append(position)
        position += pq.read_metadata(file).num_rows
    return offsets


def _connect(request: Request) -> tuple[Any, Any]:
    """A client of the --scheduler, or of a new local cluster of --workers processes."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise OptionError("--engine dask needs Dask: pip install 'losscli[dask]' (dask and distributed)") from None
    scheduler = request.engine.scheduler
    timeout = request.engine.timeout_s
    cluster = None
    if scheduler is not None:
        _probe(scheduler, timeout, request)
    else:
        # Workers' own logs would repeat a user error (with its traceback) before our sentence.
        with _children_deaf_to_ctrl_c():
            cluster = LocalCluster(
                n_workers=request.engine.worker_count,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # None still binds :8787; a busy 8787 failed the run with a warning
                silence_logs=logging.CRITICAL,
            )
    try:
        return Client(cluster if cluster is not None else scheduler, timeout=timeout), cluster
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise OptionError(
            f"{request.flag('scheduler')} {scheduler}: cannot reach a Dask scheduler there "
            f"({str(exc).splitlines()[0]}); check the address (tcp://HOST:8786) or leave "
            f"{request.flag('scheduler')} out for a local cluster"
        ) from None


@contextlib.contextmanager
def _children_deaf_to_ctrl_c() -> Iterator[None]:
    """A terminal's Ctrl-C (or hangup) goes to the whole process group, workers included, which
    would die printing tracebacks. Processes started here inherit these signals blocked; only
    losscli hears them (on its other threads), and shuts the cluster down itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from multiprocessing import resource_tracker

    # Started first: starting it later unblocks SIGINT in the thread that spawns the workers.
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGHUP})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _probe(address: str, timeout: float, request: Request) -> None:
    """Speak first to what is at ``address``, with bounded waits: a Dask scheduler sends its
    handshake (a small length-prefixed frame) as soon as it accepts. A silent server, a web
    server or an SSH banner would otherwise hang the client, or make it allocate whatever
    length the first 8 bytes spell."""
    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return  # tls://, ucx://: Dask's own timeout bounds the connection
    host, _, port = rest.rpartition(":")
    flag = request.flag("scheduler")
    fix = f"give the address of a Dask scheduler (tcp://HOST:8786), or raise {request.flag('timeout')}"
    try:
        with socket.create_connection((host or rest, int(port) if port.isdigit() else 8786), timeout=timeout) as sock:
            head = _receive(sock, 8)
    except TimeoutError:
        raise OptionError(f"{flag} {address}: no Dask handshake within {timeout:g} s; {fix}") from None
    except OSError as exc:
        raise OptionError(f"{flag} {address}: cannot connect ({exc.strerror or exc}); {fix}") from None
    if len(head) < 8 or not 0 < struct.unpack("<Q", head)[0] <= HANDSHAKE_MAX_BYTES:
        shown = repr(head[:8].decode("ascii", "replace")) if head else "nothing before closing"
        raise OptionError(f"{flag} {address}: is not a Dask scheduler (it answered {shown}); {fix}")


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _reduce_on(
    client: Any,
    files: list[str],
    offsets: list[int],
    plan: Plan,
    request: Request,
    part: Any = None,
    observer: BatchObserver | None = None,
) -> Partial:
    states = [
        client.submit(_reduce_file, file, offset, plan, request, part, observer, pure=False)
        for file, offset in zip(files, offsets, strict=True)
    ]
    every = list(states)
    while len(states) > 1:  # a tree of pairwise merges, so no worker holds every state
        pairs = [client.submit(_merge, a, b, pure=False) for a, b in zip(states[::2], states[1::2], strict=False)]
        states = pairs + ([states[-1]] if len(states) % 2 else [])
        every += pairs
    _wait_with_progress(every, request)
    partial: Partial = states[0].result()
    return partial


def _wait_with_progress(futures: list[Any], request: Request) -> None:
    """Wait as long as tasks keep finishing; give up when none has for --timeout seconds (a
    scheduler without workers would otherwise keep us waiting for ever)."""
    from dask.distributed import wait

    timeout = request.engine.timeout_s
    pending = [f for f in futures if not f.done()]
    while pending:
        try:
            wait(pending, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            raise OptionError(
                f"{request.flag('scheduler') if request.engine.scheduler else 'the local Dask cluster'}: no task "
                f"finished in {timeout:g} s: either the cluster has no workers, or each partition takes longer "
                f"(many groups, many bootstrap replicates); then raise {request.flag('timeout')}"
            ) from None
        pending = [f for f in pending if not f.done()]
