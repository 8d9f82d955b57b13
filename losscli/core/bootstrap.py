"""Poisson bootstrap replicate sums: keyed draws, reduced by matrix products.

Every row gets B weights r ~ Poisson(1), the same for every model and loss
(the pairing of a difference is kept by construction). Replicates come in
blocks of REPLICATE_BLOCK; each block has one PCG64 stream keyed by (seed,
block), in which row i's draws are the 64-bit words 8 i .. 8 i + 7: a batch
starting at row i jumps there (PCG64's ``advance``), so a row's weights
depend only on the seed and its position in the whole input, the same for any
chunk size, engine or thread count.

Each 16-bit uniform is mapped through a table to the Poisson(1) counts of four
replicates of the row (one lookup, half a byte of randomness per draw): every
quadruple's probability is the product of Poisson(1) probabilities to within
2.4 x 2^-16, each count's probability within 2e-4 of Poisson(1), its mean and
variance exactly 1 (so replicate sums are unbiased and their spread right),
and the four counts' correlation below 1.5e-3. Rows stay independent (each
has lookups of its own). The Monte Carlo error of B = 1000 replicates (a few
percent of an interval's width) is far larger than what the table changes.

The replicate sums are float64 matrix products of the counts (converted to
float64 a cache-sized piece of rows at a time) with the batch's columns (w,
w * loss per model and loss; equal columns once): O(rows x B x columns) flops
with memory bounded by a span of rows, not by B x rows. The work is cut into
tasks of one replicate block x one span of SPAN_ROWS rows (one random_raw
call per span, not one generator per tile). Threads hand Python's lock over
at each NumPy call, which costs tens of microseconds here; the pieces' calls
last 10-100 microseconds, so two threads run only 1.1-1.2x faster than one
(pieces long enough to scale leave the cache and cost more per core: see
bench/RESULTS.md). With one group each task returns partial sums, added in
task order; with groups each replicate block is a task writing its own
slice: identical numbers for any thread count.

With one group and more than one thread, a run large enough (processes.py:
rows x B from 400k x 1000) starts N - 1 worker processes, and a batch's
replicate blocks are claimed one at a time by the main process and the
workers; ``block_sums`` makes a block's sums exactly as the tasks above do
(its spans' partial sums added in span order), so every digit is the same
whoever computes it. Processes share no lock: the replicate sums alone of
250k rows x 9 columns x B = 1000 take 0.145 s on two processes against 0.29 s
on one thread and 0.28 s on two (2.0x). Whole runs gain less, as reading and
the losses share the two cores (see README's scale section).
"""

from __future__ import annotations

import functools
import math
import os
import threading
from typing import Any, NamedTuple

import numpy as np

from . import processes
from .workers import parallel_iter

REPLICATE_BLOCK = 128
SPAN_ROWS = 8192
_WORDS_PER_ROW = REPLICATE_BLOCK // 16  # four 16-bit uniforms per 64-bit word, four counts each
# Above this many (local groups x columns) a one-hot product costs more than sorting.
_ONEHOT_LIMIT = 64
# Rows whose counts become float64 at once: 512 x 128 x 8 bytes stays in the core's cache.
_PIECE_ROWS = 512
_GROUP_PIECE_ROWS = 2048
_LOOKUP_PIECE = 32768  # uniforms looked up at once (their intp copy: 256 KiB)
# A product of a piece (512 x 128 x columns) is above OpenBLAS's size for threading it
# (65536 x 4): the command line starts NumPy with one BLAS thread (cli/__init__.py), as
# its own threads use the cores; in a program that left BLAS threaded, BLAS splits it too.
# A count of 10 or more has probability 1.1e-7, far below the table's resolution (2^-16).
_MAX_COUNT = 10


@functools.cache
def count_table() -> np.ndarray:
    """For each 16-bit uniform, the Poisson(1) counts of four replicates, as a uint32 holding four bytes.

    The quadruples (a, b, c, d) take as many of the 65536 values as their probability
    (cumulative probabilities rounded to 2^-16, in lexicographic order); then, for each of
    the four positions, a few values move between neighbouring counts (0 and 1, 1 and 2,
    2 and 3, keeping the other positions' counts) so that every position's mean and
    variance are exactly 1, as Poisson(1)'s: a replicate's sum is unbiased, and its spread
    right, not only in ratios. The moves are chosen to keep each count's probability
    closest to Poisson(1)'s (within 2e-4).
    """
    p = np.array([math.exp(-1.0) / math.factorial(k) for k in range(_MAX_COUNT)])
    joint = np.multiply.outer(np.multiply.outer(p, p), np.multiply.outer(p, p))
    thresholds = np.round(np.cumsum(joint.ravel()) * 65536.0)
    slots = np.diff(thresholds, prepend=0.0).astype(np.int64).reshape(joint.shape)
    for position in range(4):
        _exact_moments(slots, position, p)
    cells = np.repeat(np.arange(slots.size), slots.ravel())
    quads = np.empty((65536, 4), dtype=np.uint8)
    for k, index in enumerate(np.unravel_index(cells, joint.shape)):
        quads[:, k] = index
    table: np.ndarray = quads.view(np.uint32).reshape(65536)
    return table


