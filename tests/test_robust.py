"""Few-cluster-robust inference: the wild bootstrap with test inversion, randomisation inference over employers,
the flags, and Romano-Wolf adjustments within a family."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from measures.estimation.did import estimate_did
from measures.estimation.estimators import Inference, estimate_robust
from measures.estimation.inference import family_adjusted, holm, p_value_from_draws, romano_wolf
from measures.estimation.pilot_panel import PanelSpec, simulate_pilot_panel
from measures.estimation.randomization import assignments, cluster_paths, n_assignments
from measures.estimation.wild_bootstrap import _WildPieces, wild_weights
from tests.test_did import organ_donations, simulate_panel

FAST = Inference(wild_reps=399, randomization=False)


def pilot(seed: int, **spec) -> pd.DataFrame:
    return simulate_pilot_panel(PanelSpec(**({"employees": 12} | spec)), seed)[0]


def robust(panel: pd.DataFrame, inference: Inference = FAST, estimator: str = "imputation", outcomes=("y",)):
    return estimate_robust(
        panel,
        list(outcomes),
        "employee_id",
        "month",
        "treated",
        "employer_id",
        estimator,
        ["duration"] if estimator != "twfe" else [],
        assignment=("treated_group", "post"),
        inference=inference,
    )


def test_p_values_from_draws_are_never_zero():
    assert p_value_from_draws(50.0, np.zeros(999)) == 1 / 1000
    assert p_value_from_draws(1.0, np.array([-1.0, 2.0, 0.5])) == 3 / 4  # ties count
    assert p_value_from_draws(1.0, np.array([1.0, 0.5, 0.2, -3.0]), exact=True) == 0.5


def test_a_planted_large_effect_has_the_smallest_wild_p():
    est = robust(pilot(1, effect=-40.0), Inference(wild_reps=199, randomization=False))["y"]
    assert est.p_value == est.p_value_wild == 1 / 200


def test_the_interval_is_the_set_of_nulls_the_bootstrap_does_not_reject():
    panel = pilot(2, effect=-6.0)
    est = robust(panel)["y"]
    assert est.ci_low < est.estimate < est.ci_high
    from measures.estimation.estimators import _design

    design = _design(
        panel, ["y"], "employee_id", "month", "treated", "employer_id", "imputation", ["duration"], [], None
    )
    pieces = _WildPieces.build(design.build(design.treatment), design.Y[:, 0])
    p_at = pieces.p_value_function(wild_weights(np.unique(panel["employer_id"]), 399, FAST.seed))
    width = est.ci_high - est.ci_low
    for bound, side in ((est.ci_low, -1), (est.ci_high, 1)):
        assert p_at(bound - side * 1e-3 * width) > 0.05
        assert p_at(bound + side * 1e-3 * width) <= 0.05


def test_with_many_clusters_the_wild_interval_is_close_to_the_t_interval():
    data = simulate_panel(seed=12, employers=60, employees=4, att=0.5)
    forced = Inference(wild_reps=399, randomization=False, bootstrap=True)
    robust_est = estimate_robust(data, ["y"], "employee", "period", "treated", "employer", "twfe", inference=forced)[
        "y"
    ]
    cr1 = estimate_did(data, "y", "employee", "period", "treated", "employer", wild=False)
    assert robust_est.estimate == pytest.approx(cr1.estimate, abs=1e-10)
    assert robust_est.se == pytest.approx(cr1.se, rel=1e-8)  # the same CR1 variance, as a linear estimator
    assert robust_est.ci_low == pytest.approx(cr1.ci_low, abs=0.15 * cr1.se)
    assert robust_est.ci_high == pytest.approx(cr1.ci_high, abs=0.15 * cr1.se)


def test_with_many_clusters_in_each_arm_t_replaces_the_bootstrap():
    data = simulate_panel(seed=12, employers=60, employees=4, att=0.5)
    est = estimate_robust(data, ["y"], "employee", "period", "treated", "employer", "twfe", inference=FAST)["y"]
    cr1 = estimate_did(data, "y", "employee", "period", "treated", "employer", wild=False)
    assert (est.ci_low, est.ci_high, est.p_value) == pytest.approx((cr1.ci_low, cr1.ci_high, cr1.p_value), rel=1e-9)
    assert est.p_value_wild is None and "t(G-1)" in est.method
    few = simulate_panel(seed=12, employers=60, employees=4, att=0.5)
    few["treated"] = few["treated"] * (few["employer"] < 10)  # 10 treated employers of 60: bootstrap again
    assert estimate_robust(few, ["y"], "employee", "period", "treated", "employer", "twfe", inference=FAST)[
        "y"
    ].p_value_wild


def test_bootstrap_weights_follow_the_employer_label():
    all_weights = wild_weights(np.array(["WG01", "WG02", "WG03"]), 50, seed=7)
    some = wild_weights(np.array(["WG01", "WG03"]), 50, seed=7)
    assert np.array_equal(all_weights[:, [0, 2]], some)
    assert not np.array_equal(wild_weights(np.array(["WG01"]), 50, seed=8)[:, 0], some[:, 0])


def test_assignments_are_every_distinct_arrangement_with_the_observed_first():
    types = np.array([1, 0, 0, 1, 0, 1, 0, 0, 0, 0])
    found, exact = assignments(types)
    assert exact and len(found) == n_assignments(types) == math.comb(10, 3)
    assert np.array_equal(found[0], types)
    assert len({tuple(a) for a in found}) == len(found)
    paths = np.array([2, 0, 1, 0, 0])
    found, _ = assignments(paths)
    assert len(found) == n_assignments(paths) == 5 * 4  # 5! / 3!
    sampled, exact = assignments(np.array([1] * 12 + [0] * 12), max_exact=1000, draws=99, seed=1)
    assert not exact and len(sampled) == 100


def test_cluster_paths_need_the_treatment_to_depend_on_cluster_and_period_only():
    clusters, time = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 0, 1, 0, 1])
    paths, types = cluster_paths(clusters, time, np.array([0, 1, 0, 0, 0, 1.0]), 3, 2)
    assert paths.tolist() == [[0, 0], [0, 1]] and types.tolist() == [1, 0, 1]
    within = np.array([0, 1, 0, 0, 0, 1.0])
    assert (
        cluster_paths(np.array([0, 0, 1, 1, 0, 0]), np.array([0, 1, 0, 1, 0, 1]), within[[0, 1, 2, 3, 4, 2]], 2, 2)
        is None
    )


def test_one_treated_state_gets_randomisation_inference_and_a_flag():
    """The organ-donation replication has one treated state: the CR1 p (0.0011) is far too small; over the 27
    placebo assignments California ranks 5th, p = 5/27, and the method and the flag say so."""
    est = estimate_robust(organ_donations(), ["Rate"], "State", "Quarter", "Treated", estimator="twfe")["Rate"]
    assert est.estimate == pytest.approx(-0.022459, abs=1e-6)
    assert est.p_value == est.p_value_ri == pytest.approx(5 / 27)
    assert "randomisation inference" in est.method and "a single cluster in an arm" in est.method
    assert est.flags == ("few_treated_clusters",)
    assert est.p_value_wild > 0.3
    assert (est.n_treated_clusters, est.n_comparison_clusters) == (1, 26)


def test_randomisation_inference_over_employer_groups_is_exact_and_inverts():
    panel = pilot(3, employers=8, treated_employers=3, effect=-8.0)
    est = robust(panel, Inference(wild_reps=199, randomization=True))["y"]
    count = math.comb(8, 3)
    assert est.p_value_ri * count == pytest.approx(round(est.p_value_ri * count))  # a share of the 56 assignments
    assert "all 56 assignments" in est.method
    alone = robust(panel, Inference(wild_reps=199, randomization=True, interval=False))["y"]
    assert alone.p_value_ri == est.p_value_ri


def test_a_single_intervention_employer_is_analysed_by_randomisation_inference():
    panel = pilot(4, employers=10, treated_employers=1, effect=-8.0)
    est = robust(panel)["y"]
    assert est.p_value == est.p_value_ri and est.p_value >= 0.1  # 10 assignments: nothing below 1/10
    assert "few_treated_clusters" in est.flags and "ci_unbounded" in est.flags
    assert math.isnan(est.ci_low) or math.isnan(est.ci_high)


def test_two_employers_in_an_arm_are_flagged_but_bootstrapped():
    est = robust(pilot(5, employers=8, treated_employers=2))["y"]
    assert est.flags[:1] == ("few_treated_clusters",)
    assert est.p_value == est.p_value_wild and "wild cluster bootstrap" in est.method
    assert robust(pilot(5, employers=8, treated_employers=3))["y"].flags == ()


def reference_romano_wolf(t: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The stepdown written out: the j-th largest |t| against the maximum over the hypotheses not yet rejected."""
    order = np.argsort(-np.abs(t))
    p = np.empty(len(t))
    for j, k in enumerate(order):
        rest = order[j:]
        p[k] = (1 + sum(np.abs(draws[b, rest]).max() >= abs(t[k]) for b in range(len(draws)))) / (len(draws) + 1)
    for j in range(1, len(order)):
        p[order[j]] = max(p[order[j]], p[order[j - 1]])
    return p


