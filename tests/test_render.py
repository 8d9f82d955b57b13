from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from losscli.evaluation import run
from losscli.io import source_from_dataframe
from losscli.render import format_number, render

# Hand-checked: a = [1, 2] vs y = [0, 0] -> mse 2.5, mae 1.5; b = [1, 1] -> mse 1, mae 1.
FRAME = pd.DataFrame({"y": [0.0, 0.0], "a": [1.0, 2.0], "b": [1.0, 1.0]})


@pytest.fixture
def evaluation():
    return run(source_from_dataframe(FRAME), ["mse", "mae"])


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


def test_csv_is_full_precision_and_sorted(evaluation) -> None:
    assert render(evaluation, "csv") == "model,n,mse,mae\nb,2,1.0,1.0\na,2,2.5,1.5\n"


def test_tsv(evaluation) -> None:
    rows = list(csv.reader(io.StringIO(render(evaluation, "tsv")), delimiter="\t"))
    assert rows == [["model", "n", "mse", "mae"], ["b", "2", "1.0", "1.0"], ["a", "2", "2.5", "1.5"]]


def test_markdown(evaluation) -> None:
    assert render(evaluation, "markdown") == (
        "| model | n | mse | mae |\n|---|---:|---:|---:|\n| b | 2 | 1.000 | 1.000 |\n| a | 2 | 2.500 | 1.500 |\n"
    )


def test_json_records(evaluation) -> None:
    records = json.loads(render(evaluation, "json"))
    assert records[0] == {"model": "b", "loss": "mse", "params": {}, "label": "mse", "value": 1.0, "n": 2}
    assert [(r["model"], r["loss"]) for r in records] == [
        ("b", "mse"),
        ("b", "mae"),
        ("a", "mse"),
        ("a", "mae"),
    ]
    jsonl = [json.loads(line) for line in render(evaluation, "jsonl").splitlines()]
    assert jsonl == records


def test_table_renders_at_a_fixed_width(evaluation) -> None:
    text = render(evaluation, "table", no_color=True, width=60)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert any(line.startswith("│ b ") and "1.000" in line for line in lines)
    assert "<dataframe> · target y · 2 rows · lower is better" in text