def _exact_moments(slots: np.ndarray, position: int, p: np.ndarray) -> None:
    """Move slots between counts 0-1, 1-2 and 2-3 at ``position`` so its sum of counts is 65536
    and of squares 2 x 65536 (mean 1, variance 1), changing the counts' probabilities least.

    A move of one slot from k to k + 1 adds 1 to the sum and 2k + 1 to the sum of squares, so
    x, y, z moves (0->1, 1->2, 2->3) need x + y + z = a and x + 3y + 5z = b (b - a is even:
    every sum of k(k - 1) is); the one free integer is searched."""
    counts = np.moveaxis(slots, position, 0)  # a view: counts[k] are the slots with k here
    per_count = counts.reshape(len(p), -1).sum(axis=1)
    values = np.arange(len(p))
    a = 65536 - int(per_count @ values)
    b = 2 * 65536 - int(per_count @ (values * values))
    error = per_count - 65536.0 * p
    best: tuple[float, int, int, int] | None = None
    for z in range(-64, 65):
        y = (b - a - 4 * z) // 2
        x = a - y - z
        change = np.zeros(len(p))
        change[:4] += (-x, x - y, y - z, z)
        worst = float(np.abs(error + change).max())
        if best is None or worst < best[0]:
            best = (worst, x, y, z)
    assert best is not None
    for low, moves in enumerate(best[1:]):
        source, target = (low, low + 1) if moves > 0 else (low + 1, low)
        contexts = counts[source].ravel()
        # From the most probable contexts (the other three counts): a slot or two off there is least.
        for index in np.argsort(-contexts, kind="stable")[: abs(moves)]:
            where = np.unravel_index(index, counts[source].shape)
            counts[(source, *where)] -= 1
            counts[(target, *where)] += 1


_MASK = (1 << 64) - 1
_local = threading.local()


def _mix(z: int) -> int:
    """SplitMix64's finaliser: a 64-bit integer hash (every input bit reaches every output bit)."""
    z = (z + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _stream(seed: int, replicate_block: int, row: int) -> np.random.PCG64:
    """The PCG64 stream of (seed, replicate block), moved to ``row``'s first word.

    State and increment (which selects one of 2^127 streams) are SplitMix64 hashes of
    the key: setting them costs a few microseconds, a SeedSequence five times more. One
    generator per thread is re-keyed, so threads never share a state.
    """
    bits: np.random.PCG64 | None = getattr(_local, "bits", None)
    if bits is None:
        bits = _local.bits = np.random.PCG64(0)
    key = _mix(_mix(seed & _MASK) ^ replicate_block)
    a = _mix(key)
    b = _mix(a)
    c = _mix(b)
    d = _mix(c)
    state: Any = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0}
    state["state"] = {"state": (a << 64) | b, "inc": (c << 64) | d | 1}
    bits.state = state
    bits.advance(row * _WORDS_PER_ROW)
    return bits


