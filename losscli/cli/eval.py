"""``losscli eval``: the options, declared once; one Request built from them; the library called.

No loss math and no column logic lives here. Heavy modules (pyarrow, Rich)
are imported inside the command so ``losscli --help`` stays fast. Options are
grouped in help panels; a config file (cli/config.py) and LOSSCLI_* variables
give defaults that the command line overrides.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .complete import (
    complete_engine,
    complete_format,
    complete_join,
    complete_loss,
    complete_nan,
    complete_reduction,
)
from .messages import note, reader_gone, say, stdout_is_open, user_errors, write_stdout

if TYPE_CHECKING:
    from ..engines.evaluation import Evaluation
    from ..engines.local import ObserverFactory
    from ..request import Request

INPUT, COLUMNS, LOSSES, STATISTICS, GATES, OUTPUT, ENGINE = (
    "Input",
    "Columns",
    "Losses",
    "Statistics",
    "Gates (exit 1)",
    "Output",
    "Engine",
)

FilesArg = Annotated[
    list[str],
    typer.Argument(
        help="Predictions: a file (CSV, TSV, .gz/.zst/.bz2, Parquet, JSON Lines, JSON, Arrow/Feather, .npz, .npy), "
        "a Parquet directory or glob, or - for stdin (its format is sniffed). Several files: one model each, named "
        "after the file.",
        show_default=False,
    ),
]
LossOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--loss",
        "-l",
        help="Loss to compute, with parameters as huber:delta=2. Repeat, or give a comma list (-l mse,mae). "
        "Default: a set chosen from the task.",
        rich_help_panel=LOSSES,
        autocompletion=complete_loss,
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        "-t",
        help="Target column (default: y_true, y_test, y, target, label, actual or truth).",
        rich_help_panel=COLUMNS,
    ),
]
PredOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--pred",
        "-p",
        help="Prediction column, glob pattern or comma list; repeatable (default: every other numeric column).",
        rich_help_panel=COLUMNS,
    ),
]
WeightOpt = Annotated[str | None, typer.Option("--weight", "-w", help="Sample-weight column.", rich_help_panel=COLUMNS)]
IdOpt = Annotated[
    str | None,
    typer.Option(
        "--id",
        help="Row id column, left out of the models (default: a column named id, row_id or index).",
        rich_help_panel=COLUMNS,
    ),
]
InputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        help="csv, tsv, parquet, jsonl, json, arrow or npz, when the suffix does not say (default: from the "
        "suffix; stdin is sniffed).",
        rich_help_panel=INPUT,
    ),
]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="CSV delimiter, one character ('\\t' for tab; default: sniffed, else ,).",
        rich_help_panel=INPUT,
    ),
]
DecimalOpt = Annotated[
    str | None,
    typer.Option("--decimal", help="Decimal mark of CSV numbers, e.g. , (default: .).", rich_help_panel=INPUT),
]
NanOpt = Annotated[
    str,
    typer.Option(
        "--nan",
        help="Missing values: error (the default); drop the rows, per model, with a note; or drop-any: "
        "evaluate every model on the rows where no model misses a value.",
        rich_help_panel=COLUMNS,
        autocompletion=complete_nan,
    ),
]
PositiveOpt = Annotated[
    str | None,
    typer.Option(
        "--positive",
        help="Binary: the target value of the positive class (labels other than 0/1).",
        rich_help_panel=COLUMNS,
    ),
]
NoColorOpt = Annotated[
    bool, typer.Option("--no-color", help="No colour (NO_COLOR is respected too).", rich_help_panel=OUTPUT)
]
ClassSepOpt = Annotated[
    str,
    typer.Option("--class-sep", help="Separator in MODEL.CLASS multiclass column names.", rich_help_panel=COLUMNS),
]
TruthOpt = Annotated[
    str | None,
    typer.Option(
        "--truth", help="Targets in a separate file, joined to the predictions on --id.", rich_help_panel=INPUT
    ),
]
JoinOpt = Annotated[
    str | None,
    typer.Option(
        "--join",
        help="With --truth: strict (ids must match, the default) or inner (the shared ids).",
        rich_help_panel=INPUT,
        autocompletion=complete_join,
    ),
]
ModelColOpt = Annotated[
    str | None,
    typer.Option("--model-col", help="Long layout: the column naming the model of each row.", rich_help_panel=INPUT),
]
NameOpt = Annotated[
    list[str] | None,
    typer.Option("--name", help="With several files: model names, one per file, in order.", rich_help_panel=INPUT),
]
ClassesOpt = Annotated[
    str | None,
    typer.Option(
        "--classes", help="Multiclass: class names in column order, comma-separated (a,b,c).", rich_help_panel=COLUMNS
    ),
]
ByOpt = Annotated[
    list[str] | None,
    typer.Option("--by", help="Also report per group of this column; repeatable.", rich_help_panel=STATISTICS),
]
MinGroupNOpt = Annotated[
    int | None,
    typer.Option(
        "--min-group-n", help="With --by: hide groups with fewer rows than this.", min=0, rich_help_panel=STATISTICS
    ),
]
ReductionOpt = Annotated[
    str,
    typer.Option(
        "--reduction",
        help="mean: sum(w*l)/sum(w); sum: sum(w*l) (torch reduction='sum').",
        rich_help_panel=STATISTICS,
        autocompletion=complete_reduction,
    ),
]
CiOpt = Annotated[
    float | None,
    typer.Option(
        "--ci",
        help="Add a bootstrap confidence interval at this level: 0.95 (95 is read as 95%).",
        rich_help_panel=STATISTICS,
    ),
]
BootstrapOpt = Annotated[
    int | None,
    typer.Option(
        "--bootstrap",
        help="With --ci: bootstrap replicates, 20 to 100000 (default 1000).",
        rich_help_panel=STATISTICS,
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed",
        help="With --ci: seed of the bootstrap (default 0); same seed, same intervals.",
        rich_help_panel=STATISTICS,
    ),
]
CiMethodOpt = Annotated[
    str | None,
    typer.Option(
        "--ci-method",
        help="With --ci: bootstrap (default: percentile intervals, right for skewed or heavy-tailed losses; "
        "costs about rows x B) or t (mean +- t * standard error from running sums: free, right with "
        "hundreds of rows and no extreme outliers).",
        rich_help_panel=STATISTICS,
    ),
]
BaselineOpt = Annotated[
    str | None,
    typer.Option(
        "--baseline",
        help="Compare every model with this one: difference, paired test, verdict.",
        rich_help_panel=STATISTICS,
    ),
]
SortOpt = Annotated[
    str | None,
    typer.Option("--sort", help="Rank models by this loss (default: the first one).", rich_help_panel=OUTPUT),
]
FailAboveOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-above",
        help="Exit 1 if a loss exceeds a value: LOSS=VALUE, or MODEL:LOSS=VALUE for one model. Repeatable.",
        rich_help_panel=GATES,
    ),
]
FailIfWorseOpt = Annotated[
    bool,
    typer.Option(
        "--fail-if-worse", help="Exit 1 if a model is significantly worse than --baseline.", rich_help_panel=GATES
    ),
]
FailIfWorseByOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-if-worse-by",
        help="Exit 1 if a model is worse than --baseline by more than a margin: LOSS=0.02 (absolute) or "
        "LOSS=5% (of the baseline's value). Repeatable.",
        rich_help_panel=GATES,
    ),
]
FmtOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="auto, table, csv, tsv, json, jsonl, markdown or html (auto: table on a terminal, csv in a pipe; "
        "with --output, from its suffix).",
        envvar="LOSSCLI_FORMAT",
        rich_help_panel=OUTPUT,
        autocompletion=complete_format,
    ),
]
OutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output", "-o", help="Write to this file (atomically) instead of stdout; - is stdout.", rich_help_panel=OUTPUT
    ),
]
PerRowOpt = Annotated[
    bool,
    typer.Option(
        "--per-row",
        help="Stream every row's loss per model instead of the summary (csv, tsv, jsonl, parquet).",
        rich_help_panel=OUTPUT,
    ),
]
WithMetaOpt = Annotated[
    bool,
    typer.Option(
        "--meta",
        help="With --format json: wrap results with a meta object (signature, params, gates).",
        rich_help_panel=OUTPUT,
    ),
]
DigitsOpt = Annotated[
    int,
    typer.Option(
        "--digits",
        help="Significant digits in the table and markdown, 1 to 17.",
        min=1,
        max=17,
        envvar="LOSSCLI_DIGITS",
        rich_help_panel=OUTPUT,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="No notes on stderr (warnings and errors are still said).", rich_help_panel=OUTPUT
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Also print the config file used and the reproducibility signature on stderr.",
        rich_help_panel=OUTPUT,
    ),
]
NoConfigOpt = Annotated[
    bool,
    typer.Option(
        "--no-config",
        help="Ignore \\[tool.losscli] in pyproject.toml and losscli.toml.",
        envvar="LOSSCLI_NO_CONFIG",
        rich_help_panel=OUTPUT,
    ),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (the default), or dask for a partitioned Parquet dataset.",
        envvar="LOSSCLI_ENGINE",
        rich_help_panel=ENGINE,
        autocompletion=complete_engine,
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="With --engine dask: a Dask scheduler address (default: a local cluster).",
        rich_help_panel=ENGINE,
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="With --engine dask and no --scheduler: local worker processes (default 2).",
        min=1,
        rich_help_panel=ENGINE,
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="With --engine dask: seconds to wait for the scheduler to answer, and for the next task to finish "
        "(default 60).",
        rich_help_panel=ENGINE,
    ),
]

ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads",
        help="Threads for the loss kernels and the bootstrap (default: every core); the numbers are "
        "identical for any count.",
        min=1,
        rich_help_panel=ENGINE,
    ),
]

EXAMPLES = """Evaluate every model in FILES under each loss and print the comparison.

