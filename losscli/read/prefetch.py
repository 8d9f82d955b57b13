"""Read the next batch while the current one is evaluated.

Decoding (pyarrow) and the loss kernels (NumPy) both release the GIL, so a
reader thread one or two batches ahead lets the cores work at once; blocks of
a text file can also be parsed several at a time (``ahead``). Every thread
ends before the iterator returns, even on an error or Ctrl-C, so no reader is
left running when the interpreter exits; only one still busy after
READER_GRACE_S (blocked on a silent pipe) is left behind.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()
# How long an early stop (an error, a signal) waits for the reader to end. A reader blocked on
# a slow pipe (stdin with upstream still running) ends only when data or EOF arrives: waiting
# for it made SIGTERM wait for the upstream. Past this, any reader still busy (that one, or a
# slow read of a file) is left to itself: a daemon thread with its stop flag set, so it yields
# nothing more; parsing threads it started are joined by the interpreter's normal exit.
READER_GRACE_S = 1.0


def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` in order, produced up to ``depth`` ahead on a background thread."""
    box: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(exc)
        finally:
            # A generator stopped early runs its own clean-up (its parsing threads) here, on
            # this thread, before the consumer stops waiting for it.
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="losscli-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        deadline = time.monotonic() + READER_GRACE_S
        while worker.is_alive() and time.monotonic() < deadline:  # unblock a producer on a full queue
            with contextlib.suppress(queue.Empty):
                box.get_nowait()
            worker.join(timeout=0.05)


def reader_threads() -> int:
    """Threads that parse blocks of text at once: one per core this process may use, at most 4
    (beyond that the file system and the single reading thread are the limit)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, 4))


def ahead(work: Callable[[T], R], items: Iterator[T], threads: int) -> Iterator[tuple[T, Future[R]]]:
    """``(item, future of work(item))`` in the order of ``items``, with ``threads`` items worked
    on at once and at most one more waiting: memory stays a few items whatever the input."""
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="losscli-parse")
    pending: deque[tuple[T, Future[R]]] = deque()
    try:
        for item in items:
            pending.append((item, pool.submit(work, item)))
            if len(pending) > threads:
                yield pending.popleft()
        while pending:
            yield pending.popleft()
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True)
