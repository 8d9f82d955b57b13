"""Results -> text: a Rich table for people, CSV/TSV/JSON/JSONL/Markdown for programs.

Machine formats print full precision (repr round-trips); the table and
Markdown round to ``digits`` significant digits.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..arrow_buffers import int64_array
from ..core.finish import paused_gc
from ..errors import printable
from .summary import (
    Row,
    best_matrix,
    group_columns,
    group_text,
    json_value,
    meta,
    rank_and_missing,
    rank_lists,
    rank_matrix,
    ranks_shown,
    run_params,
    signature,
    sort_label,
    summary,
)
from .table import Cell, Grid, layouts, rich_table

if TYPE_CHECKING:
    from ..engines.evaluation import Evaluation

FORMATS = ("auto", "table", "csv", "tsv", "json", "jsonl", "markdown")
# Per loss, the extra fields that --ci and --baseline add, in column order.
CI_FIELDS = ("ci_low", "ci_high")
BASELINE_FIELDS = ("delta", "delta_rel", "delta_ci_low", "delta_ci_high", "p_value", "verdict")


def format_number(value: float | None, digits: int = 4) -> str:
    """At least ``digits`` significant digits, never rounding away the integer part."""
    if value is None:
        return ""
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
    higher = [s.label for s in ev.specs if s.loss.higher_is_better]
    if not higher:
        direction = "lower is better"
    elif len(higher) == len(ev.specs):
        direction = "higher is better"
    else:
        direction = f"lower is better, higher for {', '.join(higher)}"
    rows = " · MODELS ON DIFFERENT ROWS (--nan drop; --nan drop-any for the same rows)" if ev.rows_differ else ""
    return f"{ev.source} · target {ev.layout.target} · {format_count(ev.rows)} rows{weight}{rows} · {direction}"


def _extra_fields(ev: Evaluation) -> tuple[str, ...]:
    fields: tuple[str, ...] = ()
    if ev.stats.ci is not None:
        fields += CI_FIELDS
    if ev.stats.baseline is not None:
        fields += BASELINE_FIELDS if ev.stats.ci is not None else tuple(f for f in BASELINE_FIELDS if "ci" not in f)
    return fields


# --- human formats ---------------------------------------------------------------------------


def _value_text(value: float, low: float | None, high: float | None, digits: int) -> str:
    text = format_number(value, digits)
    if low is not None:
        text += f" [{format_bound(low, text, digits)}, {format_bound(high, text, digits)}]"
    return text


def format_bound(bound: float | None, value: str, digits: int) -> str:
    """An interval bound at the precision that tells it from the value it surrounds:
    ``16.96 [16.91, 17.02]``, never ``16.96 [16.9, 17.0]``.

    >>> format_bound(16.9112, "16.96", 4), format_bound(16.9612, "16.96", 4)
    ('16.91', '16.961')
    """
    if bound is None or not math.isfinite(bound):
        return format_number(bound, digits)
    own = format_number(bound, digits)
    if "e" in own or "e" in value:
        for more in range(digits, 18):
            own = format_number(bound, more)
            if own != value:
                break
        return own
    decimals = max(_decimals(value), _decimals(own))
    text = f"{bound:.{decimals}f}"
    while text == value and decimals < 17:
        decimals += 1
        text = f"{bound:.{decimals}f}"
    return text


def _decimals(text: str) -> int:
    return len(text.partition(".")[2])


def format_p(p: float) -> str:
    """A p-value in one significant digit; one that underflowed reads ``p<1e-300``, not ``p=0``,
    and one below 1 never reads ``p=1``: 0.972 is ``p=0.97``, 0.998 ``p>0.99``."""
    if p < 1e-300:
        return "p<1e-300"
    if 0.95 <= p < 1:
        return f"p={p:.2f}" if p < 0.995 else "p>0.99"
    return f"p={p:.1g}"


def format_count(n: int) -> str:
    """Counts with thousands separators, for people (machine formats print plain integers)."""
    return f"{n:,}"


def _delta_text(delta: float | None, verdict: str | None, p_value: float | None, digits: int) -> str:
    if verdict == "baseline":
        return "baseline"
    if delta is None or math.isnan(delta):
        return ""  # nothing to compare (e.g. a group where a skill score is undefined)
    sign = "+" if delta > 0 else ""
    said = f" {verdict}" if verdict else ""
    p = "" if p_value is None or math.isnan(p_value) else f" {format_p(p_value)}"
    return f"{sign}{format_number(delta, digits)}{said}{p}"


def _human_header(ev: Evaluation) -> list[str]:
    header = [*ev.stats.by, "model", "n"]
    for spec in ev.specs:
        header.append(spec.label)
        if ev.stats.baseline is not None:
            header.append(f"Δ {spec.label}")
    return [*header, "rank"]


def best_matrices(ev: Evaluation) -> dict[str, np.ndarray]:
    """Per loss label, best_matrix(): which model is best in each group."""
    return {s.label: best_matrix(ev, s.label) for s in ev.specs}


def _human_rows(
    ev: Evaluation,
    rows: list[Row],
    digits: int,
    best: dict[str, np.ndarray] | None = None,
    targets: list[int] | None = None,
) -> list[tuple[Row, list[tuple[str, bool]]]]:
    """Each row's cells as (text, is the best value of its loss in its group); ``best``:
    best_matrices(ev), when the caller renders the groups one by one; ``targets``: the
    positions of the rows' groups, when they are not every group."""
    best = best_matrices(ev) if best is None else best
    groups = ev.table.groups
    if targets is None:  # only the rows' own targets are formatted (the HTML report: one group a call)
        position = {g: t for t, g in enumerate(groups)}
        targets = list(dict.fromkeys(position[row.group] for row in rows))
    shown = targets
    at = {groups[t]: i for i, t in enumerate(shown)}
    column = {m: j for j, m in enumerate(ev.models)}
    cells_of = {j: _human_cells(ev, j, shown, digits) for j in {column[row.model] for row in rows}}
    out = []
    for row in rows:
        i, j = at[row.group], column[row.model]
        t = shown[i]
        cells = [(t_, False) for t_ in group_text(ev, row.group)]
        cells += [(row.model, False)]
        cells += [(texts[i], label is not None and bool(best[label][t, j])) for label, texts in cells_of[j]]
        cells.append((_rank_text(row.rank), False))
        out.append((row, cells))
    return out


