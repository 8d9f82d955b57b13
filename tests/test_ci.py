"""At home in CI: gates with margins and per group, gate results as data, GitHub annotations
and the step summary, LOSSCLI_* variables and FORCE_COLOR. Expected values come from
scikit-learn on the sample, never from losscli's output."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error
from typer.testing import CliRunner

from losscli.cli import app
from losscli.report.ci import error_lines, escape_data

from .conftest import SAMPLE

HOUSES = str(SAMPLE / "house_prices.csv")
HOUSE = pd.read_csv(HOUSES)
MODELS = ("linear", "gbm", "knn")
SCHEMA = json.loads(resources.files("losscli").joinpath("report/results.schema.json").read_text())


def run(*args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["eval", HOUSES, "-q", *args], env=env)


def mae(model: str, rows: pd.Series | None = None) -> float:
    frame = HOUSE if rows is None else HOUSE[rows]
    return float(mean_absolute_error(frame.y, frame[model]))


def fail_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("losscli: FAIL ")]


# --- --fail-if-worse-by: margins against the baseline --------------------------------------------


@pytest.mark.parametrize("margin", ["5", "7.5", "30%", "40%"])
def test_worse_by_an_absolute_or_a_relative_margin(margin: str) -> None:
    base = mae("knn")
    limit = base * (1 + float(margin[:-1]) / 100) if margin.endswith("%") else base + float(margin)
    failing = sorted(m for m in MODELS if m != "knn" and mae(m) > limit)
    result = run("-l", "mae", "--baseline", "knn", "--fail-if-worse-by", f"mae={margin}", "-f", "csv")
    assert result.exit_code == (1 if failing else 0), result.output
    assert sorted(line.split()[2].rstrip(":") for line in fail_lines(result.stderr)) == failing
    for line in fail_lines(result.stderr):
        assert f"(--fail-if-worse-by mae={margin})" in line


def test_the_margins_of_this_sample_split_as_expected() -> None:
    """The parametrised cases above cover both outcomes: linear is 37% (7.07) worse than knn."""
    assert 7 < mae("linear") - mae("knn") < 7.5
    assert 0.3 < mae("linear") / mae("knn") - 1 < 0.4


def test_gates_apply_to_every_group_shown_and_name_the_group() -> None:
    result = run("-l", "mae", "--by", "region", "--fail-above", "mae=25", "-f", "csv")
    expected = {(m, "(all)") for m in MODELS if mae(m) > 25}
    for region in sorted(HOUSE.region.unique()):
        expected |= {(m, region) for m in MODELS if mae(m, HOUSE.region == region) > 25}
    found = set()
    for line in fail_lines(result.stderr):
        match = re.match(r"losscli: FAIL (\w+)(?: \[region=(\w+)\])?: mae = ", line)
        assert match, line
        found.add((match.group(1), match.group(2) or "(all)"))
    assert found == expected
    assert any(group != "(all)" for _, group in found)
    assert result.exit_code == 1


def test_min_group_n_hides_groups_from_the_gates_too() -> None:
    result = run("-l", "mae", "--by", "region", "--min-group-n", "1000", "--fail-above", "mae=0", "-f", "csv")
    assert {line.split()[2] for line in fail_lines(result.stderr)} == {f"{m}:" for m in MODELS}


def test_gate_results_are_data_in_meta() -> None:
    result = run(
        "-l", "mae", "--baseline", "knn", "--by", "region", "-f", "json", "--meta",
        "--fail-above", "mae=25", "--fail-if-worse-by", "mae=30%",
    )  # fmt: skip
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    jsonschema.validate(body, SCHEMA)
    assert body["meta"]["schema_version"] == 1
    gates = body["meta"]["gates"]
    groups = 1 + HOUSE.region.nunique()
    above = [g for g in gates if g["rule"] == "--fail-above mae=25"]
    margin = [g for g in gates if g["rule"] == "--fail-if-worse-by mae=30%"]
    assert len(above) == 3 * groups  # one per rule, model and group
    assert len(margin) == 2 * groups  # the baseline is not compared with itself
    west = next(g for g in margin if g["model"] == "linear" and g["group"] == {"region": "west"})
    in_west = HOUSE.region == "west"
    assert west["value"] == pytest.approx(mae("linear", in_west), rel=1e-12)
    assert west["threshold"] == pytest.approx(1.3 * mae("knn", in_west), rel=1e-12)
    assert west["passed"] == (mae("linear", in_west) <= 1.3 * mae("knn", in_west))
    overall = next(g for g in above if g["model"] == "linear" and g["group"] is None)
    assert overall == {
        "rule": "--fail-above mae=25",
        "model": "linear",
        "loss": "mae",
        "group": None,
        "value": pytest.approx(mae("linear"), rel=1e-12),
        "threshold": 25.0,
        "passed": False,
    }
    assert len(fail_lines(result.stderr)) == sum(not g["passed"] for g in gates)


def test_meta_has_an_empty_gate_list_without_gates() -> None:
    body = json.loads(run("-l", "mae", "-f", "json", "--meta").stdout)
    jsonschema.validate(body, SCHEMA)
    assert body["meta"]["gates"] == []


def test_a_margin_needs_a_baseline_and_a_loss_of_the_run() -> None:
    result = run("-l", "mae", "--fail-if-worse-by", "mae=1")
    assert result.exit_code == 2
    assert result.stderr.startswith("losscli: error: --fail-if-worse-by ")
    result = run("-l", "mae", "--baseline", "knn", "--fail-if-worse-by", "mse=1")
    assert result.exit_code == 2
    assert "names no loss of this run" in result.stderr


# --- GitHub Actions ------------------------------------------------------------------------------


def test_on_github_actions_a_failed_gate_is_also_an_error_annotation() -> None:
    args = ("-l", "mae", "--fail-above", "mae=20", "-f", "csv")
    result = run(*args, env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1
    annotations = [line for line in result.stderr.splitlines() if line.startswith("::")]
    assert annotations == [
        f"::error title=losscli::{line[len('losscli: FAIL ') :]}" for line in fail_lines(result.stderr)
    ]
    assert len(annotations) == sum(mae(m) > 20 for m in MODELS)
    assert "::" not in result.stdout  # stdout stays data
    quiet = run(*args, env={"GITHUB_ACTIONS": None})
    assert "::error" not in quiet.stderr


def test_annotation_messages_are_escaped_as_the_runner_unescapes_them() -> None:
    assert escape_data("50% of a\nb\r") == "50%25 of a%0Ab%0D"
    assert error_lines(["x\ny"]) == "::error title=losscli::x%0Ay\n"


def test_the_step_summary_is_appended_to(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    result = run("-l", "mae", "--fail-above", "mae=20", "-f", "csv", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    text = summary.read_text()
    assert text.startswith("# earlier step\n### losscli: ")
    assert "| model | n | mae | rank |" in text
    for model in MODELS:
        assert re.search(rf"^\| {model} \| 200 \| {mae(model):.4g} \| \d \|$", text, re.M)
    assert "gate(s) failed" in text
    assert text.count("- linear: mae = ") == 1
    run("-l", "mae", "-f", "csv", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text().count("### losscli: ") == 2


# --- environment variables -----------------------------------------------------------------------


def test_losscli_format_sets_the_format_and_the_command_line_wins() -> None:
    result = run("-l", "mae", env={"LOSSCLI_FORMAT": "json"})
    assert {r["model"] for r in json.loads(result.stdout)} == set(MODELS)
    result = run("-l", "mae", "-f", "csv", env={"LOSSCLI_FORMAT": "json"})
    assert result.stdout.startswith("model,n,mae,rank")


def test_force_color_colours_a_table_in_a_pipe_and_no_color_wins() -> None:
    coloured = run("-l", "mae", "-f", "table", env={"FORCE_COLOR": "1", "NO_COLOR": None})
    assert "\x1b[" in coloured.stdout
    plain = run("-l", "mae", "-f", "table", env={"FORCE_COLOR": None, "NO_COLOR": None})
    assert "\x1b[" not in plain.stdout
    both = run("-l", "mae", "-f", "table", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in both.stdout


def test_a_margin_on_a_skill_score_fails_the_models_that_score_lower() -> None:
    """d2_absolute_error is higher-is-better: worse by more than 0.05 means below the baseline's - 0.05."""
    from sklearn.metrics import d2_absolute_error_score

    d2 = {m: d2_absolute_error_score(HOUSE.y, HOUSE[m]) for m in MODELS}
    failing = sorted(m for m in MODELS if m != "knn" and d2[m] < d2["knn"] - 0.05)
    result = run("-l", "d2_absolute_error", "--baseline", "knn", "--fail-if-worse-by", "d2_absolute_error=0.05",
                 "-f", "json", "--meta")  # fmt: skip
    assert result.exit_code == (1 if failing else 0), result.output
    gates = json.loads(result.stdout)["meta"]["gates"]
    assert sorted(g["model"] for g in gates if not g["passed"]) == failing
    for g in gates:
        assert g["threshold"] == pytest.approx(d2["knn"] - 0.05, rel=1e-12)
    assert failing  # linear's D2 is well below knn's on this sample
    refused = run("-l", "d2_absolute_error", "--fail-above", "d2_absolute_error=0.5")
    assert refused.exit_code == 2
    assert "skill score" in refused.stderr


