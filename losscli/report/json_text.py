"""JSON and JSON Lines of many groups, written a column at a time (as columns_text does for CSV).

A record per (group, model, loss) as a Python dict, then ``json.dumps`` of their list,
cost about a kilobyte and several microseconds a record (the indented encoder is pure
Python). Here ``json.dumps`` writes one record per (model, loss) and kind of target (the
overall rows, whose group is null, and a group), with a placeholder in every field that
changes from target to target; the text between placeholders is the same for every
record of that (model, loss). Each field becomes a column of JSON text (numbers
formatted by Arrow, as ``repr`` writes them), and the records are joined column-wise,
JOIN_ROWS at a time: the same bytes ``json.dumps`` of the records writes.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow.compute as pc

from ..arrow_buffers import bool_array, int64_array
from . import columns_text as ct
from .summary import json_value, rank_and_missing, rank_matrix, run_params, sort_label

if TYPE_CHECKING:
    import pyarrow as pa

    from ..engines.evaluation import Evaluation

# Records made at a time: Arrow's temporaries stay a few tens of megabytes, reused.
JOIN_RECORDS = 1 << 17
_FIXED = ("model", "loss", "params", "label")


def json_pieces(
    ev: Evaluation, extra: tuple[str, ...], sort: str | None, wrap: Callable[[Any], Any], indent: int | None
) -> Iterator[str]:
    """The text of ``json.dumps(wrap(records), indent=indent, allow_nan=False)``, in pieces:
    ``wrap`` puts the list of records where it belongs (``lambda x: x`` for the list
    itself). With ``indent`` None, JSON Lines: each record on its own line instead."""
    nonce = secrets.token_hex(8)  # no name from the data can hold it
    if indent is None:
        pre, post, sep = "", "", "\n"
    else:
        marker = json.dumps(nonce)
        pre, post = json.dumps(wrap([nonce]), indent=indent, allow_nan=False, default=json_value).split(marker)
        sep = ",\n" + pre.rpartition("\n")[2]  # the records' indentation
    # Made before the first piece: an error (an unknown --sort) comes before any text is written.
    plan = _Plan(ev, extra, sort, nonce, lambda r: _dumps(wrap([r]), indent, pre, post))
    yield pre
    total = plan.overall + (len(ev.table.groups) - 1) * plan.per_target
    last = ""
    for lo, hi in _ranges(plan.overall, total):
        if last:
            yield last
        last = plan.text(lo, hi, sep)
    yield last[: len(last) - len(sep)] if indent is not None else last
    yield post


def _ranges(overall: int, total: int) -> Iterator[tuple[int, int]]:
    """Record ranges: the overall rows' apart (their template differs), then JOIN_RECORDS at a time."""
    yield 0, overall
    for lo in range(overall, total, JOIN_RECORDS):
        yield lo, min(lo + JOIN_RECORDS, total)


def _dumps(doc: Any, indent: int | None, pre: str, post: str) -> str:
    text = json.dumps(doc if indent is not None else doc[0], indent=indent, allow_nan=False, default=json_value)
    return text[len(pre) : len(text) - len(post)] if indent is not None else text


