"""Other ways of holding predictions, turned into the one wide layout the evaluator reads.

- one file per model (``losscli eval a.csv b.csv``): each file holds the target
  and one model's predictions; the model is named after the file;
- separate truth (``--truth labels.csv --id id``): predictions joined to targets;
- long (``--model-col model``): one row per (id, model), pivoted to one
  column per model.

These need every row in memory (a join does); the wide layout streams.
All joins are pyarrow joins on the id column, not Python loops.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import BadValueError, ColumnError, OptionError
from ..request import Request
from .arrow_numpy import row_numbers
from .dialect import is_number_in
from .formats import detect_format, dialect_of, open_source
from .layout import (
    CONTEXT_KEY,
    ID_NAMES,
    MODELS_KEY,
    NAMES_KEY,
    PANDAS_INDEX,
    TARGET_NAMES,
    WEIGHT_NAMES,
    auto_detect,
    matches_pred,
    pandas_index,
    refuse_other_notation,
)
from .source import Source, is_numeric, source_from_table

ROW = "__losscli_row__"  # a temporary column that remembers the input order through a join
EXAMPLES = 3


def open_reshaped(request: Request) -> tuple[Source, list[str]]:
    """One wide Source for whatever layout was given, and notes about what was done."""
    inputs = request.inputs
    notes: list[str] = []
    if any(detect_format(p, inputs.input_format)[0] == "npy" for p in (*inputs.paths, inputs.truth or "x.csv")):
        return _npy_files(request, notes), notes
    if len(inputs.paths) > 1:
        source = _one_file_per_model(request, notes)
    else:
        source = open_input(request, inputs.paths[0], notes, inputs.input_format)
        if inputs.model_col:
            source = _long_to_wide(source, request, notes)
    if inputs.truth:
        source = _join_truth(source, request, notes)
    return source, notes


def open_input(request: Request, path: str, notes: list[str], input_format: str | None = None) -> Source:
    """One of the inputs, read with the request's CSV dialect when it is CSV; what its reader
    noticed (a sniffed delimiter, partition keys) is added to ``notes`` and said once."""
    delimited = detect_format(path, input_format)[0] in ("csv", "tsv", "sniff")
    source = open_source(path, input_format, dialect_of(request) if delimited else None)
    notes.extend(source.notes)
    source.notes = []
    return source


def _refuse_notation(source: Source, request: Request, columns: Sequence[str | None]) -> None:
    """Numbers in another notation (1,5 or 1,000), or beside a cell that is no number, in the
    columns of one file read as numbers are refused by that file's own cells, as in a plain CSV,
    before reshaping hides them as text (a skipped model, a target read as labels). A target of
    text is labels, as in the wide layout: only its notation is judged here."""
    if not source.guessed_types:
        return
    decimal = request.inputs.decimal
    target = None if request.inputs.truth else _find(source.schema.names, request.columns.target, TARGET_NAMES)
    for name in dict.fromkeys(c for c in columns if c):
        refuse_other_notation(source, name, decimal)
        column = source.sample.column(name)
        if name == target or not pa.types.is_string(column.type):
            continue
        cells = column.to_pylist()
        if any(c is not None and is_number_in(c, decimal) for c in cells):
            bad = (i for i, c in enumerate(cells) if c is not None and c.strip() and not is_number_in(c, decimal))
            row = next(bad, None)
            if row is None:  # numbers the reader did not read as such ('infinity'): left to the reading
                continue
            raise BadValueError(
                f"{source.name}: column {name!r}, row {row + 1} holds {cells[row]!r}, which is not a number; "
                "fix the cell or choose other columns"
            )


def _number_columns(source: Source, request: Request, *others: str | None) -> list[str]:
    """The columns of one input read as numbers: target, weight and predictions (with --pred, the
    columns it names; else every column but the id, groups and ``others`` such as --model-col)."""
    columns = request.columns
    skip = {c.lower() for c in (*others, *request.stats.by) if c}
    names = [c for c in source.schema.names if c.lower() not in skip]
    if not columns.preds:
        return names
    target = None if request.inputs.truth else _find(names, columns.target, TARGET_NAMES)
    weight = _find(names, columns.weight, ()) if columns.weight else None
    return [c for c in names if c in (target, weight) or matches_pred(c, columns.preds)]


def _table(source: Source, request: Request, notes: list[str], id_col: str | None = None) -> pa.Table:
    """Every row of a source: numbers as float64, text as text, and the id (if any) as
    text, so ids match across files whatever their format (1, 1.0 and "1" are one id).
    The index pandas wrote with the data is left out, as in the wide layout (said in a note)."""
    columns = request.columns
    # A column the user gave a role is theirs, even where pandas stored it as the index
    # ((id, model) is how a long file is often written).
    roles = (id_col, columns.target, columns.weight, request.inputs.model_col, *request.stats.by)
    named = {c.lower() for c in roles if c}
    index = [c for c in pandas_index(source.schema) if c.lower() not in named and not matches_pred(c, columns.preds)]
    if index:
        shown = " and ".join(f"column {c!r}" if c.strip() else "the first column (no name)" for c in index)
        notes.append(
            f"{source.name}: {shown} {'looks' if len(index) == 1 else 'look'} like the index pandas writes; left out"
        )
    batches = list(source.batches([c for c in source.schema.names if c not in index]))
    if not batches:
        raise BadValueError(f"{source.name}: has a header but no data rows")
    table = pa.Table.from_batches(batches, schema=batches[0].schema)
    return _string_id(table, id_col)


def _string_id(table: pa.Table, id_col: str | None) -> pa.Table:
    if id_col is None or id_col not in table.schema.names:
        return table
    i = table.schema.get_field_index(id_col)
    return table.set_column(i, id_col, table.column(i).cast(pa.string()))


def _find(names: Sequence[str], wanted: str | None, candidates: tuple[str, ...]) -> str | None:
    """``wanted`` (exact, else case-insensitive), or the first of ``candidates`` present."""
    if wanted:
        return next((n for n in names if n == wanted), auto_detect(names, (wanted.lower(),)))
    return auto_detect(names, candidates)


# --- one file per model ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    """The first file of several: its rows, ids and target are what the others must match."""

    path: str
    table: pa.Table
    target: str | None
    id: str | None
    shared: tuple[str, ...]  # weights, groups: taken from the first file


def _one_file_per_model(request: Request, notes: list[str]) -> Source:
    tables = _model_files(request, notes)
    names = [n for n, _, _ in tables]
    first = _reference(request, tables[0][1], tables[0][2])
    columns: dict[str, pa.Array] = {c: first.table.column(c) for c in (first.id, first.target) if c}
    columns |= {c: first.table.column(c) for c in first.shared}
    placed: dict[str, str] = {}  # model column -> model name, where the two differ
    apart: list[str] = []
    roles = {first.target: "target column", first.id: "id column"}
    for name, path, table in tables:
        for key, values in _model_columns(request, name, path, table, first).items():
            column = _place(columns, key, name, roles, placed, apart, "with --name (one per file)")
            columns[column] = values
    joined = f"; joined on {first.id}" if first.id else "; rows matched by position (--id COL joins on an id)"
    notes.append(f"{len(tables)} files, one model each: {', '.join(names)}{joined}")
    notes += apart
    model_columns = [c for c in columns if c not in (first.id, first.target, *first.shared)]
    table = with_roles(pa.table(columns), model_columns, first.shared, placed)
    return source_from_table(table, " + ".join(p for _, p, _ in tables))


ROLE_NAMES = frozenset((*TARGET_NAMES, *ID_NAMES, *WEIGHT_NAMES))


def _place(
    columns: dict[str, pa.ChunkedArray],
    key: str,
    model: str,
    roles: Mapping[str | None, str],
    placed: dict[str, str],
    notes: list[str],
    rename: str,
) -> str:
    """The column a reshaped model's predictions go in: ``key``, unless a column already there (the
    target, the id, a weight or group) has that name in any case, or the layout would read it as a
    role (y, id, weight, a pandas index). Then a column of its own, which ``placed`` maps back to
    the model's name: a model file named y.csv is a model, and the target stays the target."""
    taken = {c.lower(): c for c in columns}
    clash = _clash(key, taken, roles)
    if clash is None:
        return key
    if key != model:  # a model's class column (MODEL.CLASS): moving it would lose its class
        raise OptionError(f"model {model!r} has the column {key!r}, which is also {clash}; rename the model {rename}")
    column = f"{key} (model)"
    while column.lower() in taken:
        column += " (model)"
    placed[column] = model
    notes.append(f"model {model!r} is named like {clash}; its predictions are kept apart from it")
    return column