def _human_cells(ev: Evaluation, j: int, at: list[int] | slice, digits: int) -> list[tuple[str | None, list[str]]]:
    """Model j's cells at the targets ``at`` as people read them, column by column, after the
    group and model names and before the rank: n, then per loss its value (with its interval)
    and, with a baseline, its delta. Each column with the loss label of a value, None else."""
    table, model = ev.table, ev.models[j]
    columns: list[tuple[str | None, list[str]]] = [
        (None, [format_count(n) for n in table.n[(model, ev.specs[0].label)][at].tolist()])
    ]
    for spec in ev.specs:
        key = (model, spec.label)
        low, high = _take(table.column(key, "ci_low"), at), _take(table.column(key, "ci_high"), at)
        values = table.value[key][at].tolist()
        columns.append((spec.label, [_value_text(*v, digits) for v in zip(values, low, high, strict=True)]))
        if ev.stats.baseline is not None:
            delta, verdict, p = (_take(table.column(key, f), at) for f in ("delta", "verdict", "p_value"))
            columns.append((None, [_delta_text(*d, digits) for d in zip(delta, verdict, p, strict=True)]))
    return columns


def _take(values: list[Any], at: list[int] | slice) -> list[Any]:
    return values[at] if isinstance(at, slice) else list(map(values.__getitem__, at))


def _rank_text(rank: int | None) -> str:
    """A rank as a cell: empty where there is none (no value, no rank: ranks_shown)."""
    return "" if rank is None else str(rank)


# The terminal table shows at most this many groups (the largest); machine formats show all.
TABLE_GROUPS = 20


def table_targets(ev: Evaluation) -> list[int] | None:
    """The targets (positions in ``ev.table.groups``) the table shows: every one (None) up to
    TABLE_GROUPS groups; beyond, the overall rows and the largest groups, most rows first."""
    groups = len(ev.table.groups) - 1  # the first target is the overall rows
    if not ev.stats.by or groups <= TABLE_GROUPS:
        return None
    sizes = ev.table.n[ev.table.keys[0]][1:]
    largest = np.argsort(-sizes, kind="stable")[:TABLE_GROUPS] + 1
    return [0, *largest.tolist()]


