"""Randomisation inference over clusters (employers): the treatment reassigned as the design could have.

Rules:

* An assignment gives each cluster a type: 1 = intervention, 0 = comparison (:func:`group_treatment`,
  with the row's own ``post`` as in the pilot), or the index of a treatment path over periods
  (:func:`path_treatment`, for panels whose clusters are treated from a cluster-level date). Every
  assignment keeps the observed number of clusters of each type.
* All distinct assignments are used when there are at most ``max_exact`` (p = share of assignments with
  |t_a| >= |t|, the observed one among them, so never 0); beyond that a seeded Monte Carlo sample of
  ``draws`` assignments, with p = (1 + #) / (B + 1).
* The statistic is the estimator's t (its own cluster-robust variance), which is more robust to
  unequal cluster sizes than the raw estimate (MacKinnon and Webb 2020). Under the sharp null of a
  constant effect tau0 the outcome under assignment a is y - tau0 (D - D_a); estimate and scores are
  linear in tau0, so one pass over the assignments serves every tau0, and the interval is found by
  inverting the test. With few clusters the interval may be unbounded (nan).
* An assignment under which the estimator cannot be computed is left out, and counted.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from measures.estimation.errors import EstimationError
from measures.estimation.inference import TestResult, invert, p_value_from_draws
from measures.estimation.linear import LinearEstimator

#: Enumerate every assignment up to this many; sample beyond it.
RI_MAX_EXACT = 5000
#: Monte Carlo assignments when there are more than RI_MAX_EXACT.
RI_DRAWS = 1999


def n_assignments(types: np.ndarray) -> int:
    """The number of distinct assignments with the counts of ``types``: G! / prod(n_k!)."""
    total = math.factorial(len(types))
    for count in Counter(types.tolist()).values():
        total //= math.factorial(count)
    return total


def assignments(types: np.ndarray, max_exact: int = RI_MAX_EXACT, draws: int = RI_DRAWS, seed: int = 0):
    """The observed assignment first, then every other distinct one (exact) or ``draws`` random ones.
    Returns (list of type vectors, exact)."""
    types = np.asarray(types)
    if n_assignments(types) <= max_exact:
        others = [a for a in _distinct(types) if not np.array_equal(a, types)]
        return [types, *others], True
    rng = np.random.default_rng(seed)
    return [types, *(rng.permutation(types) for _ in range(draws))], False


def _distinct(types: np.ndarray) -> Iterator[np.ndarray]:
    """Every distinct arrangement of ``types`` (a multiset), placing one type at a time."""
    kinds = sorted(Counter(types.tolist()).items())

    def place(free: tuple[int, ...], k: int, current: np.ndarray) -> Iterator[np.ndarray]:
        if k == len(kinds):
            yield current.copy()
            return
        kind, count = kinds[k]
        for chosen in itertools.combinations(free, count):
            current[list(chosen)] = kind
            rest = tuple(i for i in free if i not in chosen)
            yield from place(rest, k + 1, current)

    yield from place(tuple(range(len(types))), 0, np.empty(len(types), dtype=types.dtype))


def group_treatment(clusters: np.ndarray, post: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Assignment (0/1 per cluster) -> the rows' treatment: the cluster's type times the row's ``post``."""
    return lambda types: types[clusters] * post


def path_treatment(clusters: np.ndarray, time: np.ndarray, paths: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Assignment (path index per cluster) -> the rows' treatment ``paths[type of cluster, period]``."""
    return lambda types: paths[types[clusters], time]


def cluster_paths(clusters: np.ndarray, time: np.ndarray, treatment: np.ndarray, n_clusters: int, n_times: int):
    """The treatment as a path over periods per cluster, when it depends on cluster and period only.

    Returns (paths: distinct paths x periods, types: the path of each cluster), or None when the treatment
    varies within a cluster and period (then clusters cannot be reassigned as wholes). A period a cluster
    does not observe takes the path's value of the cluster it copies, which never meets a row."""
    grid = np.full((n_clusters, n_times), -1.0)
    grid[clusters, time] = treatment
    if not np.array_equal(grid[clusters, time], treatment):
        return None
    # ``grid`` holds the last row written per cell: compare every row with its cell
    seen = np.zeros((n_clusters, n_times), dtype=bool)
    seen[clusters, time] = True
    filled = np.where(seen, grid, 0.0)
    paths, types = np.unique(filled, axis=0, return_inverse=True)
    return paths, types.ravel()


@dataclass(frozen=True)
class _Draws:
    """Per assignment a: e[a] = w_a' [Y, D, D_a] and S[a] = cluster scores of the same columns."""

    e: np.ndarray  # A x (m + 2)
    S: np.ndarray  # A x G x (m + 2)

    def statistics(self, j: int, tau0: float) -> np.ndarray:
        """t under every assignment for outcome j and the sharp null tau0."""
        m = self.e.shape[1] - 2
        numerator = self.e[:, j] - tau0 * self.e[:, m] + tau0 * self.e[:, m + 1] - tau0
        scores = self.S[:, :, j] - tau0 * self.S[:, :, m] + tau0 * self.S[:, :, m + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = numerator / np.sqrt(np.sum(scores**2, axis=1))
        return np.nan_to_num(t, nan=0.0)


def randomization_tests(
    build: Callable[[np.ndarray], LinearEstimator],
    treatment_for: Callable[[np.ndarray], np.ndarray],
    types: list[np.ndarray],
    exact: bool,
    Y: np.ndarray,
    level: float = 0.95,
    interval: bool = True,
) -> tuple[list[TestResult], int]:
    """Randomisation tests of each outcome (column of Y) over the assignments ``types`` (observed first).

    ``build`` makes the estimator for a row treatment, ``treatment_for`` the row treatment of an
    assignment. Returns one :class:`TestResult` per outcome and the number of assignments left out."""
    Y = Y.reshape(len(Y), -1)
    observed = treatment_for(types[0])
    rows_e, rows_S, left_out = [], [], 0
    for k, assignment in enumerate(types):
        treatment = treatment_for(assignment)
        try:
            est = build(treatment)
        except (EstimationError, np.linalg.LinAlgError):
            if k == 0:
                raise
            left_out += 1
            continue
        columns = np.column_stack([Y, observed, treatment])
        rows_e.append(est.weights @ columns)
        rows_S.append(est.scores(columns))
    draws = _Draws(np.array(rows_e), np.array(rows_S))
    results = []
    for j in range(Y.shape[1]):
        t_all = draws.statistics(j, 0.0)
        p = _p_value(t_all, exact)
        if interval:
            se = float(np.sqrt(np.sum(draws.S[0, :, j] ** 2)))

            def p_at(tau0: float, j: int = j) -> float:
                return _p_value(draws.statistics(j, tau0), exact)

            ci = invert(p_at, float(draws.e[0, j]), se, 1 - level)
        else:
            ci = (float("nan"), float("nan"))
        results.append(TestResult(p, ci[0], ci[1], float(t_all[0]), t_all[1:], exact=exact, kind="ri"))
    return results, left_out


def _p_value(t_all: np.ndarray, exact: bool) -> float:
    """p from the statistics under all assignments, the observed first."""
    return p_value_from_draws(t_all[0], t_all if exact else t_all[1:], exact=exact)
