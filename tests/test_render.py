"""Rendering: golden outputs per format (written once, reviewed, and their numbers
checked against scikit-learn here), the JSON schema, and number formatting."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics
from typer.testing import CliRunner

from losscli.cli import app
from losscli.read.source import source_from_dataframe
from losscli.report.render import format_number, render, render_pieces
from losscli.report.summary import summary

from .build import Options, run
from .conftest import ROOT, SAMPLE

GOLDEN = ROOT / "tests" / "golden"
HOUSE = pd.read_csv(SAMPLE / "house_prices.csv")
CHURN = pd.read_csv(SAMPLE / "churn.csv")
SCHEMA = json.loads(resources.files("losscli").joinpath("report/results.schema.json").read_text())


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("fmt", ["csv", "tsv", "markdown", "json", "table"])
def test_golden_output(fmt: str) -> None:
    args = ["eval", "sample_data/house_prices.csv", "-l", "mse,mae,huber:delta=5", "-f", fmt, "-q"]
    if fmt == "table":
        args.append("--no-color")
    assert cli(*args) == (GOLDEN / f"house_prices.{fmt}").read_text()


def test_golden_numbers_are_scikit_learns() -> None:
    rows = list(csv.DictReader(io.StringIO((GOLDEN / "house_prices.csv").read_text())))
    assert [r["model"] for r in rows] == ["knn", "linear", "gbm"]
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    for row in rows:
        p = HOUSE[row["model"]]
        r = np.abs(p - HOUSE.y)
        assert float(row["mse"]) == pytest.approx(metrics.mean_squared_error(HOUSE.y, p), rel=1e-12)
        assert float(row["mae"]) == pytest.approx(metrics.mean_absolute_error(HOUSE.y, p), rel=1e-12)
        assert float(row["huber(delta=5)"]) == pytest.approx(
            np.where(r <= 5, 0.5 * r**2, 5 * (r - 2.5)).mean(), rel=1e-12
        )


def test_golden_baseline_numbers_are_scipys() -> None:
    args = ["eval", "sample_data/churn.csv", "-l", "bce,brier", "--baseline", "prior", "--ci", "0.9"]
    out = cli(*args, "--seed", "3", "--bootstrap", "200", "-f", "csv", "-q")
    assert out == (GOLDEN / "churn_baseline.csv").read_text()
    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(out))}
    y = CHURN.y.to_numpy()

    def per_row_bce(p: np.ndarray) -> np.ndarray:
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))

    for model in ("xgb", "logreg"):
        row = rows[model]
        delta = metrics.log_loss(y, CHURN[model]) - metrics.log_loss(y, CHURN.prior)
        assert float(row["bce:delta"]) == pytest.approx(delta, rel=1e-10)
        p = stats.ttest_rel(per_row_bce(CHURN[model].to_numpy()), per_row_bce(CHURN.prior.to_numpy())).pvalue
        assert float(row["bce:p_value"]) == pytest.approx(p, rel=1e-8)
        assert float(row["bce:ci_low"]) < float(row["bce"]) < float(row["bce:ci_high"])
        assert row["bce:verdict"] == ("better" if p < 0.1 and delta < 0 else "n.s.")
    assert rows["prior"]["bce:verdict"] == "baseline"


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--ci", "0.95", "--bootstrap", "50"],
        ["--baseline", "linear"],
        ["--baseline", "linear", "--ci", "0.8", "--bootstrap", "50", "--by", "region"],
        ["--meta"],
        ["--meta", "--ci", "0.9", "--bootstrap", "30", "--by", "region", "-w", "id"],
    ],
    ids=["plain", "ci", "baseline", "everything", "meta", "meta-everything"],
)
def test_json_validates_against_the_schema(extra: list[str]) -> None:
    out = json.loads(cli("eval", "sample_data/house_prices.csv", "-l", "mse,huber:delta=2", "-f", "json", "-q", *extra))
    jsonschema.validate(out, SCHEMA)
    records = out["results"] if "--meta" in extra else out
    assert len(records) >= 6
    if "--meta" in extra:
        assert out["meta"]["losses"][1] == {
            "label": "huber(delta=2)",
            "loss": "huber",
            "params": {"delta": 2.0},
            "spec": "huber:delta=2",
        }


def test_the_schema_rejects_what_it_should() -> None:
    bad = [{"model": "a", "loss": "mse", "params": {}, "label": "mse", "value": "1.0", "n": 2, "rank": 1}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_jsonl_is_the_json_records() -> None:
    args = ["eval", "sample_data/house_prices.csv", "-l", "mse,mae", "-q"]
    records = json.loads(cli(*args, "-f", "json"))
    assert [json.loads(line) for line in cli(*args, "-f", "jsonl").splitlines()] == records


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0.0, 4, "0"),
        (1.5, 4, "1.500"),
        (12345.678, 4, "12346"),
        (0.012345678, 4, "0.01235"),
        (1e-7, 4, "1.000e-07"),
        (2.5e20, 3, "2.50e+20"),
        (float("nan"), 4, "nan"),
        (float("inf"), 4, "inf"),
    ],
)
def test_format_number(value: float, digits: int, text: str) -> None:
    assert format_number(value, digits) == text


def test_ties_share_a_rank() -> None:
    df = pd.DataFrame({"y": [0.0, 0.0], "a": [1.0, 1.0], "b": [1.0, -1.0], "c": [0.0, 0.5]})
    ev = run(source_from_dataframe(df), ["mse", "mae"])
    text = render(ev, "csv")
    assert text.splitlines()[1:] == [
        "c,2,0.125,0.25,1",
        "a,2,1.0,1.0,2",
        "b,2,1.0,1.0,2",
    ]


def test_sort_by_another_loss() -> None:
    df = pd.DataFrame({"y": [0.0, 0.0, 0.0], "a": [3.0, 0.0, 0.0], "b": [1.0, 1.0, 1.0]})
    ev = run(source_from_dataframe(df), ["mse", "mae"])
    assert [line.split(",")[0] for line in render(ev, "csv").splitlines()[1:]] == ["b", "a"]  # mse: 1 < 3
    assert [line.split(",")[0] for line in render(ev, "csv", sort="mae").splitlines()[1:]] == ["a", "b"]


def test_groups_come_after_the_overall_rows() -> None:
    df = pd.DataFrame({"y": [0.0, 0.0, 0.0, 0.0], "m": [1.0, 2.0, 3.0, 4.0], "g": ["x", "y", "x", "y"]})
    ev = run(source_from_dataframe(df), ["mae"], options=Options(by=("g",)))
    assert render(ev, "csv").splitlines() == ["g,model,n,mae,rank", "(all),m,4,2.5,1", "x,m,2,2.0,1", "y,m,2,3.0,1"]


def test_table_fits_a_fixed_width() -> None:
    df = pd.DataFrame({"y": [0.0, 0.0], "a": [1.0, 2.0], "b": [1.0, 1.0]})
    text = render(run(source_from_dataframe(df), ["mse", "mae"]), "table", no_color=True, width=60)
    lines = text.splitlines()
    assert max(len(line) for line in lines[:-2]) <= 60
    assert any(line.startswith("│ b ") and "1.000" in line for line in lines)
    assert "<dataframe> · target y · 2 rows · lower is better" in text


def test_float_texts_are_reprs() -> None:
    """The CSV's numbers are formatted by Arrow: every one must read as Python's repr writes it."""
    from losscli.report.columns_text import float_texts, integer_texts, strings

    rng = np.random.default_rng(3)
    special = [0.0, -0.0, 1.0, -2.0, 1e-4, 9.99e-5, 1e-5, 1e10, 9999999999.5, 1e15, 1e16, 1e22, 5e-324]
    values = np.concatenate(
        [
            10 ** rng.uniform(-12, 25, 20_000),
            -(10 ** rng.uniform(-12, 25, 2_000)),
            np.round(10 ** rng.uniform(-1, 20, 5_000)),
            2.0 ** np.arange(-70, 90),
            np.nextafter(10.0 ** np.arange(-20, 25), 0),
            [*special, np.nan, np.inf, -np.inf, 1.7976931348623157e308],
        ]
    )
    assert float_texts(values).to_pylist() == [repr(v) for v in values.tolist()]
    ints = np.array([0, -1, 7, 10**12, -(2**62)])
    assert integer_texts(ints).to_pylist() == [str(i) for i in ints.tolist()]
    for texts in (["a", "", "bc"], ["ü", "", "€x", "a"], []):
        assert strings(texts).to_pylist() == texts


def test_optional_float_texts_are_the_csv_cells() -> None:
    """The CSV's extra fields (None where not computed) are formatted column-wise: each cell as
    the csv module is given it (repr of a float, '' for None); other types are left to str()."""
    from losscli.report.columns_text import float_texts, optional_floats

    cells = [0.5, None, float("nan"), -0.0, 1e-05, None, 3.0, float("inf"), 1e22]
    found = optional_floats(cells)
    assert found is not None
    assert float_texts(*found).to_pylist() == ["" if v is None else repr(v) for v in cells]
    assert optional_floats([0.5, 1]) is None  # repr(1) is '1', not '1.0'
    assert optional_floats([None, "better"]) is None


@pytest.mark.parametrize(
    ("fmt", "extra"), [("csv", []), ("tsv", []), ("csv", ["--baseline", "a", "--ci", "0.9", "--ci-method", "t"])]
)
def test_many_groups_are_written_as_the_csv_module_writes_them(
    tmp_path: Path, fmt: str, extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV/TSV of many groups is joined by Arrow, some lines at a time; it must be what
    csv.writer writes from the results."""
    monkeypatch.setattr("losscli.report.render.JOIN_ROWS", 97)
    rng = np.random.default_rng(4)
    rows = 3000
    y = rng.normal(size=rows)
    df = pd.DataFrame(
        {"y": y, "a": y + rng.normal(size=rows), "b": y * 1e-6, "c": np.round(y), "g": rng.integers(0, 700, rows)}
    )
    df.loc[df.g == 3, "a"] = np.nan
    path = tmp_path / "g.parquet"
    df.to_parquet(path, index=False)
    args = ["eval", str(path), "-t", "y", "-l", "mse,mae", "--by", "g", "--nan", "drop", "-f", fmt, *extra]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    stats = Options(by=("g",), baseline="a", ci=0.9, ci_method="t") if extra else Options(by=("g",))
    ev = run(source_from_dataframe(df), ["mse", "mae"], options=stats, target="y", nan="drop")
    fields = (
        ["ci_low", "ci_high", "delta", "delta_rel", "delta_ci_low", "delta_ci_high", "p_value", "verdict"]
        if extra
        else []
    )
    delimiter = "," if fmt == "csv" else "\t"
    want = io.StringIO()
    writer = csv.writer(want, delimiter=delimiter, lineterminator="\n")
    writer.writerow(
        ["g", "model", "n", *(f"{k}:{f}" if f else k for k in ("mse", "mae") for f in ["", *fields]), "rank"]
    )
    for row in summary(ev):
        group = "(all)" if row.group is None else str(row.group[0])
        cells = []
        for label in ("mse", "mae"):
            r = row.results[label]
            cells.append(repr(r.value))
            for f in fields:
                v = getattr(r, f)
                cells.append("" if v is None else repr(v) if isinstance(v, float) else str(v))
        writer.writerow([group, row.model, str(row.n), *cells, "" if row.rank is None else str(row.rank)])
    assert done.stdout == want.getvalue()


