"""Which loss to report, and why: the rules of ``losscli advise``, declared in one table.

Each rule is a condition on the diagnostics with its threshold, the loss it
recommends (or none: it only adds advice) and the sentence it says, citing the
numbers. ``RULES`` is read in order: the first rule that fires and names a loss
chooses the loss; every rule that fires adds its sentences. ``explain_rules``
prints the table (``losscli advise --rules``), and each rule has its own test.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from ..core.diagnose import GAUSSIAN_RMSE_OVER_MAE, Diagnosis

# "huber_at_scale" stands for Huber with delta = 1.345 x the robust scale, known only at the end.
HUBER_AT_SCALE = "huber_at_scale"
# A difference whose paired test has a p-value at or above this is within noise.
NOISE_P = 0.05


@dataclass(frozen=True)
class Rule:
    """One row of the table: when it fires (in words and as a check), what it recommends, why."""

    name: str
    task: str  # "regression", "classification" or "any"
    when: str
    threshold: float
    loss: str | None
    advice: str
    # (diagnosis, threshold, label of the loss chosen so far) -> its sentences; none: it does not fire.
    check: Callable[[Diagnosis, float, str], list[str]]


@dataclass(frozen=True)
class Recommendation:
    loss: str
    reasons: list[str]
    rules: list[str]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _num(x: float) -> str:
    return f"{x:.3g}"


def _place(d: Diagnosis, label: str, model: str) -> str:
    """Where ``label`` ranks ``model``: first, last, or an ordinal (2nd, 3rd, 4th...)."""
    order = d.rankings.get(label, [])
    if model not in order:
        return "-"
    i = order.index(model) + 1
    if i == 1:
        return "first"
    if i == len(order):
        return "last"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(i % 10 if i % 100 not in (11, 12, 13) else 0, "th")
    return f"{i}{suffix}"


def _worst_share(d: Diagnosis) -> tuple[str, float]:
    """The model whose worst 1% of rows hold the most of its loss. A share no larger than equal
    rows give (1 row of 3 holds 33% of a constant loss) says nothing, and counts as none."""
    shares = {
        m: share if (share := r.metrics.get("top1_share", math.nan)) > _even_share(r.n) * (1 + 1e-9) else math.nan
        for m, r in d.models.items()
    }
    model = max(shares, key=lambda m: shares[m] if math.isfinite(shares[m]) else -1.0)
    return model, shares[model]


def _even_share(n: int) -> float:
    """The share of the worst 1% of ``n`` rows when every row's loss is the same."""
    return min(1.0, math.ceil(n / 100) / n) if n > 0 else 1.0


