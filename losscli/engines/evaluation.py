"""What an evaluation produced: the results and everything they were computed from."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.accumulate import GroupKey, Key
from ..core.finish import ALL_ROWS, Result, ResultTable
from ..read.layout import Layout
from ..request import Request, Statistics
from ..spec import LossSpec

if TYPE_CHECKING:
    import pandas as pd

    from .local import BatchObserver

BASELINE_COLUMNS = ("delta", "delta_rel", "delta_ci_low", "delta_ci_high", "p_value", "verdict")


@dataclass
class Evaluation:
    """Everything a renderer needs: the results, the resolved columns and the request."""

    source: str
    layout: Layout
    specs: list[LossSpec]
    table: ResultTable  # the results column-wise; ``results`` makes the Result objects on first use
    rows: int
    request: Request
    notes: list[str] = field(default_factory=list)
    observed: BatchObserver | None = None  # the observer's merged state, when the run was given one
    # With --nan drop, some rows counted for one model and not another.
    rows_differ: bool = False
    hidden_groups: int = 0  # groups --min-group-n left out of the results

    @property
    def stats(self) -> Statistics:
        return self.request.stats

    @property
    def models(self) -> list[str]:
        return [m.name for m in self.layout.models]

    @functools.cached_property
    def results(self) -> list[Result]:
        """One Result per (group, model, loss): the overall rows first, then each group."""
        return self.table.results()

    @property
    def groups(self) -> list[GroupKey | None]:
        """None (all rows) first, then every group that is shown, in first-seen order."""
        return list(self.table.groups)

    def result(self, model: str, label: str, group: GroupKey | None = None) -> Result:
        if (model, label) not in self.table.value or group not in self._targets:
            raise KeyError(f"no result for model {model!r}, loss {label!r}, group {group!r}")
        return self.table.result(self._targets[group], (model, label))

    @functools.cached_property
    def _targets(self) -> dict[GroupKey | None, int]:
        # group -> its position: result() in O(1), as the gates ask once per result.
        return {g: i for i, g in enumerate(self.table.groups)}

    def value(self, model: str, label: str, group: GroupKey | None = None) -> float:
        return self.result(model, label, group).value

    def to_pandas(self) -> pd.DataFrame:
        """One row per (group, model, loss), the overall rows first: model, loss, value, n, and
        what was asked for; a --by column holds each group's value ("(all)" on the overall
        rows, None when missing). Built a column at a time from the table (a million groups
        make no Result)."""
        import pandas as pd

        table, keys = self.table, self.table.keys
        targets, width = len(table.groups), len(keys)

        def per_row(column: Callable[[Key], Sequence[Any]]) -> list[Any]:
            # Row r is target r // width, key r % width: the order of ``results``.
            by_key = [column(key) for key in keys]
            return [by_key[k][t] for t in range(targets) for k in range(width)]

        frame: dict[str, Any] = {
            "model": [m for _ in range(targets) for m, _ in keys],
            "loss": [label for _ in range(targets) for _, label in keys],
            "value": np.stack([table.value[k] for k in keys], axis=1).ravel() if keys else [],
            "n": np.stack([table.n[k] for k in keys], axis=1).ravel() if keys else [],
        }
        for i, col in enumerate(self.stats.by):
            # The overall rows say "(all)", as the CSV does: isna() finds only a missing group.
            values = [ALL_ROWS if g is None else g[i] for g in table.groups]
            frame[col] = [v for v in values for _ in range(width)]
        fields = (("ci_low", "ci_high") if self.stats.ci is not None else ()) + (
            BASELINE_COLUMNS if self.stats.baseline is not None else ()
        )
        for f in fields:
            values = per_row(functools.partial(table.column, name=f))
            # A number not computed (no interval without --ci) is NaN, as a number that has no
            # value: float columns, never objects holding None.
            frame[f] = values if f == "verdict" else np.array([np.nan if v is None else v for v in values], dtype=float)
        return pd.DataFrame(frame)
