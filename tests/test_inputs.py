"""Every way users hold predictions: formats, layouts, joins, labels and missing values.

One table of (format or layout) -> the same numbers, computed independently with
scikit-learn from the original DataFrame.
"""

from __future__ import annotations

import bz2
import gzip
import io
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


def hive(tmp: Path, glob: bool = False) -> list[str]:
    """ds/month=M/part-0.parquet: the month is a folder name, not a column of the files."""
    df = wide(tmp).assign(month=np.arange(len(HOUSE)) % 3 + 1)
    for month, part in df.groupby("month"):
        folder = tmp / "ds" / f"month={month}"
        folder.mkdir(parents=True)
        part.drop(columns="month").to_parquet(folder / "part-0.parquet", index=False)
    return [str(tmp / "ds" / "month=*" / "*.parquet") if glob else str(tmp / "ds")]


def npz(tmp: Path, save: Callable = np.savez) -> list[str]:
    save(tmp / "p.npz", y_true=HOUSE.y.to_numpy(), **{m: HOUSE[m].to_numpy() for m in MODELS})
    return [str(tmp / "p.npz")]


def npy_files(tmp: Path) -> list[str]:
    for m in MODELS:
        np.save(tmp / f"{m}.npy", HOUSE[m].to_numpy())
    np.save(tmp / "y.npy", HOUSE.y.to_numpy())
    return [*(str(tmp / f"{m}.npy") for m in MODELS), "--truth", str(tmp / "y.npy")]


def json_array(tmp: Path) -> list[str]:
    wide(tmp).to_json(tmp / "p.json", orient="records")
    return [str(tmp / "p.json")]


def decimal_commas(tmp: Path) -> list[str]:
    """What a European spreadsheet writes: semicolons and decimal commas."""
    path = tmp / "p.csv"
    wide(tmp).to_csv(path, index=False, sep=";", decimal=",")
    return [str(path), "--decimal", ","]


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
    "csv-semicolons-sniffed": lambda t: [write_csv(t, "p.csv", ";")],
    "csv-pipes-sniffed": lambda t: [write_csv(t, "p.csv", "|")],
    "csv-tabs-sniffed": lambda t: [write_csv(t, "p.csv", "\t")],
    "csv-delimiter-flag": lambda t: [write_csv(t, "p.csv", ":"), "--delimiter", ":"],
    "csv-tab-spelled": lambda t: [write_csv(t, "p.txt", "\t"), "--delimiter", "\\t"],
    "csv-decimal-commas": decimal_commas,
    "parquet-hive": hive,
    "parquet-hive-glob": lambda t: hive(t, glob=True),
    "json-array": json_array,
    "json-lines-as-json": lambda t: [wide(t).to_json(t / "p.json", orient="records", lines=True) or str(t / "p.json")],
    "npz": npz,
    "npz-compressed": lambda t: npz(t, np.savez_compressed),
    "npy-files-with-truth": npy_files,
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
    "json-array": lambda: wide(Path()).to_json(orient="records").encode(),
    "semicolons": lambda: wide(Path()).to_csv(index=False, sep=";").encode(),
    "npz": lambda: _npz_bytes(),
    "arrow-ipc": lambda: _feather_bytes(),
}


def _npz_bytes() -> bytes:
    sink = io.BytesIO()
    np.savez(sink, y=HOUSE.y.to_numpy(), **{m: HOUSE[m].to_numpy() for m in MODELS})
    return sink.getvalue()


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


# --- issue 17: dialects, names people use, partitions, arrays ---------------------------------


def test_a_sniffed_delimiter_is_said_unless_it_is_a_comma(tmp_path: Path) -> None:
    semi = invoke("eval", write_csv(tmp_path, "s.csv", ";"), "-l", "mse")
    assert "the delimiter is ';' (semicolon), sniffed from the first lines" in semi.stderr
    comma = invoke("eval", write_csv(tmp_path, "c.csv", ","), "-l", "mse")
    assert "delimiter" not in comma.stderr


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
@pytest.mark.parametrize("seed", range(25))
def test_the_sniffer_is_right_on_numeric_data(delimiter: str, seed: int) -> None:
    """csv.Sniffer on what prediction files hold: signed floats, exponents, integers, empty cells,
    a text column, decimal commas when the delimiter is not a comma."""
    from losscli.read.dialect import sniff_delimiter

    rng = np.random.default_rng(seed)
    n_cols, n_rows = int(rng.integers(2, 9)), int(rng.integers(1, 300))
    frame = pd.DataFrame({f"c{j}": rng.normal(0, 10.0 ** rng.integers(-3, 6), n_rows) for j in range(n_cols)})
    frame["c0"] = rng.integers(-5, 5, n_rows)
    if seed % 3 == 0:
        frame.iloc[rng.integers(0, n_rows), n_cols - 1] = np.nan
    if seed % 4 == 0:
        frame["label"] = rng.choice(["cat", "dog", "owl"], n_rows)
    decimal = "," if delimiter != "," and seed % 2 else "."
    text = frame.to_csv(index=False, sep=delimiter, decimal=decimal, float_format="%.6g" if seed % 5 else None)
    assert sniff_delimiter(text.encode(), "," if decimal == "," else None) == delimiter


