"""The command line: options in, one library call, text out, errors to exit codes.

No loss math and no column logic lives here. Heavy modules (pyarrow, pandas,
Rich) are imported inside the commands so ``losscli --help`` stays fast.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from . import __version__
from .errors import LossCliError, OptionError
from .messages import fail, note

app = typer.Typer(
    name="losscli",
    help="Evaluate and compare models under any selection of loss functions.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _add_plot_commands() -> None:
    from .plot_cli import plot_app

    app.add_typer(plot_app, name="plot")


_add_plot_commands()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"losscli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", help="Print the version and exit.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    """Evaluate and compare models under any selection of loss functions."""


@app.command("eval")
def eval_command(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Predictions: a file (CSV, TSV, .gz/.zst/.bz2, Parquet, JSON Lines, Arrow/Feather), a Parquet "
            "directory or glob, or - for stdin. Several files: one model each, named after the file.",
        ),
    ],
    loss: Annotated[
        list[str] | None,
        typer.Option(
            "--loss",
            "-l",
            help="Loss to compute, with parameters as huber:delta=2. Repeat, or give a comma list. "
            "Default: a set chosen from the task.",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="Target column (default: y_true, y, target, label, actual, truth)."),
    ] = None,
    pred: Annotated[
        list[str] | None,
        typer.Option(
            "--pred",
            "-p",
            help="Prediction column or glob pattern; repeatable (default: every other numeric column).",
        ),
    ] = None,
    weight: Annotated[str | None, typer.Option("--weight", "-w", help="Sample-weight column.")] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Row id column, excluded from models (default: id).")
    ] = None,
    input_format: Annotated[
        str | None,
        typer.Option("--input-format", help="csv, tsv or parquet (default: from the suffix; stdin is csv)."),
    ] = None,
    class_sep: Annotated[
        str, typer.Option("--class-sep", help="Separator in MODEL.CLASS multiclass column names.")
    ] = ".",
    truth: Annotated[
        str | None, typer.Option("--truth", help="Targets in a separate file, joined to the predictions on --id.")
    ] = None,
    join: Annotated[
        str,
        typer.Option("--join", help="With --truth: strict (ids must match) or inner (evaluate the shared ids)."),
    ] = "strict",
    model_col: Annotated[
        str | None,
        typer.Option("--model-col", help="Long layout: the column naming the model of each row."),
    ] = None,
    name: Annotated[
        list[str] | None, typer.Option("--name", help="With several files: model names, one per file, in order.")
    ] = None,
    nan: Annotated[
        str,
        typer.Option("--nan", help="Missing values: error (default), or drop the rows, per model, with a note."),
    ] = "error",
    positive: Annotated[
        str | None,
        typer.Option("--positive", help="Binary: the target value of the positive class (labels other than 0/1)."),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="Multiclass: class names in column order, comma-separated (a,b,c)."),
    ] = None,
    by: Annotated[
        list[str] | None, typer.Option("--by", help="Also report per group of this column; repeatable.")
    ] = None,
    min_group_n: Annotated[
        int, typer.Option("--min-group-n", help="Hide groups with fewer rows than this.", min=0)
    ] = 0,
    ci: Annotated[
        float | None,
        typer.Option("--ci", help="Add a bootstrap confidence interval at this level, e.g. 0.95.", min=0.5, max=0.9999),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap replicates for --ci.", min=20, max=100_000)
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap; same seed, same intervals.")] = 0,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Compare every model with this one: difference, paired test, verdict."),
    ] = None,
    sort: Annotated[
        str | None, typer.Option("--sort", help="Rank models by this loss (default: the first one).")
    ] = None,
    fail_above: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-above",
            help="Exit 1 if a loss exceeds a value: LOSS=VALUE, or MODEL:LOSS=VALUE for one model. Repeatable.",
        ),
    ] = None,
    fail_if_worse: Annotated[
        bool,
        typer.Option("--fail-if-worse", help="Exit 1 if a model is significantly worse than --baseline."),
    ] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="auto, table, csv, tsv, json, jsonl or markdown (auto: table on a terminal, csv in a pipe; "
            "with --output, from its suffix).",
        ),
    ] = "auto",
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout."),
    ] = None,
    per_row: Annotated[
        bool,
        typer.Option(
            "--per-row", help="Stream every row's loss per model instead of the summary (csv, tsv, jsonl, parquet)."
        ),
    ] = False,
    with_meta: Annotated[
        bool, typer.Option("--meta", help="With --format json: wrap results with a meta object (signature, params).")
    ] = False,
    digits: Annotated[
        int, typer.Option("--digits", help="Significant digits in the table and markdown.", min=1, max=17)
    ] = 4,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print the reproducibility signature on stderr.")
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour (NO_COLOR is respected too).")] = False,
    engine: Annotated[
        str, typer.Option("--engine", help="local (default), or dask for a partitioned Parquet dataset.")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="With --engine dask: a Dask scheduler address (default: a local cluster)."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="With --engine dask and no --scheduler: local worker processes.", min=1)
    ] = 2,
) -> None:
    """Evaluate every model in FILES under each loss and print the comparison."""
    import pyarrow as pa

    from .errors import InputError
    from .evaluation import Options
    from .gates import breaches, parse_threshold
    from .io.source import first_line
    from .render import FORMATS, render
    from .report import signature
    from .writers import SUMMARY_SUFFIXES, format_from_suffix, refuse_inputs

    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    reading = {
        "target": target,
        "preds": pred or (),
        "weight": weight,
        "id_column": id_column,
        "class_sep": class_sep,
        "nan": nan,
        "positive": positive,
        "classes": [c.strip() for c in classes.split(",")] if classes else (),
    }
    try:
        if fmt not in FORMATS and not (per_row and fmt == "parquet"):
            raise OptionError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
        if engine not in ("local", "dask"):
            raise OptionError(f"--engine takes local or dask, not {engine!r}")
        if join not in ("strict", "inner"):
            raise OptionError(f"--join takes strict or inner, not {join!r}")
        thresholds = [parse_threshold(t) for t in fail_above or ()]
        if fail_if_worse and baseline is None:
            raise OptionError("--fail-if-worse needs --baseline MODEL to compare with")
        if output is not None:
            refuse_inputs(output, [*files, *([truth] if truth else [])])
        options = Options(
            ci=ci, bootstrap=bootstrap, seed=seed, baseline=baseline, by=tuple(by or ()), min_group_n=min_group_n
        )
        if engine == "dask":
            evaluation, notes = _run_on_dask(
                files, loss or (), input_format, truth, model_col, per_row, scheduler, workers, options, reading
            )
        else:
            evaluation, notes = _run_locally(
                files,
                loss or (),
                input_format,
                truth,
                join,
                model_col,
                name or [],
                options,
                reading,
                per_row,
                fmt,
                output,
                quiet,
            )
        failures = breaches(evaluation, thresholds, fail_if_worse)
        text = ""
        if not per_row:
            if fmt == "auto":
                fmt = format_from_suffix(output, SUMMARY_SUFFIXES, "output") if output else _auto_format()
            on_terminal = output is None and sys.stdout.isatty()
            text = render(
                evaluation,
                fmt,
                digits=digits,
                no_color=no_color or not on_terminal,
                width=shutil.get_terminal_size().columns if on_terminal else 100,
                sort=sort,
                with_meta=with_meta,
            )
    except LossCliError as exc:
        fail(exc)
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        # A reader met input it cannot parse in a way losscli did not foresee: still the
        # input's fault, so a sentence and exit 2, not a traceback.
        fail(InputError(f"{', '.join(files)}: cannot be read ({first_line(exc)})"))
    for message in [*notes, *evaluation.notes]:
        note(message, quiet)
    if verbose:
        note(f"signature: {signature(evaluation)}", quiet=False)
    if not per_row:
        _emit(text, output, quiet)
    if failures:
        for failure in failures:
            sys.stderr.write(f"losscli: FAIL {failure}\n")
        raise typer.Exit(1)


def _run_locally(
    files: list[str],
    losses: Sequence[str],
    input_format: str | None,
    truth: str | None,
    join: str,
    model_col: str | None,
    names: list[str],
    options: Any,
    reading: dict[str, Any],
    per_row: bool,
    fmt: str,
    output: str | None,
    quiet: bool,
) -> tuple[Any, list[str]]:
    """Open the input (reshaping it when the layout asks for it) and evaluate it here."""
    from .evaluation import run
    from .io import open_source
    from .progress import progress_bar
    from .writers import PER_ROW_SUFFIXES, PerRowWriter, format_from_suffix

    notes: list[str] = []
    if len(files) == 1 and not truth and not model_col and not names:
        source = open_source(files[0], input_format)  # one wide file: no join, no pyarrow.compute to import
    else:
        from .reshape import Inputs, open_inputs

        source, notes = open_inputs(
            Inputs(
                tuple(files),
                input_format,
                truth,
                reading["id_column"],
                join,
                model_col,
                tuple(names),
                reading["target"],
                tuple(reading["preds"]),
            )
        )
    if per_row:
        row_fmt = fmt if fmt != "auto" else format_from_suffix(output, PER_ROW_SUFFIXES, "per-row") if output else "csv"
        with PerRowWriter(row_fmt, output) as sink:
            return run(source, losses, per_row=sink, options=options, **reading), notes
    with progress_bar(source, files, quiet) as advance:
        return run(source, losses, progress=advance, options=options, **reading), notes


def _run_on_dask(
    files: list[str],
    losses: Sequence[str],
    input_format: str | None,
    truth: str | None,
    model_col: str | None,
    per_row: bool,
    scheduler: str | None,
    workers: int,
    options: Any,
    reading: dict[str, Any],
) -> tuple[Any, list[str]]:
    """Evaluate a Parquet dataset on a Dask cluster."""
    from .engines.dask import run_dask
    from .io import detect_format

    if len(files) == 1 and files[0] != "-" and detect_format(files[0], input_format)[0] != "parquet":
        raise OptionError(f"--engine dask reads Parquet (a file, directory or glob); {files[0]} is not")
    if len(files) != 1 or truth or model_col or per_row:
        raise OptionError(
            "--engine dask reads one Parquet file, directory or glob, without --truth, --model-col or --per-row"
        )
    return run_dask(files[0], losses, scheduler=scheduler, workers=workers, options=options, **reading), []


def _emit(text: str, output: str | None, quiet: bool) -> None:
    """The rendered results to --output (atomically) or stdout."""
    if output is None:
        _write(text)
        return
    from .writers import write_text_atomically

    try:
        write_text_atomically(output, text)
    except OSError as exc:
        fail(OptionError(f"--output {output}: cannot be written ({exc.strerror or exc})"))
    note(f"wrote {output}", quiet)


def _auto_format() -> str:
    return "table" if sys.stdout.isatty() else "csv"


@app.command("losses")
def losses_command(
    explain: Annotated[
        str | None, typer.Option("--explain", "-e", help="Explain one loss: formula, use, conventions.")
    ] = None,
    task: Annotated[
        str | None,
        typer.Option("--task", help="Only losses for this task: regression, binary or multiclass."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, markdown or json.")] = "table",
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour (NO_COLOR is respected too).")] = False,
) -> None:
    """List every loss losscli knows: name, aliases, task, parameters, formula."""
    from . import catalogue
    from .losses import TASKS
    from .spec import parse_spec

    try:
        if explain:
            _write(catalogue.explain(parse_spec(explain).loss))
            return
        if task is not None and task not in TASKS:
            raise OptionError(f"unknown --task {task!r}; choose one of {', '.join(TASKS)}")
        if fmt == "markdown":
            _write(catalogue.as_markdown(task))
        elif fmt == "json":
            _write(catalogue.as_json(task))
        elif fmt == "table":
            width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 120
            _write(catalogue.as_table(task, width=width))
        else:
            raise OptionError(f"unknown --format {fmt!r}; choose one of {', '.join(catalogue.CATALOGUE_FORMATS)}")
    except LossCliError as exc:
        fail(exc)


def _write(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (head, grep -m1) went away: not an error for a pipeline.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("losscli: interrupted\n")
        raise SystemExit(130) from None
