"""The Python API takes what notebooks hold: one table of in-memory kinds -> the same numbers
(scikit-learn on the original arrays), and ``losscli.score`` against the references and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn import metrics
from typer.testing import CliRunner

import losscli
from losscli import losses
from losscli.cli import app
from losscli.errors import BadValueError, ColumnError, LossCliError, LossParameterError, OptionError

from .data import LEVELS, frame, make_data
from .reference import PARAM_CASES, REFERENCES
from .test_inputs import EXPECTED, HOUSE, MODELS

WIDE = HOUSE[["y", *MODELS]]


class ArrowStreamOnly:
    """An object that only speaks the Arrow PyCapsule stream interface (as DuckDB results do)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


def _polars() -> Any:
    pl = pytest.importorskip("polars")
    return pl.from_pandas(WIDE)


KINDS: dict[str, Callable[[], Any]] = {
    "pandas": lambda: WIDE,
    "polars": _polars,
    "pyarrow-table": lambda: pa.Table.from_pandas(WIDE, preserve_index=False),
    "pyarrow-record-batch": lambda: pa.RecordBatch.from_pandas(WIDE, preserve_index=False),
    "arrow-c-stream": lambda: ArrowStreamOnly(pa.Table.from_pandas(WIDE, preserve_index=False)),
    "dict-of-arrays": lambda: {c: WIDE[c].to_numpy() for c in WIDE.columns},
    "dict-of-lists": lambda: {c: WIDE[c].tolist() for c in WIDE.columns},
    "path": lambda: "sample_data/house_prices.csv",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_in_memory_kind_gives_the_same_numbers(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    result = losscli.evaluate(KINDS[kind](), "mse", preds=MODELS)
    assert dict(zip(result.model, result.value, strict=True)) == pytest.approx(EXPECTED, rel=1e-12)


def test_polars_is_not_imported_by_losscli() -> None:
    import subprocess
    import sys

    code = (
        "import sys, losscli; losscli.evaluate({'y': [1.0, 2.0], 'a': [1.5, 2.0]}, 'mse'); "
        "print('polars' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_a_dict_with_a_2d_array_is_a_multiclass_model() -> None:
    rng = np.random.default_rng(2)
    y, p = rng.integers(0, 3, 50), rng.dirichlet([1, 1, 1], 50)
    result = losscli.evaluate({"label": y, "net": p}, "cce")
    assert result.value.iloc[0] == pytest.approx(metrics.log_loss(y, p, labels=[0, 1, 2]), rel=1e-12)


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (np.zeros((3, 2)), TypeError, "data= takes a path or a list of paths, a pandas or polars DataFrame"),
        ([1.0, 2.0], TypeError, "got builtins.list"),
        ({"y": [1.0, 2.0], "a": [1.0]}, BadValueError, "the array 'y' has 2 rows but 'a' has 1"),
        ({"y": [1.0, 2.0], "a": [1.0, 2.0]}, ColumnError, "target= names the column 'nope'"),
        ({"y": [1.0, 2.0], "a": [1.0, None]}, BadValueError, 'pass nan="drop" to leave such rows out'),
    ],
)
def test_api_errors_name_parameters(data: Any, error: type[Exception], words: str) -> None:
    kwargs = {"target": "nope"} if "target=" in words else {}
    with pytest.raises(error) as caught:
        losscli.evaluate(data, "mse", **kwargs)
    assert isinstance(caught.value, LossCliError)
    assert words in str(caught.value)
    assert "--" not in str(caught.value)


def test_dialect_options_in_the_api(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    WIDE.to_csv(path, index=False, sep="|", decimal=",")
    result = losscli.evaluate(str(path), "mse", delimiter="|", decimal=",")
    assert dict(zip(result.model, result.value, strict=True)) == pytest.approx(EXPECTED, rel=1e-12)
    with pytest.raises(OptionError, match="delimiter= takes one character"):
        losscli.evaluate(str(path), "mse", delimiter="||")


# --- losscli.score -----------------------------------------------------------------------------

SCORE_CASES = [
    pytest.param(loss.name, task, params, id=f"{loss.name}-{task}-{params or 'defaults'}")
    for loss in losses.all_losses()
    for task in loss.tasks
    for params in [{}, *PARAM_CASES.get(loss.name, [])]
    if task == loss.task or not params
]


def _spec(name: str, params: dict[str, Any]) -> str:
    from losscli.spec import format_value

    return name + "".join(f":{k}={format_value(v)}" for k, v in params.items())


@pytest.mark.parametrize(("name", "task", "params"), SCORE_CASES)
def test_score_matches_the_reference_for_every_loss(name: str, task: Any, params: dict[str, Any]) -> None:
    loss = losses.get(name)
    y, p = make_data(loss, n=300, seed=len(name) + 1, task=task)
    w = np.random.default_rng(3).uniform(0.1, 3.0, len(y))
    levels = LEVELS if loss.pred_shape == "quantiles" else ()
    got = losscli.score(_spec(name, params), y, p, sample_weight=w, levels=levels)
    assert isinstance(got, float)
    assert got == pytest.approx(REFERENCES[name](y, p, w, **params), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("name", ["mse", "huber", "bce", "hinge", "cce", "brier"])
def test_score_equals_the_cli_for_the_same_data(tmp_path: Path, name: str) -> None:
    loss = losses.get(name)
    y, p = make_data(loss, n=200, seed=9)
    w = np.random.default_rng(4).uniform(0.5, 2.0, len(y))
    path = tmp_path / "p.csv"
    frame(y, p, w).to_csv(path, index=False)
    cli = CliRunner().invoke(app, ["eval", str(path), "-l", name, "-w", "w", "-t", "y", "-f", "csv"])
    assert cli.exit_code == 0, cli.output
    value = float(cli.stdout.splitlines()[1].split(",")[2])
    assert losscli.score(name, y, p, sample_weight=w) == pytest.approx(value, rel=1e-12)


def test_score_takes_soft_targets_labels_and_a_positive_class() -> None:
    rng = np.random.default_rng(8)
    y, p = rng.integers(0, 3, 100), rng.dirichlet([1, 1, 1], 100)
    expected = metrics.log_loss(y, p, labels=[0, 1, 2])
    assert losscli.score("cce", np.eye(3)[y], p) == pytest.approx(expected, rel=1e-12)
    assert losscli.score("cce", np.array(["a", "b", "c"])[y], p, classes=["a", "b", "c"]) == pytest.approx(
        expected, rel=1e-12
    )
    yb, pb = rng.choice(["churn", "stay"], 100), rng.uniform(size=100)
    assert losscli.score("bce", yb, pb, positive="churn") == pytest.approx(
        metrics.log_loss(yb == "churn", pb), rel=1e-12
    )


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: losscli.score("mse", np.zeros(3), np.zeros((3, 2))), BadValueError, "y_pred has shape (3, 2)"),
        (lambda: losscli.score("cce", np.zeros(3), np.zeros(3)), BadValueError, "give y_pred as a 2-D array"),
        (lambda: losscli.score("mse", np.zeros(3), np.zeros(4)), BadValueError, "y_true has 3, y_pred has 4"),
        (
            lambda: losscli.score("mse", [1.0], [1.0], sample_weight=[1.0, 2.0]),
            BadValueError,
            "sample_weight has 2",
        ),
        (lambda: losscli.score("huber:delta=-1", [1.0], [1.0]), LossParameterError, "delta must be > 0, got -1"),
        (lambda: losscli.score("bce", [0.0, 1.0], [0.5, 1.5]), BadValueError, "column 'y_pred', row 2 holds 1.5"),
        (lambda: losscli.score("bce", [0.0, 2.0], [0.5, 0.5]), BadValueError, "positive=LABEL"),
        (lambda: losscli.score("mse,mae", [1.0], [1.0]), OptionError, "score takes one loss"),
    ],
)
def test_score_refuses_in_one_sentence(call: Callable[[], float], error: type[Exception], words: str) -> None:
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)
    assert "--" not in str(caught.value)


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_categorical_labels_and_groups(library: str) -> None:
    """A categorical (an Arrow dictionary; polars' of string views) is its labels."""
    rng = np.random.default_rng(6)
    y, p = rng.integers(0, 3, 60), rng.dirichlet([1, 1, 1], 60)
    labels = np.array(["a", "b", "c"])[y]
    group = rng.choice(["x", "y"], 60)
    frame_ = pd.DataFrame({"label": labels, **{f"m.{c}": p[:, j] for j, c in enumerate("abc")}, "g": group})
    frame_ = frame_.astype({"label": "category", "g": "category"})
    if library == "polars":
        pl = pytest.importorskip("polars")
        data: Any = pl.from_pandas(frame_)
    else:
        data = frame_
    result = losscli.evaluate(data, "cce", by="g")
    overall = result[result.g == "(all)"].value.iloc[0]
    assert overall == pytest.approx(metrics.log_loss(y, p, labels=[0, 1, 2]), rel=1e-12)
    for g in ("x", "y"):
        rows = group == g
        got = result[result.g == g].value.iloc[0]
        assert got == pytest.approx(metrics.log_loss(y[rows], p[rows], labels=[0, 1, 2]), rel=1e-12)


def test_score_takes_predictive_distributions() -> None:
    from scipy.stats import norm
    from sklearn.metrics import mean_pinball_loss

    rng = np.random.default_rng(6)
    y = rng.normal(size=200)
    mean, var = y + rng.normal(size=200), rng.uniform(0.5, 2.0, 200)
    nll = -np.mean(norm.logpdf(y, mean, np.sqrt(var)))
    assert losscli.score("gaussian_nll:full=true", y, np.column_stack([mean, var])) == pytest.approx(nll, rel=1e-12)
    q = np.column_stack([mean - 1, mean, mean + 1])
    expected = np.mean([mean_pinball_loss(y, q[:, j], alpha=a) for j, a in enumerate(LEVELS)])
    assert losscli.score("pinball", y, q, levels=LEVELS) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(BadValueError, match="levels"):
        losscli.score("coverage", y, q)
    with pytest.raises(BadValueError, match="rows x 2"):
        losscli.score("crps", y, q)