def _clash(key: str, taken: Mapping[str, str], roles: Mapping[str | None, str]) -> str | None:
    """What else a model's column name names, if anything."""
    lowered = key.lower()
    if lowered in taken:
        return f"the {roles.get(taken[lowered], 'column')} {taken[lowered]!r}"
    for names, role in ((TARGET_NAMES, "target"), (ID_NAMES, "id"), (WEIGHT_NAMES, "weight")):
        if lowered in names:
            return f"{'an' if role == 'id' else 'a'} {role} column (losscli reads a column {key!r} as the {role})"
    if PANDAS_INDEX.match(key):
        return "the index pandas writes (a nameless column or 'Unnamed: 0')"
    return None


def _model_files(request: Request, notes: list[str]) -> list[tuple[str, str, pa.Table]]:
    """(model name, path, rows) of every file; names must be distinct."""
    tables: list[tuple[str, str, pa.Table]] = []
    for i, path in enumerate(request.inputs.paths):
        source = open_input(request, path, notes, request.inputs.input_format)
        name = request.inputs.names[i] if request.inputs.names else source.stem
        id_col = _find(source.schema.names, request.columns.id, ID_NAMES)
        _refuse_notation(source, request, _number_columns(source, request, id_col))
        tables.append((name, source.name, _table(source, request, notes, id_col)))
    names = [n for n, _, _ in tables]
    if len(set(names)) != len(names):
        dupe = next(n for n in names if names.count(n) > 1)
        raise OptionError(f"two files give the model name {dupe!r}; rename them with --name (one per file)")
    return tables


