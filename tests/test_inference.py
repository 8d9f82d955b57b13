"""Never silently wrong (issue 12): every guess losscli makes is checked against the data and
said in a note, or refused with one sentence saying how to state it.

Each ``test_item_N`` reproduces item N of the issue; expected values come from scikit-learn,
NumPy or a formula written here, never from losscli itself.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import brier_score_loss, log_loss, mean_absolute_error, zero_one_loss
from typer.testing import CliRunner

import losscli
from losscli.cli import app
from losscli.errors import LossCliError

RTOL = 1e-12


def invoke(*args: str | Path, input: bytes | str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def rows_of(stdout: str) -> dict[str, dict[str, str]]:
    """CSV output -> {model: row}."""
    return {r["model"]: r for r in csv.DictReader(io.StringIO(stdout))}


def refused(result, *words: str) -> None:
    """Exit 2 with one sentence on stderr holding every word, and no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("losscli: error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


# --- 1. --positive LABEL must be a label of the target; a target of many values is not binary ---


def test_item_1_positive_label_not_in_target(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "y,m\nno,0.8\nyes,0.4\nno,0.3\n")
    refused(invoke("eval", path, "--positive", "Yes", "-q"), "'Yes'", "'no', 'yes'")
    refused(invoke("eval", write(tmp_path, "b.csv", "y,m\n1,0.8\n0,0.4\n"), "--positive", "2"), "'2'", "'0', '1'")
    with pytest.raises(LossCliError, match="'Yes' is not a label"):
        losscli.evaluate(pd.DataFrame({"y": ["no", "yes"], "m": [0.2, 0.9]}), ["bce"], positive="Yes")


def test_item_1_positive_label_first_seen_after_the_sample(tmp_path: Path) -> None:
    """The sample is the first 10 000 rows: a label seen only later still counts, and a label never
    seen is refused after the last row."""
    n = 12_000
    labels = ["no"] * n
    labels[-1] = "yes"
    p = np.linspace(0.01, 0.99, n)
    path = tmp_path / "late.csv"
    pd.DataFrame({"y": labels, "m": p}).to_csv(path, index=False)
    ok = invoke("eval", path, "--positive", "yes", "-l", "bce", "-f", "csv", "-q")
    assert ok.exit_code == 0, ok.stderr
    y = np.array([label == "yes" for label in labels], dtype=float)
    assert float(rows_of(ok.stdout)["m"]["bce"]) == pytest.approx(log_loss(y, p), rel=1e-10)
    refused(invoke("eval", path, "--positive", "Yes", "-l", "bce", "-q"), "'no', 'yes'")


def test_item_1_regression_target_with_positive_is_refused(sample: Path) -> None:
    refused(invoke("eval", sample / "house_prices.csv", "--positive", "1"), "more than two labels", "--positive")


def test_item_1_third_label_is_not_binary(tmp_path: Path) -> None:
    path = write(tmp_path, "t3.csv", "y,m\nno,0.8\nyes,0.4\nmaybe,0.3\n")
    refused(invoke("eval", path, "--positive", "yes"), "more than two labels", "'maybe'")


# --- 17. categorical (dictionary) targets are read by label, not by code ---


def test_item_17_categorical_target_read_by_label(tmp_path: Path) -> None:
    # Categories listed as [1, 0]: code 0 is the label 1, so reading codes flips every row.
    y = [0, 1, 1, 0, 1]
    p = [0.2, 0.7, 0.9, 0.4, 0.6]
    df = pd.DataFrame({"y": pd.Categorical(y, categories=[1, 0]), "m": p})
    expected = log_loss(y, p)
    df.to_feather(tmp_path / "cat.feather")
    for args in (["eval", tmp_path / "cat.feather"], ["eval", "-"]):
        data = (tmp_path / "cat.feather").read_bytes() if args[1] == "-" else None
        result = invoke(*args, "--positive", "1", "-l", "bce", "-f", "csv", "-q", input=data)
        assert result.exit_code == 0, result.stderr
        assert float(rows_of(result.stdout)["m"]["bce"]) == pytest.approx(expected, rel=RTOL)
    out = losscli.evaluate(df, ["bce"], positive="1")
    assert out["value"].iloc[0] == pytest.approx(expected, rel=RTOL)
    text = pd.DataFrame({"y": pd.Categorical(["b", "a", "a"]), "m": [0.9, 0.2, 0.4]})
    out = losscli.evaluate(text, ["bce"], positive="b")
    assert out["value"].iloc[0] == pytest.approx(log_loss([1, 0, 0], [0.9, 0.2, 0.4]), rel=RTOL)


# --- 2, 4, 5. the kind of predictions, per model: defaults and zero_one's threshold follow it ---


def test_item_2_list_column_of_probabilities(tmp_path: Path) -> None:
    y = [0, 1, 2, 1]
    p = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]]
    pq.write_table(pa.table({"y": y, "m": p}), tmp_path / "list.parquet")
    result = invoke("eval", tmp_path / "list.parquet", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert "predictions: probabilities (m:" in result.stderr
    assert float(rows_of(result.stdout)["m"]["cce"]) == pytest.approx(log_loss(y, p), rel=RTOL)


def test_log_probabilities_get_nll(tmp_path: Path) -> None:
    y = [0, 1, 2, 1]
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    pq.write_table(pa.table({"y": y, "m": list(np.log(p))}), tmp_path / "logp.parquet")
    result = invoke("eval", tmp_path / "logp.parquet", "-f", "csv")
    assert "log-probabilities" in result.stderr
    assert float(rows_of(result.stdout)["m"]["nll"]) == pytest.approx(log_loss(y, p), rel=RTOL)


def test_item_4_probability_and_logit_models_are_not_given_one_default(tmp_path: Path) -> None:
    path = write(tmp_path, "mix.csv", "y,a,b\n1,0.9,2.0\n0,0.2,-1.5\n1,0.6,0.3\n0,0.1,-0.2\n")
    refused(invoke("eval", path), "a looks like probabilities", "b looks like scores", "--loss", "--pred")
    one = invoke("eval", path, "-p", "b", "-f", "csv")
    assert one.exit_code == 0
    assert "bce_logits" in one.stdout


def test_item_5_zero_one_threshold_follows_the_kind(tmp_path: Path) -> None:
    y = [1, 0, 1, 0]
    s = [0.3, -0.2, 2.0, -1.0]
    path = write(tmp_path, "s.csv", "y,s\n" + "".join(f"{a},{b}\n" for a, b in zip(y, s, strict=True)))
    expected = zero_one_loss(y, [int(v > 0) for v in s])
    default = invoke("eval", path, "-f", "csv")
    explicit = invoke("eval", path, "-l", "zero_one", "-f", "csv")
    assert float(rows_of(default.stdout)["s"]["zero_one(threshold=0)"]) == expected
    assert float(rows_of(explicit.stdout)["s"]["zero_one(threshold=0)"]) == expected
    assert "class 1 where the prediction > 0, as the predictions are scores" in explicit.stderr
    probs = write(tmp_path, "p.csv", "y,p\n1,0.6\n0,0.4\n1,0.45\n")
    result = invoke("eval", probs, "-l", "zero_one", "-f", "csv")
    assert float(rows_of(result.stdout)["p"]["zero_one"]) == pytest.approx(
        zero_one_loss([1, 0, 1], [1, 0, 0]), rel=RTOL
    )
    assert "> 0.5, as the predictions are probabilities" in result.stderr
    mixed = write(tmp_path, "mix.csv", "y,a,b\n1,0.9,2.0\n0,0.2,-1.5\n")
    refused(invoke("eval", mixed, "-l", "zero_one"), "zero_one:threshold=T")
    assert invoke("eval", mixed, "-l", "zero_one:threshold=0.5", "-q").exit_code == 0


# --- 8, 13. --nan drop: paired quantities on the rows both kept; drop-any; said prominently ---

D13 = "y,a,b\n1,1.5,1.4\n2,2.7,2.3\n3,3.6,3.5\n4,4.4,4.1\n5,5.9,5.2\n100,,60\n"


def test_item_13_paired_quantities_use_shared_rows(tmp_path: Path) -> None:
    from scipy.stats import ttest_rel

    path = write(tmp_path, "d.csv", D13)
    result = invoke("eval", path, "-l", "mae", "--nan", "drop", "--baseline", "b", "--fail-if-worse", "-f", "csv")
    assert result.exit_code == 1, result.stderr  # a is worse than b on every shared row
    row = rows_of(result.stdout)["a"]
    y, a, b = np.array([1, 2, 3, 4, 5.0]), np.array([1.5, 2.7, 3.6, 4.4, 5.9]), np.array([1.4, 2.3, 3.5, 4.1, 5.2])
    delta = mean_absolute_error(y, a) - mean_absolute_error(y, b)
    assert float(row["mae:delta"]) == pytest.approx(delta, rel=RTOL)
    assert float(row["mae:delta_rel"]) == pytest.approx(delta / mean_absolute_error(y, b), rel=RTOL)
    assert float(row["mae:p_value"]) == pytest.approx(ttest_rel(abs(a - y), abs(b - y)).pvalue, rel=1e-10)
    assert row["mae:verdict"] == "worse"
    assert row["rank"] == "2"
    assert "warning: the models were evaluated on different rows" in result.stderr


def test_item_13_delta_interval_uses_shared_rows(tmp_path: Path) -> None:
    """Every replicate of the difference is on the shared rows: a is worse on each of them, so
    the whole interval lies above 0 (on each model's own rows it would straddle -6)."""
    path = write(tmp_path, "d.csv", D13)
    result = invoke("eval", path, "-l", "mae,rmse", "--nan", "drop", "--baseline", "b", "--ci", "0.9", "-f", "csv")
    row = rows_of(result.stdout)["a"]
    for loss in ("mae", "rmse"):
        assert (
            0 < float(row[f"{loss}:delta_ci_low"]) <= float(row[f"{loss}:delta"]) <= float(row[f"{loss}:delta_ci_high"])
        )


def test_item_8_drop_any_evaluates_every_model_on_the_same_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", D13)
    result = invoke("eval", path, "-l", "mae", "--nan", "drop-any", "-f", "csv")
    rows = rows_of(result.stdout)
    y = [1, 2, 3, 4, 5]
    assert float(rows["b"]["mae"]) == pytest.approx(mean_absolute_error(y, [1.4, 2.3, 3.5, 4.1, 5.2]), rel=RTOL)
    assert rows["a"]["n"] == rows["b"]["n"] == "5"
    assert "different rows" not in result.stderr


def test_item_8_different_rows_said_in_caption_meta_and_despite_quiet(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", D13)
    table = invoke("eval", path, "-l", "mae", "--nan", "drop", "-f", "table", "-q")
    assert "MODELS ON DIFFERENT ROWS" in table.stdout
    assert "warning: the models were evaluated on different rows" in table.stderr
    meta = json.loads(invoke("eval", path, "-l", "mae", "--nan", "drop", "-f", "json", "--meta").stdout)["meta"]
    assert meta["same_rows"] is False
    assert meta["nan"] == "drop"
    same = json.loads(invoke("eval", path, "-l", "mae", "--nan", "drop-any", "-f", "json", "--meta").stdout)["meta"]
    assert same["same_rows"] is True


# --- 10. machine formats rank each record under its own loss ---


def test_item_10_rank_per_loss_in_json(sample: Path) -> None:
    result = invoke("eval", sample / "house_prices.csv", "-l", "mse,mae", "-f", "jsonl", "-q")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    frame = pd.read_csv(sample / "house_prices.csv")
    for loss, fn in (
        ("mse", lambda m: ((frame[m] - frame["y"]) ** 2).mean()),
        ("mae", lambda m: (frame[m] - frame["y"]).abs().mean()),
    ):
        order = sorted(["linear", "gbm", "knn"], key=fn)
        got = {r["model"]: r["rank"] for r in records if r["loss"] == loss}
        assert got == {m: i + 1 for i, m in enumerate(order)}


# --- 15. no NumPy/pandas/pyarrow warning reaches the user; infinite losses said, eps below float64 refused ---


def test_item_15_infinite_loss_is_said_not_warned(tmp_path: Path) -> None:
    # eps=0 is refused now (log(0) of a right prediction is nan); an overflowing square is inf.
    path = write(tmp_path, "p.csv", "y,m\n0,0.4\n1,1e200\n")
    result = invoke("eval", path, "-l", "mse", "-f", "csv", "-q")
    assert result.exit_code == 0
    assert rows_of(result.stdout)["m"]["mse"] == "inf"
    assert "RuntimeWarning" not in result.stderr
    assert "numpy" not in result.stderr
    assert result.stderr.startswith("losscli: warning: model m: mse is not finite from row 2 on")


def test_item_15_eps_below_float64_resolution_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "y,m\n0,1.0\n1,0.0\n")
    refused(invoke("eval", path, "-l", "bce:eps=1e-20"), "eps=1e-20", "1 - eps == 1")
    ok = invoke("eval", path, "-l", "bce:eps=1e-15", "-f", "csv", "-q")
    expected = log_loss([0, 1], [1 - 1e-15, 1e-15])
    assert float(rows_of(ok.stdout)["m"]["bce(eps=1e-15)"]) == pytest.approx(expected, rel=1e-9)


# --- 16. numbers in another notation are an error naming the fix, not a skipped column ---


@pytest.mark.parametrize(
    ("text", "args", "column"),
    [
        ('y,a,b\n1.5,"1,2",1.4\n2.5,"2,7",2.3\n', [], "'a'"),
        ('y,a,b\n1.5,"1,2",1.4\n2.5,"2,7",2.3\n', ["-p", "a"], "'a'"),
        ('y,a\n"1,5",2\n"2,5",3\n', [], "'y'"),
        ('y,a\n1.5,"1.234,5"\n2.5,"2,5"\n', [], "'a'"),
    ],
)
def test_item_16_decimal_comma_is_an_error_naming_the_fix(
    tmp_path: Path, text: str, args: list[str], column: str
) -> None:
    refused(invoke("eval", write(tmp_path, "d.csv", text), *args), column, "decimal comma", "--decimal ,")


# --- 14. brier: one convention in every layout (scikit-learn 1.9's brier_score_loss) ---


def test_item_14_brier_two_columns_equals_one_column(tmp_path: Path) -> None:
    one = invoke("eval", write(tmp_path, "one.csv", "y,m\n1,0.8\n0,0.4\n"), "-l", "brier", "-f", "csv", "-q")
    two = invoke(
        "eval", write(tmp_path, "two.csv", "y,m.0,m.1\n1,0.2,0.8\n0,0.6,0.4\n"), "-l", "brier", "-f", "csv", "-q"
    )
    expected = brier_score_loss([1, 0], np.array([[0.2, 0.8], [0.6, 0.4]]))
    assert expected == pytest.approx(brier_score_loss([1, 0], [0.8, 0.4]), rel=RTOL)
    assert float(rows_of(one.stdout)["m"]["brier"]) == pytest.approx(expected, rel=RTOL)
    assert float(rows_of(two.stdout)["m"]["brier"]) == pytest.approx(expected, rel=RTOL)
    three = np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    out = losscli.evaluate(pd.DataFrame({"y": [0, 1, 2], **{f"m.{k}": three[:, k] for k in range(3)}}), ["brier"])
    assert out["value"].iloc[0] == pytest.approx(brier_score_loss([0, 1, 2], three), rel=RTOL)
    assert "two classes are binary" in invoke("losses", "--explain", "brier").stdout


# --- 19. one rule for every loss that takes distributions: rows sum to 1 ---


@pytest.mark.parametrize("loss", ["brier", "kl_div", "cce"])
def test_item_19_rows_must_sum_to_one_for_every_distribution_loss(tmp_path: Path, loss: str) -> None:
    path = write(tmp_path, "s.csv", "y,m.a,m.b,m.c\na,0.5,0.3,0.0\nb,0.2,0.5,0.3\n")
    refused(invoke("eval", path, "-l", loss), "'m'", "row 1", "sum to 0.8")
    assert "sum to 1 (within 1e-6)" in invoke("losses", "--explain", loss).stdout


# --- 9. when nothing is left, the message gives the true reason ---


def test_item_9_every_row_dropped_says_why(tmp_path: Path) -> None:
    result = invoke("eval", write(tmp_path, "e.csv", "y,a\n,1\n,2\n"), "--nan", "drop", "-l", "mse")
    refused(result, "no row is left", "--nan drop", "all 2 rows")
    assert "None" not in result.stderr


def test_item_9_gate_on_a_model_without_rows_says_why(tmp_path: Path) -> None:
    path = write(tmp_path, "n.csv", "y,a,b\n1,1,\n2,2,\n")
    result = invoke("eval", path, "--nan", "drop", "-l", "mse", "--fail-above", "mse=0.1", "-f", "csv", "-q")
    assert result.exit_code == 1
    assert "FAIL b: mse has no value: no row is left for this model" in result.stderr
    assert "nan is above" not in result.stderr


# --- 3, 6, 7. columns that are not predictions never become models ---


def test_item_3_long_layout_pivots_only_the_prediction_column(tmp_path: Path) -> None:
    path = write(
        tmp_path, "long.csv", "id,y,w,model,pred\n1,1.0,1,a,1.5\n2,2.0,2,a,2.5\n1,1.0,1,b,0.5\n2,2.0,2,b,2.0\n"
    )
    refused(invoke("eval", path, "--model-col", "model"), "w, pred", "--pred")
    result = invoke("eval", path, "--model-col", "model", "-w", "w", "-p", "pred", "-l", "mse", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    rows = rows_of(result.stdout)
    assert set(rows) == {"a", "b"}
    w = np.array([1, 2.0])
    assert float(rows["a"]["mse"]) == pytest.approx(np.average([0.25, 0.25], weights=w), rel=RTOL)
    assert float(rows["b"]["mse"]) == pytest.approx(np.average([0.25, 0.0], weights=w), rel=RTOL)
    assert (
        invoke("eval", path, "--model-col", "model", "-w", "w", "-l", "mse", "-f", "csv", "-q").stdout == result.stdout
    )
    grouped = write(tmp_path, "g.csv", "y,g,model,pred\n1,u,a,1.5\n2,v,a,2.5\n1,u,b,0.5\n2,v,b,2.0\n")
    by = invoke("eval", grouped, "--model-col", "model", "--by", "g", "-l", "mae", "-f", "csv", "-q")
    assert by.exit_code == 0, by.stderr


def test_item_6_truth_file_columns_are_not_models(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "id,p\n1,1.5\n2,2.5\n3,2.0\n")
    b = write(tmp_path, "b.csv", "id,p\n1,1.0\n2,2.2\n3,3.5\n")
    truth = write(tmp_path, "truth.csv", "id,y,w,feat\n1,1.0,1,5\n2,2.0,2,6\n3,3.0,1,7\n")
    result = invoke("eval", a, b, "--truth", truth, "--id", "id", "-l", "mse", "-f", "csv")
    assert set(rows_of(result.stdout)) == {"a", "b"}
    one = write(tmp_path, "preds.csv", "id,a,b\n1,1.5,1.0\n2,2.5,2.2\n3,2.0,3.5\n")
    result = invoke("eval", one, "--truth", truth, "--id", "id", "-l", "mse", "-f", "csv")
    assert set(rows_of(result.stdout)) == {"a", "b"}
    assert "w, feat of --truth are not models" in result.stderr
    weighted = invoke("eval", one, "--truth", truth, "--id", "id", "-w", "w", "-l", "mse", "-f", "csv", "-q")
    expected = np.average((np.array([1.5, 2.5, 2.0]) - [1, 2, 3]) ** 2, weights=[1, 2, 1])
    assert float(rows_of(weighted.stdout)["a"]["mse"]) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("header", ["", "Unnamed: 0"])
def test_item_7_pandas_index_is_not_a_model(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, "idx.csv", f"{header},y,m\n0,1.0,1.5\n1,2.0,2.5\n")
    result = invoke("eval", path, "-l", "mse", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert set(rows_of(result.stdout)) == {"m"}
    assert "looks like the index pandas writes" in result.stderr
    frame = pd.DataFrame({"y": [1.0, 2.0], "m": [1.5, 2.0]})
    frame.to_csv(tmp_path / "pandas.csv")
    assert set(rows_of(invoke("eval", tmp_path / "pandas.csv", "-f", "csv", "-q").stdout)) == {"m"}


# --- 11, 18. an option that does not apply is refused, never ignored ---

NOT_APPLYING = [
    (["--join", "inner"], "--join"),
    (["--classes", "a,b"], "--classes"),
    (["--class-sep", "_"], "--class-sep"),
    (["--positive", "1", "-l", "mse"], "--positive"),
    (["--meta", "-f", "csv"], "--meta"),
    (["--meta", "-f", "jsonl"], "--meta"),
    (["--per-row", "--by", "region"], "--by"),
    (["--per-row", "--ci", "0.9"], "--ci"),
    (["--per-row", "--sort", "mse"], "--sort"),
    (["--per-row", "--baseline", "knn"], "--baseline"),
    (["-f", "csv", "-o", "x.json"], "--format"),
    (["--scheduler", "tcp://x:1"], "--scheduler"),
    (["--workers", "2"], "--workers"),
    (["--min-group-n", "5"], "--min-group-n"),
    (["--bootstrap", "100"], "--bootstrap"),
    (["--seed", "3"], "--seed"),
]


@pytest.mark.parametrize(("args", "option"), NOT_APPLYING, ids=[" ".join(a) for a, _ in NOT_APPLYING])
def test_items_11_18_options_that_do_not_apply_are_refused(
    sample: Path, tmp_path: Path, args: list[str], option: str
) -> None:
    args = [str(tmp_path / a) if a.endswith(".json") else a for a in args]
    refused(invoke("eval", sample / "house_prices.csv", *args), option)


# --- 12. a directory is read only when it is a Parquet dataset, and said ---


def test_item_12_directory_of_several_formats_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    pq.write_table(pa.table({"y": [1.0, 2.0], "m": [1.5, 2.5]}), folder / "a.parquet")
    (folder / "results.csv").write_text("model,n,mse\nm,2,0.25\n")
    refused(invoke("eval", folder), "1 other data file", "results.csv", "glob")
    (folder / "results.csv").unlink()
    pq.write_table(pa.table({"y": [3.0], "m": [2.0]}), folder / "b.parquet")
    result = invoke("eval", folder, "-l", "mse", "-f", "csv")
    assert "read 2 file(s) as one dataset" in result.stderr
    assert float(rows_of(result.stdout)["m"]["mse"]) == pytest.approx(np.mean([0.25, 0.25, 1.0]), rel=RTOL)
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(invoke("eval", empty), "no Parquet file")


# --- the rules, as a table: (file, options, the expected value or the refusal) ---------------------

Y01, P01 = [1, 0, 1, 0], [0.8, 0.3, 0.6, 0.1]
S01 = [1.2, -0.4, 0.3, -2.0]


def _csv(**columns: list[object]) -> str:
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    return ",".join(names) + "\n" + "".join(",".join("" if v is None else str(v) for v in row) + "\n" for row in rows)


def _sigmoid(z: list[float]) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(z)))


# (id, file text, options, (model, column) -> expected value) or (id, text, options, words of the refusal)
RULES: list[tuple[str, str, list[str], dict[tuple[str, str], float] | tuple[str, ...]]] = [
    ("0/1 target, probabilities: bce", _csv(y=Y01, m=P01), [], {("m", "bce"): log_loss(Y01, P01)}),
    ("-1/1 target: -1 is negative", _csv(y=[1, -1, 1, -1], m=P01), [], {("m", "bce"): log_loss(Y01, P01)}),
    ("booleans", _csv(y=["true", "false", "true", "false"], m=P01), [], {("m", "bce"): log_loss(Y01, P01)}),
    ("scores get bce_logits", _csv(y=Y01, s=S01), [], {("s", "bce_logits"): log_loss(Y01, _sigmoid(S01))}),
    (
        "scores: zero_one at 0",
        _csv(y=Y01, s=S01),
        ["-l", "zero_one"],
        {("s", "zero_one(threshold=0)"): zero_one_loss(Y01, [int(v > 0) for v in S01])},
    ),
    (
        "text labels with --positive",
        _csv(y=["yes", "no", "yes", "no"], m=P01),
        ["--positive", "yes"],
        {("m", "bce"): log_loss(Y01, P01)},
    ),
    (
        "--positive 2 on 1/2 labels",
        _csv(y=[2, 1, 2, 1], m=P01),
        ["--positive", "2"],
        {("m", "bce"): log_loss(Y01, P01)},
    ),
    (
        "--positive not a label",
        _csv(y=["yes", "no"], m=[0.2, 0.4]),
        ["--positive", "Yes"],
        ("'y'", "'Yes'", "'no', 'yes'"),
    ),
    ("text target needs --positive", _csv(y=["yes", "no"], m=[0.2, 0.4]), [], ("'y'", "--positive")),
    (
        "--positive on many values",
        _csv(y=[1.5, 2.5, 3.5], m=[1, 2, 3]),
        ["--positive", "1"],
        ("'y'", "more than two labels"),
    ),
    ("mixed kinds refused", _csv(y=Y01, a=P01, b=S01), [], ("a looks like probabilities", "b looks like scores")),
    ("mixed kinds, bce on the scores", _csv(y=Y01, a=P01, b=S01), ["-l", "bce"], ("'b'", "needs probabilities")),
    ("two targets", _csv(y=[1, 2], target=[1, 2], m=[1, 2]), [], ("'y'", "'target'", "--target")),
    (
        "class columns and labels",
        _csv(**{"y": ["a", "b", "c"], "m.a": [0.7, 0.2, 0.1], "m.b": [0.2, 0.5, 0.3], "m.c": [0.1, 0.3, 0.6]}),
        [],
        {("m", "cce"): log_loss(["a", "b", "c"], [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6]])},
    ),
    (
        "class columns in another order than the labels",
        _csv(**{"y": ["a", "b", "c"], "m.c": [0.1, 0.3, 0.6], "m.a": [0.7, 0.2, 0.1], "m.b": [0.2, 0.5, 0.3]}),
        [],
        {("m", "cce"): log_loss(["a", "b", "c"], [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6]])},
    ),
    (
        "integer class names matched by value",
        _csv(**{"y": [2, 0, 1], "m.2": [0.6, 0.1, 0.3], "m.0": [0.3, 0.8, 0.2], "m.1": [0.1, 0.1, 0.5]}),
        ["-l", "cce"],
        {("m", "cce"): log_loss([2, 0, 1], [[0.3, 0.1, 0.6], [0.8, 0.1, 0.1], [0.2, 0.5, 0.3]])},
    ),
    (
        "an unseen class label",
        _csv(**{"y": ["a", "z"], "m.a": [0.5, 0.5], "m.b": [0.5, 0.5]}),
        ["-l", "cce"],
        ("'y'", "'z'", "not one of the classes"),
    ),
    (
        "rows that do not sum to 1 (brier)",
        _csv(**{"y": ["a", "b"], "m.a": [0.5, 0.5], "m.b": [0.3, 0.5], "m.c": [0.0, 0.0]}),
        ["-l", "brier"],
        ("'m'", "row 1", "sum to 0.8"),
    ),
    (
        "regression with a weight column named weight",
        _csv(y=[1.0, 2.0, 3.5], m=[1.5, 2.0, 3.0], weight=[1, 2, 3]),
        [],
        {("m", "mse"): float(np.mean([0.25, 0.0, 0.25]))},
    ),
    (
        "regression weighted",
        _csv(y=[1.0, 2.0, 3.5], m=[1.5, 2.0, 3.0], w=[1, 2, 3]),
        ["-w", "w", "-l", "mse"],
        {("m", "mse"): float(np.average([0.25, 0.0, 0.25], weights=[1, 2, 3]))},
    ),
    ("decimal comma", 'y,m\n1.5,"1,5"\n2.5,"2,0"\n', [], ("'m'", "--decimal ,")),
    (
        "nan refused by default",
        _csv(y=[1.0, 2.0, 3.0], m=[1.0, None, 3.0]),
        ["-l", "mse"],
        ("'m'", "row 2", "--nan drop"),
    ),
    ("nan dropped", _csv(y=[1.0, 2.0, 3.0], m=[1.5, None, 3.0]), ["-l", "mse", "--nan", "drop"], {("m", "mse"): 0.125}),
    (
        "drop-any: same rows for all",
        _csv(y=[1.0, 2.0, 3.0], a=[1.5, None, 3.0], b=[1.0, 2.5, 4.0]),
        ["-l", "mae", "--nan", "drop-any"],
        {("a", "mae"): 0.25, ("b", "mae"): 0.5},
    ),
]


