"""The restricted wild cluster bootstrap (WCR) for any estimator linear in the outcome, with test inversion.

Rules:

* Webb (2014) weights, one column per cluster label, drawn from the seed and the label
  (:func:`wild_weights`): an employer gets the same weights in every estimate of a run, so that the
  draws of several indicators form one joint bootstrap (for Romano-Wolf).
* The null tau = tau0 is imposed as y - tau0 * treatment in the estimator's null model; bootstrap
  outcomes are the restricted fit plus the restricted residuals times the cluster's weight. The
  statistic is the t-statistic with the estimator's own cluster-robust variance (its small-sample
  factor multiplies t and every t* alike, so it is left out).
* The p-value is (1 + #{|t*| >= |t|}) / (B + 1): never 0.
* Bootstrap estimates and cluster scores are linear in the weights and in tau0 (the "fast" algorithm of
  Roodman et al. 2019, boottest), so each p(tau0) costs two small matrix products, and the interval is
  {tau0 : p(tau0) > 1 - level} by bisection on each side (:func:`~measures.estimation.inference.invert`).
* Works on any :class:`~measures.estimation.linear.LinearEstimator`; the residual operators handle the
  fixed effects exactly, so every bootstrap residual is the full model's.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from measures.estimation.inference import SEED, TestResult, invert, p_value_from_draws
from measures.estimation.linear import LinearEstimator, cluster_codes, cluster_sums

# Webb (2014) six-point distribution: mean 0, variance 1, and 6^G distinct
# draws, which keeps the bootstrap distribution smooth with very few clusters.
WEBB_POINTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def webb_weights(reps: int, n_clusters: int, seed: int) -> np.ndarray:
    """Return a ``reps x n_clusters`` matrix of Webb weights drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    return WEBB_POINTS[rng.integers(0, 6, size=(reps, n_clusters))]


