"""The shape every loss takes, and the one registry that holds them.

A loss is declared, not coded as a class: a name, its aliases, the task it
serves, its parameters with their domains, a per-row kernel and an optional
finisher. Everything else in losscli (the CLI's choices, ``losscli losses``,
the README table, the tests) iterates this registry.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

# The one exception hierarchy (a standard-library-only module): a failed lookup is a user error.
from ..errors import ArgumentTypeError, UnknownLossError

FloatArray = npt.NDArray[np.float64]
Task = Literal["regression", "binary", "multiclass"]
TASKS: tuple[Task, ...] = ("regression", "binary", "multiclass")

# What a kernel expects in y_pred; the evaluator checks it before calling.
PredKind = Literal["real", "probability", "score", "logit", "log_probability"]
# What a kernel expects in y_true.
TargetKind = Literal["real", "binary", "class_index"]

ParamValue = float | bool | str | None
Kernel = Callable[..., FloatArray]
# What a finished value is: a loss (lower is better) or a skill score (higher is better).
Reduction = Literal["mean", "sum"]
REDUCTIONS: tuple[Reduction, ...] = ("mean", "sum")


@dataclass(frozen=True)
class Interval:
    """A closed, open or half-open range of real numbers a parameter may take."""

    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = True
    high_closed: bool = True

    def contains(self, value: float) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below and not math.isnan(value)

    def describe(self) -> str:
        """The rule in words a user reads, e.g. '> 0' or 'between 0 and 1'."""
        has_low, has_high = math.isfinite(self.low), math.isfinite(self.high)
        low_op = ">=" if self.low_closed else ">"
        high_op = "<=" if self.high_closed else "<"
        if has_low and has_high:
            if self.low_closed and self.high_closed:
                return f"between {_fmt(self.low)} and {_fmt(self.high)}"
            return f"{low_op} {_fmt(self.low)} and {high_op} {_fmt(self.high)}"
        if has_low:
            return f"{low_op} {_fmt(self.low)}"
        if has_high:
            return f"{high_op} {_fmt(self.high)}"
        return "a finite number"


POSITIVE = Interval(0.0, math.inf, low_closed=False)
NON_NEGATIVE = Interval(0.0, math.inf)
UNIT = Interval(0.0, 1.0)
HALF_OPEN_UNIT = Interval(0.0, 1.0, high_closed=False)
OPEN_UNIT = Interval(0.0, 1.0, low_closed=False, high_closed=False)


@dataclass(frozen=True)
class Param:
    """One parameter of a loss: its default, its type and its domain.

    ``kind`` is ``"float"`` (a number in ``domain``), ``"bool"``, or
    ``"float_or_auto"`` / ``"float_or_none"`` where a word stands for a
    computed default (``eps=auto`` is float64 machine epsilon).
    """

    name: str
    default: ParamValue
    help: str
    kind: Literal["float", "bool", "float_or_auto", "float_or_none"] = "float"
    domain: Interval = Interval()
    # A gap inside the domain (tweedie's power may not lie in (0, 1)).
    forbidden: Interval | None = None
    # False for a parameter that chooses rows (ignore_index) rather than shaping the kernel:
    # the reader applies it, and the kernel is called without it.
    kernel_arg: bool = True
    # The tasks it shapes (None: every task of the loss); zero_one's threshold means nothing
    # for class columns, whose predicted class is the argmax.
    tasks: tuple[str, ...] | None = None

    def accepts(self, value: float) -> bool:
        inside = self.domain.contains(value) and math.isfinite(value)
        return inside and not (self.forbidden is not None and self.forbidden.contains(value))

    def rule(self) -> str:
        """The domain in words: '> 0', 'between 0 and 1', 'outside (0, 1)'."""
        if self.kind == "bool":
            return "true or false"
        text = self.domain.describe()
        if self.forbidden is not None:
            gap = self.forbidden
            brackets = ("[" if gap.low_closed else "(", "]" if gap.high_closed else ")")
            outside = f"outside {brackets[0]}{_fmt(gap.low)}, {_fmt(gap.high)}{brackets[1]}"
            text = outside if text == "a finite number" else f"{text} and {outside}"
        if self.kind == "float_or_auto":
            text += ", or auto"
        elif self.kind == "float_or_none":
            text += ", or none"
        return text


@dataclass(frozen=True)
class ValueDomain:
    """Where y_true and y_pred must lie for a loss to be defined (None: anywhere finite)."""

    target: Interval | None = None
    pred: Interval | None = None
    why: str = ""


@dataclass(frozen=True)
class Skill:
    """How a skill score 1 - dev(model) / dev(best constant) finds its reference.

    ``stats(y_true, **params)`` gives per-row statistics of the target alone, (n, m);
    their weighted means are mergeable like any loss's, and ``reference(means, **params)``
    turns them into the mean deviance of the best constant prediction. Where no such
    finite set of statistics exists (the weighted median of D2 absolute error),
    ``exact_reference(y_true, weight, **params)`` takes the targets themselves: the
    state then grows with the rows (16 bytes a row), which --explain says.
    """

    stats: Callable[..., FloatArray] | None = None
    reference: Callable[..., float] | None = None
    exact_reference: Callable[..., float] | None = None


@dataclass(frozen=True, eq=False)  # one object per loss: compared and hashed by identity
class Loss:
    """A declarative loss definition: everything losscli knows about one loss."""

    name: str
    task: Task
    kernel: Kernel
    formula: str
    description: str
    reference: str
    aliases: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    finisher: Callable[[float], float] | None = None
    # For losses of r = y_pred - y_true alone: the same loss as a function of r, so the
    # evaluator computes the residual once per block for all of them.
    residual_kernel: Callable[..., FloatArray] | None = None
    # The same per-row values for the evaluator's blocks, every model at once, written into
    # buffers reused from block to block: block_kernel(block, **params) -> (values, scale), the
    # loss being scale * values; None where the block cannot take this form (see _block.py).
    block_kernel: Callable[..., tuple[FloatArray, float] | None] | None = None
    pred_kind: PredKind = "real"
    target_kind: TargetKind = "real"
    # Other tasks the same kernel serves (brier is binary and multiclass).
    also_tasks: tuple[Task, ...] = ()
    # Where the inputs must lie, possibly depending on the parameters (tweedie's power).
    value_domain: Callable[[dict[str, ParamValue]], ValueDomain] | None = None
    # Multiclass: also takes a (n, k) matrix of target probabilities (soft targets).
    soft_targets: bool = False
    # Multiclass: each row of predictions must sum to 1 (unless normalize=true).
    needs_distribution: bool = False
    # Properties the tests check generically (scikit-learn's test_common idea).
    nonnegative: bool = True
    zero_at_perfect: bool = True
    symmetric: bool = False
    explain: str = ""
    # d loss / d y_pred, row by row (same shape as y_pred); None where there is none.
    gradient: Kernel | None = None
    # A skill score (D2): higher is better, finished from the mean deviance and a reference.
    higher_is_better: bool = False
    skill: Skill | None = None
    # What y_pred must hold: one number a row (point), a Gaussian [mean, var] or a set of
    # quantiles (with ``levels``). A point loss on a Gaussian model uses the mean, on a
    # quantile model the median, unless it declares ``on_quantiles``: the same loss over the
    # whole set (pinball averaged over the levels given).
    pred_shape: Literal["point", "gaussian", "quantiles"] = "point"
    on_quantiles: Kernel | None = None
    on_quantiles_gradient: Kernel | None = None
    # The value a calibrated prediction has (coverage: 1 - alpha), from a quantile model's
    # levels and the parameters: models rank by their distance from it, not by the value.
    nominal: Callable[..., float] | None = None

    @property
    def tasks(self) -> tuple[Task, ...]:
        return (self.task, *self.also_tasks)

    def __reduce__(self) -> tuple[Callable[[str], Loss], tuple[str]]:
        # Pickled by name (for worker processes): the receiver gets its own registry's object.
        return (registered, (self.name,))

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}

    def kernel_params(self, params: dict[str, ParamValue]) -> dict[str, ParamValue]:
        """The parameters the kernel takes: those that choose rows are the reader's."""
        return {k: v for k, v in params.items() if (p := self.param(k)) is None or p.kernel_arg}

    def per_row(self, y_true: np.ndarray, y_pred: np.ndarray, **params: ParamValue) -> FloatArray:
        """The per-row loss with defaults filled in for parameters not given."""
        return self.kernel(y_true, y_pred, **self.kernel_params(self.defaults() | params))

    def domain(self, params: dict[str, ParamValue]) -> ValueDomain:
        return self.value_domain(params) if self.value_domain is not None else ValueDomain()

    def finish(self, mean: float) -> float:
        return self.finisher(mean) if self.finisher is not None else mean

    def grad(self, y_true: np.ndarray, y_pred: np.ndarray, **params: ParamValue) -> FloatArray:
        """d loss / d y_pred per row, defaults filled in (ValueError where none is declared)."""
        if self.gradient is None:
            raise ValueError(f"loss {self.name!r} declares no gradient")
        return self.gradient(y_true, y_pred, **self.kernel_params(self.defaults() | params))

    @property
    def summable(self) -> bool:
        """Whether ``reduction=sum`` means something: no finisher, not a skill score."""
        return self.finisher is None and self.skill is None


