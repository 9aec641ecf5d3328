"""Time to return to work: Kaplan-Meier as statsmodels computes it, the restricted mean, and its clustered bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measures.estimation.errors import EstimationError
from measures.estimation.survival import kaplan_meier, restricted_mean, rmst_difference


def returns(seed: int, hazard_treated: float = 0.08, employers: int = 10, per: int = 30) -> pd.DataFrame:
    """Months to a return (geometric, hazard 0.04 at comparison employers), censored at 18 months or at an exit."""
    rng = np.random.default_rng(seed)
    employer = np.repeat(np.arange(employers), per)
    group = (employer % 2 == 0).astype(int)
    back = rng.geometric(np.where(group == 1, hazard_treated, 0.04))
    exit_at = rng.geometric(0.01, len(employer))
    duration = np.minimum.reduce([back, exit_at, np.full(len(employer), 18)])
    return pd.DataFrame(
        {"duration": duration, "event": (back == duration).astype(int), "group": group, "employer": employer}
    )


def test_kaplan_meier_equals_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    data = returns(1)
    ours = kaplan_meier(data["duration"], data["event"])
    theirs = SurvfuncRight(data["duration"].to_numpy(float), data["event"].to_numpy())
    assert np.array_equal(ours.times, theirs.surv_times)
    assert np.abs(ours.survival - theirs.surv_prob).max() < 1e-14
    assert np.array_equal(ours.at_risk, theirs.n_risk)


def test_restricted_mean_is_the_area_under_the_steps():
    curve = kaplan_meier(np.array([1, 2, 2, 4, 6.0]), np.array([1, 1, 0, 1, 0]))
    # S = 1 on [0,1), 0.8 on [1,2), 0.6 on [2,4), 0.3 on [4,5)
    assert restricted_mean(curve, 5) == pytest.approx(1 + 0.8 + 0.6 * 2 + 0.3 * 1)
    no_events = kaplan_meier(np.array([3.0, 5.0]), np.array([0, 0]))
    assert restricted_mean(no_events, 12) == 12


def test_a_faster_return_shortens_the_restricted_mean_and_the_interval_excludes_zero():
    result = rmst_difference(returns(2), "duration", "event", "group", "employer", horizon=12, reps=499, seed=3)
    # truth: sum over months 0..11 of the survival of a geometric return, per group
    truth = sum(0.92**k for k in range(12)) - sum(0.96**k for k in range(12))
    assert result.difference < 0 and result.ci_high < 0
    assert result.ci_low < truth < result.ci_high
    again = rmst_difference(returns(2), "duration", "event", "group", "employer", horizon=12, reps=499, seed=3)
    assert (again.ci_low, again.ci_high) == (result.ci_low, result.ci_high)
    assert "employer" in result.method and result.n_intervention == result.n_comparison == 150


def test_a_group_without_employees_cannot_be_compared():
    data = returns(3)
    with pytest.raises(EstimationError):
        rmst_difference(data[data["group"] == 1], "duration", "event", "group", "employer", horizon=12)


def test_the_vectorised_bootstrap_equals_kaplan_meier_on_each_resample():
    from measures.estimation.survival import _areas, _counts

    data = returns(4).astype({"duration": float})
    data.loc[data.index[::7], "duration"] += 0.5  # times off the whole months too
    grid = np.unique(data["duration"].to_numpy(float))
    grid = grid[grid < 12]
    codes = pd.factorize(data["employer"], sort=True)[0]
    events, exits, sizes = _counts(data["duration"].to_numpy(float), data["event"].to_numpy(), codes, 10, grid)
    picks = np.random.default_rng(5).integers(0, 10, size=(20, 10))
    selection = np.stack([np.bincount(p, minlength=10) for p in picks]).astype(float)
    areas = _areas(selection @ events, selection @ exits, selection @ sizes, grid, 12)
    for pick, area in zip(picks, areas, strict=True):
        sample = pd.concat([data[data["employer"] == e] for e in pick])
        assert area == pytest.approx(restricted_mean(kaplan_meier(sample["duration"], sample["event"]), 12), abs=1e-12)