def _hostile_groups() -> pd.DataFrame:
    """Names that need escaping in JSON, group values of every kind JSON writes alike."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=240)
    return pd.DataFrame(
        {
            "y": y,
            'say "hi"\tend': y + rng.normal(size=240),
            "ü\\b": y + rng.normal(0, 2, size=240),
            "g": [["x", "", None, 'q"\t', "ü"][i % 5] for i in range(240)],
            "f": [[1.5, np.nan, None, np.inf, -0.0, 7.0][i % 6] for i in range(240)],
        }
    )


@pytest.mark.parametrize("records_at_a_time", [3, 1 << 17])
@pytest.mark.parametrize(
    "options",
    [
        Options(),
        Options(by=("g", "f")),
        Options(ci=0.9, bootstrap=40, seed=1, baseline="ü\\b", by=("f",)),
        Options(ci=0.9, ci_method="t", baseline='say "hi"\tend'),
    ],
    ids=["plain", "by", "ci-baseline-by", "t-baseline"],
)
def test_json_text_is_json_dumps_of_the_records(
    options: Options, records_at_a_time: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JSON and JSON Lines are written column-wise; the bytes are those of json.dumps of the
    records (indented by 2; with --meta under "results"), across chunk boundaries."""
    from losscli.report import json_text
    from losscli.report.gates import check_gates
    from losscli.report.render import records
    from losscli.report.summary import json_value, meta

    monkeypatch.setattr(json_text, "JOIN_RECORDS", records_at_a_time)
    frame = _hostile_groups()
    frame.loc[frame.g == "x", "ü\\b"] = np.nan  # no rows left in group x: no value, no rank (null)
    ev = run(
        source_from_dataframe(frame),
        ["mse", "huber:delta=0.5"],
        target="y",
        preds=('say "hi"\tend', "ü\\b"),
        nan="drop",
        options=options,
    )
    body = records(ev, "huber(delta=0.5)")
    assert any(r["rank"] is None for r in body) == bool(options.by and "g" in options.by)
    lines = "".join(json.dumps(r, allow_nan=False, default=json_value) + "\n" for r in body)
    assert render(ev, "jsonl", sort="huber(delta=0.5)") == lines
    assert render(ev, "json", sort="huber(delta=0.5)") == json.dumps(body, indent=2, allow_nan=False) + "\n"
    with_meta = {"meta": meta(ev) | {"gates": [g.record() for g in check_gates(ev)]}, "results": body}
    want = json.dumps(with_meta, indent=2, allow_nan=False, default=json_value) + "\n"
    assert render(ev, "json", sort="huber(delta=0.5)", with_meta=True) == want
    # Written as made: a piece per JOIN_RECORDS records, never the whole text at once.
    pieces = list(render_pieces(ev, "jsonl", sort="huber(delta=0.5)"))
    assert "".join(pieces) == lines
    assert len(pieces) >= len(body) // records_at_a_time


