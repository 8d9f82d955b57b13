"""The command line: options in, one library call, text out, errors to exit codes.

No loss math and no column logic lives here. Heavy modules (pyarrow, pandas,
Rich) are imported inside the commands so ``losscli --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import typer

from . import __version__
from .errors import LossCliError

app = typer.Typer(
    name="losscli",
    help="Evaluate and compare models under any selection of loss functions.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


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


def _fail(exc: LossCliError) -> NoReturn:
    message = str(exc).rstrip(".")
    sys.stderr.write(f"losscli: error: {message}.\n")
    raise typer.Exit(exc.exit_code) from None


def _note(text: str, quiet: bool) -> None:
    if not quiet:
        sys.stderr.write(f"losscli: {text}\n")


@app.command("eval")
def eval_command(
    file: Annotated[str, typer.Argument(help="Predictions file (CSV, TSV, Parquet), or - for stdin.")],
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
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="auto, table, csv, tsv, json, jsonl or markdown (auto: table on a terminal, csv in a pipe).",
        ),
    ] = "auto",
    digits: Annotated[
        int, typer.Option("--digits", help="Significant digits in the table and markdown.", min=1, max=17)
    ] = 4,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour (NO_COLOR is respected too).")] = False,
) -> None:
    """Evaluate every model in FILE under each loss and print the comparison."""
    from .evaluation import run
    from .io import open_source
    from .render import FORMATS, render

    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    try:
        if fmt not in FORMATS:
            from .errors import OptionError

            raise OptionError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
        source = open_source(file, input_format)
        evaluation = run(
            source,
            loss or (),
            target=target,
            preds=pred or (),
            weight=weight,
            id_column=id_column,
            class_sep=class_sep,
        )
    except LossCliError as exc:
        _fail(exc)
    for note in evaluation.notes:
        _note(note, quiet)
    if fmt == "auto":
        fmt = "table" if sys.stdout.isatty() else "csv"
    width = None if sys.stdout.isatty() else 100
    _write(render(evaluation, fmt, digits=digits, no_color=no_color or not sys.stdout.isatty(), width=width))


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
    from .errors import OptionError
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
            no_color = no_color or bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()
            _write(catalogue.as_table(task, no_color=no_color))
        else:
            raise OptionError(f"unknown --format {fmt!r}; choose one of {', '.join(catalogue.CATALOGUE_FORMATS)}")
    except LossCliError as exc:
        _fail(exc)


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
