"""One self-contained HTML page per evaluation (``eval -o report.html``), and the page
machinery other commands share: ``render_document`` (a page of ``Section``s holding
text, ``HtmlTable``s and ``Picture``s, no template to write), ``render_page`` (a
template of one's own that extends ``base.html.j2``), ``picture`` (a matplotlib figure
as inline SVG).

Pages are Jinja2 templates in ``losscli/report/templates`` (package data), rendered with
autoescaping: every name from the data is text, never markup. The only markup
that is not escaped is losscli's own CSS and script and matplotlib's SVG (whose
text matplotlib escapes). A Content-Security-Policy in the page forbids every
fetch and every script but losscli's own, by hash: the page loads nothing, and
would run nothing else even if a name slipped through.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.resources
import importlib.util
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..core.accumulate import GroupKey
from ..plots.collect import Distributions, distributions
from .render import _human_header, _human_rows, best_matrices, caption, groups_shown, table_targets
from .summary import Row, group_text, run_params, signature, spec_with_all_params, summary

if TYPE_CHECKING:
    import numpy as np
    from jinja2 import Environment
    from markupsafe import Markup

    from ..engines.evaluation import Evaluation
    from ..engines.local import ObserverFactory
    from ..spec import LossSpec

# The picture size in CSS pixels; the page scales it down to the screen's width.
PICTURE_SIZE = (760, 420)
# More groups than this make unreadable bars; the per-group tables still hold every value.
MAX_GROUPS_DRAWN = 30
NO_MATPLOTLIB = "no pictures: matplotlib is not installed (pip install 'losscli[plot]'); the tables hold every number"

# What ``eval`` hands to the engine: the report's histograms and calibration
# tables are filled in the evaluation's own pass, in constant memory.
observer: ObserverFactory = distributions


# --- the shared page machinery ---------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, the value it sorts by (full precision), and marks."""

    text: str
    sub: str = ""  # a second line in smaller type: an interval, a p-value
    sort: str | None = None
    best: bool = False
    css: str = ""


@dataclass(frozen=True)
class HtmlTable:
    """A sortable table: ``numeric[i]`` right-aligns column i."""

    header: list[str]
    numeric: list[bool]
    rows: list[list[Cell]]
    title: str = ""


@dataclass(frozen=True)
class Picture:
    """A figure: inline SVG (or None when it could not be drawn) and what it shows."""

    title: str
    svg: Markup | None
    caption: str