@pytest.mark.parametrize(
    "options",
    [
        Options(by=("g", "f")),
        Options(ci=0.9, bootstrap=40, seed=1, baseline="ü\\b", by=("f",)),
        Options(baseline="ü\\b"),
    ],
    ids=["by", "ci-baseline-by", "baseline"],
)
@pytest.mark.parametrize("rows_at_a_time", [5, 1 << 15])
def test_markdown_rows_are_the_tables_cells(
    options: Options, rows_at_a_time: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Markdown is built column-wise, some rows at a time; each line holds the terminal
    table's cells (the row-wise path), escaped for Markdown, in the same order."""
    from losscli.errors import printable
    from losscli.report.render import _human_rows

    monkeypatch.setattr("losscli.report.render.MARKDOWN_ROWS", rows_at_a_time)

    preds = ('say "hi"\tend', "ü\\b|x")
    frame = _hostile_groups().rename(columns={"ü\\b": "ü\\b|x"})
    frame.loc[frame.g == "x", "ü\\b|x"] = np.nan  # no rows left in group x: no value, no rank
    options = replace(options, baseline=options.baseline and "ü\\b|x")
    ev = run(source_from_dataframe(frame), ["mse", "mae"], target="y", preds=preds, nan="drop", options=options)
    rows = _human_rows(ev, summary(ev, "mae"), 4)
    want = ["| " + " | ".join(printable(t).replace("|", "\\|") for t, _ in cells) + " |" for _, cells in rows]
    assert render(ev, "markdown", sort="mae").splitlines()[2 : 2 + len(want)] == want
    assert any("| (missing) |" in line for line in want) == bool(options.by)
    # Written as made: a piece per MARKDOWN_ROWS lines (each group's models together).
    pieces = list(render_pieces(ev, "markdown", sort="mae"))
    assert "".join(pieces) == render(ev, "markdown", sort="mae")
    assert len(pieces) >= 2 + len(want) // max(rows_at_a_time, len(ev.models))


@pytest.mark.parametrize("fmt", ["json", "jsonl", "markdown"])
def test_an_error_in_a_streamed_format_writes_nothing(fmt: str) -> None:
    """JSON and Markdown are written as they are made: an unknown --sort must fail before
    their first bracket or line."""
    result = CliRunner().invoke(app, ["eval", "sample_data/house_prices.csv", "-l", "mse", "--sort", "nope", "-f", fmt])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "losscli: error: --sort: 'nope' is not one of the losses of this run (mse).\n"
