"""A progress bar on stderr for large inputs on a terminal: rows, rows/s, time left.

Never in a pipeline (stderr not a terminal), with --quiet, or for small inputs.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..read.source import Source
    from ..request import Request

PROGRESS_MIN_ROWS = 2_000_000


@contextlib.contextmanager
def progress_bar(source: Source, request: Request) -> Iterator[Callable[[int], None] | None]:
    """Yields a function to call with the rows of each batch, or None when no bar is shown."""
    quiet = request.output.quiet
    total = estimated_rows(source, list(request.inputs.paths))
    if quiet or not sys.stderr.isatty() or total is None or total < PROGRESS_MIN_ROWS:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class RowsPerSecond(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f} rows/s" if task.speed else "")

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/~{task.total:,.0f} rows"),
        RowsPerSecond(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading", total=total)
        yield lambda rows: bar.advance(task, rows)


def estimated_rows(source: Source, files: list[str]) -> int | None:
    """Rows in the input: exact for Parquet (footers), estimated from the file size for text."""
    try:
        if source.format == "parquet":
            import pyarrow.parquet as pq

            from ..read.parquet import parquet_files

            return int(sum(pq.read_metadata(f).num_rows for f in parquet_files(files[0])))
        if len(files) == 1 and files[0] != "-" and source.sample.num_rows:
            # The sample is the first megabyte of text: its bytes per row scale to the file.
            size = os.path.getsize(files[0])
            return int(size / (min(size, 1 << 20) / source.sample.num_rows))
    except (OSError, ValueError):
        return None
    return None