@pytest.mark.parametrize(("text", "options", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_inference_rules(tmp_path: Path, text: str, options: list[str], expected: object) -> None:
    result = invoke("eval", write(tmp_path, "f.csv", text), *options, "-f", "csv")
    if isinstance(expected, tuple):
        refused(result, *expected)
        return
    assert result.exit_code == 0, result.stderr
    rows = rows_of(result.stdout)
    for (model, column), value in expected.items():  # type: ignore[attr-defined]
        assert float(rows[model][column]) == pytest.approx(value, rel=RTOL), (model, column)


def test_shared_rows_state_merges_like_one_pass() -> None:
    """The paired state on shared rows (--nan drop) merges across partitions (the Dask engine) to
    the numbers of one pass, intervals included."""
    from losscli.engines.local import accumulate, conclude
    from losscli.read.plan import make_plan
    from losscli.read.source import source_from_table

    from .build import Options, request

    rng = np.random.default_rng(5)
    n = 3000
    y = rng.normal(size=n)
    a = y + rng.normal(size=n)
    a[rng.random(n) < 0.1] = np.nan
    b = y + rng.normal(scale=1.2, size=n)
    b[rng.random(n) < 0.05] = np.nan
    table = pa.table({"y": y, "a": a, "b": b})
    req = request(["mae", "rmse"], options=Options(ci=0.9, bootstrap=100, seed=2, baseline="b"), nan="drop")
    whole = source_from_table(table, "<t>")
    plan = make_plan(whole, req)
    one = conclude(plan, accumulate(whole, plan, req), req)
    parts = [source_from_table(table.slice(0, 1234), "<t>"), source_from_table(table.slice(1234), "<t>")]
    merged = accumulate(parts[0], plan, req).merge(accumulate(parts[1], plan, req, row_offset=1234))
    two = conclude(plan, merged, req)
    assert one.rows_differ
    assert two.rows_differ
    for r in one.results:
        s = two.result(r.model, r.loss)
        for name in ("value", "delta", "delta_ci_low", "delta_ci_high", "p_value"):
            assert getattr(s, name) == pytest.approx(getattr(r, name), rel=1e-12, nan_ok=True), (r.model, r.loss, name)
    shared = ~np.isnan(a) & ~np.isnan(b)
    mae_a = np.abs(a[shared] - y[shared]).mean()
    mae_b = np.abs(b[shared] - y[shared]).mean()
    assert one.result("a", "mae").delta == pytest.approx(mae_a - mae_b, rel=1e-12)
    rmse = np.sqrt(((a - y)[shared] ** 2).mean()) - np.sqrt(((b - y)[shared] ** 2).mean())
    assert one.result("a", "rmse").delta == pytest.approx(rmse, rel=1e-12)


def test_api_says_what_the_cli_says() -> None:
    from losscli.errors import LossCliWarning

    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0], "a": [1.5, np.nan, 3.0], "b": [1.0, 2.5, 4.0]})
    with pytest.warns(LossCliWarning, match="different rows"):
        out = losscli.evaluate(frame, ["mae"], nan="drop", baseline="b")
    assert any("dropped rows" in note for note in out.attrs["notes"])
    a = out.set_index("model").loc["a"]
    assert a["delta"] == pytest.approx(np.mean([0.5, 0.0]) - np.mean([0.0, 1.0]), rel=RTOL)


