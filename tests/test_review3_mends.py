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

from losscli.cli import app

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
