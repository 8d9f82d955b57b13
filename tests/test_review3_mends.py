"""A review's defects in reading and messages (review3), each failing before its mend.

Reference numbers come from scikit-learn on the arrays written to the files; messages are
checked for the fix they name and for the wrong advice they must not give."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_squared_error
from typer.testing import CliRunner

import losscli
from losscli.cli import app
from losscli.errors import ColumnError, LossCliError

runner = CliRunner()
RNG = np.random.default_rng(3)
N = 20
Y = RNG.normal(size=N)
PRED = {"a": Y + RNG.normal(size=N), "b": Y + 2 * RNG.normal(size=N)}


def mse_by_model(stdout: str) -> dict[str, float]:
    table = pd.read_csv(io.StringIO(stdout))
    return dict(zip(table["model"].astype(str), table["mse"], strict=True))


def refused(args: list[str]) -> str:
    """The one sentence of a user error (exit 2, no traceback)."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return " ".join(result.stderr.split())


# --- 1, 6: a column named in a role is never dropped as pandas' index ----------------------------


def _long() -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame({"id": range(N), "model": m, "y": Y, "pred": p}) for m, p in PRED.items()],
        ignore_index=True,
    )


@pytest.mark.parametrize(
    ("index", "args"),
    [
        (["id", "model"], ["--model-col", "model"]),
        (["model"], ["--model-col", "model", "--id", "id"]),
        (["id", "model"], ["--model-col", "MODEL"]),  # a role named in another case
    ],
    ids=["id-model", "model", "case"],
)
def test_long_parquet_indexed_by_id_and_model(tmp_path: Path, index: list[str], args: list[str]) -> None:
    path = tmp_path / "long.parquet"
    _long().set_index(index).to_parquet(path)
    result = runner.invoke(app, ["eval", str(path), *args, "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    want = {m: mean_squared_error(Y, p) for m, p in PRED.items()}
    assert mse_by_model(result.stdout) == pytest.approx(want, rel=1e-12)
    assert "index pandas writes" not in result.stderr


def test_pred_names_the_index_with_truth(tmp_path: Path) -> None:
    index = pd.Index(Y + 0.5 * RNG.normal(size=N), name="m0")
    pd.DataFrame({"id": range(N), "a": PRED["a"]}, index=index).to_parquet(tmp_path / "p.parquet")
    pd.DataFrame({"id": range(N), "y": Y}).to_parquet(tmp_path / "t.parquet")
    base = ["eval", str(tmp_path / "p.parquet"), "--truth", str(tmp_path / "t.parquet"), "--id", "id", "-l", "mse"]
    result = runner.invoke(app, [*base, "--pred", "m0,a", "-f", "csv"])
    assert result.exit_code == 0, result.output
    want = {"m0": mean_squared_error(Y, index.to_numpy()), "a": mean_squared_error(Y, PRED["a"])}
    assert mse_by_model(result.stdout) == pytest.approx(want, rel=1e-12)
    result = runner.invoke(app, [*base, "-f", "csv"])  # not named: left out, with a note
    assert result.exit_code == 0, result.output
    assert list(mse_by_model(result.stdout)) == ["a"]
    assert "'m0' looks like the index pandas writes" in result.stderr


def test_pred_names_the_index_of_a_long_file(tmp_path: Path) -> None:
    long = _long()
    long["alt"] = long["pred"] + 1.0
    path = tmp_path / "long.parquet"
    long.set_index(["id", "model", "alt"]).to_parquet(path)
    args = ["eval", str(path), "--model-col", "model", "--pred", "pred,alt", "-l", "mse", "-f", "csv"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    got = mse_by_model(result.stdout)
    for m, p in PRED.items():
        assert got[f"{m}.pred"] == pytest.approx(mean_squared_error(Y, p), rel=1e-12)
        assert got[f"{m}.alt"] == pytest.approx(mean_squared_error(Y, p + 1.0), rel=1e-12)


# --- 2: decimal commas and thousands separators refused by each file's own cells, in every layout --

Y2 = np.array([1.5, 2.25, 3.0, 0.5])
P2 = {"a": np.array([1.25, 2.5, 2.75, 1.0]), "b": np.array([2.0, 2.0, 3.5, 0.25])}


def _comma(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def _layouts(tmp_path: Path, pred_cell: object, truth_cell: object) -> dict[str, list[str]]:
    """The same data as a long CSV, one CSV per model, and a Parquet of predictions with a CSV
    truth; the cells given as ``pred_cell(x)`` and ``truth_cell(x)``."""
    long = tmp_path / "long.csv"
    rows = [f"{i};{m};{truth_cell(Y2[i])};{pred_cell(p[i])}" for m, p in P2.items() for i in range(len(Y2))]  # type: ignore[operator]
    long.write_text("id;model;y;pred\n" + "\n".join(rows) + "\n")
    for m, p in P2.items():
        lines = [f"{i};{truth_cell(Y2[i])};{pred_cell(p[i])}" for i in range(len(Y2))]  # type: ignore[operator]
        (tmp_path / f"{m}.csv").write_text("id;y;pred\n" + "\n".join(lines) + "\n")
    pd.DataFrame({"id": range(len(Y2)), **P2}).to_parquet(tmp_path / "preds.parquet")
    truth = tmp_path / "truth.csv"
    truth.write_text("id;y\n" + "\n".join(f"{i};{truth_cell(y)}" for i, y in enumerate(Y2)) + "\n")  # type: ignore[operator]
    return {
        "long": [str(long), "--model-col", "model", "--id", "id"],
        "files": [str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--id", "id"],
        "truth": [str(tmp_path / "preds.parquet"), "--truth", str(truth), "--id", "id"],
    }


@pytest.mark.parametrize("layout", ["long", "files", "truth"])
def test_decimal_commas_in_reshaped_layouts_name_the_option(tmp_path: Path, layout: str) -> None:
    args = _layouts(tmp_path, _comma, _comma)[layout]
    message = refused(["eval", *args, "-l", "mse"])
    assert "a number with a decimal comma; pass --decimal , to read them" in message
    assert ("truth.csv: column 'y'" if layout == "truth" else "column 'y'") in message
    result = runner.invoke(app, ["eval", *args, "-l", "mse", "--decimal", ",", "-f", "csv"])
    assert result.exit_code == 0, result.output
    want = {m: mean_squared_error(Y2, p) for m, p in P2.items()}
    assert mse_by_model(result.stdout) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("layout", ["long", "files", "truth"])
def test_thousands_in_reshaped_layouts_are_said(tmp_path: Path, layout: str) -> None:
    thousands = lambda x: f'"{1000 * x:,.0f}"'  # noqa: E731
    args = _layouts(tmp_path, thousands, thousands)[layout]
    message = refused(["eval", *args, "-l", "mse"])
    assert "separates thousands" in message
    assert "differs from" not in message
    assert "--positive" not in message


def test_declared_text_in_a_parquet_truth_stays_text(tmp_path: Path) -> None:
    """Only a file whose types were guessed (a CSV) is judged by its cells: a Parquet truth's
    text column of '1,5' is context, not a target in another notation."""
    pd.DataFrame({"id": range(len(Y2)), "a": P2["a"]}).to_csv(tmp_path / "p.csv", index=False)
    note = [_comma(v) for v in Y2]
    pd.DataFrame({"id": range(len(Y2)), "y": Y2, "note": note}).to_parquet(tmp_path / "t.parquet")
    args = ["eval", str(tmp_path / "p.csv"), "--truth", str(tmp_path / "t.parquet"), "--id", "id", "-l", "mse"]
    result = runner.invoke(app, [*args, "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert mse_by_model(result.stdout) == pytest.approx({"a": mean_squared_error(Y2, P2["a"])}, rel=1e-12)


# --- 3: data in memory has no reading options: the fix is to convert it ---------------------------


@pytest.mark.parametrize(
    ("cells", "said"),
    [
        (["1,5", "2,5", "3,1"], "a number with a decimal comma; convert them to numbers (',' is their decimal mark)"),
        (["1,000", "2,000", "3,000"], "separates thousands (1000) or marks the decimal (1.0): convert them to numbers"),
        (["1,000,000", "2,000", "3,000"], "',' in '1,000,000' separates thousands: convert them to numbers"),
        (["1.000,5", "2,5", "3,1"], "'.' in '1.000,5' separates thousands and ',' marks the decimal: convert them"),
    ],
)
def test_data_in_memory_is_never_told_an_option(cells: list[str], said: str) -> None:
    with pytest.raises(ColumnError) as caught:
        losscli.evaluate({"y": [1.0, 2.0, 3.0], "a": cells}, losses="mse")
    message = str(caught.value)
    assert said in message
    for option in ("decimal=", "--", "file", "pass "):
        assert option not in message


# --- 4: with --decimal , a '.'-grouped cell is named, never a correct one ---------------------------


@pytest.mark.parametrize(
    ("column", "said"),
    [
        (["1.000", "2,5", "3.100"], "holds '1.000' in row 1; with --decimal , the '.' in '1.000' separates thousands"),
        (["1,5", "2.400", "3,1"], "holds '2.400' in row 2; with --decimal , the '.' in '2.400' separates thousands"),
        (["1.000", "2.400", "3.100"], "holds '1.000' in row 1; with --decimal , the '.' in '1.000' separates"),
        (["1,5", "2.5", "3,1"], "holds '2.5' in row 2, a number with a decimal point, but --decimal , reads ','"),
    ],
)
def test_dot_grouped_thousands_with_decimal_comma(tmp_path: Path, column: list[str], said: str) -> None:
    path = tmp_path / "de.csv"
    path.write_text("y;a\n" + "".join(f"{y};{a}\n" for y, a in zip(["1000", "2500,5", "3000"], column, strict=True)))
    message = refused(["eval", str(path), "--decimal", ",", "-l", "mse"])
    assert said in message
    assert "remove the separators" in message or "decimal point" in message
    assert "stored as text" not in message
    assert "'2,5'" not in message  # the correct cell is never blamed


def test_dot_cells_past_the_sample_are_named_by_row(tmp_path: Path) -> None:
    n = 12_000  # more rows than the sample the layout looks at
    rows = "".join(f"{i},5;{i},25\n" for i in range(n)) + "3;1.000\n"
    path = tmp_path / "big.csv"
    path.write_text("y;a\n" + rows)
    message = refused(["eval", str(path), "--decimal", ",", "-l", "mse"])
    assert f"row {n + 1} holds '1.000'; with --decimal , the '.' in '1.000' separates thousands" in message
    assert "stored as text" not in message
    good = tmp_path / "good.csv"
    good.write_text("y;a\n" + "".join(f"{i},5;{i},25\n" for i in range(n)))
    result = runner.invoke(app, ["eval", str(good), "--decimal", ",", "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    want = mean_squared_error(np.arange(n) + 0.5, np.arange(n) + 0.25)
    assert mse_by_model(result.stdout)["a"] == pytest.approx(want, rel=1e-12)


# --- 5: class columns named 1..k against a target of 0..k-1 -------------------------------------


def _classes_file(tmp_path: Path, y: np.ndarray) -> tuple[str, np.ndarray]:
    probs = np.random.default_rng(1).dirichlet(np.ones(3), len(y))
    path = tmp_path / "c.csv"
    pd.DataFrame({"y": y, "m.1": probs[:, 0], "m.2": probs[:, 1], "m.3": probs[:, 2]}).to_csv(path, index=False)
    return str(path), probs


@pytest.mark.parametrize("loss", [[], ["-l", "cce"]], ids=["guessed", "cce"])
def test_class_names_off_by_one_point_to_classes(tmp_path: Path, loss: list[str]) -> None:
    from sklearn.metrics import log_loss

    y = np.random.default_rng(2).integers(0, 3, 60)
    path, probs = _classes_file(tmp_path, y)
    message = refused(["eval", path, *loss])
    assert "the names do not match the target" in message
    assert "--classes" in message
    assert "regression" not in message
    assert "not a class index" not in message
    result = runner.invoke(app, ["eval", path, "-l", "cce", "--classes", "0,1,2", "-f", "csv"])
    assert result.exit_code == 0, result.output
    value = float(pd.read_csv(io.StringIO(result.stdout))["cce"][0])
    assert value == pytest.approx(log_loss(y, probs, labels=[0, 1, 2]), rel=1e-12)


def test_class_names_and_an_integer_target_outside_both_readings(tmp_path: Path) -> None:
    path, _ = _classes_file(tmp_path, np.array([1, 2, 7, 3]))
    message = refused(["eval", path])
    assert "holds 7 in row 3, which names no column" in message
    assert "regression" not in message


def test_a_non_integer_target_beside_class_columns_suggests_regression(tmp_path: Path) -> None:
    path, _ = _classes_file(tmp_path, np.array([1.0, 2.5, 3.0, 1.0]))
    assert "this looks like regression" in refused(["eval", path])


def test_classes_reordering_the_columns_own_integer_names_stays_refused(tmp_path: Path) -> None:
    path, _ = _classes_file(tmp_path, np.array([1, 2, 3, 1]))
    assert "disagrees with the class columns' own names" in refused(["eval", path, "-l", "cce", "--classes", "2,3,1"])


# --- 7: a mistyped --FORMAT suggests only a format the command writes -----------------------------


@pytest.mark.parametrize(
    ("command", "said", "not_said"),
    [
        (["advise", "{csv}", "--csv"], "advise writes table, json, jsonl, markdown (--format NAME)", "--format csv"),
        (["advise", "{csv}", "--json"], "Did you mean --format json?", "writes"),
        (["losses", "--html"], "losses writes table, markdown, json (--format NAME)", "--format html"),
        (["losses", "--markdown"], "Did you mean --format markdown?", "writes"),
        (["eval", "{csv}", "--html"], "Did you mean --format html?", "writes"),
        (["eval", "{csv}", "--parquet"], "Did you mean --per-row -o FILE.parquet?", "--format parquet"),
    ],
)
def test_format_hint_fits_the_command(tmp_path: Path, command: list[str], said: str, not_said: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text("y,a\n1,1.5\n2,2.5\n3,2\n")
    message = refused([str(path) if part == "{csv}" else part for part in command])
    assert said in message
    assert not_said not in message
    if "Did you mean --format" in said:  # following the hint works
        fixed = [str(path) if p == "{csv}" else p for p in command[:-1]]
        result = runner.invoke(app, [*fixed, "--format", said.split()[-1].rstrip("?")])
        assert result.exit_code == 0, result.output


# --- 8: a date or time column is said to hold dates/times, not called text -------------------------


def test_dates_are_not_called_text(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=3)
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0], "ts": days, "day": days.date, "g": ["a", "b", "c"]})
    frame.to_parquet(tmp_path / "t.parquet")
    message = refused(["eval", str(tmp_path / "t.parquet")])
    assert "(ts, day hold dates/times, not numbers; g is text)" in message
    frame.drop(columns="day").to_csv(tmp_path / "t.csv", index=False)
    message = refused(["eval", str(tmp_path / "t.csv")])
    assert "ts holds dates/times, not numbers" in message
    assert "is text" not in message


# --- 9: score()'s sample_weight as scikit-learn reads it ------------------------------------------


@pytest.mark.parametrize("loss", ["mae", "mse"])
def test_score_takes_a_weight_column(loss: str) -> None:
    from sklearn.metrics import mean_absolute_error

    reference = {"mae": mean_absolute_error, "mse": mean_squared_error}[loss]
    w = RNG.uniform(0.5, 2.0, N)
    want = reference(Y, PRED["a"], sample_weight=w)
    assert losscli.score(loss, Y, PRED["a"], sample_weight=w[:, None]) == pytest.approx(want, rel=1e-12)
    same = reference(Y, PRED["a"], sample_weight=np.full(N, 2.0))
    assert losscli.score(loss, Y, PRED["a"], sample_weight=2.0) == pytest.approx(same, rel=1e-12)


@pytest.mark.parametrize("shape", [(N, 2), (1, N), (N, 1, 1)])
def test_score_refuses_other_2d_weights_in_one_sentence(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"^sample_weight has shape .*; give one weight per row") as caught:
        losscli.score("mae", Y, PRED["a"], sample_weight=np.ones(shape))
    assert isinstance(caught.value, LossCliError)


# --- outside the range: a ';' file whose numbers look '.'-grouped gets a note ----------------------

DOT_NOTE = "if '.' separates thousands there"


def test_a_semicolon_file_of_dot_grouped_looking_numbers_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text("y;a;b\n1000;1.000;1,5\n2500;2.400;2\n3000;999;3\n")
    result = runner.invoke(app, ["eval", str(path), "-p", "a", "-l", "mse", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert "column 'a' holds numbers such as '1.000', read as decimals (1.000 = 1)" in result.stderr
    assert "(1.000 = 1000), remove the separators" in result.stderr
    assert result.stderr.count(DOT_NOTE) == 1  # y (4 digits) and b are no such columns
    want = mean_squared_error([1000, 2500, 3000], [1.0, 2.4, 999.0])  # read as the file's decimals
    assert mse_by_model(result.stdout)["a"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(
    "text",
    [
        "y;a\n1.5;1.25\n2.5;2.5\n3;3.125\n",  # decimals of any length
        "y;a\n1;0.500\n0;0.125\n1;0.875\n",  # probabilities to three places: a '0.' is a decimal
        "y;a\n1500;1234.500\n2500;2.400\n",  # a cell no thousands grouping writes (1234.500)
        "y,a\n1000,1.000\n2500,2.400\n",  # a comma file
    ],
    ids=["decimals", "probabilities", "long-integer-part", "comma"],
)
def test_ordinary_decimals_get_no_dot_group_note(tmp_path: Path, text: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(text)
    result = runner.invoke(app, ["eval", str(path), "-l", "mse"])
    assert result.exit_code == 0, result.output
    assert DOT_NOTE not in result.stderr


@pytest.mark.parametrize("layout", ["long", "files"])
def test_a_bad_cell_in_a_reshaped_csv_is_named_by_row(tmp_path: Path, layout: str) -> None:
    """Like decimal commas, a cell that is no number made the column text, and the reshaping
    lost the model (no prediction column); it is named as in a plain CSV."""
    args = _layouts(tmp_path, lambda x: "x" if x == 2.5 else f"{x:g}", lambda y: f"{y:g}")[layout]
    message = refused(["eval", *args, "-l", "mse"])
    assert "column 'pred', row 2 holds 'x', which is not a number" in message


def test_text_labels_in_a_csv_truth_stay_labels(tmp_path: Path) -> None:
    from sklearn.metrics import log_loss

    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    frame = pd.DataFrame({"id": range(3), "m.a": probs[:, 0], "m.1": probs[:, 1], "m.b": probs[:, 2]})
    frame.to_parquet(tmp_path / "p.parquet")
    (tmp_path / "t.csv").write_text("id,y\n0,a\n1,1\n2,b\n")  # one label looks like a number
    args = ["eval", str(tmp_path / "p.parquet"), "--truth", str(tmp_path / "t.csv"), "--id", "id", "-l", "cce"]
    result = runner.invoke(app, [*args, "-f", "csv"])
    assert result.exit_code == 0, result.output
    value = float(pd.read_csv(io.StringIO(result.stdout))["cce"][0])
    ordered = probs[:, [1, 0, 2]]  # scikit-learn's label order: '1', 'a', 'b'
    assert value == pytest.approx(log_loss(["a", "1", "b"], ordered, labels=["1", "a", "b"]), rel=1e-12)


def test_each_file_of_a_join_keeps_its_reading(tmp_path: Path) -> None:
    """CSV predictions with a Parquet truth: the truth's declared text is 'stored as text'; a
    Parquet of predictions with a CSV truth: the truth's cell that is no number is named."""
    pd.DataFrame({"id": range(3), "a": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame({"id": range(3), "y": ["1.5", "2.5", "3.5"]}).to_parquet(tmp_path / "t.parquet")
    args = ["eval", str(tmp_path / "p.csv"), "--truth", str(tmp_path / "t.parquet"), "--id", "id", "-l", "mse"]
    assert "column 'y' holds numbers stored as text" in refused(args)
    pd.DataFrame({"id": range(3), "a": [1.0, 2.0, 3.0]}).to_parquet(tmp_path / "p.parquet")
    (tmp_path / "t.csv").write_text("id,y\n0,1.5\n1,x\n2,3.5\n")
    args = ["eval", str(tmp_path / "p.parquet"), "--truth", str(tmp_path / "t.csv"), "--id", "id", "-l", "mse"]
    assert "column 'y', row 2 holds 'x', which is not a number" in refused(args)