def wild_weights(labels: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """Webb weights (reps x G) for the cluster ``labels`` of an estimate, each label's column from its own
    stream (the seed and a hash of the label), whichever other labels the estimate holds."""
    columns = [
        WEBB_POINTS[np.random.default_rng([seed, _stable_hash(str(label))]).integers(0, 6, size=reps)]
        for label in labels
    ]
    return np.column_stack(columns) if columns else np.zeros((reps, 0))


def _stable_hash(text: str) -> int:
    """A hash of a text that is the same in every Python process (``hash`` is salted)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def wild_bootstrap_test(
    est: LinearEstimator, y: np.ndarray, weights: np.ndarray, level: float = 0.95, interval: bool = True
) -> TestResult:
    """WCR p-value at 0 and, with ``interval``, the interval by test inversion.

    ``weights``: B x G bootstrap weights (:func:`wild_weights` for ``est.cluster_labels``)."""
    pieces = _WildPieces.build(est, y)
    t0, draws0 = pieces.statistics(weights, 0.0)
    if interval:
        ci_low, ci_high = invert(pieces.p_value_function(weights), pieces.estimate, pieces.se, 1 - level)
    else:
        ci_low = ci_high = float("nan")
    return TestResult(p_value_from_draws(t0, draws0), ci_low, ci_high, t0, draws0)


def wild_cluster_p_value(
    y: np.ndarray,
    X: np.ndarray,
    column: int,
    clusters: np.ndarray,
    demean: Callable[[np.ndarray], np.ndarray] | None = None,
    reps: int = 999,
    seed: int = SEED,
) -> float:
    """Two-sided WCR p-value for H0: beta[column] = 0 in an OLS of ``y`` on ``X`` (n x k), both already
    demeaned by the fixed effects; ``demean`` is the fixed-effect annihilator (None without fixed effects)."""
    return wild_bootstrap_test(
        ols_estimator(X, column, clusters, demean), y, wild_weights(np.unique(clusters), reps, seed), interval=False
    ).p_value


def ols_estimator(
    X: np.ndarray,
    column: int,
    clusters: np.ndarray,
    demean: Callable[[np.ndarray], np.ndarray] | None = None,
    se_factor: float = 1.0,
    n_entities: int | None = None,
    estimator: str = "ols",
    description: str = "OLS",
    treatment: np.ndarray | None = None,
    coded: tuple[np.ndarray, np.ndarray] | None = None,
) -> LinearEstimator:
    """Coefficient ``column`` of an OLS on ``X`` (already demeaned when there are fixed effects) as a
    linear estimator: weights x~/(x~'x~) by Frisch-Waugh-Lovell, residuals M_X M_D, and the null model
    without that column. ``treatment``: the column before demeaning (it counts the treated clusters).
    ``coded``: ``cluster_codes(clusters)`` when the caller has it (randomisation inference builds an estimator
    per assignment on the same clusters). The pseudo-inverses are computed when a residual operator is first
    used (randomisation inference uses only ``residuals``)."""
    within = (lambda values: values) if demean is None else demean
    others = np.delete(X, column, axis=1)
    x_tilde = _partial_out(X[:, column], others)

    @functools.cache
    def pinv(which: str) -> np.ndarray:
        return np.linalg.pinv(X if which == "full" else others)

    def residuals(Y: np.ndarray) -> np.ndarray:
        Yd = within(Y)
        return Yd - X @ (pinv("full") @ Yd)

    def null_residuals(Y: np.ndarray) -> np.ndarray:
        Yd = within(Y)
        return Yd if not others.shape[1] else Yd - others @ (pinv("reduced") @ Yd)

    codes, labels = cluster_codes(clusters) if coded is None else coded
    return LinearEstimator(
        estimator=estimator,
        weights=x_tilde / (x_tilde @ x_tilde),
        residuals=residuals,
        null_residuals=null_residuals,
        treatment=X[:, column] if treatment is None else treatment,
        clusters=codes,
        cluster_labels=labels,
        se_factor=se_factor,
        n_entities=len(X) if n_entities is None else n_entities,
        description=description,
    )


def _partial_out(target: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Residual of ``target`` after least squares on the columns of ``others``."""
    if others.shape[1] == 0:
        return target.copy()
    coef = np.linalg.lstsq(others, target, rcond=None)[0]
    return target - others @ coef


@dataclass(frozen=True)
class _WildPieces:
    """What the bootstrap statistic at any tau0 needs, each piece linear in tau0 (x0 + tau0 * x1)."""

    estimate: float
    se: float  # with the small-sample factor: only the scale of the interval search
    se_raw: float
    c0: float  # w' (restricted fit)
    c1: float
    a0: np.ndarray  # cluster sums of w * restricted residuals
    a1: np.ndarray
    s0: np.ndarray  # cluster scores of the residuals of the restricted fit
    s1: np.ndarray
    A0: np.ndarray  # A[h, g]: cluster h's score when only cluster g's restricted residuals are kept
    A1: np.ndarray

    @classmethod
    def build(cls, est: LinearEstimator, y: np.ndarray) -> _WildPieces:
        w, codes, G = est.weights, est.clusters, est.n_clusters
        null = est.null_residuals(np.column_stack([y, est.treatment]))
        Qy, Qd = null[:, 0], null[:, 1]
        fitted0 = y - Qy  # the restricted fit at tau0 = 0; at tau0 it is fitted0 + tau0 * Qd
        se_raw = float(np.sqrt(np.sum(est.scores(y) ** 2)))
        s = est.scores(np.column_stack([fitted0, Qd]))

        def sums(values: np.ndarray) -> np.ndarray:
            return np.bincount(codes, weights=w * values, minlength=G)

        return cls(
            float(w @ y),
            se_raw * math.sqrt(est.se_factor),
            se_raw,
            float(w @ fitted0),
            float(w @ Qd),
            sums(Qy),
            sums(Qd),
            s[:, 0],
            s[:, 1],
            _per_cluster_scores(est, Qy),
            _per_cluster_scores(est, Qd),
        )

    def statistics(self, V: np.ndarray, tau0: float) -> tuple[float, np.ndarray]:
        """Observed t and the B bootstrap t* under the null tau0 (V: B x G weights)."""
        t_obs = (self.estimate - tau0) / self.se_raw if self.se_raw > 0 else 0.0
        numerator = self.c0 + tau0 * self.c1 - tau0 + V @ (self.a0 - tau0 * self.a1)
        scores = (self.s0 + tau0 * self.s1)[None, :] + V @ (self.A0 - tau0 * self.A1).T
        with np.errstate(divide="ignore", invalid="ignore"):
            t_star = numerator / np.sqrt(np.sum(scores**2, axis=1))
        return t_obs, np.nan_to_num(t_star, nan=0.0)

    def p_value_function(self, V: np.ndarray) -> Callable[[float], float]:
        def p_at(tau0: float) -> float:
            return p_value_from_draws(*self.statistics(V, tau0))

        return p_at


def _per_cluster_scores(est: LinearEstimator, u: np.ndarray, chunk: int = 8) -> np.ndarray:
    """A[h, g] (G x G), in column chunks, so that a million rows never hold G dense columns at once."""
    G, codes = est.n_clusters, est.clusters
    out = np.empty((G, G))
    for start in range(0, G, chunk):
        block = range(start, min(start + chunk, G))
        spread = np.zeros((len(u), len(block)))
        for j, g in enumerate(block):
            rows = codes == g
            spread[rows, j] = u[rows]
        out[:, start : start + len(block)] = est.scores(spread)
    return out


def wild_wald_test(
    y: np.ndarray,
    X: np.ndarray,
    tested: list[int],
    clusters: np.ndarray,
    demean: Callable[[np.ndarray], np.ndarray],
    weights: np.ndarray,
    chunk: int = 8,
) -> tuple[float, float]:
    """Joint WCR test that the coefficients ``tested`` of an OLS of y on X (with the fixed effects that
    ``demean`` sweeps out) are all zero: the Wald statistic with a cluster-robust variance (its
    pseudo-inverse: with few clusters it may be singular), and its bootstrap p-value
    (1 + #{W* >= W}) / (B + 1). The null model drops the tested columns; bootstrap coefficients and
    cluster scores are linear in the weights, so the B draws cost a few small tensor products, and the
    clusters' parts are demeaned a few at a time (a million rows never hold G dense columns).
    ``weights``: B x G for the sorted cluster labels. Returns (W / q, p)."""
    codes, labels = cluster_codes(clusters)
    G = len(labels)
    Xd, yd = demean(X), demean(y)
    bread = np.linalg.pinv(Xd.T @ Xd)
    A = bread[tested]  # q x p: the tested coefficients are A X'y
    kept = np.delete(Xd, tested, axis=1)
    restricted = yd - kept @ np.linalg.lstsq(kept, yd, rcond=None)[0] if kept.shape[1] else yd

    def scores(e: np.ndarray) -> np.ndarray:  # G x q: each cluster's A X_h' e_h
        return cluster_sums(Xd, codes, G, weights=e) @ A.T

    def residuals(values: np.ndarray) -> np.ndarray:
        within = demean(values)
        return within - Xd @ (bread @ (Xd.T @ within))

    b = A @ (Xd.T @ yd)
    psi = scores(residuals(yd))
    statistic = float(b @ np.linalg.pinv(psi.T @ psi) @ b)
    K = scores(restricted)  # G x q: the tested coefficients when only cluster g's restricted residuals are kept
    Psi = np.empty((G, G, len(tested)))  # [g, h]: cluster h's score when only cluster g's residuals are kept
    for first in range(0, G, chunk):
        block = range(first, min(first + chunk, G))
        spread = np.zeros((len(yd), len(block)))
        for j, g in enumerate(block):
            rows = codes == g
            spread[rows, j] = restricted[rows]
        within = residuals(spread)
        for j, g in enumerate(block):
            Psi[g] = scores(within[:, j])
    b_star = weights @ K
    psi_star = np.einsum("bg,ghq->bhq", weights, Psi)
    V_star = np.einsum("bhq,bhr->bqr", psi_star, psi_star)
    W_star = np.einsum("bq,bqr,br->b", b_star, np.linalg.pinv(V_star, hermitian=True), b_star)
    p = (1 + np.sum(W_star >= statistic * (1 - 1e-10))) / (len(weights) + 1)
    return statistic / len(tested), float(p)
