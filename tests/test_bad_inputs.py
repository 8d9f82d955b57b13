"""Bad input of every kind: one sentence on stderr, exit 2, never a traceback, never a hang."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from losscli.cli import app


def invoke(*args: str, input: bytes | str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


# (file name, content, extra arguments, words the message must hold)
BAD = [
    ("empty.csv", b"", [], "is empty"),
    ("blank.csv", b"\n\n  \n", [], "is empty"),
    ("header.csv", b"y,a\n", [], "no data rows"),
    ("truncated.csv", b"y,a\n1,2\n3", [], "Expected 2 columns, got 1"),
    ("ragged.csv", b"y,a,b\n1,2,3\n4,5\n", [], "Expected 3 columns, got 2"),
    ("semicolons.csv", b"y;a\n1;2\n", ["--delimiter", ","], "looks semicolon-separated"),
    ("tabs.csv", b"y\ta\n1\t2\n", ["--delimiter", ","], "looks like TSV"),
    ("decimals.csv", b"y;a\n1,5;2,5\n2;3\n", [], "decimal comma; pass --decimal ,"),
    ("ok.csv", b"y;a\n1,5;2,5\n", ["--decimal", ",", "--delimiter", ","], "is also the delimiter"),
    ("ok.csv", b"y,a\n1,2\n", ["--delimiter", "::"], "--delimiter takes one character"),
    ("ok.parquet", b"PAR1", ["--delimiter", ";"], "--delimiter applies to CSV and TSV"),
    ("fields.csv", b"y;a\n1;2\n3;4;5\n", ["--delimiter", ";"], "if that is wrong, give --delimiter"),
    ("commas.tsv", b"y,a\n1,2\n", [], "looks like CSV"),
    ("garbage.csv", b"\x00\xff\xfe\x00binary", [], "binary data"),
    ("garbage.parquet", b"PAR1 not really", [], "not a readable Parquet"),
    ("garbage.feather", b"ARROW1\x00\x00junk", [], "not a readable Arrow"),
    ("garbage.jsonl", b'{"y": 1, "a": 2}\n{"y": oops}\n', [], "not valid JSON Lines"),
    ("garbage.csv.gz", b"not gzip at all", [], "cannot be read"),
    ("dupes.csv", b"y,a,a\n1,2,3\n", [], "appears more than once"),
    ("dupe-target.csv", b"y,y\ny,y", ["--model-col", "g"], "appears more than once"),
    ("noname.csv", b"y,,a\n1,2,3\n", [], "has no name"),
    ("bom.csv", b"\xef\xbb\xbfy,a\n1,2\n2,x\n", [], "column 'a', row 2 holds 'x'"),
    ("words.csv", b"y,a\n1,x\n", [], "no prediction columns besides the target 'y' (a holds no numbers)"),
    ("mixed.csv", b"y,a\n1,2\n2,three\n", [], "column 'a', row 2 holds 'three'"),
    ("text-target.csv", b"y,a\nlow,2\nhigh,3\n", ["-l", "mse"], "not a number"),
    ("nan-pred.csv", b"y,a\n1,NaN\n", [], "column 'a', row 1 is missing"),
    ("empty-cell.csv", b"y,a\n1,\n", [], "column 'a', row 1 is missing"),
    ("na-target.csv", b"y,a\nNA,1\n", [], "column 'y', row 1 is missing"),
    ("inf-pred.csv", b"y,a\n1,inf\n", [], "column 'a', row 1 is inf"),
    ("minus-inf.csv", b"y,a\n1,-Infinity\n", [], "is -inf"),
    ("huge.csv", b"y,a\n1,1e400\n", [], "is inf"),
    ("prob.csv", b"y,a\n1,1.2\n0,0.5\n", ["-l", "bce"], "needs probabilities between 0 and 1"),
    ("scores.csv", b"y,a\n1,3.2\n0,-1\n", ["-l", "brier"], "needs probabilities"),
    ("labels.csv", b"y,a\n1,0.5\n3,0.5\n", ["-l", "bce"], "binary losses need labels 0/1"),
    ("mixed-labels.csv", b"y,a\n0,0.5\n-1,0.5\n1,0.5\n", ["-l", "hinge"], "mixes the labels 0 and -1"),
    ("neg-weight.csv", b"y,a,w\n1,2,-1\n", ["-w", "w"], "negative weight"),
    ("zero-weight.csv", b"y,a,w\n1,2,0\n2,2,0\n", ["-w", "w"], "sum to zero"),
    ("unseen.csv", b"y,m.a,m.b\na,0.5,0.5\nz,0.5,0.5\n", ["-l", "cce"], "label 'z', which is not one of the classes"),
    ("class-index.csv", b"y,m.a,m.b\n0,0.5,0.5\n5,0.5,0.5\n", ["-l", "cce"], "not a class index 0..1"),
    ("row-sum.csv", b"y,m.a,m.b\na,0.5,0.9\n", ["-l", "cce"], "sum to 1.4, not 1"),
    ("poisson.csv", b"y,a\n-1,2\n", ["-l", "poisson"], "poisson needs targets >= 0"),
    ("no-preds.csv", b"y,region\n1,north\n", [], "no prediction columns"),
    ("no-target.csv", b"a,b\n1,2\n", [], "no target column found"),
    ("ok.csv", b"y,a\n1,2\n", ["-t", "nope"], "'nope', which is not there"),
    ("ok.csv", b"y,a\n1,2\n", ["-p", "zz*"], "matches no column"),
    ("roles.csv", b"y,a,b,g\n1,2,3,x\n", ["-p", "a,b", "-w", "b"], "column 'b' is given as both --weight and --pred"),
    ("roles.csv", b"y,a,b,g\n1,2,3,x\n", ["-p", "a", "-t", "a"], "column 'a' is given as both --target and --pred"),
    ("roles.csv", b"y,a,b,g\n1,2,3,x\n", ["-p", "a,y"], "column 'y' is the target column (found by its name)"),
    ("ok.csv", b"y,a\n1,2\n", ["-l", "mse,bce"], "do not share a task"),
    ("ok.csv", b"y,a\n1,2\n", ["-l", "mse:delta=2"], "has no parameter 'delta'"),
    ("ok.csv", b"y,a\n1,2\n", ["--nan", "ignore"], "--nan takes error, drop or drop-any"),
    ("ok.csv", b"y,a\n1,2\n", ["--join", "outer"], "--join takes strict or inner"),
    ("ok.csv", b"y,a\n1,2\n", ["--engine", "spark"], "--engine takes local or dask"),
    ("ok.csv", b"y,a\n1,2\n", ["--baseline", "b"], "is not a model"),
    ("ok.csv", b"y,a\n1,2\n", ["--input-format", "xlsx"], "unknown input format"),
    ("ok.xlsx", b"y,a\n1,2\n", [], "cannot tell the format"),
    ("ok.csv", b"y,a\n1,2\n", ["--by", "region"], "--by names the column 'region'"),
    ("ok.csv", b"y,a\n1,2\n", ["--truth", "missing.csv", "--id", "id"], "no such file"),
    ("ids.csv", b"id,y,a\n1,1,2\n1,2,2\n", ["--truth", "{dir}/ids.csv", "--id", "id"], "appear more than once"),
    ("ok.csv", b"y,a\n1,2\n", ["--positive", "1", "-l", "mse"], "--positive names the positive class"),
    ("ok.csv", b"y,a\n1,2\n", ["--fail-above", "mse"], "--fail-above takes LOSS=VALUE"),
    ("ok.csv", b"y,a\n1,2\n", ["-o", "/nonexistent/folder/r.csv"], "the folder /nonexistent/folder does not exist"),
    ("ok.csv", b"y,a\n1,2\n", ["-o", "{dir}"], "is a directory; name a file"),
    ("ok.csv", b"y,a,g\n1,2,x\n", ["--by", "y"], "--by 'y' is also the target"),
]


@pytest.mark.parametrize(("name", "content", "extra", "words"), BAD, ids=[f"{b[0]}-{b[3][:25]}" for b in BAD])
def test_bad_input_is_one_sentence_and_exit_2(
    tmp_path: Path, name: str, content: bytes, extra: list[str], words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    args = [a.replace("{dir}", str(tmp_path)) for a in extra]
    result = invoke("eval", str(path), *args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr, result.stderr
    assert result.stderr.startswith("losscli: error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_there_are_at_least_thirty_bad_inputs() -> None:
    assert len(BAD) >= 30


def test_bad_gzip_on_stdin() -> None:
    result = invoke("eval", "-", input=gzip.compress(b"y,a\n1,2\n2,x\n"))
    assert result.exit_code == 2
    assert "<stdin>: column 'a', row 2 holds 'x'" in result.stderr


def _outcome(result) -> None:
    """Either results (0) or one sentence (2); never a traceback."""
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        assert result.stderr.startswith("losscli: error: ")


csv_like = st.lists(
    st.lists(st.sampled_from(["y", "a", "1", "0", "0.5", "-2", "", "nan", "x", "1e308", '"q"', "inf"]), max_size=4),
    max_size=8,
).map(lambda rows: "\n".join(",".join(r) for r in rows).encode())


@given(data=st.one_of(st.binary(max_size=300), csv_like))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_bytes_as_a_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    _outcome(invoke("eval", str(path)))


@given(data=st.one_of(st.binary(max_size=300), csv_like))
@settings(max_examples=120, deadline=None)
def test_arbitrary_bytes_on_stdin(data: bytes) -> None:
    _outcome(invoke("eval", "-", input=data))


def test_arbitrary_bytes_in_a_real_process_never_hang() -> None:
    script = Path(sys.executable).parent / "losscli"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "losscli"]
    for data in (b"\x00" * 100, b"y,a\n" + b"1," * 1000, b"PAR1", b"\x1f\x8b\x08garbage", b"{" * 50):
        done = subprocess.run([*command, "eval", "-"], input=data, capture_output=True, timeout=30)
        assert done.returncode in (0, 2), done.stderr
        assert b"Traceback" not in done.stderr
