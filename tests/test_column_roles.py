"""Column roles a fresh user broke: a model named like the target or the id column, text
columns of Parquet/JSON Lines/Arrow, and pandas' stored index (each failed before its fix).

Reference numbers come from scikit-learn on the arrays written to the files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import mean_squared_error
from typer.testing import CliRunner

import losscli
from losscli.cli import app
from losscli.errors import BadValueError, OptionError

runner = CliRunner()
RNG = np.random.default_rng(7)
N = 50
Y = RNG.normal(size=N)
GOOD = Y + RNG.normal(size=N)
BAD = Y + 3 * RNG.normal(size=N)


def mse_by_model(stdout: str) -> dict[str, float]:
    table = pd.read_csv(io.StringIO(stdout))
    return dict(zip(table["model"].astype(str), table["mse"], strict=True))


def api_mse(*args: object, **kwargs: object) -> dict[str, float]:
    table = losscli.evaluate(*args, **kwargs)  # type: ignore[arg-type]
    return dict(zip(table["model"].astype(str), table["value"], strict=True))


def two_files(tmp_path: Path, second: str, extra: dict[str, object] | None = None) -> list[str]:
    """m.csv (BAD) and SECOND.csv (GOOD), both with the target y and a column pred."""
    paths = []
    for stem, pred in (("m", BAD), (second, GOOD)):
        path = tmp_path / f"{stem}.csv"
        pd.DataFrame({"y": Y, "pred": pred, **(extra or {})}).to_csv(path, index=False)
        paths.append(str(path))
    return paths


# --- 1. a model named like the target or the id column ------------------------------------------


@pytest.mark.parametrize("second", ["y", "Y", "id", "index", "weight", "label"])
def test_a_model_file_named_like_a_role_is_a_model_and_the_target_stays(tmp_path: Path, second: str) -> None:
    paths = two_files(tmp_path, second)
    want = {"m": mean_squared_error(Y, BAD), second: mean_squared_error(Y, GOOD)}
    result = runner.invoke(app, ["eval", *paths, "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    got = mse_by_model(result.stdout)
    assert got.keys() == want.keys()
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-12)
    assert f"model {second!r} is named like" in result.stderr
    assert f"models=m,{second}" in result.stderr
    api = api_mse(paths, "mse")
    assert api == pytest.approx(want, rel=1e-12)


def test_name_option_giving_the_target_name_keeps_model_and_target_apart(tmp_path: Path) -> None:
    paths = two_files(tmp_path, "good")
    want = {"m": mean_squared_error(Y, BAD), "y": mean_squared_error(Y, GOOD)}
    result = runner.invoke(app, ["eval", *paths, "--name", "m", "--name", "y", "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx(want, rel=1e-12)
    assert api_mse(paths, "mse", names=["m", "y"]) == pytest.approx(want, rel=1e-12)


def test_a_model_named_like_the_id_column_it_is_joined_on(tmp_path: Path) -> None:
    ids = np.arange(N)
    paths = two_files(tmp_path, "id", {"id": ids})
    # The second file in another row order: the join, not the position, must match rows.
    shuffled = pd.read_csv(paths[1]).sample(frac=1.0, random_state=0)
    shuffled.to_csv(paths[1], index=False)
    want = {"m": mean_squared_error(Y, BAD), "id": mean_squared_error(Y, GOOD)}
    result = runner.invoke(app, ["eval", *paths, "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx(want, rel=1e-12)
    assert "id=id (auto)" in result.stderr
    assert api_mse(paths, "mse") == pytest.approx(want, rel=1e-12)


def test_a_model_named_like_a_group_column_keeps_the_groups(tmp_path: Path) -> None:
    groups = np.where(np.arange(N) % 2 == 0, "a", "b")
    paths = two_files(tmp_path, "g", {"g": groups})
    result = runner.invoke(app, ["eval", *paths, "-l", "mse", "--by", "g", "-f", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    for (group, model), value in table.set_index(["g", "model"])["mse"].items():
        rows = np.full(N, True) if group == "(all)" else groups == group
        pred = BAD if model == "m" else GOOD
        assert value == pytest.approx(mean_squared_error(Y[rows], pred[rows]), rel=1e-12)
    assert sorted(table["model"].unique()) == ["g", "m"]


def test_a_model_file_named_y_with_separate_truth(tmp_path: Path) -> None:
    ids = np.arange(N)
    for stem, pred in (("m", BAD), ("y", GOOD)):
        pd.DataFrame({"id": ids, "pred": pred}).to_csv(tmp_path / f"{stem}.csv", index=False)
    pd.DataFrame({"id": ids[::-1], "y": Y[::-1]}).to_csv(tmp_path / "truth.csv", index=False)
    paths = [str(tmp_path / "m.csv"), str(tmp_path / "y.csv")]
    want = {"m": mean_squared_error(Y, BAD), "y": mean_squared_error(Y, GOOD)}
    result = runner.invoke(app, ["eval", *paths, "--truth", str(tmp_path / "truth.csv"), "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx(want, rel=1e-12)
    assert api_mse(paths, "mse", truth=str(tmp_path / "truth.csv")) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("name", ["y", "id"])
def test_long_layout_model_named_like_the_target_or_id(tmp_path: Path, name: str) -> None:
    ids = np.arange(N)
    long = pd.concat(
        [
            pd.DataFrame({"id": ids, "model": "a", "pred": BAD, "y": Y}),
            pd.DataFrame({"id": ids[::-1], "model": name, "pred": GOOD[::-1], "y": Y[::-1]}),
        ]
    )
    path = tmp_path / "long.csv"
    long.to_csv(path, index=False)
    want = {"a": mean_squared_error(Y, BAD), name: mean_squared_error(Y, GOOD)}
    result = runner.invoke(app, ["eval", str(path), "--model-col", "model", "--id", "id", "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx(want, rel=1e-12)
    assert f"model {name!r} is named like the {'target' if name == 'y' else 'id'} column" in result.stderr
    assert api_mse(str(path), "mse", model_col="model", id_column="id") == pytest.approx(want, rel=1e-12)


def test_a_class_column_that_cannot_move_is_refused_naming_the_rename(tmp_path: Path) -> None:
    """One file per model, multiclass: model m's class column m.a is also a group column of the
    first file; renaming it would lose its class, so it is refused."""
    labels = np.array(["a", "b"] * 5)
    probs = RNG.uniform(0.1, 0.9, size=10)
    first = pd.DataFrame({"y": labels, "a": probs, "b": 1 - probs, "m.a": labels})
    first.to_csv(tmp_path / "p.csv", index=False)
    first.drop(columns="m.a").to_csv(tmp_path / "m.csv", index=False)
    paths = [str(tmp_path / "p.csv"), str(tmp_path / "m.csv")]
    result = runner.invoke(app, ["eval", *paths, "-l", "cce", "--by", "m.a"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "losscli: error: model 'm' has the column 'm.a', which is also the column 'm.a'; "
        "rename the model with --name (one per file)."
    )
    with pytest.raises(OptionError, match="rename the model with names="):
        losscli.evaluate(paths, "cce", by="m.a")


# --- 2. text columns of Parquet, JSON Lines and Arrow -------------------------------------------

TEXTS = {
    "nan_first": ["NaN", "b", "a", "b"],
    "number_first": ["1.5", "b", "a", "b"],
    "all_numbers": ["10", "20", "30", "10"],
}
TY = np.array([1.0, 2.0, 3.0, 4.0])
TM = np.array([1.5, 2.0, 3.0, 5.0])


def text_file(tmp_path: Path, fmt: str, text: list[str]) -> str:
    table = pa.table({"y": TY, "m": TM, "region": pa.array(text, pa.string())})
    path = tmp_path / f"t.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "arrow":
        feather.write_feather(table, path)
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in table.to_pylist()))
    return str(path)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "arrow"])
@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_a_declared_text_column_is_skipped_as_text(tmp_path: Path, fmt: str, kind: str) -> None:
    path = text_file(tmp_path, fmt, TEXTS[kind])
    result = runner.invoke(app, ["eval", path, "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx({"m": mean_squared_error(TY, TM)}, rel=1e-12)
    assert "losscli: skipped non-numeric columns region" in result.stderr.splitlines()
    assert api_mse(path, "mse") == pytest.approx({"m": mean_squared_error(TY, TM)}, rel=1e-12)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "arrow"])
@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_a_declared_text_column_groups_and_identifies_rows(tmp_path: Path, fmt: str, kind: str) -> None:
    path = text_file(tmp_path, fmt, TEXTS[kind])
    result = runner.invoke(app, ["eval", path, "-l", "mse", "--by", "region", "-f", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout), dtype={"region": str}, keep_default_na=False)
    regions = np.array(TEXTS[kind])
    for group, value in zip(table["region"], table["mse"], strict=True):
        rows = np.full(len(TY), True) if group == "(all)" else regions == group
        assert value == pytest.approx(mean_squared_error(TY[rows], TM[rows]), rel=1e-12)
    assert set(table["region"]) == {"(all)", *TEXTS[kind]}
    per_row = runner.invoke(app, ["eval", path, "-l", "mse", "--id", "region", "--per-row", "-f", "csv"])
    assert per_row.exit_code == 0, per_row.output
    rows = pd.read_csv(io.StringIO(per_row.stdout), dtype={"region": str}, keep_default_na=False)
    assert list(rows["region"]) == TEXTS[kind]
    assert rows["m:mse"].to_numpy() == pytest.approx((TY - TM) ** 2, rel=1e-12)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "arrow"])
@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("all_numbers", "holds numbers stored as text (type string); store them as numbers"),
        ("number_first", "row 2 holds 'b', which is not a number"),
    ],
)
def test_a_declared_text_column_named_as_a_prediction_is_refused(tmp_path: Path, fmt: str, kind: str, why: str) -> None:
    path = text_file(tmp_path, fmt, TEXTS[kind])
    result = runner.invoke(app, ["eval", path, "-l", "mse", "-p", "region"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"losscli: error: {path}: column 'region'")
    assert why in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(BadValueError, match="column 'region'"):
        losscli.evaluate(path, "mse", preds="region")


def test_only_declared_text_columns_say_so_when_no_model_is_left(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"y": [1.0, 2.0], "code": pa.array(["1", "2"])}), path)
    result = runner.invoke(app, ["eval", str(path), "-l", "mse"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"losscli: error: {path}: no prediction columns besides the target 'y' (code is text); name them with --pred."
    )


def test_a_declared_text_target_of_numbers_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"y": pa.array(["1.5", "2", "3"]), "m": [1.5, 2.0, 3.0]}), path)
    result = runner.invoke(app, ["eval", str(path), "-l", "mse"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"losscli: error: {path}: column 'y' holds numbers stored as text (type string); "
        "store them as numbers, or choose other columns."
    )


def test_a_csv_text_column_with_some_numbers_is_still_a_bad_cell(tmp_path: Path) -> None:
    """CSV has no types: a column of numbers with one bad cell is a model with a bad cell."""
    path = tmp_path / "t.csv"
    path.write_text("y,m,region\n1,1.5,1.5\n2,2,b\n")
    result = runner.invoke(app, ["eval", str(path), "-l", "mse"])
    assert result.exit_code == 2
    assert "column 'region', row 2 holds 'b', which is not a number" in result.stderr


# --- 3. the index pandas stores with a DataFrame ------------------------------------------------

FRAME = pd.DataFrame({"y": Y, "a": GOOD, "b": BAD, "month": np.arange(N) % 3 + 1})
INDEX_NOTE = "looks like the index pandas writes and is not a model (--pred picks the models)"


def reference(frame: pd.DataFrame) -> dict[str, float]:
    return {m: mean_squared_error(frame["y"], frame[m]) for m in ("a", "b")}


@pytest.mark.parametrize(
    ("index", "stored"),
    [
        (lambda f: f.sample(frac=1.0, random_state=0), ["__index_level_0__"]),
        (lambda f: f.set_axis(pd.Index(np.arange(N) * 10, name="step")), ["step"]),
        (
            lambda f: f.set_index([pd.Index(np.arange(N) % 5), pd.Index(np.arange(N))]),
            ["__index_level_0__", "__index_level_1__"],
        ),
    ],
    ids=["shuffled", "named", "multi"],
)
def test_the_index_pandas_stores_in_parquet_is_not_a_model(tmp_path: Path, index, stored: list[str]) -> None:
    frame = index(FRAME.drop(columns="month"))
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    assert set(stored) <= set(pq.read_schema(path).names)  # pandas did store it
    result = runner.invoke(app, ["eval", str(path), "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx(reference(frame), rel=1e-12)
    assert "like the index pandas writes and" in result.stderr
    for column in stored:
        assert repr(column) in result.stderr
    assert api_mse(str(path), "mse") == pytest.approx(reference(frame), rel=1e-12)
    table = pa.Table.from_pandas(frame)  # the API given the Arrow table pandas made, index and all
    assert api_mse(table, "mse") == pytest.approx(reference(frame), rel=1e-12)


@pytest.mark.parametrize("pred", ["step", "st*", "a,step"])
def test_pred_can_name_the_index_pandas_stored(tmp_path: Path, pred: str) -> None:
    frame = FRAME.drop(columns="month").set_axis(pd.Index(Y + 0.5, name="step"))
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    result = runner.invoke(app, ["eval", str(path), "-l", "mse", "-f", "csv", "-p", pred])
    assert result.exit_code == 0, result.output
    assert INDEX_NOTE not in result.stderr
    scores = mse_by_model(result.stdout)
    assert scores["step"] == pytest.approx(mean_squared_error(frame["y"], frame.index), rel=1e-12)
    assert sorted(scores) == (["a", "step"] if "a" in pred else ["step"])
    csv = tmp_path / "p.csv"
    frame.reset_index(drop=True).to_csv(csv)  # a nameless first column, as to_csv writes the index
    pd.read_csv(csv).to_csv(csv, index=False)  # read back and written again: pandas names it 'Unnamed: 0'
    result = runner.invoke(app, ["eval", str(csv), "-l", "mse", "-f", "csv", "-p", "Unnamed: 0"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout)["Unnamed: 0"] == pytest.approx(mean_squared_error(Y, np.arange(N)), rel=1e-12)


def test_the_index_of_a_hive_dataset_from_a_pandas_groupby_is_not_a_model(tmp_path: Path) -> None:
    for month, part in FRAME.groupby("month"):
        folder = tmp_path / "ds" / f"month={month}"
        folder.mkdir(parents=True)
        part.drop(columns="month").to_parquet(folder / "part-0.parquet")  # a group keeps its rows' index
    result = runner.invoke(app, ["eval", str(tmp_path / "ds"), "-l", "mse", "--by", "month", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert f"column '__index_level_0__' {INDEX_NOTE}" in result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert sorted(table["model"].unique()) == ["a", "b"]
    for (month, model), value in table.set_index(["month", "model"])["mse"].items():
        rows = FRAME if month == "(all)" else FRAME[FRAME["month"] == int(month)]
        assert value == pytest.approx(mean_squared_error(rows["y"], rows[model]), rel=1e-12)


def test_the_pandas_index_is_left_out_of_one_file_per_model_and_the_long_layout(tmp_path: Path) -> None:
    shuffled = FRAME.sample(frac=1.0, random_state=1)
    for model in ("a", "b"):
        shuffled[["y", model]].rename(columns={model: "pred"}).to_parquet(tmp_path / f"{model}.parquet")
    paths = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    result = runner.invoke(app, ["eval", *paths, "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx(reference(FRAME), rel=1e-12)
    assert "column '__index_level_0__' looks like the index pandas writes; left out" in result.stderr
    long = pd.concat(
        [FRAME.assign(model=m, pred=FRAME[m], id=np.arange(N))[["id", "model", "y", "pred"]] for m in ("a", "b")]
    ).sample(frac=1.0, random_state=2)
    long.to_parquet(tmp_path / "long.parquet")
    args = [str(tmp_path / "long.parquet"), "--model-col", "model", "--id", "id", "-l", "mse", "-f", "csv"]
    result = runner.invoke(app, ["eval", *args])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx(reference(FRAME), rel=1e-12)