class Registry:
    """Losses by canonical name and alias, in the order they were declared."""

    def __init__(self) -> None:
        self._by_name: dict[str, Loss] = {}
        self._lookup: dict[str, Loss] = {}

    def add(self, loss: Loss) -> Loss:
        for key in (loss.name, *loss.aliases):
            if key in self._lookup:
                raise ValueError(f"loss name {key!r} is declared twice")
            self._lookup[key] = loss
        self._by_name[loss.name] = loss
        return loss

    def get(self, name: str) -> Loss:
        """The loss called ``name`` (or one of its aliases), case-insensitive.

        Raises ``UnknownLossError`` (a ``KeyError``) naming the closest names, also
        kept as its ``suggestions``.
        """
        if not isinstance(name, str):
            raise ArgumentTypeError(f"a loss is named by a string such as 'huber', not {type(name).__name__}")
        key = name.strip().lower().replace("-", "_")
        try:
            return self._lookup[key]
        except KeyError:
            close = difflib.get_close_matches(key, list(self._lookup), n=3, cutoff=0.6)
            suggestions = list(dict.fromkeys(self._lookup[c].name for c in close))
            hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
            raise UnknownLossError(f"unknown loss {name.strip()!r}{hint}", suggestions) from None

    def __iter__(self) -> Iterator[Loss]:
        """Losses grouped by task (regression, binary, multiclass), point losses before those of
        predictive distributions, then as declared."""
        return iter(
            sorted(self._by_name.values(), key=lambda loss: (TASKS.index(loss.task), loss.pred_shape != "point"))
        )

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        return [loss.name for loss in self]

    def all_names(self) -> list[str]:
        """Canonical names and aliases: every word a user may type."""
        return list(self._lookup)


def _fmt(value: float) -> str:
    return f"{value:g}"


REGISTRY = Registry()
register = REGISTRY.add


def registered(name: str) -> Loss:
    """The registered loss called ``name`` (what a pickled Loss unpickles to)."""
    return REGISTRY.get(name)
