"""The HTML report: parsed with the standard library's HTML parser and checked against the
CSV of the same run, numpy, hostile names, and the rule that the page loads nothing."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import math
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from losscli.cli import app
from losscli.engines.local import run
from losscli.plots.collect import Distributions
from losscli.read.extract import Extractor
from losscli.read.formats import open_source
from losscli.read.plan import make_plan
from losscli.report import html as html_report
from losscli.request import Engine

from .build import request
from .conftest import SAMPLE

HOUSE = pd.read_csv(SAMPLE / "house_prices.csv")
CHURN = pd.read_csv(SAMPLE / "churn.csv")
IRIS = pd.read_csv(SAMPLE / "iris_probs.csv")


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


@dataclass
class Table:
    header: list[str] = field(default_factory=list)
    rows: list[list[tuple[str, dict[str, str | None]]]] = field(default_factory=list)


class Page(HTMLParser):
    """Every element with its attributes, the tables' cells, the text of headings."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[Table] = []
        self.headings: list[str] = []
        self.scripts: list[str] = []
        self.svg_text: list[str] = []
        self._cell: list[str] | None = None
        self._cell_attrs: dict[str, str | None] = {}
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._open.append(tag)
        if tag == "table":
            self.tables.append(Table())
        elif tag == "tr":
            if "thead" not in self._open:
                self.tables[-1].rows.append([])
        elif tag in ("td", "th"):
            self._cell, self._cell_attrs = [], dict(attrs)
        elif tag in ("h1", "h2", "h3", "script"):
            self.headings.append("") if tag != "script" else self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            if tag == "th":
                self.tables[-1].header.append(text)
            else:
                self.tables[-1].rows[-1].append((text, self._cell_attrs))
            self._cell = None
        while self._open:
            if self._open.pop() == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._open and self._open[-1] in ("h1", "h2", "h3"):
            self.headings[-1] += data
        if self._open and self._open[-1] == "script":
            self.scripts[-1] += data
        if "svg" in self._open and self._open[-1] == "text":
            self.svg_text.append(data)


def report(tmp_path: Path, *args: str, name: str = "report.html") -> tuple[str, Page, str]:
    out = tmp_path / name
    result = invoke("eval", *args, "-o", str(out))
    assert result.exit_code in (0, 1), result.output
    html = out.read_text(encoding="utf-8")
    return html, Page(html), result.stderr


def csv_rows(*args: str) -> list[dict[str, str]]:
    result = invoke("eval", *args, "-f", "csv", "-q")
    assert result.exit_code in (0, 1), result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


HOUSE_ARGS = (str(SAMPLE / "house_prices.csv"), "-l", "mse,mae,huber:delta=5", "--baseline", "linear", "--ci", "0.9")


def test_table_values_are_the_csv_of_the_same_run(tmp_path: Path) -> None:
    args = (*HOUSE_ARGS, "--by", "region", "--bootstrap", "200")
    _, page, _ = report(tmp_path, *args)
    expected = csv_rows(*args)
    tables = page.tables
    assert len(tables) == 1 + 4  # all rows, then east, north, south, west
    assert [h for h in page.headings if "=" in h] == [
        "region = east",
        "region = north",
        "region = south",
        "region = west",
    ]
    group_of_table = ["(all)", "east", "north", "south", "west"]
    labels = ["mse", "mae", "huber(delta=5)"]
    assert tables[0].header == ["model", "n", *(x for label in labels for x in (label, f"Δ {label}")), "rank"]
    seen = 0
    for table, group in zip(tables, group_of_table, strict=True):
        for cells in table.rows:
            by_header = dict(zip(table.header, cells, strict=True))
            model = by_header["model"][0]
            row = next(r for r in expected if r["model"] == model and r["region"] == group)
            assert by_header["n"][0] == row["n"]
            assert by_header["rank"][0] == row["rank"]
            for label in labels:
                text, attrs = by_header[label]
                assert attrs["data-value"] == row[label]  # full precision, as the CSV prints it
                low, high = float(row[f"{label}:ci_low"]), float(row[f"{label}:ci_high"])
                shown = [float(x) for x in re.findall(r"-?[\d.]+(?:e[-+]\d+)?", text)]
                assert shown[0] == pytest.approx(float(row[label]), rel=1e-3)
                assert shown[1:3] == pytest.approx([low, high], rel=1e-2)
                delta_text, delta_attrs = by_header[f"Δ {label}"]
                if model == "linear":
                    assert delta_text == "baseline"
                else:
                    assert delta_attrs["data-value"] == row[f"{label}:delta"]
                    assert row[f"{label}:verdict"] in delta_text
            seen += 1
    assert seen == len(expected)


