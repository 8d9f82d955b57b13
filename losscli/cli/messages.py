"""What losscli says on stderr (notes, and the one sentence a user error ends with), and
how it survives hostile standard streams: closed (``<&-``, ``>&-``, ``2>&-``), full
(``> /dev/full``) or abandoned by their reader (``| head -1``).

Everything said to a person goes through ``printable``: a name holding an escape
sequence or a newline cannot clear the screen or forge a ``losscli: FAIL`` line.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from typing import NoReturn

import typer

from ..errors import InputError, LossCliError, OutOfMemoryError, OutputError, printable

# Standard streams that were closed when losscli started (their slots now hold /dev/null).
CLOSED: set[int] = set()


def guard_standard_streams() -> None:
    """Give a closed standard stream /dev/null, so no file losscli opens takes its number
    (a results file opened as fd 2 would receive the notes), and remember it was closed."""
    for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            held = os.open(os.devnull, mode)
            if held != fd:  # pragma: no cover (the lowest free number is the closed one)
                os.dup2(held, fd)
                os.close(held)
            CLOSED.add(fd)
            name = ("stdin", "stdout", "stderr")[fd]
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", encoding="utf-8", closefd=False))  # noqa: SIM115


def say(text: str) -> None:
    """One line on stderr, control characters escaped; an unwritable stderr is not fatal
    (the results still go to stdout, and the exit code still tells)."""
    try:
        sys.stderr.write(f"losscli: {printable(text)}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        _silence(2)


def fail(exc: LossCliError) -> NoReturn:
    """Print the error as one sentence and exit with its code (2), without a traceback."""
    say(f"error: {str(exc).rstrip('.')}.")
    raise typer.Exit(exc.exit_code) from None


def note(text: str, quiet: bool = False) -> None:
    if not quiet:
        say(text)


def stdout_is_open() -> None:
    """Results for stdout need a stdout: refuse before reading when it was closed (>&-)."""
    if 1 in CLOSED:
        raise OutputError("stdout is closed, so the results would be lost; give --output FILE")


def write_stdout(text: str | Iterable[str]) -> None:
    """Results (or their pieces, made as they are written) to stdout; a reader that went
    away (head, grep -m1) is not an error, a full disk is."""
    try:
        for piece in [text] if isinstance(text, str) else text:
            sys.stdout.write(piece)
        sys.stdout.flush()
    except BrokenPipeError:
        reader_gone()
    except OSError as exc:
        _silence(1)
        raise OutputError(f"cannot write the results to stdout ({exc.strerror or exc})") from None


def reader_gone() -> None:
    """Stdout's reader left: what is still buffered goes to /dev/null, so the interpreter's
    last flush does not fail (which would turn the exit code into 120)."""
    _silence(1)


def _silence(fd: int) -> None:
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


OUT_OF_MEMORY_HINT = (
    "the state grows with --bootstrap x --by groups x models x losses, so lower --bootstrap, use --ci-method t "
    "or group by fewer values (with --per-row or many model columns, split the file)"
)


@contextlib.contextmanager
def user_errors(inputs: str) -> Iterator[None]:
    """Turn a user error into one sentence on stderr and exit 2, never a traceback.

    A reader that meets input it cannot parse in a way losscli did not foresee (an
    Arrow error, undecodable text, an OSError from a truncated or vanishing file) is
    still the input's fault, so it is a user error. Write errors never get here as
    OSError: the writers turn them into OutputError first.
    """
    import pyarrow as pa

    try:
        yield
    except LossCliError as exc:
        fail(exc)
    except (MemoryError, pa.ArrowMemoryError):
        # Not a gate (exit 1) and not a traceback: the run's state did not fit (a ulimit or a
        # container can hold less than the machine has, which the up-front estimate cannot see).
        fail(OutOfMemoryError(f"{inputs}: ran out of memory; {OUT_OF_MEMORY_HINT}"))
    except (pa.ArrowException, UnicodeDecodeError, EOFError) as exc:
        fail(InputError(f"{inputs}: cannot be read ({_first_line(exc)})"))
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            reader_gone()
            raise typer.Exit(0) from None
        fail(InputError(f"{inputs}: cannot be read ({exc.strerror or _first_line(exc)})"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
