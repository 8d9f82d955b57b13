"""Defaults a team can commit: ``[tool.losscli]`` in the nearest pyproject.toml, or a losscli.toml.

The nearest file wins, looking from the current directory upward; in each
folder a ``losscli.toml`` (its keys at the top level) comes before a
``pyproject.toml`` (its ``[tool.losscli]`` table; a pyproject.toml without one
is passed over). Keys are ``eval``'s long option names (``loss``,
``fail-above``, ``format``); values are checked by the same option types as
the command line, and what the command line or an environment variable sets
wins. An unknown key is an error that names the key and the file.

>>> suggestion("fail_above", ["fail-above", "format"])
" (did you mean 'fail-above'?)"
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

# Typer (pinned below 0.27) carries its own copy of Click: its contexts and parameters are these.
from typer._click.core import Context, Parameter, ParameterSource
from typer._click.exceptions import BadParameter
from typer._click.types import FloatParamType, IntParamType

from ..errors import LossCliError, OptionError

E = TypeVar("E", bound=LossCliError)

# Options that configure the run but not what it computes: not settable from a file.
NOT_IN_CONFIG = frozenset({"no-config", "help"})


@dataclass(frozen=True)
class Config:
    path: Path
    values: dict[str, Any]

    @property
    def where(self) -> str:
        return f"[tool.losscli] in {self.path}" if self.path.name == "pyproject.toml" else str(self.path)


def find_config(start: Path) -> Config | None:
    """The nearest losscli.toml, or pyproject.toml with a [tool.losscli] table, from ``start`` up."""
    for folder in [start, *start.parents]:
        own = folder / "losscli.toml"
        if own.is_file():
            return Config(own, _read(own))
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read(pyproject).get("tool", {}).get("losscli")
            if table is not None:
                if not isinstance(table, dict):
                    raise OptionError(f"{pyproject}: [tool.losscli] must be a table of option = value")
                return Config(pyproject, table)
    return None


def _read(path: Path) -> dict[str, Any]:
    import tomllib  # only when a config file exists: its import costs a few ms of every start

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise OptionError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8: blamed on this file, not on the data read next
        raise OptionError(f"{path}: not valid TOML (not UTF-8 text: byte {exc.start} cannot be read)") from None
    except OSError as exc:
        raise OptionError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def long_name(param: Parameter) -> str | None:
    """``fail-above`` for ``--fail-above``: the key of an option in a config file."""
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0][2:] if longs and param.param_type_name == "option" else None


def suggestion(key: str, keys: list[str]) -> str:
    close = difflib.get_close_matches(key.replace("_", "-"), keys, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def apply_config(ctx: Context, config: Config) -> dict[str, str]:
    """Fill ``ctx.params`` from the config where neither the command line nor an environment
    variable set the option. Returns the flags set from the file (``--baseline``), for messages."""
    options = {name: p for p in ctx.command.params if (name := long_name(p)) and name not in NOT_IN_CONFIG}
    set_here: dict[str, str] = {}
    for key, raw in config.values.items():
        param = options.get(key)
        if param is None or param.name is None:
            raise OptionError(
                f"unknown key {key!r} in {config.where}{suggestion(key, sorted(options))}; "
                "keys are the long options of losscli eval"
            )
        source = ctx.get_parameter_source(param.name)
        if source not in (None, ParameterSource.DEFAULT):
            continue
        ctx.params[param.name] = _convert(ctx, param, key, raw, config)
        set_here[f"--{key}"] = config.where
    return set_here


def _convert(ctx: Context, param: Parameter, key: str, raw: Any, config: Config) -> Any:
    """A TOML value checked and converted by the option's own type (ranges included)."""
    if param.multiple:
        raw = raw if isinstance(raw, list) else [raw]
    elif isinstance(raw, list | dict):
        raise OptionError(f"{config.path}: {key} takes one value, not {raw!r}")
    if getattr(param, "is_flag", False) and not isinstance(raw, bool):
        raise OptionError(f"{config.path}: {key} is a flag; write {key} = true or false, not {raw!r}")
    kind = _number_kind(param, raw)
    if kind is not None:  # Click's words ("is not a valid integer range") name its types, not the rule
        shown = str(raw).lower() if isinstance(raw, bool) else repr(raw)  # as TOML writes it
        raise OptionError(f"{config.path}: {key} = {shown} must be {kind}")
    try:
        return param.type_cast_value(ctx, raw)
    except BadParameter as exc:
        raise OptionError(f"{config.path}: {key}: {exc.message}") from None


def _number_kind(param: Parameter, raw: Any) -> str | None:
    """'a whole number' or 'a number' when ``raw`` is not one and the option takes one (Click
    would take 2.5 and true as the whole numbers 2 and 1)."""

    kind, cast = (
        ("a whole number", int)
        if isinstance(param.type, IntParamType)
        else ("a number", float)
        if isinstance(param.type, FloatParamType)
        else (None, float)
    )
    if kind is None:
        return None
    values = raw if isinstance(raw, list) else [raw]
    for value in values:
        if isinstance(value, bool) or (isinstance(value, float) and cast is int):
            return kind
        try:
            cast(value)
        except (TypeError, ValueError):
            return kind
    return None


def blame(exc: E, set_here: dict[str, str]) -> E:
    """A refusal of an option that came from the config file says so (the error keeps its class):
    when building the request, or later, when a gate or --baseline meets the data."""
    message = str(exc).rstrip(".")
    for flag, where in set_here.items():
        if re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", message):
            return type(exc)(f"{message} ({flag} comes from {where})")
    return exc
