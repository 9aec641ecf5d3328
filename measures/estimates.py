"""Immutable result type shared by the estimators, and Student-t inference.

Every estimator in :mod:`measures` returns an :class:`Estimate`; tables and
JSON are derived from it, never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

# The exact key order a CLI prints; `df` is deliberately not part of it.
JSON_KEYS = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "p_value_wild",
    "n_obs",
    "n_entities",
    "n_clusters",
    "method",
)


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


def t_inference(
    estimate: float, se: float, df: float, level: float = 0.95
) -> tuple[float, float, float]:
    """Student-t confidence interval and two-sided p-value for H0: effect = 0.

    Inputs: estimate and its standard error, degrees of freedom ``df`` and the
    confidence level. Output: ``(ci_low, ci_high, p_value)``.
    """
    if df <= 0:
        raise ValueError(f"t inference needs positive degrees of freedom, got {df}")
    crit = stats.t.ppf(0.5 + level / 2.0, df)
    p_value = 2.0 * stats.t.sf(abs(estimate / se), df)
    return float(estimate - crit * se), float(estimate + crit * se), float(p_value)
