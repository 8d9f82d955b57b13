"""The one request: everything a user asked for, typed, frozen and validated once.

The command line (``losscli eval``, ``losscli plot``) and the Python API
(``losscli.evaluate``) each build one ``Request``; every layer below receives
it, or the part it needs, as a typed value. An option that does not apply to
the run is refused here, with one sentence that says what to do, so nothing a
user typed is silently dropped. Checks that need the data (``--classes`` on a
regression target, ``--positive`` on a regression task) happen when the
columns are resolved, against the same request.

>>> r = Request(Inputs(("preds.csv",)), losses=parse_specs(["mse", "huber:delta=2"]), stats=Statistics(ci=0.9))
>>> [s.label for s in r.losses], r.stats.replicates, r.stats.level
(['mse', 'huber(delta=2)'], 1000, 0.9)
"""

from __future__ import annotations

import math
import numbers
import types
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path, PurePath
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from .errors import ArgumentTypeError, OptionError
from .losses import REDUCTIONS
from .spec import LossSpec, parse_specs

__all__ = [
    "Caller",
    "Columns",
    "Engine",
    "Gates",
    "Inputs",
    "Output",
    "Request",
    "Statistics",
    "Threshold",
    "parse_margin",
    "parse_specs",
    "parse_threshold",
]

Caller = Literal["cli", "api"]

NAN_POLICIES = ("error", "drop", "drop-any")
JOIN_POLICIES = ("strict", "inner")
ENGINES = ("local", "dask")
SUMMARY_FORMATS = ("auto", "table", "csv", "tsv", "json", "jsonl", "markdown", "html")
PER_ROW_FORMATS = ("csv", "tsv", "jsonl", "parquet")
# The format an --output suffix names, for the summary and for --per-row.
SUMMARY_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "table",
    ".html": "html",
    ".htm": "html",
}
PER_ROW_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
CI_METHODS = ("bootstrap", "t")
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 0
DEFAULT_WORKERS = 2
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_LEVEL = 0.95
DEFAULT_DIGITS = 4
BOOTSTRAP_RANGE = (20, 100_000)
MAX_TOP = 1000

# How an option is spelled for the caller: a flag on the command line, a keyword in Python.
_FLAGS = {
    "paths": "FILES",
    "losses": "--loss",
    "input_format": "--input-format",
    "truth": "--truth",
    "join": "--join",
    "model_col": "--model-col",
    "names": "--name",
    "delimiter": "--delimiter",
    "decimal": "--decimal",
    "target": "--target",
    "preds": "--pred",
    "weight": "--weight",
    "id": "--id",
    "class_sep": "--class-sep",
    "positive": "--positive",
    "classes": "--classes",
    "nan": "--nan",
    "ci": "--ci",
    "bootstrap": "--bootstrap",
    "seed": "--seed",
    "baseline": "--baseline",
    "by": "--by",
    "min_group_n": "--min-group-n",
    "reduction": "--reduction",
    "fail_above": "--fail-above",
    "fail_if_worse": "--fail-if-worse",
    "fail_if_worse_by": "--fail-if-worse-by",
    "format": "--format",
    "path": "--output",
    "per_row": "--per-row",
    "meta": "--meta",
    "digits": "--digits",
    "top": "--top",
    "sort": "--sort",
    "engine": "--engine",
    "scheduler": "--scheduler",
    "workers": "--workers",
    "threads": "--threads",
    "ci_method": "--ci-method",
    "timeout": "--timeout",
}
# The Python API's keyword where it differs from the field's name.
_KEYWORDS = {"paths": "data", "id": "id_column", "names": "names", "path": "output"}


def percent_level(ci: object) -> float | None:
    """A confidence level written as a percent (``95`` for 0.95), as the level it means, exactly
    from its decimal text (99.9 / 100 is 0.9990000000000001 in floats); None for anything else.
    Below 50 it is no level in either reading, and is left for the request to refuse."""
    if isinstance(ci, bool) or not isinstance(ci, numbers.Real):
        return None
    value = float(ci)
    if not 50 <= value < 100:
        return None
    from decimal import Decimal

    return float(Decimal(repr(value)) / 100)


