"""The conventions people expect of a command-line tool: one-line usage errors, help that
opens with examples and groups its options, shell completion, a loss typed where a file
goes, stdin on a terminal, widths that fit."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sklearn.metrics import mean_absolute_error
from typer.testing import CliRunner

from losscli.cli import app
from losscli.cli.complete import complete_engine, complete_format, complete_join, complete_loss, complete_nan
from losscli.losses import REGISTRY

from .conftest import ROOT, SAMPLE

HOUSES = str(SAMPLE / "house_prices.csv")
runner = CliRunner()
LOSSCLI = str(Path(sys.executable).parent / "losscli")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval"], "Missing argument 'FILES...'"),
        (["eval", HOUSES, "--digits", "40"], "Invalid value for '--digits': 40 is not in the range 1<=x<=17"),
        (["eval", HOUSES, "--nope"], "No such option: --nope"),
        (["frob"], "No such command 'frob'"),
        (["plot", "losses"], "Missing argument 'FILE'"),
        (["eval", HOUSES, "--bootstrap", "many"], "Invalid value for '--bootstrap': 'many' is not a valid integer"),
    ],
)
def test_usage_errors_are_one_line_in_losscli_style(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"losscli: error: {message}")
    assert "╭" not in result.stderr
    assert result.stderr.rstrip().endswith("-h'.")


# A mistyped option, and what it is close to (Click's own list named --loss and --verbose for
# --bogus, --class-sep beside --loss for --loss-typo, --meta and --timeout beside --ci-method).
MISTYPED = [
    ("--bogus", None),
    ("--loss-typo", "--loss"),
    ("--ci-methd", "--ci-method"),
    ("--ci-methd=bca", "--ci-method"),
    ("--basline", "--baseline"),
    ("--per_row", "--per-row"),
    ("--LOSS", "--loss"),
    ("--no-colour", "--no-color"),
    ("--nan-drop", "--nan"),
    ("--fail", "--fail-above, --fail-if-worse or --fail-if-worse-by"),
    ("--json", "--format json"),
    # Parquet holds per-row values only, written to a file: --format parquet alone is refused
    ("--parquet", "--per-row -o FILE.parquet"),
    ("--metrics", None),
    ("-Z", None),
]


@pytest.mark.parametrize(("typed", "meant"), MISTYPED)
def test_a_mistyped_option_suggests_only_close_names(typed: str, meant: str | None) -> None:
    result = runner.invoke(app, ["eval", HOUSES, typed, "-l", "mse"])
    assert result.exit_code == 2
    shown = typed.split("=")[0]
    if meant is None:
        expected = f"losscli: error: No such option: {shown}; see 'losscli eval -h'.\n"
    else:
        expected = f"losscli: error: No such option: {shown}. Did you mean {meant}? See 'losscli eval -h'.\n"
    assert result.stderr == expected
    assert result.stdout == ""


def test_a_mistyped_option_of_another_command_names_that_command() -> None:
    result = runner.invoke(app, ["losses", "--explan", "mse"])
    assert (
        result.stderr == "losscli: error: No such option: --explan. Did you mean --explain? See 'losscli losses -h'.\n"
    )
    result = runner.invoke(app, ["plot", "losses", HOUSES, "--bogus"])
    assert result.stderr == "losscli: error: No such option: --bogus; see 'losscli plot losses -h'.\n"
    result = runner.invoke(app, ["eval", HOUSES, "--x\x1b[2J"])
    assert result.stderr == "losscli: error: No such option: --x\\x1b[2J; see 'losscli eval -h'.\n"


def test_a_mistyped_option_through_the_console_script() -> None:
    done = subprocess.run([LOSSCLI, "eval", "x.csv", "--ci-methd", "bca"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert (
        done.stderr == "losscli: error: No such option: --ci-methd. Did you mean --ci-method? See 'losscli eval -h'.\n"
    )
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_losscli_alone_still_shows_the_help() -> None:
    result = runner.invoke(app, [])
    assert "Usage: losscli" in result.output
    assert "losscli: error" not in result.output


def test_ci_95_is_read_as_95_percent_with_a_note() -> None:
    args = ["eval", HOUSES, "-l", "mae", "--bootstrap", "50", "-f", "csv"]
    as_percent = runner.invoke(app, [*args, "--ci", "95"])
    as_level = runner.invoke(app, [*args, "--ci", "0.95", "-q"])
    assert as_percent.exit_code == 0, as_percent.output
    assert "losscli: --ci 95 read as 95% (0.95)" in as_percent.stderr.splitlines()
    assert as_percent.stdout == as_level.stdout
    refused = runner.invoke(app, [*args, "--ci", "150"])
    assert refused.exit_code == 2
    assert refused.stderr.startswith("losscli: error: --ci is a confidence level")


def test_a_percent_ci_is_converted_exactly() -> None:
    # 99.9 / 100 is 0.9990000000000001 in floats; the percent is the level 0.999 itself.
    args = ["eval", HOUSES, "-l", "mae", "--bootstrap", "50", "-f", "csv", "-q"]
    as_percent = runner.invoke(app, [*args, "--ci", "99.9"])
    as_level = runner.invoke(app, [*args, "--ci", "0.999"])
    assert as_percent.exit_code == 0, as_percent.output
    assert as_percent.stdout == as_level.stdout


def _help() -> str:
    result = runner.invoke(app, ["eval", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    return result.stdout


def test_eval_help_opens_with_examples() -> None:
    lines = [line.strip() for line in _help().splitlines() if line.strip()]
    assert lines[0].startswith("Usage: losscli eval")
    assert lines[2] == "Examples"
    examples = [line for line in lines[3:12] if line.startswith("losscli eval ")]
    assert 3 <= len(examples) <= 4
    assert lines.index("Examples") < min(i for i, line in enumerate(lines) if line.startswith("╭"))


def test_eval_help_groups_the_options_in_panels() -> None:
    panels = [line.split("─")[1].strip() for line in _help().splitlines() if line.startswith("╭─")]
    assert panels == ["Arguments", "Options", "Input", "Columns", "Losses", "Statistics", "Gates (exit 1)", "Output",
                      "Engine"]  # fmt: skip


def test_eval_help_says_what_the_options_accept() -> None:
    from losscli.read.formats import FORMATS

    text = " ".join(_help().replace("│", " ").split())
    fmt_help = text[text.index("--input-format") : text.index("--truth")]
    for fmt in FORMATS:
        assert fmt in fmt_help
    assert "stdin is sniffed" in fmt_help
    id_help = text[text.index("--id ") : text.index("--class-sep")]
    assert "id, row_id or index" in id_help
    for env in ("LOSSCLI_FORMAT", "LOSSCLI_NO_CONFIG"):
        assert env in text


def test_completion_of_losses_formats_and_choices() -> None:
    assert [v for v, _ in complete_loss("hu")] == ["huber"]
    assert ("huber:delta=1", "with its parameters (defaults shown)") in complete_loss("huber:")
    assert "mse,mae" in [v for v, _ in complete_loss("mse,ma")]
    assert {v for v, _ in complete_loss("")} == set(REGISTRY.names())
    assert complete_format("j") == ["json", "jsonl"]
    assert complete_nan("") == ["error", "drop", "drop-any"]
    assert complete_join("i") == ["inner"]
    assert complete_engine("d") == ["dask"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("losscli eval f.csv --nan ", ["error", "drop", "drop-any"]),
        ("losscli eval f.csv -l mse,ma", ["mse,mae", "mse,mape"]),
    ],
)
def test_completion_through_the_installed_command(words: str, expected: list[str]) -> None:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = dict(os.environ, _LOSSCLI_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    done = subprocess.run([LOSSCLI], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == expected


def test_a_loss_given_where_a_file_goes_is_explained() -> None:
    result = runner.invoke(app, ["eval", HOUSES, "-l", "mse", "mae"])
    assert result.exit_code == 2
    assert result.stderr == (
        "losscli: error: mae is a loss, not an input file (there is no such file); "
        "-l takes one value, so give several as -l mse,mae.\n"
    )


def test_a_file_named_like_a_loss_is_still_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mae").write_text("y,a\n1,2\n2,2\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["eval", "mae", "--input-format", "csv", "-l", "mae", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.output


def test_losses_fits_an_80_column_terminal() -> None:
    result = runner.invoke(app, ["losses"], env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    names = {line.split()[0] for line in lines if line and not line.startswith(" ")}
    assert set(REGISTRY.names()) <= names


def test_plot_losses_chooses_the_default_loss_as_eval_does() -> None:
    from .conftest import SAMPLE as sample

    result = runner.invoke(app, ["plot", "losses", str(sample / "house_prices.csv"), "--by", "region", "--no-color"])
    assert result.exit_code == 0, result.output
    assert "losscli: loss: mse (the first default for regression; choose with --loss)" in result.stderr
    assert result.stdout.startswith("mse per region")


def test_dash_o_dash_is_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["eval", HOUSES, "-l", "mae", "-f", "csv", "-o", "-", "-q"])
    assert result.stdout.startswith("model,n,mae,rank")
    assert not (tmp_path / "-").exists()


def test_stdin_on_a_terminal_says_it_is_waiting() -> None:
    """Run on a real pseudo-terminal: the note comes before any data, and EOF ends the wait."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [LOSSCLI, "eval", "-", "-l", "mae", "-f", "csv"],
        stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    os.close(secondary)
    try:
        assert proc.stderr is not None
        ready, _, _ = select.select([proc.stderr], [], [], 30)
        assert ready, "no note within 30 s"
        line = proc.stderr.readline().decode()
        assert line.startswith("losscli: reading predictions from stdin, which is a terminal")
        time.sleep(0.2)
        os.write(primary, b"y,a\n1,3\n2,2\n\x04")  # one Ctrl-D ends the input, as in cat
        out, err = proc.communicate(timeout=60)
        expected = mean_absolute_error([1, 2], [3, 2])
        assert out.decode().splitlines()[1] == f"a,2,{expected!r},1", err
    finally:
        proc.kill()
        os.close(primary)


