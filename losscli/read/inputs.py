"""The request's inputs opened as one wide Source, whatever layout they came in."""

from __future__ import annotations

from pathlib import Path

from ..request import Request
from .formats import dialect_of, open_source
from .source import Source


def open_inputs(request: Request) -> tuple[Source, list[str]]:
    """One wide Source for the request's inputs, and notes about what was done to them."""
    inputs = request.inputs
    if inputs.frame is not None:
        from .tables import source_from_data

        return source_from_data(inputs.frame), []
    notes = _dataset_note(inputs.paths[0])
    if inputs.is_one_wide_file:
        # One wide file: no join, no pivot, no pyarrow.compute to import.
        source = open_source(inputs.paths[0], inputs.input_format, dialect_of(request))
        notes, source.notes = notes + source.notes, []  # what the reader noticed (a sniffed delimiter), said once
        return source, notes
    from .reshape import open_reshaped

    source, more = open_reshaped(request)
    return source, notes + more


def _dataset_note(path: str) -> list[str]:
    """A directory or glob: say how many files were read as one dataset."""
    import glob

    if not (Path(path).is_dir() or glob.has_magic(path)):
        return []
    from .parquet import parquet_files

    return [f"{path}: read {len(parquet_files(path))} file(s) as one dataset"]