def spell(option: str, caller: Caller) -> str:
    """``--target`` on the command line, ``target=`` in Python.

    >>> spell("id", "cli"), spell("id", "api")
    ('--id', 'id_column=')
    """
    if caller == "cli":
        return _FLAGS.get(option, "--" + option.replace("_", "-"))
    return _KEYWORDS.get(option, option) + "="


def keyword_of(flag: str) -> str | None:
    """The Python API's keyword for a command-line flag (``--id`` -> ``id_column``), if it has one.

    >>> keyword_of("--id"), keyword_of("--output"), keyword_of("--quiet")
    ('id_column', 'output', None)
    """
    field_name = next((f for f, spelled in _FLAGS.items() if spelled == flag), None)
    if field_name is None or field_name in ("quiet", "verbose", "color"):
        return None
    return spell(field_name, "api").removesuffix("=")


@dataclass(frozen=True)
class Threshold:
    """``[MODEL:]LOSS=VALUE``: the loss must not exceed VALUE (for MODEL, or every model)."""

    text: str
    target: str
    limit: float
    relative: bool = False  # a margin in percent of the baseline's value (--fail-if-worse-by 5%)


def parse_margin(text: str) -> Threshold:
    """A ``--fail-if-worse-by`` rule: LOSS=AMOUNT, AMOUNT absolute (0.02) or relative (5%).

    >>> parse_margin("mae=5%")
    Threshold(text='mae=5%', target='mae', limit=5.0, relative=True)
    """
    target, sep, raw = text.rpartition("=")
    raw = raw.strip()
    if not sep or not target.strip():
        raise OptionError(f"--fail-if-worse-by takes LOSS=AMOUNT (0.02, or 5% of the baseline's value), got {text!r}")
    relative = raw.endswith("%")
    try:
        amount = float(raw.removesuffix("%"))
    except ValueError:
        raise OptionError(f"--fail-if-worse-by {text!r}: {raw!r} is not a number or a percentage") from None
    if not math.isfinite(amount) or amount < 0:
        raise OptionError(f"--fail-if-worse-by {text!r}: the margin must be a number >= 0")
    return Threshold(text, target.strip(), amount, relative)


def parse_threshold(text: str) -> Threshold:
    """Check a ``--fail-above`` rule's syntax before any data is read; its loss is resolved
    after the run.

    >>> parse_threshold("huber:delta=2=0.5")
    Threshold(text='huber:delta=2=0.5', target='huber:delta=2', limit=0.5, relative=False)
    """
    target, sep, raw = text.rpartition("=")
    if not sep or not target.strip():
        raise OptionError(f"--fail-above takes LOSS=VALUE or MODEL:LOSS=VALUE, got {text!r}")
    try:
        limit = float(raw)
    except ValueError:
        raise OptionError(f"--fail-above {text!r}: {raw!r} is not a number") from None
    if math.isnan(limit):
        raise OptionError(f"--fail-above {text!r}: the limit must be a number, not nan")
    return Threshold(text, target.strip(), limit)


@dataclass(frozen=True)
class Inputs:
    """Where the data is and how the pieces fit together."""

    paths: tuple[str, ...] = ()
    # A table held in memory (the Python API: a DataFrame); never compared.
    frame: object | None = field(default=None, compare=False, repr=False)
    input_format: str | None = None
    truth: str | None = None
    join: str | None = None  # strict or inner; None: not given (strict)
    model_col: str | None = None
    names: tuple[str, ...] = ()
    # CSV dialect (issue 17): None sniffs the delimiter and reads '.' as the decimal mark.
    delimiter: str | None = None
    decimal: str | None = None

    @property
    def join_policy(self) -> str:
        return self.join or "strict"

    @property
    def is_one_wide_file(self) -> bool:
        """One file (or stdin) in the wide layout: read as it is, nothing joined or pivoted."""
        return self.frame is None and len(self.paths) == 1 and not (self.truth or self.model_col or self.names)

    @property
    def display(self) -> str:
        return "<dataframe>" if self.frame is not None else ", ".join(self.paths)

    def files(self) -> tuple[str, ...]:
        """Every path the run reads (the inputs and --truth): what an output must not replace."""
        return (*self.paths, *((self.truth,) if self.truth else ()))


