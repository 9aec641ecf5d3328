"""The restricted mean time to an event in designs beyond two groups: a difference-in-differences of cohorts and
a level without a comparison group, each with a bootstrap of clusters.

Built on the Kaplan-Meier curve and its restricted mean of `measures.estimation.survival`:

- `rmst_did`: [RMST(intervention, after) - RMST(comparison, after)] - [RMST(intervention, before) -
  RMST(comparison, before)] within `horizon` (negative: a faster return after the introduction, beyond the
  comparison's change). Its interval resamples whole clusters (an organisation with its cases of both periods)
  with replacement within each group, seeded, and takes the 2.5 and 97.5 percentiles.
- `rmst_level`: the RMST of one group of people, the interval from resampling clusters.

Returned as an `Estimate`: `se` is the bootstrap draws' standard deviation, `p_value` the share of draws on the
other side of zero, doubled (nan for a level), `df` nan: nothing here is a t statistic.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from measures.estimation.errors import EstimationError
from measures.estimation.inference import SEED, Estimate
from measures.estimation.survival import kaplan_meier, restricted_mean

REPS = 999


def _rmst(frame: pd.DataFrame, horizon: float) -> float:
    return restricted_mean(kaplan_meier(frame["duration"].to_numpy(float), frame["event"].to_numpy(int)), horizon)


def rmst_did(data: pd.DataFrame, horizon: float, reps: int = REPS, seed: int = SEED) -> Estimate:
    """`data`: one row per person with `duration`, `event`, `treated_group` (0/1), `post` (0/1), `cluster`."""
    cells = {(g, p): part for (g, p), part in data.groupby(["treated_group", "post"])}
    if len(cells) < 4:
        raise EstimationError("a difference-in-differences needs both groups before and after")

    def statistic(frame: pd.DataFrame) -> float:
        parts = {key: frame.loc[(frame["treated_group"] == key[0]) & (frame["post"] == key[1])] for key in cells}
        if any(not len(p) for p in parts.values()):
            return np.nan
        r = {key: _rmst(part, horizon) for key, part in parts.items()}
        return (r[(1, 1)] - r[(0, 1)]) - (r[(1, 0)] - r[(0, 0)])

    estimate = statistic(data)
    draws = _cluster_draws(data, statistic, reps, seed, strata="treated_group")
    method = (
        f"Kaplan-Meier, difference-in-differences of the restricted mean time within {horizon:g} weeks; 95% interval "
        f"from a bootstrap of clusters within each group (B={reps}, seed {seed}, percentiles)"
    )
    return _estimate(estimate, draws, data, method, test_zero=True)


def rmst_level(data: pd.DataFrame, horizon: float, reps: int = REPS, seed: int = SEED) -> Estimate:
    """`data`: one row per person with `duration`, `event`, `cluster`."""
    if not len(data):
        raise EstimationError("no one to follow")
    draws = _cluster_draws(data, lambda f: _rmst(f, horizon), reps, seed)
    method = (
        f"Kaplan-Meier, restricted mean time within {horizon:g} weeks; 95% interval from a bootstrap of clusters "
        f"(B={reps}, seed {seed}, percentiles)"
    )
    return _estimate(_rmst(data, horizon), draws, data, method, test_zero=False)


def _cluster_draws(
    data: pd.DataFrame, statistic: Callable[[pd.DataFrame], float], reps: int, seed: int, strata: str | None = None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    groups = [part for _, part in data.groupby(strata)] if strata else [data]
    pieces = [[c for _, c in part.groupby("cluster", sort=True)] for part in groups]
    draws = np.empty(reps)
    for b in range(reps):
        chosen = [clusters[i] for clusters in pieces for i in rng.integers(0, len(clusters), len(clusters))]
        draws[b] = statistic(pd.concat(chosen, ignore_index=True))
    return draws[~np.isnan(draws)]


def _estimate(value: float, draws: np.ndarray, data: pd.DataFrame, method: str, test_zero: bool) -> Estimate:
    low, high = (float(v) for v in np.percentile(draws, [2.5, 97.5])) if len(draws) else (np.nan, np.nan)
    tails = (float(np.mean(draws <= 0)), float(np.mean(draws >= 0))) if len(draws) else (np.nan, np.nan)
    p = min(1.0, 2 * min(tails)) if test_zero and len(draws) else np.nan
    n_clusters = int(data["cluster"].nunique())
    se = float(np.std(draws, ddof=1)) if len(draws) > 1 else np.nan
    return Estimate(
        float(value), se, float(low), float(high), p, None, len(data), len(data), n_clusters, np.nan, method
    )
