"""The NumPy core: pure per-row loss kernels and the registry that declares them.

This package imports only NumPy and the standard library.

>>> from losscli import losses
>>> losses.get("huber").name
'huber'
"""

from __future__ import annotations

from . import binary, multiclass, regression
from ._registry import REGISTRY, TASKS, Interval, Loss, Param, ParamValue, Task, ValueDomain
from .binary import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    brier,
    focal,
    hinge,
    squared_hinge,
    zero_one,
)
from .multiclass import (
    categorical_cross_entropy,
    categorical_cross_entropy_with_logits,
    crammer_singer_hinge,
    kl_divergence,
    negative_log_likelihood,
)
from .regression import (
    absolute_error,
    absolute_percentage_error,
    gamma_deviance,
    huber,
    log_cosh,
    pinball,
    poisson_deviance,
    smooth_l1,
    squared_error,
    squared_log_error,
    symmetric_absolute_percentage_error,
    tweedie_deviance,
)

get = REGISTRY.get


def all_losses() -> list[Loss]:
    """Every registered loss: regression, then binary, then multiclass."""
    return list(REGISTRY)


__all__ = [
    "REGISTRY",
    "TASKS",
    "Interval",
    "Loss",
    "Param",
    "ParamValue",
    "Task",
    "ValueDomain",
    "absolute_error",
    "absolute_percentage_error",
    "all_losses",
    "binary",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "brier",
    "categorical_cross_entropy",
    "categorical_cross_entropy_with_logits",
    "crammer_singer_hinge",
    "focal",
    "gamma_deviance",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "multiclass",
    "negative_log_likelihood",
    "pinball",
    "poisson_deviance",
    "regression",
    "smooth_l1",
    "squared_error",
    "squared_hinge",
    "squared_log_error",
    "symmetric_absolute_percentage_error",
    "tweedie_deviance",
    "zero_one",
]
