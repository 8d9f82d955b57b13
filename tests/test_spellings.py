"""One loss spelled two ways is one loss everywhere: gates, --sort, --fail-if-worse-by, config files.

The resolved specs (name and every parameter, defaults filled in) are compared, never the text;
labels keep the parameters the user set apart from their defaults (bce:eps=auto is headed bce)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from losscli.cli import app
from losscli.errors import LossParameterError
from losscli.spec import parse_spec, split_loss_args

runner = CliRunner()

# y = 0; a's residuals 0.5 and 3, b's 1 and 1: huber(delta=1) rows 0.125 and 2.5 (a), 0.5 and 0.5 (b)
HUBER_A = (0.5 * 0.5**2 + 1.0 * (3.0 - 0.5 * 1.0)) / 2  # 1.3125
HUBER_B = 0.5


def huber_file(tmp_path: Path) -> str:
    path = tmp_path / "h.csv"
    path.write_text("y,a,b\n0,0.5,1\n0,3,1\n")
    return str(path)


def churn_file(tmp_path: Path) -> tuple[str, float]:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.2, 0.6, 0.4])
    path = tmp_path / "c.csv"
    pd.DataFrame({"y": y, "m": p}).to_csv(path, index=False)
    bce = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return str(path), bce


@pytest.mark.parametrize(
    ("typed", "gate"),
    [
        ("huber", "huber:delta=1"),
        ("huber", "huber(delta=1)"),
        ("huber", "huber:delta=1.0"),
        ("huber:delta=1", "huber"),
        ("huber:delta=1", "huber(delta=1)"),
        ("smooth_l1:beta=1", "smooth_l1"),
    ],
)
def test_a_gate_names_the_loss_however_it_is_spelled(tmp_path: Path, typed: str, gate: str) -> None:
    path = huber_file(tmp_path)
    passed = runner.invoke(app, ["eval", path, "-l", typed, "--fail-above", f"{gate}={HUBER_A + 0.01}", "-q"])
    assert passed.exit_code == 0, passed.output
    failed = runner.invoke(app, ["eval", path, "-l", typed, "--fail-above", f"{gate}={HUBER_A - 0.01}", "-q"])
    assert failed.exit_code == 1, failed.output
    assert "FAIL a:" in failed.stderr
    assert "FAIL b" not in failed.stderr
    assert f"(--fail-above {gate}={HUBER_A - 0.01})" in failed.stderr  # the rule as typed


def test_a_model_gate_and_a_margin_resolve_the_same_way(tmp_path: Path) -> None:
    path = huber_file(tmp_path)
    one = runner.invoke(app, ["eval", path, "-l", "huber", "--fail-above", f"a:huber:delta=1={HUBER_A - 0.01}", "-q"])
    assert one.exit_code == 1, one.output
    margin = HUBER_A - HUBER_B
    args = ["eval", path, "-l", "huber:delta=1", "--baseline", "b", "-q"]
    assert runner.invoke(app, [*args, "--fail-if-worse-by", f"huber={margin + 0.01}"]).exit_code == 0
    assert runner.invoke(app, [*args, "--fail-if-worse-by", f"huber={margin - 0.01}"]).exit_code == 1


def test_a_different_parameter_is_a_different_loss(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", huber_file(tmp_path), "-l", "huber", "--fail-above", "huber:delta=2=1"])
    assert result.exit_code == 2
    assert "'huber:delta=2' names no loss of this run (huber)" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("spelled", ["bce:eps=auto", "bce:eps=auto:label_smoothing=0", "bce(eps=auto)", "log_loss"])
def test_bce_spelled_as_its_signature_gates_and_sorts(tmp_path: Path, spelled: str) -> None:
    path, bce = churn_file(tmp_path)
    gate = runner.invoke(app, ["eval", path, "-l", "bce", "--fail-above", f"{spelled}={bce - 1e-6}", "-q"])
    assert gate.exit_code == 1, gate.output
    ok = runner.invoke(app, ["eval", path, "-l", "bce", "-l", "brier", "--sort", spelled, "-f", "csv", "-q"])
    assert ok.exit_code == 0, ok.output
    rows = pd.read_csv(io.StringIO(ok.stdout))
    assert list(rows.columns[:4]) == ["model", "n", "bce", "brier"]  # defaults given are not in the label
    assert rows.loc[0, "bce"] == pytest.approx(bce, rel=1e-12)


def test_sort_by_an_other_spelling(tmp_path: Path) -> None:
    path = huber_file(tmp_path)
    # under mse a (4.625) is worse than b (1); under huber:delta=5 a (2.3125) worse too: use delta=0.1
    # huber(0.1): a = (0.1*(0.5-0.05) + 0.1*(3-0.05))/2 = 0.17, b = 0.1*(1-0.05) = 0.095
    result = runner.invoke(
        app, ["eval", path, "-l", "mse", "-l", "huber:delta=0.1", "--sort", "huber(delta=0.10)", "-f", "csv", "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(io.StringIO(result.stdout))
    assert list(rows["model"]) == ["b", "a"]
    assert rows.set_index("model").loc["a", "huber(delta=0.1)"] == pytest.approx((0.1 * 0.45 + 0.1 * 2.95) / 2)


def test_a_config_file_gate_resolves_the_same_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = huber_file(tmp_path)
    (tmp_path / "losscli.toml").write_text(f'loss = ["huber:delta=1"]\nfail-above = ["huber={HUBER_A - 0.01}"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOSSCLI_NO_CONFIG")
    result = runner.invoke(app, ["eval", path, "-q"])
    assert result.exit_code == 1, result.output
    assert "FAIL a: huber = " in result.stderr


def test_identity_fills_defaults() -> None:
    assert parse_spec("huber").identity == parse_spec("huber:delta=1").identity == parse_spec("huber(delta=1)").identity
    assert parse_spec("huber").identity != parse_spec("huber:delta=2").identity
    assert parse_spec("bce").identity == parse_spec("bce:eps=auto:label_smoothing=0").identity


@pytest.mark.parametrize("text", ["huber:delta=2,", "mse,mae,", "focal:gamma=2, "])
def test_a_trailing_comma_is_refused(text: str) -> None:
    with pytest.raises(LossParameterError, match="ends with a comma"):
        split_loss_args([text])


def test_a_trailing_comma_is_one_sentence_on_the_command_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", huber_file(tmp_path), "-l", "huber:delta=2,"])
    assert result.exit_code == 2
    assert "loss list 'huber:delta=2,' ends with a comma" in result.stderr
    assert "Traceback" not in result.output
