"""A small thread pool for the NumPy work of a run (``--threads``).

NumPy releases the GIL in its kernels and in BLAS, so threads use every core
without copying data. Callers split work into pieces whose results do not
depend on which thread ran them and combine them in a fixed order, so the
numbers are identical for any thread count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_threads = 0  # 0: every core
_pool: ThreadPoolExecutor | None = None


def set_threads(count: int | None) -> None:
    """Use ``count`` threads (None or 0: one per core) from now on."""
    global _threads, _pool
    if count is not None and count < 0:
        raise ValueError(f"threads must be at least 0, got {count}")
    if (count or 0) != _threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = count or 0


def shutdown() -> None:
    """End the pool's threads (idle between runs); the next parallel_map starts them again."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None


def thread_count() -> int:
    """The number of threads work is spread over."""
    return _threads or core_count()


def core_count() -> int:
    """The cores this process may use (not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parallel_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(x) for x in items]``, on the pool when there is more than one thread and item."""
    return list(parallel_iter(fn, items))


def parallel_iter(fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``fn(x) for x in items``, in order, on the pool when there is more than one thread and item.

    Every item is submitted at once and results are yielded in order as they finish: a
    caller adding them up holds only those finished ahead of the one it waits for (with
    tasks of like size, about one per thread), not a list of all of them.
    """
    todo = list(items)
    count = thread_count()
    if count <= 1 or len(todo) <= 1:
        return (fn(x) for x in todo)
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="losscli-worker")
    return _pool.map(fn, todo)