def test_weights_and_groups_must_agree_across_files_and_models(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "id,y,w,p\n1,1.0,1,1.5\n2,2.0,2,2.5\n")
    b = write(tmp_path, "b.csv", "id,y,w,p\n1,1.0,3,1.0\n2,2.0,2,2.2\n")
    refused(invoke("eval", a, b, "--id", "id", "-w", "w"), "'w'", "differs", "id '1'")
    long = write(tmp_path, "l.csv", "id,y,w,model,pred\n1,1.0,1,a,1.5\n2,2.0,2,a,2.5\n1,1.0,3,b,0.5\n2,2.0,2,b,2.0\n")
    refused(invoke("eval", long, "--model-col", "model", "-p", "pred", "-w", "w"), "'w'", "differs")


def test_positive_true_on_a_boolean_target(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "y,m\ntrue,0.8\nfalse,0.3\ntrue,0.6\n")
    result = invoke("eval", path, "--positive", "true", "-l", "bce", "-f", "csv")
    assert float(rows_of(result.stdout)["m"]["bce"]) == pytest.approx(log_loss([1, 0, 1], [0.8, 0.3, 0.6]), rel=RTOL)


def test_per_model_file_with_a_weight_and_a_prediction_is_not_two_classes(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "id,y,w,p\n1,1.0,1,1.5\n2,2.0,2,2.5\n")
    b = write(tmp_path, "b.csv", "id,y,w,p\n1,1.0,1,1.0\n2,2.0,2,2.2\n")
    refused(invoke("eval", a, b, "--id", "id"), "several numeric columns", "--pred", "--weight")
    ok = invoke("eval", a, b, "--id", "id", "-w", "w", "-l", "mse", "-f", "csv")
    expected = np.average([0.0, 0.04], weights=[1, 2])
    assert float(rows_of(ok.stdout)["b"]["mse"]) == pytest.approx(expected, rel=RTOL)


def test_item_16_decimal_comma_in_json_lines(tmp_path: Path) -> None:
    # A declared string is text (the writer said so): never guessed to be a number, refused when named.
    path = write(tmp_path, "d.jsonl", '{"y": 1.5, "a": "1,2"}\n{"y": 2.5, "a": "2,7"}\n')
    refused(invoke("eval", path), "'y'", "a is text", "--pred")
    refused(invoke("eval", path, "-p", "a"), "'a'", "'1,2'", "not a number")


def test_item_8_different_rows_said_in_markdown_and_html(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", D13)
    markdown = invoke("eval", path, "-l", "mae", "--nan", "drop", "-f", "markdown", "-q")
    assert "evaluated on different rows" in markdown.stdout
    html = invoke("eval", path, "-l", "mae", "--nan", "drop", "-f", "html", "-q")
    assert "MODELS ON DIFFERENT ROWS" in html.stdout