def _reference(request: Request, path: str, table: pa.Table) -> _Reference:
    truth = request.inputs.truth
    target = _find(table.schema.names, request.columns.target, TARGET_NAMES) if not truth else None
    id_col = _find(table.schema.names, request.columns.id, ID_NAMES)
    if request.columns.id and id_col is None:
        raise ColumnError(f"{path}: --id names the column {request.columns.id!r}, which is not there")
    if target is None and not truth:
        raise ColumnError(f"{path}: no target column found (looked for {', '.join(TARGET_NAMES)}); use --target")
    names = table.schema.names
    shared = tuple(c for c in names if c not in (target, id_col) and not _is_prediction(table, c, request))
    return _Reference(path, table, target, id_col, shared)


def _model_columns(request: Request, name: str, path: str, table: pa.Table, first: _Reference) -> dict[str, pa.Array]:
    """One file's prediction column(s), aligned to the first file's rows and checked against its target."""
    id_col, target = first.id, first.target
    if id_col and id_col not in table.schema.names:
        raise ColumnError(f"{path}: has no id column {id_col!r}, which {first.path} has")
    if id_col:
        table = _align_on_id(table, first.table, id_col, path, first.path)
    elif table.num_rows != first.table.num_rows:
        raise BadValueError(
            f"{path} has {table.num_rows} rows but {first.path} has {first.table.num_rows}; "
            "files of one evaluation must hold the same rows, or be joined with --id"
        )
    if target:
        if target not in table.schema.names:
            raise ColumnError(f"{path}: has no target column {target!r}, which {first.path} has")
        ids = table.column(id_col) if id_col else None
        _same_target(table.column(target), first.table.column(target), target, path, first.path, ids)
    for col in (c for c in first.shared if c in table.schema.names):  # weights, groups: one value per row
        ids = table.column(id_col) if id_col else None
        _same_target(table.column(col), first.table.column(col), col, path, first.path, ids, "column")
    preds = [c for c in table.schema.names if _is_prediction(table, c, request) and c not in (target, id_col)]
    preds = [c for c in preds if c not in first.shared or c in request.columns.preds]
    if not preds:
        raise ColumnError(f"{path}: holds no prediction column besides the target; name it with --pred")
    if len(preds) == 1:
        return {name: table.column(preds[0])}
    numeric_target = target is not None and is_numeric(table.schema.field(target).type)
    if numeric_target and not request.columns.preds and not _rows_sum_to_one(table, preds):
        raise ColumnError(
            f"{path}: holds several numeric columns besides the target ({', '.join(preds[:6])}); name the "
            "prediction column with --pred (and a weight with --weight), or give class columns with a label target"
        )
    # Several columns: one model's class probabilities (bare class names).
    return {f"{name}.{col}": table.column(col) for col in preds}


