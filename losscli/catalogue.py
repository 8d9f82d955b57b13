"""The loss registry as text: ``losscli losses`` (table, markdown, json) and ``--explain``.

Imports only the NumPy core, so listing losses stays fast. The README's loss
table is this module's markdown output, checked by a test.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from .losses import REGISTRY, Loss
from .spec import format_value

CATALOGUE_FORMATS = ("table", "markdown", "json")


def _params(loss: Loss) -> str:
    return ", ".join(f"{p.name}={format_value(p.default)}" for p in loss.params) or "-"


def rows(task: str | None = None) -> list[Loss]:
    return [loss for loss in REGISTRY if task is None or task in loss.tasks]


def as_markdown(task: str | None = None) -> str:
    lines = [
        "| loss | aliases | task | parameters | formula | matches |",
        "|---|---|---|---|---|---|",
    ]
    for loss in rows(task):
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
            "formula": loss.formula,
            "description": loss.description,
            "reference": loss.reference,
        }
        for loss in rows(task)
    ]


def as_json(task: str | None = None) -> str:
    return json.dumps(as_records(task), indent=2) + "\n"


def as_table(task: str | None = None, *, no_color: bool = False, width: int | None = None) -> str:
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False)
    table.add_column("loss", no_wrap=True, style="bold")
    table.add_column("task")
    table.add_column("parameters")
    table.add_column("description", ratio=1)
    for loss in rows(task):
        # Text, not markup: descriptions may hold brackets.
        cells = (loss.name, "/".join(loss.tasks), _params(loss), loss.description)
        table.add_row(*(Text(c) for c in cells))
    buffer = io.StringIO()
    console = Console(file=buffer, no_color=no_color, width=width or 120)
    console.print(table)
    console.print(Text("losscli losses --explain NAME: formula, aliases, conventions", style="dim"))
    return buffer.getvalue()


def explain(loss: Loss) -> str:
    """Everything about one loss, as plain text: formula, use, parameters, conventions."""
    out = [f"{loss.name} — {loss.description}", ""]
    if loss.aliases:
        out.append(f"aliases:     {', '.join(loss.aliases)}")
    out.append(f"task:        {'/'.join(loss.tasks)}")
    out.append(f"predictions: {_PRED_WORDS[loss.pred_kind]}")
    out.append(f"formula:     {loss.formula}")
    out.append(f"matches:     {loss.reference}")
    if loss.params:
        out += ["", "parameters:"]
        for p in loss.params:
            out.append(f"  {p.name} = {format_value(p.default)}  ({p.rule()}): {p.help}")
    out += ["", textwrap.fill(loss.explain or loss.description, width=88)]
    return "\n".join(out) + "\n"


_PRED_WORDS = {
    "real": "real numbers (the same units as the target)",
    "probability": "probabilities in [0, 1]",
    "score": "raw scores (decision values), any real number",
    "logit": "logits (log-odds), any real number",
    "log_probability": "log-probabilities (<= 0)",
}
