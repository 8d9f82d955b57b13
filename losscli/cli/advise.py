"""``losscli advise``: which loss to report for these predictions, and why the models disagree.

The input options are eval's own (the same aliases, the same Request); advise
adds --top and --rules, and prints its report instead of a table of losses.
"""

from __future__ import annotations

import shutil
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from .eval import (
    ClassesOpt,
    ClassSepOpt,
    DecimalOpt,
    DelimiterOpt,
    DigitsOpt,
    IdOpt,
    InputFormatOpt,
    JoinOpt,
    ModelColOpt,
    NameOpt,
    NanOpt,
    NoColorOpt,
    OutputOpt,
    PositiveOpt,
    PredOpt,
    QuietOpt,
    TargetOpt,
    TruthOpt,
    WeightOpt,
    color,
    split_list,
    stdout_or,
)
from .messages import note, stdout_is_open, user_errors, write_stdout

if TYPE_CHECKING:
    from ..request import Request

ADVISE_FORMATS = ("table", "json", "jsonl", "markdown")

AdviseFilesArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Predictions, as for eval: a file (CSV, TSV, Parquet, JSON Lines, Arrow/Feather, compressed or not), "
        "a Parquet directory or glob, or - for stdin; several files: one model each.",
        show_default=False,
    ),
]
TopOpt = Annotated[int, typer.Option("--top", help="Worst rows shown per model.", min=1, max=1000)]
AdviseBaselineOpt = Annotated[
    str | None,
    typer.Option("--baseline", help="Say whether each model's difference to this one is within noise."),
]
RulesOpt = Annotated[bool, typer.Option("--rules", help="Print the rules behind the recommendation and exit.")]
AdviseFmtOpt = Annotated[
    str,
    typer.Option(
        "--format", "-f", help="table (the report, the default), json, jsonl or markdown (with --output: its suffix)."
    ),
]


def advise_command(
    files: AdviseFilesArg = None,
    target: TargetOpt = None,
    pred: PredOpt = None,
    weight: WeightOpt = None,
    id_column: IdOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    class_sep: ClassSepOpt = ".",
    truth: TruthOpt = None,
    join: JoinOpt = None,
    model_col: ModelColOpt = None,
    name: NameOpt = None,
    nan: NanOpt = "error",
    positive: PositiveOpt = None,
    classes: ClassesOpt = None,
    baseline: AdviseBaselineOpt = None,
    top: TopOpt = 5,
    fmt: AdviseFmtOpt = "auto",
    output: OutputOpt = None,
    digits: DigitsOpt = 4,
    quiet: QuietOpt = False,
    no_color: NoColorOpt = False,
    rules: RulesOpt = False,
) -> None:
    """Say which loss to report for FILES, and why the models rank differently under different losses."""
    if rules:
        from ..report.advice import explain_rules

        write_stdout(explain_rules())
        return
    from ..request import Columns, Inputs, Output, Request, Statistics  # the NumPy core: not for --help

    with user_errors(", ".join(files or [])):
        request = Request(
            Inputs(
                tuple(files or ()), None, input_format, truth, join, model_col, tuple(name or ()), delimiter, decimal
            ),
            Columns(target, tuple(pred or ()), weight, id_column, class_sep, positive, split_list(classes), nan),
            (),
            Statistics(baseline=baseline),
            output=Output(fmt, stdout_or(output), digits=digits, quiet=quiet, color=color(no_color), top=top),
        )
        run_advise(request)


def run_advise(request: Request) -> None:
    """Diagnose, recommend, render, write."""
    from ..engines.advise import advise_request
    from ..errors import OptionError
    from ..report.advise import render_advice, report_of
    from ..report.writers import check_output
    from .eval import _emit
    from .progress import progress_bar

    out = request.output
    fmt = out.format if out.format != "auto" else out.suffix_format() or "table"
    if fmt not in ADVISE_FORMATS:
        raise OptionError(f"advise writes {', '.join(ADVISE_FORMATS)}, not {fmt}; choose one with --format")
    if out.path is not None:
        check_output(out.path, request.inputs.files(), request.flag("path"))
    else:
        stdout_is_open()
    advice = advise_request(request, progress=lambda source: progress_bar(source, request))
    report = report_of(advice, request.columns.positive)
    on_terminal = out.path is None and sys.stdout.isatty()
    text = render_advice(report, fmt, out.digits, shutil.get_terminal_size().columns if on_terminal else 100)
    for message in advice.notes:
        note(message, out.quiet)
    _emit(text, out.path, out.quiet)