def _rows_sum_to_one(table: pa.Table, columns: list[str]) -> bool:
    """Whether the first rows of ``columns`` are class probabilities (each row sums to 1)."""
    import numpy as np

    from .arrow_numpy import to_float64

    head = table.slice(0, 1000)
    sums = np.sum([to_float64(head.column(c)) for c in columns], axis=0)
    return bool(np.all(np.abs(sums - 1.0) <= 1e-6))


def _is_prediction(table: pa.Table, col: str, request: Request) -> bool:
    if col in (request.columns.weight, *request.stats.by):  # named roles are never predictions
        return False
    if request.columns.preds:
        return matches_pred(col, request.columns.preds)
    return is_numeric(table.schema.field(col).type) and col.lower() not in WEIGHT_NAMES


def _align_on_id(table: pa.Table, first: pa.Table, id_col: str, path: str, first_path: str) -> pa.Table:
    """``table``'s rows in ``first``'s order of ids; both must hold the same unique ids."""
    _no_duplicate_ids(table, id_col, path)
    _no_duplicate_ids(first, id_col, first_path)
    present = pc.is_in(first.column(id_col), value_set=table.column(id_col))
    if not pc.all(present).as_py():
        missing = pc.filter(first.column(id_col), pc.invert(present))
        raise BadValueError(
            f"{path} lacks {len(missing)} id(s) that {first_path} has (e.g. {_examples(missing)}); "
            "every file must hold the same ids"
        )
    known = pc.is_in(table.column(id_col), value_set=first.column(id_col))
    if not pc.all(known).as_py():
        extra = pc.filter(table.column(id_col), pc.invert(known))
        raise BadValueError(
            f"{path} has {len(extra)} id(s) that {first_path} lacks (e.g. {_examples(extra)}); "
            "every file must hold the same ids"
        )
    keys = first.select([id_col]).append_column(ROW, row_numbers(first.num_rows))
    return keys.join(table, id_col, join_type="inner").sort_by(ROW).drop_columns([ROW])


def _same_target(
    got: pa.ChunkedArray,
    want: pa.ChunkedArray,
    target: str,
    path: str,
    first_path: str,
    ids: pa.ChunkedArray | None,
    what: str = "target",
) -> None:
    equal = pc.fill_null(pc.equal(got, want), False)
    both_null = pc.and_(pc.is_null(got), pc.is_null(want))
    same = pc.or_(equal, both_null)
    if not pc.all(same).as_py():
        i = int(pc.index(same, False).as_py())
        where = f"id {ids[i].as_py()!r}" if ids is not None else f"row {i + 1}"
        raise BadValueError(
            f"{path}: the {what} {target!r} differs from {first_path} at {where} "
            f"({got[i].as_py()!r} vs {want[i].as_py()!r}); every file (or model) must hold the same {what} values"
        )


