"""Parse loss specifications such as ``huber:delta=2`` into ``LossSpec``.

Values are parsed as numbers or words (``true``, ``auto``), never evaluated.
A comma list is accepted too: ``-l mse,huber:delta=2,mae``. A comma piece
that holds ``=`` but no ``:`` continues the previous loss's parameters, so
``focal:gamma=2,alpha=0.25`` is one loss with two parameters.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from . import losses
from .errors import LossParameterError, UnknownLossError
from .losses import Loss, Param, ParamValue

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class LossSpec:
    """A loss with the parameters the user gave (``given``) and all that apply."""

    loss: Loss
    given: tuple[tuple[str, ParamValue], ...] = ()

    @property
    def name(self) -> str:
        return self.loss.name

    @property
    def params(self) -> dict[str, ParamValue]:
        """Every parameter, defaults filled in: what the kernel is called with."""
        return dict(self._params)

    @functools.cached_property
    def _params(self) -> dict[str, ParamValue]:
        # Computed once: the spec is frozen, and a million groups ask for it per result.
        return self.loss.defaults() | dict(self.given)

    def params_for(self, task: str) -> dict[str, ParamValue]:
        """The parameters that shape this loss on ``task``: what a signature or a record shows,
        so the spec pastes back into ``-l`` (zero_one on class columns has no threshold).

        >>> parse_spec("zero_one").params_for("multiclass"), parse_spec("zero_one").params_for("binary")
        ({}, {'threshold': 0.5})
        """
        return {k: v for k, v in self._params.items() if (p := self.loss.param(k)) is None or _applies(p, task)}

    @property
    def kernel_params(self) -> dict[str, ParamValue]:
        """The parameters the kernel is called with (not those that choose rows)."""
        return self.loss.kernel_params(self.params)

    @property
    def identity(self) -> tuple[str, tuple[tuple[str, ParamValue], ...]]:
        """The loss and every parameter, defaults filled in: ``huber`` and ``huber:delta=1`` are one
        loss however spelled, so gates, --sort and duplicates compare this, never the text."""
        return self.loss.name, tuple(sorted(self._params.items(), key=lambda kv: kv[0]))

    @property
    def label(self) -> str:
        """The column header: ``huber`` or, with parameters given, ``huber(delta=2)``.

        A parameter given at its default is left out (``huber:delta=1`` is ``huber``): a spec
        pasted from a signature, which writes every default, keeps the headers of the run it
        came from."""
        defaults = self.loss.defaults()
        shown = [(k, v) for k, v in self.given if k not in defaults or format_value(v) != format_value(defaults[k])]
        if not shown:
            return self.loss.name
        inner = ",".join(f"{k}={format_value(v)}" for k, v in shown)
        return f"{self.loss.name}({inner})"


def format_value(value: ParamValue) -> str:
    """A parameter value as a user would type it: 2.0 -> '2', True -> 'true'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def split_loss_args(args: Iterable[str]) -> list[str]:
    """Flatten repeated ``-l`` values and comma lists into one text per loss."""
    pieces: list[str] = []
    for arg in args:
        if arg.rstrip().endswith(","):
            # 'huber:delta=2,' may have lost the parameter or loss that was to follow: never guess.
            raise LossParameterError(
                f"loss list {arg.strip()!r} ends with a comma; remove it, or add the loss or parameter that follows"
            )
        for piece in _top_level_pieces(arg):
            piece = piece.strip()
            if not piece:
                continue
            if pieces and "=" in piece and ":" not in piece and "(" not in piece:
                pieces[-1] = f"{pieces[-1]}:{piece}"
            else:
                pieces.append(piece)
    return pieces


def _top_level_pieces(text: str) -> list[str]:
    """Split at the commas outside parentheses: a pasted label ``bce(eps=auto,label_smoothing=0)``
    is one loss, its commas separate its parameters."""
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char == "," and depth <= 0:
            pieces.append(text[start:i])
            start = i + 1
    return [*pieces, text[start:]]


def parse_spec(text: str) -> LossSpec:
    """One loss specification: ``name`` or ``name:param=value[:param=value]``."""
    name, _, rest = text.partition(":")
    if not rest and "(" in name and name.rstrip().endswith(")"):
        # A label pasted back (``huber(delta=2)``, ``bce(eps=auto,label_smoothing=0)``): the same spec.
        name, _, inner = name.rstrip()[:-1].partition("(")
        rest = inner.replace(",", ":")
    try:
        loss = losses.get(name)
    except UnknownLossError as exc:
        suggestions = exc.suggestions
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise UnknownLossError(f"unknown loss {name.strip()!r}{hint} (`losscli losses` lists them all)") from None
    given: dict[str, ParamValue] = {}
    for item in filter(None, (part.strip() for part in rest.split(":"))):
        key, eq, raw = item.partition("=")
        key = key.strip().lower()
        if not eq:
            raise LossParameterError(
                f"parameter {item!r} of loss {loss.name!r} needs a value, as in {loss.name}:{key}=VALUE"
            )
        if key in given:
            raise LossParameterError(f"{text!r} gives {key} twice; give each parameter once")
        given[key] = _parse_param(loss, key, raw.strip())
    return LossSpec(loss, tuple(given.items()))


def parse_specs(args: Iterable[str]) -> list[LossSpec]:
    """Every spec in order, identical ones once."""
    specs = [parse_spec(text) for text in split_loss_args(args)]
    # huber and huber:delta=1 are the same loss: computed and shown once, as first written.
    unique: dict[tuple[object, ...], LossSpec] = {}
    for spec in specs:
        unique.setdefault(spec.identity, spec)
    return list(unique.values())


def _parse_param(loss: Loss, key: str, raw: str) -> ParamValue:
    param = loss.param(key)
    if param is None:
        known = ", ".join(p.name for p in loss.params) or "none"
        raise LossParameterError(f"loss {loss.name!r} has no parameter {key!r} (its parameters: {known})")
    word = raw.lower()
    if param.kind == "bool":
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise LossParameterError(f"{loss.name}: {key} must be true or false, got {raw!r}")
    if param.kind == "float_or_auto" and word == "auto":
        return "auto"
    if param.kind == "float_or_none" and word in ("none", "null"):
        return None
    try:
        value = float(raw)
    except ValueError:
        words = {"float_or_auto": " or auto", "float_or_none": " or none"}.get(param.kind, "")
        raise LossParameterError(f"{loss.name}: {key} must be a number{words}, got {raw!r}") from None
    if not param.accepts(value):
        rule = param.rule()
        if not math.isfinite(value) and not rule.startswith("a finite number"):
            rule = f"a finite number {rule}"  # inf is > 0, yet no parameter takes it
        raise LossParameterError(f"{loss.name}: {key} must be {rule}, got {raw}")
    return value


def _applies(param: Param, task: str) -> bool:
    return param.tasks is None or task in param.tasks
