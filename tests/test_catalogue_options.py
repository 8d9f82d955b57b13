"""The peers' options: ignore_index, sum reduction, unnormalized KL, D2 skill scores, the
multiclass hinge forms. Expected values come from scikit-learn, SciPy or the peers'
published examples, never from losscli."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import rel_entr
from sklearn import metrics
from typer.testing import CliRunner

from losscli import evaluate, losses
from losscli.cli import app
from losscli.errors import BadValueError, OptionError

from .conftest import SAMPLE

runner = CliRunner()


# --- torchmetrics' published examples (docstring of multiclass_hinge_loss) ----------------------

TM_PREDS = np.array([[0.25, 0.20, 0.55], [0.55, 0.05, 0.40], [0.10, 0.30, 0.60], [0.90, 0.05, 0.05]])
TM_TARGET = np.array([0, 1, 2, 0])


def test_multiclass_hinge_forms_give_torchmetrics_published_values() -> None:
    assert losses.get("multiclass_hinge").per_row(TM_TARGET, TM_PREDS).mean() == pytest.approx(0.9125, abs=5e-5)
    squared = losses.get("multiclass_squared_hinge").per_row(TM_TARGET, TM_PREDS).mean()
    assert squared == pytest.approx(1.1131, abs=5e-5)
    # one-vs-all: torchmetrics returns the per-class means [0.8750, 1.1250, 1.1000]; losscli their mean
    ova = losses.get("ova_hinge").per_row(TM_TARGET, TM_PREDS).mean()
    assert ova == pytest.approx(np.mean([0.8750, 1.1250, 1.1000]), abs=5e-5)


def test_keras_categorical_hinge_is_floored_and_ignores_negative_rivals() -> None:
    # all other scores negative: Keras' neg term is max((1 - t) z) = 0, so the loss is 1 - z_y
    got = losses.get("categorical_hinge").per_row(np.array([0, 0]), np.array([[0.5, -3.0, -2.0], [4.0, 1.0, 0.0]]))
    assert got.tolist() == [0.5, 0.0]


# --- smooth_l1 beta = 0 -------------------------------------------------------------------------


def test_smooth_l1_with_beta_zero_is_the_l1_loss() -> None:
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=100), rng.normal(size=100)
    df = pd.DataFrame({"y": y, "m": p})
    got = evaluate(df, ["smooth_l1:beta=0"])["value"].iloc[0]
    assert got == pytest.approx(metrics.mean_absolute_error(y, p), rel=1e-12)


# --- kl_div on rows that do not sum to 1 ---------------------------------------------------------


def _kl_frame() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    t = np.array([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    p = np.array([[0.3, 0.3, 0.3], [0.5, 0.6, 0.2], [0.1, 0.2, 0.3]])  # rows sum to 0.9, 1.3, 0.6
    cols = {f"y.{c}": t[:, i] for i, c in enumerate("abc")} | {f"m.{c}": p[:, i] for i, c in enumerate("abc")}
    return pd.DataFrame(cols), t, p


def test_kl_div_refuses_rows_that_do_not_sum_to_one_and_says_how_to_allow_them() -> None:
    df, _, _ = _kl_frame()
    with pytest.raises(BadValueError, match="kl_div:unnormalized=true"):
        evaluate(df, ["kl_div"], target="y")


def test_kl_div_unnormalized_is_sum_t_log_t_over_p_as_torch_and_optax() -> None:
    df, t, p = _kl_frame()
    got = evaluate(df, ["kl_div:unnormalized=true"], target="y")["value"].iloc[0]
    assert got == pytest.approx(rel_entr(t, p).sum(axis=1).mean(), rel=1e-12)


# --- ignore_index ------------------------------------------------------------------------------


def _ignore_frame(label_type: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    p = rng.dirichlet([1, 1, 1], 60)
    y = rng.integers(0, 3, 60)
    ignored = rng.random(60) < 0.2
    target: list[object] = [-100 if i else int(v) for v, i in zip(y, ignored, strict=True)]
    if label_type == "text":
        target = [str(v) for v in target]
    cols = {"y": target} | {f"m.{k}": p[:, k] for k in range(3)}
    return pd.DataFrame(cols), y, p, ignored


@pytest.mark.parametrize("label_type", ["number", "text"])
def test_ignore_index_leaves_the_rows_out_of_value_and_n(label_type: str) -> None:
    df, y, p, ignored = _ignore_frame(label_type)
    got = evaluate(df, ["cce:ignore_index=-100", "multiclass_hinge:ignore_index=-100"])
    keep = ~ignored
    assert got["n"].tolist() == [int(keep.sum())] * 2
    assert got["value"].iloc[0] == pytest.approx(metrics.log_loss(y[keep], p[keep], labels=[0, 1, 2]), rel=1e-12)
    assert got["value"].iloc[1] == pytest.approx(metrics.hinge_loss(y[keep], p[keep], labels=[0, 1, 2]), rel=1e-12)


def test_ignore_index_with_weights_gives_the_left_out_rows_no_weight() -> None:
    df, y, p, ignored = _ignore_frame("number")
    w = np.linspace(0.5, 2.0, len(df))
    df["w"] = w
    got = evaluate(df, ["cce:ignore_index=-100"], weight="w")["value"].iloc[0]
    keep = ~ignored
    assert got == pytest.approx(metrics.log_loss(y[keep], p[keep], sample_weight=w[keep], labels=[0, 1, 2]))


def test_ignore_index_is_said_in_a_note(tmp_path: Path) -> None:
    df, _, _, ignored = _ignore_frame("number")
    path = tmp_path / "ignore.csv"
    df.to_csv(path, index=False)
    result = runner.invoke(app, ["eval", str(path), "-l", "cce:ignore_index=-100", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert f"left out {int(ignored.sum())} row(s) whose target is -100 (ignore_index)" in result.stderr


def test_two_different_ignore_index_values_are_refused() -> None:
    df, _, _, _ = _ignore_frame("number")
    with pytest.raises(OptionError, match="different ignore_index"):
        evaluate(df, ["cce:ignore_index=-100", "nll:ignore_index=3"])


# --- --reduction sum ---------------------------------------------------------------------------


def test_sum_reduction_is_sklearn_normalize_false() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 50).astype(float)
    p = rng.uniform(0.01, 0.99, 50)
    w = rng.uniform(0.5, 2.0, 50)
    df = pd.DataFrame({"y": y, "m": p, "w": w})
    got = evaluate(df, ["bce", "zero_one"], weight="w", reduction="sum")
    assert got["value"].iloc[0] == pytest.approx(metrics.log_loss(y, p, sample_weight=w, normalize=False), rel=1e-12)
    assert got["value"].iloc[1] == pytest.approx(
        metrics.zero_one_loss(y, p > 0.5, sample_weight=w, normalize=False), rel=1e-12
    )


def test_sum_reduction_refuses_a_finished_loss_and_is_in_the_signature() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0], "m": [1.5, 2.5]})
    with pytest.raises(OptionError, match="rmse is finished after the mean"):
        evaluate(df, ["rmse"], reduction="sum")
    result = runner.invoke(
        app, ["eval", str(SAMPLE / "house_prices.csv"), "-l", "mae", "--reduction", "sum", "-f", "json", "--meta"]
    )
    assert result.exit_code == 0, result.output
    assert "reduction:sum" in result.stdout


# --- D2 skill scores ----------------------------------------------------------------------------


def _house() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "house_prices.csv")


def test_d2_ranks_higher_first_and_marks_the_highest_best() -> None:
    df = _house()
    result = runner.invoke(app, ["eval", str(SAMPLE / "house_prices.csv"), "-l", "d2_absolute_error", "-f", "csv"])
    assert result.exit_code == 0, result.output
    order = [line.split(",")[0] for line in result.stdout.splitlines()[1:]]
    expected = sorted(["linear", "gbm", "knn"], key=lambda m: -metrics.d2_absolute_error_score(df["y"], df[m]))
    assert order == expected


@pytest.mark.parametrize("spec", ["d2_absolute_error", "d2_pinball:alpha=0.8", "d2_tweedie", "d2_pinball:alpha=0.1"])
def test_d2_per_group_and_in_chunks_equals_scikit_learn(spec: str) -> None:
    df = _house()
    got = evaluate(df, [spec], by="region", id_column="id")
    name, _, rest = spec.partition(":")
    kwargs = {k: float(v) for k, v in (kv.split("=") for kv in rest.split(":") if kv)}
    fn = {
        "d2_absolute_error": metrics.d2_absolute_error_score,
        "d2_pinball": metrics.d2_pinball_score,
        "d2_tweedie": metrics.d2_tweedie_score,
    }[name]
    for _, row in got.iterrows():
        rows = df if row["region"] == "(all)" else df[df["region"] == row["region"]]
        assert row["value"] == pytest.approx(fn(rows["y"], rows[row["model"]], **kwargs), rel=1e-9)


def test_d2_does_not_depend_on_chunks() -> None:
    df = _house()
    specs = ["d2_absolute_error", "d2_tweedie", "d2_pinball:alpha=0.3"]
    whole = evaluate(df, specs, id_column="id", by="region")
    chunked = evaluate(df, specs, id_column="id", by="region", chunk_rows=7)
    np.testing.assert_allclose(chunked["value"], whole["value"], rtol=1e-12)


def test_d2_baseline_verdict_reads_higher_as_better() -> None:
    result = runner.invoke(
        app,
        ["eval", str(SAMPLE / "house_prices.csv"), "-l", "d2_tweedie", "--baseline", "gbm", "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    import json

    rows = {r["model"]: r for r in json.loads(result.stdout)}
    for model, row in rows.items():
        if row["verdict"] in ("better", "worse"):
            assert (row["verdict"] == "better") == (row["delta"] > 0), model


def test_d2_absolute_error_with_ci_is_refused() -> None:
    with pytest.raises(OptionError, match="weighted quantile of the targets"):
        evaluate(_house(), ["d2_absolute_error"], ci=0.9)


def test_d2_tweedie_bootstrap_replicates_are_d2_under_poisson_weights() -> None:
    """Each replicate is scikit-learn's D2 with the row weights w * r, r the replicate's Poisson draws."""
    from losscli.core.bootstrap import replicate_weights
    from losscli.core.stats import percentile_interval

    df = _house()
    w = np.linspace(0.5, 2.0, len(df))
    df["w"] = w
    got = evaluate(df, ["d2_tweedie"], id_column="id", weight="w", ci=0.9, bootstrap=120, seed=3, baseline="gbm")
    r = replicate_weights(3, 0, len(df), 120)
    for model in ("linear", "gbm"):
        reps = np.array([metrics.d2_tweedie_score(df["y"], df[model], sample_weight=w * r[:, b]) for b in range(120)])
        low, high = percentile_interval(reps, 0.9)
        row = got[got["model"] == model].iloc[0]
        assert row["ci_low"] == pytest.approx(low, rel=1e-10)
        assert row["ci_high"] == pytest.approx(high, rel=1e-10)


def test_d2_on_a_constant_target_is_one_when_perfect_and_zero_otherwise() -> None:
    # scikit-learn's force_finite for d2_absolute_error; its d2_tweedie_score divides by zero
    # there, and losscli applies the same force_finite rule to it.
    df = pd.DataFrame({"y": [2.0, 2.0, 2.0], "good": [2.0, 2.0, 2.0], "bad": [1.0, 2.0, 3.0]})
    got = evaluate(df, ["d2_absolute_error", "d2_tweedie"])
    for _, row in got.iterrows():
        if row["loss"] == "d2_absolute_error":
            assert row["value"] == metrics.d2_absolute_error_score(df["y"], df[row["model"]])
        assert row["value"] == (1.0 if row["model"] == "good" else 0.0)


def test_fail_above_on_a_skill_score_is_refused() -> None:
    result = runner.invoke(
        app, ["eval", str(SAMPLE / "house_prices.csv"), "-l", "d2_tweedie", "--fail-above", "d2_tweedie=0.5"]
    )
    assert result.exit_code == 2
    assert "skill score" in result.stderr


def test_per_row_of_a_skill_score_is_refused() -> None:
    result = runner.invoke(app, ["eval", str(SAMPLE / "house_prices.csv"), "-l", "d2_tweedie", "--per-row"])
    assert result.exit_code == 2
    assert "a score of all rows together" in result.stderr


def test_ignore_index_on_soft_targets_is_refused() -> None:
    df, _, _ = _kl_frame()
    with pytest.raises(OptionError, match="soft targets"):
        evaluate(df, ["kl_div:unnormalized=true:ignore_index=0"], target="y")


def test_every_row_ignored_is_one_sentence() -> None:
    df = pd.DataFrame({"y": [-100, -100], "m.a": [0.5, 0.5], "m.b": [0.5, 0.5]})
    with pytest.raises(BadValueError, match="every row's target is -100"):
        evaluate(df, ["cce:ignore_index=-100"])


def test_sum_reduction_intervals_are_intervals_of_the_sum() -> None:
    df = _house()
    got = evaluate(df, ["mae"], id_column="id", reduction="sum", ci=0.9, bootstrap=200)
    total = float(np.abs(df["y"] - df["linear"]).sum())
    row = got[got["model"] == "linear"].iloc[0]
    assert row["value"] == pytest.approx(total, rel=1e-12)
    assert row["ci_low"] < total < row["ci_high"]
    assert row["ci_high"] - row["ci_low"] > 0.05 * total  # the spread of a sum, not of a mean


def test_d2_tweedie_intervals_per_group_do_not_depend_on_chunks() -> None:
    df = _house()
    kwargs = {"id_column": "id", "by": "region", "ci": 0.9, "bootstrap": 120, "baseline": "knn"}
    whole = evaluate(df, ["d2_tweedie"], **kwargs)
    chunked = evaluate(df, ["d2_tweedie"], chunk_rows=17, **kwargs)
    for column in ("value", "ci_low", "ci_high", "delta_ci_low", "delta_ci_high"):
        np.testing.assert_allclose(chunked[column], whole[column], rtol=1e-10)
