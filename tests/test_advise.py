"""``losscli advise`` on the bundled samples: what a careful analyst would say, checked by NumPy."""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from sklearn.metrics import log_loss
from typer.testing import CliRunner

from losscli.cli import app
from losscli.engines.advise import advise_request
from losscli.request import Columns, Engine, Inputs, Request

from .conftest import SAMPLE

SCHEMA = json.loads(resources.files("losscli").joinpath("report/advise.schema.json").read_text())
runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, ["advise", *args], input=input)


def advise_json(name: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = invoke(str(SAMPLE / name), "-f", "json", "-q", *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    return data


HOUSES = pd.read_csv(SAMPLE / "house_prices.csv")


def test_house_prices_gbm_error_sits_in_five_rows() -> None:
    data = advise_json("house_prices.csv")
    r2 = ((HOUSES.gbm - HOUSES.y) ** 2).to_numpy()
    order = np.argsort(-r2, kind="stable")
    gbm = data["models"]["gbm"]
    assert gbm["top_rows_share"] == pytest.approx(r2[order[:5]].sum() / r2.sum(), rel=1e-12)
    assert gbm["top_rows_share"] > 0.9
    assert gbm["top1_share"] == pytest.approx(r2[order[:2]].sum() / r2.sum(), rel=1e-12)
    worst = data["worst_rows"]["gbm"]
    assert [w["id"] for w in worst] == [str(i) for i in HOUSES.id.to_numpy()[order[:5]]]
    assert [w["value"] for w in worst] == pytest.approx(r2[order[:5]].tolist(), rel=1e-12)
    assert {w["loss"] for w in worst} == {"mse"}
    assert "gbm: its 5 worst rows hold 95% of its squared error" in " ".join(data["recommendation"]["reasons"])


def test_house_prices_rankings_under_mse_and_mae_disagree() -> None:
    data = advise_json("house_prices.csv")
    mse = {m: float(((HOUSES[m] - HOUSES.y) ** 2).mean()) for m in ("linear", "gbm", "knn")}
    mae = {m: float((HOUSES[m] - HOUSES.y).abs().mean()) for m in ("linear", "gbm", "knn")}
    assert data["rankings"]["mse"] == sorted(mse, key=mse.__getitem__) == ["knn", "linear", "gbm"]
    assert data["rankings"]["mae"] == sorted(mae, key=mae.__getitem__) == ["gbm", "knn", "linear"]
    assert data["losses"]["rmse"]["gbm"] == pytest.approx(math.sqrt(mse["gbm"]), rel=1e-12)
    flips = {tuple(x["models"]): x for x in data["disagreements"]}
    assert flips[("linear", "gbm")]["losses"] == ["mse", "mae"]
    tau = {tuple(a["losses"]): a["kendall_tau"] for a in data["agreement"]}
    assert tau[("mse", "mae")] == pytest.approx(scipy.stats.kendalltau(list(mse.values()), list(mae.values()))[0])


def test_house_prices_recommends_huber_at_the_robust_scale() -> None:
    data = advise_json("house_prices.csv")
    scales = []
    for m in ("linear", "gbm", "knn"):
        r = (HOUSES[m] - HOUSES.y).to_numpy()
        got = data["models"][m]
        assert got["bias"] == pytest.approx(r.mean(), rel=1e-12)
        assert got["mad"] == pytest.approx(scipy.stats.median_abs_deviation(r), rel=1e-12)
        assert got["excess_kurtosis"] == pytest.approx(scipy.stats.kurtosis(r), rel=1e-9)
        assert got["rmse_over_mae"] == pytest.approx(np.sqrt((r**2).mean()) / np.abs(r).mean(), rel=1e-12)
        scales.append(scipy.stats.median_abs_deviation(r, scale="normal"))
    delta = float(f"{1.345 * np.median(scales):.3g}")
    assert data["recommendation"]["loss"] == f"huber:delta={delta}"
    assert data["recommendation"]["rules"][:2] == ["concentrated", "heavy_tails"]
    r = (HOUSES.gbm - HOUSES.y).abs().to_numpy()
    huber = np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)).mean()
    assert data["losses"][f"huber(delta={delta})"]["gbm"] == pytest.approx(huber, rel=1e-12)


def _ece(confidence: np.ndarray, outcome: np.ndarray) -> float:
    bins = np.minimum((confidence * 10).astype(int), 9)
    return sum(
        (bins == b).mean() * abs(outcome[bins == b].mean() - confidence[bins == b].mean())
        for b in range(10)
        if (bins == b).any()
    )


