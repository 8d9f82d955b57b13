"""Per-row JSON Lines are what json.dumps writes for each record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from losscli.report.writers import PerRowWriter


@pytest.mark.parametrize(
    "ids",
    [
        pa.array(range(10)),
        pa.array(["a", 'q"uote', "é", "%s", None, "", "x", "y", "z", "w"]),
        pa.array([1.5, None, 3.0, -0.0, 5.0, 6, 7, 8, 9, 1e-7]),
    ],
)
def test_jsonl_lines_are_json_dumps_of_each_record(tmp_path: Path, ids: pa.Array) -> None:
    values = np.array([0.25, math.nan, math.inf, 1e-300, 123456789.123456789, 3.0, -0.0, 1e-5, 1e16, 1e22])
    out = tmp_path / "rows.jsonl"
    with PerRowWriter("jsonl", str(out)) as writer:
        writer.write("row%", ids, {"a:mse": values, "b:mae": -values})
    expected = []
    for i, v in zip(ids.to_pylist(), values.tolist(), strict=True):
        finite = v if math.isfinite(v) else None
        negated = -v if math.isfinite(v) else None
        expected.append(json.dumps({"row%": i, "a:mse": finite, "b:mae": negated}) + "\n")
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        # the same values and types (a whole float stays a float); the notation may differ (1e-05, 0.00001)
        got, ref = json.loads(line), json.loads(want)
        assert got == ref
        assert [type(v) for v in got.values()] == [type(v) for v in ref.values()]
        assert [math.copysign(1, v) for v in got.values() if isinstance(v, float)] == [
            math.copysign(1, v) for v in ref.values() if isinstance(v, float)
        ]
