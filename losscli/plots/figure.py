"""Publication figures (PNG, SVG, PDF) with matplotlib, the optional ``losscli[plot]`` extra.

Each picture is drawn by a ``*_figure`` function that returns the figure; the
plain functions save it to a path (``losscli plot --output``), ``svg_text``
gives it as SVG text (the HTML report inlines it). Lines differ in dash and
marker as well as colour, so a print in black and white still tells them apart.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError, OutputError
from .data import MATPLOTLIB_COLOURS, Calibration, Curve, Histogram, QuantileCalibration, calibration_words

FORMATS = (".png", ".svg", ".pdf")
_DASHES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")


def _figure(size: tuple[int, int]) -> tuple[Any, Any]:
    try:
        import matplotlib
    except ImportError:
        raise OptionError("--output needs matplotlib: pip install 'losscli[plot]'") from None
    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(size[0] / 100, size[1] / 100), dpi=100)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _text(label: str) -> str:
    """A name as matplotlib shows it literally: ``$`` would start mathtext, a leading ``_``
    would hide the entry from the legend."""
    label = label.replace("$", r"\$")
    return " " + label if label.startswith("_") else label


def _line_style(i: int) -> dict[str, Any]:
    return {"color": MATPLOTLIB_COLOURS[i % len(MATPLOTLIB_COLOURS)], "linestyle": _DASHES[i % len(_DASHES)]}


def _save(fig: Any, path: str) -> None:
    import matplotlib.pyplot as plt

    from ..report.writers import output_path

    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        plt.close(fig)
        raise OptionError(f"--output {path}: write a figure as {', '.join(FORMATS)}")
    fig.tight_layout()
    try:
        with output_path(path) as target:
            fig.savefig(target, format=suffix[1:], dpi=100)
    except OSError as exc:
        raise OutputError(f"--output {path}: cannot be written ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)


def svg_text(fig: Any) -> str:
    """The figure as SVG text, the same bytes for the same figure: text stays text (small,
    searchable, drawn in the reader's sans-serif), ids and metadata are fixed."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "losscli"}), warnings.catch_warnings():
        # A name in a script DejaVu lacks only costs its width estimate; the browser draws it.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buffer.getvalue()


def lines_figure(title: str, xlabel: str, ylabel: str, curves: Sequence[Curve], size: tuple[int, int]) -> Any:
    fig, ax = _figure(size)
    for i, c in enumerate(curves):
        ax.plot(c.x, c.y, label=_text(c.label), **_line_style(i))
    ax.set(title=_text(title), xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    return fig


def lines(path: str, title: str, xlabel: str, ylabel: str, curves: Sequence[Curve], size: tuple[int, int]) -> None:
    _save(lines_figure(title, xlabel, ylabel, curves, size), path)


def histograms_figure(hists: dict[str, Histogram], size: tuple[int, int]) -> Any:
    fig, ax = _figure(size)
    for i, (name, h) in enumerate(hists.items()):
        outside = f" ({h.below} below, {h.above} above)" if h.below or h.above else ""
        ax.stairs(h.counts, h.edges, label=_text(name) + outside, linewidth=1.5, **_line_style(i))
    ax.set(title="residuals (y_pred - y_true)", xlabel="residual", ylabel="rows")
    ax.legend()
    return fig


def histograms(path: str, hists: dict[str, Histogram], size: tuple[int, int]) -> None:
    _save(histograms_figure(hists, size), path)


def calibration_figure(
    tables: Mapping[str, Calibration | QuantileCalibration],
    size: tuple[int, int],
    *,
    top_label: bool = False,
    positive: str | None = None,
) -> Any:
    """A reliability diagram; ``top_label``: multiclass, the predicted class's probability
    against how often it is the true class; quantile tables: each level against the share
    of targets at or below it."""
    fig, ax = _figure(size)
    ax.plot([0, 1], [0, 1], color="gray", linestyle=":", label="perfect")
    for i, (name, table) in enumerate(tables.items()):
        mean_p, freq, _ = table.table()
        ax.plot(mean_p, freq, marker=_MARKERS[i % len(_MARKERS)], label=_text(name), **_line_style(i))
    ylabel = "fraction where it is the true class" if top_label else calibration_words(tables, positive)[2]
    xlabel = "mean probability of the predicted class" if top_label else "mean predicted probability"
    title = "calibration"
    if any(isinstance(t, QuantileCalibration) for t in tables.values()):
        title, xlabel, ylabel = calibration_words(tables)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(0, 1), ylim=(0, 1))
    ax.legend()
    return fig


def calibration(
    path: str,
    tables: Mapping[str, Calibration | QuantileCalibration],
    size: tuple[int, int],
    positive: str | None = None,
) -> None:
    _save(calibration_figure(tables, size, positive=positive), path)


def group_bars_figure(title: str, groups: Sequence[str], values: dict[str, list[float]], size: tuple[int, int]) -> Any:
    fig, ax = _figure(size)
    x = np.arange(len(groups))
    width = 0.8 / max(len(values), 1)
    for i, (name, vals) in enumerate(values.items()):
        colour = MATPLOTLIB_COLOURS[i % len(MATPLOTLIB_COLOURS)]
        hatch = _HATCHES[i % len(_HATCHES)]
        ax.bar(x + i * width, vals, width, label=_text(name), color=colour, hatch=hatch, edgecolor="black")
    ax.set_xticks(x + width * (len(values) - 1) / 2, [_text(g) for g in groups])
    ax.set(title=_text(title), ylabel="loss")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the bars, never over one
    return fig


def group_bars(
    path: str, title: str, groups: Sequence[str], values: dict[str, list[float]], size: tuple[int, int]
) -> None:
    _save(group_bars_figure(title, groups, values, size), path)
