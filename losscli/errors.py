"""One exception hierarchy for everything a user can get wrong.

The CLI catches ``LossCliError`` once, prints its message as one sentence on
stderr and exits with code 2. Anything else is a bug and may show a traceback.
"""

from __future__ import annotations


class LossCliError(Exception):
    """A user error: the message is one sentence that says what and where."""

    exit_code = 2


class InputError(LossCliError):
    "The input file cannot be found, opened or parsed"


class EmptyInputError(InputError):
    "The input has no data rows"


class UnknownLossError(LossCliError):
    "No loss of that name is registered"


class LossParameterError(LossCliError):
    "A loss parameter is unknown, unparsable or outside its domain"


class ColumnError(LossCliError):
    "A named column is missing, or the columns cannot be assigned roles"


class BadValueError(LossCliError):
    "A cell holds a value the loss cannot take (non-numeric, NaN, out of range)"


class OptionError(LossCliError):
    "Command-line options contradict each other or the data"


class DataTypeError(InputError, TypeError):
    "The Python API was given data of a kind it cannot read"


class LossCliWarning(UserWarning):
    "A result the caller must know about: models evaluated on different rows, an infinite loss"