# --- terminal plots ------------------------------------------------------------------------------


def test_plots_without_colour_give_each_model_its_own_marker() -> None:
    result = runner.invoke(app, ["plot", "residuals", HOUSES, "--no-color"])
    assert result.exit_code == 0, result.output
    legend = [re.search(r"[│┤] (\S+) (\w+) \(", line).groups() for line in result.stdout.splitlines()[2:5]]  # type: ignore[union-attr]
    assert [name for _, name in legend] == ["linear", "gbm", "knn"]
    markers = [marker for marker, _ in legend]
    assert len(set(markers)) == 3
    body = "\n".join(result.stdout.splitlines()[5:])
    for marker in markers:
        assert marker[0] in body


def test_bars_without_colour_give_each_model_its_own_fill() -> None:
    result = runner.invoke(app, ["plot", "losses", HOUSES, "-l", "mae", "--by", "region", "--no-color"])
    rows = [re.search(r"(linear|gbm|knn)\s+(\S)", line) for line in result.stdout.splitlines()[1:4]]
    fills = dict(row.groups() for row in rows if row)
    assert set(fills) == {"linear", "gbm", "knn"}
    assert len(set(fills.values())) == 3


@pytest.mark.parametrize("kind", ["residuals", "calibration", "losses"])
def test_term_dumb_means_no_escape_codes_in_plots(kind: str) -> None:
    from .test_docs import in_a_terminal

    data = {"residuals": "house_prices.csv", "calibration": "churn.csv", "losses": "house_prices.csv --by region"}
    command = f"losscli plot {kind} sample_data/{data[kind]} -l mae" if kind == "losses" else ""
    command = command or f"losscli plot {kind} sample_data/{data[kind]}"
    coloured = "\n".join(in_a_terminal(command, env={"NO_COLOR": "", "TERM": "xterm"}, raw=True))
    assert "\x1b[" in coloured  # on a colour terminal the plot has escape codes...
    dumb = "\n".join(in_a_terminal(command, env={"NO_COLOR": "", "TERM": "dumb"}, raw=True))
    assert "\x1b" not in dumb  # ...and on a dumb one none
    assert len(dumb.splitlines()) > 5


def test_force_color_colours_plots_in_a_pipe() -> None:
    args = ["plot", "losses", HOUSES, "-l", "mae", "--by", "region"]
    assert "\x1b[" in runner.invoke(app, args, env={"FORCE_COLOR": "1", "NO_COLOR": None}).stdout
    assert "\x1b[" not in runner.invoke(app, args, env={"FORCE_COLOR": None, "NO_COLOR": None}).stdout