@dataclass(frozen=True)
class Columns:
    """Column roles and how cells are read; None means "detect it, and say so"."""

    target: str | None = None
    preds: tuple[str, ...] = ()
    weight: str | None = None
    id: str | None = None
    class_sep: str = "."
    positive: str | None = None
    classes: tuple[str, ...] = ()
    nan: str = "error"  # error, drop (per model) or drop-any (rows every model has)


@dataclass(frozen=True)
class Statistics:
    """Intervals, the baseline comparison and groups; None means "not asked for"."""

    ci: float | None = None
    bootstrap: int | None = None
    seed: int | None = None
    baseline: str | None = None
    by: tuple[str, ...] = ()
    min_group_n: int | None = None
    # mean: sum(w l) / sum(w); sum: sum(w l) (torch reduction="sum", scikit-learn normalize=False).
    reduction: str = "mean"
    # How --ci intervals are made: bootstrap (None: the default) or t (from running sums).
    ci_method: str | None = None

    @property
    def level(self) -> float:
        """The confidence level of intervals and of calling a difference significant."""
        return self.ci if self.ci is not None else DEFAULT_LEVEL

    @property
    def replicates(self) -> int:
        """Bootstrap replicates to draw (0 without --ci, or with the t interval)."""
        if self.ci is None or self.ci_method == "t":
            return 0
        return self.bootstrap if self.bootstrap is not None else DEFAULT_BOOTSTRAP

    @property
    def seed_value(self) -> int:
        return self.seed if self.seed is not None else DEFAULT_SEED

    @property
    def min_rows(self) -> int:
        return self.min_group_n or 0


@dataclass(frozen=True)
class Gates:
    """What makes a run fail (exit 1) after the results are printed."""

    fail_above: tuple[Threshold, ...] = ()
    fail_if_worse: bool = False
    fail_if_worse_by: tuple[Threshold, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.fail_above) or self.fail_if_worse or bool(self.fail_if_worse_by)


@dataclass(frozen=True)
class Output:
    """How results are printed or written."""

    format: str = "auto"
    path: str | None = None
    per_row: bool = False
    meta: bool = False
    digits: int = DEFAULT_DIGITS
    sort: str | None = None
    quiet: bool = False
    verbose: bool = False
    color: bool = True
    # advise: the worst rows shown per model and loss.
    top: int = 5

    @property
    def suffixes(self) -> dict[str, str]:
        return PER_ROW_SUFFIXES if self.per_row else SUMMARY_SUFFIXES

    def suffix_format(self) -> str | None:
        """The format the --output file's suffix names (None: no file, or a suffix we do not know)."""
        if self.path is None:
            return None
        return self.suffixes.get(PurePath(self.path).suffix.lower())

    def chosen_format(self, on_terminal: bool) -> str:
        """The format to write: as given, else from the --output suffix, else table on a terminal
        and CSV in a pipe."""
        if self.format != "auto":
            return self.format
        return self.suffix_format() or ("table" if on_terminal and not self.per_row else "csv")


