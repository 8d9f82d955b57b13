"""The advise report as data (JSON, JSON Lines) and as text (terminal, Markdown)."""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ..core.diagnose import GAUSSIAN_RMSE_OVER_MAE, Diagnosis
from ..engines.advise import Advice
from ..errors import printable
from .advice import Recommendation, recommend
from .render import format_number

# Columns of "how each model errs": (metric, header), regression then classification.
REGRESSION_COLUMNS = (
    ("bias", "bias"),
    ("rmse", "rmse"),
    ("mae", "mae"),
    ("rmse_over_mae", "rmse/mae"),
    ("excess_kurtosis", "kurtosis"),
    ("mad", "mad"),
    ("top1_share", "top 1%"),
)
CLASSIFICATION_COLUMNS = (
    ("log_loss", "log loss"),
    ("top1_share", "top 1%"),
    ("ece", "ece"),
    ("mean_confidence", "confidence"),
    ("accuracy", "accuracy"),
    ("overconfidence", "over"),
)


@dataclass
class AdviseReport:
    """What ``advise`` says: the diagnosis, the recommendation, and what was read."""

    source: str
    target: str
    diagnosis: Diagnosis
    recommendation: Recommendation
    kinds: dict[str, str]
    class_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    id_column: str | None = None

    def worst_labels(self) -> list[str]:
        """The losses whose worst rows are shown: the primary one, and the recommended one if tracked."""
        d = self.diagnosis
        labels = [d.primary]
        rec = self.recommendation.loss
        if rec != d.primary and any(rec in r.worst for r in d.models.values()):
            labels.append(rec)
        return labels

    def to_data(self) -> dict[str, Any]:
        d = self.diagnosis
        return {
            "source": self.source,
            "task": d.task,
            "rows": d.rows,
            "target": {"column": self.target, **self._target()},
            "models": {
                m: {
                    "kind": self.kinds.get(m, "values"),
                    "n": r.n,
                    **_clean(r.metrics),
                    "approximate": list(r.approximate),
                }
                for m, r in d.models.items()
            },
            "losses": {label: _clean(values) for label, values in d.values.items()},
            "rankings": d.rankings,
            "agreement": [{"losses": [a, b], "kendall_tau": _num(t)} for (a, b), t in d.taus.items()],
            "disagreements": [
                {
                    "models": list(x.models),
                    "losses": list(x.losses),
                    "first_better": list(x.first_better),
                    "second_better": list(x.second_better),
                }
                for x in d.disagreements
            ],
            "worst_rows": {
                m: [
                    {"id": _id(row.id), "row": row.position + 1, "loss": label, "value": _num(row.value)}
                    for label in self.worst_labels()
                    for row in r.worst.get(label, [])
                ]
                for m, r in d.models.items()
            },
            "recommendation": {
                "loss": self.recommendation.loss,
                "reasons": self.recommendation.reasons,
                "rules": self.recommendation.rules,
            },
            "not_ranked": d.dropped,
            "notes": self.notes,
        }

    def _target(self) -> dict[str, Any]:
        d = self.diagnosis
        if d.task == "regression":
            return _clean(d.target)
        names = self.class_names or list(d.target)
        return {"classes": {names[int(i)] if int(i) < len(names) else i: v for i, v in d.target.items()}}


def report_of(advice: Advice, positive: str | None = None) -> AdviseReport:
    """The report of an advise pass: its diagnosis, the recommendation, and the class names."""
    layout = advice.layout
    d = advice.diagnosis
    # The other label by its name when the target holds just one besides the positive one.
    others = [label for label, is_positive in d.labels.items() if not is_positive]
    negative = others[0] if len(others) == 1 else f"not {positive}"
    names = list(layout.classes) or ([negative, positive] if positive else [])
    return AdviseReport(advice.source, layout.target, d, recommend(d), advice.kinds, names, advice.notes, layout.id)


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _clean(values: dict[str, float]) -> dict[str, float | None]:
    return {k: _num(float(v)) for k, v in values.items()}


def _id(value: object) -> object:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def render_json(report: AdviseReport) -> str:
    return json.dumps(report.to_data(), indent=2, ensure_ascii=False) + "\n"


def render_jsonl(report: AdviseReport) -> str:
    """One record per line: each model, ranking, disagreement, worst row, then the recommendation."""
    data = report.to_data()
    lines: list[dict[str, Any]] = [
        {
            "record": "data",
            "source": data["source"],
            "task": data["task"],
            "rows": data["rows"],
            "target": data["target"],
        }
    ]
    lines += [{"record": "model", "model": m, **v} for m, v in data["models"].items()]
    lines += [{"record": "ranking", "loss": k, "models": v} for k, v in data["rankings"].items()]
    lines += [{"record": "disagreement", **x} for x in data["disagreements"]]
    lines += [{"record": "worst_row", "model": m, **row} for m, rows in data["worst_rows"].items() for row in rows]
    lines.append({"record": "recommendation", **data["recommendation"]})
    return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)


def _fmt(x: float, digits: int) -> str:
    return "-" if not math.isfinite(x) else format_number(x, digits)


