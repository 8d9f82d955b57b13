"""Defects a fresh user found in reading, row numbers and per-row output (each failed before its fix)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from losscli.cli import app

runner = CliRunner()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("cells", "kind"),
    [('[1,2]", "[3]', "lists"), ('{"k":1}", "{"k":2}', "objects")],
    ids=["list", "object"],
)
def test_by_on_a_json_lines_column_of_lists_or_objects_is_one_sentence(tmp_path: Path, cells: str, kind: str) -> None:
    first, second = cells.split('", "')
    path = write(tmp_path, "g.jsonl", f'{{"y":1,"a":2,"g":{first}}}\n{{"y":2,"a":2,"g":{second}}}\n')
    result = runner.invoke(app, ["eval", path, "-l", "mse", "--by", "g"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"losscli: error: {path}: --by g: column 'g' holds {kind}; --by needs one value per row "
        "(a string, number, date or bool)."
    )


NESTED = {
    "l": (pa.array([[1.0, 2.0], [3.0]]), "lists"),
    "ls": (pa.array([["x"], ["y"]]), "lists"),
    "s": (pa.array([{"k": 1}, {"k": 2}]), "objects"),
    "m": (pa.array([[("a", 1)], [("b", 2)]], pa.map_(pa.string(), pa.int64())), "objects"),
}


@pytest.mark.parametrize("col", sorted(NESTED))
def test_parquet_list_struct_and_map_columns_are_refused_in_one_value_roles(tmp_path: Path, col: str) -> None:
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"y": [1.0, 2.0], "a": [2.0, 2.0], col: NESTED[col][0]}), path)
    kind = NESTED[col][1]
    runs = {
        "--by": (["-p", "a", "--by", col], "one value per row (a string, number, date or bool)"),
        "--weight": (["-p", "a", "-w", col], "a number per row"),
    }
    if col != "l":  # a list of numbers is a model's class probabilities, or a one-hot target
        runs["--pred"] = (["-p", col], "a number or a list of numbers per row")
        runs["--target"] = (["-p", "a", "-t", col], "a number per row")
    for flag, (args, needs) in runs.items():
        target = [] if flag == "--target" else ["-t", "y"]
        result = runner.invoke(app, ["eval", str(path), "-l", "mse", *target, *args])
        assert result.exit_code == 2, flag
        assert f"{flag} {col}: column {col!r} holds {kind}; {flag} needs {needs}." in result.stderr, flag


def test_json_lines_pred_or_weight_of_objects_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "o.jsonl", '{"y":1,"a":2,"g":{"k":1}}\n{"y":2,"a":2,"g":{"k":2}}\n')
    for args, flag in ((["-p", "g"], "--pred"), (["-p", "a", "-w", "g"], "--weight")):
        result = runner.invoke(app, ["eval", path, "-l", "mse", "-t", "y", *args])
        assert result.exit_code == 2
        assert f"{flag} g: column 'g' holds objects" in result.stderr


def test_an_unused_json_lines_column_of_objects_does_not_stop_the_run(tmp_path: Path) -> None:
    path = write(tmp_path, "meta.jsonl", '{"y":1,"a":2,"meta":{"k":1}}\n{"y":2,"a":2,"meta":{"k":2}}\n')
    result = runner.invoke(app, ["eval", path, "-l", "mse", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1] == "a,2,0.5,1"  # ((1-2)^2 + (2-2)^2) / 2


def _jsonl_rows(good: int) -> str:
    return "".join(f'{{"y":{i},"a":2}}\n' for i in range(1, good + 1)) + '{"y":5,"a":"x"}\n'


@pytest.mark.parametrize("good", [4, 400_000], ids=["first-block", "past-a-4-MiB-block"])
def test_a_json_lines_parse_error_names_the_row_counted_from_1(tmp_path: Path, good: int) -> None:
    text = _jsonl_rows(good)
    path = write(tmp_path, "m.jsonl", text)
    expected = f"changed from number to string in row {good + 1})"  # the bad object is record good + 1
    for args, stdin in (([path], None), (["-"], text.encode())):
        result = runner.invoke(app, ["eval", *args, "-l", "mse"], input=stdin)
        assert result.exit_code == 2
        assert expected in result.stderr, result.stderr


def test_a_csv_line_with_too_many_fields_past_the_first_block_is_numbered_as_on_stdin(tmp_path: Path) -> None:
    text = "y,a\n" + "".join(f"{i},2\n" for i in range(1, 300_001)) + "5,7,8\n"
    path = write(tmp_path, "x.csv", text)
    for args, stdin in (([path], None), (["-"], text.encode())):
        result = runner.invoke(app, ["eval", *args, "-l", "mse"], input=stdin)
        assert result.exit_code == 2
        # 300,000 good data rows, then the bad one: data row 300,001 (the header is not counted).
        assert "not valid CSV (row 300001: Expected 2 columns, got 3: 5,7,8)" in result.stderr, result.stderr


def test_nan_error_names_the_earliest_missing_cell_over_every_column(tmp_path: Path) -> None:
    path = write(tmp_path, "n3.csv", "y,a,b\n1,1,\n1,,2\n")
    result = runner.invoke(app, ["eval", path, "-l", "mse"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"losscli: error: {path}: column 'b', row 1 is missing (empty or NaN) (and at least 1 more missing cell, "
        "in column 'a'); fill it, or pass --nan drop to leave such rows out."
    )


def test_nan_error_counts_the_missing_cells_of_every_column(tmp_path: Path) -> None:
    # a misses rows 51-150 (100 cells), b rows 101-130 (30 cells): a row 51 first, 129 others.
    lines = ["y,a,b"] + [f"1,{'' if 50 <= i < 150 else 1},{'' if 100 <= i < 130 else 1}" for i in range(300)]
    path = write(tmp_path, "n.csv", "\n".join(lines) + "\n")
    result = runner.invoke(app, ["eval", path, "-l", "mse"])
    assert result.exit_code == 2
    assert (
        "column 'a', row 51 is missing (empty or NaN) (and at least 129 more missing cells, in columns 'a', 'b')"
        in (result.stderr)
    )


def test_nan_error_at_one_row_names_the_target_then_the_weight_then_the_models(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "m,w,y\n1,,\n2,1,2\n")
    result = runner.invoke(app, ["eval", path, "-l", "mse", "-t", "y", "-w", "w"])
    assert "column 'y', row 1 is missing (empty or NaN) (and at least 1 more missing cell, in column 'w')" in (
        result.stderr
    )
    labels = write(tmp_path, "l.csv", "y,m.a,m.b\na,0.5,0.5\nb,,0.9\n,0.5,0.5\n")
    result = runner.invoke(app, ["eval", labels, "-l", "cce"])
    assert "column 'm.a', row 2 is missing (empty or NaN) (and at least 1 more missing cell, in column 'y')" in (
        result.stderr
    )


@pytest.mark.parametrize(("fmt", "sep"), [("csv", ","), ("tsv", "\t")])
def test_per_row_header_is_quoted_only_where_needed_as_the_summary_is(tmp_path: Path, fmt: str, sep: str) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"id": ["r1", "r2"], "y": [1.0, 2.0], "a": [2.0, 2.0], 'b"c': [1.0, 1.0]}), path)
    plain = runner.invoke(app, ["eval", str(path), "-p", "a", "-l", "mse", "--per-row", "-q", "-f", fmt])
    assert plain.exit_code == 0, plain.stderr
    assert plain.stdout.splitlines()[0] == f"id{sep}a:mse"
    quoted = runner.invoke(app, ["eval", str(path), "-l", "mse", "--per-row", "-q", "-f", fmt])
    assert quoted.stdout.splitlines()[0] == f'id{sep}a:mse{sep}"b""c:mse"'  # a quote inside: quoted, doubled
    if fmt == "csv":
        comma = tmp_path / "c.csv"
        comma.write_text('y,"a,b"\n1,2\n')
        result = runner.invoke(app, ["eval", str(comma), "-l", "mse", "--per-row", "-q", "-f", "csv"])
        assert result.stdout.splitlines()[0] == 'row,"a,b:mse"'


# Each id as the file holds it, then the text CSV writes for it: quoted only where CSV needs it.
IDS = {
    "a1": "a1",
    "007": "007",
    "x,y": '"x,y"',
    'q"t': '"q""t"',
    "two\nlines": '"two\nlines"',
    " lead": '" lead"',
    "trail ": '"trail "',
    "in side": "in side",
    "é": "é",
}


def test_per_row_ids_are_quoted_only_where_csv_needs_it(tmp_path: Path) -> None:
    import csv
    import io

    ids = list(IDS)
    y = [float(i) for i in range(len(ids))]
    m = [v + 0.5 * (i % 3) for i, v in enumerate(y)]
    with (tmp_path / "r.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([["id", "y", "m"], *zip(ids, y, m, strict=True)])
    result = runner.invoke(app, ["eval", str(tmp_path / "r.csv"), "-l", "mse", "--per-row", "-q"])
    assert result.exit_code == 0, result.stderr
    squared = [(a - b) ** 2 for a, b in zip(y, m, strict=True)]
    expected = "id,m:mse\n" + "".join(f"{IDS[i]},{s:g}\n" for i, s in zip(ids, squared, strict=True))
    assert result.stdout == expected
    back = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert [row[0] for row in back[1:]] == ids
    assert [float(row[1]) for row in back[1:]] == squared


def test_per_row_tsv_quotes_a_tab_not_a_comma_and_keeps_a_missing_id_apart_from_an_empty_one(tmp_path: Path) -> None:
    import csv
    import io

    ids = ["a1", "x,y", "t\tab", "", None, "007"]
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"id": ids, "y": [1.0] * 6, "m": [3.0] * 6}), path)
    tsv = runner.invoke(app, ["eval", str(path), "-l", "mae", "--per-row", "-q", "-f", "tsv"])
    assert tsv.exit_code == 0, tsv.stderr
    assert tsv.stdout == 'id\tm:mae\na1\t2\nx,y\t2\n"t\tab"\t2\n""\t2\n\t2\n007\t2\n'
    back = list(csv.reader(io.StringIO(tsv.stdout, newline=""), delimiter="\t"))
    assert [row[0] for row in back[1:]] == ["a1", "x,y", "t\tab", "", "", "007"]
    for kind in (pa.large_string(), pa.dictionary(pa.int32(), pa.string())):
        pq.write_table(pa.table({"id": pa.array(ids).cast(kind), "y": [1.0] * 6, "m": [3.0] * 6}), path)
        again = runner.invoke(app, ["eval", str(path), "-l", "mae", "--per-row", "-q", "-f", "tsv"])
        assert again.stdout == tsv.stdout, kind


def test_per_row_batches_with_and_without_a_cell_to_quote_are_written_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import losscli.read.parquet

    # Batches of three: no id to quote, some (and one missing), all but the missing one.
    monkeypatch.setattr(losscli.read.parquet, "PARQUET_BATCH_ROWS", 3)
    path = tmp_path / "r.parquet"
    ids = ["a1", "b2", "c3", "x,y", "d4", None, "e,5", " f6", None]
    pq.write_table(pa.table({"id": ids, "y": [1.0] * 9, "m": [float(v) for v in range(1, 10)]}), path)
    result = runner.invoke(app, ["eval", str(path), "-l", "mse", "--per-row", "-q"])
    squares = [f"{(m - 1) ** 2:g}" for m in range(1, 10)]
    written = ["a1", "b2", "c3", '"x,y"', "d4", "", '"e,5"', '" f6"', ""]
    assert result.stdout == "id,m:mse\n" + "".join(f"{i},{s}\n" for i, s in zip(written, squares, strict=True))


@pytest.mark.parametrize(("fmt", "sep"), [("csv", ","), ("tsv", "\t")])
def test_per_row_ids_of_every_kind_read_back_as_written(tmp_path: Path, fmt: str, sep: str) -> None:
    """Ids drawn from characters CSV cares about, many quoted in one batch (more runs than Arrow's
    writer is called for): each quoted exactly when the rule says, and read back by csv."""
    import csv
    import io
    import random

    draw = random.Random(7)
    alphabet = ["a", "7", " ", ",", '"', "\n", "\t", "é", "\r"]
    ids = [None if draw.random() < 0.05 else "".join(draw.choices(alphabet, k=draw.randint(0, 4))) for _ in range(400)]
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"id": ids, "y": [0.0] * 400, "m": [float(i % 9) for i in range(400)]}), path)
    result = runner.invoke(app, ["eval", str(path), "-l", "mae", "--per-row", "-q", "-f", fmt])
    assert result.exit_code == 0, result.stderr

    def cell(text: str | None) -> str:
        if text is None:
            return ""
        edge = text[:1].isspace() or text[-1:].isspace()
        needs = text == "" or edge or any(c in text for c in (sep, '"', "\r", "\n"))
        return '"' + text.replace('"', '""') + '"' if needs else text

    expected = f"id{sep}m:mae\n" + "".join(f"{cell(v)}{sep}{i % 9}\n" for i, v in enumerate(ids))
    written = result.stdout_bytes.decode()  # .stdout reads "\r\n" as "\n"
    assert written == expected
    back = list(csv.reader(io.StringIO(written, newline=""), delimiter=sep))
    assert [row[0] for row in back[1:]] == [v or "" for v in ids]