def test_values_against_numpy_and_the_best_marked(tmp_path: Path) -> None:
    _, page, _ = report(tmp_path, str(SAMPLE / "house_prices.csv"), "-l", "mse,mae")
    table = page.tables[0]
    cells = {row[0][0]: dict(zip(table.header, row, strict=True)) for row in table.rows}
    for model in ("linear", "gbm", "knn"):
        r = HOUSE[model] - HOUSE.y
        assert float(cells[model]["mse"][1]["data-value"]) == pytest.approx(float((r**2).mean()), rel=1e-12)
        assert float(cells[model]["mae"][1]["data-value"]) == pytest.approx(float(r.abs().mean()), rel=1e-12)
    best = {
        (label, model) for model, row in cells.items() for label in ("mse", "mae") if "best" in row[label][1]["class"]
    }
    # gbm is last by MSE and first by MAE: the README's point, marked as such.
    assert best == {("mse", "knn"), ("mae", "gbm")}
    assert "★" in cells["knn"]["mse"][0]


def test_header_holds_the_run(tmp_path: Path) -> None:
    frame = HOUSE.assign(w=np.arange(len(HOUSE)) % 3)
    frame.to_csv(tmp_path / "weighted.csv", index=False)
    html, page, stderr = report(tmp_path, str(tmp_path / "weighted.csv"), "--weight", "w")
    assert "Loss report" in page.headings[0]
    text = re.sub(r"<[^>]+>", " ", html)
    facts = ("rows", "200", "regression", "target", "signature", "losscli:0.1.0|mse|", "weight:w", "whatever their w")
    for fact in facts:
        assert fact in text, fact
    # Every note printed on stderr is in the page too.
    for line in stderr.splitlines():
        if line.startswith("losscli: ") and not line.startswith("losscli: wrote"):
            assert line.removeprefix("losscli: ") in html.replace("&#39;", "'")


def test_gates_at_the_top(tmp_path: Path) -> None:
    out = tmp_path / "gates.html"
    result = invoke(
        "eval", *HOUSE_ARGS, "--fail-above", "mae=20", "--fail-above", "mse=5000", "--fail-if-worse", "-o", str(out)
    )
    assert result.exit_code == 1  # the gate still fails the run; the page is written first
    assert "FAIL linear: mae" in result.stderr
    page = Page(out.read_text())
    assert page.headings[1].startswith("Gates: FAIL, 1 of 3 rules breached")
    items = [
        attrs.get("class") for tag, attrs in page.elements if tag == "li" and attrs.get("class") in ("pass", "fail")
    ]
    assert items == ["fail", "pass", "pass"]
    _, passing, _ = report(tmp_path, *HOUSE_ARGS, "--fail-above", "mse=5000", name="pass.html")
    assert passing.headings[1] == "Gates: all 1 passed"
    _, none, _ = report(tmp_path, *HOUSE_ARGS, name="none.html")
    assert not any(h.startswith("Gates") for h in none.headings)


HOSTILE = "<script>alert(1)</script>"
IMG = "</table><img src=x onerror=alert(2)>"


def test_hostile_names_are_shown_not_run(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=60)
    frame = pd.DataFrame(
        {
            "y": y,
            HOSTILE: y + rng.normal(size=60),
            IMG: y + 0.5,
            "a&b\"'$x$": y - 0.2,
            "<b>grp</b>": np.repeat(["<i>one</i>", "two&amp;", '"q"\''], 20),
        }
    )
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    html, page, _ = report(tmp_path, str(path), "-l", "mse,mae", "--by", "<b>grp</b>", "--baseline", HOSTILE)
    tags = [tag for tag, _ in page.elements]
    assert tags.count("script") == 1  # losscli's own sorting script, nothing else
    assert "img" not in tags
    assert "i" not in tags
    assert "b" not in tags
    assert not any(k.startswith("on") for _, attrs in page.elements for k in attrs)
    models = {row[0][0] for row in page.tables[0].rows}
    assert models == {HOSTILE, IMG, "a&b\"'$x$"}
    assert {h for h in page.headings if h.startswith("<b>")} == {
        "<b>grp</b> = <i>one</i>",
        "<b>grp</b> = two&amp;",
        '<b>grp</b> = "q"\'',
    }
    # The figures show the names as text too (escaped by matplotlib, '$' not read as mathtext).
    pytest.importorskip("matplotlib")
    assert HOSTILE in page.svg_text
    assert "a&b\"'$x$" in page.svg_text
    assert HOSTILE not in html  # only ever escaped


