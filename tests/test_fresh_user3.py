"""Defects the third fresh user found (each test failed before its fix)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss
from typer.testing import CliRunner

import losscli
from losscli import losses
from losscli.cli import app
from losscli.errors import LossCliError, LossCliWarning
from losscli.report.render import format_p

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
FILES = {
    "regression": ["house_prices.csv", "forecast.csv", "forecast_quantiles.csv"],
    "binary": ["churn.csv"],
    "multiclass": ["iris_probs.csv"],
}


def _signature_specs(stderr: str) -> list[str]:
    line = next(x for x in stderr.splitlines() if "signature: " in x)
    parts = line.split("signature: ", 1)[1].split("|")[1:]
    return [p for p in parts if not p.startswith(("weight:", "reduction:", "ci:", "baseline:"))]


def _log_probabilities(tmp_path: Path) -> str:
    frame = pd.read_csv(SAMPLE / "iris_probs.csv")
    models = frame.columns[2:]
    frame[models] = np.log(frame[models].clip(lower=1e-12))
    path = tmp_path / "iris_logp.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("loss", [loss.name for loss in losses.all_losses()])
def test_every_printed_signature_pastes_back_into_l(tmp_path: Path, loss: str) -> None:
    tasks = losses.get(loss).tasks
    ran = 0
    names = [str(SAMPLE / f) for t in tasks for f in FILES[t]]
    for path in dict.fromkeys(names + ([_log_probabilities(tmp_path)] if "multiclass" in tasks else [])):
        name = Path(path).name
        first = runner.invoke(app, ["eval", path, "-l", loss, "-f", "csv", "-v"])
        if first.exit_code != 0:
            continue  # this loss does not apply to this file's models
        ran += 1
        specs = _signature_specs(first.stderr)
        again = runner.invoke(app, ["eval", path, *[a for s in specs for a in ("-l", s)], "-f", "csv", "-q"])
        assert again.exit_code == 0, f"{name}: {specs}: {again.stderr}"
        before, after = pd.read_csv(io.StringIO(first.stdout)), pd.read_csv(io.StringIO(again.stdout))
        assert list(after.columns) == list(before.columns)  # the same headers: a signature's defaults are not labels
        pd.testing.assert_frame_equal(after, before, rtol=1e-12)
    assert ran, f"{loss} ran on no sample file"


@pytest.mark.parametrize("baseline", ["a", "b"])
@pytest.mark.parametrize("gate", [["--fail-if-worse"], ["--fail-if-worse-by", "mse=1"], ["--fail-above", "mse=10"]])
def test_a_gate_never_passes_a_model_without_a_value(tmp_path: Path, baseline: str, gate: list[str]) -> None:
    path = tmp_path / "allnan.csv"
    path.write_text("y,a,b\n1,1.1,\n2,2.2,\n3,2.9,\n")  # --nan drop leaves b no row
    args = ["eval", str(path), "-l", "mse", "--nan", "drop", "--baseline", baseline, *gate, "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "FAIL b: mse" in result.stderr or "FAIL a: mse cannot be compared with b's: b has no value" in result.stderr


def test_score_warns_of_an_infinite_loss_as_evaluate_does() -> None:
    y, p = [1e200, 0.0], [-1e200, 0.0]  # (2e200)^2 overflows float64
    with pytest.warns(LossCliWarning, match="mse is not finite from row 1 on") as scored:
        value = losscli.score("mse", y, p)
    assert value == np.inf
    with pytest.warns(LossCliWarning, match="mse is not finite from row 1 on") as evaluated:
        losscli.evaluate(pd.DataFrame({"y": y, "y_pred": p}), "mse")
    assert [str(w.message) for w in scored] == [str(w.message) for w in evaluated]


@pytest.mark.parametrize(
    ("call", "kind", "words"),
    [
        (lambda: losscli.score(["mse"], [1.0, 2], [1.0, 3]), TypeError, "loss= takes one loss as a string"),
        (lambda: losscli.score(3, [1.0, 2], [1.0, 3]), TypeError, "loss= takes one loss as a string"),
        (lambda: losscli.score("mse", [1.0, 2], [1.0, 3], sample_weight="w"), TypeError, "evaluate()'s weight="),
        (lambda: losscli.score("mse", [1.0, 2], [1.0, 3], sample_weight=[1, "a"]), ValueError, "'a' at row 2"),
        (lambda: losscli.score("coverage", [1.0, 2], [[0, 2], [1, 3]], levels=0.5), TypeError, "levels= takes"),
        (lambda: losscli.evaluate({"y": 1.0, "a": 2.0}, "mse"), TypeError, "'y' is a single value"),
        (lambda: losscli.evaluate({"y": [1.0, 2.0], "a": 2.0}, "mse"), TypeError, "'a' is a single value"),
        (lambda: losscli.advise({"y": 1.0, "a": 2.0}), TypeError, "'y' is a single value"),
    ],
)
def test_api_arguments_of_the_wrong_kind_are_one_sentence(call: Any, kind: type[Exception], words: str) -> None:
    with pytest.raises(LossCliError) as raised:
        call()
    assert isinstance(raised.value, kind)
    assert words in str(raised.value)
    assert "\n" not in str(raised.value)


def test_score_reads_classes_as_evaluate_does() -> None:
    y, p = ["a", "b"], [[0.9, 0.1], [0.2, 0.8]]
    expected = log_loss([0, 1], p)
    assert losscli.score("cce", y, p, classes="a,b") == pytest.approx(expected, rel=1e-12)
    assert losscli.score("cce", y, p, classes=["a", "b"]) == pytest.approx(expected, rel=1e-12)


def test_an_eps_below_float64_resolution_advises_a_value_that_is_accepted() -> None:
    churn = str(SAMPLE / "churn.csv")
    refused = runner.invoke(app, ["eval", churn, "-l", "bce:eps=1e-300"])
    assert refused.exit_code == 2
    advice = refused.stderr.split("would not be clipped", 1)[1]
    advised = re.findall(r"eps=([0-9.e+-]+)", advice)
    assert advised
    for value in advised:
        accepted = runner.invoke(app, ["eval", churn, "-l", f"bce:eps={value}", "-q"])
        assert accepted.exit_code == 0, f"eps={value}: {accepted.stderr}"


@pytest.mark.parametrize(
    ("mode", "reason"), [("drop-any", "at least one model's prediction"), ("drop", "every prediction")]
)
def test_no_row_left_names_the_nan_mode_given_and_its_rule(tmp_path: Path, mode: str, reason: str) -> None:
    path = tmp_path / "gone.csv"
    # drop-any: b misses every row; drop: the target does
    path.write_text("y,a,b\n1,1.1,\n2,2.2,\n" if mode == "drop-any" else "y,a,b\n,1,1\n,2,2\n")
    result = runner.invoke(app, ["eval", str(path), "-l", "mse", "--nan", mode])
    assert result.exit_code == 2
    assert f"--nan {mode} left out all 2 rows" in result.stderr
    assert reason in result.stderr
    with pytest.raises(ValueError, match=f"nan='{mode}' left out all 2 rows"):
        losscli.evaluate(str(path), "mse", nan=mode)


@pytest.mark.parametrize(
    ("line", "flag"),
    [
        ('fail-above = ["mse=0.3"]', "--fail-above"),
        ('baseline = "nosuch"', "--baseline"),
        ('sort = "nosuch"', "--sort"),
        ('target = "nosuch"', "--target"),
        ('by = ["nosuch"]', "--by"),
        ('nan = "drop-any"\nweight = "w"', "--nan"),
    ],
)
def test_an_error_about_an_option_from_the_config_file_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, flag: str
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("y,a,b,w\n1,1.5,,1\n2,2.5,,1\n" if flag == "--nan" else "y,a,b\n1,1.5,2\n2,2.5,1\n")
    (tmp_path / "losscli.toml").write_text(line + "\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOSSCLI_NO_CONFIG")
    result = runner.invoke(app, ["eval", str(data), "-l", "mae", "-q"])
    assert result.exit_code == 2, result.output
    assert f"({flag} comes from {tmp_path / 'losscli.toml'})" in result.stderr, result.stderr
    assert flag in result.stderr.split(f"({flag} comes from")[0]  # the error names the option itself


def test_api_ci_95_is_95_percent_as_on_the_command_line() -> None:
    path = str(SAMPLE / "house_prices.csv")
    as_percent = losscli.evaluate(path, "mse", ci=95, ci_method="t")
    as_level = losscli.evaluate(path, "mse", ci=0.95, ci_method="t")
    pd.testing.assert_frame_equal(as_percent, as_level, check_like=True)
    assert "ci=95 read as 95% (0.95)" in as_percent.attrs["notes"]
    cli = runner.invoke(app, ["eval", path, "-l", "mse", "--ci", "95", "--ci-method", "t", "-f", "csv", "-q"])
    rows = pd.read_csv(io.StringIO(cli.stdout)).set_index("model")
    api = as_percent.set_index("model")
    np.testing.assert_allclose(rows["mse:ci_low"], api.loc[rows.index, "ci_low"], rtol=1e-12)


@pytest.mark.parametrize("flag", ["-q", "--quiet"])
def test_plot_takes_quiet_as_eval_does(tmp_path: Path, flag: str) -> None:
    pytest.importorskip("matplotlib")
    figure = tmp_path / "fig.png"
    args = ["plot", "residuals", str(SAMPLE / "house_prices.csv"), "-o", str(figure)]
    loud = runner.invoke(app, args)
    assert loud.exit_code == 0, loud.output
    assert "wrote" in loud.stderr
    figure.unlink()
    quiet = runner.invoke(app, [*args, flag])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    assert figure.stat().st_size > 0


def _yes_no(tmp_path: Path) -> str:
    path = tmp_path / "yesno.csv"
    path.write_text("y,m\nyes,0.8\nno,0.3\nyes,0.6\nno,0.1\nyes,0.9\n")
    return str(path)


def test_advise_names_the_other_label_with_positive(tmp_path: Path) -> None:
    result = runner.invoke(app, ["advise", _yes_no(tmp_path), "--positive", "yes", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["target"]["classes"] == {"no": 0.4, "yes": 0.6}


def test_calibration_says_what_y_1_stands_for_with_positive(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plot", "calibration", _yes_no(tmp_path), "--positive", "yes", "--bins", "2"])
    assert result.exit_code == 0, result.output
    assert "observed frequency of y=yes" in result.stdout
    assert "y=1" not in result.stdout


@pytest.mark.parametrize(
    ("name", "fits", "not_fits"),
    [("forecast_quantiles.csv", "quantile, interval_score, coverage", "crps"), ("forecast.csv", "crps", "coverage")],
)
def test_advise_suggests_the_losses_of_the_distribution_it_met(name: str, fits: str, not_fits: str) -> None:
    result = runner.invoke(app, ["advise", str(SAMPLE / name)])
    assert result.exit_code == 2
    suggestion = result.stderr.split("score it with eval", 1)[1]
    assert fits in suggestion
    assert not_fits not in suggestion


@pytest.mark.parametrize(
    ("p", "shown"),
    [(0.972, "p=0.97"), (0.95, "p=0.95"), (0.998, "p>0.99"), (1.0, "p=1"), (0.94, "p=0.9"), (0.04, "p=0.04")],
)
def test_a_p_value_below_1_never_reads_p_1(p: float, shown: str) -> None:
    assert format_p(p) == shown


@pytest.mark.parametrize(
    ("text", "loss", "shown"),
    [
        ("y,m.0,m.1,m.2\n0,0.8,0.1,0.1\n3,0.2,0.7,0.1\n", "cce", "holds 3, which"),
        ("y,m.0,m.1,m.2\n0,0.8,0.1,0.1\n-100,0.2,0.7,0.1\n", "cce", "holds -100, which"),
        ("y,m\n0,0.8\n3,0.2\n", "bce", "holds 3; binary losses need labels"),
    ],
)
def test_an_integer_label_is_printed_as_written(tmp_path: Path, text: str, loss: str, shown: str) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(text)
    result = runner.invoke(app, ["eval", str(path), "-l", loss])
    assert result.exit_code == 2
    assert shown in result.stderr


@pytest.mark.parametrize("args", [["-", "-"], ["-", "--truth", "-"]])
def test_stdin_named_twice_is_refused_as_such(args: list[str]) -> None:
    text = (SAMPLE / "house_prices.csv").read_text()
    result = runner.invoke(app, ["eval", *args, "-l", "mse"], input=text)
    assert result.exit_code == 2
    assert "- (stdin) is named 2 times" in result.stderr
    assert "empty" not in result.stderr
