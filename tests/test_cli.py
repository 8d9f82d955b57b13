"""The CLI as a user types it: CliRunner for most cases, one real subprocess."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error
from typer.testing import CliRunner

from losscli.cli import app
from losscli.losses import REGISTRY

from .conftest import SAMPLE

REGISTRY_NAMES = REGISTRY.names()

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_default_losses_on_regression_sample() -> None:
    result = invoke("eval", str(SAMPLE / "house_prices.csv"), "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = parse_csv(result.stdout)
    assert list(rows[0]) == ["model", "n", "mse", "rmse", "mae", "huber", "rank"]
    df = pd.read_csv(SAMPLE / "house_prices.csv")
    for row in rows:
        assert float(row["mse"]) == pytest.approx(mean_squared_error(df.y, df[row["model"]]), rel=1e-12)
        assert float(row["mae"]) == pytest.approx(mean_absolute_error(df.y, df[row["model"]]), rel=1e-12)
        assert int(row["n"]) == len(df)
    assert "losses: mse, rmse, mae, huber (default for regression" in result.stderr


def test_the_sample_makes_mse_and_mae_disagree() -> None:
    """The point of choosing a loss: the outlier model wins on MAE and loses on MSE."""
    rows = parse_csv(invoke("eval", str(SAMPLE / "house_prices.csv"), "-l", "mse,mae", "-f", "csv").stdout)
    by_mse = min(rows, key=lambda r: float(r["mse"]))["model"]
    by_mae = min(rows, key=lambda r: float(r["mae"]))["model"]
    assert by_mse != by_mae


def test_rows_are_sorted_by_the_first_loss() -> None:
    rows = parse_csv(invoke("eval", str(SAMPLE / "house_prices.csv"), "-l", "mae", "-l", "mse", "-f", "csv").stdout)
    values = [float(r["mae"]) for r in rows]
    assert values == sorted(values)


def test_parquet_with_parameter_variants() -> None:
    result = invoke(
        "eval",
        str(SAMPLE / "house_prices.parquet"),
        "--loss",
        "mse",
        "--loss",
        "mae",
        "-l",
        "huber:delta=5,huber",
        "-f",
        "csv",
    )
    assert result.exit_code == 0, result.output
    rows = parse_csv(result.stdout)
    assert list(rows[0]) == ["model", "n", "mse", "mae", "huber(delta=5)", "huber", "rank"]
    df = pd.read_parquet(SAMPLE / "house_prices.parquet")
    for row in rows:
        r = np.abs(df[row["model"]] - df.y)
        by_hand = np.where(r <= 5, 0.5 * r**2, 5 * (r - 2.5)).mean()
        assert float(row["huber(delta=5)"]) == pytest.approx(by_hand, rel=1e-12)


def test_binary_sample_with_bce_and_hinge() -> None:
    result = invoke("eval", str(SAMPLE / "churn.csv"), "-l", "bce", "-l", "hinge", "-f", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    df = pd.read_csv(SAMPLE / "churn.csv")
    for rec in (r for r in records if r["loss"] == "bce"):
        assert rec["value"] == pytest.approx(log_loss(df.y, df[rec["model"]]), rel=1e-12)
    assert {r["model"] for r in records} == {"logreg", "xgb", "prior"}


def test_multiclass_sample() -> None:
    result = invoke("eval", str(SAMPLE / "iris_probs.csv"), "-l", "cce", "-f", "csv")
    assert result.exit_code == 0, result.output
    df = pd.read_csv(SAMPLE / "iris_probs.csv")
    classes = ["setosa", "versicolor", "virginica"]
    for row in parse_csv(result.stdout):
        probs = df[[f"{row['model']}.{c}" for c in classes]].to_numpy()
        assert float(row["cce"]) == pytest.approx(log_loss(df.label, probs, labels=classes), rel=1e-12)


def test_weights() -> None:
    result = invoke("eval", "-", "-l", "mse", "-w", "w", "-f", "csv", input="y,m,w\n0,1,3\n0,3,1\n")
    assert result.exit_code == 0, result.output
    assert float(parse_csv(result.stdout)[0]["mse"]) == (3 * 1 + 1 * 9) / 4
    assert "weight=w" in result.stderr


def test_stdin() -> None:
    text = (SAMPLE / "churn.csv").read_text()
    result = invoke("eval", "-", "-l", "bce", "-f", "csv", input=text)
    assert result.exit_code == 0, result.output
    assert len(parse_csv(result.stdout)) == 3


def test_table_has_models_losses_and_caption() -> None:
    result = invoke("eval", str(SAMPLE / "house_prices.csv"), "-f", "table", "-l", "mse", "-l", "huber:delta=2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "huber(delta=2)" in out
    assert "target y" in out
    assert "200 rows" in out
    assert out.index("knn") < out.index("linear") < out.index("gbm")  # sorted by mse


def test_quiet_silences_notes() -> None:
    result = invoke("eval", str(SAMPLE / "house_prices.csv"), "-q", "-f", "csv")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_stdout_has_only_data_and_notes_go_to_stderr() -> None:
    result = invoke("eval", str(SAMPLE / "house_prices.csv"), "-f", "csv")
    assert "columns:" in result.stderr
    assert "columns:" not in result.stdout


def test_version_and_help() -> None:
    assert invoke("--version").stdout.startswith("losscli ")
    for args in (["-h"], ["--help"], ["eval", "-h"], ["losses", "--help"]):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert "Usage" in result.stdout


def test_losses_lists_the_registry() -> None:
    from losscli.losses import REGISTRY

    out = invoke("losses").stdout
    for name in REGISTRY.names():
        assert name in out


def write(tmp_path: Path, name: str, content: bytes | str) -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return str(path)


GOOD_CSV = "y,a\n1,1.5\n2,2.5\n"

ERRORS = [
    pytest.param(lambda t: ["eval", str(t / "missing.csv")], "no such file", id="missing-file"),
    pytest.param(
        lambda t: ["eval", write(t, "x.csv", GOOD_CSV), "-l", "hubr"],
        "did you mean 'huber'",
        id="unknown-loss",
    ),
    pytest.param(
        lambda t: ["eval", write(t, "x.csv", GOOD_CSV), "-l", "huber:delta=-1"],
        "delta must be > 0",
        id="bad-param",
    ),
    pytest.param(
        lambda t: ["eval", write(t, "x.csv", GOOD_CSV), "-t", "nope"],
        "'nope', which is not there",
        id="no-col",
    ),
    pytest.param(lambda t: ["eval", write(t, "x.csv", "a,b\n1,2\n")], "no target column found", id="no-target"),
    pytest.param(
        lambda t: ["eval", write(t, "x.csv", "y,a\n1,1\n2,abc\n")],
        "column 'a', row 2 holds 'abc'",
        id="non-numeric",
    ),
    pytest.param(
        lambda t: ["eval", write(t, "x.csv", "y,a\n" + "1,1\n" * 200_000 + "2,abc\n")],
        "column 'a', row 200001 holds 'abc'",
        id="non-numeric-late-in-file",
    ),
    pytest.param(lambda t: ["eval", write(t, "x.csv", "")], "is empty", id="empty-file"),
    pytest.param(lambda t: ["eval", write(t, "x.csv", "y,a\n")], "no data rows", id="header-only"),
    pytest.param(lambda t: ["eval", write(t, "x.csv", "y,a\n1,\n")], "column 'a', row 1 is missing", id="empty-cell"),
    pytest.param(lambda t: ["eval", write(t, "x.csv", "y,a\n1,2\n3\n")], "Expected 2 columns, got 1", id="ragged"),
    pytest.param(lambda t: ["eval", write(t, "x.csv", b"\x00\x01\x02garbage")], "binary data", id="binary"),
    pytest.param(lambda t: ["eval", write(t, "x.parquet", "not parquet")], "not a readable Parquet", id="bad-parquet"),
    pytest.param(lambda t: ["eval", write(t, "x.xlsx", GOOD_CSV)], "cannot tell the format", id="suffix"),
    pytest.param(lambda t: ["eval", write(t, "x.csv", "y,a,a\n1,2,3\n")], "appears more than once", id="dup-cols"),
    pytest.param(
        lambda t: ["eval", write(t, "x.csv", "y,a\n0,1.5\n1,0.5\n"), "-l", "bce"],
        "needs probabilities",
        id="prob-range",
    ),
    pytest.param(lambda t: ["eval", write(t, "x.csv", GOOD_CSV), "-l", "mse,bce"], "do not share a task", id="mixed"),
    pytest.param(lambda t: ["eval", write(t, "x.csv", GOOD_CSV), "-f", "xml"], "unknown --format 'xml'", id="format"),
]


@pytest.mark.parametrize(("make_args", "message"), ERRORS)
def test_user_errors_are_one_sentence_and_exit_2(tmp_path: Path, make_args, message: str) -> None:
    result = invoke(*make_args(tmp_path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.startswith("losscli: error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_installed_command_in_a_real_subprocess() -> None:
    script = Path(sys.executable).parent / "losscli"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "losscli"]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS",)}
    done = subprocess.run(
        [*command, "eval", str(SAMPLE / "house_prices.csv"), "-l", "mse"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Not a terminal: the default format is CSV, ready for the next program in a pipe.
    assert done.stdout.splitlines()[0] == "model,n,mse,rank"
    bad = subprocess.run(
        [*command, "eval", "nope.csv"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert bad.returncode == 2
    assert bad.stderr == "losscli: error: nope.csv: no such file.\n"


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "losscli", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert "eval" in done.stdout


def test_help_and_losses_do_not_import_pandas_or_pyarrow() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from losscli.cli import app\n"
        "CliRunner().invoke(app, ['--help'])\n"
        "CliRunner().invoke(app, ['losses'])\n"
        "CliRunner().invoke(app, ['losses', '--explain', 'huber'])\n"
        "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["advise", "--help"], ["plot", "--help"]])
def test_help_does_not_import_numpy(args: list[str]) -> None:
    # Help is text about options: it must cost the interpreter and Typer, not the NumPy core (issue 15).
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from losscli.cli import app\n"
        f"r = CliRunner().invoke(app, {args!r})\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'pyarrow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["house_prices.csv", "churn.parquet", "iris_probs.csv", "iris_probs.parquet"])
def test_eval_does_not_import_pandas(name: str) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from losscli.cli import app\n"
        f"r = CliRunner().invoke(app, ['eval', {str(SAMPLE / name)!r}, '-f', 'csv'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few kilobytes, so small inputs cross many block boundaries."""
    from losscli.read import delimited as losscli_io

    monkeypatch.setattr(losscli_io, "SNIFF_BYTES", 1000)
    monkeypatch.setattr(losscli_io, "CSV_BLOCK_BYTES", 4096)


