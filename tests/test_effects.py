"""The effects tables of a run: indicators estimated together where they share rows, failures kept apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measures.evaluation import panels
from measures.evaluation.effects import effects_table, event_study_table
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
        assert effects.loc[indicator, "method"].startswith("TWFE DiD")
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
