"""What an evaluation produced: the results and everything they were computed from."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.accumulate import GroupKey
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
        """One row per (group, model, loss): model, loss, value, n, and what was asked for; a
        --by column holds each group's value ("(all)" on the overall rows, None when missing)."""
        import pandas as pd

        return pd.DataFrame([self._record(r) for r in self.results])

    def _record(self, r: Result) -> dict[str, Any]:
        record: dict[str, Any] = {"model": r.model, "loss": r.loss, "value": r.value, "n": r.n}
        for i, col in enumerate(self.stats.by):
            # The overall rows say "(all)", as the CSV does: isna() finds only a missing group.
            record[col] = ALL_ROWS if r.group is None else r.group[i]
        if self.stats.ci is not None:
            record |= {"ci_low": r.ci_low, "ci_high": r.ci_high}
        if self.stats.baseline is not None:
            record |= {k: getattr(r, k) for k in BASELINE_COLUMNS}
        return record