[bold]Examples[/bold]

  [cyan]losscli eval preds.csv[/cyan]                      the task's default losses
  [cyan]losscli eval preds.csv -l mse,huber:delta=2[/cyan]  chosen losses
  [cyan]losscli eval preds.csv --baseline prod --ci 0.95[/cyan]
      intervals, and every model against prod (paired test, verdict)
  [cyan]losscli eval preds.csv --baseline prod --fail-if-worse-by mae=5%[/cyan]
      a CI gate: exit 1 when a model's MAE is over 105% of prod's

Defaults can be set in \\[tool.losscli] of pyproject.toml, or in losscli.toml,
with the long option names as keys; the command line overrides them.
"""


def eval_command(
    ctx: typer.Context,
    files: FilesArg,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    truth: TruthOpt = None,
    join: JoinOpt = None,
    model_col: ModelColOpt = None,
    name: NameOpt = None,
    target: TargetOpt = None,
    pred: PredOpt = None,
    weight: WeightOpt = None,
    id_column: IdOpt = None,
    class_sep: ClassSepOpt = ".",
    nan: NanOpt = "error",
    positive: PositiveOpt = None,
    classes: ClassesOpt = None,
    loss: LossOpt = None,
    by: ByOpt = None,
    min_group_n: MinGroupNOpt = None,
    reduction: ReductionOpt = "mean",
    ci: CiOpt = None,
    bootstrap: BootstrapOpt = None,
    seed: SeedOpt = None,
    ci_method: CiMethodOpt = None,
    baseline: BaselineOpt = None,
    fail_above: FailAboveOpt = None,
    fail_if_worse: FailIfWorseOpt = False,
    fail_if_worse_by: FailIfWorseByOpt = None,
    fmt: FmtOpt = "auto",
    output: OutputOpt = None,
    per_row: PerRowOpt = False,
    with_meta: WithMetaOpt = False,
    sort: SortOpt = None,
    digits: DigitsOpt = 4,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    no_color: NoColorOpt = False,
    no_config: NoConfigOpt = False,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    threads: ThreadsOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    from ..errors import LossCliError
    from .config import blame

    set_here: dict[str, str] = {}
    with user_errors(", ".join([*files, *([truth] if truth else [])])):
        request = build_request(ctx, set_here)
        try:
            run_eval(request)
        except LossCliError as exc:  # a gate or --baseline from the file is refused while running
            raise blame(exc, set_here) from None


eval_command.__doc__ = EXAMPLES


def build_request(ctx: typer.Context, set_here: dict[str, str]) -> Request:
    """The command line, over the config file's defaults, as one checked Request; ``set_here``
    receives the flags the config file set (for messages)."""
    from ..errors import OptionError
    from .config import apply_config, blame, find_config

    config = None if ctx.params["no_config"] else find_config(Path.cwd())
    if config is not None:
        set_here.update(apply_config(ctx, config))
        if ctx.params["verbose"]:
            note(f"config: {config.where}")
    v = ctx.params
    try:
        _refuse_losses_as_files(v["files"], v["loss"])
        request = request_from(v)
        _digits_typed_for_a_table(ctx, request)
        return request
    except OptionError as exc:
        raise blame(exc, set_here) from None


def _digits_typed_for_a_table(ctx: typer.Context, request: Request) -> None:
    """--digits typed on the command line with a machine format would be ignored (those carry full
    precision); from a config file it is a default for every format, so it is not refused there."""
    from typer._click.core import ParameterSource

    from ..errors import OptionError

    typed = ctx.get_parameter_source("digits") in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    out = request.output
    machine = out.per_row or out.chosen_format(on_terminal=True) in ("csv", "tsv", "json", "jsonl")
    if typed and machine:
        raise OptionError("--digits rounds the table, Markdown and HTML; CSV, JSON and --per-row keep full precision")


def request_from(v: dict[str, Any]) -> Request:
    """The Request, positionally from the options' values (their names are the parameters above)."""
    # Imported here, not above: the request pulls in the NumPy core, which --help does not need.
    from ..request import (
        Columns,
        Engine,
        Gates,
        Inputs,
        Output,
        Request,
        Statistics,
        losses_from,
        parse_margin,
        parse_threshold,
    )

    inputs = Inputs(
        tuple(v["files"]), None, v["input_format"], v["truth"], v["join"], v["model_col"], tuple(v["name"] or ()),
        v["delimiter"], v["decimal"],
    )  # fmt: skip
    columns = Columns(
        v["target"], tuple(v["pred"] or ()), v["weight"], v["id_column"], v["class_sep"], v["positive"],
        split_list(v["classes"]), v["nan"],
    )  # fmt: skip
    stats = Statistics(
        percent(v["ci"], v["quiet"]), v["bootstrap"], v["seed"], v["baseline"], tuple(v["by"] or ()),
        v["min_group_n"], v["reduction"], v["ci_method"],
    )  # fmt: skip
    gates = Gates(
        tuple(parse_threshold(t) for t in v["fail_above"] or ()),
        v["fail_if_worse"],
        tuple(parse_margin(t) for t in v["fail_if_worse_by"] or ()),
    )
    output = Output(
        v["fmt"], stdout_or(v["output"]), v["per_row"], v["with_meta"], v["digits"], v["sort"], v["quiet"],
        v["verbose"], color(v["no_color"]),
    )  # fmt: skip
    engine = Engine(v["engine"], v["scheduler"], v["workers"], threads=v["threads"], timeout=v["timeout"])
    losses = losses_from(v["loss"] or ())
    _note_merged_losses(v["loss"] or (), losses, v["quiet"])
    return Request(inputs, columns, losses, stats, gates, output, engine)


