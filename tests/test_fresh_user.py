"""Defects a fresh user found by trying losscli (each failed before its fix)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss
from typer.testing import CliRunner

import losscli
from losscli.cli import app

runner = CliRunner()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_truth_and_predictions_holding_the_same_target_is_refused(tmp_path: Path) -> None:
    preds = write(tmp_path, "p.csv", "id,y,a\n1,0,1.5\n2,0,2.5\n")
    truth = write(tmp_path, "t.csv", "id,y\n1,1\n2,2\n")
    result = runner.invoke(app, ["eval", preds, "--truth", truth, "-l", "mae"])
    assert result.exit_code == 2
    assert "both hold the column 'y'" in result.stderr


def test_coverage_verdict_reads_the_distance_from_nominal(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    z = 1.2815515655446004  # the 90% quantile of N(0, 1)
    frame = {"y": y}
    for name, scale in (("narrow", 0.5), ("good", 1.1)):
        frame |= {f"{name}.q10": -z * scale, f"{name}.q50": 0.0 * y, f"{name}.q90": z * scale}
    path = tmp_path / "cov.csv"
    pd.DataFrame(frame).to_csv(path, index=False)
    result = runner.invoke(app, ["eval", str(path), "-l", "coverage", "--baseline", "good", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(io.StringIO(result.stdout)).set_index("model")
    assert rows.loc["narrow", "coverage:verdict"] == "worse"  # 0.45 is further from 0.8 than 0.84
    gate = runner.invoke(app, ["eval", str(path), "-l", "coverage", "--baseline", "narrow", "--fail-if-worse", "-q"])
    assert gate.exit_code == 0, gate.stderr


def test_delta_rel_keeps_the_sign_of_delta_on_a_negative_baseline(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "y,b,e\n1,5,1.5\n2,-3,2.5\n3,9,2\n4,-1,4.5\n")
    out = losscli.evaluate(path, ["d2_tweedie"], baseline="b").set_index("model")
    assert out.loc["b", "value"] < 0
    assert np.sign(out.loc["e", "delta_rel"]) == np.sign(out.loc["e", "delta"])


def test_zero_one_threshold_on_class_columns_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "three.csv", "y,m.a,m.b,m.c\na,0.5,0.3,0.2\nb,0.1,0.6,0.3\nc,0.2,0.2,0.6\n")
    result = runner.invoke(app, ["eval", path, "-l", "zero_one:threshold=0.3"])
    assert result.exit_code == 2
    assert "threshold applies to binary predictions" in result.stderr


def test_dotted_binary_models_are_not_guessed_to_be_classes(tmp_path: Path) -> None:
    path = write(tmp_path, "dots.csv", "y,lr.l1,lr.l2\n0,-1.2,0.3\n1,0.9,2.1\n1,1.7,-0.4\n0,-0.3,-2.0\n")
    result = runner.invoke(app, ["eval", path])
    assert result.exit_code == 2
    assert "look like one model's classes, but the target 'y' holds only 0/1" in result.stderr
    chosen = runner.invoke(app, ["eval", path, "-l", "bce_logits", "-f", "csv", "-q"])
    rows = pd.read_csv(io.StringIO(chosen.stdout)).set_index("model")
    y = np.array([0, 1, 1, 0])
    for model in ("lr.l1", "lr.l2"):
        z = pd.read_csv(path)[model].to_numpy()
        expected = log_loss(y, 1 / (1 + np.exp(-z)))
        assert rows.loc[model, "bce_logits"] == pytest.approx(expected, rel=1e-12)


def test_classes_against_the_columns_own_names_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "mc.csv", "label,p.cat,p.dog\ncat,0.8,0.2\ndog,0.3,0.7\n")
    result = runner.invoke(app, ["eval", path, "--classes", "dog,cat", "-l", "cce"])
    assert result.exit_code == 2
    assert "disagrees with the class columns' own names" in result.stderr
    same = runner.invoke(app, ["eval", path, "-l", "cce", "-f", "csv", "-q"])
    value = float(pd.read_csv(io.StringIO(same.stdout))["cce"][0])
    assert value == pytest.approx(log_loss(["cat", "dog"], [[0.8, 0.2], [0.3, 0.7]]), rel=1e-12)


def test_rmse_t_interval_below_zero_is_clipped_not_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "t3.csv", "y,a\n0,0\n0,0\n0,0\n0,1\n")
    result = runner.invoke(app, ["eval", path, "-l", "rmse,mse", "--ci", "0.9", "--ci-method", "t", "-f", "csv"])
    assert result.exit_code == 0, result.output
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    assert row["rmse:ci_low"] == 0.0
    assert row["mse:ci_low"] == 0.0


def test_an_infinite_model_fails_fail_if_worse(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.csv", "y,a,b\n1,1e300,2\n2,-1e300,3\n3,1e308,4\n")
    result = runner.invoke(app, ["eval", path, "-l", "mse", "--baseline", "b", "--fail-if-worse", "-q"])
    assert result.exit_code == 1
    assert "FAIL a: mse = inf is not finite" in result.stderr


def test_an_overflowing_sum_is_warned(tmp_path: Path) -> None:
    path = write(tmp_path, "l.csv", "y,a\n0,1e308\n1,-1e308\n")
    result = runner.invoke(app, ["eval", path, "-l", "mae", "-f", "csv"])
    assert result.exit_code == 0
    assert "mae is not finite from row 1 on" in result.stderr


def test_equal_specs_are_one_column(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "y,a\n0,3\n1,1\n")
    result = runner.invoke(app, ["eval", path, "-l", "huber,huber:delta=1", "-f", "csv", "-q"])
    assert result.stdout.splitlines()[0] == "model,n,huber,rank"


def test_reduction_with_per_row_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", "y,a\n0,3\n1,1\n")
    result = runner.invoke(app, ["eval", path, "--reduction", "sum", "--per-row"])
    assert result.exit_code == 2
    assert "--reduction" in result.stderr


@pytest.mark.parametrize("loss", ["msle", "rmsle", "gamma", "poisson", "tweedie:power=1.5"])
def test_plot_curves_stay_inside_each_loss_domain(loss: str) -> None:
    result = runner.invoke(app, ["plot", "curves", loss, "--no-color"])
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr


def test_plot_size_without_output_is_refused() -> None:
    result = runner.invoke(app, ["plot", "curves", "mse", "--size", "300x200"])
    assert result.exit_code == 2
    assert "--size" in result.stderr


def test_a_number_names_the_positive_label_in_python() -> None:
    value = losscli.score("bce", [0, 1, 1], [0.2, 0.7, 0.6], positive=1)
    assert value == pytest.approx(log_loss([0, 1, 1], [0.2, 0.7, 0.6]), rel=1e-12)


def test_a_missing_file_is_said_first(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(tmp_path / "nosuch")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_a_weight_named_column_is_never_a_model_and_the_target_is_no_weight(tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", "y,a,b,weight\n1,2,3,1\n2,2,1,2\n")
    result = runner.invoke(app, ["eval", path, "-w", "a", "-l", "mae", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert [r.split(",")[0] for r in result.stdout.splitlines()[1:]] == ["b"]
    assert "column 'weight' looks like a weight and is not a model" in result.stderr
    target = runner.invoke(app, ["eval", path, "-w", "y", "-l", "mae"])
    assert target.exit_code == 2
    assert "is the target" in target.stderr


@pytest.mark.parametrize("args", [["--explain", ""], ["--explain", "huber", "-f", "json"]])
def test_explain_refuses_what_does_not_apply(args: list[str]) -> None:
    result = runner.invoke(app, ["losses", *args])
    assert result.exit_code == 2
    assert "--explain" in result.stderr


def test_digits_typed_with_a_machine_format_is_refused() -> None:
    houses = str(Path(__file__).parent.parent / "sample_data" / "house_prices.csv")
    refused = runner.invoke(app, ["eval", houses, "--digits", "3", "-f", "csv"])
    assert refused.exit_code == 2
    assert "--digits" in refused.stderr
    table = runner.invoke(app, ["eval", houses, "--digits", "3", "-f", "markdown", "-q"])
    assert table.exit_code == 0, table.output


def test_json_lines_with_list_columns_of_probabilities(tmp_path: Path) -> None:
    path = write(tmp_path, "l.jsonl", '{"label":"a","m":[0.8,0.2]}\n{"label":"b","m":[0.3,0.7]}\n')
    result = runner.invoke(app, ["eval", path, "--classes", "a,b", "-l", "cce", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.output
    value = float(pd.read_csv(io.StringIO(result.stdout))["cce"][0])
    assert value == pytest.approx(log_loss(["a", "b"], [[0.8, 0.2], [0.3, 0.7]]), rel=1e-12)
