"""The request's inputs opened as one wide Source, whatever layout they came in."""

from __future__ import annotations

from ..request import Request
from .formats import open_source
from .source import Source, source_from_dataframe


def open_inputs(request: Request) -> tuple[Source, list[str]]:
    """One wide Source for the request's inputs, and notes about what was done to them."""
    inputs = request.inputs
    if inputs.frame is not None:
        return source_from_dataframe(inputs.frame), []
    if inputs.is_one_wide_file:
        # One wide file: no join, no pivot, no pyarrow.compute to import.
        return open_source(inputs.paths[0], inputs.input_format), []
    from .reshape import open_reshaped

    return open_reshaped(request)
