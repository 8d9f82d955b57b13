"""The request's inputs opened as one wide Source, whatever layout they came in."""

from __future__ import annotations

from ..request import Request
from .formats import dialect_of, open_source
from .source import Source


def open_inputs(request: Request) -> tuple[Source, list[str]]:
    """One wide Source for the request's inputs, and notes about what was done to them."""
    inputs = request.inputs
    if inputs.frame is not None:
        from .tables import source_from_data

        return source_from_data(inputs.frame), []
    if inputs.is_one_wide_file:
        # One wide file: no join, no pivot, no pyarrow.compute to import.
        source = open_source(inputs.paths[0], inputs.input_format, dialect_of(request))
        notes, source.notes = source.notes, []  # what the reader noticed (a sniffed delimiter), said once
        return source, notes
    from .reshape import open_reshaped

    return open_reshaped(request)
