""".json: an array of records (``df.to_json(orient="records")``), else JSON Lines.

pyarrow's JSON reader takes one object per line only, so an array is parsed
with the standard library and held in memory (such files are written whole by
pandas and JavaScript tools, and are small next to Parquet or CSV).
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from ..errors import EmptyInputError, InputError
from .source import Source, first_line, source_from_table

HEAD_BYTES = 1 << 12  # enough to see past leading whitespace to '[' or '{'


def open_json(path: str, data: Any = None) -> Source:
    """A .json file (or ``data``, a buffer from stdin): an array of objects, or JSON Lines."""
    name = "<stdin>" if data is not None else path
    try:
        if data is not None:
            raw = bytes(data)
        else:
            with pa.input_stream(path, compression="detect") as fh:
                raw = bytes(fh.read(HEAD_BYTES))
                if raw.lstrip().startswith(b"["):
                    raw += bytes(fh.read())
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{name}: cannot be read ({first_line(exc)})") from None
    if not raw.lstrip().startswith(b"["):
        from .jsonl import open_jsonl

        return open_jsonl(path, data=data)  # JSON Lines under a .json name: streamed
    try:
        records = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: not valid JSON ({first_line(exc)})") from None
    return source_from_table(records_table(records, name), name, "json")


def records_table(records: list[Any], name: str) -> pa.Table:
    """A list of objects as a table: every key a column, in first-seen order; a missing key is null."""
    if not records:
        raise EmptyInputError(f"{name}: the JSON array is empty; it needs one object per row")
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise InputError(
            f"{name}: element {bad + 1} of the JSON array is {type(records[bad]).__name__}, not an object; "
            'losscli reads an array of records, as df.to_json(orient="records") writes'
        )
    keys = list(dict.fromkeys(k for r in records for k in r))
    return pa.table({k: _column([r.get(k) for r in records]) for k in keys})


def _column(values: list[Any]) -> pa.Array:
    """Numbers as numbers; a column mixing numbers and text stays text, so the bad cell is named later."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(
            [None if v is None else json.dumps(v) if isinstance(v, dict | list) else str(v) for v in values]
        )
