"""Plots drawn with characters (plotext): they work over ssh and in CI logs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .data import Calibration, Curve, Histogram, QuantileCalibration, calibration_words, colour

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Without colour (a CI log, TERM=dumb) each model is told apart by its marker, in the legend too.
MARKERS = ("*", "+", "x", "o", "#", "@", "%", "=")
# ...and in bars, by its fill.
FILLS = ("█", "▒", "░", "#", "=", "+", ":", "x")


def marker(index: int, color: bool) -> str:
    return "hd" if color else MARKERS[index % len(MARKERS)]


def _start(title: str, width: int, height: int, color: bool):  # type: ignore[no-untyped-def]
    import plotext as plt

    plt.clf()
    plt.plot_size(width, height)
    plt.theme("pro" if color else "clear")
    plt.title(title)
    return plt


def _finish(plt, color: bool) -> str:  # type: ignore[no-untyped-def]
    text: str = plt.build()
    if not color:
        text = _ANSI.sub("", text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def lines(
    title: str,
    xlabel: str,
    ylabel: str,
    curves: Sequence[Curve],
    *,
    width: int = 80,
    height: int = 20,
    color: bool = False,
) -> str:
    plt = _start(title, width, height, color)
    for i, curve in enumerate(curves):
        plt.plot(curve.x.tolist(), curve.y.tolist(), label=curve.label, color=colour(i), marker=marker(i, color))
    plt.xlabel(xlabel)
    plt.ylabel(ylabel)
    return _finish(plt, color)


def histograms(hists: dict[str, Histogram], *, width: int = 80, height: int = 20, color: bool = False) -> str:
    curves = [
        Curve(f"{name} ({h.below} below, {h.above} above)", h.centres, h.counts.astype(float))
        for name, h in hists.items()
    ]
    return lines(
        "residuals (y_pred - y_true) per model", "residual", "rows", curves, width=width, height=height, color=color
    )


def calibration(
    tables: Mapping[str, Calibration | QuantileCalibration],
    *,
    width: int = 80,
    height: int = 20,
    color: bool = False,
    positive: str | None = None,
) -> str:
    title, xlabel, ylabel = calibration_words(tables, positive)
    plt = _start(title, width, height, color)
    plt.plot([0, 1], [0, 1], label="perfect", color="gray", marker="hd" if color else ".")
    for i, (name, table) in enumerate(tables.items()):
        mean_p, freq, _ = table.table()
        plt.plot(mean_p.tolist(), freq.tolist(), label=name, color=colour(i), marker="dot" if color else MARKERS[i])
    plt.xlabel(xlabel)
    plt.ylabel(ylabel)
    return _finish(plt, color)


def group_bars(
    title: str,
    groups: Sequence[str],
    values: dict[str, list[float]],
    *,
    width: int = 80,
    height: int = 20,
    color: bool = False,
) -> str:
    """Horizontal bars, one per (group, model): readable without colour, unlike stacked columns."""
    from ..report.render import format_number

    del height
    label_width = max(len(g) for g in groups) if groups else 0
    model_width = max(len(m) for m in values) if values else 0
    finite = [v for vals in values.values() for v in vals if v == v and abs(v) != float("inf")]
    top = max(finite, default=1.0) or 1.0
    room = max(width - label_width - model_width - 14, 10)
    lines = [title]
    for g, group in enumerate(groups):
        for i, (model, vals) in enumerate(values.items()):
            value = vals[g]
            cells = room * max(value, 0.0) / top if value == value else 0.0
            bar = _bar(cells, i, color)
            if color:
                bar = f"\x1b[{_ANSI_COLOURS[i % len(_ANSI_COLOURS)]}m{bar}\x1b[0m"
            name = group if i == 0 else ""
            pad = " " * (room - int(cells))
            lines.append(f"{name:<{label_width}}  {model:<{model_width}}  {bar}{pad} {format_number(value)}")
    return "\n".join(lines) + "\n"


def _bar(cells: float, index: int, color: bool) -> str:
    """A bar of ``cells`` characters: eighth blocks in colour, a fill of its own per model without."""
    if color:
        return "█" * int(cells) + _EIGHTHS[int((cells - int(cells)) * 8)]
    fill = FILLS[index % len(FILLS)]
    return fill * round(cells) + " " * (int(cells) + 1 - round(cells))


_EIGHTHS = (" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
_ANSI_COLOURS = ("34", "31", "32", "33", "35", "36", "95", "90")  # the order of data.PALETTE
