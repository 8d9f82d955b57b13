"""Many groups (--by) are finished, ranked and written column-wise: the numbers are those of a
pandas groupby written in the test, whatever the chunk size or the engine; the terminal table
shows the largest groups and says so, machine formats carry every group."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from html import unescape as html_unescape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import losscli
from losscli.cli import app
from losscli.engines.evaluation import BASELINE_COLUMNS, Evaluation
from losscli.errors import LossCliWarning
from losscli.read.formats import open_source
from losscli.report.render import TABLE_GROUPS, wide

from .build import Options, run

LOSSES = ["mse", "rmse", "mae"]


def _frame(rows: int = 6000, groups: int = 700, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=rows)
    a = y + rng.normal(0, 1.0, rows)
    df = pd.DataFrame(
        {
            "y": y,
            "a": a,
            "b": y + rng.normal(0, 2.0, rows),
            "c": a.copy(),  # ties a exactly in every group: they share a rank
            "w": rng.uniform(0.5, 2.0, rows),
            "g": rng.integers(0, groups, rows),
        }
    )
    df.loc[df.g == df.g.iloc[0], "b"] = np.nan  # b has no row in the first group: nan, ranked last
    return df


def _reference(df: pd.DataFrame) -> pd.DataFrame:
    """Weighted mse, rmse and mae per (group, model), with pandas: one row per (g, model)."""
    parts = []
    for model in ("a", "b", "c"):
        kept = df[df[model].notna()]
        r = kept[model] - kept.y
        frame = pd.DataFrame({"g": kept.g, "w": kept.w, "wse": kept.w * r * r, "wae": kept.w * r.abs()})
        sums = frame.groupby("g").agg(w=("w", "sum"), wse=("wse", "sum"), wae=("wae", "sum"), n=("w", "size"))
        out = pd.DataFrame(index=pd.Index(df.g.unique(), name="g"))
        out = out.join(sums)
        out["mse"] = out.wse / out.w
        out["rmse"] = np.sqrt(out.mse)
        out["mae"] = out.wae / out.w
        out["n"] = out.n.fillna(0).astype(int)
        parts.append(out.reset_index().assign(model=model))
    return pd.concat(parts, ignore_index=True)


def _check(ev: Evaluation, ref: pd.DataFrame) -> None:
    got = ev.to_pandas()
    got = (
        got[got.g != "(all)"]
        .astype({"g": "int64"})
        .pivot_table(index=["g", "model"], columns="loss", values="value", dropna=False)
    )
    want = ref.set_index(["g", "model"])
    for loss in LOSSES:
        np.testing.assert_allclose(got[loss].to_numpy(), want.loc[got.index, loss].to_numpy(), rtol=1e-12)
    ns = {(r.group[0], r.model): r.n for r in ev.results if r.group is not None and r.loss == "mse"}
    assert ns == {(g, m): n for g, m, n in zip(ref.g, ref.model, ref.n, strict=True)}


@pytest.mark.parametrize("chunk_rows", [None, 777])
def test_group_values_match_a_pandas_groupby(tmp_path: Path, chunk_rows: int | None) -> None:
    df = _frame()
    path = tmp_path / "p.parquet"
    df.to_parquet(path, index=False)
    ev = run(
        open_source(str(path)),
        LOSSES,
        options=Options(by=("g",)),
        chunk_rows=chunk_rows,
        target="y",
        preds=["a", "b", "c"],
        weight="w",
        nan="drop",
    )
    assert len(ev.groups) == 1 + df.g.nunique()
    assert ev.groups[1:] == [(g,) for g in df.g.unique()]  # first-seen order
    _check(ev, _reference(df))


@pytest.mark.slow
def test_group_values_match_on_the_dask_engine(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    from .build import run_dask

    df = _frame()
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(3):
        df.iloc[i * 2000 : (i + 1) * 2000].to_parquet(folder / f"part-{i}.parquet", index=False)
    ev = run_dask(
        str(folder / "part-*.parquet"),
        LOSSES,
        workers=2,
        options=Options(by=("g",)),
        target="y",
        preds=["a", "b", "c"],
        weight="w",
        nan="drop",
    )
    _check(ev, _reference(df))


def test_ranks_and_order_match_pandas_rank(tmp_path: Path) -> None:
    """Within each group: min ranks (ties share, NaN last and equal), rows in rank order."""
    df = _frame(rows=3000, groups=300)
    path = tmp_path / "p.csv"
    df.to_csv(path, index=False)
    header, rows = wide(
        run(
            open_source(str(path)),
            LOSSES,
            options=Options(by=("g",)),
            target="y",
            preds=["a", "b", "c"],
            weight="w",
            nan="drop",
        ),
        sort="mae",
    )
    table = pd.DataFrame(rows, columns=header)
    table = table[table.g != "(all)"]
    assert len(table) == 3 * df.g.nunique()  # every group, every model
    for _, group in table.groupby("g", sort=False):
        # A model without a value (NaN) has no rank (None), and is listed last.
        expected = group.mae.rank(method="min", na_option="keep")
        shown = group["rank"].astype(float)
        assert shown.fillna(-1).tolist() == expected.fillna(-1).tolist()
        assert shown.dropna().is_monotonic_increasing
        assert not shown.isna().any() or shown.isna().tolist()[-1]
    first = table[table.g == str(df.g.iloc[0])]
    assert first.model.tolist()[-1] == "b"
    assert math.isnan(first.mae.tolist()[-1])


def test_one_group_per_row(tmp_path: Path) -> None:
    """--by id: every row its own group; each value is that row's loss."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": np.arange(20_000), "y": rng.normal(size=20_000), "a": rng.normal(size=20_000)})
    path = tmp_path / "p.parquet"
    df.to_parquet(path, index=False)
    done = CliRunner().invoke(app, ["eval", str(path), "-t", "y", "-p", "a", "-l", "mse", "--by", "id", "-f", "csv"])
    assert done.exit_code == 0, done.output
    out = pd.read_csv(io.StringIO(done.stdout))
    out = out[out["id"] != "(all)"]
    assert len(out) == len(df)
    want = ((df.a - df.y) ** 2).to_numpy()
    np.testing.assert_allclose(out.mse.to_numpy(), want[out["id"].astype(int).to_numpy()], rtol=1e-12)


