"""The NumPy core: pure per-row loss kernels and the registry that declares them.

This package imports only NumPy and the standard library.

>>> from losscli import losses
>>> losses.get("huber").name
'huber'
"""

from __future__ import annotations

from . import binary, multiclass, regression
from ._registry import (
    REGISTRY,
    TASKS,
    Interval,
    Loss,
    Param,
    ParamValue,
    Task,
)
from .binary import binary_cross_entropy, hinge
from .multiclass import categorical_cross_entropy
from .regression import absolute_error, huber, squared_error

get = REGISTRY.get


def all_losses() -> list[Loss]:
    """Every registered loss, in declaration order."""
    return list(REGISTRY)


__all__ = [
    "REGISTRY",
    "TASKS",
    "Interval",
    "Loss",
    "Param",
    "ParamValue",
    "Task",
    "absolute_error",
    "all_losses",
    "binary",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "get",
    "hinge",
    "huber",
    "multiclass",
    "regression",
    "squared_error",
]
