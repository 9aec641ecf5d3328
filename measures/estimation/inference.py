"""Immutable result type shared by the estimators, and Student-t inference.

Every estimator in :mod:`measures` returns an :class:`Estimate`; tables and
JSON are derived from it, never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

#: The seed of every random draw unless a caller sets one (the month of the AKC report, May 2020), so that
#: reruns give the same bytes.
SEED = 20200501

# The exact key order a CLI prints; `df` is deliberately not part of it.
JSON_KEYS = tuple("estimate se ci_low ci_high p_value p_value_wild n_obs n_entities n_clusters method".split())


@dataclass(frozen=True)
class Estimate:
    """One estimated effect with its inference.

    estimate, se: point estimate and standard error.
    ci_low, ci_high, p_value: t-based 95 % interval and two-sided p-value,
        using ``df`` degrees of freedom.
    p_value_wild: wild cluster bootstrap p-value, or None when not computed.
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

    def as_dict(self) -> dict[str, float | int | str | None]:
        """Return the fields a CLI serialises, keyed by :data:`JSON_KEYS`."""
        return {key: getattr(self, key) for key in JSON_KEYS}


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