@dataclass(frozen=True)
class Engine:
    """Where the accumulation runs."""

    name: str = "local"  # local or dask
    scheduler: str | None = None
    workers: int | None = None
    # Rows handled at once (the reader's batches are sliced); results do not depend on it.
    chunk_rows: int | None = None
    # Threads for the kernels and the bootstrap (None: every core); results do not depend on it.
    threads: int | None = None
    # Seconds to wait for the scheduler to answer, and for a task to finish (None: the default).
    timeout: float | None = None

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers is not None else DEFAULT_WORKERS

    @property
    def timeout_s(self) -> float:
        return self.timeout if self.timeout is not None else DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class Request:
    """Everything asked for in one run. Built once, validated once, then only read."""

    inputs: Inputs
    columns: Columns = Columns()
    losses: tuple[LossSpec, ...] = ()
    stats: Statistics = Statistics()
    gates: Gates = Gates()
    output: Output = Output()
    engine: Engine = Engine()
    caller: Caller = "cli"

    def __post_init__(self) -> None:
        object.__setattr__(self, "losses", tuple(self.losses))
        for check in (
            _check_types,
            _check_inputs,
            _check_columns,
            _check_stats,
            _check_gates,
            _check_output,
            _check_engine,
        ):
            check(self)

    def flag(self, option: str) -> str:
        """How the caller spells an option (``--target`` or ``target=``), for messages."""
        return spell(option, self.caller)

    def given(self, option: str, value: str) -> str:
        """An option with a value as the caller writes it: ``--nan drop`` or ``nan='drop'``."""
        return f"{self.flag(option)} {value}" if self.caller == "cli" else f"{self.flag(option)}{value!r}"


def leaf_fields(cls: type = Request, prefix: str = "") -> list[str]:
    """Every field of the request as a dotted path (``columns.target``): what the CLI must fill."""
    out: list[str] = []
    for f in fields(cls):
        kind = f.type if isinstance(f.type, type) else globals().get(str(f.type))
        if isinstance(kind, type) and is_dataclass(kind) and kind is not Threshold:
            out += leaf_fields(kind, f"{prefix}{f.name}.")
        else:
            out.append(prefix + f.name)
    return out


# --- validation: every option that does not apply is refused, with the way out ------------------


def _refuse(r: Request, option: str, why: str) -> None:
    raise OptionError(f"{r.flag(option)} {why}")