def test_the_page_loads_nothing(tmp_path: Path) -> None:
    for args in (
        (*HOUSE_ARGS, "--by", "region"),
        (str(SAMPLE / "churn.csv"),),
        (str(SAMPLE / "iris_probs.csv"),),
    ):
        html, page, _ = report(tmp_path, *args)
        assert "http://" not in html
        assert "https://" not in html
        for tag, attrs in page.elements:
            for name in ("src", "href", "xlink:href", "action", "data", "poster", "srcset"):
                value = attrs.get(name)
                assert value is None or value.startswith("#"), (tag, name, value)
            assert "url(" not in (attrs.get("style") or "") or "url(#" in (attrs.get("style") or "")
            assert tag not in ("link", "iframe", "object", "embed", "img", "base")
        # The policy forbids every fetch, and allows exactly this script, by its hash.
        policy = next(a["content"] for t, a in page.elements if t == "meta" and a.get("http-equiv"))
        assert policy is not None
        assert "default-src 'none'" in policy
        digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
        assert f"script-src 'sha256-{digest}'" in policy
        assert len(html.encode()) < 1_000_000


def test_format_follows_the_suffix_and_the_option(tmp_path: Path) -> None:
    for name in ("r.html", "r.HTM"):
        result = invoke("eval", str(SAMPLE / "churn.csv"), "-o", str(tmp_path / name), "-q")
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_text().startswith("<!DOCTYPE html>")
    piped = invoke("eval", str(SAMPLE / "churn.csv"), "-f", "html", "-q")
    assert piped.exit_code == 0
    assert piped.stdout.startswith("<!DOCTYPE html>")
    assert piped.stdout.rstrip().endswith("</html>")
    per_row = invoke("eval", str(SAMPLE / "churn.csv"), "--per-row", "-f", "html")
    assert per_row.exit_code == 2
    assert "Traceback" not in per_row.output


