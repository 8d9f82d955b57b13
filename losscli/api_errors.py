"""Errors of the Python API speak of parameters (``target=``), not of the CLI's flags.

The readers and the layout word their messages for the command line; the API
rewrites each flag into the keyword argument that does the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import LossCliError
from .request import keyword_of

# A flag, and the value written after it when there is one: a quoted value, a PLACEHOLDER,
# or a word the option takes.
_FLAG = re.compile(
    r"(?<![\w-])--(?P<flag>[a-z][a-z-]*)"
    r"(?: (?P<value>'[^']*'|[A-Z][A-Z_]*\b|(?:drop|inner|strict|csv|tsv)\b|,(?=\s|$)))?"
)


def as_parameters(message: str) -> str:
    """``pass --nan drop`` -> ``pass nan="drop"``; flags the API does not have are left as they are."""

    def repl(match: re.Match[str]) -> str:
        name = "losses" if match["flag"] == "loss" else keyword_of("--" + match["flag"])
        if name is None:
            return match[0]
        value = match["value"]
        if value is None:
            return f"{name}="
        if value.startswith("'") or value.isupper():
            return f"{name}={value}"
        return f'{name}="{value}"'

    return _FLAG.sub(repl, message)


@contextmanager
def speaking_of_parameters() -> Iterator[None]:
    """Re-raise a user error with its flags named as parameters (same class, so callers catch it alike)."""
    try:
        yield
    except LossCliError as exc:
        message = str(exc)
        translated = as_parameters(message)
        if translated == message:
            raise
        raise type(exc)(translated) from None