@pytest.mark.usefixtures("small_blocks")
def test_stdin_names_the_row_of_a_bad_cell_past_the_first_block() -> None:
    text = "y,a\n" + "1,1\n" * 20_000 + "2,abc\n"
    result = invoke("eval", "-", "-l", "mse", input=text)
    assert result.exit_code == 2, result.output
    assert "<stdin>: column 'a', row 20001 holds 'abc'" in result.stderr


@pytest.mark.usefixtures("small_blocks")
def test_stdin_reads_many_blocks_exactly() -> None:
    n = 50_000
    text = "y,a\n" + "".join(f"{i % 7},{i % 5}\n" for i in range(n))
    result = invoke("eval", "-", "-l", "mse", "-f", "csv", input=text)
    assert result.exit_code == 0, result.output
    i = np.arange(n)
    row = parse_csv(result.stdout)[0]
    assert int(row["n"]) == n
    assert float(row["mse"]) == pytest.approx(np.mean((i % 5 - i % 7) ** 2.0), rel=1e-12)


@pytest.mark.usefixtures("small_blocks")
def test_file_names_the_row_of_a_bad_cell_past_the_sample(tmp_path: Path) -> None:
    path = write(tmp_path, "late.csv", "y,a\n" + "1,2\n" * 20_000 + "1,x\n")
    result = invoke("eval", path, "-l", "mse")
    assert result.exit_code == 2, result.output
    assert "column 'a', row 20001 holds 'x'" in result.stderr