def _concentrated(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    model, share = _worst_share(d)
    if not share >= threshold:
        return []
    report = d.models[model]
    k = max(1, math.ceil(report.n / 100))
    top = len(report.worst.get(d.primary, []))
    text = f"{model}: the worst 1% of rows ({k}) hold {_pct(share)} of its squared error"
    if top > k and "top_rows_share" in report.metrics:
        text = (
            f"{model}: its {top} worst rows hold {_pct(report.metrics['top_rows_share'])} of its squared error "
            f"(the worst 1%, {k} {'row' if k == 1 else 'rows'}: {_pct(share)})"
        )
    if len(d.models) > 1:
        text += "; " + _places(d, model, ["mse", "mae", *([d.huber_label] if d.huber_label else [])])
    return [text + "."]


def _places(d: Diagnosis, model: str, labels: list[str]) -> str:
    """'mse ranks it last, mae first and huber(delta=3) 2nd', losses with the same place grouped."""
    by_place: dict[str, list[str]] = {}
    for label in labels:
        if label in d.rankings:
            by_place.setdefault(_place(d, label, model), []).append(label)
    parts = [f"{' and '.join(names)} {place}" for place, names in by_place.items()]
    first, rest = parts[0], parts[1:]
    verb = "ranks" if len(by_place[next(iter(by_place))]) == 1 else "rank"
    name, place = first.rsplit(" ", 1)
    head = f"{name} {verb} it {place}"
    return head if not rest else f"{head}, " + " and ".join(rest)


def _heavy_tails(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    out = []
    for m, r in d.models.items():
        ratio = r.metrics.get("rmse_over_mae", math.nan)
        if ratio >= threshold and math.isfinite(ratio) and math.isfinite(r.metrics.get("rmse", math.nan)):
            out.append(
                f"{m}: RMSE/MAE = {_num(ratio)} against {_num(GAUSSIAN_RMSE_OVER_MAE)} for Gaussian errors "
                f"(excess kurtosis {_num(r.metrics['excess_kurtosis'])}): its errors have heavy tails."
            )
    return out[:1] if out else []


def _gaussian(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    if chosen:  # a rule above has fired
        return []
    rmse = {m: r.metrics.get("rmse", math.nan) for m, r in d.models.items()}
    exact = [m for m, v in rmse.items() if v == 0]
    unbounded = [m for m, v in rmse.items() if not math.isfinite(v)]
    rest = [r for m, r in d.models.items() if m not in exact and m not in unbounded]
    ratios = [v for r in rest if math.isfinite(v := r.metrics.get("rmse_over_mae", math.nan))]
    shares = [v for r in rest if math.isfinite(v := r.metrics.get("top1_share", math.nan))]
    said = []
    if exact:
        said.append(f"{', '.join(exact)} {'predicts' if len(exact) == 1 else 'predict'} every row exactly (no error).")
    if unbounded:
        said.append(f"{', '.join(unbounded)}: errors beyond float64, so no error statistic is finite.")
    if not ratios or not shares:
        return [*said, "No error shape to weigh: mse (rmse in the target's units) is the conventional choice."]
    every = "Every other" if exact or unbounded else "Every"
    return [
        *said,
        f"{every} model's RMSE/MAE is at most {_num(max(ratios))} (Gaussian: {_num(GAUSSIAN_RMSE_OVER_MAE)}) and "
        f"the worst 1% of rows hold at most {_pct(max(shares))} of the squared error: "
        "no outliers to guard against, so mse (rmse in the target's units) is the efficient choice.",
    ]


def _flips(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    for flip in d.disagreements:
        a, b = flip.models
        if {"mse", "mae"} <= {*flip.first_better, *flip.second_better} and (
            ("mse" in flip.first_better) != ("mae" in flip.first_better)
        ):
            return [f"{a} and {b} swap places between mse and mae: the loss, not the data alone, picks the winner."]
    return []


def _biased(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    out = []
    for m, r in d.models.items():
        bias, rmse = r.metrics.get("bias", math.nan), r.metrics.get("rmse", math.nan)
        if 0 < rmse < math.inf and bias * bias >= threshold * rmse * rmse:  # inf: no share to speak of
            way = "too high" if bias > 0 else "too low"
            out.append(
                f"{m}: predictions are {way} by {_num(abs(bias))} on average, "
                f"{_pct(bias * bias / (rmse * rmse))} of its MSE; correct the bias before comparing."
            )
    return out


def _scores(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    if not d.primary.endswith("_logits"):
        return []
    return [
        "The predictions are not probabilities, so they are read as logits: "
        f"{d.primary} is the log loss on them; for margins, report hinge."
    ]


def _log_loss(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    if d.primary.endswith("_logits"):
        return []
    return [
        f"With probabilities, log loss ({d.primary}) is the proper scoring rule: "
        "it rewards the right confidence, not only the right class."
    ]


def _confident_mistakes(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    model, share = _worst_share(d)
    if not share >= threshold or d.models[model].metrics.get("accuracy") == 1.0:
        return []  # a model right on every row makes no mistakes, confident or not
    return [
        f"{model}: the worst 1% of rows hold {_pct(share)} of its log loss (confident mistakes); "
        "add brier, which is bounded, to see the model without them."
    ]


def _miscalibrated(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    out = []
    for m, r in d.models.items():
        ece = r.metrics.get("ece", math.nan)
        if ece >= threshold:
            over = r.metrics["overconfidence"]
            way = "over-confident" if over > 0 else "under-confident"
            out.append(
                f"{m}: ECE {_num(ece)}, mean confidence {_num(r.metrics['mean_confidence'])} against accuracy "
                f"{_num(r.metrics['accuracy'])} ({way}); log loss counts this, zero_one does not."
            )
    return out


def _within_noise(d: Diagnosis, threshold: float, chosen: str = "") -> list[str]:
    label = chosen if chosen in d.paired else ("mae" if d.task == "regression" else d.primary)
    order = d.rankings.get(label, [])
    if len(order) < 2:
        return []
    base = d.baseline if d.baseline in order else None
    pairs = [(m, base) for m in order if m != base] if base else [(order[0], order[1])]
    tests = d.paired.get(label, {})
    out = []
    for a, b in pairs:
        test = tests.get((a, b)) or tests.get((b, a))
        if test is None or not test.p_value >= threshold:
            continue
        diff = f"{a} and {b} differ by {_num(abs(test.mean))} under {label}, p = {_num(test.p_value)}: within noise"
        if base:
            out.append(f"{diff}; add --ci 0.95 (or more rows) before calling {a} better or worse than {base}.")
        else:
            out.append(f"{diff}; add --baseline {b} --ci 0.95 before calling a winner.")
    return out


RULES: tuple[Rule, ...] = (
    Rule(
        "concentrated", "regression",
        "the worst 1% of some model's rows hold at least this share of its squared error "
        "(8.5% for Gaussian errors)", 0.3,
        HUBER_AT_SCALE,
        "MSE is then a verdict on a handful of rows: report Huber at the robust scale, which counts "
        "them linearly, and keep mse beside it.",
        _concentrated,
    ),
    Rule(
        "heavy_tails", "regression",
        "some model's RMSE/MAE is at least this (sqrt(pi/2) = 1.25 for Gaussian errors)", 1.5,
        HUBER_AT_SCALE,
        "Heavy-tailed errors make MSE noisy and outlier-driven: report Huber at the robust scale.",
        _heavy_tails,
    ),
    Rule(
        "gaussian", "regression", "neither rule above fires", math.nan, "mse",
        "Errors close to Gaussian: mse is the efficient, conventional choice.",
        _gaussian,
    ),
    Rule(
        "mse_mae_flip", "regression", "two models swap places between mse and mae", math.nan, None,
        "Say that the winner depends on the loss.",
        _flips,
    ),
    Rule(
        "biased", "regression", "some model's squared bias is at least this share of its MSE", 0.25, None,
        "A biased model is fixed by shifting it; say so before comparing losses.",
        _biased,
    ),
    Rule(
        "scores", "classification", "predictions are not probabilities (values outside [0, 1])", math.nan,
        "logits",
        "Report the log loss on logits (bce_logits, cce_logits); for margins, hinge.",
        _scores,
    ),
    Rule(
        "log_loss", "classification", "predictions are probabilities", math.nan, "log_loss",
        "Report log loss (bce, cce): the proper scoring rule.",
        _log_loss,
    ),
    Rule(
        "confident_mistakes", "classification",
        "the worst 1% of some model's rows hold at least this share of its log loss", 0.2, None,
        "Add brier, which is bounded, beside the log loss.",
        _confident_mistakes,
    ),
    Rule(
        "miscalibrated", "classification", "some model's binned ECE (10 bins) is at least this", 0.05, None,
        "Say how the model is miscalibrated; log loss penalises it, accuracy does not.",
        _miscalibrated,
    ),
    Rule(
        "within_noise", "any",
        "the best two models under the recommended loss differ with a paired-test p-value at least this "
        "(under mae when the loss is Huber at the robust scale)", NOISE_P, None,
        "Add --baseline and --ci before calling a winner.",
        _within_noise,
    ),
)  # fmt: skip


def _applies(rule: Rule, task: str) -> bool:
    return rule.task == "any" or (rule.task == "regression") == (task == "regression")


def _resolve(token: str, d: Diagnosis) -> str:
    if token == HUBER_AT_SCALE:
        return d.huber_spec or "mae"
    if token in ("log_loss", "logits"):
        return d.primary
    return token


def recommend(d: Diagnosis) -> Recommendation:
    """Apply RULES in order: the first one that fires with a loss chooses it; each one that fires says why."""
    loss: str | None = None
    reasons: list[str] = []
    fired: list[str] = []
    for rule in RULES:
        if not _applies(rule, d.task):
            continue
        sentences = rule.check(d, rule.threshold, _label_of(loss or "", d))
        if not sentences:
            continue
        fired.append(rule.name)
        reasons += sentences
        if loss is None and rule.loss is not None:
            loss = _resolve(rule.loss, d)
            if rule.loss == HUBER_AT_SCALE and d.huber_spec:
                reasons.append(f"Report {loss}: delta is 1.345 x the robust scale (1.4826 x MAD of the residuals).")
    return Recommendation(loss or d.primary, reasons, fired)


def _label_of(spec: str, d: Diagnosis) -> str:
    return d.huber_label if spec == d.huber_spec and d.huber_label else spec


def explain_rules() -> str:
    """The rule table as text, in the style of ``losscli losses --explain``."""
    out = ["The rules of losscli advise, in order: the first that fires and names a loss chooses it.", ""]
    for rule in RULES:
        threshold = "" if math.isnan(rule.threshold) else f" (threshold {rule.threshold:g})"
        out.append(f"{rule.name} [{rule.task}] -> {_loss_words(rule.loss)}")
        out.append(textwrap.fill(f"when: {rule.when}{threshold}", 88, initial_indent="  ", subsequent_indent="    "))
        out.append(textwrap.fill(f"says: {rule.advice}", 88, initial_indent="  ", subsequent_indent="    "))
    return "\n".join(out) + "\n"


def _loss_words(token: str | None) -> str:
    return {
        None: "adds advice",
        HUBER_AT_SCALE: "huber:delta=<1.345 x robust scale>",
        "log_loss": "bce / cce",
        "logits": "bce_logits / cce_logits",
    }.get(token, token or "")
