"""Centred, mergeable second moments: the spread behind t intervals and paired tests.

Raw moments (sum w x^2 - (sum w x)^2 / sum w) cancel when the mean is much larger
than the spread: at mean/spread 1e8 they keep no digit. A part of the data is kept
instead as (pivot K, shift A = sum w (x - K), M2 = sum w (x - mean)^2): its mean is
K + A / W, where K is a rounded mean and A carries what K's rounding lost, so two
parts' means differ by (K_b - K_a) + (A_b / W_b - A_a / W_a) to the last digit of
the spread, not of the mean. Parts merge by Chan, Golub & LeVeque's update,
M2 = sum M2_k + sum W_k (mean_k - mean)^2, for any number of parts at once.
The weights W are the caller's (its sums of w), given to every function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def combine(
    w: np.ndarray, pivot: np.ndarray, shift: np.ndarray, m2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (pivot, shift, M2) of the union of parts along axis 0 (part k: weight w[k], ...).

    The union keeps the pivot of its first part with weight; parts without weight
    count for nothing (their pivot and shift may be anything, even NaN).
    """
    has = w > 0
    first = np.argmax(has, axis=0)[None]
    base = np.take_along_axis(pivot, first, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.where(has, pivot - base, 0.0)
        offset = np.where(has, step + shift / np.where(has, w, 1.0), 0.0)
        weight = np.where(has, w, 0.0)
        total_w = weight.sum(axis=0)
        # sum_k A_k + W_k (K_k - K): the first weighted part's shift is kept as it is
        total_shift = (np.where(has, shift, 0.0) + weight * step).sum(axis=0)
        mean = total_shift / np.where(total_w > 0, total_w, 1.0)
        deviation = np.where(has, offset - mean, 0.0)
        total_m2 = np.where(has, m2, 0.0).sum(axis=0) + (weight * deviation * deviation).sum(axis=0)
    return base[0], total_shift, total_m2


def pair(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """combine() of two parts, each (w, pivot, shift, M2) of the same shape: the same floats
    (its sums over the two parts are NumPy's, 0 + a + b: a -0.0 sum is 0.0), without stacking
    the parts (half the time: every batch of every state merges its groups so)."""
    (w_a, pivot_a, shift_a, m2_a), (w_b, pivot_b, shift_b, m2_b) = a, b
    has_a, has_b = w_a > 0, w_b > 0
    base = np.where(has_a | ~has_b, pivot_a, pivot_b)  # the first part with weight (a if none has)
    with np.errstate(invalid="ignore", divide="ignore"):
        step_a, step_b = np.where(has_a, pivot_a - base, 0.0), np.where(has_b, pivot_b - base, 0.0)
        weight_a, weight_b = np.where(has_a, w_a, 0.0), np.where(has_b, w_b, 0.0)
        offset_a = np.where(has_a, step_a + shift_a / np.where(has_a, w_a, 1.0), 0.0)
        offset_b = np.where(has_b, step_b + shift_b / np.where(has_b, w_b, 1.0), 0.0)
        total_w = 0.0 + weight_a + weight_b
        moved_a = np.where(has_a, shift_a, 0.0) + weight_a * step_a
        total_shift = 0.0 + moved_a + (np.where(has_b, shift_b, 0.0) + weight_b * step_b)
        mean = total_shift / np.where(total_w > 0, total_w, 1.0)
        deviation_a, deviation_b = np.where(has_a, offset_a - mean, 0.0), np.where(has_b, offset_b - mean, 0.0)
        within = 0.0 + np.where(has_a, m2_a, 0.0) + np.where(has_b, m2_b, 0.0)
        total_m2 = within + (0.0 + weight_a * deviation_a * deviation_a + weight_b * deviation_b * deviation_b)
    return np.asarray(base), total_shift, total_m2


def of_rows(values: np.ndarray, weight: np.ndarray | None, total_w: float) -> tuple[float, float, float]:
    """(pivot, shift, M2) of rows, in two passes: the rounded mean, then the deviations from it."""
    if not total_w > 0:
        return 0.0, 0.0, 0.0
    wx = values if weight is None else weight * values
    pivot = float(wx.sum()) / total_w
    u = values - pivot
    wu = u if weight is None else weight * u
    shift = float(wu.sum())
    m2 = float(np.einsum("i,i->", wu, u)) - shift * shift / total_w
    return pivot, shift, max(m2, 0.0)


def of_groups(
    values: np.ndarray, weight: np.ndarray | None, rows: np.ndarray, sum_wx: np.ndarray, sum_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """of_rows() per group: ``rows`` gives each row's group, ``sum_wx`` and ``sum_w`` the groups' sums."""
    size = len(sum_w)
    with np.errstate(invalid="ignore", divide="ignore"):
        pivot = np.where(sum_w > 0, sum_wx / np.where(sum_w > 0, sum_w, 1.0), 0.0)
        u = values - pivot[rows]
        wu = u if weight is None else weight * u
        shift = np.bincount(rows, weights=wu, minlength=size)
        m2 = np.bincount(rows, weights=wu * u, minlength=size) - shift * shift / np.where(sum_w > 0, sum_w, 1.0)
    return pivot, shift, np.maximum(m2, 0.0)


def variance(m2: float, sum_w: float, sum_w2: float) -> tuple[float, float]:
    """(the weighted sample variance, Kish's effective n = (sum w)^2 / sum w^2): M2 / W scaled by
    n_eff / (n_eff - 1), which without weights is M2 / (n - 1), NumPy's ddof=1."""
    n_eff = sum_w * sum_w / sum_w2 if sum_w2 > 0 else 0.0
    if not (sum_w > 0 and n_eff > 1):  # one row's worth of weight has no spread
        return math.nan, n_eff
    return m2 / sum_w * n_eff / (n_eff - 1.0), n_eff


def pair_scalar(
    w: float, mine: tuple[float, float, float], part_w: float, part: tuple[float, float, float]
) -> tuple[float, float, float]:
    """pair() of two single parts: ``mine`` (weight w) with ``part`` (weight part_w), in Python floats."""
    if not part_w > 0:
        return mine
    if not w > 0:
        return part
    (pivot, shift, m2), (p_pivot, p_shift, p_m2) = mine, part
    step = p_pivot - pivot
    delta = step + p_shift / part_w - shift / w
    return pivot, shift + (part_w * step + p_shift), m2 + p_m2 + delta * delta * (w * part_w / (w + part_w))
