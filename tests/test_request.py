"""The one request: every option of ``eval`` reaches it, options that do not apply are
refused, and the package keeps its shape (stages import one way, functions stay short)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from losscli.cli import app
from losscli.cli import eval as eval_cli
from losscli.errors import OptionError
from losscli.request import Inputs, Request, Statistics, leaf_fields

from .conftest import ROOT, SAMPLE

HOUSES = str(SAMPLE / "house_prices.csv")
runner = CliRunner()

# Every option of `eval`: the arguments that set it to something other than its default (with
# what it needs beside it), and the field of the request that must then hold the value.
OPTIONS: dict[str, tuple[list[str], str, object]] = {
    "files": ([HOUSES + ".2"], "inputs.paths", (HOUSES, HOUSES + ".2")),
    "loss": (["-l", "mae"], "losses", "mae"),
    "target": (["-t", "y"], "columns.target", "y"),
    "pred": (["-p", "gbm"], "columns.preds", ("gbm",)),
    "weight": (["-w", "w"], "columns.weight", "w"),
    "id_column": (["--id", "id"], "columns.id", "id"),
    "input_format": (["--input-format", "csv"], "inputs.input_format", "csv"),
    "delimiter": (["--delimiter", ","], "inputs.delimiter", ","),
    "decimal": (["--decimal", ","], "inputs.decimal", ","),
    "class_sep": (["--class-sep", "/"], "columns.class_sep", "/"),
    "truth": (["--truth", "t.csv"], "inputs.truth", "t.csv"),
    "join": (["--truth", "t.csv", "--join", "inner"], "inputs.join", "inner"),
    "model_col": (["--model-col", "model"], "inputs.model_col", "model"),
    "name": ([HOUSES + ".2", "--name", "a", "--name", "b"], "inputs.names", ("a", "b")),
    "nan": (["--nan", "drop"], "columns.nan", "drop"),
    "positive": (["--positive", "yes"], "columns.positive", "yes"),
    "classes": (["--classes", "a,b"], "columns.classes", ("a", "b")),
    "by": (["--by", "region"], "stats.by", ("region",)),
    "min_group_n": (["--by", "region", "--min-group-n", "5"], "stats.min_group_n", 5),
    "reduction": (["--reduction", "sum", "-l", "mae"], "stats.reduction", "sum"),
    "ci": (["--ci", "0.9"], "stats.ci", 0.9),
    "bootstrap": (["--ci", "0.9", "--bootstrap", "50"], "stats.bootstrap", 50),
    "seed": (["--ci", "0.9", "--seed", "3"], "stats.seed", 3),
    "baseline": (["--baseline", "knn"], "stats.baseline", "knn"),
    "sort": (["--sort", "mae"], "output.sort", "mae"),
    "fail_above": (["--fail-above", "mse=1"], "gates.fail_above", "mse=1"),
    "fail_if_worse": (["--baseline", "knn", "--fail-if-worse"], "gates.fail_if_worse", True),
    "fail_if_worse_by": (["--baseline", "knn", "--fail-if-worse-by", "mae=5%"], "gates.fail_if_worse_by", "mae=5%"),
    "fmt": (["-f", "json"], "output.format", "json"),
    "output": (["-o", "out.csv"], "output.path", "out.csv"),
    "per_row": (["--per-row"], "output.per_row", True),
    "with_meta": (["-f", "json", "--meta"], "output.meta", True),
    "digits": (["--digits", "6"], "output.digits", 6),
    "quiet": (["-q"], "output.quiet", True),
    "verbose": (["-v"], "output.verbose", True),
    "no_color": (["--no-color"], "output.color", False),
    "engine": (["--engine", "dask"], "engine.name", "dask"),
    "scheduler": (["--engine", "dask", "--scheduler", "tcp://h:1"], "engine.scheduler", "tcp://h:1"),
    "workers": (["--engine", "dask", "--workers", "3"], "engine.workers", 3),
    "threads": (["--threads", "1"], "engine.threads", 1),
    "ci_method": (["--ci", "0.9", "--ci-method", "t"], "stats.ci_method", "t"),
    "timeout": (["--engine", "dask", "--timeout", "5"], "engine.timeout", 5.0),
}


# Options of the command line itself, not of the run: they choose where defaults come from.
CLI_ONLY = {"no_config"}


def _eval_parameters() -> list[str]:
    command = typer.main.get_command(app).commands["eval"]  # type: ignore[attr-defined]
    return [p.name for p in command.params]


def _captured(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Request:
    seen: list[Request] = []
    monkeypatch.setattr(eval_cli, "run_eval", seen.append)
    result = runner.invoke(app, ["eval", HOUSES, *args], env={"NO_COLOR": ""})
    assert result.exit_code == 0, result.output
    assert len(seen) == 1
    return seen[0]


def _field(request: Request, path: str) -> object:
    value: Any = request
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _shown(value: object) -> object:
    """Parsed values as the user typed them: loss specs by label, thresholds by text."""
    if isinstance(value, tuple) and value and hasattr(value[0], "label"):
        return ",".join(v.label for v in value)
    if isinstance(value, tuple) and value and hasattr(value[0], "limit"):
        return ",".join(v.text for v in value)
    return value


def test_every_option_of_eval_has_a_row_here() -> None:
    """A new option must be added to OPTIONS, and so be checked by the test below."""
    assert sorted(_eval_parameters()) == sorted([*OPTIONS, *CLI_ONLY])


def test_every_request_field_is_reached_by_an_option() -> None:
    reached = {path for _, path, _ in OPTIONS.values()}
    # Set by the API, not by eval's flags; output.top is advise's --top.
    internal = {"inputs.frame", "engine.chunk_rows", "caller", "output.top"}
    assert set(leaf_fields()) - internal == reached


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_every_option_of_eval_is_carried_into_the_request(monkeypatch: pytest.MonkeyPatch, option: str) -> None:
    args, path, expected = OPTIONS[option]
    default = _captured(monkeypatch, [])
    request = _captured(monkeypatch, args)
    assert _shown(_field(request, path)) == expected
    assert _field(request, path) != _field(default, path)


REFUSED = [
    (["--ci-method", "t"], "--ci-method"),
    (["--ci", "0.9", "--ci-method", "t", "--bootstrap", "100"], "--bootstrap"),
    (["--ci", "0.9", "--ci-method", "z"], "--ci-method"),
    (["--engine", "dask", "--threads", "2"], "--threads"),
    (["--join", "inner"], "--join"),
    (["--min-group-n", "3"], "--min-group-n"),
    (["--bootstrap", "200"], "--bootstrap"),
    (["--seed", "1"], "--seed"),
    (["--scheduler", "tcp://h:1"], "--scheduler"),
    (["--workers", "3"], "--workers"),
    (["--timeout", "3"], "--timeout"),
    (["--per-row", "--by", "region"], "--by"),
    (["--per-row", "--ci", "0.9"], "--ci"),
    (["--per-row", "--baseline", "knn"], "--baseline"),
    (["--per-row", "--sort", "mae"], "--sort"),
    (["--meta"], "--meta"),
    (["--meta", "-f", "csv"], "--meta"),
    (["--meta", "-f", "jsonl"], "--meta"),
    (["-f", "csv", "-o", "x.json"], "--format"),
    (["--fail-if-worse"], "--fail-if-worse"),
    (["--classes", "a,b"], "--classes"),
    (["--name", "a"], "--name"),
    (["--fail-if-worse-by", "mae=1"], "--fail-if-worse-by"),
    (["--baseline", "knn", "--fail-if-worse-by", "mae"], "--fail-if-worse-by"),
    (["--baseline", "knn", "--fail-if-worse-by", "mae=-1"], "--fail-if-worse-by"),
    (["--baseline", "knn", "--fail-if-worse-by", "mae=x%"], "--fail-if-worse-by"),
]


@pytest.mark.parametrize(("args", "option"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_options_that_do_not_apply_are_refused(tmp_path: Path, args: list[str], option: str) -> None:
    """Accepted and then ignored before the request existed; now one sentence, exit 2."""
    args = [a.replace("x.json", str(tmp_path / "x.json")) for a in args]
    result = runner.invoke(app, ["eval", HOUSES, *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("losscli: error: ")
    assert option in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_the_api_spells_options_as_parameters() -> None:
    with pytest.raises(OptionError, match=r"^min_group_n= hides small groups of by="):
        Request(Inputs(("f.csv",)), stats=Statistics(min_group_n=2), caller="api")


def test_the_request_is_frozen() -> None:
    request = Request(Inputs(("f.csv",)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.inputs = Inputs(("g.csv",))  # type: ignore[misc]


# --- the package's shape -------------------------------------------------------------------------

# Stages in the order data flows; a module may import its own stage or a lower one, never a higher.
LEVELS = {
    "errors": 0,
    "losses": 0,
    "arrow_buffers": 1,
    "spec": 1,
    "request": 1,
    "read": 2,
    "core": 2,
    "engines": 3,
    "report": 4,
    "plots": 4,
    "api": 5,
    "api_errors": 5,
    "scoring": 5,
    "cli": 6,
}
PACKAGE = ROOT / "losscli"


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "losscli" else None


def _imports(path: Path) -> list[str]:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found += [name] if node.module else [f"{name}.{a.name}" for a in node.names]
    return found


def test_stages_import_one_way() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        here = _stage(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if here is None or here in ("__init__", "__main__"):
            continue
        for name in _imports(path):
            there = _stage(name)
            if there in LEVELS and LEVELS[there] > LEVELS[here]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
            if {here, there} == {"read", "core"}:
                wrong.append(f"{path.relative_to(ROOT)} imports {name} (read and core are independent)")
    assert not wrong, "\n".join(wrong)


def test_the_core_is_pure() -> None:
    """losses/ imports only NumPy and the standard library (and its own modules, and the
    exception hierarchy, itself standard library only, so ``losses.get("hubr")`` raises a
    LossCliError)."""
    own = ("losscli.losses", "losscli.errors")
    for path in (PACKAGE / "losses").rglob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] not in ("pandas", "pyarrow", "typer", "rich"), f"{path.name} imports {name}"
            assert not name.startswith("losscli.") or name.startswith(own), f"{path.name} imports {name}"
    errors = _imports(PACKAGE / "errors.py")
    assert all(name.split(".")[0] in ("__future__", "unicodedata") for name in errors), errors


def test_no_function_is_longer_than_60_lines() -> None:
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "\n".join(long)