class _Plan:
    """What every record is made of: the fixed texts per (model, loss) and kind of target, and
    each varying field's numbers, gathered and formatted for a range of records at a time.

    Record k (targets first, then the models in ranking order, then the losses) is loss
    ``k % S`` of model ``order[t, k // S % M]`` at target ``k // (M S)``."""

    def __init__(
        self, ev: Evaluation, extra: tuple[str, ...], sort: str | None, nonce: str, dump: Callable[[Any], str]
    ) -> None:
        table, specs, models = ev.table, ev.specs, ev.models
        self.S, self.M, self.T = len(specs), len(models), len(table.groups)
        self.per_target = self.overall = self.S * self.M
        self.order = np.argsort(rank_matrix(ev, sort_label(ev, sort)), axis=1, kind="stable")
        # (S, T, M): each record ranked under its own loss; no rank (null) where it has no value.
        ranked = [rank_and_missing(ev, s.label) for s in specs]
        self.ranks, self.unranked = np.stack([r for r, _ in ranked]), np.stack([m for _, m in ranked])
        keys = [(m, s.label) for s in specs for m in models]  # index s * M + j
        self.value = np.stack([table.value[k] for k in keys])  # (S M, T)
        self.n = np.stack([table.n[k] for k in keys])
        self.extra = extra
        self.floats = {
            f: np.array([table.column(k, f) for k in keys], dtype=np.float64) for f in extra if f != "verdict"
        }
        self.verdicts = [table.column(k, "verdict") for k in keys] if "verdict" in extra else []
        by = ev.stats.by
        self.group_texts = [
            ct.strings([json.dumps(json_value(g[i] if g else None)) for g in table.groups]) for i in range(len(by))
        ]
        slots = ["value", "n", "rank"]
        params = {s.label: run_params(s, ev) for s in specs}

        def record(k: int, group: Any) -> str:
            s = specs[k // self.M]
            fixed = {"model": models[k % self.M], "loss": s.name, "params": dict(params[s.label]), "label": s.label}
            rec = fixed | {f: f"{nonce}{f}" for f in slots}
            if by:
                rec["group"] = group
            rec |= {f: f"{nonce}{f}" for f in extra}
            return dump(rec)

        marker = re.compile(re.escape(json.dumps(nonce)[:-1]) + r'(\w+)"')
        group_slots = {c: f"{nonce}g{i}" for i, c in enumerate(by)}
        self.templates = []
        for group in (None, group_slots):
            texts = [record(k, group) for k in range(self.per_target)]
            parts = [marker.split(t) for t in texts]  # fixed, slot, fixed, slot, ..., fixed
            names = parts[0][1::2]
            pieces = [ct.strings([p[i] for p in parts]) for i in range(0, len(parts[0]), 2)]
            self.templates.append((names, pieces))

    def text(self, lo: int, hi: int, sep: str) -> str:
        """Records lo..hi-1, each followed by ``sep``."""
        k = np.arange(lo, hi, dtype=np.int64)
        s, rest = k % self.S, k // self.S
        t, p = rest // self.M, rest % self.M
        j = self.order[t, p]
        at = s * self.M + j  # the (model, loss) of each record
        names, pieces = self.templates[0 if lo < self.overall else 1]
        index = int64_array(at)
        columns: list[Any] = []
        for i, name in enumerate(names):
            columns += [pieces[i].take(index), self._field(name, at, s, t, j)]
        columns += [pieces[-1].take(index), ct.scalar(sep)]
        return ct.concatenated(pc.binary_join_element_wise(*columns, ct.scalar("")))

    def _field(self, name: str, at: np.ndarray, s: np.ndarray, t: np.ndarray, j: np.ndarray) -> pa.Array:
        if name == "value":
            return _numbers(self.value[at, t])
        if name == "n":
            return ct.integer_texts(self.n[at, t])
        if name == "rank":
            return _or_null(ct.integer_texts(self.ranks[s, t, j]), self.unranked[s, t, j])
        if name == "verdict":
            return ct.strings([json.dumps(self.verdicts[a][b]) for a, b in zip(at.tolist(), t.tolist(), strict=True)])
        if name in self.floats:
            return _numbers(self.floats[name][at, t])
        return self.group_texts[int(name[1:])].take(int64_array(t))  # "g0", "g1": a --by column


def _numbers(values: np.ndarray) -> pa.Array:
    """Floats as JSON text: repr's digits; NaN and infinities null (JSON has neither)."""
    finite = np.isfinite(values)
    return _or_null(ct.float_texts(np.where(finite, values, 0.0)), ~finite)


def _or_null(text: pa.Array, null: np.ndarray) -> pa.Array:
    return pc.if_else(bool_array(null), ct.scalar("null"), text) if null.any() else text
