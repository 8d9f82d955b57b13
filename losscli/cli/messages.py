"""What losscli says on stderr: notes, and the one sentence a user error ends with."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import NoReturn

import typer

from ..errors import InputError, LossCliError


def fail(exc: LossCliError) -> NoReturn:
    """Print the error as one sentence and exit with its code (2), without a traceback."""
    sys.stderr.write(f"losscli: error: {str(exc).rstrip('.')}.\n")
    raise typer.Exit(exc.exit_code) from None


def note(text: str, quiet: bool = False) -> None:
    if not quiet:
        sys.stderr.write(f"losscli: {text}\n")


def write_stdout(text: str) -> None:
    """Results to stdout; a reader that went away (head, grep -m1) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@contextlib.contextmanager
def user_errors(inputs: str) -> Iterator[None]:
    """Turn a user error into one sentence on stderr and exit 2, never a traceback.

    A reader that meets input it cannot parse in a way losscli did not foresee (an
    Arrow error, undecodable text) is still the input's fault, so it is a user error.
    """
    import pyarrow as pa

    try:
        yield
    except LossCliError as exc:
        fail(exc)
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        from ..read.source import first_line

        fail(InputError(f"{inputs}: cannot be read ({first_line(exc)})"))