def test_churn_calibration_equals_numpy() -> None:
    data = advise_json("churn.csv")
    df = pd.read_csv(SAMPLE / "churn.csv")
    y = df.y.to_numpy()
    for m in ("logreg", "xgb", "prior"):
        p = df[m].to_numpy()
        got = data["models"][m]
        assert got["kind"] == "probabilities"
        assert got["ece"] == pytest.approx(_ece(p, y), rel=1e-12)
        confidence = np.maximum(p, 1 - p).mean()
        accuracy = ((p > 0.5) == (y == 1)).mean()
        assert got["mean_confidence"] == pytest.approx(confidence, rel=1e-12)
        assert got["accuracy"] == pytest.approx(accuracy, rel=1e-12)
        assert got["overconfidence"] == pytest.approx(confidence - accuracy, rel=1e-9, abs=1e-15)
        assert got["log_loss"] == pytest.approx(log_loss(y, p), rel=1e-12)
        per_row = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        assert got["top1_share"] == pytest.approx(np.sort(per_row)[::-1][:3].sum() / per_row.sum(), rel=1e-12)
    assert data["target"]["classes"] == pytest.approx({"0": (y == 0).mean(), "1": (y == 1).mean()})
    assert data["recommendation"]["loss"] == "bce"
    assert "xgb: ECE" in " ".join(data["recommendation"]["reasons"])


def test_iris_top_label_calibration_equals_numpy() -> None:
    data = advise_json("iris_probs.csv")
    df = pd.read_csv(SAMPLE / "iris_probs.csv")
    classes = ["setosa", "versicolor", "virginica"]
    y = df.label.map({c: i for i, c in enumerate(classes)}).to_numpy()
    for m in ("logreg", "tree"):
        p = df[[f"{m}.{c}" for c in classes]].to_numpy()
        confidence, right = p.max(axis=1), (p.argmax(axis=1) == y).astype(float)
        got = data["models"][m]
        assert got["ece"] == pytest.approx(_ece(confidence, right), rel=1e-12)
        assert got["accuracy"] == pytest.approx(right.mean(), rel=1e-12)
        assert got["overconfidence"] == pytest.approx(confidence.mean() - right.mean(), rel=1e-12)
        assert got["log_loss"] == pytest.approx(log_loss(y, p, labels=[0, 1, 2]), rel=1e-12)
    assert set(data["target"]["classes"]) == set(classes)
    assert data["rankings"]["cce"] == ["logreg", "tree"]


