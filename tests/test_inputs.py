"""Every way users hold predictions: formats, layouts, joins, labels and missing values.

One table of (format or layout) -> the same numbers, computed independently with
scikit-learn from the original DataFrame.
"""

from __future__ import annotations

import bz2
import gzip
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from sklearn import metrics
from typer.testing import CliRunner

from losscli.cli import app

from .conftest import SAMPLE

HOUSE = pd.read_csv(SAMPLE / "house_prices.csv")
MODELS = ["linear", "gbm", "knn"]
EXPECTED = {m: metrics.mean_squared_error(HOUSE.y, HOUSE[m]) for m in MODELS}


def invoke(*args: str, input: bytes | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def wide(tmp: Path) -> pd.DataFrame:
    return HOUSE[["id", "y", *MODELS]]


def write_csv(tmp: Path, name: str = "p.csv", sep: str = ",") -> str:
    path = tmp / name
    wide(tmp).to_csv(path, index=False, sep=sep)
    return str(path)


def compressed(opener: Callable, suffix: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        path = tmp / f"p.csv{suffix}"
        with opener(path, "wb") as fh:
            fh.write(wide(tmp).to_csv(index=False).encode())
        return [str(path)]

    return make


def zstd_file(tmp: Path) -> list[str]:
    path = tmp / "p.csv.zst"
    with pa.output_stream(str(path), compression="zstd") as fh:
        fh.write(wide(tmp).to_csv(index=False).encode())
    return [str(path)]


def parquet_dir(tmp: Path) -> list[str]:
    folder = tmp / "parts"
    folder.mkdir()
    df = wide(tmp)
    for i, part in enumerate(np.array_split(np.arange(len(df)), 3)):
        df.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)
    return [str(folder)]


def parquet_glob(tmp: Path) -> list[str]:
    parquet_dir(tmp)
    return [str(tmp / "parts" / "part-*.parquet")]


def one_file_per_model(tmp: Path) -> list[str]:
    paths = []
    for m in MODELS:
        path = tmp / f"{m}.parquet" if m == "gbm" else tmp / f"{m}.csv"
        frame = HOUSE[["id", "y", m]]
        if m == "knn":
            frame = frame.sample(frac=1, random_state=3)  # another row order: joined on id
        frame.to_parquet(path, index=False) if m == "gbm" else frame.to_csv(path, index=False)
        paths.append(str(path))
    return [*paths, "--id", "id"]


def separate_truth(tmp: Path) -> list[str]:
    HOUSE[["id", *MODELS]].to_csv(tmp / "preds.csv", index=False)
    HOUSE[["id", "y"]].sample(frac=1, random_state=1).to_parquet(tmp / "truth.parquet", index=False)
    return [str(tmp / "preds.csv"), "--truth", str(tmp / "truth.parquet"), "--id", "id"]


def long_layout(tmp: Path) -> list[str]:
    long = HOUSE.melt(id_vars=["id", "y"], value_vars=MODELS, var_name="model", value_name="pred")
    long.sample(frac=1, random_state=2).to_csv(tmp / "long.csv", index=False)
    return [str(tmp / "long.csv"), "--model-col", "model"]


LAYOUTS = {
    "csv": lambda t: [write_csv(t)],
    "tsv": lambda t: [write_csv(t, "p.tsv", "\t")],
    "csv.gz": compressed(gzip.open, ".gz"),
    "csv.bz2": compressed(bz2.open, ".bz2"),
    "csv.zst": zstd_file,
    "parquet": lambda t: [wide(t).to_parquet(t / "p.parquet", index=False) or str(t / "p.parquet")],
    "parquet-dir": parquet_dir,
    "parquet-glob": parquet_glob,
    "jsonl": lambda t: [wide(t).to_json(t / "p.jsonl", orient="records", lines=True) or str(t / "p.jsonl")],
    "feather": lambda t: [feather.write_feather(wide(t), t / "p.feather") or str(t / "p.feather")],
    "tsv-by-flag": lambda t: [write_csv(t, "p.data", "\t"), "--input-format", "tsv"],
    "one-file-per-model": one_file_per_model,
    "separate-truth": separate_truth,
    "long": long_layout,
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_and_format_gives_the_same_numbers(tmp_path: Path, layout: str) -> None:
    args = LAYOUTS[layout](tmp_path)
    result = invoke("eval", *args, "-l", "mse", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = {line.split(",")[0]: float(line.split(",")[2]) for line in result.stdout.splitlines()[1:]}
    assert set(rows) == set(MODELS)
    for model, value in rows.items():
        assert value == pytest.approx(EXPECTED[model], rel=1e-12), model


STDIN = {
    "csv": lambda: wide(Path()).to_csv(index=False).encode(),
    "tsv": lambda: wide(Path()).to_csv(index=False, sep="\t").encode(),
    "gzip": lambda: gzip.compress(wide(Path()).to_csv(index=False).encode()),
    "parquet": lambda: _parquet_bytes(),
    "jsonl": lambda: wide(Path()).to_json(orient="records", lines=True).encode(),
    "arrow-ipc": lambda: _feather_bytes(),
}


def _parquet_bytes() -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(wide(Path()), preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def _feather_bytes() -> bytes:
    sink = pa.BufferOutputStream()
    feather.write_feather(pa.Table.from_pandas(wide(Path()), preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("kind", list(STDIN))
def test_stdin_format_is_sniffed_from_the_bytes(kind: str) -> None:
    script = Path(sys.executable).parent / "losscli"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "losscli"]
    done = subprocess.run(
        [*command, "eval", "-", "-l", "mse", "-q"], input=STDIN[kind](), capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    rows = {line.split(",")[0]: float(line.split(",")[2]) for line in done.stdout.decode().splitlines()[1:]}
    assert rows == pytest.approx(EXPECTED, rel=1e-12)


def test_list_columns_hold_a_models_class_probabilities(tmp_path: Path) -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
    table = pa.table(
        {
            "label": ["b", "c", "b"],
            "net": pa.array(probs.tolist(), type=pa.list_(pa.float64(), 3)),
            "tree": pa.array((probs[:, ::-1]).tolist()),
        }
    )
    pq.write_table(table, tmp_path / "lists.parquet")
    result = invoke("eval", str(tmp_path / "lists.parquet"), "-l", "cce", "--classes", "a,b,c", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = {line.split(",")[0]: float(line.split(",")[2]) for line in result.stdout.splitlines()[1:]}
    y = np.array([1, 2, 1])
    assert rows["net"] == pytest.approx(metrics.log_loss(y, probs, labels=[0, 1, 2]), rel=1e-12)
    assert rows["tree"] == pytest.approx(metrics.log_loss(y, probs[:, ::-1], labels=[0, 1, 2]), rel=1e-12)


def test_classes_name_columns_by_position(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("label,m.0,m.1\nno,0.8,0.2\nyes,0.4,0.6\n")
    result = invoke("eval", str(path), "-l", "cce", "--classes", "no,yes", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert float(result.stdout.splitlines()[1].split(",")[2]) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)


def test_positive_names_the_positive_class(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y,m\nchurned,0.9\nstayed,0.2\nchurned,0.6\n")
    result = invoke("eval", str(path), "-l", "bce", "--positive", "churned", "-f", "csv")
    assert result.exit_code == 0, result.output
    expected = metrics.log_loss([1, 0, 1], [0.9, 0.2, 0.6])
    assert float(result.stdout.splitlines()[1].split(",")[2]) == pytest.approx(expected, rel=1e-12)
    without = invoke("eval", str(path), "-l", "bce")
    assert without.exit_code == 2
    assert "--positive LABEL" in without.stderr
    numeric = tmp_path / "n.csv"
    numeric.write_text("y,m\n2,0.9\n1,0.2\n")
    ok = invoke("eval", str(numeric), "-l", "bce", "--positive", "2", "-f", "csv")
    assert ok.exit_code == 0, ok.output
    assert float(ok.stdout.splitlines()[1].split(",")[2]) == pytest.approx(metrics.log_loss([1, 0], [0.9, 0.2]))


def test_booleans_and_minus_one_are_binary_labels(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y,m\ntrue,0.9\nfalse,0.2\n")
    expected = metrics.log_loss([1, 0], [0.9, 0.2])
    result = invoke("eval", str(path), "-l", "bce", "-f", "csv")
    assert float(result.stdout.splitlines()[1].split(",")[2]) == pytest.approx(expected)


def test_nan_drop_leaves_rows_out_per_model(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y,a,b,w\n1,1.5,,1\n2,2.5,2,1\n,9,9,1\n4,3,5,\n5,5,6,2\n")
    result = invoke("eval", str(path), "-l", "mse,mae", "-w", "w", "--nan", "drop", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = {line.split(",")[0]: line.split(",") for line in result.stdout.splitlines()[1:]}
    # a keeps rows 1, 2, 5 (row 3 has no target, row 4 no weight); b keeps rows 2 and 5
    assert rows["a"][1] == "3"
    assert float(rows["a"][2]) == pytest.approx((0.25 + 0.25 + 0) / 4)
    assert rows["b"][1] == "2"
    assert float(rows["b"][2]) == pytest.approx((0 + 2 * 1) / 3)
    assert "dropped rows with missing values (--nan drop): a 2, b 3" in result.stderr
    refused = invoke("eval", str(path), "-l", "mse")
    assert refused.exit_code == 2
    assert "column 'a', row 1 is missing" not in refused.stderr  # the target comes first
    assert "pass --nan drop" in refused.stderr


def test_nan_drop_keeps_the_pairing_for_the_baseline(tmp_path: Path) -> None:
    from scipy import stats

    path = tmp_path / "p.csv"
    path.write_text("y,a,b\n1,1.5,1\n2,,2.5\n3,2,2\n4,4.5,3\n5,5,4\n")
    result = invoke("eval", str(path), "-l", "mae", "--baseline", "a", "--nan", "drop", "-f", "csv")
    assert result.exit_code == 0, result.output
    row = next(line.split(",") for line in result.stdout.splitlines()[1:] if line.startswith("b,"))
    keep = [0, 2, 3, 4]
    y = np.array([1, 2, 3, 4, 5.0])[keep]
    a = np.array([1.5, 0, 2, 4.5, 5])[keep]
    b = np.array([1, 2.5, 2, 3, 4.0])[keep]
    assert float(row[5]) == pytest.approx(stats.ttest_rel(np.abs(b - y), np.abs(a - y)).pvalue, rel=1e-8)


def test_join_inner_says_how_many_were_left_out(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("id,m\n1,1.0\n2,2.0\n3,3.0\n")
    (tmp_path / "t.csv").write_text("id,y\n2,2.5\n3,3.0\n4,1.0\n")
    strict = invoke("eval", str(tmp_path / "p.csv"), "--truth", str(tmp_path / "t.csv"), "--id", "id")
    assert strict.exit_code == 2
    assert "1 prediction id(s) have no target (e.g. '1')" in strict.stderr
    assert "1 target id(s) have no prediction (e.g. '4')" in strict.stderr
    inner = invoke(
        "eval",
        str(tmp_path / "p.csv"),
        "--truth",
        str(tmp_path / "t.csv"),
        "--id",
        "id",
        "--join",
        "inner",
        "-l",
        "mse",
        "-f",
        "csv",
    )
    assert inner.exit_code == 0, inner.output
    assert float(inner.stdout.splitlines()[1].split(",")[2]) == pytest.approx(0.25 / 2)
    assert "left out 1 prediction and 1 target id(s)" in inner.stderr


def test_files_must_agree_on_the_target(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("y,p\n1,1\n2,2\n")
    (tmp_path / "b.csv").write_text("y,p\n1,1\n3,2\n")
    result = invoke("eval", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    assert result.exit_code == 2
    assert "the target 'y' differs from" in result.stderr
    assert "at row 2 (3.0 vs 2.0)" in result.stderr
    renamed = invoke(
        "eval", str(tmp_path / "a.csv"), str(tmp_path / "a.csv"), "--name", "x", "--name", "z", "-f", "csv"
    )
    assert renamed.exit_code == 0, renamed.output
    assert [line.split(",")[0] for line in renamed.stdout.splitlines()[1:]] == ["x", "z"]