def test_romano_wolf_equals_the_stepdown_written_out_and_bounds_single_p():
    rng = np.random.default_rng(1)
    draws = rng.standard_normal((999, 5)) @ np.linalg.cholesky(0.5 * np.eye(5) + 0.5).T
    t = np.array([3.1, -2.2, 0.4, 2.5, -1.0])
    adjusted = romano_wolf(t, draws)
    assert np.allclose(adjusted, reference_romano_wolf(t, draws))
    single = [(1 + np.sum(np.abs(draws[:, k]) >= abs(t[k]))) / 1000 for k in range(5)]
    assert (adjusted >= np.array(single) - 1e-12).all()
    assert (adjusted <= holm(np.array(single)) + 1e-12).all()  # Romano-Wolf uses the correlation Holm ignores


def test_holm_equals_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(2).uniform(size=12) ** 3
    assert np.allclose(holm(p), multipletests(p, method="holm")[1], atol=1e-15)


def test_indicators_of_one_run_share_their_draws_for_the_family_adjustment():
    panel = pilot(6, effect=-5.0)
    panel = panel.assign(y2=-panel["y"] + np.random.default_rng(6).normal(0, 5, len(panel)))
    estimates = robust(panel, outcomes=("y", "y2"))
    tests = [estimates[k].test for k in ("y", "y2")]
    adjusted = family_adjusted(tests, [estimates[k].p_value for k in ("y", "y2")])
    draws = np.column_stack([t.t_draws for t in tests])
    assert np.allclose(adjusted, romano_wolf(np.array([t.t_observed for t in tests]), draws))
    assert np.corrcoef(draws.T)[0, 1] < -0.5  # the same weights per employer: mirrored outcomes, mirrored draws
    assert np.allclose(family_adjusted([tests[0], None], [0.01, 0.04]), holm(np.array([0.01, 0.04])))


@pytest.mark.parametrize("estimator", ["twfe", "imputation", "sun_abraham"])
def test_every_estimator_reports_the_same_fields(estimator):
    est = robust(pilot(7), estimator=estimator)["y"]
    assert est.estimator == estimator
    assert est.p_value_wild is not None and 0 < est.p_value_wild <= 1
    assert est.n_treated_clusters + est.n_comparison_clusters == est.n_clusters == 10
    assert set(est.as_dict()) >= {"estimator", "p_value_ri", "flags", "n_treated_clusters"}


def test_robust_estimates_are_deterministic_for_a_seed():
    panel = pilot(8)
    a, b = robust(panel)["y"], robust(panel)["y"]
    assert (a.p_value, a.ci_low, a.ci_high) == (b.p_value, b.ci_low, b.ci_high)


def test_exact_enumeration_matches_itertools():
    types = np.array([1, 1, 0, 0, 0, 0])
    found, _ = assignments(types)
    expected = {tuple(1 if i in c else 0 for i in range(6)) for c in itertools.combinations(range(6), 2)}
    assert {tuple(a) for a in found} == expected