DOMAIN_ERRORS = [
    ("y,m\n1,2\n-1,2\n", ["-l", "poisson"], "column 'y', row 2 holds -1.0, but poisson needs targets >= 0"),
    ("y,m\n1,2\n1,0\n", ["-l", "poisson"], "column 'm', row 2 holds 0.0, but poisson needs predictions > 0"),
    ("y,m\n1,2\n0,2\n", ["-l", "gamma"], "but gamma needs targets > 0"),
    ("y,m\n1,2\n-1,2\n", ["-l", "msle"], "but msle needs targets > -1"),
    ("y,m\n1,-3\n", ["-l", "rmsle"], "column 'm', row 1 holds -3.0, but rmsle needs predictions > -1"),
    ("y,m\n-1,2\n", ["-l", "tweedie:power=1.5"], "but tweedie(power=1.5) needs targets >= 0"),
    ("y,m\n0,-2\n", ["-l", "tweedie:power=-1"], "but tweedie(power=-1) needs predictions > 0"),
    ("y,m\n0,0.5\n1,3.5\n", ["-l", "bce"], "row 2 holds 3.5, but bce needs probabilities between 0 and 1"),
    (
        "y,m.a,m.b\na,0.5,0.6\n",
        ["-l", "cce"],
        "model 'm' in row 1 sum to 1.1, not 1; pass cce:normalize=true",
    ),
    ("y,m.a,m.b\na,-0.5,-0.6\nb,0.1,-0.2\n", ["-l", "nll"], "row 2 holds 0.1, but nll needs predictions <= 0"),
    ("y.a,y.b,m.a,m.b\n0.5,0.5,0.5,0.5\n", ["-l", "nll"], "nll cannot take soft targets"),
    ("y.a,y.b,m.a,m.b\n0.5,0.6,0.5,0.5\n", ["-l", "kl_div"], "soft target columns y.* in row 1 are not a distribution"),
    ("y.a,y.c,m.a,m.b\n0.5,0.5,0.5,0.5\n", ["-l", "kl_div"], "the soft target columns y.* have classes a, c"),
    ("y,m.a,m.b\na,0,0\n", ["-l", "cce:normalize=true"], "sum to 0, so cce(normalize=true) cannot rescale"),
]


