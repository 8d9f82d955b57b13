"""The NumPy core: pure per-row loss kernels and the registry that declares them.

This package imports only NumPy and the standard library.

>>> from losscli import losses
>>> losses.get("huber").name
'huber'
"""

from __future__ import annotations

from . import binary, multiclass, probabilistic, regression
from ._registry import REDUCTIONS, REGISTRY, TASKS, Interval, Loss, Param, ParamValue, Skill, Task, ValueDomain
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
from .probabilistic import coverage, crps_gaussian, gaussian_nll, interval_score
from .regression import (
    absolute_error,
    absolute_percentage_error,
    gamma_deviance,
    huber,
    log_cosh,
    pinball,
    pinball_set,
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
    "REDUCTIONS",
    "REGISTRY",
    "TASKS",
    "Interval",
    "Loss",
    "Param",
    "ParamValue",
    "Skill",
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
    "coverage",
    "crammer_singer_hinge",
    "crps_gaussian",
    "focal",
    "gamma_deviance",
    "gaussian_nll",
    "get",
    "hinge",
    "huber",
    "interval_score",
    "kl_divergence",
    "log_cosh",
    "multiclass",
    "negative_log_likelihood",
    "pinball",
    "pinball_set",
    "poisson_deviance",
    "probabilistic",
    "regression",
    "smooth_l1",
    "squared_error",
    "squared_hinge",
    "squared_log_error",
    "symmetric_absolute_percentage_error",
    "tweedie_deviance",
    "zero_one",
]
