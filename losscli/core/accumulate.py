"""Mergeable state: every loss value is finish(sum(w * l) / sum(w)).

State is kept per (model, loss) as small vectors over groups (one group when
there is no ``--by``): weighted sums, weights, counts; B bootstrap replicate
sums when intervals are asked for; and the moments of the per-row difference
to a baseline model. States from different chunks, processes or machines merge
by addition, so the result does not depend on how the rows were split.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GroupKey = tuple[Hashable, ...]
Key = tuple[str, str]  # (model, loss label)

# Rows per block of bootstrap draws: a block's draws depend only on (seed, block
# number), so the replicates are the same whatever the chunk size or engine.
BOOTSTRAP_BLOCK_ROWS = 1024


class GroupIndex:
    """Dense codes for group keys (tuples of --by values), in first-seen order."""

    def __init__(self) -> None:
        self.keys: list[GroupKey] = []
        self._codes: dict[GroupKey, int] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def code(self, key: GroupKey) -> int:
        if key not in self._codes:
            self._codes[key] = len(self.keys)
            self.keys.append(key)
        return self._codes[key]

    def encode(self, columns: Sequence[tuple[np.ndarray, list[Hashable]]], n: int) -> np.ndarray:
        """Per-row group codes for one batch (all zero without --by).

        Each --by column comes dictionary-encoded: (per-row index, distinct values),
        so only the distinct combinations of this batch go through Python.
        """
        if not columns:
            self.code(())
            return np.zeros(n, dtype=np.intp)
        indices = np.column_stack([idx for idx, _ in columns])
        combos, inverse = np.unique(indices, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        first_row = np.full(len(combos), n)
        np.minimum.at(first_row, inverse, np.arange(n))
        local = np.empty(len(combos), dtype=np.intp)
        for c in np.argsort(first_row, kind="stable"):  # new groups get codes in first-seen order
            local[c] = self.code(tuple(values[i] for i, (_, values) in zip(combos[c], columns, strict=True)))
        return local[inverse]


def weighted_mean(sum_wl: np.ndarray, sum_w: np.ndarray) -> np.ndarray:
    """sum_wl / sum_w elementwise; NaN where there is no weight."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: np.ndarray = np.where(sum_w > 0, sum_wl / np.where(sum_w > 0, sum_w, 1.0), np.nan)
    return mean


def _grow(array: np.ndarray, size: int) -> np.ndarray:
    """Pad the last axis with zeros up to ``size`` groups."""
    missing = size - array.shape[-1]
    if missing <= 0:
        return array
    pad = [(0, 0)] * (array.ndim - 1) + [(0, missing)]
    return np.pad(array, pad)


@dataclass
class MeanState:
    """Per group: sum of w * loss, sum of w, row count; and the same over all rows.

    The totals are kept apart (pairwise sums per batch) so the overall value does
    not depend on whether --by was given: bincount's running sum per group rounds
    differently.
    """

    sum_wl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_w: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    total_wl: float = 0.0
    total_w: float = 0.0

    def update(
        self,
        per_row: np.ndarray,
        weight: np.ndarray | None,
        codes: np.ndarray | None = None,
        groups: int = 1,
        counted: np.ndarray | None = None,
    ) -> None:
        """Add rows; ``counted`` (default: all) says which rows count in n."""
        wl = per_row if weight is None else weight * per_row
        w_total = float(len(per_row)) if weight is None else float(weight.sum())
        self.total_wl += float(wl.sum())
        self.total_w += w_total
        n_rows = len(per_row) if counted is None else int(counted.sum())
        if groups == 1:  # the one group is all rows so far
            self.sum_wl = np.array([self.total_wl])
            self.sum_w = np.array([self.total_w])
            self.n = _grow(self.n, 1) + n_rows
            return
        w = np.ones(len(per_row)) if weight is None else weight
        codes = np.zeros(len(per_row), dtype=np.intp) if codes is None else codes
        self.sum_wl = _grow(self.sum_wl, groups) + np.bincount(codes, weights=wl, minlength=groups)
        self.sum_w = _grow(self.sum_w, groups) + np.bincount(codes, weights=w, minlength=groups)
        kept = codes if counted is None else codes[counted]
        self.n = _grow(self.n, groups) + np.bincount(kept, minlength=groups)

    def merge(self, other: MeanState) -> MeanState:
        g = max(len(self.n), len(other.n))
        return MeanState(
            _grow(self.sum_wl, g) + _grow(other.sum_wl, g),
            _grow(self.sum_w, g) + _grow(other.sum_w, g),
            _grow(self.n, g) + _grow(other.n, g),
            self.total_wl + other.total_wl,
            self.total_w + other.total_w,
        )

    def mean(self) -> np.ndarray:
        """The weighted mean per group; NaN where a group has no weight."""
        return weighted_mean(self.sum_wl, self.sum_w)


