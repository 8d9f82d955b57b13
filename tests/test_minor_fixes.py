"""Small refusals a fresh user met: each one sentence, of a LossCliError that is also the built-in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error
from typer.testing import CliRunner

import losscli
from losscli.cli import app
from losscli.errors import InputError, LossCliError

runner = CliRunner()


@pytest.mark.parametrize(
    ("y_true", "y_pred", "weight", "name"),
    [
        (np.array([1 + 1j, 2]), np.array([1.0, 2.0]), None, "y_true"),
        (np.array([1.0, 2.0]), np.array([1.0, 2 + 0j]), None, "y_pred"),
        (np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([1j, 1]), "sample_weight"),
    ],
)
def test_complex_input_is_a_type_error_in_one_sentence(y_true, y_pred, weight, name) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=f"^{name} holds complex numbers; losses take real numbers") as info:
        losscli.score("mse", y_true, y_pred, sample_weight=weight)
    assert isinstance(info.value, LossCliError)


def test_a_dataframe_column_of_mixed_types_is_named() -> None:
    frame = pd.DataFrame({"y": [1.0, 2, 3, 4], "a": [1.0, 2, 3, 5], "g": ["x", 1, "x", 2]})
    with pytest.raises(InputError, match=r"^column 'g' of the DataFrame mixes int and str values; give it one type"):
        losscli.evaluate(frame, "mse", by="g")


def test_column_vectors_are_read_as_scikit_learn_reads_them() -> None:
    y, p = np.array([[1.0], [2.0], [4.0]]), np.array([[1.5], [2.0], [3.0]])
    assert losscli.score("mse", y, p) == pytest.approx(mean_squared_error(y, p), rel=1e-12)
    assert losscli.score("mae", y.ravel(), p) == pytest.approx(mean_absolute_error(y, p), rel=1e-12)
    assert losscli.score("mse", y, p.ravel()) == pytest.approx(mean_squared_error(y, p), rel=1e-12)
    labels, probs = np.array([[1], [0], [1]]), np.array([[0.8], [0.3], [0.6]])
    assert losscli.score("bce", labels, probs) == pytest.approx(log_loss(labels.ravel(), probs.ravel()), rel=1e-12)
    rows = np.array([[0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    assert losscli.score("cce", labels, rows) == pytest.approx(log_loss(labels.ravel(), rows), rel=1e-12)


def test_a_multiclass_loss_still_needs_rows_by_classes() -> None:
    with pytest.raises(ValueError, match=r"not a class index 0\.\.0"):  # one column is one class, not a vector
        losscli.score("cce", np.array([1, 0]), np.array([[0.8], [0.3]]))


def test_regression_values_beside_dotted_model_names_say_pass_a_regression_loss(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("y,lgbm.v1,lgbm.v2\n1.5,1.4,1.7\n2.5,2.6,2.2\n0.5,0.4,0.9\n")
    result = runner.invoke(app, ["eval", str(path)])
    assert result.exit_code == 2
    assert "holds 1.5 in row 1, not a class index; this looks like regression: pass -l mse" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    ok = runner.invoke(app, ["eval", str(path), "-l", "mse", "-f", "csv", "-q"])
    assert ok.exit_code == 0, ok.output
    expected = mean_squared_error([1.5, 2.5, 0.5], [1.4, 2.6, 0.4])
    assert float(ok.stdout.splitlines()[1].split(",")[2]) == pytest.approx(expected, rel=1e-12)


def test_class_index_targets_beside_dotted_columns_stay_multiclass(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("y,m.a,m.b,m.c\n0,0.5,0.3,0.2\n2,0.1,0.6,0.3\n1,0.2,0.2,0.6\n")
    result = runner.invoke(app, ["eval", str(path), "-f", "csv", "-q"])
    assert result.exit_code == 0, result.output
    probs = [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]]
    assert float(result.stdout.splitlines()[1].split(",")[2]) == pytest.approx(log_loss([0, 2, 1], probs), rel=1e-12)


HOUSES = str(Path(__file__).parent.parent / "sample_data" / "house_prices.csv")


@pytest.mark.parametrize("seed", [np.int64(3), np.int32(3), np.uint64(3)])
@pytest.mark.parametrize("ci", [np.float64(0.9), 0.9])
def test_numpy_numbers_are_the_python_numbers_they_hold(seed: object, ci: object) -> None:
    """Seeds from np.arange and levels from NumPy arithmetic: the same run as with int and float
    (a seed's bits went through Python int hashing; a level through its decimal text)."""
    got = losscli.evaluate(HOUSES, "mae", ci=ci, seed=seed, bootstrap=np.int64(200))
    want = losscli.evaluate(HOUSES, "mae", ci=0.9, seed=3, bootstrap=200)
    pd.testing.assert_frame_equal(got, want)


def test_a_level_below_fifty_is_refused_as_typed() -> None:
    """--ci 1.5 is neither a level (0.5 to 1) nor a percent of one (50 to 100): the refusal names 1.5."""
    result = runner.invoke(app, ["eval", HOUSES, "-l", "mae", "--ci", "1.5", "-q"])
    assert result.exit_code == 2
    assert "not 1.5." in result.stderr
    assert "0.015" not in result.stderr


def test_the_replicate_warning_never_rounds_up_to_its_bound() -> None:
    """199 x 0.025 = 4.975 replicates beyond each end: fewer than 5, and said so."""
    result = runner.invoke(app, ["eval", HOUSES, "-l", "mae", "--ci", "0.95", "--bootstrap", "199", "-q", "-f", "csv"])
    assert result.exit_code == 0
    assert "leaves 4.975 replicate(s) beyond each end" in result.stderr


def test_a_bootstrap_interval_needs_two_rows(tmp_path: Path) -> None:
    """A group of one row: every replicate is that row's value, so no interval (NaN, as the t
    method's), where groups of two keep theirs."""
    path = tmp_path / "tiny.csv"
    path.write_text("y,a,b,g\n1,1.5,2,x\n2,2.5,3,x\n3,3.5,4,y\n4,4.5,5,z\n5,5,6,z\n")
    frame = losscli.evaluate(str(path), "mse", ci=0.95, baseline="a", by="g")
    one = frame[frame["g"] == "y"]
    assert one[["ci_low", "ci_high"]].isna().all().all()
    assert one[one["model"] == "b"][["delta_ci_low", "delta_ci_high"]].isna().all().all()
    two = frame[(frame["g"] == "z") & (frame["model"] == "a")]
    assert (two["ci_low"] < two["ci_high"]).all()


def test_the_dataframe_column_arrow_cannot_convert_is_the_one_named() -> None:
    # 'a' mixes int and float objects (Arrow reads it as float64); 'b' holds objects Arrow cannot read.
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0], "a": pd.Series([1, 2.5, 3], dtype=object), "b": [object()] * 3})
    with pytest.raises(InputError, match=r"^column 'b' of the DataFrame cannot be converted to Arrow") as info:
        losscli.evaluate(frame, "mse", preds="a")
    assert "astype(str)" not in str(info.value)


