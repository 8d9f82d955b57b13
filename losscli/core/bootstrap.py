"""Poisson bootstrap replicate sums: fast keyed draws, reduced by matrix products.

Every row gets B weights r ~ Poisson(1), the same for every model and loss
(the pairing of a difference is kept by construction). The draws are cut into
tiles of ROW_BLOCK rows (aligned to the row's position in the whole input) by
REPLICATE_BLOCK replicates; each tile comes from its own generator keyed by
(seed, row block, replicate block), so a row's weights depend only on the
seed and its position: the same for any chunk size, engine or thread count.

A tile is 16-bit uniforms, each mapped through a table to the Poisson(1)
counts of two neighbouring rows (one lookup, one byte of randomness per
draw): every pair's joint probability is the product of Poisson(1)
probabilities to within 2^-16, so each count's probability is within 4e-5 of
Poisson(1) (the first of a pair to 2^-16). The means reported are ratios of
replicate sums, in which such an offset of the weights' mean or variance
cancels to first order, and a width changes by at most about 2.5e-4 of
itself: the Monte Carlo error of B = 1000 replicates (a few percent of the
width) is a hundred times larger. The replicate sums of a tile are matrix products of
the counts (converted to float64 a cache-sized piece at a time) with the
batch's columns (w, w * loss per model and loss; equal columns once), in float64:
O(rows x B x columns) flops with memory bounded by the tile, not by B x rows. Threads take
disjoint replicate blocks, and each replicate block adds its row blocks in
order (with one group, in spans of rows whose sums are added in order): identical
numbers for any thread count.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from typing import Any

import numpy as np

from ..errors import OptionError
from .workers import parallel_map

ROW_BLOCK = 1024
REPLICATE_BLOCK = 128
# With one group, a replicate block's rows are also cut into spans of this many row
# blocks, each a task with partial sums of its own, added in span order: every core
# works even when B is below 128 x cores, and the numbers still do not depend on the
# thread count. Only while the partials are small (columns x B <= the limit).
_SPAN_BLOCKS = 16
_SPLIT_LIMIT = 1 << 16
# Above this many (local groups x columns) a one-hot product costs more than sorting.
_ONEHOT_LIMIT = 64
# Matrix products are cut so rows x replicates x columns stays at OpenBLAS's
# single-thread threshold (65536 x 4): above it, every small product wakes BLAS's
# own threads, which costs 40 times the arithmetic here. Our threads use the cores.
_BLAS_SINGLE_THREAD = 65536 * 4
_PIECE_COLUMNS = 16
# Counts above 11 have probability below 1e-8: the table has no room for them.
_MAX_COUNT = 12


@functools.cache
def pair_table() -> np.ndarray:
    """For each 16-bit uniform, the Poisson(1) counts of two rows, as a uint16 holding two bytes.

    The pairs (a, b), ordered by a then b, take runs of the 65536 values as long as their
    probability (thresholds are the cumulative probabilities rounded to 2^-16).
    """
    p = np.array([math.exp(-1.0) / math.factorial(k) for k in range(_MAX_COUNT)])
    cdf = np.cumsum(np.outer(p, p).ravel())
    thresholds = np.round(cdf * 65536.0)
    cell = np.minimum(np.searchsorted(thresholds, np.arange(65536), side="right"), cdf.size - 1)
    pairs = np.empty((65536, 2), dtype=np.uint8)
    pairs[:, 0], pairs[:, 1] = np.divmod(cell, _MAX_COUNT)
    table: np.ndarray = pairs.view(np.uint16).reshape(65536)
    return table


_MASK = (1 << 64) - 1
_local = threading.local()


def _mix(z: int) -> int:
    """SplitMix64's finaliser: a 64-bit integer hash (every input bit reaches every output bit)."""
    z = (z + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _generator(seed: int, row_block: int, replicate_block: int) -> np.random.SFC64:
    """An SFC64 stream keyed by (seed, row block, replicate block).

    Its state words are SplitMix64 hashes of the key, then 12 outputs are discarded
    (as numpy seeds SFC64): a third of the cost of a SeedSequence per tile. One
    generator per thread is re-keyed, so threads never share a state.
    """
    bits: np.random.SFC64 | None = getattr(_local, "bits", None)
    if bits is None:
        bits = _local.bits = np.random.SFC64(0)
    key = _mix(_mix(_mix(seed & _MASK) ^ row_block) ^ replicate_block)
    a = _mix(key)
    b = _mix(a)
    c = _mix(b)
    state: Any = {"bit_generator": "SFC64", "has_uint32": 0, "uinteger": 0}
    state["state"] = {"state": np.array([a, b, c, 1], dtype=np.uint64)}
    bits.state = state
    bits.random_raw(12)
    return bits


def tile(seed: int, row_block: int, replicate_block: int, replicates: int, out: np.ndarray | None = None) -> np.ndarray:
    """The counts of one tile: uint8, shape (replicates, ROW_BLOCK), replicates <= REPLICATE_BLOCK.

    Fewer replicates take a prefix of the same stream, so the first replicates of
    a run with B = 2000 are those of the same run with B = 1000. ``out``: a uint16
    buffer of at least replicates x ROW_BLOCK / 2 to write the counts into.
    """
    words = replicates * ROW_BLOCK // 8  # four 16-bit uniforms per 64-bit word, two counts each
    bits = _generator(seed, row_block, replicate_block).random_raw(words)
    # A 128 KiB table of byte pairs stays in cache (a float table does not): floats come per piece.
    # "wrap" never wraps (a uint16 is always inside the table) and skips "clip"'s compares.
    target = None if out is None else out[: 4 * words]
    counts = np.take(pair_table(), bits.view(np.uint16), mode="wrap", out=target).view(np.uint8)
    return counts.reshape(replicates, ROW_BLOCK)


def replicate_weights(seed: int, start: int, rows: int, replicates: int) -> np.ndarray:
    """Poisson(1) weights of rows start..start+rows, shape (rows, B), as floats (for checks; runs use the sums)."""
    out = np.empty((rows, replicates))
    for q0 in range(0, replicates, REPLICATE_BLOCK):
        q1 = min(replicates, q0 + REPLICATE_BLOCK)
        for b, lo, hi, off in _row_blocks(start, rows):
            out[lo:hi, q0:q1] = tile(seed, b, q0 // REPLICATE_BLOCK, q1 - q0)[:, off : off + hi - lo].T
    return out


def _row_blocks(start: int, rows: int) -> list[tuple[int, int, int, int]]:
    """(row block, batch lo, batch hi, offset in the block) for rows start..start+rows."""
    out = []
    lo = 0
    while lo < rows:
        b, off = divmod(start + lo, ROW_BLOCK)
        hi = min(rows, lo + ROW_BLOCK - off)
        out.append((b, lo, hi, off))
        lo = hi
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


def _reduce(seed: int, start: int, columns: np.ndarray, codes: np.ndarray, groups: int, replicates: int) -> np.ndarray:
    """The replicate sums of ``columns``: (c, B, groups)."""
    rows, width = columns.shape
    out = np.zeros((width, replicates, groups))
    blocks = _row_blocks(start, rows)
    local = [_local_groups(codes[lo:hi], groups) for _, lo, hi, _ in blocks]
    split = groups == 1 and width * replicates <= _SPLIT_LIMIT
    step = _SPAN_BLOCKS if split else max(len(blocks), 1)
    spans = [range(k, min(len(blocks), k + step)) for k in range(0, len(blocks), step)]
    tasks = [(q0, span) for q0 in range(0, replicates, REPLICATE_BLOCK) for span in spans]

    def one_task(task: tuple[int, range]) -> np.ndarray:
        q0, span = task
        q1 = min(replicates, q0 + REPLICATE_BLOCK)
        # One span: the replicate block's own slice of out (disjoint, no locks); several:
        # a partial of its own, added below in span order.
        target = np.zeros((width, q1 - q0, groups)) if len(spans) > 1 else out[:, q0:q1, :]
        pairs = _pairs_buffer()
        for k in span:
            b, lo, hi, off = blocks[k]
            draws = tile(seed, b, q0 // REPLICATE_BLOCK, q1 - q0, pairs)[:, off : off + hi - lo]
            # An infinite loss times a count of 0 is nan: expected, and said in a note (engines/local).
            with np.errstate(invalid="ignore", over="ignore"):
                _add_tile(target, draws, columns[lo:hi], *local[k])
        return target

    partials = parallel_map(one_task, tasks)
    if len(spans) > 1:
        for (q0, _), part in zip(tasks, partials, strict=True):
            out[:, q0 : q0 + part.shape[1], :] += part
    return out


def _pairs_buffer() -> np.ndarray:
    """This thread's buffer for a tile's counts, kept from tile to tile (not a fresh 128 KiB each)."""
    pairs: np.ndarray | None = getattr(_local, "pairs", None)
    if pairs is None:
        pairs = _local.pairs = np.empty(REPLICATE_BLOCK * ROW_BLOCK // 2, dtype=np.uint16)
    return pairs


def _local_groups(codes: np.ndarray, groups: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The groups present in a block and each row's index among them (None: one group)."""
    if groups == 1:
        return None, None
    present, inverse = np.unique(codes, return_inverse=True)
    return present, inverse.reshape(-1)


def _add_tile(
    target: np.ndarray, draws: np.ndarray, columns: np.ndarray, present: np.ndarray | None, inverse: np.ndarray | None
) -> None:
    """target[c, :, g] += sum over rows of group g of draws[:, i] * columns[i, c] (draws: uint8 counts)."""
    if present is None or inverse is None:
        target[:, :, 0] += _product(draws, columns).T
        return
    rows, width = columns.shape
    count = len(present)
    if count * width <= _ONEHOT_LIMIT:
        spread = np.zeros((rows, count, width))
        spread[np.arange(rows), inverse] = columns
        sums = _product(draws, spread.reshape(rows, count * width)).reshape(-1, count, width)
        target[:, :, present] += sums.transpose(2, 0, 1)
        return
    order = np.argsort(inverse, kind="stable")
    starts = np.flatnonzero(np.diff(inverse[order], prepend=-1))
    sorted_draws = draws[:, order]
    sorted_columns = columns[order]
    for c in range(width):
        target[c][:, present] += np.add.reduceat(sorted_draws * sorted_columns[:, c], starts, axis=1)


def _product(counts: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """counts @ columns in float64, in pieces small enough for BLAS to stay on the calling
    thread; the counts become floats one piece at a time (a contiguous array: rows of a
    wider buffer, 8 KiB apart, would share cache sets), so the piece stays in cache."""
    rows, width = columns.shape
    replicates = counts.shape[0]
    out = np.zeros((replicates, width))
    step = max(16, _BLAS_SINGLE_THREAD // (replicates * min(width, _PIECE_COLUMNS)))
    piece = np.empty((replicates, min(step, rows)))
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        draws = piece[:, : r1 - r0]
        np.copyto(draws, counts[:, r0:r1])
        for c0 in range(0, width, _PIECE_COLUMNS):
            c1 = min(width, c0 + _PIECE_COLUMNS)
            out[:, c0:c1] += draws @ columns[r0:r1, c0:c1]
    return out


def state_bytes(replicates: int, groups: int, keys: int) -> int:
    """Bytes of replicate state: two (B x groups) float64 arrays per (model, loss)."""
    return 2 * 8 * replicates * groups * keys


def memory_limit() -> int:
    """The replicate state allowed: a quarter of physical memory (merging copies it)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 4
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def check_state_fits(replicates: int, groups: int, keys: int, *, so_far: bool = False) -> None:
    """Refuse, with the estimate, a bootstrap whose state would not fit in memory.

    ``so_far``: the groups are those found in the rows read so far (more may come).
    """
    need = state_bytes(replicates, groups, keys)
    limit = memory_limit()
    if need > limit:
        found = f"{groups:,} group(s) found so far" if so_far else f"{groups:,} group(s)"
        raise OptionError(
            f"--ci with --bootstrap {replicates} over {found} x {keys} model-loss pair(s) "
            f"needs about {_size(need)} of replicate state, more than the {_size(limit)} allowed "
            "(a quarter of this machine's memory); lower --bootstrap, use --ci-method t "
            "(no replicates), or use fewer --by groups"
        )


def _size(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MB"