def _note_merged_losses(typed: list[str] | tuple[str, ...], losses: tuple[Any, ...], quiet: bool) -> None:
    """``-l huber,huber:delta=1`` is one loss written twice: computed once, and said so."""
    from ..spec import split_loss_args

    written = split_loss_args(typed)
    if len(written) > len(losses):
        kept = ", ".join(spec.label for spec in losses)
        note(f"-l: {len(written)} losses written, {len(losses)} distinct ({kept}); each is computed once", quiet)


def percent(ci: float | None, quiet: bool) -> float | None:
    """``--ci 95`` means 95%: read as 0.95, with a note. Below 50 it is no level in
    either reading: left as typed, for the request to refuse."""
    from ..request import percent_level

    level = percent_level(ci)
    if ci is not None and level is not None:
        note(f"--ci {ci:g} read as {ci:g}% ({level:g})", quiet)
        return level
    return ci


def _is_loss(text: str) -> bool:
    from ..errors import LossCliError
    from ..spec import parse_spec

    try:
        parse_spec(text)
    except LossCliError:
        return False
    return True


def _refuse_losses_as_files(files: list[str], given: list[str] | None) -> None:
    """``-l mse mae`` reads mae as an input file: when no such file exists and it names a loss, say so."""
    from ..errors import OptionError

    strays = [f for f in files if f != "-" and not os.path.exists(f) and _is_loss(f)]
    if strays:
        together = ",".join([*(given or ()), *strays])
        raise OptionError(
            f"{', '.join(strays)} is a loss, not an input file (there is no such file); "
            f"-l takes one value, so give several as -l {together}"
        )