def test_output_is_atomic_and_never_over_an_input(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("old")
    bad = invoke("eval", str(SAMPLE / "house_prices.csv"), "-l", "nope", "-o", str(out))
    assert bad.exit_code == 2
    assert out.read_text() == "old"  # a failed run leaves the old page
    good = invoke("eval", str(SAMPLE / "house_prices.csv"), "-o", str(out), "-q")
    assert good.exit_code == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary left
    page = tmp_path / "preds.html"
    page.write_text("y,a\n1,2\n")
    refused = invoke("eval", str(page), "--input-format", "csv", "-o", str(page))
    assert refused.exit_code == 2
    assert "is an input file" in refused.stderr


def test_without_matplotlib_the_page_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    html, page, stderr = report(tmp_path, str(SAMPLE / "house_prices.csv"))
    assert html_report.NO_MATPLOTLIB in stderr
    assert html_report.NO_MATPLOTLIB.replace("'", "&#39;") in html
    assert "svg" not in [tag for tag, _ in page.elements]
    assert len(page.tables) == 1


# --- the pictures' state, filled in the evaluation's own pass -----------------------------------


def _observed(path: Path, losses: list[str], chunk_rows: int | None = None) -> Distributions:
    ev = run(open_source(str(path)), request(losses, chunk_rows=chunk_rows), observer=html_report.observer)
    assert isinstance(ev.observed, Distributions)
    return ev.observed


def test_residual_histograms_equal_numpy_whatever_the_chunks() -> None:
    whole = _observed(SAMPLE / "house_prices.csv", ["mse"])
    chunked = _observed(SAMPLE / "house_prices.csv", ["mse"], chunk_rows=7)
    for model in ("linear", "gbm", "knn"):
        h = whole.histograms[model]
        r = (HOUSE[model] - HOUSE.y).to_numpy()
        inside = r[(r >= h.edges[0]) & (r <= h.edges[-1])]
        np.testing.assert_array_equal(h.counts, np.histogram(inside, bins=h.edges)[0])
        assert (h.below, h.above) == (int((r < h.edges[0]).sum()), int((r > h.edges[-1]).sum()))
        np.testing.assert_array_equal(chunked.histograms[model].counts, h.counts)


def test_calibration_equals_numpy_binning() -> None:
    observed = _observed(SAMPLE / "churn.csv", ["bce"])
    for model in ("logreg", "xgb", "prior"):
        p, y = CHURN[model].to_numpy(), CHURN.y.to_numpy()
        k = np.minimum(np.floor(p * 10).astype(int), 9)
        used = np.unique(k)
        mean_p, freq, n = observed.calibrations[model].table()
        np.testing.assert_allclose(mean_p, [p[k == b].mean() for b in used], rtol=1e-12)
        np.testing.assert_allclose(freq, [y[k == b].mean() for b in used], rtol=1e-12)
        np.testing.assert_array_equal(n, [(k == b).sum() for b in used])


def test_multiclass_calibration_is_top_label() -> None:
    observed = _observed(SAMPLE / "iris_probs.csv", ["cce"])
    classes = ["setosa", "versicolor", "virginica"]
    for model in ("logreg", "tree"):
        probs = IRIS[[f"{model}.{c}" for c in classes]].to_numpy()
        confidence = probs.max(axis=1)
        right = (np.array(classes)[probs.argmax(axis=1)] == IRIS.label.to_numpy()).astype(float)
        k = np.minimum(np.floor(confidence * 10).astype(int), 9)
        mean_p, freq, _ = observed.calibrations[model].table()
        np.testing.assert_allclose(mean_p, [confidence[k == b].mean() for b in np.unique(k)], rtol=1e-12)
        np.testing.assert_allclose(freq, [right[k == b].mean() for b in np.unique(k)], rtol=1e-12)


def test_scores_get_no_calibration_and_a_note(tmp_path: Path) -> None:
    assert _observed(SAMPLE / "churn.csv", ["bce_logits", "hinge"]).skipped
    frame = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.1, 0.8, 0.7, 0.3], "s": [-2.0, 3.0, 0.5, 0.2]})
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    # zero_one's threshold follows the kind of predictions: with two kinds it must be given (issue 12).
    observed = _observed(tmp_path / "mixed.csv", ["zero_one:threshold=0.5", "hinge"])
    assert observed.not_probabilities == {"s"}
    assert set(observed.calibrations) == {"p"}
    _, _, stderr = report(tmp_path, str(tmp_path / "mixed.csv"), "-l", "zero_one:threshold=0.5,hinge")
    assert "no calibration for s: predictions outside [0, 1] are not probabilities" in stderr


