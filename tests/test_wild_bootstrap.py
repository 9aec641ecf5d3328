"""Wild cluster bootstrap (WCR, Webb): agreement with pyfixest/wildboottest,
determinism, and the weight distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measures.estimation.did import estimate_did
from measures.estimation.wild_bootstrap import WEBB_POINTS, webb_weights, wild_cluster_p_value

pf = pytest.importorskip("pyfixest")


def panel_with_ten_clusters(seed: int, effect: float) -> pd.DataFrame:
    """10 employers (5 intervention) x 5 employees x 6 periods, clustered noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for employer in range(10):
        level, slope = rng.normal(0, 1), rng.normal(0, 0.3)
        shocks = rng.normal(0, 0.5, 6)
        for person in range(5):
            person_effect = rng.normal(0, 0.5)
            for t in range(6):
                treated = int(employer < 5 and t >= 3)
                y = level + person_effect + 0.1 * t + slope * t + shocks[t] + effect * treated + rng.normal()
                rows.append((employer, employer * 5 + person, t, treated, y))
    return pd.DataFrame(rows, columns=["employer", "employee", "period", "d", "y"])


def test_webb_weights_are_the_six_point_distribution():
    weights = webb_weights(60_000, 10, seed=1)
    assert weights.shape == (60_000, 10)
    assert set(np.round(np.unique(weights), 12)) == set(np.round(WEBB_POINTS, 12))
    assert abs(weights.mean()) < 0.01 and abs(weights.var() - 1.0) < 0.01
    assert np.array_equal(weights, webb_weights(60_000, 10, seed=1))


@pytest.mark.parametrize("seed,effect", [(1, 0.6), (2, 0.4), (3, 0.0)])
def test_agrees_with_pyfixest_wildboottest(seed, effect):
    pytest.importorskip("wildboottest")
    data = panel_with_ten_clusters(seed, effect)
    fit = pf.feols("y ~ d | employee + period", data=data, vcov={"CRV1": "employer"})
    theirs = fit.wildboottest(param="d", reps=9999, weights_type="webb", seed=seed, cluster="employer")["Pr(>|t|)"]
    ours = estimate_did(
        data, "y", "employee", "period", "d", cluster="employer", wild=True, wild_reps=9999, seed=seed
    ).p_value_wild
    assert abs(ours - float(theirs)) < 0.03


def test_without_fixed_effects_agrees_with_pyfixest():
    pytest.importorskip("wildboottest")
    data = panel_with_ten_clusters(4, 0.5)
    fit = pf.feols("y ~ d + period", data=data, vcov={"CRV1": "employer"})
    theirs = fit.wildboottest(param="d", reps=9999, weights_type="webb", seed=4, cluster="employer")["Pr(>|t|)"]
    X = np.column_stack([np.ones(len(data)), data["d"], data["period"]])
    ours = wild_cluster_p_value(data["y"].to_numpy(), X, 1, data["employer"].to_numpy(), demean=None, reps=9999, seed=4)
    assert abs(ours - float(theirs)) < 0.03


def test_deterministic_for_a_seed_and_sensitive_to_it():
    data = panel_with_ten_clusters(5, 0.3)
    run = [
        estimate_did(data, "y", "employee", "period", "d", cluster="employer", wild=True, seed=s).p_value_wild
        for s in (7, 7, 8)
    ]
    assert run[0] == run[1]
    assert run[0] != run[2] and abs(run[0] - run[2]) < 0.06


def test_large_effect_is_rejected():
    strong = panel_with_ten_clusters(6, 3.0)
    est = estimate_did(strong, "y", "employee", "period", "d", cluster="employer", wild=True)
    assert est.p_value_wild < 0.01