def test_none_and_na_cells_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y,a\n1,None\n2,<NA>\n3,2.5\nNA,1\n5,null\n6,\n")
    refused = invoke("eval", str(path), "-l", "mse")
    assert refused.exit_code == 2
    # The earliest missing cell over every column (a, row 1), then the other 4 (y: 1, a: 3).
    assert "column 'a', row 1 is missing (empty or NaN) (and at least 4 more missing cells, in columns 'y', 'a')" in (
        refused.stderr
    )
    path.write_text("y,a\n1,None\n2,<NA>\n3,2.5\n4,1\n5,null\n6,\n")
    refused = invoke("eval", str(path), "-l", "mse")
    assert "column 'a', row 1 is missing (empty or NaN) (and at least 3 more missing cells, in column 'a')" in (
        refused.stderr
    )
    path.write_text("y,a\n1,None\n2,<NA>\n3,2.5\nNA,1\n5,null\n6,\n")
    dropped = invoke("eval", str(path), "-l", "mse", "--nan", "drop", "-f", "csv")
    assert dropped.exit_code == 0, dropped.output
    assert dropped.stdout.splitlines()[1].split(",")[1:3] == ["1", "0.25"]


@pytest.mark.parametrize(
    ("target", "model"), [("y_test", "y_pred"), ("y_true", "y_score"), ("y_test", "y_prob"), ("y_true", "y_pred")]
)
def test_scikit_learn_names_are_detected(tmp_path: Path, target: str, model: str) -> None:
    path = tmp_path / "p.csv"
    pd.DataFrame({target: HOUSE.y, model: HOUSE.gbm}).to_csv(path, index=False)
    result = invoke("eval", str(path), "-l", "mse", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert f"target={target} (auto)" in result.stderr
    model_row = result.stdout.splitlines()[1].split(",")
    assert model_row[0] == model
    assert float(model_row[2]) == pytest.approx(EXPECTED["gbm"], rel=1e-12)


def test_hive_partition_keys_group_the_rows(tmp_path: Path) -> None:
    args = hive(tmp_path)
    result = invoke("eval", *args, "-l", "mse", "--by", "month", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert "partition keys month (from the folder names)" in result.stderr
    month = np.arange(len(HOUSE)) % 3 + 1
    rows = [line.split(",") for line in result.stdout.splitlines()[1:]]
    for m in (1, 2, 3):
        part = HOUSE[month == m]
        for model in MODELS:
            got = next(float(r[3]) for r in rows if r[0] == str(m) and r[1] == model)
            assert got == pytest.approx(metrics.mean_squared_error(part.y, part[model]), rel=1e-12)


def test_npz_multiclass_rows_by_classes(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 400)
    net, tree = rng.dirichlet([1, 1, 1], 400), rng.dirichlet([2, 1, 1], 400)
    np.savez_compressed(tmp_path / "mc.npz", label=y, net=net, tree=tree)
    result = invoke("eval", str(tmp_path / "mc.npz"), "-l", "cce,brier", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = {line.split(",")[0]: line.split(",") for line in result.stdout.splitlines()[1:]}
    for name, probs in (("net", net), ("tree", tree)):
        assert float(rows[name][2]) == pytest.approx(metrics.log_loss(y, probs, labels=[0, 1, 2]), rel=1e-12)
        brier = np.mean(np.sum((probs - np.eye(3)[y]) ** 2, axis=1))
        assert float(rows[name][3]) == pytest.approx(brier, rel=1e-12)


def test_npy_arrays_stream_in_batches(tmp_path: Path) -> None:
    """Memory-mapped: rows come in slices, several batches for a large array."""
    from losscli.read.formats import open_source
    from losscli.read.source import BATCH_ROWS

    n = 2 * BATCH_ROWS + 17
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=n), rng.normal(size=n)
    np.savez(tmp_path / "big.npz", y=y, m=p)
    source = open_source(str(tmp_path / "big.npz"))
    sizes = [b.num_rows for b in source.batches(["y", "m"])]
    assert sizes == [BATCH_ROWS, BATCH_ROWS, 17]
    result = invoke("eval", str(tmp_path / "big.npz"), "-l", "mae", "-f", "csv")
    assert float(result.stdout.splitlines()[1].split(",")[2]) == pytest.approx(
        metrics.mean_absolute_error(y, p), rel=1e-12
    )


def _ragged(tmp: Path) -> list[str]:
    np.savez(tmp / "r.npz", y=np.zeros(5), a=np.zeros(4))
    return [str(tmp / "r.npz")]


def _short_npy(tmp: Path) -> list[str]:
    np.save(tmp / "a.npy", np.zeros(5))
    np.save(tmp / "y.npy", np.zeros(6))
    return [str(tmp / "a.npy"), "--truth", str(tmp / "y.npy")]


def _two_d_regression(tmp: Path) -> list[str]:
    np.savez(tmp / "m.npz", y=np.zeros(4), a=np.full((4, 3), 1 / 3))
    return [str(tmp / "m.npz"), "-l", "mse"]


def _saved(name: str, array: np.ndarray, *extra: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        if name.endswith(".npy"):
            np.save(tmp / name, array)
        elif name == "t.npz":  # the target is the 2-D one
            np.savez(tmp / name, y=np.eye(3)[[0, 1]], a=np.full((2, 3), 1 / 3))
        else:
            np.savez(tmp / name, y=np.zeros(2), a=array)
        return [str(tmp / name), *extra]

    return make


def _npy_with_csv(tmp: Path) -> list[str]:
    np.save(tmp / "a.npy", np.zeros(2))
    (tmp / "y.csv").write_text("y\n1\n2\n")
    return [str(tmp / "a.npy"), "--truth", str(tmp / "y.csv")]


def _json_of_numbers(tmp: Path) -> list[str]:
    (tmp / "p.json").write_text("[1, 2, 3]")
    return [str(tmp / "p.json")]


BAD_ARRAYS = [
    (_ragged, "array 'a' has 4 rows but array 'y' has 5"),
    (_short_npy, "a.npy has 5 rows but"),
    (_two_d_regression, "holds several values per row (rows x classes), but mse (regression)"),
    (_saved("a.npy", np.zeros(3)), "holds one array; give each model's array as a .npy file"),
    (_saved("c.npz", np.zeros((2, 2, 2))), "has shape (2, 2, 2)"),
    (_saved("o.npz", np.array(["x", "y"], dtype="S1")), "holds |S1 values"),
    (_npy_with_csv, "y.csv is not a .npy file"),
    (_saved("a.npy", np.zeros(2), "--truth", "{dir}/a.npy", "--id", "id"), "--id does not apply to .npy files"),
    (_json_of_numbers, "element 1 of the JSON array is int, not an object"),
    (_saved("t.npz", np.zeros((2, 3))), "holds several values per row"),
]


@pytest.mark.parametrize(("make", "words"), BAD_ARRAYS, ids=[w[:30] for _, w in BAD_ARRAYS])
def test_bad_arrays_are_one_sentence(tmp_path: Path, make: Callable[[Path], list[str]], words: str) -> None:
    args = [a.replace("{dir}", str(tmp_path)) for a in make(tmp_path)]
    result = invoke("eval", *args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("losscli: error: ")


def test_missing_text_labels_are_missing_not_a_class(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y,m.a,m.b\na,0.5,0.5\n,0.5,0.5\n<NA>,0.2,0.8\nb,0.1,0.9\n")
    refused = invoke("eval", str(path), "-l", "cce")
    assert "column 'y', row 2 is missing" in refused.stderr
    dropped = invoke("eval", str(path), "-l", "cce", "--nan", "drop", "-f", "csv")
    assert dropped.exit_code == 0, dropped.output
    expected = metrics.log_loss([0, 1], [[0.5, 0.5], [0.1, 0.9]], labels=[0, 1])
    assert float(dropped.stdout.splitlines()[1].split(",")[2]) == pytest.approx(expected, rel=1e-12)


def test_decimal_commas_in_a_comma_separated_file_are_quoted(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    wide(tmp_path).to_csv(path, index=False, decimal=",")  # pandas quotes "1,5" when the delimiter is a comma
    result = invoke("eval", str(path), "-l", "mse", "--decimal", ",", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = {line.split(",")[0]: float(line.split(",")[2]) for line in result.stdout.splitlines()[1:]}
    assert rows == pytest.approx(EXPECTED, rel=1e-12)
