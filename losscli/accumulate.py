"""Mergeable state: every loss value is finish(sum(w * l) / sum(w)).

A ``MeanState`` holds the sufficient statistics of one (model, loss) pair.
States from different chunks, processes or machines merge by addition, so
the result does not depend on how the rows were split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MeanState:
    """Weighted sum of per-row losses, sum of weights and row count."""

    sum_wl: float = 0.0
    sum_w: float = 0.0
    n: int = 0

    def update(self, per_row: np.ndarray, weight: np.ndarray | None) -> None:
        if weight is None:
            self.sum_wl += float(per_row.sum())
            self.sum_w += float(per_row.size)
        else:
            self.sum_wl += float(np.dot(weight, per_row))
            self.sum_w += float(weight.sum())
        self.n += int(per_row.size)

    def merge(self, other: MeanState) -> MeanState:
        return MeanState(self.sum_wl + other.sum_wl, self.sum_w + other.sum_w, self.n + other.n)

    def mean(self) -> float:
        """The weighted mean; NaN when no weight was seen."""
        return self.sum_wl / self.sum_w if self.sum_w > 0 else float("nan")


Key = tuple[str, str]  # (model, loss label)


@dataclass
class Accumulator:
    """States for every (model, loss label) pair of one evaluation."""

    states: dict[Key, MeanState]

    @classmethod
    def empty(cls, keys: list[Key]) -> Accumulator:
        return cls({k: MeanState() for k in keys})

    def update(self, key: Key, per_row: np.ndarray, weight: np.ndarray | None) -> None:
        self.states[key].update(per_row, weight)

    def merge(self, other: Accumulator) -> Accumulator:
        keys = list(dict.fromkeys([*self.states, *other.states]))
        empty = MeanState()
        return Accumulator({k: self.states.get(k, empty).merge(other.states.get(k, empty)) for k in keys})
