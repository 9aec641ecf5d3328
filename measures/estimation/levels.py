"""Levels without a comparison group: a mean with a cluster-robust interval, and a share with Wilson's.

- `cluster_mean`: the mean of one value per person, its standard error clustered (CR1: the squared cluster sums
  of deviations, times G/(G-1)), the interval and p-value (for H0: mean = `null`) from t(G-1), as for the
  clustered effects. With fewer than two clusters, or values that do not vary, there is no clustered interval
  (EstimationError).
- `wilson_interval`: the 95% interval of a share of independent yes/no values (descriptive tables).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from measures.estimation.errors import EstimationError
from measures.estimation.inference import Estimate, t_inference


def cluster_mean(values: np.ndarray, clusters: np.ndarray, null: float = 0.0, level: float = 0.95) -> Estimate:
    """The mean of `values` with a CR1 standard error clustered by `clusters` and a t(G-1) interval; the p-value
    tests mean = `null`."""
    y = np.asarray(values, dtype=float)
    labels, codes = np.unique(np.asarray(clusters).astype(str), return_inverse=True)
    keep = ~np.isnan(y)
    y, codes = y[keep], codes[keep]
    n, g = len(y), len(np.unique(codes))
    if n == 0:
        raise EstimationError("no values")
    if g < 2:
        raise EstimationError("a clustered interval needs at least two clusters")
    mean = float(y.mean())
    sums = np.bincount(codes, weights=y - mean, minlength=len(labels))
    se = float(np.sqrt(g / (g - 1) * np.sum(sums**2)) / n)
    if se == 0:
        raise EstimationError("the clusters' values do not vary: no clustered interval")
    low, high, _ = t_inference(mean, se, g - 1, level)
    _, _, p = t_inference(mean - null, se, g - 1, level)
    method = f"mean with a CR1 standard error clustered by {g} clusters, t({g - 1}) interval"
    return Estimate(mean, se, low, high, p, None, n, n, g, float(g - 1), method)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval of a share (nan, nan for n = 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    z = float(special.ndtri(0.5 + level / 2))  # scipy.special, not scipy.stats: see inference.t_quantile
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)
