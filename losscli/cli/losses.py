"""``losscli losses``: the catalogue, as a table, Markdown or JSON, and one loss explained."""

from __future__ import annotations

import shutil
from typing import Annotated

import typer

from ..errors import LossCliError, OptionError
from .messages import fail, write_stdout


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
    from ..losses import TASKS
    from ..report import catalogue
    from ..spec import parse_spec

    try:
        if explain is not None:
            if not explain.strip():
                raise OptionError("--explain needs a loss name, as in --explain huber")
            if fmt != "table" or task is not None:
                raise OptionError("--explain prints one loss as text; --format and --task apply to the list")
            write_stdout(catalogue.explain(parse_spec(explain).loss))
            return
        if task is not None and task not in TASKS:
            raise OptionError(f"unknown --task {task!r}; choose one of {', '.join(TASKS)}")
        if fmt == "markdown":
            write_stdout(catalogue.as_markdown(task))
        elif fmt == "json":
            write_stdout(catalogue.as_json(task))
        elif fmt == "table":
            # A terminal's width (COLUMNS too); in a pipe 120 unless COLUMNS says otherwise.
            width = shutil.get_terminal_size((120, 24)).columns
            write_stdout(catalogue.as_table(task, width=width))
        else:
            raise OptionError(f"unknown --format {fmt!r}; choose one of {', '.join(catalogue.CATALOGUE_FORMATS)}")
    except LossCliError as exc:
        fail(exc)