def test_the_report_on_a_terminal() -> None:
    result = invoke(str(SAMPLE / "house_prices.csv"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    parts = ("How each model errs", "Rankings under each loss", "Worst rows (by id; the loss in brackets)")
    for part in (*parts, "Recommendation:"):
        assert part in out
    assert "gbm under mse: 120 (" in out
    assert "flip: linear vs gbm" in out
    assert "not ranked under msle" in result.stderr


def test_parquet_and_chunks_give_the_same_diagnosis() -> None:
    def diagnosis(path: Path, chunk_rows: int | None) -> dict[str, dict[str, float]]:
        request = Request(Inputs((str(path),)), Columns(), engine=Engine(chunk_rows=chunk_rows))
        return {m: r.metrics for m, r in advise_request(request).diagnosis.models.items()}

    whole = diagnosis(SAMPLE / "house_prices.csv", None)
    for path, chunk in ((SAMPLE / "house_prices.parquet", None), (SAMPLE / "house_prices.csv", 7)):
        other = diagnosis(path, chunk)
        for m, metrics in whole.items():
            assert other[m] == pytest.approx(metrics, rel=1e-12)


def test_top_sets_the_worst_rows_shown() -> None:
    data = advise_json("churn.csv", "--top", "2")
    assert all(len(rows) == 2 for rows in data["worst_rows"].values())


def test_jsonl_and_markdown() -> None:
    lines = invoke(str(SAMPLE / "churn.csv"), "-f", "jsonl", "-q").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0]["record"] == "data"
    assert records[-1] == {"record": "recommendation", **advise_json("churn.csv")["recommendation"]}
    assert {r["record"] for r in records} >= {"model", "ranking", "worst_row"}
    md = invoke(str(SAMPLE / "iris_probs.csv"), "-f", "markdown", "-q").stdout
    assert "### Recommendation: `cce`" in md
    assert "| logreg |" in md


def test_baseline_is_checked_and_used() -> None:
    data = advise_json("churn.csv", "--baseline", "logreg")
    assert "than logreg" in " ".join(data["recommendation"]["reasons"])
    bad = invoke(str(SAMPLE / "churn.csv"), "--baseline", "nope")
    assert bad.exit_code == 2
    assert "--baseline 'nope' is not a model" in bad.stderr


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "advice.json"
    result = invoke(str(SAMPLE / "churn.csv"), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    jsonschema.validate(json.loads(out.read_text()), SCHEMA)


def test_rules_are_listed() -> None:
    result = runner.invoke(app, ["advise", "--rules"])
    assert result.exit_code == 0, result.output
    assert "concentrated [regression]" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "csv"], "advise writes table, json, jsonl, markdown, not csv"),
        ([], "no input"),
        (["--top", "-1"], "--top"),
    ],
)
def test_user_errors_are_one_sentence(args: list[str], message: str) -> None:
    files = [str(SAMPLE / "churn.csv")] if args else []
    result = invoke(*files, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_models_of_different_kinds_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("y,p,score\n0,0.2,-1.5\n1,0.7,2.0\n1,0.9,0.3\n")
    result = invoke(str(path))
    assert result.exit_code == 2
    assert "advise compares models of one kind of prediction" in result.stderr


def test_a_later_row_outside_the_first_rows_kind_is_refused(tmp_path: Path) -> None:
    rows = 250_000  # 1.5 MB: past the sample the kind is decided on
    path = tmp_path / "late.csv"
    path.write_text("y,p\n" + "0,0.3\n1,0.7\n" * (rows // 2) + "1,1.7\n")
    result = invoke(str(path))
    assert result.exit_code == 2
    assert f"row {rows + 1} holds 1.7" in result.stderr


def test_dropped_rows_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("y,a,b\n1,1.5,1\n2,,2.5\n3,2,3\n4,4.5,\n5,5,5\n")
    data = json.loads(invoke(str(path), "--nan", "drop", "-f", "json", "-q").stdout)
    a = np.array([1.5, 2, 4.5, 5]) - np.array([1, 3, 4, 5])
    assert data["models"]["a"]["n"] == 4
    assert data["models"]["a"]["bias"] == pytest.approx(a.mean(), rel=1e-12)
    assert [w["id"] for w in data["worst_rows"]["a"][:3]] == [3, 1, 4]  # a tie goes to the earlier row


@pytest.mark.parametrize(
    ("task", "kind", "primary"),
    [
        ("regression", "values", "mse"),
        ("binary", "probabilities", "bce"),
        ("binary", "scores", "bce_logits"),
        ("multiclass", "probabilities", "cce"),
        ("multiclass", "scores", "cce_logits"),
    ],
)
def test_candidate_losses_are_distinct_and_take_the_kind(task: str, kind: str, primary: str) -> None:
    from losscli.engines.advise import PRIMARY, candidate_specs

    specs = candidate_specs(task, kind)
    labels = [s.label for s in specs]
    assert len(labels) == len(set(labels))
    assert PRIMARY[(task, kind)] == primary
    assert primary in labels
    for spec in specs:
        assert task in spec.loss.tasks
        if kind == "probabilities":
            assert spec.loss.pred_kind == "probability" or spec.name == "zero_one"
        elif kind == "scores":
            assert spec.loss.pred_kind in ("logit", "score")


def test_multiclass_logits_and_text_labels(tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLE / "iris_probs.csv")
    classes = ["setosa", "versicolor", "virginica"]
    logits = np.log(df[[f"logreg.{c}" for c in classes]].to_numpy()) + 1.0
    frame = pd.DataFrame({"label": df.label, **{f"m.{c}": logits[:, i] for i, c in enumerate(classes)}})
    path = tmp_path / "logits.csv"
    frame.to_csv(path, index=False)
    result = invoke(str(path), "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["models"]["m"]["kind"] == "scores"
    assert data["recommendation"]["loss"] == "cce_logits"
    y = df.label.map({c: i for i, c in enumerate(classes)}).to_numpy()
    assert data["models"]["m"]["log_loss"] == pytest.approx(log_loss(y, df[[f"logreg.{c}" for c in classes]]), rel=1e-9)
    assert "read as logits" in result.stderr


def test_binary_text_labels_name_the_classes(tmp_path: Path) -> None:
    path = tmp_path / "text.csv"
    path.write_text("label,p\nyes,0.8\nno,0.3\nno,0.4\nyes,0.6\n")
    data = json.loads(invoke(str(path), "--positive", "yes", "-f", "json", "-q").stdout)
    assert data["target"]["classes"] == {"no": 0.5, "yes": 0.5}  # the other label by its name


def test_the_api_gives_what_the_cli_prints() -> None:
    import losscli

    assert losscli.advise(str(SAMPLE / "churn.csv"), baseline="logreg") == advise_json(
        "churn.csv", "--baseline", "logreg"
    )
    frame = pd.read_csv(SAMPLE / "house_prices.csv")
    data = losscli.advise(frame, top=3)
    assert data["recommendation"]["loss"] == advise_json("house_prices.csv")["recommendation"]["loss"]
    assert len(data["worst_rows"]["gbm"]) == 3
