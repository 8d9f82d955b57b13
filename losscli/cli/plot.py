"""``losscli plot``: curves of losses, residual histograms, calibration, losses per group.

In the terminal by default (plotext); ``--output FIG.png|svg|pdf`` writes a
figure with matplotlib (``pip install 'losscli[plot]'``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from ..errors import LossCliError, OptionError, printable
from .eval import (
    DecimalOpt,
    DelimiterOpt,
    IdOpt,
    InputFormatOpt,
    NanOpt,
    NoColorOpt,
    PositiveOpt,
    PredOpt,
    TargetOpt,
    WeightOpt,
)
from .messages import fail, note, write_stdout

D = TypeVar("D", bound=dict[str, Any])

if TYPE_CHECKING:
    from ..read.plan import Plan
    from ..read.source import Source
    from ..request import Request

plot_app = typer.Typer(
    help="Look instead of read: loss curves, residuals, calibration, losses per group.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
)

Output = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write a figure (.png, .svg, .pdf) instead of drawing in the terminal."),
]
Size = Annotated[
    str | None, typer.Option("--size", help="Figure size in pixels, WIDTHxHEIGHT (with --output; default 800x500).")
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No notes on stderr (warnings and errors are still said), as in eval.")
]


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    try:
        w, h = int(width), int(height)
    except ValueError:
        raise OptionError(f"--size takes WIDTHxHEIGHT in pixels, such as 800x500, not {text!r}") from None
    if not sep or not (50 <= w <= 10_000 and 50 <= h <= 10_000):
        raise OptionError(f"--size takes WIDTHxHEIGHT between 50 and 10000 pixels, not {text!r}")
    return w, h


def _terminal() -> dict[str, Any]:
    on_terminal = sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if on_terminal else 80
    # TERM=dumb (Emacs shells, some CI logs) cannot show escape codes at all.
    plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
    forced = bool(os.environ.get("FORCE_COLOR"))  # colour where there is no terminal (a CI log)
    return {"width": min(width, 120), "height": 22, "color": (on_terminal or forced) and not plain}


def _show(
    output: str | None,
    size: str | None,
    no_color: bool,
    to_file: Callable[..., None],
    to_terminal: Callable[..., str],
    quiet: bool = False,
) -> None:
    """A figure at ``output`` (matplotlib, through the one writer), else the terminal drawing on stdout."""
    if size is not None and not output:
        raise OptionError("--size sets a figure file's size; the terminal drawing fits the terminal (add --output)")
    if output:
        to_file(output, size=_size(size or "800x500"))
        note(f"wrote {output}", quiet)
    else:
        options = _terminal() | ({"color": False} if no_color else {})
        write_stdout(to_terminal(**options))


def _check_output(output: str | None, inputs: tuple[str, ...]) -> None:
    """Before anything is read: the figure must not replace an input, and must be writable."""
    from ..report.writers import check_output

    if output:
        check_output(output, inputs)


def _shown(named: D) -> D:
    """Model names as a person may see them: no escape sequence reaches the terminal or a title."""
    return cast(D, {printable(name): value for name, value in named.items()})


def _plan(request: Request, output: str | None) -> tuple[Source, Plan]:
    """The input opened and its columns resolved, as ``eval`` does."""
    from ..read.inputs import open_inputs
    from ..read.plan import make_plan

    _check_output(output, request.inputs.files())
    source, _ = open_inputs(request)
    return source, make_plan(source, request)


@plot_app.command("curves")
def curves_command(
    losses: Annotated[
        list[str], typer.Argument(help="Losses to draw, with parameters: mse huber:delta=1 huber:delta=3.")
    ],
    value_range: Annotated[str, typer.Option("--range", help="x range LOW:HIGH (residual, or prediction).")] = "-4:4",
    grad: Annotated[
        bool, typer.Option("--grad", help="Draw the gradient d loss / d y_pred instead of the loss.")
    ] = False,
    output: Output = None,
    size: Size = None,
    no_color: NoColorOpt = False,
    quiet: Quiet = False,
) -> None:
    """Loss (or its gradient) against the residual (regression) or the prediction for y=1 and y=0 (binary)."""
    from ..plots import data, figure, terminal
    from ..spec import parse_specs

    try:
        _check_output(output, ())
        specs = parse_specs(losses)
        low, high = data.parse_range(value_range)
        axis, curves = data.loss_curves(specs, low, high, gradient=grad)
        what, ylabel = ("gradients", "d loss / d y_pred") if grad else ("loss curves", "loss")
        title = f"{what}: " + ", ".join(s.label for s in specs)
        _show(
            output,
            size,
            no_color,
            lambda path, size: figure.lines(path, title, axis, ylabel, curves, size),
            lambda **o: terminal.lines(title, axis, ylabel, curves, **o),
            quiet,
        )
    except LossCliError as exc:
        fail(exc)


@plot_app.command("residuals")
def residuals_command(
    file: Annotated[str, typer.Argument(help="Predictions file, or - for stdin.")],
    bins: Annotated[int, typer.Option("--bins", help="Histogram bins.", min=2, max=500)] = 40,
    target: TargetOpt = None,
    pred: PredOpt = None,
    id_column: IdOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    nan: NanOpt = "error",
    output: Output = None,
    size: Size = None,
    no_color: NoColorOpt = False,
    quiet: Quiet = False,
) -> None:
    """The distribution of y_pred - y_true per model, in one streaming pass."""
    from ..plots import collect, figure, terminal
    from ..request import Columns, Inputs, Request

    try:
        columns = Columns(target, tuple(pred or ()), None, id_column, nan=nan)
        request = Request(Inputs((file,), input_format=input_format, delimiter=delimiter, decimal=decimal), columns)
        source, plan = _plan(request, output)
        hists = _shown(collect.residual_histograms(source, plan, columns, bins=bins))
        for name, hist in hists.items():
            if hist.infinite:
                note(f"model {name}: {hist.infinite} residual(s) beyond float64 (inf), counted below or above the bins")
        _show(
            output,
            size,
            no_color,
            lambda path, size: figure.histograms(path, hists, size),
            lambda **o: terminal.histograms(hists, **o),
            quiet,
        )
    except LossCliError as exc:
        fail(exc)


@plot_app.command("calibration")
def calibration_command(
    file: Annotated[str, typer.Argument(help="Predictions file (binary probabilities or quantiles), or - for stdin.")],
    bins: Annotated[int, typer.Option("--bins", help="Probability bins of equal width.", min=2, max=100)] = 10,
    target: TargetOpt = None,
    pred: PredOpt = None,
    id_column: IdOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    nan: NanOpt = "error",
    positive: PositiveOpt = None,
    output: Output = None,
    size: Size = None,
    no_color: NoColorOpt = False,
    quiet: Quiet = False,
) -> None:
    """A reliability diagram: how often y=1 happens against the mean predicted probability; for
    quantile forecasts (MODEL.q10, ...), how often y falls at or below each quantile."""
    from ..plots import collect, figure, terminal
    from ..request import Columns, Inputs, Request

    try:
        columns = Columns(target, tuple(pred or ()), None, id_column, positive=positive, nan=nan)
        # No loss given: the data decides the task (binary labels, or quantile columns).
        request = Request(Inputs((file,), input_format=input_format, delimiter=delimiter, decimal=decimal), columns)
        source, plan = _plan(request, output)
        tables = _shown(collect.calibration_tables(source, plan, columns, bins=bins))
        event = None if positive is None else printable(positive)  # what y = 1 stands for, in the titles
        _show(
            output,
            size,
            no_color,
            lambda path, size: figure.calibration(path, tables, size, event),
            lambda **o: terminal.calibration(tables, positive=event, **o),
            quiet,
        )
    except LossCliError as exc:
        fail(exc)


@plot_app.command("losses")
def losses_command(
    file: Annotated[str, typer.Argument(help="Predictions file, or - for stdin.")],
    by: Annotated[list[str], typer.Option("--by", help="Group column(s); bars per group and model.")],
    loss: Annotated[
        str | None,
        typer.Option("--loss", "-l", help="The loss to compare, e.g. huber:delta=2 (default: the task's first)."),
    ] = None,
    target: TargetOpt = None,
    pred: PredOpt = None,
    weight: WeightOpt = None,
    id_column: IdOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    nan: NanOpt = "error",
    positive: PositiveOpt = None,
    output: Output = None,
    size: Size = None,
    no_color: NoColorOpt = False,
    quiet: Quiet = False,
) -> None:
    """The loss of every model in every group, as bars."""
    from ..engines import evaluate_request
    from ..plots import figure, terminal
    from ..report.summary import group_text
    from ..request import Columns, Inputs, Request, Statistics, losses_from

    try:
        _check_output(output, (file,))
        ev = evaluate_request(
            Request(
                Inputs((file,), input_format=input_format, delimiter=delimiter, decimal=decimal),
                Columns(target, tuple(pred or ()), weight, id_column, positive=positive, nan=nan),
                losses_from([loss] if loss else []),
                Statistics(by=tuple(by)),
            )
        )
        if not loss:
            note(f"loss: {ev.specs[0].label} (the first default for {ev.layout.task}; choose with --loss)", quiet)
        groups = [g for g in ev.groups if g is not None]
        labels = [printable(" / ".join(group_text(ev, g))) for g in groups]
        label = ev.specs[0].label
        values = _shown({m: [ev.value(m, label, g) for g in groups] for m in ev.models})
        title = printable(f"{label} per {', '.join(by)}")
        _show(
            output,
            size,
            no_color,
            lambda path, size: figure.group_bars(path, title, labels, values, size),
            lambda **o: terminal.group_bars(title, labels, values, **o),
            quiet,
        )
    except LossCliError as exc:
        fail(exc)
