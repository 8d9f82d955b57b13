"""Shell completion of option values: loss names (with their parameters), formats, choices.

Typer calls these with what has been typed so far; they import only the NumPy
core, so completing stays quick, and only when called, so ``--help`` does not.
"""

from __future__ import annotations


def complete_loss(incomplete: str) -> list[tuple[str, str]]:
    """``hu`` -> huber, huber:delta=1; ``mse,ma`` -> mse,mae; ``huber:`` -> huber:delta=1."""
    from ..losses import REGISTRY
    from ..spec import format_value

    done, _, word = incomplete.rpartition(",")
    lead = f"{done}," if done else ""
    out = []
    for loss in REGISTRY:
        if not loss.name.startswith(word.split(":")[0].lower()):
            continue
        out.append((lead + loss.name, loss.description))
        if loss.params and (":" in word or word == loss.name):
            params = ":".join(f"{p.name}={format_value(p.default)}" for p in loss.params)
            out.append((f"{lead}{loss.name}:{params}", "with its parameters (defaults shown)"))
    return [(value, help) for value, help in out if value.startswith(incomplete) or ":" in incomplete]


def _choices(choices: tuple[str, ...], incomplete: str) -> list[str]:
    return [c for c in choices if c.startswith(incomplete)]


def complete_format(incomplete: str) -> list[str]:
    from ..request import SUMMARY_FORMATS

    return _choices(SUMMARY_FORMATS, incomplete)


def complete_nan(incomplete: str) -> list[str]:
    from ..request import NAN_POLICIES

    return _choices(NAN_POLICIES, incomplete)


def complete_join(incomplete: str) -> list[str]:
    from ..request import JOIN_POLICIES

    return _choices(JOIN_POLICIES, incomplete)


def complete_engine(incomplete: str) -> list[str]:
    from ..request import ENGINES

    return _choices(ENGINES, incomplete)


def complete_reduction(incomplete: str) -> list[str]:
    from ..losses import REDUCTIONS

    return _choices(tuple(REDUCTIONS), incomplete)