@functools.cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("losscli.report", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> str:
    return importlib.resources.files("losscli.report").joinpath("templates", name).read_text(encoding="utf-8")


def render_page(template: str, **context: Any) -> str:
    """Render a page template of ``losscli/report/templates`` that extends ``base.html.j2``.

    The base supplies the CSS, the sorting script (allowed by its hash in the page's
    Content-Security-Policy, so no other script runs) and the version. Context values
    are escaped; pass ``HtmlTable`` and ``Picture`` objects for tables and figures.
    """
    from markupsafe import Markup

    script = _asset("sort.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    shared = {"css": Markup(_asset("report.css")), "script": Markup(script), "script_hash": f"sha256-{digest}"}
    return _environment().get_template(template).render(**shared, version=__version__, **context)


@dataclass(frozen=True)
class Section:
    """A part of a document: a heading, then paragraphs, a list, tables and pictures."""

    heading: str
    paragraphs: Sequence[str] = ()
    items: Sequence[str] = ()
    tables: Sequence[HtmlTable] = ()
    pictures: Sequence[Picture] = ()


def render_document(
    title: str, sections: Sequence[Section], *, facts: Sequence[tuple[str, str]] = (), notes: Sequence[str] = ()
) -> str:
    """A page of sections under a title, then ``facts`` (label, text) and ``notes``: what a
    command such as ``advise -o advice.html`` writes, with ``writers.write_text`` (the one writer).

    >>> page = render_document("t", [Section("<h>", paragraphs=["a < b"])])
    >>> "&lt;h&gt;" in page and "a &lt; b" in page
    True
    """
    return render_page("document.html.j2", title=title, sections=sections, facts=facts, notes=notes)


def picture(title: str, fig: Any, caption: str, number: int) -> Picture:
    """A matplotlib figure (``plots.figure.*_figure``) as a page's picture; ``number`` is
    its place on the page, which keeps its SVG ids apart from the other pictures'."""
    from ..plots import figure

    return Picture(title, inline_svg(figure.svg_text(fig), f"fig{number}"), caption)


def matplotlib_missing() -> bool:
    return importlib.util.find_spec("matplotlib") is None


def inline_svg(svg: str, prefix: str) -> Markup:
    """matplotlib's SVG made fit to sit inside HTML beside other figures: no XML prolog,
    metadata or comments, and every id prefixed so two figures' ids never clash."""
    from markupsafe import Markup

    svg = re.sub(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", "", svg, flags=re.S)

    def fix_tag(match: re.Match[str]) -> str:
        tag = match.group(0)
        tag = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", tag)  # HTML puts <svg> in its namespace itself
        tag = tag.replace(' id="', f' id="{prefix}-').replace('href="#', f'href="#{prefix}-')
        return tag.replace("url(#", f"url(#{prefix}-")

    # Text and attribute values never hold a bare < or > (matplotlib escapes them), so
    # this matches exactly the tags.
    return Markup(re.sub(r"<[^<>]+>", fix_tag, svg).strip())


# --- the evaluation page ---------------------------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    """One gate rule as given on the command line, and the breaches it found."""

    rule: str
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


def render_eval(ev: Evaluation, command: str | None = None) -> tuple[str, list[str]]:
    """The page of an evaluation (its request says the gates, digits and sort), and the
    notes to print on stderr about what the page could not show."""
    out = ev.request.output
    pictures, picture_notes = eval_pictures(ev)
    # For people, as the terminal's table: the overall rows and at most TABLE_GROUPS groups,
    # the largest (a page of every group of a million is neither readable nor quick to make).
    targets = table_targets(ev)
    by_group: dict[GroupKey | None, list[Row]] = {}
    for row in summary(ev, out.sort, targets):  # one pass, not one scan of every row per group
        by_group.setdefault(row.group, []).append(row)
    best = best_matrices(ev)
    html = render_page(
        "eval.html.j2",
        title=ev.request.inputs.display or ev.source,
        caption=caption(ev),
        gates=gate_results(ev),
        facts=facts(ev, command),
        notes=[*ev.notes, *picture_notes],
        overall=results_table(ev, by_group[None], out.digits, best=best),
        groups=[
            results_table(ev, by_group[g], out.digits, title=_group_title(ev, g), best=best)
            for g in by_group
            if g is not None
        ],
        shown=groups_shown(ev) if targets is not None else "",
        baseline=ev.stats.baseline,
        ci=ev.stats.ci,
        pictures=pictures,
        signature=signature(ev),
    )
    return html, picture_notes


def gate_results(ev: Evaluation) -> list[GateResult]:
    """Every gate rule of the run (all groups shown), with the breaches it found, in the order given."""
    from .gates import check_gates

    rules: dict[str, list[str]] = {}
    for gate in check_gates(ev):
        rule = f"{gate.rule} (baseline {ev.stats.baseline})" if gate.rule == "--fail-if-worse" else gate.rule
        rules.setdefault(rule, [])
        if not gate.passed:
            rules[rule].append(gate.message())
    if ev.request.gates.fail_if_worse:  # a rule with no model to check still shows as passed
        rules.setdefault(f"--fail-if-worse (baseline {ev.stats.baseline})", [])
    for t in ev.request.gates.fail_above:
        rules.setdefault(f"--fail-above {t.text}", [])
    return [GateResult(rule, failures) for rule, failures in rules.items()]


def facts(ev: Evaluation, command: str | None = None) -> list[tuple[str, str]]:
    """The header's (label, text) pairs: what was read, how, and how to reproduce it."""
    layout, stats, inputs = ev.layout, ev.stats, ev.request.inputs
    target = ", ".join(layout.target_columns) + " (soft)" if layout.target_columns else layout.target
    models = "; ".join(
        f"{m.name} = {', '.join(m.columns)}" if m.columns != (m.name,) else m.name for m in layout.models
    )
    out = [
        ("inputs", ", ".join("stdin" if f == "-" else f for f in inputs.paths) or inputs.display or ev.source),
        ("rows", f"{ev.rows:,}"),
        ("task", layout.task + (f" (classes {', '.join(layout.classes)})" if layout.classes else "")),
        ("target", target),
        ("models", models),
        ("weight", layout.weight or "none (every row counts 1)"),
        ("id", layout.id or "none (rows are numbered from 1)"),
    ]
    if inputs.truth:
        out.insert(1, ("truth", f"{inputs.truth} (joined on the id, {inputs.join_policy})"))
    if stats.by:
        out.append(("groups (--by)", ", ".join(stats.by)))
    out.append(("losses", ", ".join(spec_with_all_params(s.name, run_params(s, ev)) for s in ev.specs)))
    if stats.ci is not None:
        out.append(("intervals", f"{stats.ci:g} bootstrap, {stats.replicates} replicates, seed {stats.seed_value}"))
    if stats.baseline is not None:
        out.append(("baseline", f"{stats.baseline} (paired t-test at {stats.level:g})"))
    if command:
        out.append(("command", command))
    out.append(("version", f"losscli {__version__}"))
    return out


def command_line(argv: Sequence[str]) -> str:
    """The command as a user would retype it."""
    return shlex.join(["losscli", *argv[1:]])


def _group_title(ev: Evaluation, group: Any) -> str:
    return ", ".join(f"{col} = {text}" for col, text in zip(ev.stats.by, group_text(ev, group), strict=True))


def results_table(
    ev: Evaluation, rows: list[Row], digits: int, title: str = "", best: dict[str, np.ndarray] | None = None
) -> HtmlTable:
    """The terminal's table for these rows (one group), each number with its full-precision
    value to sort by; the --by columns are the table's title instead."""
    skip = len(ev.stats.by)
    header = _human_header(ev)[skip:]
    numeric = [name != "model" for name in header]
    out = []
    for row, cells in _human_rows(ev, rows, digits, best):
        sorts: list[str | None] = [None, str(row.n)]
        styles = ["", ""]
        for spec in ev.specs:
            r = row.results[spec.label]
            sorts.append(repr(r.value))
            styles.append("")
            if ev.stats.baseline is not None:
                sorts.append(None if r.delta is None else repr(r.delta))
                styles.append(f"verdict-{_css_word(r.verdict)}" if r.verdict else "")
        sorts.append(None if row.rank is None else str(row.rank))
        styles.append("")
        out.append(
            [
                Cell(*_two_lines(text), sort=sort, best=best, css=css)
                for (text, best), sort, css in zip(cells[skip:], sorts, styles, strict=True)
            ]
        )
    return HtmlTable(header, numeric, out, title)


def _two_lines(text: str) -> tuple[str, str]:
    """The terminal's cell as (value, its interval or p-value) so narrow screens wrap between them."""
    for mark in (" [", " p="):
        head, sep, tail = text.partition(mark)
        if sep:
            return head, (sep + tail).strip()
    return text, ""


def _css_word(verdict: str) -> str:
    return re.sub(r"[^a-z]", "", verdict.lower()) or "none"


# --- pictures --------------------------------------------------------------------------------


def eval_pictures(ev: Evaluation) -> tuple[list[Picture], list[str]]:
    """The figures of the page, and notes on what is not drawn and why."""
    if matplotlib_missing():
        return [], [NO_MATPLOTLIB]
    notes: list[str] = []
    drawn: list[tuple[str, Any, str]] = []
    observed = ev.observed if isinstance(ev.observed, Distributions) else None
    curves = _curves(ev, observed, notes)
    if curves is not None:
        drawn.append(curves)
    if observed is not None:
        drawn += _distribution_pictures(ev, observed, notes)
    drawn += _group_pictures(ev, notes)
    return [picture(title, fig, text, i) for i, (title, fig, text) in enumerate(drawn)], notes


def _curves(ev: Evaluation, observed: Distributions | None, notes: list[str]) -> tuple[str, Any, str] | None:
    import numpy as np

    from ..errors import LossCliError
    from ..plots import data, figure

    low, high = -4.0, 4.0
    if observed is not None and observed.histograms:  # regression: over the residuals the data has
        edges = next(iter(observed.histograms.values())).edges
        high = float(max(abs(edges[0]), abs(edges[-1])))
        low = -high
    elif any(s.loss.pred_kind == "probability" for s in ev.specs):  # checked to lie in [0, 1]
        low, high = 0.0, 1.0
    specs = ev.specs
    if ev.layout.task == "regression":
        sets = any(m.kind == "quantiles" for m in ev.layout.models)
        shaped = [s for s in ev.specs if s.loss.pred_shape != "point" or (sets and s.loss.on_quantiles)]
        if shaped:
            notes.append(f"no loss curve for {', '.join(s.label for s in shaped)}: it scores a predicted distribution")
        specs = [s for s in ev.specs if s not in shaped and _residual_only(s, np.linspace(low, high, 101))]
        others = ", ".join(s.label for s in ev.specs if s not in specs and s not in shaped)
        if others:
            notes.append(f"no loss curve for {others}: it depends on y_true, not only on the residual")
        if not specs:
            return None
    try:
        with np.errstate(all="ignore"):
            axis, curves = data.loss_curves(specs, low, high)
    except LossCliError:
        notes.append(f"no loss curves: they are drawn for regression and binary losses, not {ev.layout.task} ones")
        return None
    shown = [c for c in curves if np.isfinite(c.y).all()]
    undefined = sorted({c.label.split(",")[0] for c in curves if c not in shown})
    if undefined:
        notes.append(f"no loss curve for {', '.join(undefined)}: not finite over the range drawn")
    if not shown:
        return None
    if ev.layout.task == "regression":
        where = "the residual, over the range of this data's residuals"
    else:
        where = f"the prediction ({axis}), for a row with y = 1 and one with y = 0"
    text = f"The loss of one row against {where}; before any finisher (rmse draws its squared error)."
    fig = figure.lines_figure("loss curves", axis, "loss", shown, PICTURE_SIZE)
    return "Loss curves", fig, text


def _residual_only(spec: LossSpec, r: np.ndarray) -> bool:
    """Whether a regression loss is a function of the residual alone (mse, huber; not
    poisson or mape), so that one curve against the residual shows it whole."""
    import numpy as np

    with np.errstate(all="ignore"):
        at_zero = spec.loss.kernel(np.zeros_like(r), r, **spec.kernel_params)
        at_ten = spec.loss.kernel(np.full_like(r, 10.0), 10.0 + r, **spec.kernel_params)
    return bool(np.allclose(at_zero, at_ten, rtol=1e-9, atol=1e-12))


def _distribution_pictures(ev: Evaluation, observed: Distributions, notes: list[str]) -> list[tuple[str, Any, str]]:
    from ..plots import figure

    if observed.skipped:
        notes.append(observed.skipped)
    if observed.not_probabilities:
        names = ", ".join(sorted(observed.not_probabilities))
        notes.append(f"no calibration for {names}: predictions outside [0, 1] are not probabilities")
    out = []
    unweighted = f" Rows count 1 each, whatever their {ev.layout.weight}." if ev.layout.weight else ""
    infinite = [f"{m} ({h.infinite})" for m, h in observed.histograms.items() if h.infinite]
    if infinite:
        notes.append(f"residuals beyond float64 (inf), counted outside the bins: {', '.join(infinite)}")
    if observed.histograms:
        text = (
            "Rows per residual bin, per model; the bins span the first rows' 0.5% to 99.5% range, widened by 5%, "
            "and the rows outside are counted in the legend." + unweighted
        )
        out.append(("Residuals", figure.histograms_figure(observed.histograms, PICTURE_SIZE), text))
    if observed.calibrations:
        top = ev.layout.task == "multiclass"
        what = "the predicted class's probability against how often it is right" if top else "P(y = 1)"
        text = (
            f"Reliability: rows in 10 equal bins of {what}, for every model whose predictions all lie in [0, 1]; "
            "on the diagonal, the probabilities mean what they say." + unweighted
        )
        fig = figure.calibration_figure(observed.calibrations, PICTURE_SIZE, top_label=top)
        out.append(("Calibration", fig, text))
    return out


def _group_pictures(ev: Evaluation, notes: list[str]) -> list[tuple[str, Any, str]]:
    from ..plots import figure

    groups = [g for g in ev.groups if g is not None]
    if not groups:
        return []
    if len(groups) > MAX_GROUPS_DRAWN:
        notes.append(f"no per-group bars: {len(groups)} groups are too many to draw (-f csv lists every group)")
        return []
    labels = [" / ".join(group_text(ev, g)) for g in groups]
    out = []
    for spec in ev.specs:
        values = {m: [_finite(ev.value(m, spec.label, g)) for g in groups] for m in ev.models}
        title = f"{spec.label} per {', '.join(ev.stats.by)}"
        fig = figure.group_bars_figure(title, labels, values, PICTURE_SIZE)
        out.append((title, fig, f"{spec.label} of every model in every group shown in the tables."))
    return out


def _finite(value: float) -> float:
    # A bar cannot be infinite; the table says inf.
    return value if math.isfinite(value) else math.nan