def positive_label(value: object) -> str | None:
    """``positive=1`` in Python as ``--positive 1`` on the command line: a number names a label too.

    >>> positive_label(1), positive_label("yes"), positive_label(None)
    ('1', 'yes', None)
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):  # a boolean target's label reads true or false
        return str(value).lower()
    if isinstance(value, numbers.Real):
        return str(value)
    raise ArgumentTypeError(f"positive= takes a label (a string or a number), not {type(value).__name__}")


def _check_types(r: Request) -> None:
    """Every field holds what its annotation says (the command line's parser already typed
    its options; a Python caller may pass anything): else one sentence, a TypeError too."""
    for part in (r.inputs, r.columns, r.stats, r.gates, r.output, r.engine):
        for name, hint in get_type_hints(type(part)).items():
            value = getattr(part, name)
            if not _conforms(value, hint):
                raise ArgumentTypeError(
                    f"{r.flag(name)} takes {_describe(hint)}, not {type(value).__name__} {_short(value)}"
                )
            if isinstance(value, numbers.Real) and type(value).__module__ == "numpy":
                # A NumPy number (np.int64(3), np.float64(0.95), a float subclass) becomes the
                # Python number it holds: the layers below do exact integer and decimal arithmetic.
                plain = int(value) if isinstance(value, numbers.Integral) else float(value)
                object.__setattr__(part, name, plain)
    if r.caller not in ("cli", "api"):
        raise ArgumentTypeError(f"caller is cli or api, not {r.caller!r}")


def _conforms(value: object, hint: Any) -> bool:
    origin = get_origin(hint)
    if hint is object:
        return True
    if origin in (Union, types.UnionType):
        return any(_conforms(value, arg) for arg in get_args(hint))
    if origin is tuple:
        return isinstance(value, tuple) and all(_conforms(v, get_args(hint)[0]) for v in value)
    if hint is type(None):
        return value is None
    if hint in (int, float):  # NumPy numbers welcome; True is not a number here
        kind = numbers.Integral if hint is int else numbers.Real
        return isinstance(value, kind) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    words = {str: "a string", int: "a whole number", float: "a number", bool: "True or False"}
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(hint) if a is not type(None))
    if get_origin(hint) is tuple:
        return f"a list of {_describe(get_args(hint)[0]).removeprefix('a ')}s"
    return words.get(hint, getattr(hint, "__name__", str(hint)))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_inputs(r: Request) -> None:
    i = r.inputs
    if i.frame is None and not i.paths:
        if r.caller == "api":
            raise OptionError("data= is empty; give a file path, a list of paths or a pandas DataFrame")
        raise OptionError("no input: give a file, a Parquet directory or glob, or - for stdin")
    if i.join is not None and i.join not in JOIN_POLICIES:
        _refuse(r, "join", f"takes strict or inner, not {i.join!r}")
    if i.join is not None and not i.truth:
        _refuse(r, "join", f"says how to join {r.flag('truth')} to the predictions; there is no {r.flag('truth')}")
    if i.names and len(i.paths) < 2:
        _refuse(r, "names", f"renames the models of several files; with one input, name columns with {r.flag('preds')}")
    if i.names and len(i.names) != len(i.paths):
        _refuse(r, "names", f"was given {len(i.names)} names for {len(i.paths)} files; give one per file")
    if i.model_col and len(i.paths) > 1:
        _refuse(r, "model_col", "reads one long file; give one file, or drop it")
    if i.files().count("-") > 1:
        # stdin can be read once: the second reading would find it empty and blame the data.
        where = f"the inputs and {r.flag('truth')}" if i.truth == "-" else "the inputs"
        raise OptionError(f"- (stdin) is named {i.files().count('-')} times among {where}; it can be read once, "
                          "so give the others as files")  # fmt: skip
    for option, mark in (("delimiter", i.delimiter), ("decimal", i.decimal)):
        if mark is not None and (len(mark.replace("\\t", "\t")) != 1 or mark in '\n\r"'):
            _refuse(r, option, f"takes one character (such as ; or | or \\t for a tab), not {mark!r}")
        if mark is not None and i.frame is not None:
            _refuse(r, option, "applies to CSV files, not to data in memory")
    if i.decimal is not None and i.decimal == i.delimiter:
        _refuse(
            r, "decimal", f"{i.decimal!r} is also the delimiter; name the real delimiter with {r.flag('delimiter')}"
        )


def _check_columns(r: Request) -> None:
    c = r.columns
    if c.nan not in NAN_POLICIES:
        _refuse(r, "nan", f"takes error, drop or drop-any, not {c.nan!r}")
    if c.positive is not None and not c.positive.strip():
        _refuse(r, "positive", "needs the label of the positive class")


def _check_stats(r: Request) -> None:
    s = r.stats
    if s.ci is not None and not 0.5 <= s.ci < 1:
        _refuse(r, "ci", f"is a confidence level between 0.5 and 1 (e.g. 0.95), not {s.ci!r}")
    if s.ci is None:
        for option, value in (("bootstrap", s.bootstrap), ("seed", s.seed)):
            if value is not None:
                _refuse(r, option, f"sets up the bootstrap of {r.flag('ci')}, which was not asked for; add it")
    low, high = BOOTSTRAP_RANGE
    if s.bootstrap is not None and not low <= s.bootstrap <= high:
        _refuse(r, "bootstrap", f"takes {low} to {high} replicates, not {s.bootstrap}")
    if s.seed is not None and s.seed < 0:
        _refuse(r, "seed", f"must be >= 0, not {s.seed}")
    if s.seed is not None and s.seed >= 2**64:
        # The generators take 64 bits: a larger seed would wrap onto a smaller one's intervals.
        _refuse(r, "seed", f"must be below 2**64, not {s.seed}")
    twice = next((name for at, name in enumerate(s.by) if name in s.by[:at]), None)
    if twice is not None:  # the results have one key per --by given
        _refuse(r, "by", f"names the column {twice!r} twice; give it once")
    if s.min_group_n is not None and not s.by:
        _refuse(r, "min_group_n", f"hides small groups of {r.flag('by')}, which was not given")
    if s.min_group_n is not None and s.min_group_n < 0:
        _refuse(r, "min_group_n", f"must be >= 0, not {s.min_group_n}")
    _check_reduction(r)
    _check_ci_method(r)
    skills = [spec.label for spec in r.losses if spec.loss.skill is not None]
    kept = [spec.label for spec in r.losses if spec.loss.skill is not None and spec.loss.skill.reference is None]
    if kept and s.ci is not None:
        _refuse(
            r,
            "ci",
            f"has no bootstrap for {kept[0]}: its reference is a weighted quantile of the targets, "
            f"not a mergeable sum; leave out {r.flag('ci')} or use d2_tweedie",
        )
    if skills and r.output.per_row:
        _refuse(r, "per_row", f"writes per-row losses, and {skills[0]} is a score of all rows together; use its loss")
    ignore_label(r.losses)


def _check_reduction(r: Request) -> None:
    if r.stats.reduction not in REDUCTIONS:
        _refuse(r, "reduction", f"takes {' or '.join(REDUCTIONS)}, not {r.stats.reduction!r}")
    if r.stats.reduction == "sum":
        unable = [spec.label for spec in r.losses if not spec.loss.summable]
        if unable:
            _refuse(
                r,
                "reduction",
                f"sum adds up per-row losses, but {unable[0]} is finished after the mean "
                "(a root or a skill score); use mean for it",
            )


def ignore_label(specs: tuple[LossSpec, ...] | list[LossSpec]) -> float | None:
    """The one ignore_index of a run: rows with that target are left out for every loss."""
    values = {s.params["ignore_index"] for s in specs if s.params.get("ignore_index") is not None}
    if len(values) > 1:
        raise OptionError(
            f"the losses give different ignore_index values ({', '.join(sorted(map(str, values)))}); "
            "one run leaves out one label: run them separately"
        )
    return float(values.pop()) if values else None  # type: ignore[arg-type]


def _check_ci_method(r: Request) -> None:
    s = r.stats
    if s.ci_method is None:
        return
    if s.ci_method not in CI_METHODS:
        _refuse(r, "ci_method", f"takes {' or '.join(CI_METHODS)}, not {s.ci_method!r}")
    if s.ci is None:
        _refuse(r, "ci_method", f"says how {r.flag('ci')} intervals are made, and {r.flag('ci')} was not given")
    if s.ci_method == "t":
        for option, value in (("bootstrap", s.bootstrap), ("seed", s.seed)):
            if value is not None:
                _refuse(r, option, f"sets up the bootstrap, and {r.flag('ci_method')} t draws none")
        skills = [spec.label for spec in r.losses if spec.loss.skill is not None]
        if skills:
            _refuse(r, "ci_method", f"t has no standard error for {skills[0]} (a ratio of sums); use the bootstrap")
        if s.reduction == "sum":
            _refuse(r, "ci_method", "t gives intervals of means; with --reduction sum use the bootstrap")


def _check_gates(r: Request) -> None:
    if r.gates.fail_if_worse and r.stats.baseline is None:
        _refuse(r, "fail_if_worse", f"needs {r.flag('baseline')} MODEL to compare with")
    if r.gates.fail_if_worse_by and r.stats.baseline is None:
        _refuse(r, "fail_if_worse_by", f"sets a margin against {r.flag('baseline')} MODEL, which was not given")


def _check_output(r: Request) -> None:
    o = r.output
    allowed = PER_ROW_FORMATS if o.per_row else SUMMARY_FORMATS
    # A format is also named by the suffix --output takes for it (md, ndjson, htm, txt), any case.
    suffixes = PER_ROW_SUFFIXES if o.per_row else SUMMARY_SUFFIXES
    aliases = {suffix.lstrip("."): name for suffix, name in suffixes.items()}
    name = aliases.get(o.format.lower(), o.format.lower())
    if name != o.format:
        object.__setattr__(o, "format", name)
    if name not in allowed and name != "auto":
        import difflib

        what = f" with {r.flag('per_row')}" if o.per_row else ""
        close = difflib.get_close_matches(name, [*allowed, *aliases], n=1, cutoff=0.6)
        hint = f" (did you mean {aliases.get(close[0], close[0])}?)" if close else ""
        raise OptionError(f"unknown {r.flag('format')} {o.format!r}{what}{hint}; choose one of {', '.join(allowed)}")
    if o.path is not None and not Path(o.path).is_dir():  # a folder is refused by the writer, in its words
        _check_suffix(r)
    if o.per_row:
        for option, given in (
            ("by", bool(r.stats.by)),
            ("ci", r.stats.ci is not None),
            ("baseline", r.stats.baseline is not None),
            ("sort", o.sort is not None),
            ("meta", o.meta),
            ("fail_above", bool(r.gates.fail_above)),
            ("reduction", r.stats.reduction != "mean"),
        ):
            if given:
                _refuse(r, option, f"applies to the summary, not to {r.flag('per_row')} output; run them separately")
    elif o.meta and o.chosen_format(on_terminal=False) != "json":
        shown = o.chosen_format(on_terminal=False) if o.format != "auto" or o.path else "a table or CSV"
        _refuse(r, "meta", f"wraps JSON output; it does not apply to {shown} (add {r.flag('format')} json)")
    if not 1 <= o.digits <= 17:
        _refuse(r, "digits", f"takes 1 to 17 significant digits, not {o.digits}")
    if not 0 <= o.top <= MAX_TOP:
        _refuse(r, "top", f"takes 0 to {MAX_TOP} rows, not {o.top}")


def _check_suffix(r: Request) -> None:
    """An --output suffix must name the format, or agree with the one given."""
    o = r.output
    by_suffix = o.suffix_format()
    suffix = PurePath(o.path or "").suffix.lower() or "a missing suffix"
    if o.format == "auto" and by_suffix is None:
        _refuse(
            r,
            "path",
            f"{o.path}: cannot tell the {'per-row' if o.per_row else 'output'} format from {suffix!r}; "
            f"use one of {', '.join(sorted(o.suffixes))} or give {r.flag('format')}",
        )
    if o.format != "auto" and by_suffix is not None and by_suffix != o.format:
        _refuse(
            r,
            "format",
            f"{o.format} disagrees with {r.flag('path')} {o.path} ({by_suffix} by its suffix); make them agree",
        )


def _check_engine(r: Request) -> None:
    e = r.engine
    if e.name not in ENGINES:
        _refuse(r, "engine", f"takes local or dask, not {e.name!r}")
    if e.name != "dask":
        given_options = (("scheduler", e.scheduler), ("workers", e.workers), ("timeout", e.timeout))
        for option, given in ((o, v is not None) for o, v in given_options):
            if given:
                _refuse(r, option, f"applies to {r.flag('engine')} dask only; add it, or drop this option")
    elif e.scheduler is not None and e.workers is not None:
        _refuse(r, "workers", f"starts a local cluster; with {r.flag('scheduler')} the cluster has its own workers")
    if e.threads is not None and e.threads < 1:
        _refuse(r, "threads", f"must be >= 1, not {e.threads}")
    if e.threads is not None and e.name == "dask":
        _refuse(r, "threads", "sets this machine's threads; a Dask worker runs one thread per process")
    if e.workers is not None and e.workers < 1:
        _refuse(r, "workers", f"must be >= 1, not {e.workers}")
    if e.timeout is not None and not 0 < e.timeout < math.inf:
        _refuse(r, "timeout", f"is a number of seconds > 0, not {e.timeout}")
    if e.name == "dask":
        i = r.inputs
        if len(i.paths) != 1 or i.frame is not None or i.truth or i.model_col or r.output.per_row:
            _refuse(
                r,
                "engine",
                "dask reads one Parquet file, directory or glob, without --truth, --model-col or --per-row",
            )
    if e.chunk_rows is not None and e.chunk_rows < 1:
        raise OptionError(f"chunk_rows must be >= 1, not {e.chunk_rows}")


def losses_from(texts: tuple[str, ...] | list[str]) -> tuple[LossSpec, ...]:
    """Loss specs as typed (``-l mse,huber:delta=2``), parsed and checked."""
    return tuple(parse_specs(texts))