@pytest.mark.parametrize(("content", "args", "message"), DOMAIN_ERRORS, ids=[m[:40] for _, _, m in DOMAIN_ERRORS])
def test_values_outside_a_loss_domain_are_refused(tmp_path: Path, content: str, args: list[str], message: str) -> None:
    result = invoke("eval", write(tmp_path, "d.csv", content), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_normalize_rescales_rows_that_do_not_sum_to_one(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "y,m.a,m.b\na,2,2\nb,1,3\n")
    result = invoke("eval", path, "-l", "cce:normalize=true", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert float(parse_csv(result.stdout)[0]["cce(normalize=true)"]) == pytest.approx(
        -(np.log(0.5) + np.log(0.75)) / 2, rel=1e-12
    )


def test_soft_targets_from_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "target.a,target.b,m.b,m.a\n0.25,0.75,0.5,0.5\n1,0,0.2,0.8\n")
    result = invoke("eval", path, "-l", "kl_div,cce", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert "target=target.* (soft) (auto)" in result.stderr
    row = parse_csv(result.stdout)[0]
    kl = (0.25 * np.log(0.25 / 0.5) + 0.75 * np.log(0.75 / 0.5) + np.log(1 / 0.8)) / 2
    ce = (-(0.25 * np.log(0.5) + 0.75 * np.log(0.5)) - np.log(0.8)) / 2
    assert float(row["kl_div"]) == pytest.approx(kl, rel=1e-12)
    assert float(row["cce"]) == pytest.approx(ce, rel=1e-12)


def test_default_losses_for_scores_are_score_losses(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "y,svm\n0,-1.5\n1,2.0\n1,-0.2\n")
    result = invoke("eval", path, "-f", "csv")
    assert result.exit_code == 0, result.output
    assert "losses: bce_logits, hinge, zero_one(threshold=0) (default for binary" in result.stderr
    assert list(parse_csv(result.stdout)[0]) == ["model", "n", "bce_logits", "hinge", "zero_one(threshold=0)", "rank"]


@pytest.mark.parametrize("name", REGISTRY_NAMES)
def test_explain_every_loss(name: str) -> None:
    result = invoke("losses", "--explain", name)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{name} — ")
    assert "formula:" in result.stdout
    assert "matches:" in result.stdout


def test_losses_as_json_and_markdown() -> None:
    from losscli.losses import REGISTRY

    records = json.loads(invoke("losses", "-f", "json").stdout)
    assert [r["name"] for r in records] == REGISTRY.names()
    tweedie = next(r for r in records if r["name"] == "tweedie")
    assert tweedie["params"][0]["domain"] == "outside (0, 1)"
    binary = json.loads(invoke("losses", "-f", "json", "--task", "binary").stdout)
    assert {r["name"] for r in binary} >= {"bce", "brier", "zero_one"}
    assert all("binary" in r["tasks"] for r in binary)
    assert invoke("losses", "-f", "markdown").stdout.startswith("| loss |")


def test_losses_errors() -> None:
    for args, message in ((["-e", "hubr"], "did you mean 'huber'"), (["--task", "ranking"], "unknown --task")):
        result = invoke("losses", *args)
        assert result.exit_code == 2
        assert message in result.stderr


# --- pipelines, outputs and gates -------------------------------------------------------------

HOUSE = str(SAMPLE / "house_prices.csv")


def test_exit_codes_zero_one_two() -> None:
    assert invoke("eval", HOUSE, "-l", "mse", "--fail-above", "mse=1e9").exit_code == 0
    breached = invoke("eval", HOUSE, "-l", "mse", "--fail-above", "mse=1000", "-f", "csv")
    assert breached.exit_code == 1
    assert len(parse_csv(breached.stdout)) == 3  # results are printed before failing
    assert "FAIL linear: mse = 1042.716169 is above 1000.0" in breached.stderr
    assert "FAIL gbm: mse" in breached.stderr
    assert "FAIL knn" not in breached.stderr
    assert invoke("eval", HOUSE, "-l", "mse", "--fail-above", "mse=oops").exit_code == 2


@pytest.mark.parametrize(
    ("threshold", "failing"),
    [
        ("gbm:mae=17", ["gbm"]),
        ("gbm:mae=18", []),
        ("huber:delta=2=10", ["linear", "gbm", "knn"]),
        ("huber(delta=2)=35", ["linear", "knn"]),
        ("linear:huber:delta=2=35", ["linear"]),
    ],
)
def test_fail_above_per_model_and_by_label(threshold: str, failing: list[str]) -> None:
    result = invoke("eval", HOUSE, "-l", "mse,mae,huber:delta=2", "--fail-above", threshold, "-f", "csv")
    assert result.exit_code == (1 if failing else 0), result.output
    failed = [line.split()[2].rstrip(":") for line in result.stderr.splitlines() if "FAIL" in line]
    assert sorted(failed) == sorted(failing)


def test_a_model_loss_gate_is_refused_when_a_models_name_holds_its_colon(tmp_path: Path) -> None:
    # 'm:mse' is the model m at mse, or the model 'm:mse' itself: refused, never guessed.
    path = tmp_path / "c.csv"
    path.write_text("y,m:mse,m\n1,3,5\n2,1,3\n")
    refused = invoke("eval", str(path), "-l", "mse", "--fail-above", "m:mse=1", "-f", "csv")
    assert refused.exit_code == 2
    assert "is ambiguous" in refused.stderr
    assert "model 'm' at mse or as the model 'm:mse'" in refused.stderr
    assert "'m:mse:mse=1' for the model 'm:mse'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    # m:mse's mse is ((1-3)^2 + (2-1)^2) / 2 = 2.5: spelled whole, it is the only model gated.
    spelled = invoke("eval", str(path), "-l", "mse", "--fail-above", "m:mse:mse=2.5", "-f", "csv")
    assert spelled.exit_code == 0, spelled.output
    failed = invoke("eval", str(path), "-l", "mse", "--fail-above", "m:mse:mse=2", "-f", "csv")
    assert failed.exit_code == 1
    assert [line for line in failed.stderr.splitlines() if "FAIL" in line] == [
        "losscli: FAIL m:mse: mse = 2.5 is above 2.0 (--fail-above m:mse:mse=2)"
    ]


def test_fail_above_names_an_unknown_loss() -> None:
    result = invoke("eval", HOUSE, "-l", "mse", "--fail-above", "mae=1")
    assert result.exit_code == 2
    assert "'mae' names no loss of this run (mse)" in result.stderr


def test_fail_if_worse() -> None:
    result = invoke("eval", HOUSE, "-l", "mse,mae", "--baseline", "knn", "--fail-if-worse", "-f", "csv")
    assert result.exit_code == 1
    assert "linear: mse is significantly worse than knn" in result.stderr
    ok = invoke("eval", HOUSE, "-l", "mae", "--baseline", "linear", "--fail-if-worse", "-f", "csv")
    assert ok.exit_code == 0, ok.output
    assert invoke("eval", HOUSE, "--fail-if-worse").exit_code == 2


def test_unknown_baseline() -> None:
    result = invoke("eval", HOUSE, "--baseline", "nope")
    assert result.exit_code == 2
    assert "--baseline 'nope' is not a model" in result.stderr


def test_output_file_is_written_atomically_in_the_suffixs_format(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = invoke("eval", HOUSE, "-l", "mse", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert [r["model"] for r in json.loads(out.read_text())] == ["knn", "linear", "gbm"]
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary left behind
    md = tmp_path / "r.md"
    assert invoke("eval", HOUSE, "-l", "mse", "-o", str(md)).exit_code == 0
    assert md.read_text().startswith("| model | n | mse | rank |")


def test_output_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    path = write(tmp_path, "data.csv", GOOD_CSV)
    result = invoke("eval", path, "-o", path)
    assert result.exit_code == 2
    assert "is an input file" in result.stderr
    assert Path(path).read_text() == GOOD_CSV


def test_output_with_an_unknown_suffix(tmp_path: Path) -> None:
    result = invoke("eval", HOUSE, "-o", str(tmp_path / "r.xlsx"))
    assert result.exit_code == 2
    assert "cannot tell the output format" in result.stderr


def test_failed_run_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    out.write_text("old\n")
    bad = write(tmp_path, "bad.csv", "y,a\n1,x\n")
    assert invoke("eval", bad, "-o", str(out)).exit_code == 2
    assert out.read_text() == "old\n"


def test_per_row_csv_on_stdout() -> None:
    result = invoke("eval", HOUSE, "-l", "mse,mae", "--per-row", "-q")
    assert result.exit_code == 0, result.output
    rows = parse_csv(result.stdout)
    df = pd.read_csv(HOUSE)
    assert len(rows) == len(df)
    assert list(rows[0]) == ["id", "linear:mse", "linear:mae", "gbm:mse", "gbm:mae", "knn:mse", "knn:mae"]
    for row, (_, ref) in zip(rows[:20], df.iterrows(), strict=False):
        assert row["id"] == str(ref["id"])
        assert float(row["gbm:mse"]) == pytest.approx((ref["gbm"] - ref["y"]) ** 2, rel=1e-12)
        assert float(row["knn:mae"]) == pytest.approx(abs(ref["knn"] - ref["y"]), rel=1e-12)


@pytest.mark.usefixtures("small_blocks")
def test_per_row_jsonl_and_parquet_stream_every_row(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    n = 3000
    text = "y,m\n" + "".join(f"{i % 3},{i % 5}\n" for i in range(n))
    path = write(tmp_path, "big.csv", text)
    jsonl = invoke("eval", path, "-l", "mse", "--per-row", "-f", "jsonl", "-q")
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["row"] for r in records] == list(range(1, n + 1))
    assert [r["m:mse"] for r in records[:6]] == [0.0, 0.0, 0.0, 9.0, 9.0, 4.0]  # (i % 5 - i % 3)^2
    out = tmp_path / "rows.parquet"
    assert invoke("eval", path, "-l", "mse,mae", "--per-row", "-o", str(out), "-q").exit_code == 0
    table = pq.read_table(out)
    assert table.num_rows == n
    assert table.column_names == ["row", "m:mse", "m:mae"]
    i = np.arange(n)
    np.testing.assert_allclose(table.column("m:mae").to_numpy(), np.abs(i % 5 - i % 3))


def test_per_row_parquet_needs_a_file() -> None:
    result = invoke("eval", HOUSE, "--per-row", "-f", "parquet")
    assert result.exit_code == 2
    assert "needs --output" in result.stderr


def test_verbose_prints_the_signature_and_quiet_does_not() -> None:
    verbose = invoke("eval", HOUSE, "-l", "huber:delta=2", "-v", "-f", "csv")
    assert "losscli: signature: losscli:" in verbose.stderr
    assert "|huber:delta=2|weight:none|reduction:mean" in verbose.stderr
    assert invoke("eval", HOUSE, "-q", "-f", "csv").stderr == ""


def test_sort_by_a_named_loss() -> None:
    rows = parse_csv(invoke("eval", HOUSE, "-l", "mse,mae", "--sort", "mae", "-f", "csv").stdout)
    assert [r["model"] for r in rows] == ["gbm", "knn", "linear"]
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert invoke("eval", HOUSE, "-l", "mse", "--sort", "mae").exit_code == 2


def test_ci_and_by_from_the_command_line() -> None:
    result = invoke("eval", HOUSE, "-l", "mae", "--ci", "0.9", "--bootstrap", "100", "--by", "region", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = parse_csv(result.stdout)
    assert list(rows[0]) == ["region", "model", "n", "mae", "mae:ci_low", "mae:ci_high", "rank"]
    assert {r["region"] for r in rows} == {"(all)", "north", "south", "east", "west"}
    for r in rows:
        assert float(r["mae:ci_low"]) <= float(r["mae"]) <= float(r["mae:ci_high"])


def test_pipe_into_another_process() -> None:
    script = Path(sys.executable).parent / "losscli"
    count_rows = "import sys, csv; print(len(list(csv.DictReader(sys.stdin))))"
    command = f'{script} eval {HOUSE} -l mse,mae | {sys.executable} -c "{count_rows}"'
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"


def test_closed_pipe_is_not_an_error() -> None:
    script = Path(sys.executable).parent / "losscli"
    done = subprocess.run(
        ["bash", "-c", f"{script} eval {HOUSE} --per-row -q | head -1"], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip().startswith("id,")
    assert "Traceback" not in done.stderr


def test_cli_csv_equals_the_python_api() -> None:
    """The CLI is a thin layer: its CSV holds exactly the numbers evaluate() returns."""
    from losscli import evaluate

    losses = ["mse", "huber:delta=2", "quantile:alpha=0.9"]
    api = evaluate(HOUSE, losses, weight=None)
    result = invoke("eval", HOUSE, "-l", ",".join(losses), "-f", "csv", "-q")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    for row in rows:
        for label in ("mse", "huber(delta=2)", "quantile(alpha=0.9)"):
            expected = api[(api.model == row["model"]) & (api.loss == label)].value.item()
            assert float(row[label]) == expected  # repr round-trips: exactly equal


def test_running_out_of_memory_is_one_sentence_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    # A ulimit or a container can hold less memory than the up-front estimate assumes: the
    # allocation that fails must not be a traceback, nor exit 1 (which CI reads as a failed gate).
    import losscli.engines

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError("Unable to allocate 1.79 GiB")

    monkeypatch.setattr(losscli.engines, "evaluate_request", exhausted)
    done = CliRunner().invoke(app, ["eval", str(SAMPLE / "house_prices.csv"), "--ci", "0.95"])
    assert done.exit_code == 2
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert "ran out of memory" in done.output
    assert "--ci-method t" in done.output
    assert "Traceback" not in done.output


@pytest.mark.parametrize(
    ("level", "replicates", "warned"),
    # 100 (1 - 0.9) / 2 and 50 (1 - 0.8) / 2 are exactly 5 (4.999... in floats): enough.
    [
        *[(0.999999, 20, True), (0.99, 200, True), (0.95, 1000, False)],
        *[(0.9, 100, False), (0.8, 50, False), (0.9, 99, True)],
    ],
)
def test_too_few_replicates_beyond_an_end_of_the_interval_is_a_warning(
    level: float, replicates: int, warned: bool
) -> None:
    # B (1 - level) / 2 replicates lie beyond each end of a percentile interval; below 5 its ends
    # are the most extreme replicates (with none, their range): too narrow, and said even with -q.
    args = ["eval", str(SAMPLE / "house_prices.csv"), "-l", "mae", "--ci", str(level), "--bootstrap", str(replicates)]
    done = CliRunner().invoke(app, [*args, "-q", "-f", "csv"])
    assert done.exit_code == 0, done.output
    assert ("warning: --bootstrap" in done.stderr) is warned
    if warned:
        enough = math.ceil(Fraction(10) / (1 - Fraction(str(level))))
        assert f"--bootstrap {enough} or more" in done.stderr


def test_the_columns_note_of_many_models_is_one_readable_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    names = [f"model_{i}" for i in range(300)]
    path.write_text("y," + ",".join(names) + "\n" + "1," + ",".join("1.5" for _ in names) + "\n")
    done = CliRunner().invoke(app, ["eval", str(path), "-l", "mae", "-f", "csv"])
    assert done.exit_code == 0, done.output
    note = next(line for line in done.stderr.splitlines() if "columns:" in line)
    assert "model_0,model_1," in note
    assert "model_299 (300 models)" in note
    assert "model_150" not in note
    assert len(note) < 300
    assert len(done.stdout.splitlines()) == 301  # every model is still in the results


def test_a_t_interval_below_zero_starts_at_zero_and_says_so(tmp_path: Path) -> None:
    from scipy import stats

    path = tmp_path / "small.csv"
    path.write_text("y,a,b\n0,1,3\n0,1,3\n0,0.5,3.1\n0,0,2.9\n0,0,3\n")
    done = CliRunner().invoke(app, ["eval", str(path), "-l", "mae", "--ci", "0.95", "--ci-method", "t", "-f", "json"])
    assert done.exit_code == 0, done.output
    by_model = {r["model"]: r for r in json.loads(done.stdout)}
    for model, losses in {"a": [1, 1, 0.5, 0, 0], "b": [3, 3, 3.1, 2.9, 3]}.items():
        low, high = stats.t.interval(0.95, len(losses) - 1, loc=np.mean(losses), scale=stats.sem(losses))
        assert by_model[model]["ci_high"] == pytest.approx(high, rel=1e-12)
        assert by_model[model]["ci_low"] == (0.0 if low < 0 else pytest.approx(low, rel=1e-12))
    assert "the t interval reached below 0 for mae of a, and starts at 0" in done.stderr


@pytest.mark.parametrize("name", ["iris_probs.csv", "churn.parquet", "house_prices.csv"])
def test_the_signature_pastes_back_into_loss(name: str) -> None:
    # README: each loss of the signature is a spec with every parameter that applies; pasted
    # into -l it gives the same numbers (zero_one on class columns has no threshold to show).
    first = CliRunner().invoke(app, ["eval", str(SAMPLE / name), "-f", "json", "--meta"])
    assert first.exit_code == 0, first.output
    meta = json.loads(first.stdout)["meta"]
    specs = [part for part in meta["signature"].split("|")[1:] if not part.startswith(("weight:", "reduction:"))]
    again = CliRunner().invoke(app, ["eval", str(SAMPLE / name), "-f", "json", "-l", ",".join(specs)])
    assert again.exit_code == 0, again.output
    before = {(r["model"], r["label"]): r["value"] for r in json.loads(first.stdout)["results"]}
    after = {(r["model"], r["loss"]): r["value"] for r in json.loads(again.stdout)}
    assert sorted(after.values()) == sorted(before.values())


def test_a_seed_beyond_64_bits_is_refused() -> None:
    # The generators take 64 bits: 2**64 + 1 would silently give --seed 1's intervals.
    args = ["eval", str(SAMPLE / "house_prices.csv"), "--ci", "0.95", "--seed", str(2**64 + 1)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2
    assert "--seed must be below 2**64" in done.output


def test_a_fifo_as_input_is_one_sentence(tmp_path: Path) -> None:
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    done = CliRunner().invoke(app, ["eval", str(fifo)])
    assert done.exit_code == 2
    assert "is a pipe or a device, not a file" in done.output
    assert "losscli eval - <" in done.output


@pytest.mark.parametrize(("margin", "failed"), [("0.5", True), ("100%", False), ("60%", True), ("2", False)])
def test_fail_if_worse_by_reads_the_paired_delta_when_rows_differ(tmp_path: Path, margin: str, failed: bool) -> None:
    # With --nan drop the models keep different rows; the delta printed (and its gate) is on the
    # rows both kept. The gate once compared each model's own value, passing what the delta breaks.
    rng = np.random.default_rng(3)
    y = rng.normal(size=200)
    a, b = y + rng.normal(0, 0.9, 200), y + rng.normal(0, 1.3, 200)
    a[:40] = np.nan
    path = tmp_path / "gate.csv"
    pd.DataFrame({"y": y, "a": a, "b": b}).to_csv(path, index=False)
    shared = ~np.isnan(a)
    base, mine = np.mean((a[shared] - y[shared]) ** 2), np.mean((b[shared] - y[shared]) ** 2)
    limit = base * float(margin[:-1]) / 100 if margin.endswith("%") else float(margin)
    assert bool(mine - base > limit) is failed  # the reference, written here
    args = ["eval", str(path), "-l", "mse", "--nan", "drop", "--baseline", "a", "--fail-if-worse-by", f"mse={margin}"]
    done = CliRunner().invoke(app, [*args, "-f", "csv", "-q"])
    assert done.exit_code == (1 if failed else 0), done.output


def test_a_mistyped_command_is_one_sentence_with_its_suggestion() -> None:
    result = CliRunner().invoke(app, ["evl", "x.csv"])
    assert result.exit_code == 2
    assert result.stderr == "losscli: error: No such command 'evl'. Did you mean 'eval'? See 'losscli -h'.\n"
