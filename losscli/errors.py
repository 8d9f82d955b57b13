"""One exception hierarchy for everything a user can get wrong.

The CLI catches ``LossCliError`` once, prints its message as one sentence on
stderr and exits with code 2. Anything else is a bug and may show a traceback.
In Python each one is also the matching built-in (``ValueError``, ``TypeError``,
``KeyError``), so ``except ValueError`` works as it does around any library call.
"""

from __future__ import annotations

import unicodedata

# Invisible characters that reorder or break a line (Trojan Source): escaped like controls.
_FORMATTING = frozenset("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    r"""``text`` safe to show a person on a terminal: control characters (an escape
    sequence, a newline that would forge a line of output) and bidirectional overrides
    are written as Python escapes; everything else, accents included, stays.

    >>> printable("a\x1b[2Jb\nlosscli: FAIL x · é")
    'a\\x1b[2Jb\\nlosscli: FAIL x · é'
    """
    if text.isprintable():
        return text
    return "".join(_escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    if ch == " " or (ch.isprintable() and ch not in _FORMATTING):
        return ch
    if unicodedata.category(ch) in ("Zs",):  # non-breaking and other spaces are harmless
        return ch
    return ch.encode("unicode_escape").decode("ascii")


class LossCliError(Exception):
    """A user error: the message is one sentence that says what and where."""

    exit_code = 2


class InputError(LossCliError, ValueError):
    "The input file cannot be found, opened or parsed"


class EmptyInputError(InputError):
    "The input has no data rows"


class UnknownLossError(LossCliError, KeyError, ValueError):
    "No loss of that name is registered (a KeyError, as a failed lookup is)"

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class LossParameterError(LossCliError, ValueError):
    "A loss parameter is unknown, unparsable or outside its domain"


class ColumnError(LossCliError, ValueError):
    "A named column is missing, or the columns cannot be assigned roles"


class BadValueError(LossCliError, ValueError):
    "A cell holds a value the loss cannot take (non-numeric, NaN, out of range)"


class OptionError(LossCliError, ValueError):
    "Command-line options contradict each other or the data"


class DataTypeError(InputError, TypeError):
    "The Python API was given data of a kind it cannot read"


class LossCliWarning(UserWarning):
    "A result the caller must know about: models evaluated on different rows, an infinite loss"


class ArgumentTypeError(LossCliError, TypeError):
    "A Python argument of the wrong type (the API; the command line's parser types its options)"


class OutputError(LossCliError):
    "The results cannot be written (a full disk, a closed stream)"


class OutOfMemoryError(LossCliError, MemoryError):
    "The machine (or the process's memory limit) ran out of memory; the message says what to lower"


class ReaderGone(Exception):
    "The reader of stdout went away (head, grep -m1): stop writing, exit 0"
