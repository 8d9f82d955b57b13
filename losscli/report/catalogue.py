"""The loss registry as text: ``losscli losses`` (table, markdown, json) and ``--explain``.

Imports only the NumPy core, so listing losses stays fast. The README's loss
table is this module's markdown output, checked by a test.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from ..losses import REGISTRY, Loss
from ..spec import format_value

CATALOGUE_FORMATS = ("table", "markdown", "json")


def _params(loss: Loss) -> str:
    return ", ".join(f"{p.name}={format_value(p.default)}" for p in loss.params) or "-"


def rows_of(task: str | None = None) -> list[Loss]:
    return [loss for loss in REGISTRY if task is None or task in loss.tasks]


def as_markdown(task: str | None = None) -> str:
    lines = [
        "| loss | aliases | task | parameters | formula | matches |",
        "|---|---|---|---|---|---|",
    ]
    for loss in rows_of(task):
        cells = [
            f"`{loss.name}`",
            ", ".join(loss.aliases) or "-",
            "/".join(loss.tasks),
            _params(loss),
            f"`{loss.formula}`",
            loss.reference,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def as_records(task: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "name": loss.name,
            "aliases": list(loss.aliases),
            "task": loss.task,
            "tasks": list(loss.tasks),
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "kind": p.kind,
                    "domain": p.rule(),
                    "help": p.help,
                }
                for p in loss.params
            ],
            "predictions": loss.pred_kind,
            "shape": loss.pred_shape,
            "higher_is_better": loss.higher_is_better,
            "formula": loss.formula,
            "description": loss.description,
            "reference": loss.reference,
        }
        for loss in rows_of(task)
    ]


def as_json(task: str | None = None) -> str:
    return json.dumps(as_records(task), indent=2) + "\n"


def as_table(task: str | None = None, *, width: int | None = None) -> str:
    """An aligned plain-text table that fits ``width``: descriptions wrapped in a fourth column,
    or, when that column would be too narrow, on their own lines under each loss.

    Plain text rather than Rich: `losscli losses` is a start-up path and Rich's
    table and console cost about 25 ms to import and render.
    """
    width = width or 120
    header = ("loss", "task", "parameters", "description")
    rows = [(loss.name, "/".join(loss.tasks), _params(loss), loss.description) for loss in rows_of(task)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    room = width - sum(widths) - 6
    if room < 30:
        return _stacked_table(rows, widths[:2], width)
    lines = []
    for i, row in enumerate([header, *rows]):
        wrapped = textwrap.wrap(row[3], room) or [""]
        lead = "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
        lines.append(f"{lead}  {wrapped[0]}".rstrip())
        lines += [" " * len(lead) + "  " + more for more in wrapped[1:]]
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * min(room, 40))
    lines += ["", _EXPLAIN_HINT]
    return "\n".join(lines) + "\n"


_EXPLAIN_HINT = "losscli losses --explain NAME: formula, aliases, parameters, conventions"


def _stacked_table(rows: list[tuple[str, str, str, str]], widths: list[int], width: int) -> str:
    """For narrow terminals: name, task and parameters (wrapped between parameters) on a line,
    the description indented below."""
    room = max(width - sum(widths) - 4, 20)
    lead = "  ".join(h.ljust(w) for h, w in zip(("loss", "task"), widths, strict=True))
    lines = [f"{lead}  parameters", "  ".join("-" * w for w in widths) + "  " + "-" * min(room, 20)]
    for name, tasks, params, description in rows:
        lead = "  ".join(cell.ljust(w) for cell, w in zip((name, tasks), widths, strict=True))
        wrapped = textwrap.wrap(params, room, break_on_hyphens=False) or ["-"]
        lines.append(f"{lead}  {wrapped[0]}".rstrip())
        lines += [" " * len(lead) + "  " + more for more in wrapped[1:]]
        lines += ["    " + text for text in textwrap.wrap(description, max(width - 4, 20))]
    lines += ["", _EXPLAIN_HINT]
    return "\n".join(lines) + "\n"


def explain(loss: Loss) -> str:
    """Everything about one loss, as plain text: formula, use, parameters, conventions."""
    out = [f"{loss.name} — {loss.description}", ""]
    if loss.aliases:
        out.append(f"aliases:     {', '.join(loss.aliases)}")
    out.append(f"task:        {'/'.join(loss.tasks)}")
    out.append(f"predictions: {_SHAPE_WORDS.get(loss.pred_shape) or _PRED_WORDS[loss.pred_kind]}")
    if loss.pred_kind == "probability" and "multiclass" in loss.tasks:
        # One rule for every loss that takes distributions (read/checks.py enforces it).
        rescale = f"; {loss.name}:normalize=true rescales each row" if loss.param("normalize") else ""
        rescale += f"; {loss.name}:unnormalized=true computes it anyway" if loss.param("unnormalized") else ""
        out.append(f"rows:        each row of k class probabilities must sum to 1 (within 1e-6){rescale}")
    out.append(f"formula:     {loss.formula}")
    if loss.higher_is_better:
        out.append("better:      higher (a skill score; tables rank it descending)")
    out.append(f"matches:     {loss.reference}")
    if loss.params:
        out += ["", "parameters:"]
        for p in loss.params:
            out.append(f"  {p.name} = {format_value(p.default)}  ({p.rule()}): {p.help}")
    out += ["", textwrap.fill(loss.explain or loss.description, width=88)]
    return "\n".join(out) + "\n"


_SHAPE_WORDS = {
    "gaussian": "a normal distribution per row: columns MODEL.mean and MODEL.std (or MODEL.var)",
    "quantiles": "quantiles per row: columns MODEL.q10, MODEL.q50, MODEL.q90, ... (percent after q)",
}
_PRED_WORDS = {
    "real": "real numbers (the same units as the target)",
    "probability": "probabilities in [0, 1]",
    "score": "raw scores (decision values), any real number",
    "logit": "logits (log-odds), any real number",
    "log_probability": "log-probabilities (<= 0)",
}
