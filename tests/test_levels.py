"""The estimators of the designs beyond two groups: levels without a comparison group (against statsmodels) and
the restricted mean time to an event (against Kaplan-Meier computed by hand, and a planted difference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from measures.estimation.errors import EstimationError
from measures.estimation.levels import cluster_mean, wilson_interval
from measures.estimation.restricted_mean import rmst_did, rmst_level
from measures.estimation.survival import kaplan_meier, restricted_mean


def _clustered(seed: int = 1, clusters: int = 12, per: int = 9) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(clusters), per)
    values = 0.7 + rng.normal(0, 0.1, clusters)[labels] + rng.normal(0, 0.2, len(labels))
    return values, labels


def test_cluster_mean_is_statsmodels_cluster_robust_constant():
    values, labels = _clustered()
    est = cluster_mean(values, labels, null=0.65)
    fit = sm.OLS(values, np.ones((len(values), 1))).fit(
        cov_type="cluster", cov_kwds={"groups": labels, "use_correction": True, "df_correction": True}
    )
    # statsmodels' CR1 is G/(G-1) * (N-1)/(N-K): with a constant only (K = 1), exactly G/(G-1) as ours
    assert est.estimate == pytest.approx(fit.params[0])
    assert est.se == pytest.approx(fit.bse[0], rel=1e-9)
    assert est.df == 11
    tested = sm.OLS(values - 0.65, np.ones((len(values), 1))).fit(
        cov_type="cluster", cov_kwds={"groups": labels, "use_correction": True, "df_correction": True}, use_t=True
    )
    assert est.p_value == pytest.approx(float(tested.pvalues[0]), rel=1e-6)
    assert (est.ci_low, est.ci_high) == pytest.approx(tuple(tested.conf_int()[0] + 0.65), rel=1e-6)


def test_cluster_mean_needs_two_clusters_and_variation():
    with pytest.raises(EstimationError):
        cluster_mean(np.array([1.0, 2.0]), np.array(["a", "a"]))
    with pytest.raises(EstimationError, match="do not vary"):
        cluster_mean(np.array([3.0, 3.0, 3.0]), np.array(["a", "b", "c"]))


@pytest.mark.parametrize(("successes", "n"), [(7, 20), (0, 15), (40, 40), (113, 190)])
def test_wilson_interval_is_statsmodels(successes, n):
    assert wilson_interval(successes, n) == pytest.approx(proportion_confint(successes, n, method="wilson"))


def _times(rng: np.random.Generator, n: int, scale: float) -> pd.DataFrame:
    duration = rng.exponential(scale, n)
    censor = rng.uniform(10, 60, n)
    return pd.DataFrame({"duration": np.minimum(duration, censor), "event": (duration <= censor).astype(int)})


def test_rmst_level_is_the_area_under_kaplan_meier():
    rng = np.random.default_rng(3)
    data = _times(rng, 300, 20).assign(cluster=rng.integers(0, 10, 300))
    est = rmst_level(data, 26, reps=199)
    expected = restricted_mean(kaplan_meier(data["duration"].to_numpy(), data["event"].to_numpy()), 26)
    assert est.estimate == pytest.approx(expected)
    assert est.ci_low < expected < est.ci_high and est.estimator != "" and np.isnan(est.p_value)


def test_rmst_did_recovers_a_planted_difference():
    """Intervention clusters after the introduction return faster (scale 12 instead of 20); before, and in the
    comparison clusters, all return at scale 20, so the DiD of the restricted means is their difference."""
    rng = np.random.default_rng(5)
    parts = []
    for cluster in range(16):
        treated = int(cluster < 8)
        for post in (0, 1):
            scale = 12 if treated and post else 20
            parts.append(_times(rng, 60, scale).assign(cluster=cluster, treated_group=treated, post=post))
    data = pd.concat(parts, ignore_index=True)
    truth = _exponential_rmst(12, 26) - _exponential_rmst(20, 26)
    est = rmst_did(data, 26, reps=299)
    assert est.ci_low < truth < est.ci_high, (est.estimate, truth)
    assert est.estimate < 0 and est.p_value < 0.05


def _exponential_rmst(scale: float, horizon: float) -> float:
    """The restricted mean of an exponential time with mean `scale` within `horizon`."""
    return scale * (1 - np.exp(-horizon / scale))
