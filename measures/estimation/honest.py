"""How large a violation of parallel trends would overturn a conclusion (Rambachan and Roth 2023).

Rules:

* The restriction is smoothness, Delta^SD(M): after treatment the difference in trends may change its
  slope by at most M per period, each period (M = 0 allows a linear trend continued from before
  treatment). The parameter is the average of the post-period event-study effects.
* Intervals are RR's fixed-length confidence intervals (FLCI), from the ``moderndid`` package's own
  pieces: its worst-case bias under Delta^SD scales linearly in M, so the frontier of worst-case bias
  against standard deviation is solved once (:data:`FRONTIER_POINTS` convex programs) and the FLCI for
  any M is then a minimum over that frontier: the breakdown value is found by bisection without new
  optimisation. (moderndid's ``create_sensitivity_results_sm`` solves some 30 programs per M.)
* The covariance is the event study's CR1 covariance times (t(0.975, G-1) / z(0.975))^2: the FLCI uses
  normal critical values, which with few clusters are too small by that factor.
* ``breakdown``: the largest M at which the interval still excludes 0 (0 when it does not even at
  M = 0, None when there is no pre-period or no significant effect to overturn). ``pre_curvature``: the
  largest change of slope among the pre-period coefficients (with the reference at 0), the benchmark
  RR suggest: a breakdown below it means a violation no larger than those seen before treatment
  would overturn the conclusion.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from scipy import special

from measures.estimation.event_study import EventStudy
from measures.estimation.inference import t_quantile

#: Standard deviations on the frontier between the minimum-variance and the minimum-bias estimator.
FRONTIER_POINTS = 32
Z_975 = 1.959963984540054


@dataclass(frozen=True)
class HonestResult:
    """The sensitivity of an event study's average post-period effect to non-parallel trends (see module)."""

    estimate: float
    ci_low_m0: float
    ci_high_m0: float
    breakdown: float | None
    pre_curvature: float | None
    n_pre: int
    n_post: int
    method: str

    @property
    def fragile(self) -> bool:
        """A violation no larger than the pre-period's own curvature overturns the conclusion."""
        return self.breakdown is not None and self.pre_curvature is not None and self.breakdown < self.pre_curvature


def honest_breakdown(study: EventStudy, alpha: float = 0.05) -> HonestResult | None:
    """The smoothness sensitivity of ``study``'s average post-period effect, or None without a pre- and a
    post-period. The intervals at M = 0 are nan when the effect is not significant (nothing is solved then)."""
    free = [c for c in study.coefficients if not c.reference]
    pre = [c for c in free if c.event_time < study.reference]
    post = [c for c in free if c.event_time > study.reference]
    if len(pre) < 1 or not post or study.vcov.shape[0] != len(free):
        return None
    beta = np.array([c.estimate for c in free])
    inflate = (float(t_quantile(1 - alpha / 2, study.df)) / Z_975) ** 2 if study.df > 0 else 1.0
    estimate = float(np.mean([c.estimate for c in post]))
    se = math.sqrt(inflate * frontier_variance(study.vcov, np.arange(len(pre), len(free))))
    nan = float("nan")
    if abs(estimate) <= Z_975 * se:  # not significant as estimated: nothing to overturn, nothing to solve
        low, high, breakdown = nan, nan, None
    else:
        frontier = _Frontier.solve(study.vcov * inflate, len(pre), len(post), np.full(len(post), 1 / len(post)))
        low, high = frontier.interval(beta, 0.0, alpha)
        breakdown = 0.0 if low <= 0 <= high else _breakdown(frontier, beta, alpha)
    curvature = _pre_curvature([c.estimate for c in pre])
    method = (
        f"Rambachan-Roth smoothness restriction Delta^SD(M), FLCI (moderndid), average of {len(post)} post-period "
        f"effects, {len(pre)} pre-periods, covariance CR1 x (t(G-1)/z)^2"
    )
    return HonestResult(estimate, low, high, breakdown, curvature, len(pre), len(post), method)


def frontier_variance(vcov: np.ndarray, post_index: np.ndarray) -> float:
    """Variance of the plain average of the post-period coefficients."""
    weights = np.full(len(post_index), 1 / len(post_index))
    return float(weights @ vcov[np.ix_(post_index, post_index)] @ weights)


def _breakdown(frontier: _Frontier, beta: np.ndarray, alpha: float) -> float:
    """The largest M at which the interval excludes 0 (it does at M = 0), by bisection on a log scale."""

    def excludes_zero(m: float) -> bool:
        low, high = frontier.interval(beta, m, alpha)
        return not (low <= 0 <= high)

    inside, outside = 0.0, max(frontier.scale, 1e-12)
    while excludes_zero(outside):
        inside, outside = outside, outside * 4
        if outside > 1e12 * frontier.scale:
            return math.inf
    for _ in range(30):
        middle = (inside + outside) / 2
        inside, outside = (middle, outside) if excludes_zero(middle) else (inside, middle)
    return inside