@dataclass
class SkillState:
    """What a skill score (D2) needs beyond its mean deviance: the reference's inputs.

    Per group, the weighted sums of the target's statistics (mergeable by addition); or,
    for a reference with no finite summary (a weighted quantile), the rows' targets,
    weights and group codes themselves (mergeable by concatenation, O(rows)).
    """

    sum_ws: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    total_ws: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    # With --ci: per statistic, replicate and group, the sum of r * w * stat (m, B, groups).
    sum_rws: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))

    def add_replicates(self, rws: np.ndarray, groups: int) -> None:
        """Add one block's (m, B, groups) replicate sums of w * stat."""
        self.sum_rws = (_grow(self.sum_rws, groups) if self.sum_rws.size else np.zeros(rws.shape)) + rws

    def update(
        self, stats: np.ndarray | None, y: np.ndarray, weight: np.ndarray | None, codes: np.ndarray, groups: int
    ) -> None:
        w = np.ones(len(y)) if weight is None else weight
        if stats is None:
            keep = w > 0
            self.kept.append((y[keep].copy(), w[keep].copy(), codes[keep].copy()))
            return
        ws = stats * w[:, None]
        m = stats.shape[1]
        sums = np.stack([np.bincount(codes, weights=ws[:, j], minlength=groups) for j in range(m)], axis=1)
        self.sum_ws = (_grow(self.sum_ws.T, groups).T if self.sum_ws.size else np.zeros((groups, m))) + sums
        self.total_ws = (self.total_ws if self.total_ws.size else np.zeros(m)) + ws.sum(axis=0)

    def merge(self, other: SkillState) -> SkillState:
        if not self.sum_ws.size or not other.sum_ws.size:
            sums = self.sum_ws if self.sum_ws.size else other.sum_ws
            totals = self.total_ws if self.total_ws.size else other.total_ws
        else:
            g = max(len(self.sum_ws), len(other.sum_ws))
            sums = _grow(self.sum_ws.T, g).T + _grow(other.sum_ws.T, g).T
            totals = self.total_ws + other.total_ws
        return SkillState(sums, totals, self.kept + other.kept, _sum_grown(self.sum_rws, other.sum_rws))

    def moved(self, move: Any, mapping: np.ndarray) -> SkillState:
        """Group codes renumbered (see Accumulator.aligned_to)."""
        sums = move(self.sum_ws.T).T if self.sum_ws.size else self.sum_ws
        kept = [(y, w, mapping[c]) for y, w, c in self.kept]
        replicates = move(self.sum_rws) if self.sum_rws.size else self.sum_rws
        return SkillState(sums, self.total_ws, kept, replicates)

    def targets(self, select: Any) -> tuple[np.ndarray, np.ndarray]:
        """The kept targets and weights of the selected groups (every group for a slice)."""
        ys = [y for y, _, _ in self.kept]
        ws = [w for _, w, _ in self.kept]
        if not isinstance(select, slice):
            chosen = [np.isin(c, np.atleast_1d(select)) for _, _, c in self.kept]
            ys = [y[k] for y, k in zip(ys, chosen, strict=True)]
            ws = [w[k] for w, k in zip(ws, chosen, strict=True)]
        return (np.concatenate(ys) if ys else np.zeros(0)), (np.concatenate(ws) if ws else np.zeros(0))