# --- NumPy arrays, one per file --------------------------------------------------------------


def _npy_files(request: Request, notes: list[str]) -> Source:
    """``a.npy b.npy --truth y.npy``: one array per file, rows matched by position."""
    from .numpy_files import open_npy_files

    inputs = request.inputs
    paths = [*inputs.paths, *([inputs.truth] if inputs.truth else [])]
    other = next((p for p in paths if detect_format(p, inputs.input_format)[0] != "npy"), None)
    if other is not None:
        raise OptionError(
            f"{other} is not a .npy file; .npy arrays have no ids to join on, so give every model and "
            "the targets as .npy files (or save them together with np.savez)"
        )
    for option, given in (("id", request.columns.id), ("model_col", inputs.model_col), ("join", inputs.join)):
        if given:
            raise OptionError(f"{request.flag(option)} does not apply to .npy files: their rows match by position")
    names = list(inputs.names) or [_stem(p) for p in inputs.paths]
    source = open_npy_files(list(inputs.paths), names, inputs.truth, request.columns.target)
    truth = f"; targets from {inputs.truth}" if inputs.truth else ""
    notes.append(f"{len(names)} .npy file(s), one model each: {', '.join(names)}{truth}; rows matched by position")
    return source


def _stem(path: str) -> str:
    name = Path(path).name
    return name[: -len(".npy")] if name.lower().endswith(".npy") else name


# --- separate truth ----------------------------------------------------------------------------


def _join_truth(source: Source, request: Request, notes: list[str]) -> Source:
    truth_source = open_input(request, request.inputs.truth, notes)  # type: ignore[arg-type]
    id_col = _find(source.schema.names, request.columns.id, ID_NAMES)
    truth = _truth_table(truth_source, request, notes, id_col)
    preds = _table(source, request, notes, id_col)
    if id_col is None or id_col not in truth.schema.names:
        raise ColumnError(
            f"--truth {request.inputs.truth}: joining needs an id column in both files; name it with --id "
            f"(predictions: {', '.join(preds.schema.names[:8])}; truth: {', '.join(truth.schema.names[:8])})"
        )
    target = _find(truth.schema.names, request.columns.target, TARGET_NAMES)
    if target is None:
        raise ColumnError(
            f"{request.inputs.truth}: no target column found (looked for {', '.join(TARGET_NAMES)}); use --target"
        )
    _no_duplicate_ids(preds, id_col, source.name)
    _no_duplicate_ids(truth, id_col, request.inputs.truth or "")
    both = [c for c in truth.schema.names if c != id_col and c in preds.schema.names]
    if both:
        # Which file's column would win is a guess; a stale target in the predictions is a wrong number.
        raise ColumnError(
            f"{source.name} and {request.inputs.truth} both hold the column {both[0]!r}; with --truth the "
            f"targets (and any weight or group columns) must come from one file: drop it from the other"
        )
    keep = list(truth.schema.names)
    preds = preds.append_column(ROW, row_numbers(preds.num_rows))

    in_truth = pc.is_in(preds.column(id_col), value_set=truth.column(id_col))
    in_preds = pc.is_in(truth.column(id_col), value_set=preds.column(id_col))
    missing = pc.filter(preds.column(id_col), pc.invert(in_truth))
    extra = pc.filter(truth.column(id_col), pc.invert(in_preds))
    if (len(missing) or len(extra)) and request.inputs.join_policy == "strict":
        parts = []
        if len(missing):
            parts.append(f"{len(missing)} prediction id(s) have no target (e.g. {_examples(missing)})")
        if len(extra):
            parts.append(f"{len(extra)} target id(s) have no prediction (e.g. {_examples(extra)})")
        raise BadValueError(
            f"{source.name} and {request.inputs.truth} do not hold the same ids: {'; '.join(parts)}; "
            "pass --join inner to evaluate the ids they share"
        )
    joined = preds.join(truth, id_col, join_type="inner").sort_by(ROW).drop_columns([ROW])
    meta = source.schema.metadata or {}
    models = json.loads(meta[MODELS_KEY]) if MODELS_KEY in meta else []
    context = [*json.loads(meta.get(CONTEXT_KEY, b"[]")), *(c for c in keep if c not in (id_col, target))]
    joined = with_roles(joined, models, context, json.loads(meta.get(NAMES_KEY, b"{}")))
    if joined.num_rows == 0:
        raise BadValueError(f"{source.name} and {request.inputs.truth} share no id in column {id_col!r}")
    note = f"joined {source.name} with {request.inputs.truth} on {id_col}: {joined.num_rows} rows"
    if len(missing) or len(extra):
        note += f"; left out {len(missing)} prediction and {len(extra)} target id(s) (--join inner)"
    notes.append(note)
    return _joined_source(joined, source, truth_source, [*preds.schema.names, *keep], request)


