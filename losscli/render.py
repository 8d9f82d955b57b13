"""Results -> text: a Rich table for people, CSV/TSV/JSON/JSONL/Markdown for programs.

Machine formats print full precision (repr round-trips); the table rounds to
``digits`` significant digits. Rows are sorted by the first loss, best first.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .evaluation import Evaluation

FORMATS = ("auto", "table", "csv", "tsv", "json", "jsonl", "markdown")


def sorted_models(ev: Evaluation) -> list[str]:
    """Models in order of the first loss, lower is better; ties keep file order."""
    first = ev.specs[0].label
    return sorted(ev.models, key=lambda m: _sort_key(ev.value(m, first)))


def best_models(ev: Evaluation, label: str) -> set[str]:
    values = {m: ev.value(m, label) for m in ev.models}
    finite = [v for v in values.values() if not math.isnan(v)]
    if not finite:
        return set()
    best = min(finite)
    return {m for m, v in values.items() if v == best}


def n_for(ev: Evaluation, model: str) -> int:
    return next(r.n for r in ev.results if r.model == model)


def format_number(value: float, digits: int = 4) -> str:
    """At least ``digits`` significant digits, never rounding away the integer part."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4 or magnitude >= 15:
        return f"{value:.{max(digits - 1, 0)}e}"
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:.{decimals}f}"


def caption(ev: Evaluation) -> str:
    weight = f", weighted by {ev.layout.weight}" if ev.layout.weight else ""
    return f"{ev.source} · target {ev.layout.target} · {ev.rows} rows{weight} · lower is better"


def render_table(ev: Evaluation, *, digits: int = 4, no_color: bool = False, width: int | None = None) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    table.add_column("model", no_wrap=True)
    table.add_column("n", justify="right")
    for spec in ev.specs:
        table.add_column(Text(spec.label), justify="right")
    best = {s.label: best_models(ev, s.label) for s in ev.specs}
    for model in sorted_models(ev):
        # Text, not markup: a model called "a[1]" must print as it is.
        cells = [Text(model), Text(str(n_for(ev, model)))]
        for spec in ev.specs:
            is_best = model in best[spec.label] and len(ev.models) > 1
            text = format_number(ev.value(model, spec.label), digits)
            cells.append(Text(text, style="bold green" if is_best else ""))
        table.add_row(*cells)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=not no_color, no_color=no_color, width=width or 100)
    console.print(table)
    # A caption inside the table wraps to the table's width; a line below does not.
    console.print(Text(caption(ev), style="dim"), soft_wrap=True)
    return buffer.getvalue()


def _wide_rows(ev: Evaluation) -> tuple[list[str], list[list[Any]]]:
    header = ["model", "n", *(s.label for s in ev.specs)]
    rows = [[m, n_for(ev, m), *(ev.value(m, s.label) for s in ev.specs)] for m in sorted_models(ev)]
    return header, rows


def render_delimited(ev: Evaluation, delimiter: str = ",") -> str:
    header, rows = _wide_rows(ev)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_machine(v) for v in row] for row in rows])
    return buffer.getvalue()


def render_markdown(ev: Evaluation, *, digits: int = 4) -> str:
    header, rows = _wide_rows(ev)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for row in rows:
        cells = [str(row[0]), str(row[1]), *(format_number(v, digits) for v in row[2:])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def records(ev: Evaluation) -> list[dict[str, Any]]:
    """One record per (model, loss), models in ranking order."""
    order = {m: i for i, m in enumerate(sorted_models(ev))}
    out = []
    for r in sorted(ev.results, key=lambda r: order[r.model]):
        out.append(
            {
                "model": r.model,
                "loss": r.name,
                "params": dict(r.params.items()),
                "label": r.loss,
                "value": _json_number(r.value),
                "n": r.n,
            }
        )
    return out


def render_json(ev: Evaluation) -> str:
    return json.dumps(records(ev), indent=2, allow_nan=False) + "\n"


def render_jsonl(ev: Evaluation) -> str:
    return "".join(json.dumps(rec, allow_nan=False) + "\n" for rec in records(ev))


def render(ev: Evaluation, fmt: str, *, digits: int = 4, no_color: bool = False, width: int | None = None) -> str:
    if fmt == "table":
        return render_table(ev, digits=digits, no_color=no_color, width=width)
    if fmt == "csv":
        return render_delimited(ev, ",")
    if fmt == "tsv":
        return render_delimited(ev, "\t")
    if fmt == "json":
        return render_json(ev)
    if fmt == "jsonl":
        return render_jsonl(ev)
    if fmt == "markdown":
        return render_markdown(ev, digits=digits)
    raise ValueError(f"unknown format {fmt!r}")


def _machine(value: Any) -> Any:
    return repr(value) if isinstance(value, float) else value


def _json_number(value: float) -> float | None:
    # JSON has no NaN or infinity; null says "no value" without breaking parsers.
    return value if math.isfinite(value) else None


def _sort_key(value: float) -> tuple[bool, float]:
    return (math.isnan(value), value)