def _aligned(header: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> list[str]:
    """Columns padded to their widest cell: text (``left``) to the left, numbers to the right."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return lines


def _columns(report: AdviseReport) -> tuple[tuple[str, str], ...]:
    return REGRESSION_COLUMNS if report.diagnosis.task == "regression" else CLASSIFICATION_COLUMNS


def _what(report: AdviseReport, digits: int) -> str:
    d = report.diagnosis
    head = f"{report.source} · {d.task} · {d.rows} rows · target {report.target}"
    if d.task == "regression":
        t = d.target
        spread = (
            f"mean {_fmt(t['mean'], digits)}, sd {_fmt(t['std'], digits)}, "
            f"range {_fmt(t['min'], digits)} to {_fmt(t['max'], digits)}"
        )
    else:
        classes = report.to_data()["target"]["classes"]
        spread = "classes " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in classes.items())
    kinds = ", ".join(f"{m} ({report.kinds.get(m, 'values')})" for m in d.models)
    return f"{head}: {spread}\nmodels: {kinds}"


def _errs(report: AdviseReport, digits: int) -> list[str]:
    d = report.diagnosis
    cols = _columns(report)
    rows = [
        [m, *(_share_or_num(key, r.metrics.get(key, math.nan), digits) for key, _ in cols)] for m, r in d.models.items()
    ]
    return _aligned(["model", *(h for _, h in cols)], rows)


def _share_or_num(key: str, value: float, digits: int) -> str:
    if key == "top1_share" and math.isfinite(value):
        return f"{100 * value:.1f}%"
    return _fmt(value, digits)


def _legend(report: AdviseReport) -> str:
    if report.diagnosis.task == "regression":
        return (
            f"bias = mean(prediction - target); rmse/mae is {GAUSSIAN_RMSE_OVER_MAE:.3g} for Gaussian errors; "
            "kurtosis is excess (0 for Gaussian); top 1% = share of squared error in the worst 1% of rows"
        )
    return (
        "top 1% = share of log loss in the worst 1% of rows; ece over 10 bins; "
        "over = mean confidence - accuracy (> 0: over-confident)"
    )


def _rankings(report: AdviseReport, width: int = 100) -> list[str]:
    d = report.diagnosis
    rows = [[label, _tau(d, label), " > ".join(order)] for label, order in d.rankings.items()]
    lines = _aligned(["loss", f"tau vs {d.primary}", "best first"], rows, left=(0, 2))
    for x in d.disagreements:
        a, b = x.models
        lines += _wrap([f"flip: {a} vs {b}: {_prefer(x.first_better, a)}; {_prefer(x.second_better, b)}"], width)
    return lines


def _prefer(labels: tuple[str, ...], model: str) -> str:
    return f"{', '.join(labels)} {'prefers' if len(labels) == 1 else 'prefer'} {model}"


def _tau(d: Diagnosis, label: str) -> str:
    """Kendall's tau between the models' values under ``label`` and under the primary loss."""
    if label == d.primary:
        return ""
    tau = d.taus.get((d.primary, label), d.taus.get((label, d.primary), float("nan")))
    return "-" if not math.isfinite(tau) else f"{tau:+.2f}"


def _worst(report: AdviseReport, digits: int) -> list[str]:
    d = report.diagnosis
    lines = []
    for label in report.worst_labels():
        for m, r in d.models.items():
            rows = r.worst.get(label, [])
            cells = ", ".join(f"{_id(row.id)} ({_fmt(row.value, digits)})" for row in rows)
            lines.append(f"{m} under {label}: {cells}")
    return lines


def render_text(report: AdviseReport, digits: int = 4, width: int = 100) -> str:
    """The terminal report: what the data is, how each model errs, rankings, worst rows, advice.

    Prose lines are wrapped to ``width``, continued with an indent.
    """
    rec = report.recommendation
    by = f"by {report.id_column}" if report.id_column else "by row number"
    parts = [
        _what(report, digits),
        "",
        "How each model errs",
        *_errs(report, digits),
        *_wrap([_legend(report)], width),
        "",
        "Rankings under each loss",
        *_rankings(report, width),
        "",
        f"Worst rows ({by}; the loss in brackets)",
        *_wrap(_worst(report, digits), width),
        "",
        f"Recommendation: report {rec.loss}",
        *_wrap([f"- {reason}" for reason in rec.reasons], width),
    ]
    return "\n".join(parts) + "\n"


def _wrap(lines: list[str], width: int) -> list[str]:
    return [part for line in lines for part in textwrap.wrap(line, width, subsequent_indent="  ")]


def render_markdown(report: AdviseReport, digits: int = 4) -> str:
    d = report.diagnosis
    rec = report.recommendation
    cols = _columns(report)
    out = [f"## {report.source}", "", _what(report, digits).replace("\n", "  \n"), "", "### How each model errs", ""]
    out += _md_table(
        ["model", *(h for _, h in cols)],
        [[m, *(_share_or_num(k, r.metrics.get(k, math.nan), digits) for k, _ in cols)] for m, r in d.models.items()],
    )
    out += ["", _legend(report), "", "### Rankings", ""]
    out += _md_table(
        ["loss", f"tau vs {d.primary}", "best first"],
        [[label, _tau(d, label), " > ".join(order)] for label, order in d.rankings.items()],
    )
    out += ["", "### Worst rows", "", *(f"- {line}" for line in _worst(report, digits))]
    out += ["", f"### Recommendation: `{rec.loss}`", "", *(f"- {reason}" for reason in rec.reasons)]
    return "\n".join(out) + "\n"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def render_advice(report: AdviseReport, fmt: str, digits: int = 4, width: int = 100) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "jsonl":
        return render_jsonl(report)
    text = render_markdown(report, digits) if fmt == "markdown" else render_text(report, digits, width)
    # Names shown to a person: no escape sequence from a column name reaches the terminal.
    return "\n".join(printable(line) for line in text.split("\n"))