def test_table_shows_the_largest_groups_and_says_so(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    groups = rng.choice(np.arange(60), size=5000, p=np.arange(1, 61) / np.arange(1, 61).sum())
    y = rng.normal(size=5000)
    df = pd.DataFrame({"y": y, "a": y + rng.normal(size=5000), "b": y + rng.normal(size=5000), "g": groups})
    path = tmp_path / "p.csv"
    df.to_csv(path, index=False)
    args = ["eval", str(path), "-t", "y", "-l", "mse", "--by", "g"]
    table = CliRunner().invoke(app, [*args, "-f", "table"])
    assert table.exit_code == 0, table.output
    total = df.g.nunique()
    assert f"showing the {TABLE_GROUPS} largest of {total} groups" in table.stdout
    assert "--min-group-n" in table.stdout
    assert "--format csv" in table.stdout
    counts = df.g.value_counts(sort=False)
    # The largest groups by rows, most rows first (ties in first-seen order).
    order = pd.Series(counts.values, index=counts.index).reindex(df.g.unique())
    largest = order.sort_values(ascending=False, kind="stable").index[:TABLE_GROUPS].tolist()
    cells = [line.split("│")[1].strip() for line in table.stdout.splitlines() if "│ a " in line]
    assert cells[0] == "(all)"
    assert [int(c) for c in cells[1:]] == largest
    machine = CliRunner().invoke(app, [*args, "-f", "csv"])
    rows = list(csv.DictReader(io.StringIO(machine.stdout)))
    assert len({r["g"] for r in rows}) == total + 1  # every group and (all)
    for least in (100, 130):
        kept = int((counts >= least).sum())
        few = CliRunner().invoke(app, [*args, "-f", "table", "--min-group-n", str(least)])
        said = f"showing the {TABLE_GROUPS} largest of {kept} groups"
        assert (said in few.stdout) == (kept > TABLE_GROUPS), (kept, few.stdout[-300:])


def test_html_shows_the_largest_groups_and_says_so(tmp_path: Path) -> None:
    """The page is for people, as the table: the overall rows and the 20 largest groups."""
    rng = np.random.default_rng(4)
    groups = rng.choice(np.arange(45), size=3000, p=np.arange(1, 46) / np.arange(1, 46).sum())
    y = rng.normal(size=3000)
    df = pd.DataFrame({"y": y, "a": y + rng.normal(size=3000), "g": groups})
    path, page = tmp_path / "p.csv", tmp_path / "r.html"
    df.to_csv(path, index=False)
    done = CliRunner().invoke(app, ["eval", str(path), "-t", "y", "-l", "mse", "--by", "g", "-o", str(page), "-q"])
    assert done.exit_code == 0, done.output
    html = page.read_text()
    assert f"showing the {TABLE_GROUPS} largest of {df.g.nunique()} groups" in html
    counts = df.g.value_counts(sort=False).reindex(df.g.unique())
    largest = counts.sort_values(ascending=False, kind="stable").index[:TABLE_GROUPS].tolist()
    titles = [int(t) for t in re.findall(r"<h3>g = (\d+)</h3>", html)]
    assert titles == largest


def test_group_names_that_need_quoting_are_quoted(tmp_path: Path) -> None:
    """A group value holding the delimiter, a quote or a newline is quoted as the csv module does."""
    names = ["plain", "a,b", 'say "hi"', "two\nlines", "tab\there"]
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"y": rng.normal(size=50), "a": rng.normal(size=50), "g": [names[i % 5] for i in range(50)]})
    path = tmp_path / "p.parquet"
    df.to_parquet(path, index=False)
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        done = CliRunner().invoke(app, ["eval", str(path), "-t", "y", "-l", "mse", "--by", "g", "-f", fmt])
        assert done.exit_code == 0, done.output
        rows = list(csv.DictReader(io.StringIO(done.stdout), delimiter=delimiter))
        assert [r["g"] for r in rows] == ["(all)", *names]
        for r in rows[1:]:
            kept = df[df.g == r["g"]]
            assert float(r["mse"]) == pytest.approx(((kept.a - kept.y) ** 2).mean(), rel=1e-12)