def stdout_or(output: str | None) -> str | None:
    """``-o -`` is stdout, as for every Unix tool."""
    return None if output == "-" else output


def split_list(text: str | None) -> tuple[str, ...]:
    """``a,b,c`` -> ('a', 'b', 'c')."""
    return tuple(c.strip() for c in text.split(",")) if text else ()


def color(no_color: bool) -> bool:
    return not (no_color or bool(os.environ.get("NO_COLOR")))


def run_eval(request: Request) -> None:
    """Evaluate, render, write, and exit 1 when a gate is breached.

    No warning of NumPy, pandas or pyarrow reaches the user as such: losscli says what it
    knows in its own words; anything left is one ``losscli: warning:`` line, even with -q."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _run_eval(request)
        finally:
            for said in dict.fromkeys(f"{w.category.__name__}: {w.message}".splitlines()[0] for w in caught):
                note(f"warning: {said}")


def _run_eval(request: Request) -> None:
    from ..engines import evaluate_request
    from ..report.gates import breaches
    from ..report.summary import signature
    from ..report.writers import check_output

    out = request.output
    if out.path is not None:
        check_output(out.path, request.inputs.files(), request.flag("path"))
    else:
        stdout_is_open()
    if "-" in request.inputs.paths and sys.stdin.isatty():
        # Not a hang: a terminal on stdin waits for the user to type or paste the data.
        note("reading predictions from stdin, which is a terminal: type or paste the data and end with Ctrl-D "
             "(Ctrl-C to stop; losscli eval -h for help)")  # fmt: skip
    if out.per_row:
        evaluation = _per_row(request)
        text: Iterable[str] = ()
    else:
        from .progress import progress_bar

        evaluation = evaluate_request(
            request, progress=lambda source: progress_bar(source, request), observer=_html_observer(request)
        )
        evaluation.notes += _ambiguous(evaluation)  # before the HTML page, which lists every note
        text = _render(evaluation)
    failures = breaches(evaluation)
    for message in evaluation.notes:
        note(message, out.quiet and not message.startswith("warning: "))  # -q keeps warnings
    if out.verbose:
        note(f"signature: {signature(evaluation)}")
    if not out.per_row:
        _emit(text, out.path, out.quiet)
        _step_summary(evaluation, failures)
    if failures:
        _fail_gates(failures)


def _fail_gates(failures: list[str]) -> None:
    """FAIL lines on stderr (and GitHub annotations on Actions), then exit 1."""
    from ..report.ci import error_lines, on_github

    for failure in failures:
        say(f"FAIL {failure}")
    if on_github(os.environ):
        sys.stderr.write(error_lines(failures))
    raise typer.Exit(1)


def _step_summary(evaluation: Evaluation, failures: list[str]) -> None:
    """With GITHUB_STEP_SUMMARY set, the Markdown table (and failed gates) appended to that file."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from ..report.ci import step_summary
    from ..report.render import render
    from ..report.writers import append_text

    out = evaluation.request.output
    table = render(evaluation, "markdown", digits=out.digits, sort=out.sort)
    try:
        append_text(path, step_summary(evaluation.source, table, failures))
    except OSError as exc:
        note(f"GITHUB_STEP_SUMMARY {path}: cannot be appended to ({exc.strerror or exc})")


