"""A third fresh user's defects: readings losscli guessed wrong or crashed on (each failed before its fix)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import losscli
from losscli.cli import app

runner = CliRunner()


def _soft(tmp_path: Path, kind: str) -> tuple[str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(9)
    t = rng.dirichlet([1, 1, 1], 60)
    p = rng.dirichlet([2, 2, 2], 60)
    shown = {"probabilities": p, "scores": 3 * np.log(p) + 1, "log-probabilities": np.log(p)}[kind]
    frame = {f"y.{c}": t[:, j] for j, c in enumerate("abc")} | {f"m.{c}": shown[:, j] for j, c in enumerate("abc")}
    path = tmp_path / "soft.csv"
    pd.DataFrame(frame).to_csv(path, index=False, float_format="%.17g")
    return str(path), t, shown


@pytest.mark.parametrize("kind", ["probabilities", "scores", "log-probabilities"])
def test_soft_targets_get_default_losses_that_take_them(tmp_path: Path, kind: str) -> None:
    path, t, shown = _soft(tmp_path, kind)
    result = runner.invoke(app, ["eval", path, "-f", "csv"])
    assert result.exit_code == 0, result.output
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    log_p = shown - np.log(np.exp(shown).sum(axis=1, keepdims=True))  # log_softmax: log p itself for log p
    if kind == "probabilities":
        assert row["cce"] == pytest.approx(np.mean(-(t * np.log(shown)).sum(axis=1)), rel=1e-10)
        assert row["brier"] == pytest.approx(np.mean(((shown - t) ** 2).sum(axis=1)), rel=1e-10)
        assert "zero_one left out" in result.stderr
    else:
        assert row["cce_logits"] == pytest.approx(np.mean(-(t * log_p).sum(axis=1)), rel=1e-10)
        assert "zero_one left out" in result.stderr
    assert "zero_one" not in pd.read_csv(io.StringIO(result.stdout)).columns
    api = losscli.evaluate(pd.read_csv(path))
    assert "zero_one" not in set(api["loss"])
    assert len(api) >= 1


def test_soft_targets_with_weights_groups_and_intervals(tmp_path: Path) -> None:
    path, t, p = _soft(tmp_path, "probabilities")
    frame = pd.read_csv(path)
    frame["w"] = np.arange(1, 61) % 4 + 1.0
    frame["g"] = np.where(np.arange(60) % 2, "odd", "even")
    frame.to_csv(path, index=False, float_format="%.17g")
    args = ["eval", path, "-w", "w", "--by", "g", "--ci", "0.9", "--nan", "drop-any", "-f", "csv", "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    w = frame["w"].to_numpy()
    assert row["cce"] == pytest.approx(np.average(-(t * np.log(p)).sum(axis=1), weights=w), rel=1e-10)


CLASSIFICATION = [loss.name for loss in losscli.losses.REGISTRY if "regression" not in loss.tasks]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_losses_refuse_a_regression_file(sample: Path, name: str) -> None:
    result = runner.invoke(app, ["eval", str(sample / "house_prices.csv"), "-l", name])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert "regression loss" in result.stderr or "binary losses need labels 0/1" in result.stderr


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("file", ["forecast.csv", "forecast_quantiles.csv"])
def test_classification_losses_refuse_predictive_distributions(sample: Path, name: str, file: str) -> None:
    result = runner.invoke(app, ["eval", str(sample / file), "-l", name])
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.count("\n") == 0
    assert "Traceback" not in result.output
    assert f"{name} is a " in message
    assert "predict distributions of a number" in message
    assert "column 'y' holds" in message
    assert "in row 1" in message


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_score_refuses_levels_for_classification_losses(name: str) -> None:
    y = np.array([1.5, 2.5, 3.5])
    q = np.column_stack([y - 1, y, y + 1])
    with pytest.raises(losscli.errors.LossCliError, match="scores no quantiles") as caught:
        losscli.score(name, y, q, levels=[0.1, 0.5, 0.9])
    assert isinstance(caught.value, ValueError)


def _q90() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = rng.normal(0, 1, 50)
    return y, y + rng.normal(0, 1, 50) + 1.5


def test_one_quantile_is_scored_at_its_level() -> None:
    from sklearn.metrics import mean_pinball_loss

    y, q90 = _q90()
    expected = mean_pinball_loss(y, q90, alpha=0.9)
    assert losscli.score("quantile", y, q90[:, None], levels=[0.9]) == pytest.approx(expected, rel=1e-12)
    assert losscli.score("quantile", y, q90, levels=[0.9]) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="no point prediction"):
        losscli.score("mse", y, q90[:, None], levels=[0.9])


def test_a_lone_quantile_column_is_a_quantile_model(tmp_path: Path) -> None:
    from sklearn.metrics import mean_pinball_loss

    y, q90 = _q90()
    path = tmp_path / "q90.csv"
    pd.DataFrame({"y": y, "m.q90": q90}).to_csv(path, index=False, float_format="%.17g")
    for args in (["-l", "quantile"], []):
        result = runner.invoke(app, ["eval", str(path), *args, "-f", "csv"])
        assert result.exit_code == 0, result.output
        row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
        assert row["model"] == "m"
        assert row["quantile"] == pytest.approx(mean_pinball_loss(y, q90, alpha=0.9), rel=1e-12)
        assert "pinball loss at its level 0.9" in result.stderr
    refused = runner.invoke(app, ["eval", str(path), "-l", "mse"])
    assert refused.exit_code == 2
    assert "no point prediction" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "y", "--id", "y"], "column 'y' is given as both --target and --id"),
        (["--id", "y"], "--id 'y' is the target column (found by its name)"),
        (["--id", "id", "-w", "id"], "column 'id' is given as both --id and --weight"),
        (["--id", "region", "--by", "region"], "column 'region' is given as both --id and --by"),
    ],
)
def test_a_column_given_two_roles_is_refused(sample: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["eval", str(sample / "house_prices.csv"), *args, "-l", "mse"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_two_roles_in_the_api_and_an_auto_id_yielding(sample: Path) -> None:
    path = str(sample / "house_prices.csv")
    with pytest.raises(losscli.errors.LossCliError, match="given as both target= and id_column=") as caught:
        losscli.evaluate(path, "mse", target="y", id_column="y")
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ValueError, match="given as both id_column= and weight="):
        losscli.evaluate(path, "mse", id_column="id", weight="id")
    frame = pd.read_csv(path)
    weighted = losscli.evaluate(path, "mse", weight="id").set_index("model")
    expected = np.average((frame["knn"] - frame["y"]) ** 2, weights=frame["id"])
    assert weighted.loc["knn", "value"] == pytest.approx(expected, rel=1e-12)


MULTICLASS_ONLY = [loss.name for loss in losscli.losses.REGISTRY if loss.tasks == ("multiclass",)]


@pytest.mark.parametrize("name", MULTICLASS_ONLY)
def test_a_multiclass_loss_never_makes_binary_models_one_models_classes(sample: Path, name: str) -> None:
    result = runner.invoke(app, ["eval", str(sample / "churn.csv"), "-l", name])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert "look like separate models" in result.stderr
    assert "use a binary loss" in result.stderr


def test_bare_class_columns_stated_with_classes_are_one_model(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "y,a,b,c\n0,0.7,0.2,0.1\n2,0.1,0.3,0.6\n")
    result = runner.invoke(app, ["eval", path, "-l", "cce", "--classes", "a,b,c", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.output
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    assert row["cce"] == pytest.approx(-(np.log(0.7) + np.log(0.6)) / 2, rel=1e-12)
    refused = runner.invoke(app, ["eval", path, "-l", "cce"])
    assert refused.exit_code == 2
    assert "--classes" in refused.stderr


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _iris_proba() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    return y, LogisticRegression(max_iter=300).fit(x, y).predict_proba(x)


def test_predict_proba_dataframe_is_one_models_class_probabilities(tmp_path: Path) -> None:
    from sklearn.metrics import brier_score_loss, log_loss

    y, proba = _iris_proba()
    frame = pd.DataFrame(proba)
    frame["y"] = y
    out = losscli.evaluate(frame).set_index("loss")
    assert list(out["model"].unique()) == ["model"]
    assert out.loc["cce", "value"] == pytest.approx(log_loss(y, proba), rel=1e-10)
    path = tmp_path / "proba.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    result = runner.invoke(app, ["eval", str(path), "-f", "csv"])
    assert result.exit_code == 0, result.output
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    assert row["model"] == "proba"
    assert row["cce"] == pytest.approx(log_loss(y, proba), rel=1e-10)
    onehot = np.eye(3)[y]
    assert row["brier"] == pytest.approx(np.mean(((proba - onehot) ** 2).sum(axis=1)), rel=1e-10)
    binary = (y == 1).astype(int)
    pair = pd.DataFrame({"0": 1 - proba[:, 1], "1": proba[:, 1], "y": binary})
    for args in ([], ["-l", "bce,brier"]):
        got = losscli.evaluate(pair, args[1] if args else ()).set_index("loss")
        assert list(got["model"].unique()) == ["model"]
        expected = log_loss(binary, proba[:, 1])
        assert got.loc["cce" if not args else "bce", "value"] == pytest.approx(expected, rel=1e-10)
        assert got.loc["brier", "value"] == pytest.approx(brier_score_loss(binary, proba[:, 1]), rel=1e-10)


def test_two_class_columns_named_like_the_labels_are_one_binary_model(tmp_path: Path) -> None:
    from sklearn.metrics import brier_score_loss, log_loss

    rng = np.random.default_rng(4)
    p = rng.uniform(0.05, 0.95, 80)
    labels = np.where(rng.uniform(size=80) < p, "churn", "stay")
    path = tmp_path / "two.csv"
    pd.DataFrame({"y": labels, "m.stay": 1 - p, "m.churn": p}).to_csv(path, index=False, float_format="%.17g")
    result = runner.invoke(app, ["eval", str(path), "--positive", "churn", "-l", "bce,brier", "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(io.StringIO(result.stdout))
    assert list(rows["model"]) == ["m"]
    truth = (labels == "churn").astype(int)
    assert rows.loc[0, "bce"] == pytest.approx(log_loss(truth, p), rel=1e-10)
    assert rows.loc[0, "brier"] == pytest.approx(brier_score_loss(truth, p), rel=1e-10)
    assert "probability of the positive class 'm.churn'" in result.stderr


def test_class_named_columns_that_do_not_sum_to_one_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "y,0,1,2\n0,2.0,0.5,0.1\n2,0.1,0.2,3.0\n1,0.3,1.5,0.2\n")
    result = runner.invoke(app, ["eval", path])
    assert result.exit_code == 2, result.output
    assert "named like the classes of the target 'y'" in result.stderr
    assert "-l cce_logits" in result.stderr


def test_a_regression_loss_over_class_probabilities_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "y,0,1,2\n0,0.7,0.2,0.1\n2,0.1,0.3,0.6\n1,0.2,0.5,0.3\n")
    result = runner.invoke(app, ["eval", path, "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert "like one model's class probabilities; mse scores each as a model" in result.stderr
    rows = pd.read_csv(io.StringIO(result.stdout)).set_index("model")
    assert rows.loc[2, "mse"] == pytest.approx(np.mean((np.array([0.1, 0.6, 0.3]) - [0, 2, 1]) ** 2), rel=1e-12)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("order", [["False", "True"], ["True", "False"]])
def test_predict_proba_of_a_true_false_target_is_one_model(tmp_path: Path, fmt: str, order: list[str]) -> None:
    """pd.DataFrame(m.predict_proba(X), columns=m.classes_) for a bool target: columns False, True
    are one model read by its True column, in either order (was: two models, one the complement)."""
    from sklearn.metrics import brier_score_loss, log_loss

    rng = np.random.default_rng(3)
    y = rng.random(200) < 0.4
    p = np.clip(np.where(y, 0.7, 0.3) + rng.normal(0, 0.15, 200), 0.01, 0.99)
    frame = pd.DataFrame({"y": y, "True": p, "False": 1 - p})[["y", *order]]
    path = tmp_path / f"proba.{fmt}"
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
    result = CliRunner().invoke(app, ["eval", str(path), "-l", "bce,brier", "-f", "json"])
    assert result.exit_code == 0, result.output
    records = pd.read_json(io.StringIO(result.stdout))
    assert list(records["model"].unique()) == ["proba"]
    values = dict(zip(records["loss"], records["value"], strict=True))
    assert values["bce"] == pytest.approx(log_loss(y, p), rel=1e-12)
    assert values["brier"] == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert "'True'" in result.stderr


def test_score_refuses_a_level_given_twice() -> None:
    y = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"0\.9 twice"):
        losscli.score("quantile", y, np.c_[y, y + 1], levels=[0.9, 0.9])


def test_score_of_an_object_array_mixing_numbers_and_text_is_one_sentence() -> None:
    from losscli.errors import LossCliError

    with pytest.raises(LossCliError, match="y_pred mixes types"):
        losscli.score("mse", np.array([0.0, 1, 2, 3]), np.array([1, "a", 2, 3], dtype=object))


def test_one_model_with_dropped_rows_is_no_different_rows_warning(tmp_path: Path) -> None:
    """One model differs from no other model: no 'evaluated on different rows' warning (two models
    dropping the same row neither); two models dropping different rows still get it."""
    import warnings

    path = tmp_path / "one.csv"
    path.write_text("y,a\n1,1.5\n2,\n3,2.5\n")
    result = CliRunner().invoke(app, ["eval", str(path), "-l", "mae", "--nan", "drop"])
    assert result.exit_code == 0
    assert "different rows" not in result.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert losscli.score("mse", [1, 2, 3], [1.5, np.nan, 2.5], nan="drop") == pytest.approx(0.25)
    same = tmp_path / "same.csv"
    same.write_text("y,a,b\n1,1.5,1\n2,,\n3,2.5,4\n")
    assert "different rows" not in CliRunner().invoke(app, ["eval", str(same), "-l", "mae", "--nan", "drop"]).stderr
    other = tmp_path / "other.csv"
    other.write_text("y,a,b\n1,1.5,1\n2,,3\n3,2.5,\n")
    assert "different rows" in CliRunner().invoke(app, ["eval", str(other), "-l", "mae", "--nan", "drop"]).stderr


def test_a_config_file_that_is_not_utf8_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "losscli.toml").write_bytes(b'loss = "mae"\n\xff\n')
    (tmp_path / "hp.csv").write_text("y,a\n1,1.5\n2,2\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOSSCLI_NO_CONFIG")  # the tests' default (conftest.py) ignores config files
    result = CliRunner().invoke(app, ["eval", "hp.csv"])
    assert result.exit_code == 2
    assert "losscli.toml" in result.stderr
    assert "UTF-8" in result.stderr


def test_classes_stated_make_bare_class_columns_one_multiclass_model(tmp_path: Path) -> None:
    """Columns 1, 2, 3 beside a target of 0..2 with --classes 0,1,2 and no -l: the multiclass
    reading the error's own hint leads to (was: refused as a regression task)."""
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(4)
    p = rng.dirichlet([1, 1, 1], 120)
    y = rng.integers(0, 3, 120)
    path = tmp_path / "c123.csv"
    pd.DataFrame({"1": p[:, 0], "2": p[:, 1], "3": p[:, 2], "y": y}).to_csv(path, index=False, float_format="%.17g")
    result = CliRunner().invoke(app, ["eval", str(path), "--classes", "0,1,2", "-f", "json"])
    assert result.exit_code == 0, result.output
    records = pd.read_json(io.StringIO(result.stdout))
    value = records.loc[records["loss"] == "cce", "value"].item()
    assert value == pytest.approx(log_loss(y, p, labels=[0, 1, 2]), rel=1e-12)


def test_an_id_named_column_is_no_model_when_another_is_the_id(sample: Path) -> None:
    """--id linear leaves 'id' (row numbers) out of the models with a note; --pred can still name it."""
    from sklearn.metrics import mean_absolute_error

    result = CliRunner().invoke(
        app, ["eval", str(sample / "house_prices.csv"), "--id", "linear", "-l", "mae", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    records = pd.read_json(io.StringIO(result.stdout))
    assert "id" not in set(records["model"])
    assert "column 'id' looks like an id and is not a model" in result.stderr
    frame = pd.read_csv(sample / "house_prices.csv")
    chosen = CliRunner().invoke(
        app, ["eval", str(sample / "house_prices.csv"), "--id", "linear", "-l", "mae", "--pred", "id", "-f", "json"]
    )
    value = pd.read_json(io.StringIO(chosen.stdout))["value"].item()
    assert value == pytest.approx(mean_absolute_error(frame["y"], frame["id"]), rel=1e-12)
