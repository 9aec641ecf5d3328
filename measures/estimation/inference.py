"""Immutable result types shared by the estimators, Student-t inference, and what tests share: p-values
from draws, intervals by test inversion, and adjustments for multiple testing.

Every estimator in :mod:`measures` returns an :class:`Estimate`; tables and
JSON are derived from it, never recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import special

#: The seed of every random draw unless a caller sets one (the month of the AKC report, May 2020), so that
#: reruns give the same bytes.
SEED = 20200501

# The exact key order a CLI prints; `df` is deliberately not part of it.
JSON_KEYS = tuple(
    "estimate se ci_low ci_high p_value p_value_wild n_obs n_entities n_clusters method "
    "estimator p_value_ri n_treated_clusters n_comparison_clusters flags".split()
)
#: Bisection steps when inverting a test (the bound is then exact to se * 2**-40, or to the p-value's step).
INVERSION_STEPS = 40
#: How far (in standard errors) an interval bound is looked for before it counts as unbounded.
INVERSION_REACH = 2.0**12


@dataclass(frozen=True)
class TestResult:
    """One test of "no effect" from draws of its statistic under the null, and its inverted interval.

    p_value: at 0. ci_low, ci_high: the interval (nan where unbounded). t_observed and t_draws: the
    statistic and its null draws (bootstrap draws, or assignments), for adjustments over a family.
    exact: t_draws are all assignments (the observed one among them), not a sample. kind: wild or ri.
    clusters: the cluster labels, in the order of the draws' assignments.
    """

    p_value: float
    ci_low: float
    ci_high: float
    t_observed: float
    t_draws: np.ndarray = field(repr=False)
    exact: bool = False
    kind: str = "wild"
    clusters: tuple[str, ...] = ()

    @property
    def bounded(self) -> bool:
        return not (math.isnan(self.ci_low) or math.isnan(self.ci_high))


@dataclass(frozen=True)
class Estimate:
    """One estimated effect with its inference.

    estimate, se: point estimate and standard error.
    ci_low, ci_high, p_value: the 95 % interval and two-sided p-value of the
        inference named in ``method``: t(df) for TWFE as published; the wild
        bootstrap or randomisation inference for the robust estimates (then a
        bound is nan when the data cannot bound it).
    p_value_wild: wild cluster bootstrap p-value, or None when not computed.
    estimator: twfe, imputation, sun_abraham, share_difference.
    p_value_ri: randomisation-inference p-value over employers, or None.
    n_treated_clusters, n_comparison_clusters: clusters with and without a
        treated row (None when not counted).
    flags: design warnings (``few_treated_clusters``, ``ci_unbounded``).
    test: the robust test behind p_value (draws for family adjustments), or None.
    n_obs, n_entities, n_clusters: sample sizes after dropping missing rows
        and singletons.
    df: degrees of freedom of the t distribution used (G-1 when clustered).
    method: human-readable description of estimator and inference.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    p_value_wild: float | None
    n_obs: int
    n_entities: int
    n_clusters: int
    df: float
    method: str
    estimator: str = "twfe"
    p_value_ri: float | None = None
    n_treated_clusters: int | None = None
    n_comparison_clusters: int | None = None
    flags: tuple[str, ...] = ()
    test: TestResult | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, float | int | str | None]:
        """Return the fields a CLI serialises, keyed by :data:`JSON_KEYS` (flags as a ;-separated text)."""
        values = {key: getattr(self, key) for key in JSON_KEYS}
        values["flags"] = ";".join(self.flags)
        return {key: None if isinstance(v, float) and math.isnan(v) else v for key, v in values.items()}


def t_inference(estimate: float, se: float, df: float, level: float = 0.95) -> tuple[float, float, float]:
    """Student-t confidence interval and two-sided p-value for H0: effect = 0.

    Inputs: estimate and its standard error, degrees of freedom ``df`` and the
    confidence level. Output: ``(ci_low, ci_high, p_value)``.
    """
    if df <= 0:
        raise ValueError(f"t inference needs positive degrees of freedom, got {df}")
    crit = t_quantile(0.5 + level / 2.0, df)
    p_value = 2.0 * special.stdtr(df, -abs(estimate / se))
    return float(estimate - crit * se), float(estimate + crit * se), float(p_value)