def _truth_table(truth_source: Source, request: Request, notes: list[str], id_col: str | None) -> pa.Table:
    """The rows of the --truth file, its target and weight first judged by its own cells."""
    names = truth_source.schema.names
    weight = _find(names, request.columns.weight, ()) if request.columns.weight else None
    target = _find(names, request.columns.target, TARGET_NAMES)
    if truth_source.guessed_types and target is not None:  # labels are text: only the notation is judged
        refuse_other_notation(truth_source, target, request.inputs.decimal)
    _refuse_notation(truth_source, request, [weight])
    return _table(truth_source, request, notes, id_col)


def _joined_source(joined: pa.Table, source: Source, truth: Source, names: list[str], request: Request) -> Source:
    """The joined rows as one source in which each file's columns keep their reading: a CSV's
    types were guessed from its cells, a Parquet file's declared (text there stays text)."""
    declared = frozenset(c for c in names if not (source if c in source.schema.names else truth).guessed(c))
    guessed = source.guessed_types or truth.guessed_types
    return source_from_table(
        joined, f"{source.name} + {request.inputs.truth}", guessed_types=guessed, declared=declared
    )


def _no_duplicate_ids(table: pa.Table, id_col: str, name: str) -> None:
    counts = pc.value_counts(table.column(id_col))
    dupes = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(dupes):
        raise BadValueError(
            f"{name}: {len(dupes)} id(s) in column {id_col!r} appear more than once (e.g. {_examples(dupes)}); "
            "ids must be unique"
        )


def _examples(values: pa.Array | pa.ChunkedArray) -> str:
    return ", ".join(repr(v) for v in values.slice(0, EXAMPLES).to_pylist())


# --- long layout -------------------------------------------------------------------------------


