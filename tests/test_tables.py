"""Tables never lose a digit: wider than the terminal they change layout (stacked or
transposed); in a file or a pipe they have no width limit; bounds, p-values and counts
read right. Reference values come from scikit-learn and scipy, not from losscli."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import mean_absolute_error, mean_squared_error
from typer.testing import CliRunner

from losscli.cli import app
from losscli.report.render import format_bound, format_p

from .conftest import SAMPLE

HOUSES = str(SAMPLE / "house_prices.csv")
HOUSE = pd.read_csv(HOUSES)
MODELS = ("linear", "gbm", "knn")
WIDE = ["-l", "mse,mae,huber:delta=5,huber:delta=20,rmse,log_cosh,quantile:alpha=0.9"]
LABELS = ("mse", "mae", "huber(delta=5)", "huber(delta=20)", "rmse", "log_cosh", "quantile(alpha=0.9)")
# Twelve losses, as in the issue that found `10…` in the mse column.
TWELVE = "mse,rmse,mae,huber,smooth_l1,log_cosh,quantile:alpha=0.9,mape,smape,huber:delta=5,huber:delta=20,"
TWELVE += "quantile:alpha=0.1"
TWELVE_LABELS = (
    "mse", "rmse", "mae", "huber", "smooth_l1", "log_cosh", "quantile(alpha=0.9)", "mape", "smape",
    "huber(delta=5)", "huber(delta=20)", "quantile(alpha=0.1)",
)  # fmt: skip
# (extra options, width) -> the layout expected: one wide table, transposed, or stacked.
LAYOUTS = {
    ((), 60): "transposed",
    ((), 100): "transposed",
    ((), 200): "wide",
    (("--by", "region"), 60): "stacked",
    (("--by", "region"), 100): "stacked",
    (("--by", "region"), 200): "wide",
    (("--baseline", "linear"), 60): "stacked",
    (("--baseline", "linear"), 100): "transposed",
    (("--baseline", "linear"), 200): "transposed",
}


def table(*args: str, columns: str | None = "100") -> str:
    result = CliRunner().invoke(app, ["eval", *args, "-f", "table", "-q"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    return result.stdout


def tokens(text: str) -> set[str]:
    return {t for line in text.splitlines() for t in line.replace("│", " ").replace("┃", " ").split()}


def sklearn_values() -> list[str]:
    """The MSE and MAE of every model (scikit-learn) at 4 significant digits, as a reader expects."""
    out = []
    for m in MODELS:
        out.append(f"{mean_squared_error(HOUSE.y, HOUSE[m]):.4g}")
        out.append(f"{mean_absolute_error(HOUSE.y, HOUSE[m]):.4g}")
    return out


def layout_of(out: str) -> str:
    tables = out.count("┏")
    if tables > 1:
        return "stacked"
    return (
        "transposed" if out.splitlines()[1].replace("┃", " ").split()[0] != "model" and "region" not in out else "wide"
    )


@pytest.mark.parametrize(("extra", "width"), list(LAYOUTS), ids=[f"{' '.join(e) or 'plain'}-{w}" for e, w in LAYOUTS])
def test_twelve_losses_never_lose_a_digit_at_any_width(extra: tuple[str, ...], width: int) -> None:
    out = table(HOUSES, "-l", TWELVE, *extra, columns=str(width))
    assert "…" not in out
    table_lines = [line for line in out.splitlines() if line[:1] in "┏┃┡│└├"]
    assert max(len(line) for line in table_lines) <= width
    assert set(sklearn_values()) <= tokens(out)
    assert set(TWELVE_LABELS) <= tokens(out)
    assert set(MODELS) <= tokens(out)
    assert layout_of(out) == LAYOUTS[(extra, width)]


@pytest.mark.parametrize("width", [60, 100, 200])
def test_a_wide_table_never_cuts_a_number_or_a_label(width: int) -> None:
    out = table(HOUSES, *WIDE, columns=str(width))
    assert "…" not in out
    table_lines = [line for line in out.splitlines() if line[:1] in "┏┃┡│└├"]
    assert max(len(line) for line in table_lines) <= width
    assert set(sklearn_values()) <= tokens(out)
    assert set(LABELS) <= tokens(out)
    assert set(MODELS) <= tokens(out)


def test_at_60_columns_the_losses_are_stacked_and_each_table_repeats_the_models() -> None:
    out = table(HOUSES, *WIDE, "--baseline", "linear", "--ci", "0.9", "--bootstrap", "50", columns="60")
    assert max(len(line) for line in out.splitlines() if line[:1] in "┏┃│└") <= 60
    tables = out.split("┏")[1:]
    assert len(tables) >= 3
    for t in tables:
        assert set(MODELS) <= tokens(t)
        assert "rank" in t


def test_at_100_columns_few_models_and_many_losses_are_transposed() -> None:
    out = table(HOUSES, *WIDE, columns="100")
    assert out.count("┏") == 1
    assert out.splitlines()[1].replace("┃", " ").split() == ["knn", "linear", "gbm"]
    rows = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert rows == ["n", *LABELS, "rank"]


def test_groups_are_stacked_not_transposed_and_repeat_the_group_column() -> None:
    out = table(HOUSES, *WIDE, "--by", "region", columns="100")
    tables = out.split("┏")[1:]
    assert len(tables) >= 2
    for t in tables:
        assert {"region", "(all)", "east", "west"} <= tokens(t)


def test_a_table_that_fits_is_one_table() -> None:
    out = table(HOUSES, "-l", "mse,mae", columns="200")
    assert out.count("┏") == 1


def test_in_a_pipe_without_columns_and_in_a_file_there_is_no_width_limit(tmp_path: Path) -> None:
    out = table(HOUSES, *WIDE, "--baseline", "linear", columns=None)
    assert out.count("┏") == 1
    assert max(len(line) for line in out.splitlines()) > 200
    path = tmp_path / "t.txt"
    result = CliRunner().invoke(app, ["eval", HOUSES, *WIDE, "-o", str(path), "-q"], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert path.read_text().count("┏") == 1


def test_in_a_pipe_columns_is_respected() -> None:
    out = table(HOUSES, *WIDE, "--baseline", "linear", columns="80")
    assert max(len(line) for line in out.splitlines() if line[:1] in "┏┃│└") <= 80


def test_interval_bounds_are_shown_at_the_precision_that_tells_them_from_the_value() -> None:
    assert format_bound(16.9112, "16.96", 4) == "16.91"
    assert format_bound(17.0151, "16.96", 4) == "17.02"
    assert format_bound(16.9612, "16.96", 4) == "16.961"  # 16.96 would read as the value itself
    assert format_bound(101.712, "74.83", 4) == "101.71"
    assert format_bound(2.5e-7, "3.000e-07", 4) == "2.500e-07"


def test_table_bounds_have_the_values_decimals() -> None:
    out = table(HOUSES, "-l", "mae", "--ci", "0.95", "--seed", "7", columns="100")
    cells = [line.split("│")[3].strip() for line in out.splitlines() if line.startswith("│")]
    for cell in cells:
        value, _, bounds = cell.partition(" [")
        low, high = bounds.rstrip("]").split(", ")
        decimals = len(value.partition(".")[2])
        assert len(low.partition(".")[2]) >= decimals
        assert len(high.partition(".")[2]) >= decimals
        assert float(low) < float(value) < float(high)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12,345 rows where model b is far worse than a: the paired test's p underflows to 0."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=12_345)
    a = y + rng.normal(scale=0.1, size=y.size)
    b = y + 5 + rng.normal(scale=0.1, size=y.size)
    path = tmp_path_factory.mktemp("big") / "big.csv"
    pd.DataFrame({"y": y, "a": a, "b": b}).to_csv(path, index=False)
    return path


def test_an_underflowed_p_value_reads_below_1e300(big: Path) -> None:
    frame = pd.read_csv(big)
    assert stats.ttest_rel((frame.b - frame.y) ** 2, (frame.a - frame.y) ** 2).pvalue < 1e-300
    out = table(str(big), "-l", "mse", "--baseline", "a", columns="120")
    assert "p<1e-300" in out
    assert "p=0 " not in out
    assert format_p(0.0) == "p<1e-300"
    assert format_p(0.04) == "p=0.04"


def test_counts_have_thousands_separators_in_the_table_only(big: Path) -> None:
    assert "12,345" in tokens(table(str(big), "-l", "mse"))
    result = CliRunner().invoke(app, ["eval", str(big), "-l", "mse", "-f", "csv", "-q"])
    assert ",12345," in result.stdout
    result = CliRunner().invoke(app, ["eval", str(big), "-l", "mse", "-f", "json", "-q"])
    assert '"n": 12345' in result.stdout