def groups_shown(ev: Evaluation) -> str:
    """The line under a table that does not show every group: how many it shows, and how to see all."""
    total = len(ev.table.groups) - 1
    return (
        f"showing the {format_count(TABLE_GROUPS)} largest of {format_count(total)} groups (most rows first); "
        f"{ev.request.flag('min_group_n')} N hides small groups, {ev.request.flag('format')} csv lists every group"
    )


def _grid(ev: Evaluation, digits: int, sort: str | None) -> Grid:
    """The table's cells, and which columns are keys, loss blocks and the rank."""
    targets = table_targets(ev)
    rows = _human_rows(ev, summary(ev, sort, targets), digits, targets=targets)
    keys = len(ev.stats.by) + 2
    size = 2 if ev.stats.baseline is not None else 1
    blocks = [list(range(keys + i * size, keys + (i + 1) * size)) for i in range(len(ev.specs))]
    groups = [row.group for row, _ in rows]
    sections = [bool(ev.stats.by) and i > 0 and g != groups[i - 1] for i, g in enumerate(groups)]
    # Names shown to a person: no escape sequence or newline from the data reaches the terminal.
    cells = [[Cell(printable(text), best) for text, best in row_cells] for _, row_cells in rows]
    last = keys + size * len(ev.specs)
    header = [printable(name) for name in _human_header(ev)]
    return Grid(header, cells, list(range(keys)), blocks, [last], sections, keys - 1)


def render_table(
    ev: Evaluation, *, digits: int = 4, no_color: bool = False, width: int | None = None, sort: str | None = None
) -> str:
    """A Rich table; ``width`` is the terminal's (None: a file or a pipe, no limit). A table
    wider than that is transposed or split, never cut (see table.py)."""
    from rich.console import Console
    from rich.text import Text

    grid = _grid(ev, digits, sort)
    tables = layouts(grid, width, transpose=not ev.stats.by)
    natural = max(g.width(columns) for g, columns in tables)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=not no_color, no_color=no_color, width=width or natural)
    for i, (g, columns) in enumerate(tables):
        if i:
            console.print()
        console.print(rich_table(g, columns))
    # A caption inside the table wraps to the table's width; lines below do not.
    console.print(Text(printable(caption(ev)), style="dim"), soft_wrap=True)
    if table_targets(ev) is not None:
        console.print(Text(groups_shown(ev), style="dim"), soft_wrap=True)
    console.print(Text(signature(ev), style="dim"), soft_wrap=True)
    return buffer.getvalue()


def render_markdown(ev: Evaluation, *, digits: int = 4, sort: str | None = None) -> str:
    return "".join(markdown_pieces(ev, digits=digits, sort=sort))


# Markdown lines made at a time (each target's models together): a few megabytes of text.
MARKDOWN_ROWS = 1 << 15


