"""A progress bar on stderr for long runs on a terminal: rows, rows/s, time left.

Only when stderr is a terminal (stdout may be piped, as with pip or cargo), never
with --quiet, and only for runs that take more than about two seconds: shown from
the start when rows x the work per row (bootstrap included) says so, otherwise as
soon as the rows read so far project a longer run (many model columns, per-row
output, a slow disk: costs no estimate knows).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..read.rows import RowCount
    from ..read.source import Source
    from ..request import Request

PROGRESS_MIN_SECONDS = 2.0

# Rough costs in nanoseconds, measured by bench/ on a busy 2-core machine: reading a
# cell by format, one loss of one row, and a bootstrap replicate of one row (the
# draw, then one multiply-add per replicated column: per model its weight and its
# losses; the four-count draws, their float copy and the products give about 0.35 +
# 0.03 x 9 ns with both threads on 1M rows x 4 models x 2 losses). Only to decide whether
# to show a bar.
_READ_NS = {"parquet": 30.0, "arrow": 10.0, "jsonl": 400.0}
_TEXT_READ_NS = 80.0
_LOSS_NS = 5.0
_DRAW_NS = 0.35
_REPLICATE_COLUMN_NS = 0.03
# Once per column, whatever the rows: opening it, its first batch (about 0.25 ms for Parquet),
# its model's checks. 20,000 model columns take seconds on a file of a few rows.
_COLUMN_NS = 250_000.0


@contextlib.contextmanager
def progress_bar(source: Source, request: Request) -> Iterator[Callable[[int], None] | None]:
    """Yields a function to call with the rows of each batch (it draws the bar once the run
    is long enough), or None when no bar may be shown (quiet, no terminal, rows unknown).

    Drawn from the start when rows x the work per row (reading, every model and loss,
    the bootstrap's replicates) passes PROGRESS_MIN_SECONDS, else when the rows read
    so far project a run that long.
    """
    out = request.output
    # Per-row losses written to this terminal would be torn by the bar's redraws.
    rows_to_terminal = out.per_row and out.path is None and sys.stdout.isatty()
    if out.quiet or not sys.stderr.isatty() or rows_to_terminal:
        yield None
        return
    # Counted or estimated only here: reading a text file's windows is for a person's bar.
    total = estimated_rows(source, list(request.inputs.paths))
    if total is None:
        yield None
        return
    models = len(request.columns.preds) or None  # None: every column but the target
    losses = len(request.losses) or 4  # the task's defaults are four losses at most
    seconds = estimated_seconds(total.rows, source, models=models, losses=losses, replicates=request.stats.replicates)
    bar = _LazyBar(total, show_now=seconds >= PROGRESS_MIN_SECONDS)
    try:
        yield bar
    finally:
        bar.close()


class _LazyBar:
    """Counts rows; draws the bar from the start, or once the rows read so far project a run
    longer than PROGRESS_MIN_SECONDS (judged after a quarter of that, so the rate means something).

    An estimated total is shown as "about N rows"; once the rows read pass it, it follows them
    (1% ahead), so the bar never runs past its end.
    """

    def __init__(self, total: RowCount, show_now: bool) -> None:
        self.total, self.exact, self.done, self.started = total.rows, total.exact, 0, time.monotonic()
        self._bar: Any = None
        self._advance: Callable[[int, int], None] | None = None
        if show_now:
            self._show()

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def __call__(self, rows: int) -> None:
        self.done += rows
        if self.done > self.total:
            self.total = self.done + self.done // 100
        if self._advance is not None:
            self._advance(rows, self.total)
            return
        elapsed = time.monotonic() - self.started
        if elapsed >= PROGRESS_MIN_SECONDS / 4 and elapsed * self.total / max(self.done, 1) >= PROGRESS_MIN_SECONDS:
            self._show()

    def _show(self) -> None:
        self._bar, self._advance = _rich_bar(self.total, self.done, self.exact)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _rich_bar(total: int, done: int, exact: bool) -> tuple[Any, Callable[[int, int], None]]:
    """A started Rich progress bar on stderr at ``done`` of ``total`` rows ("about" when not
    ``exact``), and its advance (rows read, the total now)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class RowsPerSecond(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f} rows/s" if task.speed else "")

    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/" + ("" if exact else "about ") + "{task.total:,.0f} rows"),
        RowsPerSecond(),
        TimeRemainingColumn(),
    )
    # stdout is a pipe or a file here (results, per-row losses): only stderr's notes go above the bar.
    bar = Progress(*columns, console=Console(stderr=True), transient=True, redirect_stdout=False)
    task = bar.add_task("reading", total=total, completed=done)
    bar.start()
    return bar, lambda rows, now: bar.update(task, advance=rows, total=now)


def estimated_seconds(
    rows: int, source: Source, *, models: int | None = None, losses: int = 1, replicates: int = 0
) -> float:
    """A rough run time: rows x (reading every column + every loss + the bootstrap), plus a
    fixed cost per column."""
    columns = len(source.schema.names)
    models = max(columns - 1, 1) if models is None else models
    per_row = _READ_NS.get(source.format, _TEXT_READ_NS) * columns + _LOSS_NS * models * losses
    if replicates:
        per_row += replicates * (_DRAW_NS + _REPLICATE_COLUMN_NS * models * (losses + 1))
    return (rows * per_row + columns * _COLUMN_NS) * 1e-9


def estimated_rows(source: Source, files: list[str]) -> RowCount | None:
    """Rows in the input: counted where the file says (Parquet footers), else estimated
    (text from its bytes); None when unknown (stdin) or the file cannot be read again."""
    import pyarrow as pa

    from ..read.rows import count_rows

    try:
        return count_rows(source, files)
    except (OSError, ValueError, pa.ArrowException):  # the run itself says what is wrong with a file
        return None