@pytest.mark.parametrize("column", ["model", "n", "rank", "mse", "value", "loss"])
def test_a_group_column_named_like_a_result_column_is_refused(tmp_path: Path, column: str) -> None:
    # The CSV header would hold the name twice (model,model,n,...), and which is which is lost.
    path = tmp_path / "g.csv"
    path.write_text(f"{column},y,a\nu,1,2\nx,1,3\n")
    done = CliRunner().invoke(app, ["eval", str(path), "--by", column, "-l", "mse", "-f", "csv"])
    assert done.exit_code == 2
    assert f"--by {column}: the results have a column {column!r} of their own" in done.output
    with pytest.raises(ValueError, match="of their own"):
        losscli.evaluate(str(path), by=[column], losses=["mse"])


def test_the_same_group_column_twice_is_refused(tmp_path: Path) -> None:
    # The results would have two keys for one column; said, never merged silently.
    path = tmp_path / "g.csv"
    path.write_text("g,y,a\nu,1,2\nx,1,3\n")
    done = CliRunner().invoke(app, ["eval", str(path), "--by", "g", "--by", "g", "-l", "mse", "-f", "csv"])
    assert done.exit_code == 2
    assert done.stderr == "losscli: error: --by names the column 'g' twice; give it once.\n"
    with pytest.raises(ValueError, match="names the column 'g' twice"):
        losscli.evaluate(str(path), by=["g", "g"], losses=["mse"])


def test_a_group_value_that_names_the_overall_rows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("g,y,a\n(all),1,2\nx,1,3\n")
    done = CliRunner().invoke(app, ["eval", str(path), "--by", "g", "-l", "mse", "-f", "csv"])
    assert done.exit_code == 2
    assert "column 'g' holds the value '(all)', which names the overall rows" in done.output


def test_group_values_that_are_one_number_written_differently_are_said(tmp_path: Path) -> None:
    # CSV group values are text, as written ('07030' is not the zip code '7030'), so '7', '07' and
    # '7.0' are three groups, where a Parquet number column has one: a note says so.
    path = tmp_path / "g.csv"
    path.write_text("g,y,a\n7,1,2\n07,1,3\n7.0,2,2\nx,1,1\n")
    done = CliRunner().invoke(app, ["eval", str(path), "--by", "g", "-l", "mse", "-f", "csv"])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["g"] for r in rows] == ["(all)", "7", "07", "7.0", "x"]
    assert "--by g: '7' and '07' are the same number written differently" in done.stderr
    plain = CliRunner().invoke(app, ["eval", str(path), "--by", "y", "-l", "mse", "-f", "csv"])
    assert "written differently" not in plain.stderr


