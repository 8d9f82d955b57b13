"""What losscli says on stderr: notes, and the one sentence a user error ends with."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from .errors import LossCliError


def fail(exc: LossCliError) -> NoReturn:
    """Print the error as one sentence and exit with its code (2), without a traceback."""
    sys.stderr.write(f"losscli: error: {str(exc).rstrip('.')}.\n")
    raise typer.Exit(exc.exit_code) from None


def note(text: str, quiet: bool = False) -> None:
    if not quiet:
        sys.stderr.write(f"losscli: {text}\n")