def _long_to_wide(source: Source, request: Request, notes: list[str]) -> Source:
    id_col = _find(source.schema.names, request.columns.id, ID_NAMES)
    model_col = _find(source.schema.names, request.inputs.model_col, ())
    _refuse_notation(source, request, _number_columns(source, request, id_col, model_col))
    if model_col is not None and model_col in source.schema.names:
        # The model column names models: text, even if the names look like numbers.
        table = _string_id(_table(source, request, notes, id_col), model_col)
    else:
        table = _table(source, request, notes, id_col)
    if model_col is None:
        raise ColumnError(
            f"{source.name}: --model-col names the column {request.inputs.model_col!r}, which is not there"
        )
    target = _find(table.schema.names, request.columns.target, TARGET_NAMES) if not request.inputs.truth else None
    fixed = [c for c in (id_col, target, model_col) if c]
    value_cols = _long_values(source.name, table, fixed, request)
    shared = [c for c in table.schema.names if c not in fixed and c not in value_cols]
    models = pc.unique(table.column(model_col)).to_pylist()
    if any(m is None for m in models):
        raise BadValueError(f"{source.name}: column {model_col!r} has rows with no model name")
    first: pa.Table | None = None
    columns: dict[str, pa.ChunkedArray] = {}
    placed: dict[str, str] = {}  # model column -> model name, where the two differ
    apart: list[str] = []
    rename = f"in column {model_col!r}"
    roles = {target: "target column", id_col: "id column"}
    for model in models:
        part = table.filter(pc.equal(table.column(model_col), model))
        if first is None:
            first = part
            for col in [c for c in (id_col, target) if c] + shared:
                columns[col] = part.column(col)
        elif id_col:
            part = _align_on_id(
                part, first, id_col, f"{source.name} (model {model})", f"{source.name} (model {models[0]})"
            )
        elif part.num_rows != first.num_rows:
            raise BadValueError(
                f"{source.name}: model {model!r} has {part.num_rows} rows but {models[0]!r} has {first.num_rows}; "
                "give --id to match rows, or the same number of rows per model"
            )
        if first is not part:
            where = (f"{source.name} (model {model})", f"{source.name} (model {models[0]})")
            _same_rows(part, first, id_col, [target] if target else [], shared, where)
        for col in value_cols:
            key = str(model) if len(value_cols) == 1 else f"{model}.{col}"
            columns[_place(columns, key, str(model), roles, placed, apart, rename)] = part.column(col)
    kept = f"; {', '.join(shared)} kept as they are" if shared else ""
    kept += f"; rows matched on {id_col}" if id_col else "; rows matched by their order within each model (--id COL)"
    notes.append(
        f"long layout: {len(models)} models from column {model_col!r}, predictions in {', '.join(value_cols)}{kept}"
    )
    notes += apart
    model_names = [c for c in columns if c not in (id_col, target, *shared)]
    table = with_roles(pa.table(columns), model_names, shared, placed)
    return source_from_table(table, source.name, guessed_types=source.guessed_types)


def _same_rows(
    part: pa.Table, first: pa.Table, id_col: str | None, targets: list[str], shared: list[str], where: tuple[str, str]
) -> None:
    """One model's rows of a long file hold the first model's target, weights and groups."""
    ids = part.column(id_col) if id_col else None
    for col in targets:
        _same_target(part.column(col), first.column(col), col, *where, ids)
    for col in shared:
        _same_target(part.column(col), first.column(col), col, *where, ids, "column")


def _long_values(name: str, table: pa.Table, fixed: list[str], request: Request) -> list[str]:
    """The long file's prediction column(s): --pred, else the one numeric column that is not the
    weight or a --by column; several candidates are refused rather than guessed."""
    others = [c for c in table.schema.names if c not in fixed]
    if request.columns.preds:
        values = [c for c in others if _is_prediction(table, c, request)]
    else:
        roles = {request.columns.weight, *request.stats.by}
        values = [c for c in others if _is_prediction(table, c, request) and c not in roles]
        if len(values) > 1:
            raise ColumnError(
                f"{name}: the long layout needs one prediction column, and {', '.join(values)} all hold numbers; "
                "name it with --pred (and a weight with --weight)"
            )
    if not values:
        raise ColumnError(f"{name}: no prediction column besides {', '.join(fixed)}; name it with --pred")
    return values


def with_roles(
    table: pa.Table, models: Sequence[str], context: Sequence[str] = (), names: Mapping[str, str] | None = None
) -> pa.Table:
    """Mark which columns a reshaping made models, which came along as context (weights,
    groups, features), and the model named by a column of another name (``names``, see _place):
    the layout takes the models as they are and never makes context a model."""
    meta = dict(table.schema.metadata or {})
    if models:
        meta[MODELS_KEY] = json.dumps(list(models)).encode()
    if context:
        meta[CONTEXT_KEY] = json.dumps(list(context)).encode()
    if names:
        meta[NAMES_KEY] = json.dumps(dict(names)).encode()
    return table.replace_schema_metadata(meta)
