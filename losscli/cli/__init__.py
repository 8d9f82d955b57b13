"""The command line: Typer apps that turn options into one Request, call the library, and
turn its results into output and its errors into exit codes.

``eval`` (eval.py), ``losses`` (losses.py), ``advise`` (advise.py) and ``plot`` (plot.py) are registered
here; heavy modules are imported inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import __version__
from .advise import advise_command
from .eval import eval_command
from .losses import losses_command

app = typer.Typer(
    name="losscli",
    help="Evaluate and compare models under any selection of loss functions.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("eval")(eval_command)
app.command("losses")(losses_command)
app.command("advise")(advise_command)


def _add_plot_commands() -> None:
    from .plot import plot_app

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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("losscli: interrupted\n")
        raise SystemExit(130) from None
