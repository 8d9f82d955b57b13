"""Regenerate sample_data/ (seeded, so the files are the same every time).

    python sample_data/make_sample_data.py

- house_prices: regression, target `y` (price in $1000s), models `linear`,
  `gbm` and `knn`. `gbm` is the most accurate on most houses but badly wrong
  on a handful, so MSE and MAE/Huber disagree about the best model.
- churn: binary, target `y` in {0, 1}, probabilities from `logreg`, `xgb`
  and a constant `prior`.
- iris_probs: multiclass, target `label` (setosa / versicolor / virginica),
  class probabilities as `logreg.CLASS` and `tree.CLASS` columns.
- forecast: daily demand `y` with Gaussian forecasts `calibrated.mean/std` and
  `overconfident.mean/std` (the same means, a third of the spread).
- forecast_quantiles: the same demand with quantile forecasts `qr.q10/q50/q90`
  (calibrated) and `wide.q10/q50/q90` (intervals twice too wide).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def house_prices(rng: np.random.Generator, n: int = 200) -> pd.DataFrame:
    y = rng.gamma(shape=6.0, scale=50.0, size=n).round(1)
    gbm = y + rng.normal(0, 12, n)
    outliers = rng.choice(n, size=5, replace=False)
    gbm[outliers] += rng.choice([-1, 1], size=5) * rng.uniform(250, 400, size=5)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "region": rng.choice(["north", "south", "east", "west"], size=n),
            "y": y,
            "linear": (y + rng.normal(0, 30, n)).round(2),
            "gbm": gbm.round(2),
            "knn": (y + rng.normal(0, 25, n)).round(2),
        }
    )


def churn(rng: np.random.Generator, n: int = 300) -> pd.DataFrame:
    logit = rng.normal(-0.8, 1.5, n)
    p_true = 1 / (1 + np.exp(-logit))
    y = (rng.uniform(size=n) < p_true).astype(int)
    logreg = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.6, n))))
    xgb = 1 / (1 + np.exp(-(1.6 * logit + rng.normal(0, 0.9, n))))
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "y": y,
            "logreg": logreg.round(4),
            "xgb": xgb.round(4),
            "prior": np.full(n, round(float(y.mean()), 4)),
        }
    )


def iris_probs(rng: np.random.Generator, n: int = 150) -> pd.DataFrame:
    classes = np.array(["setosa", "versicolor", "virginica"])
    y = rng.integers(0, 3, n)
    out = pd.DataFrame({"id": np.arange(1, n + 1), "label": classes[y]})
    for model, sharpness, noise in (("logreg", 2.5, 1.0), ("tree", 4.0, 2.2)):
        scores = rng.normal(0, noise, (n, 3))
        scores[np.arange(n), y] += sharpness
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        probs = probs.round(4)
        probs[:, 2] = (1 - probs[:, 0] - probs[:, 1]).round(4)  # rows sum to 1 exactly
        for k, name in enumerate(classes):
            out[f"{model}.{name}"] = probs[:, k]
    return out


def forecasts(rng: np.random.Generator, n: int = 240) -> tuple[pd.DataFrame, pd.DataFrame]:
    day = np.arange(1, n + 1)
    level = 100 + 20 * np.sin(2 * np.pi * day / 7)
    sigma = rng.uniform(5, 15, n)
    y = (level + rng.normal(0, 1, n) * sigma).round(1)
    mean = level.round(2)
    z90 = 1.2815515655446004  # the 90% quantile of a standard normal
    gaussian = pd.DataFrame(
        {
            "id": day,
            "y": y,
            "calibrated.mean": mean,
            "calibrated.std": sigma.round(2),
            "overconfident.mean": mean,
            "overconfident.std": (sigma / 3).round(2),
        }
    )
    quantiles = pd.DataFrame({"id": day, "y": y})
    for name, scale in (("qr", 1.0), ("wide", 2.0)):
        for q, z in (("q10", -z90), ("q50", 0.0), ("q90", z90)):
            quantiles[f"{name}.{q}"] = (mean + z * scale * sigma).round(2)
    return gaussian, quantiles


def main() -> None:
    rng = np.random.default_rng(20261124)
    for name, frame in (
        ("house_prices", house_prices(rng)),
        ("churn", churn(rng)),
        ("iris_probs", iris_probs(rng)),
    ):
        frame.to_csv(HERE / f"{name}.csv", index=False)
        frame.to_parquet(HERE / f"{name}.parquet", index=False)
        print(f"wrote {name}.csv and {name}.parquet ({len(frame)} rows)")
    # Their own seed, so adding them left the files above unchanged.
    gaussian, quantiles = forecasts(np.random.default_rng(20261129))
    for name, frame in (("forecast", gaussian), ("forecast_quantiles", quantiles)):
        frame.to_csv(HERE / f"{name}.csv", index=False)
        print(f"wrote {name}.csv ({len(frame)} rows)")


if __name__ == "__main__":
    main()