def markdown_pieces(ev: Evaluation, *, digits: int = 4, sort: str | None = None) -> Iterator[str]:
    """render_markdown() in pieces, made as they are written: the header, then the rows of
    about MARKDOWN_ROWS lines at a time, then the note on rows that differ."""
    rank, missing = rank_and_missing(ev, sort_label(ev, sort))  # an unknown --sort fails before any text
    header = _human_header(ev)
    first_numeric = len(ev.stats.by) + 1
    yield "| " + " | ".join(printable(h) for h in header) + " |\n"
    yield "|" + "|".join("---" if i < first_numeric else "---:" for i in range(len(header))) + "|\n"
    targets, step = len(ev.table.groups), max(1, MARKDOWN_ROWS // len(ev.models))
    for lo in range(0, targets, step):
        at = slice(lo, min(lo + step, targets))
        yield "".join(_markdown_rows(ev, digits, at, rank[at], missing[at]))
    if ev.rows_differ:  # the table alone would hide it
        yield "\n*The models were evaluated on different rows (--nan drop); --nan drop-any uses the same rows.*\n"


def _markdown_rows(ev: Evaluation, digits: int, at: slice, rank: np.ndarray, missing: np.ndarray) -> list[str]:
    """The lines of render_markdown at the targets ``at`` (``rank`` and ``missing`` theirs): the
    cells of _human_rows, built column-wise as _wide builds the CSV: each model's lines at
    every target, then taken in ranking order."""
    targets = len(rank)
    keys = [[_markdown_cell(t) for t in column] for column in _human_group_columns(ev, at)]
    every: list[str] = []  # model j's line at target t is every[j * targets + t]
    with paused_gc():
        for j, m in enumerate(ev.models):
            columns: list[list[str]] = [*keys, [_markdown_cell(m)] * targets]
            columns += [texts for _, texts in _human_cells(ev, j, at, digits)]
            columns.append(list(map(_rank_text, ranks_shown(rank[:, j], missing[:, j]))))
            every += map(" | ".join, zip(*columns, strict=True))
        order = np.argsort(rank, axis=1, kind="stable") * targets + np.arange(targets)[:, None]
        return [f"| {every[k]} |\n" for k in order.ravel().tolist()]


def _markdown_cell(text: str) -> str:
    return printable(text).replace("|", "\\|")


def _human_group_columns(ev: Evaluation, at: slice) -> list[list[str]]:
    """group_text() of the targets ``at``, column by column."""
    texts = [group_text(ev, g) for g in ev.table.groups[at]]
    return [list(column) for column in zip(*texts, strict=True)] if texts and ev.stats.by else []


# --- machine formats -------------------------------------------------------------------------


def wide(ev: Evaluation, sort: str | None = None) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of the CSV/TSV table: full-precision numbers."""
    header, rows = _wide(ev, sort, machine=False)
    return header, rows


def _wide(ev: Evaluation, sort: str | None, machine: bool, header_only: bool = False) -> tuple[list[str], list[Any]]:
    """wide(), built column-wise: each model's rows at every target are zipped from its columns
    (group texts, model, n, fields, rank), then taken in ranking order; with ``machine``, every
    cell already as _machine() gives it and each row a tuple."""
    extra = _extra_fields(ev)
    header = [*ev.stats.by, "model", "n"]
    for spec in ev.specs:
        header += [spec.label, *(f"{spec.label}:{f}" for f in extra)]
    header.append("rank")
    if header_only:
        return header, []
    label = sort_label(ev, sort)
    rank, missing = rank_and_missing(ev, label)
    table, first = ev.table, ev.specs[0].label
    targets = len(table.groups)
    keys = group_columns(ev)
    with paused_gc():
        every: list[tuple[Any, ...]] = []  # model j's row at target t is every[j * targets + t]
        for j, m in enumerate(ev.models):
            ns = table.n[(m, first)].tolist()
            columns: list[list[Any]] = [*keys, [m] * targets, list(map(str, ns)) if machine else ns]
            for spec in ev.specs:
                key = (m, spec.label)
                values = table.column(key, "value")
                columns.append(list(map(repr, values)) if machine else values)
                for f in extra:
                    field = table.column(key, f)
                    columns.append([_machine(v) for v in field] if machine else field)
            ranks_: list[int | None] = ranks_shown(rank[:, j], missing[:, j])
            columns.append(list(map(_rank_text, ranks_)) if machine else ranks_)
            every += zip(*columns, strict=True)
        # Within each target, the models in rank order (stable: ties keep the models' order).
        order = np.argsort(rank, axis=1, kind="stable") * targets + np.arange(targets)[:, None]
        rows: list[Any] = list(map(every.__getitem__, order.ravel().tolist()))
        if not machine:
            rows = [list(row) for row in rows]
    return header, rows


def render_delimited(ev: Evaluation, delimiter: str = ",", sort: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    keys = group_columns(ev)
    # Every cell is text; numbers never need quoting, so when no group or model name does
    # either, joining each row's cells is what the csv module would write, many times faster.
    names = "\0".join([*ev.models, *("\0".join(column) for column in keys)])
    if any(c in names for c in (delimiter, '"', "\r", "\n")):
        header, rows = _wide(ev, sort, machine=True)
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()
    header, _ = _wide(ev, sort, machine=True, header_only=True)
    writer.writerow(header)
    return _joined_rows(ev, keys, delimiter, sort, buffer.getvalue())


# Lines of CSV made at a time: Arrow's temporaries stay a few tens of megabytes, reused.
JOIN_ROWS = 1 << 18


def _joined_rows(ev: Evaluation, keys: list[list[str]], delimiter: str, sort: str | None, header: str) -> str:
    """``header``, then the rows of render_delimited, built by Arrow a column at a time (see
    columns_text): each column is gathered in output order (within each target, the models in
    rank order) while it is numbers, then formatted, and the lines joined, JOIN_ROWS at a time.
    A million groups make a hundred megabytes of text: each copy of it costs its page faults."""
    from . import columns_text as ct

    extra = _extra_fields(ev)
    rank, missing = rank_and_missing(ev, sort_label(ev, sort))
    table, first, models = ev.table, ev.specs[0].label, ev.models
    # Output row k is model model_of[k] at target target_of[k] (stable: ties keep the models' order).
    model_of = np.argsort(rank, axis=1, kind="stable").ravel()
    target_of = np.repeat(np.arange(len(table.groups)), len(models))
    counts = np.stack([table.n[(m, first)] for m in models])
    values = {s.label: np.stack([table.value[(m, s.label)] for m in models]) for s in ev.specs}
    fields = {
        (s.label, f): _field_cells([table.column((m, s.label), f) for m in models]) for s in ev.specs for f in extra
    }
    group_texts = [ct.strings(column) for column in keys]
    names = ct.strings(models)
    pieces = []
    for lo in range(0, len(model_of), JOIN_ROWS):
        j, t = model_of[lo : lo + JOIN_ROWS], target_of[lo : lo + JOIN_ROWS]
        at_t, at_j = int64_array(t), int64_array(j)
        columns: list[Any] = [ct.header_first(header if lo == 0 else "", len(j))]
        columns += [texts.take(at_t) for texts in group_texts]
        columns += [names.take(at_j), ct.integer_texts(counts[j, t])]
        for spec in ev.specs:
            columns.append(ct.float_texts(values[spec.label][j, t]))
            for f in extra:
                floats, cells = fields[(spec.label, f)]
                if floats is not None:
                    columns.append(ct.float_texts(floats[0][j, t], blank=floats[1][j, t]))
                else:
                    columns.append(cells.take(int64_array(j * len(table.groups) + t)))
        columns.append(ct.integer_texts(rank[t, j], missing[t, j]))
        pieces.append(ct.concatenated(ct.joined_lines(columns, delimiter)))
    return "".join(pieces)


def _field_cells(per_model: list[list[Any]]) -> tuple[tuple[np.ndarray, np.ndarray] | None, Any]:
    """One extra field of every model at every target, for _joined_rows: (values, where None)
    as (models, targets) matrices when every value is a float or None (formatted a block at a
    time), else every cell's text, models after models (the verdict: a word or nothing)."""
    from . import columns_text as ct

    floats = ct.optional_floats([v for column in per_model for v in column])
    if floats is not None:
        shape = (len(per_model), len(per_model[0]) if per_model else 0)
        return (floats[0].reshape(shape), floats[1].reshape(shape)), None
    # A str is its own text (the verdict's words: no call per cell for the most of them).
    return None, ct.strings([v if v.__class__ is str else str(_machine(v)) for column in per_model for v in column])


def records(ev: Evaluation, sort: str | None = None) -> list[dict[str, Any]]:
    """One record per (group, model, loss), in ranking order; built column-wise."""
    extra = _extra_fields(ev)
    table = ev.table
    rank = {s.label: rank_lists(ev, s.label) for s in ev.specs}  # each record ranked under its own loss
    order = np.argsort(rank_matrix(ev, sort_label(ev, sort)), axis=1, kind="stable").tolist()
    columns: dict[tuple[str, str], tuple[list[Any], list[int], list[list[Any]]]] = {}
    for key in table.keys:
        values = [json_value(v) for v in table.column(key, "value")]
        fields = [[json_value(v) for v in table.column(key, f)] for f in extra]
        columns[key] = (values, table.n[key].tolist(), fields)
    by = ev.stats.by
    groups = [None if g is None else dict(zip(by, map(json_value, g), strict=True)) for g in table.groups]
    params = {s.label: run_params(s, ev) for s in ev.specs}
    out = []
    for t in range(len(table.groups)):
        for j in order[t]:
            model = ev.models[j]
            for spec in ev.specs:
                values, ns, fields = columns[(model, spec.label)]
                record: dict[str, Any] = {
                    "model": model,
                    "loss": spec.name,
                    "params": dict(params[spec.label]),
                    "label": spec.label,
                    "value": values[t],
                    "n": ns[t],
                    "rank": rank[spec.label][t][j],
                }
                if by:
                    group = groups[t]
                    record["group"] = None if group is None else dict(group)
                for f, column in zip(extra, fields, strict=True):
                    record[f] = column[t]
                out.append(record)
    return out


def render_json(ev: Evaluation, *, with_meta: bool = False, sort: str | None = None) -> str:
    """``json.dumps`` of records() (under "results", after "meta", with ``with_meta``), indented
    by 2; written column-wise (json_text), never as a list of dicts."""
    return "".join(json_document(ev, with_meta=with_meta, sort=sort))


def json_document(ev: Evaluation, *, with_meta: bool = False, sort: str | None = None) -> Iterator[str]:
    """render_json() in pieces of a few megabytes, made as they are written."""
    from .json_text import json_pieces

    head: dict[str, Any] = {}
    if with_meta:
        from .gates import check_gates

        head = {"meta": meta(ev) | {"gates": [g.record() for g in check_gates(ev)]}}

    def wrap(body: Any) -> Any:
        return head | {"results": body} if with_meta else body

    yield from json_pieces(ev, _extra_fields(ev), sort, wrap, indent=2)
    yield "\n"


def render_jsonl(ev: Evaluation, sort: str | None = None) -> str:
    """One line of ``json.dumps`` per record of records(), written column-wise (json_text)."""
    return "".join(jsonl_lines(ev, sort))


def jsonl_lines(ev: Evaluation, sort: str | None = None) -> Iterator[str]:
    """render_jsonl() in pieces of a few megabytes, made as they are written."""
    from .json_text import json_pieces

    return json_pieces(ev, _extra_fields(ev), sort, lambda body: body, indent=None)


def render_pieces(ev: Evaluation, fmt: str, **options: Any) -> Iterable[str]:
    """render(), as pieces to write one after another: JSON, JSON Lines and Markdown are made
    while they are written (their texts are the largest of every format), the others whole."""
    if fmt in ("json", "jsonl", "markdown"):
        sort = options.get("sort")
        pieces = (
            json_document(ev, with_meta=options.get("with_meta", False), sort=sort)
            if fmt == "json"
            else jsonl_lines(ev, sort=sort)
            if fmt == "jsonl"
            else markdown_pieces(ev, digits=options.get("digits", 4), sort=sort)
        )
        # The first piece is made now, as every other format is made whole here: an error in
        # what the document needs (an unknown --sort, the gates of --meta) comes before any
        # text reaches the output, and before the notes, as for CSV.
        first = next(pieces, "")
        return itertools.chain((first,), pieces)
    return [render(ev, fmt, **options)]


def render(
    ev: Evaluation,
    fmt: str,
    *,
    digits: int = 4,
    no_color: bool = False,
    width: int | None = None,
    sort: str | None = None,
    with_meta: bool = False,
) -> str:
    if fmt == "table":
        return render_table(ev, digits=digits, no_color=no_color, width=width, sort=sort)
    if fmt in ("csv", "tsv"):
        return render_delimited(ev, "," if fmt == "csv" else "\t", sort=sort)
    if fmt == "json":
        return render_json(ev, with_meta=with_meta, sort=sort)
    if fmt == "jsonl":
        return render_jsonl(ev, sort=sort)
    if fmt == "markdown":
        return render_markdown(ev, digits=digits, sort=sort)
    raise ValueError(f"unknown format {fmt!r}")


def _machine(value: Any) -> Any:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else value
