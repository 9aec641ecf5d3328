"""Power of a cluster-randomised comparison: formula, the report's 0.40 SD,
and Monte-Carlo checks of size and power."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from measures.estimation.power import mde_table, minimum_detectable_effect, simulate_power


def test_design_effect_and_sizes():
    res = minimum_detectable_effect(10, 20, 0.05)
    assert res.design_effect == pytest.approx(1.95)  # 1 + 19 x 0.05
    assert (res.n_total, res.df) == (200, 8)


def test_mde_formula_with_t_on_g_minus_2_df():
    res = minimum_detectable_effect(10, 20, 0.05, alpha=0.05, power=0.80)
    multiplier = stats.t.ppf(0.975, 8) + stats.t.ppf(0.80, 8)
    assert res.mde_sd == pytest.approx(multiplier * np.sqrt(1.95 * 4 / 200), rel=1e-12)


def test_two_hundred_employees_give_040_sd_when_clustering_is_ignored():
    # The report's ~200 employees: (1.96 + 0.84) x sqrt(4 / 200) = 0.396.
    res = minimum_detectable_effect(10, 20, 0.05)
    assert round(res.mde_ignoring_clustering, 2) == 0.40
    assert res.mde_sd > 1.5 * res.mde_ignoring_clustering


def test_converges_to_individual_formula_without_clustering():
    res = minimum_detectable_effect(20_000, 1, 0.0)
    assert res.mde_sd == pytest.approx(res.mde_ignoring_clustering, rel=1e-3)


def test_as_dict_keys():
    d = minimum_detectable_effect(10, 20, 0.05).as_dict()
    assert {"mde_sd", "mde_ignoring_clustering", "design_effect", "n_total", "df"} <= set(d)


def test_mde_table_for_200_employees():
    table = mde_table(range(4, 21, 2), total_employees=200, icc=0.05)
    assert table["employers"].tolist() == list(range(4, 21, 2))
    assert np.allclose(table["employers"] * table["employees_per_employer"], 200)
    assert table["mde_sd"].is_monotonic_decreasing
    assert (table["mde_sd"] > table["mde_ignoring_clustering"]).all()
    assert table.loc[0, "mde_sd"] > 1.0  # 4 employers: more than 1 SD


def test_simulation_is_deterministic_and_has_nominal_size():
    size = simulate_power(10, 20, 0.05, effect_sd=0.0, reps=4000, seed=3)
    assert size == simulate_power(10, 20, 0.05, effect_sd=0.0, reps=4000, seed=3)
    assert abs(size - 0.05) < 0.015  # exact t-test under equal cluster sizes


@pytest.mark.slow
@pytest.mark.parametrize("employers,size,icc", [(10, 20, 0.05), (6, 30, 0.10)])
def test_simulated_power_at_the_mde_is_080(employers, size, icc):
    mde = minimum_detectable_effect(employers, size, icc).mde_sd
    power = simulate_power(employers, size, icc, effect_sd=mde, reps=5000, seed=11)
    assert 0.75 <= power <= 0.85


def test_simulated_did_power_is_deterministic_and_rises_with_the_effect():
    from measures.estimation.pilot_panel import PanelSpec
    from measures.estimation.power import simulate_did_power

    small = simulate_did_power(PanelSpec(effect=-2.0), reps=40, seed=1)
    assert small == simulate_did_power(PanelSpec(effect=-2.0), reps=40, seed=1)
    large = simulate_did_power(PanelSpec(effect=-12.0), reps=40, seed=1)
    assert large.power > small.power and large.power >= 0.9
    assert large.mean_estimate == pytest.approx(large.mean_truth, abs=1.0)


def test_employer_variance_of_changes_and_heterogeneity_cost_power():
    from measures.estimation.pilot_panel import PanelSpec
    from measures.estimation.power import simulate_did_power

    calm = simulate_did_power(PanelSpec(effect=-6.0, employer_change_sd=1.0), reps=60, seed=2)
    noisy = simulate_did_power(PanelSpec(effect=-6.0, employer_change_sd=8.0, effect_sd=4.0), reps=60, seed=2)
    assert noisy.power < calm.power - 0.2