def draws(seed: int, replicate_block: int, start: int, rows: int) -> np.ndarray:
    """The counts of rows start..start+rows in one replicate block: uint8, shape (rows, REPLICATE_BLOCK).

    A run with B replicates uses the first B - 128 k columns of its last block, so the
    first replicates of a run with B = 2000 are those of the same run with B = 1000.
    The result is a view of this thread's buffer (grown to the largest call): valid until
    the thread's next call.
    """
    bits = _stream(seed, replicate_block, start).random_raw(rows * _WORDS_PER_ROW)
    out = _counts_buffer(rows * REPLICATE_BLOCK // 4)
    # A 256 KiB table of four counts stays in the core's cache (a float table would not): the
    # counts become floats a piece at a time. "wrap" never wraps (a uint16 is always inside
    # the table) and skips "clip"'s compares.
    uniforms = bits.view(np.uint16)
    # NumPy widens the indices to intp first: in pieces, that copy stays in cache too.
    for lo in range(0, uniforms.size, _LOOKUP_PIECE):
        hi = lo + _LOOKUP_PIECE
        np.take(count_table(), uniforms[lo:hi], mode="wrap", out=out[lo:hi])
    return out.view(np.uint8).reshape(rows, REPLICATE_BLOCK)


def replicate_weights(seed: int, start: int, rows: int, replicates: int) -> np.ndarray:
    """Poisson(1) weights of rows start..start+rows, shape (rows, B), as floats (for checks; runs use the sums)."""
    out = np.empty((rows, replicates))
    for q0 in range(0, replicates, REPLICATE_BLOCK):
        q1 = min(replicates, q0 + REPLICATE_BLOCK)
        out[:, q0:q1] = draws(seed, q0 // REPLICATE_BLOCK, start, rows)[:, : q1 - q0]
    return out


def replicate_sums(
    seed: int, start: int, columns: np.ndarray, codes: np.ndarray, groups: int, replicates: int
) -> np.ndarray:
    """sum_i r_ib * columns[i, c] per group: shape (c, B, groups).

    ``start`` is the position of the batch's first row in the whole input. Equal
    columns are reduced once: with --weight every model's weight column is the same
    where no rows are dropped, and with --nan drop a --baseline pair repeats its
    model's and the baseline's columns in batches where both keep the same rows
    (4 models x 2 losses with --weight, --baseline and --nan drop: 30 columns, 9 distinct).
    """
    distinct, source = _distinct_columns(columns)
    if len(distinct) == columns.shape[1]:
        return _reduce(seed, start, columns, codes, groups, replicates)
    # Taken side by side in a C-ordered copy: products read rows of it.
    sums = _reduce(seed, start, np.take(columns, distinct, axis=1), codes, groups, replicates)
    return sums[source]


def _distinct_columns(columns: np.ndarray) -> tuple[list[int], list[int]]:
    """The first of each set of equal columns, and for every column the index of its set's first.

    A column is compared in full only with the first earlier column whose sample of rows
    matches: linear in rows x columns even when many columns share a sample.
    """
    rows, width = columns.shape
    sample = columns[np.linspace(0, rows - 1, min(rows, 64)).astype(np.intp)]
    first: dict[bytes, int] = {}
    distinct: list[int] = []
    source: list[int] = []
    for c in range(width):
        key = sample[:, c].tobytes()
        j = first.get(key)
        if j is not None and np.array_equal(columns[:, distinct[j]], columns[:, c]):
            source.append(j)
            continue
        first.setdefault(key, len(distinct))
        source.append(len(distinct))
        distinct.append(c)
    return distinct, source


class _PieceGroups(NamedTuple):
    """A piece's groups: those present, each row's index among them, and (for the sorted
    sums) the rows in group order and where each group's run starts."""

    present: np.ndarray
    inverse: np.ndarray
    order: np.ndarray | None
    starts: np.ndarray | None


Piece = tuple[int, int, "_PieceGroups | None"]


def _reduce(seed: int, start: int, columns: np.ndarray, codes: np.ndarray, groups: int, replicates: int) -> np.ndarray:
    """The replicate sums of ``columns``: (c, B, groups)."""
    rows, width = columns.shape
    # One group: blocks on worker processes when the run has them (processes.py). Many groups
    # stay on threads: there a block writes its own slice of every group's sums.
    pool = processes.for_batch(rows, replicates) if groups == 1 else None
    if pool is not None:
        return pool.replicate_sums(seed, start, columns, replicates)
    out = np.zeros((width, replicates, groups))
    step = _piece_rows(groups)
    spans = [_pieces(codes, lo, min(rows, lo + SPAN_ROWS), step, groups, width) for lo in range(0, rows, SPAN_ROWS)]
    blocks = range(0, replicates, REPLICATE_BLOCK)

    def one_task(task: tuple[int, list[list[Piece]]]) -> np.ndarray:
        q0, task_spans = task
        q1 = min(replicates, q0 + REPLICATE_BLOCK)
        # With groups, the replicate block's own slice of out (disjoint, no locks); with one
        # group, a partial of its own, added below in task order.
        target = out[:, q0:q1, :] if groups > 1 else np.zeros((width, q1 - q0, 1))
        for pieces in task_spans:
            _add_span(target, seed, start, columns, q0, q1, pieces)
        return target

    if groups > 1:
        for _ in parallel_iter(one_task, [(q0, spans) for q0 in blocks]):
            pass
        return out
    tasks = [(q0, [pieces]) for q0 in blocks for pieces in spans]
    for (q0, _), part in zip(tasks, parallel_iter(one_task, tasks), strict=True):
        out[:, q0 : q0 + part.shape[1], :] += part
    return out


def block_sums(seed: int, start: int, columns: np.ndarray, replicates: int, q0: int) -> np.ndarray:
    """The sums of replicate block q0.. of one group's ``columns``, (c, block, 1), as ``_reduce``
    makes them on threads: each span's partial sums, added in span order (the same digits;
    worker processes compute blocks with this)."""
    rows, width = columns.shape
    q1 = min(replicates, q0 + REPLICATE_BLOCK)
    total = np.zeros((width, q1 - q0, 1))
    step = _piece_rows(1)
    for lo in range(0, rows, SPAN_ROWS):
        hi = min(rows, lo + SPAN_ROWS)
        part = np.zeros((width, q1 - q0, 1))
        _add_span(part, seed, start, columns, q0, q1, [(a, min(hi, a + step), None) for a in range(lo, hi, step)])
        total += part
    return total


def _add_span(
    target: np.ndarray, seed: int, start: int, columns: np.ndarray, q0: int, q1: int, pieces: list[Piece]
) -> None:
    """Add the sums of replicates q0..q1 over one span's pieces of rows to ``target``."""
    lo, hi = pieces[0][0], pieces[-1][1]
    counts = draws(seed, q0 // REPLICATE_BLOCK, start + lo, hi - lo)[:, : q1 - q0]
    # An infinite loss times a count of 0 is nan: expected, and said in a note (engines/local).
    with np.errstate(invalid="ignore", over="ignore"):
        for p_lo, p_hi, local in pieces:
            _add_piece(target, counts[p_lo - lo : p_hi - lo], columns[p_lo:p_hi], local)


def _pieces(codes: np.ndarray, lo: int, hi: int, step: int, groups: int, width: int) -> list[Piece]:
    """The pieces of rows lo..hi: (start, end, their groups)."""
    ends = [min(hi, a + step) for a in range(lo, hi, step)]
    return [(a, b, _local_groups(codes[a:b], groups, width)) for a, b in zip(range(lo, hi, step), ends, strict=True)]


def _piece_rows(groups: int) -> int:
    """Rows per product: a cache-sized piece (larger with groups, whose sums per group cost NumPy
    calls per column). Fixed, so the sums' order, and so every digit, is the same everywhere."""
    return _PIECE_ROWS if groups == 1 else _GROUP_PIECE_ROWS


def _counts_buffer(size: int) -> np.ndarray:
    """This thread's buffer for a span's counts, kept from span to span (not a fresh 1 MiB each)."""
    counts: np.ndarray | None = getattr(_local, "counts", None)
    if counts is None or counts.size < size:
        counts = _local.counts = np.empty(max(size, SPAN_ROWS * REPLICATE_BLOCK // 4), dtype=np.uint32)
    return counts[:size]


def _floats_buffer(rows: int, replicates: int) -> np.ndarray:
    """This thread's float64 buffer for a piece's counts, contiguous (rows, replicates)."""
    floats: np.ndarray | None = getattr(_local, "floats", None)
    if floats is None or floats.size < rows * replicates:
        floats = _local.floats = np.empty(max(rows, _PIECE_ROWS) * REPLICATE_BLOCK)
    return floats[: rows * replicates].reshape(rows, replicates)


def _local_groups(codes: np.ndarray, groups: int, width: int) -> _PieceGroups | None:
    """The groups of a piece (None: one group); computed once, used by every replicate block."""
    if groups == 1:
        return None
    present, inverse = np.unique(codes, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(present) * width <= _ONEHOT_LIMIT:
        return _PieceGroups(present, inverse, None, None)
    order = np.argsort(inverse, kind="stable")
    return _PieceGroups(present, inverse, order, np.flatnonzero(np.diff(inverse[order], prepend=-1)))


def _add_piece(target: np.ndarray, counts: np.ndarray, columns: np.ndarray, local: _PieceGroups | None) -> None:
    """target[c, :, g] += sum over rows i of group g of counts[i, :] * columns[i, c] (counts: uint8, rows x B)."""
    rows, width = columns.shape
    floats = _floats_buffer(*counts.shape)
    np.copyto(floats, counts)
    if local is None:
        target[:, :, 0] += columns.T @ floats
        return
    if local.order is None or local.starts is None:  # few groups: one product with a one-hot spread
        count = len(local.present)
        spread = np.zeros((rows, count, width))
        spread[np.arange(rows), local.inverse] = columns
        sums = (spread.reshape(rows, count * width).T @ floats).reshape(count, width, -1)
        target[:, :, local.present] += sums.transpose(1, 2, 0)
        return
    # Many groups: rows in group order, each group's run of products summed, a column at a time
    # (all columns at once makes a rows x columns x B temporary: slower).
    sorted_counts = floats[local.order]
    sorted_columns = columns[local.order]
    for c in range(width):
        sums = np.add.reduceat(sorted_counts * sorted_columns[:, c, None], local.starts, axis=0)
        target[c][:, local.present] += sums.T


def memory_limit() -> int:
    """The replicate state allowed: a quarter of physical memory (merging copies it)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 4
    except (ValueError, OSError, AttributeError):
        return 4 << 30
