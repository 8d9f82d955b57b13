"""``losscli eval``: the options, declared once; one Request built from them; the library called.

No loss math and no column logic lives here. Heavy modules (pyarrow, Rich)
are imported inside the command so ``losscli --help`` stays fast.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ..request import Columns, Engine, Gates, Inputs, Output, Request, Statistics, losses_from, parse_threshold
from .messages import note, user_errors, write_stdout

if TYPE_CHECKING:
    from ..engines.evaluation import Evaluation
    from ..engines.local import ObserverFactory

FilesArg = Annotated[
    list[str],
    typer.Argument(
        help="Predictions: a file (CSV, TSV, .gz/.zst/.bz2, Parquet, JSON Lines, JSON, Arrow/Feather, .npz, .npy), "
        "a Parquet directory or glob, or - for stdin. Several files: one model each, named after the file.",
    ),
]
LossOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--loss",
        "-l",
        help="Loss to compute, with parameters as huber:delta=2. Repeat, or give a comma list. "
        "Default: a set chosen from the task.",
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option("--target", "-t", help="Target column (default: y_true, y_test, y, target, label, actual, truth)."),
]
PredOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--pred", "-p", help="Prediction column or glob pattern; repeatable (default: every other numeric column)."
    ),
]
WeightOpt = Annotated[str | None, typer.Option("--weight", "-w", help="Sample-weight column.")]
IdOpt = Annotated[
    str | None, typer.Option("--id", help="Row id column, excluded from models (default: id, row_id or index).")
]
InputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        help="csv, tsv, parquet, jsonl, json, arrow or npz (default: from the suffix; stdin is sniffed).",
    ),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option("--delimiter", help="CSV delimiter, one character ('\\t' for tab; default: sniffed, else ,)."),
]
DecimalOpt = Annotated[str | None, typer.Option("--decimal", help="Decimal mark of CSV numbers, e.g. , (default: .).")]
NanOpt = Annotated[
    str, typer.Option("--nan", help="Missing values: error (default), or drop the rows, per model, with a note.")
]
PositiveOpt = Annotated[
    str | None,
    typer.Option("--positive", help="Binary: the target value of the positive class (labels other than 0/1)."),
]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="No colour (NO_COLOR is respected too).")]


ClassSepOpt = Annotated[str, typer.Option("--class-sep", help="Separator in MODEL.CLASS multiclass column names.")]
TruthOpt = Annotated[
    str | None, typer.Option("--truth", help="Targets in a separate file, joined to the predictions on --id.")
]
JoinOpt = Annotated[
    str | None,
    typer.Option("--join", help="With --truth: strict (ids must match, the default) or inner (the shared ids)."),
]
ModelColOpt = Annotated[
    str | None, typer.Option("--model-col", help="Long layout: the column naming the model of each row.")
]
NameOpt = Annotated[
    list[str] | None, typer.Option("--name", help="With several files: model names, one per file, in order.")
]
ClassesOpt = Annotated[
    str | None,
    typer.Option("--classes", help="Multiclass: class names in column order, comma-separated (a,b,c)."),
]
ByOpt = Annotated[list[str] | None, typer.Option("--by", help="Also report per group of this column; repeatable.")]
MinGroupNOpt = Annotated[
    int | None, typer.Option("--min-group-n", help="With --by: hide groups with fewer rows than this.", min=0)
]
ReductionOpt = Annotated[
    str, typer.Option("--reduction", help="mean: sum(w*l)/sum(w); sum: sum(w*l) (torch reduction='sum').")
]
CiOpt = Annotated[
    float | None,
    typer.Option("--ci", help="Add a bootstrap confidence interval at this level, e.g. 0.95.", min=0.5, max=0.9999),
]
BootstrapOpt = Annotated[
    int | None,
    typer.Option("--bootstrap", help="With --ci: bootstrap replicates (default 1000).", min=20, max=100_000),
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", help="With --ci: seed of the bootstrap (default 0); same seed, same intervals."),
]
BaselineOpt = Annotated[
    str | None,
    typer.Option("--baseline", help="Compare every model with this one: difference, paired test, verdict."),
]
SortOpt = Annotated[str | None, typer.Option("--sort", help="Rank models by this loss (default: the first one).")]
FailAboveOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-above",
        help="Exit 1 if a loss exceeds a value: LOSS=VALUE, or MODEL:LOSS=VALUE for one model. Repeatable.",
    ),
]
FailIfWorseOpt = Annotated[
    bool, typer.Option("--fail-if-worse", help="Exit 1 if a model is significantly worse than --baseline.")
]
FmtOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="auto, table, csv, tsv, json, jsonl, markdown or html (auto: table on a terminal, csv in a pipe; "
        "with --output, from its suffix).",
    ),
]
OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout; - is stdout."),
]
PerRowOpt = Annotated[
    bool,
    typer.Option(
        "--per-row", help="Stream every row's loss per model instead of the summary (csv, tsv, jsonl, parquet)."
    ),
]
WithMetaOpt = Annotated[
    bool, typer.Option("--meta", help="With --format json: wrap results with a meta object (signature, params).")
]
DigitsOpt = Annotated[
    int, typer.Option("--digits", help="Significant digits in the table and markdown.", min=1, max=17)
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also print the reproducibility signature on stderr.")
]
EngineOpt = Annotated[str, typer.Option("--engine", help="local (default), or dask for a partitioned Parquet dataset.")]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="With --engine dask: a Dask scheduler address (default: a local cluster)."),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", help="With --engine dask and no --scheduler: local worker processes (default 2).", min=1),
]


def eval_command(
    files: FilesArg,
    loss: LossOpt = None,
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
    by: ByOpt = None,
    min_group_n: MinGroupNOpt = None,
    reduction: ReductionOpt = "mean",
    ci: CiOpt = None,
    bootstrap: BootstrapOpt = None,
    seed: SeedOpt = None,
    baseline: BaselineOpt = None,
    sort: SortOpt = None,
    fail_above: FailAboveOpt = None,
    fail_if_worse: FailIfWorseOpt = False,
    fmt: FmtOpt = "auto",
    output: OutputOpt = None,
    per_row: PerRowOpt = False,
    with_meta: WithMetaOpt = False,
    digits: DigitsOpt = 4,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    no_color: NoColorOpt = False,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Evaluate every model in FILES under each loss and print the comparison."""
    with user_errors(", ".join(files)):
        request = Request(
            Inputs(tuple(files), None, input_format, truth, join, model_col, tuple(name or ()), delimiter, decimal),
            Columns(target, tuple(pred or ()), weight, id_column, class_sep, positive, split_list(classes), nan),
            losses_from(loss or ()),
            Statistics(ci, bootstrap, seed, baseline, tuple(by or ()), min_group_n, reduction),
            Gates(tuple(parse_threshold(t) for t in fail_above or ()), fail_if_worse),
            Output(fmt, stdout_or(output), per_row, with_meta, digits, sort, quiet, verbose, color(no_color)),
            Engine(engine, scheduler, workers),
        )
        run_eval(request)