def _per_row(request: Request) -> Evaluation:
    from ..engines import evaluate_request
    from ..errors import ReaderGone
    from ..report.writers import PerRowWriter
    from .progress import progress_bar

    out = request.output
    try:
        with PerRowWriter(out.chosen_format(on_terminal=False), out.path) as sink:
            return evaluate_request(request, per_row=sink, progress=lambda source: progress_bar(source, request))
    except ReaderGone:
        reader_gone()
        raise typer.Exit(0) from None


def _render(evaluation: Evaluation) -> Iterable[str]:
    from ..report.render import render_pieces

    out = evaluation.request.output
    on_terminal = out.path is None and sys.stdout.isatty()
    if out.chosen_format(on_terminal) == "html":
        return [_html_page(evaluation)]
    return render_pieces(
        evaluation,
        out.chosen_format(on_terminal),
        digits=out.digits,
        # FORCE_COLOR colours a pipe (a CI log), never a file.
        no_color=not out.color or not (on_terminal or (forced_color() and out.path is None)),
        width=table_width(on_terminal, to_file=out.path is not None),
        sort=out.sort,
        with_meta=out.meta,
    )


def _ambiguous(evaluation: Evaluation) -> list[str]:
    """Notes on the groups the chosen format writes alike (an empty string and a missing value in CSV)."""
    from ..report.summary import ambiguous_groups

    out = evaluation.request.output
    return ambiguous_groups(evaluation, out.chosen_format(out.path is None and sys.stdout.isatty()))


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


def table_width(on_terminal: bool, to_file: bool) -> int | None:
    """The terminal's width; in a pipe COLUMNS if it is set; in a file no limit (None)."""
    if on_terminal:
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 and not to_file else None


def forced_color() -> bool:
    """FORCE_COLOR asks for colour where there is no terminal (a CI log, a pager)."""
    return bool(os.environ.get("FORCE_COLOR"))


def _emit(text: Iterable[str], output: str | None, quiet: bool) -> None:
    """The rendered results to --output (through the one writer) or stdout."""
    if output is None:
        write_stdout(text)
        return
    from ..report.writers import write_text

    write_text(output, text)
    note(f"wrote {output}", quiet)
