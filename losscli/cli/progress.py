"""A progress bar on stderr for long runs on a terminal: rows, rows/s, time left.

Never in a pipeline (stderr not a terminal), with --quiet, or for runs expected
to take less than about two seconds (rows x work per row, bootstrap included).
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

PROGRESS_MIN_SECONDS = 2.0

# Rough costs in nanoseconds, measured by bench/ on a busy 2-core machine: reading a
# cell by format, one loss of one row, and a bootstrap replicate of one row (the
# draw, then one multiply-add per replicated column: per model its weight and its
# losses; bench/scale.py's replicates rows give about 1.5 + 0.15 x 9 ns with both
# threads). Only to decide whether to show a bar.
_READ_NS = {"parquet": 30.0, "arrow": 10.0, "jsonl": 400.0}
_TEXT_READ_NS = 80.0
_LOSS_NS = 5.0
_DRAW_NS = 1.5
_REPLICATE_COLUMN_NS = 0.15


@contextlib.contextmanager
def progress_bar(source: Source, request: Request) -> Iterator[Callable[[int], None] | None]:
    """Yields a function to call with the rows of each batch, or None when no bar is shown.

    Shown when the run is expected to take more than PROGRESS_MIN_SECONDS: rows
    x the work per row (reading, every model and loss, the bootstrap's replicates).
    """
    total = estimated_rows(source, list(request.inputs.paths))
    if request.output.quiet or not sys.stderr.isatty() or total is None:
        yield None
        return
    models = len(request.columns.preds) or None  # None: every column but the target
    losses = len(request.losses) or 4  # the task's defaults are four losses at most
    seconds = estimated_seconds(total, source, models=models, losses=losses, replicates=request.stats.replicates)
    if seconds < PROGRESS_MIN_SECONDS:
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


def estimated_seconds(
    rows: int, source: Source, *, models: int | None = None, losses: int = 1, replicates: int = 0
) -> float:
    """A rough run time: rows x (reading every column + every loss + the bootstrap)."""
    columns = len(source.schema.names)
    models = max(columns - 1, 1) if models is None else models
    per_row = _READ_NS.get(source.format, _TEXT_READ_NS) * columns + _LOSS_NS * models * losses
    if replicates:
        per_row += replicates * (_DRAW_NS + _REPLICATE_COLUMN_NS * models * (losses + 1))
    return rows * per_row * 1e-9


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
