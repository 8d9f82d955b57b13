"""Publication figures (PNG, SVG, PDF) with matplotlib, the optional ``losscli[plot]`` extra."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError
from .data import MATPLOTLIB_COLOURS, Calibration, Curve, Histogram

FORMATS = (".png", ".svg", ".pdf")


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


def _save(fig: Any, path: str) -> None:
    import matplotlib.pyplot as plt

    from ..report.writers import atomic_path

    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise OptionError(f"--output {path}: write a figure as {', '.join(FORMATS)}")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=suffix[1:], dpi=100)
    plt.close(fig)


def lines(path: str, title: str, xlabel: str, ylabel: str, curves: Sequence[Curve], size: tuple[int, int]) -> None:
    fig, ax = _figure(size)
    for i, c in enumerate(curves):
        ax.plot(c.x, c.y, label=c.label, color=MATPLOTLIB_COLOURS[i % len(MATPLOTLIB_COLOURS)])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    _save(fig, path)


def histograms(path: str, hists: dict[str, Histogram], size: tuple[int, int]) -> None:
    fig, ax = _figure(size)
    for i, (name, h) in enumerate(hists.items()):
        ax.stairs(h.counts, h.edges, label=name, color=MATPLOTLIB_COLOURS[i % len(MATPLOTLIB_COLOURS)])
    ax.set(title="residuals (y_pred - y_true)", xlabel="residual", ylabel="rows")
    ax.legend()
    _save(fig, path)


def calibration(path: str, tables: dict[str, Calibration], size: tuple[int, int]) -> None:
    fig, ax = _figure(size)
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfect")
    for i, (name, table) in enumerate(tables.items()):
        mean_p, freq, _ = table.table()
        ax.plot(mean_p, freq, marker="o", label=name, color=MATPLOTLIB_COLOURS[i % len(MATPLOTLIB_COLOURS)])
    ax.set(
        title="calibration", xlabel="mean predicted probability", ylabel="fraction of y = 1", xlim=(0, 1), ylim=(0, 1)
    )
    ax.legend()
    _save(fig, path)


def group_bars(
    path: str, title: str, groups: Sequence[str], values: dict[str, list[float]], size: tuple[int, int]
) -> None:
    fig, ax = _figure(size)
    x = np.arange(len(groups))
    width = 0.8 / max(len(values), 1)
    for i, (name, vals) in enumerate(values.items()):
        ax.bar(x + i * width, vals, width, label=name, color=MATPLOTLIB_COLOURS[i % len(MATPLOTLIB_COLOURS)])
    ax.set_xticks(x + width * (len(values) - 1) / 2, list(groups))
    ax.set(title=title, ylabel="loss")
    ax.legend()
    _save(fig, path)
