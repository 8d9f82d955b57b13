"""How a delimited file is written: its delimiter (given, or sniffed) and its decimal mark.

The delimiter is sniffed with the standard library's ``csv.Sniffer``, limited to
the four delimiters people use (comma, tab, semicolon, pipe), then checked: the
header must split into more than one field and the first lines into as many.
A sniff that fails the check falls back to the comma, and the reader's own
checks then name the fix.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from ..errors import OptionError

CANDIDATES = ",\t;|"
# Enough lines to see a consistent count: the Sniffer counts every ASCII character on every
# line, so it is given at most ~32 KiB (0.3 s on 1 MiB of a 500-column file, 10 ms on this).
SNIFF_LINES = 50
SNIFF_CHARS = 1 << 15
NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
# pyarrow's own list, and what pandas writes for a missing value in an object column.
EXTRA_NULLS = ("None", "<NA>")
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+([eE][+-]?\d+)?\s*$")


@dataclass(frozen=True)
class Dialect:
    """``delimiter``/``decimal`` as given (None: sniffed, and '.')."""

    delimiter: str | None = None
    decimal: str | None = None

    @classmethod
    def of(cls, delimiter: str | None = None, decimal: str | None = None) -> Dialect:
        """Validate the options as typed: one character each; ``\\t`` is a tab."""
        return cls(_one_char(delimiter, "--delimiter"), _one_char(decimal, "--decimal"))

    @property
    def given(self) -> bool:
        return self.delimiter is not None or self.decimal is not None


def _one_char(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    value = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(value) != 1 or value in '\n\r"':
        raise OptionError(f"{option} takes one character (such as ; or | or \\t for a tab), not {text!r}")
    return value


def describe(delimiter: str) -> str:
    """ "';' (semicolon)" for a message; a tab is spelled out."""
    if delimiter == "\t":
        return "tab"
    name = NAMES.get(delimiter)
    return f"{delimiter!r} ({name})" if name else repr(delimiter)


def typed(delimiter: str) -> str:
    """The delimiter as one types it after --delimiter in a shell."""
    return {"\t": "'\\t'", ",": ","}.get(delimiter, f"'{delimiter}'")


def sniff_delimiter(head: bytes, decimal: str | None) -> str | None:
    """The delimiter of the first lines of ``head``, or None when no candidate fits them."""
    text = head[: SNIFF_CHARS * 8].decode("utf-8", errors="replace")
    complete = text.splitlines()[: SNIFF_LINES + 1]
    if len(head) > SNIFF_CHARS * 8 or not text.endswith("\n"):
        complete = complete[:-1] or complete  # the last line may be cut
    lines, size = complete[:2], sum(map(len, complete[:2]))
    for line in complete[2:SNIFF_LINES]:
        size += len(line)
        if size > SNIFF_CHARS:
            break
        lines.append(line)
    sample = "\n".join(lines)
    candidates = "".join(c for c in CANDIDATES if c != decimal)
    try:
        found = csv.Sniffer().sniff(sample, delimiters=candidates).delimiter
    except csv.Error:
        return None
    return found if _consistent(sample, found) else None


def _consistent(sample: str, delimiter: str) -> bool:
    """The header splits into several fields, and every sniffed line into as many."""
    rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
    if not rows or len(rows[0]) < 2:
        return False
    return all(len(r) == len(rows[0]) for r in rows[1:])


# Digits grouped by threes: '.' then a decimal comma (1.000,5), or ',' (1,000 or 1,000,000).
_DOT_GROUPS_THEN_COMMA = re.compile(r"^\s*[+-]?\d{1,3}(\.\d{3})+,\d+\s*$")
_COMMA_GROUPS = re.compile(r"^\s*[+-]?\d{1,3}(,\d{3})+\s*$")
# '.' between groups of three digits, with or without a decimal comma after: 1.000, 1.000.000, 1.000,5.
DOT_GROUPS = re.compile(r"^\s*[+-]?\d{1,3}(\.\d{3})+(,\d+)?\s*$")


def comma_fix(cell: str, cells: list[object], decimal: str | None, in_file: bool = True) -> str:
    """What follows "holds CELL" for a cell with a comma: never an option that reads wrong numbers.

    '1,000' is 1000 with a thousands separator or 1.0 with a decimal comma; only another cell
    (2,5 or 1,000,000) tells which, so the sentence names both readings otherwise. Data that is
    not a file (``in_file`` False: arrays, lists) has no reading options: it is to be converted.

    >>> comma_fix("1,000", ["1,000", "2"], None)[:50]
    "; ',' in '1,000' separates thousands (1000) or mar"
    >>> comma_fix("1,000", ["1,000", "2,5"], None)
    ', a number with a decimal comma; pass --decimal , to read them'
    >>> comma_fix("1,5", ["1,5"], None, in_file=False)
    ", a number with a decimal comma; convert them to numbers (',' is their decimal mark)"
    """
    if _DOT_GROUPS_THEN_COMMA.match(cell):
        if not in_file:
            return f"; '.' in {cell!r} separates thousands and ',' marks the decimal: convert them to numbers"
        also = "" if decimal == "," else " and pass --decimal ,"
        return (
            f"; '.' in {cell!r} separates thousands, which losscli does not read, and ',' is its decimal comma: "
            f"remove the separators{also}"
        )
    texts = [c for c in cells if isinstance(c, str) and "," in c]
    if _COMMA_GROUPS.match(cell) and not any(_DECIMAL_COMMA.match(c) and not _COMMA_GROUPS.match(c) for c in texts):
        if any(c.count(",") > 1 for c in texts if _COMMA_GROUPS.match(c)) or decimal == ",":
            if not in_file:
                return f"; ',' in {cell!r} separates thousands: convert them to numbers"
            return f"; ',' in {cell!r} separates thousands, which losscli does not read: remove the separators"
        if not in_file:
            return f"; ',' in {cell!r} separates thousands (1000) or marks the decimal (1.0): convert them to numbers"
        return (
            f"; ',' in {cell!r} separates thousands (1000) or marks the decimal (1.0): remove thousands separators "
            "from the file, or pass --decimal , only if ',' is its decimal mark"
        )
    if not in_file:
        return ", a number with a decimal comma; convert them to numbers (',' is their decimal mark)"
    return ", a number with a decimal comma; " + (
        "pass --decimal , to read them" if decimal != "," else "fix the cells"
    )


def is_number_in(cell: object, decimal: str | None) -> bool:
    """Whether a CSV reader with this decimal mark reads ``cell`` as a number (',' : 1,5 not 1.5)."""
    if decimal != ",":
        return _is_float(cell)
    return isinstance(cell, str) and "." not in cell and _is_float(cell.replace(",", ".", 1))


def _is_float(cell: object) -> bool:
    if isinstance(cell, str) and "_" in cell:  # Python's float reads 1_000; a CSV reader does not
        return False
    try:
        float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def dot_fix(cell: str) -> str:
    """What follows "holds CELL" for a '.' cell in a CSV read with --decimal , (',' the decimal mark).

    >>> dot_fix("1.000")
    "; with --decimal , the '.' in '1.000' separates thousands, which losscli does not read: remove the separators"
    """
    if DOT_GROUPS.match(cell):
        return (
            f"; with --decimal , the '.' in {cell!r} separates thousands, which losscli does not read: "
            "remove the separators"
        )
    return (
        ", a number with a decimal point, but --decimal , reads ',' as the decimal mark: write it with a comma, "
        "or leave out --decimal , if '.' is the file's decimal mark"
    )