def test_astype_str_is_offered_only_when_text_is_mixed_in() -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0], "a": [1.0, 2.0, 3.0], "b": pd.Series([1, object(), 2.5], dtype=object)})
    with pytest.raises(InputError, match=r"^column 'b' of the DataFrame mixes float and int and object values") as info:
        losscli.evaluate(frame, "mse", preds="a")
    assert "astype(str)" not in str(info.value)


def test_one_loss_written_twice_is_computed_once_with_a_note() -> None:
    result = runner.invoke(app, ["eval", HOUSES, "-l", "huber,huber:delta=1", "-f", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "model,n,huber,rank"
    assert "2 losses written, 1 distinct (huber)" in result.stderr
    plain = runner.invoke(app, ["eval", HOUSES, "-l", "mse,mae", "-f", "csv"])
    assert "distinct" not in plain.stderr


@pytest.mark.parametrize(
    ("typed", "first"), [("md", "| model"), ("ndjson", '{"model"'), ("htm", "<!DOCTYPE"), ("JSON", "[")]
)
def test_a_format_is_also_named_by_its_suffix(typed: str, first: str) -> None:
    """-f takes what -o's suffix names (md, ndjson, htm), in any case."""
    result = runner.invoke(app, ["eval", HOUSES, "-l", "mse", "-q", "-f", typed])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(first)


def test_a_mistyped_format_is_refused_with_the_closest() -> None:
    result = runner.invoke(app, ["eval", HOUSES, "-l", "mse", "-q", "-f", "jsn"])
    assert result.exit_code == 2
    assert "unknown --format 'jsn' (did you mean json?); choose one of" in result.stderr