def test_distributions_merge_like_one_pass() -> None:
    source = open_source(str(SAMPLE / "house_prices.csv"))
    req = request(["mse"])
    plan = make_plan(source, req)
    halves = [html_report.observer(source, plan, req) for _ in range(2)]
    whole = html_report.observer(source, plan, req)
    extractor = Extractor(plan.layout, req.columns)
    for i, batch in enumerate(source.batches(plan.layout.columns, plan.layout.number_columns)):
        for start in range(0, batch.num_rows, 50):
            arrays = extractor.extract(batch.slice(start, 50), i)
            halves[(start // 50) % 2].update(arrays)
            whole.update(arrays)
    merged = halves[0].merge(halves[1])
    for model, h in whole.histograms.items():
        np.testing.assert_array_equal(merged.histograms[model].counts, h.counts)


def test_dask_engine_fills_the_same_pictures(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    from losscli.engines.dask import run_dask

    (tmp_path / "data").mkdir()
    for i, start in enumerate(range(0, len(HOUSE), 70)):
        HOUSE.drop(columns="region").iloc[start : start + 70].to_parquet(
            tmp_path / "data" / f"part-{i}.parquet", index=False
        )
    glob = str(tmp_path / "data" / "part-*.parquet")
    local = run(open_source(glob), request(["mse"]), observer=html_report.observer)
    on_dask = request(["mse"], paths=(glob,), engine=Engine("dask", workers=2))
    distributed = run_dask(on_dask, html_report.observer)
    assert isinstance(local.observed, Distributions)
    assert isinstance(distributed.observed, Distributions)
    for model, h in local.observed.histograms.items():
        np.testing.assert_array_equal(distributed.observed.histograms[model].counts, h.counts)
        assert distributed.observed.histograms[model].counts.sum() + h.below + h.above == len(HOUSE)


def test_group_bars_are_the_group_values(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    html, page, _ = report(tmp_path, str(SAMPLE / "house_prices.csv"), "-l", "mae", "--by", "region")
    assert "mae per region" in page.svg_text
    assert sum(1 for tag, _ in page.elements if tag == "svg") == 3  # curves, residuals, bars
    ids = [attrs["id"] for tag, attrs in page.elements if attrs.get("id")]
    assert len(ids) == len(set(ids))
    assert math.isfinite(float(page.tables[1].rows[0][2][1]["data-value"] or "nan"))
    assert len(html) < 1_000_000


MEMORY_SCRIPT = """
import resource, sys
import numpy as np, pyarrow as pa, pyarrow.csv as csv
rows, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
with csv.CSVWriter(path, pa.schema([(n, pa.float64()) for n in ("y", "a", "b", "c")])) as writer:
    for start in range(0, rows, 200_000):
        n = min(200_000, rows - start)
        y = rng.normal(size=n)
        writer.write_table(pa.table({"y": y, **{m: y + rng.standard_t(3, size=n) for m in "abc"}}))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from losscli.engines.local import run
from losscli.read.formats import open_source
from losscli.report import html as html_report
from losscli.request import Inputs, Request, losses_from
request = Request(Inputs((path,)), losses=losses_from(["mse", "mae", "huber"]))
ev = run(open_source(path), request, observer=html_report.observer)
page, _ = html_report.render_eval(ev)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, len(page))
"""


@pytest.mark.slow
def test_report_memory_and_size_do_not_grow_with_the_rows(tmp_path: Path) -> None:
    """The page of 1.2M rows needs no more memory, and is no larger, than the page of 300k."""
    import subprocess

    measured = []
    for rows in (300_000, 1_200_000):
        done = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(rows), str(tmp_path / f"m{rows}.csv")],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        grown, size = (int(x) for x in done.stdout.split())
        measured.append((grown / 1024, size))
    (small, small_size), (large, large_size) = measured
    assert large < small + 40, f"peak RSS grew from +{small:.0f} MiB to +{large:.0f} MiB"
    assert large_size < small_size * 1.05


def test_a_document_of_sections_for_other_commands() -> None:
    """What ``advise -o advice.html`` can call: sections of text, tables and pictures."""
    table = html_report.HtmlTable(
        ["model", "share"], [False, True], [[html_report.Cell(HOSTILE), html_report.Cell("0.95", sort="0.95")]]
    )
    sections = [
        html_report.Section(IMG, paragraphs=["a < b & c"], items=[HOSTILE], tables=[table]),
        html_report.Section("empty"),
    ]
    html = html_report.render_document(HOSTILE, sections, facts=[("task", IMG)], notes=["n & m"])
    page = Page(html)
    tags = [tag for tag, _ in page.elements]
    assert tags.count("script") == 1
    assert "img" not in tags
    assert page.headings[:3] == [HOSTILE, IMG, "empty"]
    assert page.tables[0].rows[0][0][0] == HOSTILE
    assert page.tables[0].rows[0][1][1]["data-value"] == "0.95"
    assert "http://" not in html


def test_curves_only_for_losses_of_the_residual_alone(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(1)
    y = rng.gamma(2.0, 2.0, size=200) + 0.1
    pd.DataFrame({"y": y, "a": y * rng.uniform(0.8, 1.2, size=200)}).to_csv(tmp_path / "pos.csv", index=False)
    _, page, stderr = report(tmp_path, str(tmp_path / "pos.csv"), "-l", "mse,poisson,huber,mape")
    assert "no loss curve for poisson, mape: it depends on y_true, not only on the residual" in stderr
    assert {"mse", "huber"} <= set(page.svg_text)
    assert "poisson" not in page.svg_text