def stdout_or(output: str | None) -> str | None:
    """``-o -`` is stdout, as for every Unix tool."""
    return None if output == "-" else output


def split_list(text: str | None) -> tuple[str, ...]:
    """``a,b,c`` -> ('a', 'b', 'c')."""
    return tuple(c.strip() for c in text.split(",")) if text else ()


def color(no_color: bool) -> bool:
    return not (no_color or bool(os.environ.get("NO_COLOR")))


def run_eval(request: Request) -> None:
    """Evaluate, render, write, and exit 1 when a gate is breached."""
    from ..engines import evaluate_request
    from ..report.gates import breaches
    from ..report.summary import signature
    from ..report.writers import refuse_inputs

    out = request.output
    if out.path is not None:
        refuse_inputs(out.path, list(request.inputs.files()))
    if out.per_row:
        evaluation = _per_row(request)
        text = ""
    else:
        from .progress import progress_bar

        evaluation = evaluate_request(
            request, progress=lambda source: progress_bar(source, request), observer=_html_observer(request)
        )
        text = _render(evaluation)
    failures = breaches(evaluation, request.gates.fail_above, request.gates.fail_if_worse)
    for message in evaluation.notes:
        note(message, out.quiet)
    if out.verbose:
        note(f"signature: {signature(evaluation)}")
    if not out.per_row:
        _emit(text, out.path, out.quiet)
    if failures:
        for failure in failures:
            sys.stderr.write(f"losscli: FAIL {failure}\n")
        raise typer.Exit(1)


def _per_row(request: Request) -> Evaluation:
    from ..engines import evaluate_request
    from ..report.writers import PerRowWriter

    out = request.output
    with PerRowWriter(out.chosen_format(on_terminal=False), out.path) as sink:
        return evaluate_request(request, per_row=sink)


def _render(evaluation: Evaluation) -> str:
    from ..report.render import render

    out = evaluation.request.output
    on_terminal = out.path is None and sys.stdout.isatty()
    if out.chosen_format(on_terminal) == "html":
        return _html_page(evaluation)
    return render(
        evaluation,
        out.chosen_format(on_terminal),
        digits=out.digits,
        no_color=not out.color or not on_terminal,
        width=shutil.get_terminal_size().columns if on_terminal else 100,
        sort=out.sort,
        with_meta=out.meta,
    )


# --- the HTML report (issue 20): its pictures are filled in the run's own pass -----------------


def _html_observer(request: Request) -> ObserverFactory | None:
    if request.output.chosen_format(on_terminal=False) != "html":
        return None
    from ..report.html import observer

    return observer


def _html_page(evaluation: Evaluation) -> str:
    """The page; its notes on what it could not draw join the run's, for stderr."""
    from pathlib import Path

    from ..report.html import command_line, render_eval

    # The command only when losscli runs as itself (not, say, inside a test runner).
    command = command_line(sys.argv) if Path(sys.argv[0]).name in ("losscli", "__main__.py") else None
    text, more = render_eval(evaluation, command)
    evaluation.notes.extend(more)
    return text


# --- end of the HTML report ------------------------------------------------------------------


def _emit(text: str, output: str | None, quiet: bool) -> None:
    """The rendered results to --output (atomically) or stdout."""
    if output is None:
        write_stdout(text)
        return
    from ..errors import OptionError
    from ..report.writers import write_text_atomically
    from .messages import fail

    try:
        write_text_atomically(output, text)
    except OSError as exc:
        fail(OptionError(f"--output {output}: cannot be written ({exc.strerror or exc})"))
    note(f"wrote {output}", quiet)
