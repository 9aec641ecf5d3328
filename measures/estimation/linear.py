"""What every estimator hands to the few-cluster-robust inference: an estimate that is linear in the outcome.

TWFE, the imputation estimator, Sun-Abraham and a difference in shares are all of the form
``estimate = w'y``. Each also has two linear residual operators: ``residuals`` (the residuals whose
weighted cluster sums give the cluster-robust variance, sum_g (sum_{i in g} w_i e_i)^2) and
``null_residuals`` (the residuals of the model with the effect held fixed, into which a null value tau0
enters as ``y - tau0 * treatment``). Because all three are linear in y, a restricted wild cluster
bootstrap, its inversion into a confidence interval and randomisation inference need only a few
applications of them (:mod:`measures.estimation.robust`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Operator = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class LinearEstimator:
    """An estimator linear in the outcome, with its variance and null model (see the module docstring).

    estimator: short name (``twfe``, ``imputation``, ``sun_abraham``, ``share_difference``).
    weights: w (n), estimate = w'y. residuals, null_residuals: operators on n or n x m arrays.
    treatment: the 0/1 treatment of the rows (n), as it enters the null model.
    clusters: cluster codes 0..G-1 (n); cluster_labels: the label of each code.
    se_factor: small-sample factor on the variance (G/(G-1), or fixest's CR1 factor for TWFE).
    n_entities: units in the estimate; description: the estimator in words; n_used: rows in the estimate
    when the arrays hold rows it leaves out (weight 0 and residual 0 there).
    """

    estimator: str
    weights: np.ndarray
    residuals: Operator
    null_residuals: Operator
    treatment: np.ndarray
    clusters: np.ndarray
    cluster_labels: np.ndarray
    se_factor: float
    n_entities: int
    description: str
    n_used: int | None = None  # rows in the estimate when some rows of the arrays are left out

    @property
    def n_obs(self) -> int:
        return len(self.weights) if self.n_used is None else self.n_used

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_labels)

    def estimate(self, Y: np.ndarray) -> np.ndarray | float:
        """w'Y: one estimate per column of Y."""
        return self.weights @ Y

    def scores(self, Y: np.ndarray) -> np.ndarray:
        """Cluster sums of w_i e_i (G, or G x m for several outcomes): the variance is their sum of squares."""
        return cluster_sums(self.residuals(Y), self.clusters, self.n_clusters, weights=self.weights)

    def se(self, y: np.ndarray) -> float:
        """Cluster-robust standard error of w'y, with ``se_factor``."""
        return float(np.sqrt(self.se_factor * np.sum(self.scores(y) ** 2)))

    def treated_clusters(self) -> np.ndarray:
        """Which clusters (by code) hold a treated row."""
        return np.bincount(self.clusters, weights=self.treatment, minlength=self.n_clusters) > 0


def cluster_sums(
    values: np.ndarray, codes: np.ndarray, n_clusters: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Sum the rows of ``values`` (n or n x m), times ``weights`` (n) when given, within clusters ``codes``.

    A bincount per column: no n x m temporary (a design matrix of a million rows is a hundred megabytes or
    more), and faster than a sparse cluster-by-row indicator at every size (building the indicator alone costs
    more than the sums, which randomisation inference pays once per assignment). Each cluster's sum adds its
    rows in row order, as the indicator's product did: the same bits.
    """

    def column_sums(column: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=column if weights is None else column * weights, minlength=n_clusters)

    if values.ndim == 1:
        return column_sums(values)
    return np.column_stack([column_sums(column) for column in values.T])


def cluster_codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..G-1 in sorted order of the labels, and the labels: the same employer gets the same code
    (and so the same bootstrap weight) in every estimate of a run."""
    # hashed, then only the distinct labels sorted (np.unique sorts every row: seconds for a million strings)
    codes, uniques = pd.factorize(np.asarray(labels).ravel(), sort=True)
    return codes, np.asarray(uniques)
