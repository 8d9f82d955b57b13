"""Each recommendation rule of ``losscli advise``: fires when its condition holds, stays quiet otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from losscli import losses
from losscli.core.diagnose import Diagnosis, DiagnosticsState, ModelBatch, finish
from losscli.report.advice import RULES, explain_rules, recommend

REGRESSION_LABELS = ("mse", "mae", "log_cosh")


def diagnose(
    task: str, y: np.ndarray, preds: dict[str, np.ndarray], labels: tuple[str, ...], primary: str
) -> Diagnosis:
    """The diagnosis of in-memory arrays, losses from the registry's kernels."""
    probabilities = frozenset(m for m, p in preds.items() if task != "regression" and p.min() >= 0 and p.max() <= 1)
    state = DiagnosticsState(task, tuple(preds), labels, primary, probabilities, top=3)
    batches = {
        m: ModelBatch(p, None, {label: losses.get(label).per_row(y, p) for label in labels}) for m, p in preds.items()
    }
    state.update(y, None, 0, lambda rows: (rows + 1).tolist(), batches)
    return finish(state)


def regression(preds: dict[str, np.ndarray], y: np.ndarray) -> Diagnosis:
    return diagnose("regression", y, preds, REGRESSION_LABELS, "mse")


RNG = np.random.default_rng(7)
N = 2000
Y = RNG.normal(100, 20, size=N)
GAUSSIAN = Y + RNG.normal(0, 5, size=N)
SPIKY = Y + RNG.normal(0, 1, size=N)
SPIKY[:10] += 400  # 0.5% of rows, almost all the squared error
HEAVY = Y + RNG.standard_t(2.5, size=N) * 3


def fired(d: Diagnosis) -> list[str]:
    return recommend(d).rules


def test_concentrated_recommends_huber_at_the_robust_scale() -> None:
    d = regression({"gauss": GAUSSIAN, "spiky": SPIKY}, Y)
    rec = recommend(d)
    assert "concentrated" in rec.rules
    assert d.huber_spec is not None
    assert rec.loss == d.huber_spec
    # The robust scale: 1.345 x the median of 1.4826 MAD over models, to 3 digits.
    mads = [np.median(np.abs(r - np.median(r))) for r in (GAUSSIAN - Y, SPIKY - Y)]
    assert rec.loss == f"huber:delta={float(f'{1.345 * np.median([1.482602218505602 * m for m in mads]):.3g}')!r}"
    text = " ".join(rec.reasons)
    assert "spiky: the worst 1% of rows (20) hold" in text
    assert f"mse ranks it last, mae and {d.huber_label} first" in text


def test_concentrated_stays_quiet_on_gaussian_errors() -> None:
    assert "concentrated" not in fired(regression({"a": GAUSSIAN}, Y))


def test_heavy_tails() -> None:
    d = regression({"heavy": HEAVY}, Y)
    assert d.models["heavy"].metrics["rmse_over_mae"] >= 1.5
    rec = recommend(d)
    assert "heavy_tails" in rec.rules
    assert rec.loss.startswith("huber:delta=")
    assert "heavy_tails" not in fired(regression({"a": GAUSSIAN}, Y))


def test_gaussian_recommends_mse() -> None:
    rec = recommend(regression({"a": GAUSSIAN, "b": Y + RNG.normal(0, 6, size=N)}, Y))
    assert rec.rules[0] == "gaussian"
    assert rec.loss == "mse"
    assert "gaussian" not in fired(regression({"spiky": SPIKY}, Y))


def test_mse_mae_flip() -> None:
    rec = recommend(regression({"gauss": GAUSSIAN, "spiky": SPIKY}, Y))
    assert "mse_mae_flip" in rec.rules
    assert "gauss and spiky swap places between mse and mae" in " ".join(rec.reasons)
    assert "mse_mae_flip" not in fired(regression({"a": GAUSSIAN, "b": Y + RNG.normal(0, 9, size=N)}, Y))


def test_biased() -> None:
    rec = recommend(regression({"shifted": Y + 8 + RNG.normal(0, 5, size=N)}, Y))
    assert "biased" in rec.rules
    assert "shifted: predictions are too high by 7.97 on average" in " ".join(rec.reasons)
    assert "biased" not in fired(regression({"a": GAUSSIAN}, Y))


TRUE_P = RNG.uniform(0.05, 0.95, size=N)
LABELS = (RNG.uniform(size=N) < TRUE_P).astype(float)  # calibrated by construction


def binary(preds: dict[str, np.ndarray], primary: str = "bce") -> Diagnosis:
    labels = (primary, "brier") if primary == "bce" else (primary,)
    return diagnose("binary", LABELS, preds, labels, primary)


def test_scores_are_read_as_logits() -> None:
    rec = recommend(binary({"svm": 3 * (TRUE_P - 0.5)}, primary="bce_logits"))
    assert rec.rules[0] == "scores"
    assert rec.loss == "bce_logits"
    assert "scores" not in fired(binary({"p": TRUE_P}))


def test_log_loss_for_probabilities() -> None:
    rec = recommend(binary({"p": TRUE_P}))
    assert "log_loss" in rec.rules
    assert rec.loss == "bce"
    assert "log_loss" not in fired(binary({"svm": 3 * (TRUE_P - 0.5)}, primary="bce_logits"))


def test_confident_mistakes() -> None:
    wrong = TRUE_P.copy()
    wrong[:20] = np.where(LABELS[:20] == 1, 1e-12, 1 - 1e-12)
    rec = recommend(binary({"bold": wrong}))
    assert "confident_mistakes" in rec.rules
    assert "bold: the worst 1% of rows hold" in " ".join(rec.reasons)
    assert "confident_mistakes" not in fired(binary({"p": TRUE_P}))


def test_miscalibrated_says_which_way() -> None:
    logit = np.log(TRUE_P / (1 - TRUE_P))
    sharp = 1 / (1 + np.exp(-4 * logit))
    rec = recommend(binary({"sharp": sharp}))
    assert "miscalibrated" in rec.rules
    assert "(over-confident)" in " ".join(rec.reasons)
    assert "miscalibrated" not in fired(binary({"p": TRUE_P}))


def test_within_noise_suggests_baseline_and_ci() -> None:
    twin = GAUSSIAN + RNG.normal(0, 0.01, size=N)
    rec = recommend(regression({"a": GAUSSIAN, "b": twin}, Y))
    assert "within_noise" in rec.rules
    assert "--baseline" in " ".join(rec.reasons)
    assert "--ci 0.95" in " ".join(rec.reasons)
    far = Y + RNG.normal(0, 15, size=N)
    assert "within_noise" not in fired(regression({"a": GAUSSIAN, "far": far}, Y))


TESTED = {
    "concentrated",
    "heavy_tails",
    "gaussian",
    "mse_mae_flip",
    "biased",
    "scores",
    "log_loss",
    "confident_mistakes",
    "miscalibrated",
    "within_noise",
}


def test_every_rule_has_a_test() -> None:
    assert {r.name for r in RULES} == TESTED


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_is_explained(rule: object) -> None:
    text = explain_rules()
    assert f"{rule.name} [" in text  # type: ignore[attr-defined]


def test_within_noise_with_a_baseline_compares_every_model_with_it() -> None:
    twin = GAUSSIAN + RNG.normal(0, 0.01, size=N)
    far = Y + RNG.normal(0, 15, size=N)
    d = regression({"a": GAUSSIAN, "twin": twin, "far": far}, Y)
    d.baseline = "a"
    reasons = " ".join(recommend(d).reasons)
    assert "before calling twin better or worse than a" in reasons
    assert "far and a" not in reasons