def _sum_grown(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b with the group axis (the last) padded to the longer; an empty one is nothing."""
    if not a.size or not b.size:
        return a if a.size else b
    g = max(a.shape[-1], b.shape[-1])
    total: np.ndarray = _grow(a, g) + _grow(b, g)
    return total


@dataclass
class BootstrapState:
    """Per replicate and group: sum of r * w * loss and sum of r * w (r ~ Poisson(1))."""

    replicates: int
    sum_rwl: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    sum_rw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def __post_init__(self) -> None:
        if self.sum_rwl.size == 0:
            self.sum_rwl = np.zeros((self.replicates, 0))
            self.sum_rw = np.zeros((self.replicates, 0))

    def add(self, rwl: np.ndarray, rw: np.ndarray, groups: int) -> None:
        """Add one block's (B, groups) replicate sums of w * loss and of w."""
        self.sum_rwl = _grow(self.sum_rwl, groups) + rwl
        self.sum_rw = _grow(self.sum_rw, groups) + rw

    def merge(self, other: BootstrapState) -> BootstrapState:
        g = max(self.sum_rwl.shape[1], other.sum_rwl.shape[1])
        return BootstrapState(
            self.replicates,
            _grow(self.sum_rwl, g) + _grow(other.sum_rwl, g),
            _grow(self.sum_rw, g) + _grow(other.sum_rw, g),
        )


@dataclass
class PairedState:
    """Moments of d = loss(model) - loss(baseline) per group, weighted."""

    sum_wd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_wd2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_w: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_w2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # sum of w * loss of the model and of the baseline, on the rows both kept (--nan drop).
    sum_wm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_wb: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def update(
        self,
        pair: tuple[np.ndarray, np.ndarray],
        weight: np.ndarray | None,
        codes: np.ndarray,
        groups: int,
        counted: np.ndarray | None = None,
    ) -> None:
        """Add rows of (model loss, baseline loss); ``weight`` is 0 on rows either dropped."""
        d = pair[0] - pair[1]
        w = np.ones(len(d)) if weight is None else weight
        self.sum_wm = _grow(self.sum_wm, groups) + np.bincount(codes, weights=w * pair[0], minlength=groups)
        self.sum_wb = _grow(self.sum_wb, groups) + np.bincount(codes, weights=w * pair[1], minlength=groups)
        self.sum_wd = _grow(self.sum_wd, groups) + np.bincount(codes, weights=w * d, minlength=groups)
        self.sum_wd2 = _grow(self.sum_wd2, groups) + np.bincount(codes, weights=w * d * d, minlength=groups)
        self.sum_w = _grow(self.sum_w, groups) + np.bincount(codes, weights=w, minlength=groups)
        self.sum_w2 = _grow(self.sum_w2, groups) + np.bincount(codes, weights=w * w, minlength=groups)
        kept = codes if counted is None else codes[counted]
        self.n = _grow(self.n, groups) + np.bincount(kept, minlength=groups)

    def merge(self, other: PairedState) -> PairedState:
        g = max(len(self.n), len(other.n))
        return PairedState(*(_grow(a, g) + _grow(b, g) for a, b in zip(self.fields(), other.fields(), strict=True)))

    def fields(self) -> tuple[np.ndarray, ...]:
        return (self.sum_wd, self.sum_wd2, self.sum_w, self.sum_w2, self.n, self.sum_wm, self.sum_wb)


def _masked(weight: np.ndarray | None, mask: np.ndarray | None, n: int) -> np.ndarray | None:
    """Weights with dropped rows set to 0 (None when nothing is weighted or dropped)."""
    if mask is None:
        return weight
    masked: np.ndarray = (np.ones(n) if weight is None else weight) * mask
    return masked


def _both(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    return a if b is None else a & b


def replicate_weights(seed: int, start: int, rows: int, replicates: int) -> np.ndarray:
    """Poisson(1) weights for rows start..start+rows, shape (rows, B).

    Each block of BOOTSTRAP_BLOCK_ROWS rows draws from its own generator keyed by
    (seed, block number), so a row's weights depend only on the seed and its
    position in the file: the same for any chunking, any engine, any order.
    """
    out = np.empty((rows, replicates))
    first_block = start // BOOTSTRAP_BLOCK_ROWS
    last_block = (start + rows - 1) // BOOTSTRAP_BLOCK_ROWS
    for block in range(first_block, last_block + 1):
        block_start = block * BOOTSTRAP_BLOCK_ROWS
        draws = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, block]))).poisson(
            1.0, (BOOTSTRAP_BLOCK_ROWS, replicates)
        )
        lo = max(start, block_start)
        hi = min(start + rows, block_start + BOOTSTRAP_BLOCK_ROWS)
        out[lo - start : hi - start] = draws[lo - block_start : hi - block_start]
    return out