def _fixed_length_ci() -> ModuleType:
    """moderndid's ``didhonest.fixed_length_ci`` module (the FLCI programmes, with cvxpy), loaded on first use.

    Loaded from its file under a private package name: importing it the ordinary way first imports the whole of
    ``moderndid`` (its package eagerly imports drdid, didtriple, numba, polars and statsmodels) and of
    ``moderndid.didhonest``, a second and more of a run's fixed cost for a module that needs only cvxpy, numpy,
    scipy and its sibling ``utils``. The real ``moderndid`` modules stay untouched (the tests compare with them).
    """
    if _FLCI in sys.modules:
        return sys.modules[_FLCI]
    spec = importlib.util.find_spec("moderndid")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the moderndid package (Rambachan-Roth FLCI) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "didhonest"
    package = ModuleType(_FLCI.rpartition(".")[0])
    package.__path__ = [str(folder)]
    sys.modules[package.__name__] = package
    module_spec = importlib.util.spec_from_file_location(_FLCI, folder / "fixed_length_ci.py")
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"moderndid: no {folder / 'fixed_length_ci.py'}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[_FLCI] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_FLCI]
        raise
    return module


#: The private name under which moderndid's FLCI module is loaded (see `_fixed_length_ci`).
_FLCI = "_moderndid_didhonest.fixed_length_ci"


def folded_normal_quantile(p: float, mu: np.ndarray) -> np.ndarray:
    """The p-quantile c of |N(mu, 1)| for each mu: Phi(c - mu) - Phi(-c - mu) = p, by vectorised bisection
    (moderndid's scalar version costs a root-finder call per value)."""
    mu = np.abs(np.asarray(mu, dtype=float))
    low, high = np.zeros_like(mu), mu + 10.0
    for _ in range(60):
        middle = (low + high) / 2
        below = special.ndtr(middle - mu) - special.ndtr(-middle - mu) < p
        low, high = np.where(below, middle, low), np.where(below, high, middle)
    return (low + high) / 2


def _pre_curvature(pre_estimates: list[float]) -> float | None:
    """The largest absolute second difference of the pre-period path, the reference period (0) appended."""
    path = np.array([*pre_estimates, 0.0])
    return float(np.abs(np.diff(path, 2)).max()) if len(path) >= 3 else None


@dataclass(frozen=True)
class _Frontier:
    """Worst-case bias per unit of M and the optimal pre-period weights, at standard deviations h."""

    h: np.ndarray
    unit_bias: np.ndarray
    weights: np.ndarray  # len(h) x (pre + post): the affine estimator at each h
    scale: float  # a natural unit of M: where the minimum-bias estimator's worst-case bias is one SD

    @classmethod
    def solve(cls, sigma: np.ndarray, n_pre: int, n_post: int, l_post: np.ndarray) -> _Frontier:
        flci = _fixed_length_ci()
        h_max = float(flci.get_min_bias_h(sigma, n_pre, n_post, l_post))
        h_min = float(flci.minimize_variance(sigma, n_pre, n_post, l_post))
        hs, biases, weights = [], [], []
        # (cvxpy warns "solution may be inaccurate" near the frontier's ends; the intervals match moderndid's
        # own to 0.2 % of their width, which the tests check)
        # denser near the minimum-variance end, where the bias falls fastest and small M find their optimum
        steps = np.concatenate([[0.0], np.geomspace(1e-4, 1.0, FRONTIER_POINTS - 1)])
        for h in h_min + (h_max - h_min) * steps:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                result = flci.maximize_bias(max(h, h_min * (1 + 1e-9)), sigma, n_pre, n_post, l_post, 1.0)
            if result["status"] == "optimal":
                hs.append(h)
                biases.append(result["value"])
                weights.append(np.concatenate([result["optimal_l"], l_post]))
        scale = h_max / biases[-1] if biases and biases[-1] > 0 else 1.0  # the M whose worst-case bias is one SD
        return cls(np.array(hs), np.array(biases), np.array(weights), scale)

    def interval(self, beta: np.ndarray, m: float, alpha: float) -> tuple[float, float]:
        """The FLCI at smoothness M: the shortest over the frontier."""
        half = folded_normal_quantile(1 - alpha, m * self.unit_bias / self.h) * self.h
        best = int(np.argmin(half))
        centre = float(self.weights[best] @ beta)
        return centre - half[best], centre + half[best]
