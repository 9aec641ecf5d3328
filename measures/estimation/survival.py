"""Time to return to work: Kaplan-Meier curves per group and the restricted mean time, with a clustered
bootstrap interval.

Rules:

* Input: one row per employee with ``duration`` (time from the absence start to the return to work,
  or to the end of follow-up) and ``event`` (1 = returned, 0 = censored: another ending, an unknown
  one, or still absent at the end of the data).
* Kaplan-Meier "still absent" curve S(t) per group: at each event time the share of those at risk who
  return; censored at t counts as at risk at t (returns before censorings, as statsmodels and R's
  ``survival`` order ties).
* Restricted mean time to return (RMST) up to ``horizon``: the area under S(t) from 0 to the horizon,
  the expected time still absent within it. The difference intervention minus comparison is its
  estimate (negative: a faster return).
* Its interval resamples employers with replacement within each group (a clustered, stratified
  bootstrap, seeded) and takes the 2.5 and 97.5 percentiles; with few employers per group it is
  approximate, which the flags of the effects say. The draws are computed together from per-employer
  counts (seventy thousand employees and 999 draws take a fraction of a second).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from measures.estimation.errors import EstimationError
from measures.estimation.inference import SEED


@dataclass(frozen=True)
class SurvivalCurve:
    """The Kaplan-Meier curve of one group: S(t) just after each event time; at_risk and events there."""

    times: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    n: int

    def table(self, group: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "group": group,
                "time": self.times,
                "survival": self.survival,
                "at_risk": self.at_risk,
                "events": self.events,
            }
        )


@dataclass(frozen=True)
class RmstDifference:
    """Restricted mean time to return within ``horizon`` per group and their difference with its
    clustered bootstrap interval."""

    horizon: float
    rmst_intervention: float
    rmst_comparison: float
    difference: float
    ci_low: float
    ci_high: float
    reps: int
    n_intervention: int
    n_comparison: int
    method: str


def kaplan_meier(duration: np.ndarray, event: np.ndarray) -> SurvivalCurve:
    """The Kaplan-Meier curve of ``duration`` with ``event`` 1 (returned) or 0 (censored)."""
    duration, event = np.asarray(duration, dtype=float), np.asarray(event, dtype=int)
    if len(duration) == 0:
        raise EstimationError("no one to follow")
    times, inverse = np.unique(duration, return_inverse=True)
    events = np.bincount(inverse, weights=event, minlength=len(times))
    leaving = np.bincount(inverse, minlength=len(times))
    at_risk = len(duration) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    keep = events > 0
    survival = np.cumprod(1 - events[keep] / at_risk[keep])
    return SurvivalCurve(times[keep], survival, at_risk[keep], events[keep].astype(int), len(duration))


def restricted_mean(curve: SurvivalCurve, horizon: float) -> float:
    """The area under the step function S(t) from 0 to ``horizon``."""
    inside = curve.times < horizon
    edges = np.concatenate([[0.0], curve.times[inside], [horizon]])
    levels = np.concatenate([[1.0], curve.survival[inside]])
    return float(np.sum(levels * np.diff(edges)))


def rmst_difference(
    data: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    cluster: str,
    horizon: float,
    reps: int = 999,
    seed: int = SEED,
) -> RmstDifference:
    """RMST(intervention) - RMST(comparison) within ``horizon`` (``group`` 1 and 0), with the clustered
    bootstrap interval (see the module docstring)."""
    frame = data[[duration, event, group, cluster]].dropna()
    arms = {g: frame.loc[frame[group] == g] for g in (1, 0)}
    if any(a.empty for a in arms.values()):
        raise EstimationError(f"both values of {group} need employees")
    rmst = {g: restricted_mean(kaplan_meier(a[duration], a[event]), horizon) for g, a in arms.items()}
    draws = _bootstrap(arms, duration, event, cluster, horizon, reps, seed)
    low, high = np.percentile(draws, [2.5, 97.5]) if len(draws) else (np.nan, np.nan)
    method = (
        f"Kaplan-Meier, restricted mean time to return within {horizon:g} months; 95% interval from a bootstrap of "
        f"{cluster} within each group (B={reps}, seed {seed}, percentiles)"
    )
    return RmstDifference(
        horizon, rmst[1], rmst[0], rmst[1] - rmst[0], float(low), float(high), reps, len(arms[1]), len(arms[0]), method
    )


def _bootstrap(arms: dict, duration: str, event: str, cluster: str, horizon: float, reps: int, seed: int) -> np.ndarray:
    """RMST differences with employers resampled with replacement within each group.

    Vectorised over the draws: each employer's returns and exits are counted once on the grid of the times
    below the horizon; a draw's counts are the chosen employers' summed (a B x G selection matrix times the
    G x T counts), from which the Kaplan-Meier curve and its area follow exactly as in :func:`kaplan_meier`."""
    rng = np.random.default_rng(seed)
    grid = np.unique(np.concatenate([a[duration].to_numpy(float) for a in arms.values()]))
    grid = grid[grid < horizon]
    rmst = {}
    for g, arm in arms.items():
        codes = pd.factorize(arm[cluster], sort=True)[0]
        n_clusters = int(codes.max()) + 1
        events, exits, sizes = _counts(arm[duration].to_numpy(float), arm[event].to_numpy(int), codes, n_clusters, grid)
        chosen = rng.integers(0, n_clusters, size=(reps, n_clusters))
        selection = np.zeros((reps, n_clusters))
        np.add.at(selection, (np.repeat(np.arange(reps), n_clusters), chosen.ravel()), 1.0)
        rmst[g] = _areas(selection @ events, selection @ exits, selection @ sizes, grid, horizon)
    return rmst[1] - rmst[0]


def _counts(duration: np.ndarray, event: np.ndarray, codes: np.ndarray, n_clusters: int, grid: np.ndarray):
    """Per cluster: returns and exits (returns and censorings) at each grid time, and the cluster's size."""
    position = np.searchsorted(grid, duration)
    on_grid = (
        (position < len(grid)) & (grid[np.minimum(position, len(grid) - 1)] == duration) if len(grid) else duration < 0
    )
    events = np.zeros((n_clusters, len(grid)))
    exits = np.zeros((n_clusters, len(grid)))
    np.add.at(events, (codes[on_grid], position[on_grid]), event[on_grid])
    np.add.at(exits, (codes[on_grid], position[on_grid]), 1.0)
    return events, exits, np.bincount(codes, minlength=n_clusters).astype(float)


def _areas(events: np.ndarray, exits: np.ndarray, sizes: np.ndarray, grid: np.ndarray, horizon: float) -> np.ndarray:
    """The area under each row's Kaplan-Meier curve from 0 to ``horizon`` (rows: draws; columns: grid times)."""
    if len(grid) == 0:
        return np.full(len(sizes), float(horizon))
    left_before = np.cumsum(exits, axis=1) - exits  # who left strictly before each time
    at_risk = sizes[:, None] - left_before
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / at_risk, 0.0)
    survival = np.cumprod(1.0 - hazard, axis=1)  # just after each grid time
    widths = np.diff(np.concatenate([grid, [horizon]]))
    return grid[0] + survival @ widths