@dataclass
class Accumulator:
    """All the state of one evaluation: means, and optionally bootstrap and paired moments."""

    keys: list[Key]
    replicates: int = 0
    baseline: str | None = None
    seed: int = 0
    groups: GroupIndex = field(default_factory=GroupIndex)
    means: dict[Key, MeanState] = field(default_factory=dict)
    boot: dict[Key, BootstrapState] = field(default_factory=dict)
    paired: dict[Key, PairedState] = field(default_factory=dict)
    # Skill scores (D2): by loss label, the target statistics function (params bound), or
    # None where the reference keeps the targets; their state per key.
    skills: dict[str, Any] = field(default_factory=dict)
    skill_states: dict[Key, SkillState] = field(default_factory=dict)
    # --nan drop: models may keep different rows, so the difference to the baseline gets its own
    # replicate sums on the rows both kept: (model, baseline) per paired key.
    shared: bool = False
    pair_boot: dict[Key, tuple[BootstrapState, BootstrapState]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in self.keys:
            self.means.setdefault(key, MeanState())
            if key[1] in self.skills:
                self.skill_states.setdefault(key, SkillState())
            if self.replicates:
                self.boot.setdefault(key, BootstrapState(self.replicates))
            if self.baseline is not None and key[0] != self.baseline:
                self.paired.setdefault(key, PairedState())
                if self.replicates and self.shared:
                    self.pair_boot.setdefault(key, (BootstrapState(self.replicates), BootstrapState(self.replicates)))

    def update(
        self,
        per_row: dict[Key, np.ndarray],
        weight: np.ndarray | None,
        codes: np.ndarray,
        row_offset: int,
        valid: dict[str, np.ndarray] | None = None,
        y_true: np.ndarray | None = None,
    ) -> None:
        """Add one batch: per-row losses for every key, the batch's weights and group codes.

        ``valid`` holds, for models that lose rows to --nan drop, the rows that count:
        the others get weight 0 and are not counted in n. ``y_true`` feeds skill scores.
        """
        groups = len(self.groups)
        valid = valid or {}
        stats = {
            label: fn(y_true) if fn is not None and y_true is not None else None for label, fn in self.skills.items()
        }
        for key, values in per_row.items():
            mask = valid.get(key[0])
            self.means[key].update(values, _masked(weight, mask, len(values)), codes, groups, mask)
            if key in self.skill_states and y_true is not None:
                masked = _masked(weight, mask, len(values))
                self.skill_states[key].update(stats[key[1]], y_true, masked, codes, groups)
        for key, state in self.paired.items():
            base = self.baseline or ""
            mask = _both(valid.get(key[0]), valid.get(base))
            pair = (per_row[key], per_row[(base, key[1])])
            state.update(pair, _masked(weight, mask, len(codes)), codes, groups, mask)
        if self.replicates:
            self._update_bootstrap(per_row, weight, codes, row_offset, groups, valid, stats)

    def _update_bootstrap(
        self,
        per_row: dict[Key, np.ndarray],
        weight: np.ndarray | None,
        codes: np.ndarray,
        row_offset: int,
        groups: int,
        valid: dict[str, np.ndarray],
        stats: dict[str, np.ndarray | None] | None = None,
    ) -> None:
        n = len(codes)
        stats = stats or {}
        # Each model's weights (dropped rows at 0) once; all its losses share them.
        weights = {model: _masked(weight, valid.get(model), n) for model in dict.fromkeys(k[0] for k in per_row)}
        # Sub-blocks keep the (rows, B) weight matrix small (4096 x 1000 doubles = 32 MB).
        for lo in range(0, n, 4 * BOOTSTRAP_BLOCK_ROWS):
            hi = min(n, lo + 4 * BOOTSTRAP_BLOCK_ROWS)
            r = replicate_weights(self.seed, row_offset + lo, hi - lo, self.replicates)
            onehot = np.zeros((hi - lo, groups))
            onehot[np.arange(hi - lo), codes[lo:hi]] = 1.0
            for model, w in weights.items():
                block_w = np.ones(hi - lo) if w is None else w[lo:hi]
                rw = r.T @ (onehot * block_w[:, None])  # the same for every loss of the model
                for key, values in per_row.items():
                    if key[0] == model:
                        rwl = r.T @ (onehot * (block_w * values[lo:hi])[:, None])
                        self.boot[key].add(rwl, rw, groups)
                        s = stats.get(key[1])
                        if s is not None:  # a skill score's reference, replicated alike
                            rws = np.stack(
                                [r.T @ (onehot * (block_w * s[lo:hi, j])[:, None]) for j in range(s.shape[1])]
                            )
                            self.skill_states[key].add_replicates(rws, groups)
            self._update_pair_bootstrap(per_row, weight, valid, r, onehot, slice(lo, hi))

    def _update_pair_bootstrap(
        self,
        per_row: dict[Key, np.ndarray],
        weight: np.ndarray | None,
        valid: dict[str, np.ndarray],
        r: np.ndarray,
        onehot: np.ndarray,
        rows: slice,
    ) -> None:
        """Replicate sums of a model and its baseline on the rows both kept."""
        base = self.baseline or ""
        for key, (model_state, base_state) in self.pair_boot.items():
            mask = _both(valid.get(key[0]), valid.get(base))
            w = _masked(weight, mask, len(per_row[key]))
            block_w = np.ones(rows.stop - rows.start) if w is None else w[rows]
            rw = r.T @ (onehot * block_w[:, None])
            for state, values in ((model_state, per_row[key]), (base_state, per_row[(base, key[1])])):
                state.add(r.T @ (onehot * (block_w * values[rows])[:, None]), rw, onehot.shape[1])

    def merge(self, other: Accumulator) -> Accumulator:
        """Combine two accumulators of the same evaluation (group codes are re-aligned)."""
        other = other.aligned_to(self.groups)
        out = Accumulator(
            self.keys, self.replicates, self.baseline, self.seed, self.groups, skills=self.skills, shared=self.shared
        )
        out.means = {k: self.means[k].merge(other.means[k]) for k in self.keys}
        out.skill_states = {k: self.skill_states[k].merge(other.skill_states[k]) for k in self.skill_states}
        out.boot = {k: self.boot[k].merge(other.boot[k]) for k in self.boot}
        out.paired = {k: self.paired[k].merge(other.paired[k]) for k in self.paired}
        out.pair_boot = {
            k: (m.merge(other.pair_boot[k][0]), b.merge(other.pair_boot[k][1])) for k, (m, b) in self.pair_boot.items()
        }
        return out

    def aligned_to(self, groups: GroupIndex) -> Accumulator:
        """This state with its group codes renumbered to ``groups`` (which may grow)."""
        mapping = np.array([groups.code(k) for k in self.groups.keys], dtype=np.intp)
        size = len(groups)

        def move(a: np.ndarray) -> np.ndarray:
            out = np.zeros((*a.shape[:-1], size), dtype=a.dtype)
            out[..., mapping[: a.shape[-1]]] += a  # codes are distinct: no lost updates
            return out

        out = Accumulator(
            self.keys, self.replicates, self.baseline, self.seed, groups, skills=self.skills, shared=self.shared
        )
        out.skill_states = {k: s.moved(move, mapping) for k, s in self.skill_states.items()}
        out.means = {
            k: MeanState(move(s.sum_wl), move(s.sum_w), move(s.n), s.total_wl, s.total_w) for k, s in self.means.items()
        }
        out.boot = {k: BootstrapState(s.replicates, move(s.sum_rwl), move(s.sum_rw)) for k, s in self.boot.items()}
        out.paired = {k: PairedState(*(move(a) for a in s.fields())) for k, s in self.paired.items()}
        out.pair_boot = {
            k: tuple(BootstrapState(s.replicates, move(s.sum_rwl), move(s.sum_rw)) for s in pair)  # type: ignore[misc]
            for k, pair in self.pair_boot.items()
        }
        return out