def test_the_meta_says_how_many_groups_min_group_n_left_out(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    sizes = {"a": 5, "b": 3, "c": 1}
    path.write_text("g,y,p\n" + "".join(f"{g},1,{i}\n" for g, n in sizes.items() for i in range(n)))
    args = ["eval", str(path), "--by", "g", "-l", "mse", "-f", "json", "--meta", "-q", "--min-group-n", "3"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    meta = json.loads(done.stdout)["meta"]
    assert meta["groups"] == {"shown": 2, "hidden": 1, "min_group_n": 3}


def test_a_group_whose_weights_sum_to_zero_is_said(tmp_path: Path) -> None:
    path = tmp_path / "zw.csv"
    path.write_text("g,w,y,a\nz,0,1,2\nz,0,1,3\nx,1,1,1\nx,2,2,2\n")
    done = CliRunner().invoke(app, ["eval", str(path), "-l", "mse", "-w", "w", "--by", "g", "-f", "csv"])
    assert done.exit_code == 0, done.output
    rows = {r["g"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    assert math.isnan(float(rows["z"]["mse"]))
    assert "the weights (column 'w') of group(s) z sum to zero, so their values are nan" in done.stderr


def test_a_group_where_the_baseline_has_no_rows_ranks_by_value(tmp_path: Path) -> None:
    # Ranks against a baseline follow the paired delta; where the baseline has no rows there is
    # none, and the NaN baseline was ranked first with the others tied.
    path = tmp_path / "allnan.csv"
    path.write_text("g,y,a,b,c\nG1,1,1.5,2,3\nG1,2,2.5,3,1\nG2,1,,3,4\nG2,2,,1,5\n")
    args = ["eval", str(path), "-p", "a,b,c", "-l", "mse", "--by", "g", "--nan", "drop", "--baseline", "a"]
    done = CliRunner().invoke(app, [*args, "-f", "csv", "-q"])
    assert done.exit_code == 0, done.output
    ranks = {r["model"]: r["rank"] for r in csv.DictReader(io.StringIO(done.stdout)) if r["g"] == "G2"}
    mse = {"b": np.mean([(3 - 1) ** 2, (1 - 2) ** 2]), "c": np.mean([(4 - 1) ** 2, (5 - 2) ** 2])}
    assert mse["b"] < mse["c"]
    assert ranks == {"b": "1", "c": "2", "a": ""}  # a has no value there: no rank


def test_a_margin_gate_where_the_baseline_has_no_rows_fails_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "allnan.csv"
    path.write_text("g,y,a,b\nG1,1,1.5,1.5\nG1,2,2.5,2.5\nG2,1,,3\nG2,2,,1\n")
    args = ["eval", str(path), "-p", "a,b", "-l", "mse", "--by", "g", "--nan", "drop", "--baseline", "a"]
    done = CliRunner().invoke(app, [*args, "--fail-if-worse-by", "mse=10", "-f", "csv", "-q"])
    assert done.exit_code == 1
    assert "FAIL b [g=G2]: mse cannot be compared with a's: a has no value here" in done.stderr
    assert "[g=G1]" not in done.stderr  # equal there: passes


def test_the_refused_group_names_cover_every_field_of_the_results(tmp_path: Path) -> None:
    # read/plan.py cannot import core (stage order), so it lists the result fields itself: this
    # keeps that list from drifting from the fields results and records really have.
    from losscli.core.finish import EXTRA_FIELDS
    from losscli.read.plan import RESULT_COLUMNS

    assert set(EXTRA_FIELDS) <= set(RESULT_COLUMNS)
    path = tmp_path / "g.csv"
    path.write_text("g,y,a,b\nu,1,2,3\nu,2,2,2\nx,1,3,1\nx,2,1,2\n")
    args = ["eval", str(path), "--by", "g", "-l", "mse", "--baseline", "a", "--ci", "0.9", "-f", "json", "-q"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert set(json.loads(done.stdout)[0]) <= set(RESULT_COLUMNS)
    frame = losscli.evaluate(str(path), ["mse"], by=["g"], baseline="a", ci=0.9)
    assert set(frame.columns) - {"g"} <= set(RESULT_COLUMNS)


@pytest.mark.parametrize("chunk_rows", [None, 1, 3, 7])
def test_nan_signed_zeros_and_missing_are_one_group_each_whatever_the_chunks(
    tmp_path: Path, chunk_rows: int | None
) -> None:
    """In a number column every NaN is one group, 0.0 and -0.0 are one (named as first seen),
    a missing value is one apart: the same groups and counts however the rows are cut."""
    nan = math.nan
    g = [-0.0, 1.0, 0.0, None, nan, 0.0, nan, 2.0, None, nan] * 3
    y = np.arange(30.0)
    path = tmp_path / "g.parquet"
    pq.write_table(pa.table({"y": y, "m": y + 1, "g": pa.array(g, type=pa.float64())}), path)  # NaN and null apart
    ev = run(
        open_source(str(path)), ["mse"], options=Options(by=("g",)), chunk_rows=chunk_rows, target="y", preds=["m"]
    )
    groups = [g[0] for g in ev.groups[1:]]
    assert len(groups) == 5
    assert math.copysign(1.0, groups[0]) == -1.0  # -0.0 came first
    assert [groups[0], groups[1], groups[2], groups[4]] == [0.0, 1.0, None, 2.0]
    assert math.isnan(groups[3])
    ns = [r.n for r in ev.results if r.group is not None]
    assert ns == [9, 3, 6, 9, 3]


def test_a_baseline_without_rows_in_a_group_has_no_delta_and_no_rank(tmp_path: Path) -> None:
    # --nan drop leaves model a no row in group z: it has no value, so no difference (not 0)
    # and no rank, in every output.
    rng = np.random.default_rng(7)
    y = rng.normal(size=30)
    g = np.array(["x", "y", "z"])[np.arange(30) % 3]
    frame = pd.DataFrame({"y": y, "a": np.where(g == "z", np.nan, y + 1.0), "b": y + 0.5, "g": g})
    path = tmp_path / "nan.csv"
    frame.to_csv(path, index=False)
    args = ["eval", str(path), "-l", "mse", "--baseline", "a", "--by", "g", "--nan", "drop", "-q"]
    done = CliRunner().invoke(app, [*args, "--ci", "0.9", "--bootstrap", "100", "-f", "csv"])
    assert done.exit_code == 0, done.output
    rows = {(r["g"], r["model"]): r for r in csv.DictReader(io.StringIO(done.stdout))}
    a, b = rows[("z", "a")], rows[("z", "b")]
    assert (a["n"], a["rank"], a["mse:verdict"]) == ("0", "", "baseline")
    for field in ("delta", "delta_rel", "delta_ci_low", "delta_ci_high", "p_value"):
        assert a[f"mse:{field}"] in ("", "nan"), field
        assert b[f"mse:{field}"] in ("", "nan"), field
    assert (b["rank"], float(b["mse"])) == ("1", pytest.approx(0.25, rel=1e-12))  # b - y = 0.5
    assert rows[("x", "a")]["mse:delta"] == "0.0"  # where the baseline has rows, its delta is 0
    records = json.loads(CliRunner().invoke(app, [*args, "--ci", "0.9", "-f", "json"]).stdout)
    a_z = next(r for r in records if r["model"] == "a" and r["group"] == {"g": "z"})
    assert [a_z[f] for f in ("rank", "delta", "delta_ci_low", "delta_ci_high", "p_value")] == [None] * 5
    table = CliRunner().invoke(app, [*args, "-f", "markdown"]).stdout
    line = next(line for line in table.splitlines() if "| z " in line and "| a " in line)
    assert line.strip().strip("|").split("|")[-1].strip() == ""  # the rank cell
    with pytest.warns(LossCliWarning, match="different rows"):
        api = losscli.evaluate(str(path), ["mse"], baseline="a", by="g", nan="drop")
    assert api.loc[(api.g == "z") & (api.model == "a"), ["delta", "p_value"]].isna().all(axis=None)


def _alike(tmp_path: Path) -> Path:
    """The fresh user's file: a number group column with 1.5, NaN and missing, a text one
    with "x", "" and missing, each on every third row; p = y + noise."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=300)
    f = pa.array([[1.5, float("nan"), None][i % 3] for i in range(300)], pa.float64())
    s = pa.array([["x", "", None][i % 3] for i in range(300)])
    path = tmp_path / "nn.parquet"
    pq.write_table(pa.table({"y": y, "p": y + rng.normal(size=300), "f": f, "s": s}), path)
    return path


def _mse_by_third(path: Path) -> list[float]:
    """The mse of rows 0, 3, 6...; 1, 4, 7...; 2, 5, 8... (the three groups), with NumPy."""
    t = pq.read_table(path)
    r = t["p"].to_numpy() - t["y"].to_numpy()
    return [float(np.mean(r[k::3] ** 2)) for k in range(3)]


def test_an_empty_string_and_a_missing_value_read_apart(tmp_path: Path) -> None:
    path = _alike(tmp_path)
    x, empty, missing = _mse_by_third(path)
    args = ["eval", str(path), "-p", "p", "-l", "mse", "--by", "s"]
    csv_run = CliRunner().invoke(app, [*args, "-f", "csv"])
    assert csv_run.exit_code == 0, csv_run.output
    lines = csv_run.stdout.splitlines()
    cells = [line.split(",") for line in lines[2:]]
    assert [c[:3] for c in cells] == [["x", "p", "100"], ["", "p", "100"], ["", "p", "100"]]
    assert [float(c[3]) for c in cells] == pytest.approx([x, empty, missing], rel=1e-12)
    said = (
        "--by s: the empty string and missing values are different groups that CSV writes alike: an empty cell; "
        '-f json tells them apart ("" and null)'
    )
    assert said in csv_run.stderr
    tsv = CliRunner().invoke(app, [*args, "-f", "tsv"])
    assert said.replace("CSV", "TSV") in tsv.stderr
    markdown = CliRunner().invoke(app, [*args, "-f", "markdown", "-q"]).stdout.splitlines()
    assert markdown[3:] == [
        "| x | p | 100 | 0.8279 | 1 |",
        '| "" | p | 100 | 0.9910 | 1 |',
        "| (missing) | p | 100 | 1.043 | 1 |",
    ]
    assert [x, empty, missing] == pytest.approx([0.8278635255845592, 0.9910414838245488, 1.0434902449192351], rel=1e-12)
    table = CliRunner().invoke(app, [*args, "-f", "table", "-q"]).stdout
    assert [line.split("│")[1].strip() for line in table.splitlines() if "│ p " in line] == [
        "(all)",
        "x",
        '""',
        "(missing)",
    ]
    page = tmp_path / "r.html"
    assert CliRunner().invoke(app, [*args, "-o", str(page), "-q"]).exit_code == 0
    assert re.findall(r"<h3>(s = .*?)</h3>", page.read_text()) == ["s = x", "s = &#34;&#34;", "s = (missing)"]
    for fmt in ("json", "jsonl", "table", "markdown"):  # these tell them apart: no note
        assert "writes alike" not in CliRunner().invoke(app, [*args, "-f", fmt]).stderr


def test_nan_and_a_missing_value_read_apart(tmp_path: Path) -> None:
    path = _alike(tmp_path)
    args = ["eval", str(path), "-p", "p", "-l", "mse", "--by", "f"]
    jsonl = CliRunner().invoke(app, [*args, "-f", "jsonl"])
    assert jsonl.exit_code == 0, jsonl.output
    groups = [json.loads(line)["group"] for line in jsonl.stdout.splitlines()]
    assert groups == [None, {"f": 1.5}, {"f": None}, {"f": None}]
    said = (
        "--by f: NaN and missing values are different groups that JSONL writes alike: null; "
        "-f csv tells them apart (an empty cell for a missing value)"
    )
    assert said in jsonl.stderr
    assert said.replace("JSONL", "JSON") in CliRunner().invoke(app, [*args, "-f", "json"]).stderr
    csv_run = CliRunner().invoke(app, [*args, "-f", "csv"])
    assert [line.split(",")[0] for line in csv_run.stdout.splitlines()] == ["f", "(all)", "1.5", "nan", ""]
    assert "writes alike" not in csv_run.stderr
    table = CliRunner().invoke(app, [*args, "-f", "table", "-q"]).stdout
    assert [line.split("│")[1].strip() for line in table.splitlines() if "│ p " in line] == [
        "(all)",
        "1.5",
        "NaN",
        "(missing)",
    ]


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_the_frame_tells_the_overall_rows_nan_and_missing_apart(tmp_path: Path, engine: str) -> None:
    path = _alike(tmp_path)
    x, nan, missing = _mse_by_third(path)
    frame = losscli.evaluate(str(path), "mse", preds="p", by="f", engine=engine)
    assert frame.f.tolist()[0] == "(all)"
    assert frame.f.tolist()[1] == 1.5
    assert math.isnan(frame.f.tolist()[2])
    assert frame.f.tolist()[3] is None
    assert frame.value.tolist()[1:] == pytest.approx([x, nan, missing], rel=1e-12)
    assert frame.f.isna().tolist() == [False, False, True, True]
    assert any("NaN and missing values are different groups" in n for n in frame.attrs["notes"])
    by_text = losscli.evaluate(str(path), "mse", preds="p", by="s", engine=engine)
    assert by_text.s.isna().tolist() == [False, False, False, True]  # only the missing group
    assert by_text.s.tolist()[:3] == ["(all)", "x", ""]


@pytest.mark.parametrize(
    "stats",
    [{}, {"ci": 0.9, "bootstrap": 200, "seed": 2, "baseline": "a"}, {"ci": 0.9, "ci_method": "t", "baseline": "b"}],
    ids=["plain", "bootstrap-baseline", "t-baseline"],
)
def test_the_frame_is_one_row_per_result(tmp_path: Path, stats: dict[str, Any]) -> None:
    """evaluate()'s frame, built column-wise: the rows are ev.results in order, each field as
    the Result holds it (the overall rows "(all)")."""
    df = _frame(rows=900, groups=40)
    df.loc[df.index % 7 == 0, "g"] = None
    df["g"] = df.g.astype("Int64")
    path = tmp_path / "p.parquet"
    df.to_parquet(path, index=False)
    frame = losscli.evaluate(str(path), ["mse", "mae"], preds=["a", "b"], weight="w", by="g", nan="drop-any", **stats)
    ev = run(
        open_source(str(path)),
        ["mse", "mae"],
        target="y",
        preds=["a", "b"],
        weight="w",
        nan="drop-any",
        options=Options(by=("g",), **stats),
    )
    fields = [f for f in ("ci_low", "ci_high", *BASELINE_COLUMNS) if f in frame.columns]
    want = pd.DataFrame(
        [
            {
                "model": r.model,
                "loss": r.loss,
                "value": r.value,
                "n": r.n,
                "g": "(all)" if r.group is None else r.group[0],
            }
            | {f: getattr(r, f) for f in fields}
            for r in ev.results
        ]
    )
    assert list(frame.columns) == ["model", "loss", "value", "n", "g", *fields]
    pd.testing.assert_frame_equal(frame, want)
    assert frame.g.isna().sum() == 2 * 2  # the missing group: 2 models x 2 losses


def test_a_text_that_reads_as_missing_is_said(tmp_path: Path) -> None:
    """The text "(missing)" beside a missing value, '""' beside the empty string: the formats
    for people write each pair alike, and say so (the HTML page too); CSV needs no such note."""
    y = np.arange(40, dtype=np.float64)
    values = ["(missing)", None, '""', ""]
    path = tmp_path / "hm.parquet"
    pd.DataFrame({"y": y, "p": y + 1, "s": [values[i % 4] for i in range(40)]}).to_parquet(path)
    args = ["eval", str(path), "-p", "p", "-l", "mse", "--by", "s"]
    missing = "--by s: missing values and the text (missing) are different groups that {} writes alike: (missing)"
    empty = '--by s: the empty string and the text "" are different groups that {} writes alike: ""'
    for fmt, where in (("table", "the table"), ("markdown", "Markdown")):
        said = CliRunner().invoke(app, [*args, "-f", fmt]).stderr
        assert missing.format(where) in said
        assert empty.format(where) in said
    page = tmp_path / "r.html"
    assert CliRunner().invoke(app, [*args, "-o", str(page)]).exit_code == 0
    assert missing.format("the HTML report") in html_unescape(page.read_text())
    csv_said = CliRunner().invoke(app, [*args, "-f", "csv"]).stderr
    assert "the text" not in csv_said
    assert "the empty string and missing values are different groups that CSV writes alike" in csv_said