@pytest.mark.parametrize("method", ["bootstrap", "t"])
def test_an_infinite_loss_is_worse_in_the_verdict_as_in_the_gate(tmp_path: Path, method: str) -> None:
    # (1 - 1e200)^2 is beyond float64: a's mse is inf, b's ((1-2)^2 + 0 + (3-1)^2 + (4-1)^2) / 4 = 3.5.
    path = tmp_path / "huge.csv"
    path.write_text("y,a,b\n1,1e200,2\n2,3,2\n3,3,1\n4,5,1\n")
    args = ["eval", str(path), "-l", "mse", "--ci", "0.9", "--ci-method", method, "-f", "json"]
    done = CliRunner().invoke(app, [*args, "--baseline", "b", "--fail-if-worse"])
    assert done.exit_code == 1, done.output
    assert "RuntimeWarning" not in done.stderr  # inf * 0 in the bootstrap is expected, not a library's warning
    assert "its interval and p-value are undefined (nan)" in done.stderr
    a = next(r for r in json.loads(done.stdout) if r["model"] == "a")
    assert (a["value"], a["delta"], a["ci_low"], a["p_value"], a["verdict"]) == (None, None, None, None, "worse")
    # The other way round, the finite model is better than an infinite baseline, and passes the gate.
    other = CliRunner().invoke(app, [*args, "--baseline", "a", "--fail-if-worse"])
    assert other.exit_code == 0, other.output
    assert "RuntimeWarning" not in other.stderr
    b = next(r for r in json.loads(other.stdout) if r["model"] == "b")
    assert (b["value"], b["verdict"]) == (3.5, "better")
