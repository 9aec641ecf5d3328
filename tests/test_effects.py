"""The effects tables of a run: indicators estimated together where they share rows, failures kept apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measures.evaluation import panels
from measures.evaluation.effects import EFFECT_COLUMNS, ESTIMATE_COLUMNS, effects_table, effects_tables
from measures.evaluation.event_studies import event_study_table, fragile
from measures.evaluation.simulate import SimulationSpec, simulate


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    tables, _ = simulate(SimulationSpec(seed=3, employers=12, employees_per_employer=15, survey_indicators=2))
    return tables


def admin_panel(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return panels.admin_panel(tables["employers"], tables["cases"], tables["admin"])


def test_an_indicator_that_cannot_be_estimated_does_not_take_the_others_with_it(tables):
    admin = admin_panel(tables)
    # loonwaarde_pct only at comparison employers: nothing identifies its effect, and its rows differ from
    # those of AO% and absence days, so it is fitted in a group of its own
    admin.loc[admin["treated_group"] == 1, "loonwaarde_pct"] = np.nan
    survey = panels.survey_panel(tables["employers"], tables["cases"], tables["survey"])
    rtw = panels.rtw_frame(tables["employers"], tables["cases"], tables["admin"])
    effects = effects_table(admin, survey, rtw).set_index("indicator_id")
    assert effects.loc["loonwaarde_pct", "method"].startswith("not estimable")
    assert pd.isna(effects.loc["loonwaarde_pct", "estimate"])
    for indicator in ("ao_pct", "absence_days"):
        assert effects.loc[indicator, "estimate"] == effects.loc[indicator, "estimate"]  # estimated
        assert effects.loc[indicator, "method"].startswith("imputation (Borusyak-Jaravel-Spiess)")
    events = event_study_table(admin, survey)
    assert events.loc[events["indicator_id"] == "loonwaarde_pct", "note"].str.startswith("not estimable").all()
    assert events.loc[events["indicator_id"] == "ao_pct", "estimate"].notna().sum() > 5


def test_estimated_together_equals_estimated_alone(tables):
    admin = admin_panel(tables)
    empty = pd.DataFrame(columns=["indicator_id"])
    together = effects_table(admin, empty, pd.DataFrame()).set_index("indicator_id")
    for indicator in ("ao_pct", "absence_days", "loonwaarde_pct"):
        alone = effects_table(
            admin.drop(columns=[i for i in ("ao_pct", "absence_days", "loonwaarde_pct") if i != indicator]),
            empty,
            pd.DataFrame(),
        ).set_index("indicator_id")
        pd.testing.assert_series_equal(
            together.loc[indicator, ["estimate", "se", "p_value", "p_value_wild"]].astype(float),
            alone.loc[indicator, ["estimate", "se", "p_value", "p_value_wild"]].astype(float),
            rtol=1e-9,
        )


def test_effects_hold_the_primary_estimate_and_estimates_every_estimator(tables):
    admin = admin_panel(tables)
    survey = panels.survey_panel(tables["employers"], tables["cases"], tables["survey"])
    rtw = panels.rtw_frame(tables["employers"], tables["cases"], tables["admin"])
    result = effects_tables(admin, survey, rtw)
    effects = result.effects.set_index("indicator_id")
    assert list(result.effects.columns[: len(EFFECT_COLUMNS)]) == EFFECT_COLUMNS
    ao = effects.loc["ao_pct"]
    assert ao["estimator"] == "imputation" and ao["family"] == "primary"
    assert (ao["n_treated_employers"], ao["n_comparison_employers"]) == (6, 6)
    assert 0 < ao["p_value"] == ao["p_value_wild"]
    assert pd.isna(ao["p_value_ri"])  # 924 assignments of 12 employers x 2,900 rows: beyond the default budget
    assert ao["q_value"] == ao["p_value"]  # alone in its family
    assert ao["ci_low"] < ao["estimate"] < ao["ci_high"] and ao["flags"] == ""
    assert effects.loc["rtw_12m", "estimator"] == "share_difference"
    family = effects.loc[effects["family"] == "administrative"]
    assert (family["q_value"] >= family["p_value"] - 1e-12).all()
    estimates = result.estimates
    assert list(estimates.columns) == ESTIMATE_COLUMNS
    assert not estimates.duplicated(["indicator_id", "estimator"]).any()
    rows = estimates.set_index(["indicator_id", "estimator"])
    assert {"imputation", "twfe", "sun_abraham"} <= {e for i, e in rows.index if i == "ao_pct"}
    assert rows.loc[("ao_pct", "imputation"), "estimate"] == ao["estimate"]
    # the twfe row is the published model: employee and relative-month effects, CR1 t(G-1)
    from measures.estimation.did import estimate_did

    published = estimate_did(admin, "ao_pct", "employee_id", "rel", "treated", "employer_id", wild=False)
    assert rows.loc[("ao_pct", "twfe"), "estimate"] == pytest.approx(published.estimate, abs=1e-8)
    assert rows.loc[("ao_pct", "twfe"), "p_value"] == pytest.approx(published.p_value, abs=1e-8)


def test_two_intervention_employers_are_flagged(tables):
    employers = tables["employers"].copy()
    intervention = employers.index[employers["group"] == "intervention"]
    employers.loc[intervention[2:], "group"] = "comparison"  # 2 intervention employers, 10 comparison
    admin = panels.admin_panel(employers, tables["cases"], tables["admin"])
    effects = effects_table(admin, pd.DataFrame(columns=["indicator_id"]), pd.DataFrame()).set_index("indicator_id")
    assert effects.loc["ao_pct", "flags"] == "few_treated_clusters"
    assert effects.loc["ao_pct", "n_treated_employers"] == 2


def test_event_studies_carry_the_wild_pretrend_p_and_the_breakdown_value():
    tables, _ = simulate(
        SimulationSpec(seed=5, employers=10, employees_per_employer=20, effect_ao=-25, survey_indicators=0)
    )
    admin = admin_panel(tables)
    events = event_study_table(admin, pd.DataFrame(columns=["indicator_id"]))
    ao = events.loc[events["indicator_id"] == "ao_pct"].iloc[0]
    assert 0 < ao["pretrend_p_wild"] <= 1 and ao["pretrend_p"] == ao["pretrend_p"]
    assert ao["breakdown_m"] > 0 and ao["pre_curvature"] >= 0  # a large effect: something to overturn


def test_the_pre_trend_warning_is_on_the_honest_bounds():
    rows = pd.DataFrame(
        {
            "indicator_id": ["ao_pct", "ao_pct", "absence_days", "loonwaarde_pct"],
            "breakdown_m": [0.5, 0.5, 0.1, np.nan],
            "pre_curvature": [0.2, 0.2, 0.3, 1.0],
        }
    )
    found = fragile(rows)
    assert found["ao_pct"]["fragile"] == 0 and found["absence_days"]["fragile"] == 1
    assert "loonwaarde_pct" not in found  # no significant effect: nothing to overturn