# The distributions come from scipy.special, the numerical core that scipy.stats calls itself: importing
# scipy.stats would add most of a second to every start of the pipeline.
def t_quantile(q, df):
    """Quantile of Student's t (scalar or array)."""
    return special.stdtrit(df, q)


def f_survival(x: float, df1: float, df2: float) -> float:
    """P(F > x) for F(df1, df2)."""
    return float(special.fdtrc(df1, df2, x))


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values, in the order of `p_values` (the step-up adjustment, capped at 1)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def p_value_from_draws(t_observed: float, t_draws: np.ndarray, exact: bool = False) -> float:
    """Two-sided p from draws of the statistic under the null: (1 + #{|t*| >= |t|}) / (B + 1) for a bootstrap
    or Monte Carlo sample (never 0), #{|t_a| >= |t|} / A when the draws are all assignments, the observed
    one among them."""
    hits = np.abs(t_draws) >= np.abs(t_observed) * (1 - 1e-10)  # ties count, despite rounding
    if exact:
        return float(np.mean(hits))
    return float((1 + np.sum(hits)) / (len(t_draws) + 1))


def invert(p_value: Callable[[float], float], estimate: float, se: float, alpha: float) -> tuple[float, float]:
    """The interval {tau0 : p(tau0) > alpha} around ``estimate``, by bisection on each side; a side that p
    never leaves within INVERSION_REACH standard errors is nan (unbounded)."""
    scale = se if se > 0 and math.isfinite(se) else max(abs(estimate), 1.0)
    return _bound(p_value, estimate, -scale, alpha), _bound(p_value, estimate, scale, alpha)


def _bound(p_value: Callable[[float], float], estimate: float, step: float, alpha: float) -> float:
    inside, outside, reach = estimate, None, abs(step) * INVERSION_REACH
    while abs(step) <= reach:
        if p_value(estimate + step) <= alpha:
            outside = estimate + step
            break
        inside, step = estimate + step, step * 2
    if outside is None:
        return float("nan")
    for _ in range(INVERSION_STEPS):
        middle = (inside + outside) / 2
        inside, outside = (middle, outside) if p_value(middle) > alpha else (inside, middle)
    return (inside + outside) / 2


def romano_wolf(t_observed: np.ndarray, t_draws: np.ndarray) -> np.ndarray:
    """Romano-Wolf stepdown adjusted p-values (Romano and Wolf 2005, 2016; Stata ``rwolf``).

    ``t_observed`` (K) and ``t_draws`` (B x K): the statistics and their joint draws under each null (a
    restricted bootstrap imposes each null, so the draws need no centring). Hypotheses are taken from the
    largest |t| down; the j-th is compared with the maximum |t*| over those not yet taken, with
    (1 + #) / (B + 1), and adjusted p-values never fall as |t| falls.
    """
    t_abs, draws = np.abs(np.asarray(t_observed, float)), np.abs(np.asarray(t_draws, float))
    order = np.argsort(-t_abs, kind="stable")
    adjusted = np.empty(len(t_abs))
    running = 0.0
    for j, k in enumerate(order):
        maxima = draws[:, order[j:]].max(axis=1)
        p = (1 + np.sum(maxima >= t_abs[k] * (1 - 1e-10))) / (len(draws) + 1)
        running = max(running, p)
        adjusted[k] = min(running, 1.0)
    return adjusted


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's stepdown adjusted p-values (family-wise error), in the order of ``p_values``."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    steps = np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p))))
    out = np.empty_like(p)
    out[order] = np.minimum(steps, 1.0)
    return out


def family_adjusted(tests: list[TestResult | None], p_values: list[float]) -> np.ndarray:
    """Family-wise adjusted p-values for one family of hypotheses: Romano-Wolf on the joint draws when every
    test has draws of the same kind and number (a wild bootstrap with the same weights per cluster, or the
    same assignments), else Holm on ``p_values`` (which never assumes independence)."""
    # bootstrap weights follow the cluster label, so wild draws are joint whatever clusters a test holds;
    # assignments are joint only over the same clusters
    kinds = {(t.kind, len(t.t_draws), t.clusters if t.kind == "ri" else ()) for t in tests if t is not None}
    if len(tests) > 1 and None not in tests and len(kinds) == 1:
        draws = np.column_stack([t.t_draws for t in tests])  # type: ignore[union-attr]
        return romano_wolf(np.array([t.t_observed for t in tests]), draws)  # type: ignore[union-attr]
    return holm(np.asarray(p_values, dtype=float))
