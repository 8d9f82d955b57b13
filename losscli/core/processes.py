"""Worker processes for the bootstrap's replicate blocks (one group, ``--threads`` above 1).

Threads hand Python's lock over at each NumPy call of the bootstrap (10-100 us calls, tens
of us a hand-over on a busy VM): two threads run the replicate sums only 1.1-1.2x faster
than one. Processes share no lock: the main process and N - 1 workers (N = thread_count())
compute a batch's replicate blocks side by side.

- A batch's columns are copied once into an anonymous shared file (``memfd``) every worker
  maps; its descriptor goes through the worker's socket, so no name exists that could leak
  (no /dev/shm entry, no resource tracker, nothing left behind by a killed process).
- Each block is claimed from a counter in a second shared file under a POSIX record lock:
  whoever is free takes the next block. A slow-to-start worker claims nothing; a block a
  worker holds too long (longer than a block takes the main process) is computed by the
  main process too, the first result kept: no worker ever holds a run back.
- Every block is ``bootstrap.block_sums``, the sums the thread path makes for that block
  (its spans' partial sums added in span order): identical digits whoever computed it.
- Workers are ``python -c`` children in a session of their own (a terminal's Ctrl-C reaches
  only the main process, which ends them), not multiprocessing's spawn or forkserver, which
  import the caller's ``__main__`` again in the child; plain fork is unsafe beside Arrow's
  threads. They run one BLAS thread, write nothing to the terminal, and exit when their
  socket closes, so none outlives the program, even one killed with SIGKILL.

The pool lives for one run (``session``), opened by the local engine; the Dask engine, a
daemonic process, a thread other than the session's, or a system without ``memfd_create``
use threads.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported when a run starts workers: a run without them does not pay 15 ms
    from multiprocessing.connection import Connection

# Start the workers when a run's replicate work (rows x B) is at least this (about 0.4 s of
# bootstrap on threads): a worker's start-up (an interpreter and NumPy, 90 ms of CPU) slows
# the run below it, measured on a busy 2-core VM (4 models x 2 losses, B = 1000: 200k rows
# 1.1x slower, 300k 1.1x, 500k 0.86x, 1M 0.74x of the time on threads).
START_WORK = 400_000 * 1000
# Use them for a batch whose work (rows x B) is at least this and that has two blocks or more:
# 2048 rows x B = 1000 take 0.76x the time on threads, 1024 rows 0.9x, 512 rows more.
BATCH_WORK = 1 << 21
_CONTROL_WORDS = 3  # generation, next block, blocks
_WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_WORKER_CODE = (
    "import sys\nif {home!r} not in sys.path: sys.path.insert(0, {home!r})\n"
    "from losscli.core.processes import serve\nserve()"
)


class _Shared:
    """An anonymous shared file mapped here: its descriptor (sent to workers) and a view."""

    def __init__(self, size: int) -> None:
        self.fd = os.memfd_create("losscli", os.MFD_CLOEXEC)
        self.size = size
        os.ftruncate(self.fd, size)
        self.map = mmap.mmap(self.fd, size)

    def floats(self, count: int) -> np.ndarray:
        return np.frombuffer(self.map, dtype=np.float64, count=count)

    def close(self) -> None:
        with contextlib.suppress(BufferError):  # a view still alive keeps the mapping (freed with it)
            self.map.close()
        os.close(self.fd)


def _claim(control: np.ndarray, fd: int, generation: int) -> int | None:
    """The next block of batch ``generation`` (None: none is left, or the batch is over)."""
    fcntl.lockf(fd, fcntl.LOCK_EX)
    try:
        if control[0] != generation or control[1] >= control[2]:
            return None
        block = int(control[1])
        control[1] = block + 1
        return block
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN)


class _Worker:
    def __init__(self, control: _Shared) -> None:
        import socket
        import subprocess
        from multiprocessing.connection import Connection

        mine, theirs = socket.socketpair()
        # The worker imports this very losscli: its folder goes first on the worker's path unless
        # there already (a site-packages folder in PYTHONPATH would shadow the standard library).
        home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = _WORKER_CODE.format(home=home)
        try:
            self.process = subprocess.Popen(
                # -P: the current folder is not put on the worker's path (a numpy.py or losscli/
                # there would run in the worker and could change its sums).
                [sys.executable, "-P", "-c", code, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **_WORKER_ENV},
            )
        finally:
            theirs.close()
        self.conn = Connection(mine.detach())
        self.data_id = -1  # the data file it has (its descriptor is sent once)
        self.send_file(control)

    def send_file(self, shared: _Shared) -> None:
        from multiprocessing.reduction import send_handle

        self.conn.send(("file", shared.size))
        send_handle(self.conn, shared.fd, self.process.pid)

    def end(self) -> None:
        import subprocess

        self.conn.close()  # an idle worker exits at once; a busy one is ended
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Pool:
    """The worker processes of a run, and the shared files they read."""

    def __init__(self, count: int) -> None:
        self.control = _Shared(mmap.PAGESIZE)
        self.counter = np.frombuffer(self.control.map, dtype=np.int64, count=_CONTROL_WORDS)
        self.data: _Shared | None = None
        self.data_id = 0
        self.generation = 0
        self.block_seconds = 0.05  # how long a block takes here (measured from the first)
        self.from_workers = 0  # blocks whose sums a worker computed
        self.workers: list[_Worker] = []
        try:
            for _ in range(count):
                self.workers.append(_Worker(self.control))
        except OSError:  # no interpreter to start (an embedded Python): fewer workers, or none
            pass

    def close(self) -> None:
        for worker in self.workers:
            worker.end()
        self.workers = []
        for shared in (self.data, self.control):
            if shared is not None:
                shared.close()
        self.data = None

    def replicate_sums(self, seed: int, start: int, columns: np.ndarray, replicates: int) -> np.ndarray:
        """The replicate sums of one group's ``columns``, (c, B, 1), blocks shared with the workers."""
        from .bootstrap import REPLICATE_BLOCK, block_sums

        rows, width = columns.shape
        blocks = -(-replicates // REPLICATE_BLOCK)
        self._share(columns)
        self.generation += 1
        job = ("job", self.generation, rows, width, seed, start, replicates)
        self._post(job, blocks)
        out = np.zeros((width, replicates, 1))
        done: set[int] = set()
        while (block := _claim(self.counter, self.control.fd, self.generation)) is not None:
            began = time.perf_counter()
            self._keep(out, done, block, block_sums(seed, start, columns, replicates, block * REPLICATE_BLOCK))
            self.block_seconds = time.perf_counter() - began
        while len(done) < blocks:
            if not self._receive(out, done):  # a worker is late (or gone): its block is computed here too
                block = min(set(range(blocks)) - done)
                self._keep(out, done, block, block_sums(seed, start, columns, replicates, block * REPLICATE_BLOCK))
        return out

    def _share(self, columns: np.ndarray) -> None:
        """Copy ``columns`` into the shared data file (grown, and sent again, when too small)."""
        size = columns.size * 8
        if self.data is None or self.data.size < size:
            if self.data is not None:
                self.data.close()
            self.data = _Shared(max(size + size // 4, mmap.PAGESIZE))
            self.data_id += 1
        np.copyto(self.data.floats(columns.size).reshape(columns.shape), columns)

    def _post(self, job: tuple[Any, ...], blocks: int) -> None:
        """Open batch ``job`` to claims, and tell every live worker."""
        fcntl.lockf(self.control.fd, fcntl.LOCK_EX)
        try:
            self.counter[:] = (self.generation, 0, blocks)
        finally:
            fcntl.lockf(self.control.fd, fcntl.LOCK_UN)
        assert self.data is not None
        for worker in list(self.workers):
            try:
                if worker.data_id != self.data_id:
                    worker.send_file(self.data)
                    worker.data_id = self.data_id
                worker.conn.send(job)
            except OSError:
                self._retire(worker)

    def _receive(self, out: np.ndarray, done: set[int]) -> bool:
        """Take the results that come within about a block's time; False when none came."""
        from multiprocessing.connection import wait

        conns = {w.conn: w for w in self.workers}
        ready = wait(list(conns), timeout=max(0.01, 2 * self.block_seconds)) if conns else []
        for conn in ready:
            worker = conns[conn]  # type: ignore[index]
            try:
                generation, block, sums = worker.conn.recv()
            except (EOFError, OSError):
                self._retire(worker)
                continue
            if generation == self.generation and block not in done:
                self._keep(out, done, block, sums)
                self.from_workers += 1
        return bool(ready)

    def _keep(self, out: np.ndarray, done: set[int], block: int, sums: np.ndarray) -> None:
        from .bootstrap import REPLICATE_BLOCK

        q0 = block * REPLICATE_BLOCK
        out[:, q0 : q0 + sums.shape[1], :] = sums
        done.add(block)

    def _retire(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.end()


_pool: Pool | None = None
_owner: int | None = None  # the thread whose run opened the session
_session_lock = threading.Lock()
_unknown = False  # the session's work is not known up front: start when the batches reach START_WORK
_seen = 0  # replicate work of the session's batches so far


def wanted() -> bool:
    """Whether worker processes may run here (a Dask worker or a daemonic process: no)."""
    from .workers import thread_count

    if min(thread_count(), _cores()) <= 1 or not hasattr(os, "memfd_create"):
        return False
    # An embedding program's executable (uWSGI, a frozen app) is no interpreter to start workers with.
    if not os.path.basename(sys.executable or "").startswith(("python", "pypy")):
        return False
    import multiprocessing

    if multiprocessing.current_process().daemon:
        return False
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        with contextlib.suppress(Exception):
            distributed.get_worker()
            return False
    return True


@contextlib.contextmanager
def session(expected_work: int | None) -> Iterator[None]:
    """Let this thread's bootstrap use worker processes until the block ends (then they end).

    ``expected_work`` (rows x B, None: unknown) starts them now when large, so their
    start-up overlaps the first batch; unknown, the first large batch starts them.
    """
    global _owner, _unknown, _seen, _pool
    me = threading.get_ident()
    with _session_lock:  # two runs on two threads: one owns the pool, the other uses threads
        mine = _owner is None and wanted()
        if mine:
            _owner, _unknown, _seen = me, expected_work is None, 0
    if not mine:
        yield
        return
    try:
        if expected_work is not None and expected_work >= START_WORK:
            _start()
        yield
    finally:
        with _session_lock:
            pool, _pool, _owner = _pool, None, None
        if pool is not None:
            pool.close()


def _start() -> None:
    global _pool, _unknown
    from .workers import thread_count

    _unknown = False  # started once (or failed once) in a session
    if _pool is None:
        try:
            # Never more workers than cores: --threads 16 on 2 cores is one worker, not 15.
            _pool = Pool(min(thread_count(), _cores()) - 1)
        except OSError:  # no shared file (too many open files, no memfd): threads do it
            _pool = None


def _cores() -> int:
    """The cores this process may use (a seam the tests set)."""
    from .workers import core_count

    return core_count()


def for_batch(rows: int, replicates: int) -> Pool | None:
    """The pool for a batch of ``rows`` x B ``replicates`` of one group, or None (threads do it)."""
    from .workers import thread_count

    global _seen
    if _owner != threading.get_ident() or thread_count() <= 1:
        return None
    _seen += rows * replicates
    if _pool is None and _unknown and _seen >= START_WORK:
        _start()
    if rows * replicates < BATCH_WORK or replicates <= _block():
        return None
    return _pool if _pool is not None and _pool.workers else None


def _block() -> int:
    from .bootstrap import REPLICATE_BLOCK

    return REPLICATE_BLOCK


def serve() -> None:
    """A worker: claim blocks of each batch it hears of, send their sums, until its socket closes."""
    import signal
    from multiprocessing.connection import Connection

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(sys.argv[1]))
    try:
        _serve(conn)  # until the socket closes (EOFError); any failure: the main process computes its blocks
    finally:
        os._exit(0)  # nothing to tear down: the main process has what matters


def _serve(conn: Connection) -> None:
    import warnings
    from multiprocessing.reduction import recv_handle

    from .bootstrap import REPLICATE_BLOCK, block_sums

    warnings.simplefilter("ignore")  # a stale block read over new columns may overflow: its sums are dropped
    files: list[tuple[int, mmap.mmap]] = []
    while True:
        message = conn.recv()
        if message[0] == "file":
            fd = recv_handle(conn)
            if len(files) > 1:  # the older data file: its mapping goes with its last view
                os.close(files.pop()[0])
            files.append((fd, mmap.mmap(fd, message[1])))  # the control file, then the newest data
            continue
        _, generation, rows, width, seed, start, replicates = message
        control = np.frombuffer(files[0][1], dtype=np.int64, count=_CONTROL_WORDS)
        columns = np.frombuffer(files[-1][1], dtype=np.float64, count=rows * width).reshape(rows, width)
        while (block := _claim(control, files[0][0], generation)) is not None:
            conn.send((generation, block, block_sums(seed, start, columns, replicates, block * REPLICATE_BLOCK)))
