"""Restricted wild cluster bootstrap (WCR) p-value for one coefficient.

Works on data from which the fixed effects were already partialled out
(Frisch-Waugh-Lovell), so the bootstrap never builds dummy matrices. Because
the bootstrap errors ``u_i * w_g`` are no longer orthogonal to the fixed
effects (the weights vary across clusters, time effects cut across clusters),
the caller passes the fixed-effect annihilator ``demean`` so that every
bootstrap residual is the exact full-model residual. The bootstrap is fully
vectorised: the statistic of draw b is linear in the b-th row of a B x G
weight matrix, so the B draws cost two small matrix products (the "fast"
algorithm of Roodman et al. 2019, boottest).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from measures.estimation.inference import SEED

# Webb (2014) six-point distribution: mean 0, variance 1, and 6^G distinct
# draws, which keeps the bootstrap distribution smooth with very few clusters.
WEBB_POINTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def webb_weights(reps: int, n_clusters: int, seed: int) -> np.ndarray:
    """Return a ``reps x n_clusters`` matrix of Webb weights drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    return WEBB_POINTS[rng.integers(0, 6, size=(reps, n_clusters))]


def cluster_sums(
    values: np.ndarray, codes: np.ndarray, n_clusters: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Sum the rows of ``values`` (n or n x m), times ``weights`` (n) when given, within clusters ``codes``.

    A sparse cluster-by-row indicator times one column at a time: faster than a bincount per column, and
    no n x m temporary (a design matrix of a million rows is a hundred megabytes or more).
    """
    n = len(codes)
    indicator = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_clusters, n))

    def column_sums(column: np.ndarray) -> np.ndarray:
        return indicator @ (column if weights is None else column * weights)

    if values.ndim == 1:
        return column_sums(values)
    return np.column_stack([column_sums(column) for column in values.T])


def _partial_out(target: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Residual of ``target`` after least squares on the columns of ``others``."""
    if others.shape[1] == 0:
        return target.copy()
    coef = np.linalg.lstsq(others, target, rcond=None)[0]
    return target - others @ coef


def wild_cluster_p_value(
    y: np.ndarray,
    X: np.ndarray,
    column: int,
    clusters: np.ndarray,
    demean: Callable[[np.ndarray], np.ndarray] | None = None,
    reps: int = 999,
    seed: int = SEED,
) -> float:
    """Two-sided WCR wild cluster bootstrap p-value for H0: beta[column] = 0.

    Inputs: ``y`` (n) and ``X`` (n x k), both already demeaned by the fixed
    effects; ``column``: index of the tested coefficient in ``X``;
    ``clusters``: cluster labels (n); ``demean``: the fixed-effect
    annihilator applied column-wise to an n x m array (None when the model has
    no fixed effects); ``reps`` bootstrap draws with Webb weights from
    ``numpy.random.default_rng(seed)``.
    Output: share of bootstrap |t*| at least as large as the observed |t|,
    where t uses the cluster-robust (CR1) standard error. The CR1 small-sample
    factor multiplies t and every t* alike, so it is left out.
    """
    codes, _ = _codes(clusters)
    n_clusters = int(codes.max()) + 1
    others = np.delete(X, column, axis=1)
    u_restricted = _partial_out(y, others)  # residual with the null imposed
    x_tilde = _partial_out(X[:, column], others)  # FWL regressor of interest

    # Observed t-statistic (CR1 up to the common factor).
    beta = x_tilde @ u_restricted / (x_tilde @ x_tilde)
    scores = cluster_sums(x_tilde * (u_restricted - x_tilde * beta), codes, n_clusters)
    t_obs = beta * (x_tilde @ x_tilde) / np.sqrt(scores @ scores)

    # Bootstrap: y* = restricted fit + u_restricted * w_g. The numerator and
    # the cluster scores of the full-model residual are linear in w.
    numer = cluster_sums(x_tilde * u_restricted, codes, n_clusters)  # (G,)
    residual_maker = _full_residual_maker(X, demean)
    per_cluster_u = np.zeros((len(y), n_clusters))
    per_cluster_u[np.arange(len(y)), codes] = u_restricted
    # score_matrix[g, h]: score of cluster g when only cluster h is perturbed
    score_matrix = cluster_sums(x_tilde[:, None] * residual_maker(per_cluster_u), codes, n_clusters)
    weights = webb_weights(reps, n_clusters, seed)
    t_boot = (weights @ numer) / np.sqrt(((weights @ score_matrix.T) ** 2).sum(axis=1))
    return float(np.mean(np.abs(t_boot) >= np.abs(t_obs)))


def _full_residual_maker(
    X: np.ndarray, demean: Callable[[np.ndarray], np.ndarray] | None
) -> Callable[[np.ndarray], np.ndarray]:
    """Return v -> M_X M_D v: residuals of v on the fixed effects and on X."""
    xtx_inv_xt = np.linalg.pinv(X)

    def residuals(values: np.ndarray) -> np.ndarray:
        within = values if demean is None else demean(values)
        return within - X @ (xtx_inv_xt @ within)

    return residuals


def _codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..G-1 for arbitrary labels, and the unique labels."""
    uniques, codes = np.unique(np.asarray(labels), return_inverse=True)
    return codes.ravel(), uniques
