"""The command line: Typer apps that turn options into one Request, call the library, and
turn its results into output and its errors into exit codes.

``eval`` (eval.py), ``losses`` (losses.py), ``advise`` (advise.py) and ``plot`` (plot.py) are registered
here; heavy modules are imported inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer

# Typer (pinned below 0.27) carries its own copy of Click: its exceptions and contexts are these.
from typer._click.core import Context
from typer._click.exceptions import Exit, NoArgsIsHelpError, NoSuchOption, UsageError
from typer.core import TyperGroup

from .. import __version__
from .advise import advise_command
from .eval import eval_command
from .losses import losses_command


def _usage_error(exc: UsageError) -> NoReturn:
    """A usage error (unknown option, value out of range, missing argument) in losscli's
    one-line style, exit 2, instead of Click's boxed panel."""
    if isinstance(exc, NoArgsIsHelpError):
        raise exc  # `losscli` alone prints the help
    if isinstance(exc, NoSuchOption) and exc.ctx is not None:
        sys.stderr.write(f"losscli: error: {_no_such_option(exc.option_name, exc.ctx)}\n")
        raise Exit(2)
    where = f"; see '{exc.ctx.command_path} -h'" if exc.ctx is not None else ""
    message = " ".join(exc.format_message().split()).rstrip(".")
    # Click names an option's environment variable even when the value came from the command line.
    message = re.sub(r" \(env var: '(\w+)'\)", lambda m: m.group(0) if os.environ.get(m.group(1)) else "", message)
    if message.endswith("?") and exc.ctx is not None:  # "Did you mean 'eval'?": a sentence of its own
        where = f" See '{exc.ctx.command_path} -h'"
    sys.stderr.write(f"losscli: error: {message}{where}.\n")
    raise Exit(2)


# As close as a name must be to be suggested (difflib's ratio; Click's 0.6 over the whole
# "--name" let the shared dashes suggest --loss and --verbose for --bogus).
OPTION_CUTOFF = 0.7


def _no_such_option(typed: str, ctx: Context) -> str:
    """A mistyped option's sentence, naming the close options only, or none: ``No such option:
    --ci-methd. Did you mean --ci-method? See 'losscli eval -h'.``"""
    from ..errors import printable

    known = sorted({o for p in ctx.command.get_params(ctx) for o in [*p.opts, *p.secondary_opts]})
    close = close_options(typed, known)
    if "--format" in known and typed.startswith("--"):
        from ..request import PER_ROW_FORMATS

        # --json as other tools spell it (sqlite-utils' --csv, --json): the format, not --join,
        # and only a format this command writes (advise writes no CSV, losses no HTML).
        name = typed[2:].lower()
        formats = [f for f in _formats_of(ctx.command.name) if f != "auto"]
        if name in formats:
            close = [f"--format {name}"]
        elif name in PER_ROW_FORMATS and "--per-row" in known:  # Parquet: only per-row values, to a file
            close = [f"--per-row -o FILE.{name}"]
        elif name in (*_formats_of("eval"), *PER_ROW_FORMATS) and formats and not close:
            return f"No such option: {typed}; {ctx.command.name} writes {', '.join(formats)} (--format NAME)."
    told = f"No such option: {printable(typed)}"
    see = f"'{ctx.command_path} -h'"
    if not close:
        return f"{told}; see {see}."
    listed = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f"{told}. Did you mean {listed}? See {see}."


def _formats_of(command: str | None) -> tuple[str, ...]:
    """The --format choices of a command, from the command's own list (imported only on this error)."""
    if command == "advise":
        from .advise import ADVISE_FORMATS

        return ADVISE_FORMATS
    if command == "losses":
        from ..report.catalogue import CATALOGUE_FORMATS

        return CATALOGUE_FORMATS
    if command == "eval":
        from ..request import SUMMARY_FORMATS

        return SUMMARY_FORMATS
    return ()


def close_options(typed: str, known: list[str]) -> list[str]:
    """The options of ``known`` a mistyped ``typed`` may have meant, closest first (three at most).

    Compared without their dashes, case or ``_`` for ``-``: the names at difflib ratio
    OPTION_CUTOFF or more and those that begin with the typed name (``--fail``: ``--fail-above``
    ...), else one the typed name begins with as a word (``--nan-drop``: ``--nan``).
    """
    import difflib  # only a mistyped option pays for it

    def bare(name: str) -> str:
        return name.lstrip("-").lower().replace("_", "-")

    word = bare(typed)
    if not word:
        return []
    longs = {bare(o): o for o in known if o.startswith("--")}
    similar = difflib.get_close_matches(word, list(longs), n=3, cutoff=OPTION_CUTOFF)
    longer = sorted((n for n in longs if len(word) >= 3 and n.startswith(word)), key=len)
    found = list(dict.fromkeys([*similar, *longer])) or [n for n in longs if word.startswith(n + "-")]
    return [longs[n] for n in found[:3]] if typed.startswith("--") else []


class LossCliGroup(TyperGroup):
    """The root command: its own and its subcommands' usage errors become one line."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            _usage_error(exc)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            _usage_error(exc)

    def resolve_command(self, ctx: Context, args: Sequence[str]) -> Any:
        return super().resolve_command(ctx, list(args))


app = typer.Typer(
    name="losscli",
    cls=LossCliGroup,
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


def _for_arguments(args: list[str]) -> typer.Typer:
    """The app with only the subcommand ``args`` names, when it names one: Typer builds every
    command's options before it parses (about 10 ms for all of them). Anything else (help,
    --version, a mistyped name, shell completion) gets the whole app, so its output is the same."""
    if not args or os.environ.get("_LOSSCLI_COMPLETE"):
        return app
    named = [c for c in app.registered_commands if c.name == args[0]]
    groups = [g for g in app.registered_groups if g.name == args[0]]
    if not named and not groups:
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = named, groups
    return only


def main() -> None:
    from . import signals
    from .leave import leave_now
    from .messages import guard_standard_streams

    guard_standard_streams()
    signals.install()
    # OpenBLAS starts a spinning thread per core when NumPy loads (below, in the command): about
    # 50 ms of CPU per run, and the bootstrap's products (sized for the cache, above BLAS's size
    # for threading) would split again over cores the --threads pool already uses. So the
    # command line asks for one BLAS thread unless the user chose.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        _for_arguments(sys.argv[1:])()
    except SystemExit as exc:
        code = exc.code
        if code == 1 and isinstance(exc.__context__, BrokenPipeError):
            # Rich's answer to a reader that left (help piped into `head -1`): exit 1, which
            # `set -o pipefail` makes a failure. A reader going away is not an error.
            code = 0
        leave_now(code)
        raise SystemExit(code) from None
    except (signals.Interrupted, KeyboardInterrupt) as exc:
        signals.stop_listening()
        signals.remove_temporaries()  # one the interruption reached before its writer's cleanup could
        signum = exc.signum if isinstance(exc, signals.Interrupted) else int(signals.SIGINT)
        signals.say_interrupted(signum)
        raise SystemExit(128 + signum) from None
