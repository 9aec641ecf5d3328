"""Event study: equality with fixest, planted dynamics, the pre-trend test,
questionnaire waves and the balance table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measures.estimation.event_study import (
    balance_table,
    estimate_event_studies,
    estimate_event_study,
    estimate_wave_effects,
)

pf = pytest.importorskip("pyfixest")


def simulate_events(
    seed: int,
    employers: int = 20,
    employees: int = 10,
    periods: int = 12,
    effects: dict[int, float] | None = None,
    pre_trend: float = 0.0,
) -> pd.DataFrame:
    """Staggered events: intervention employers start in periods 4..7.

    y = employer level + employee effect + common trend + employer x period
    shock + effects[event_time] (intervention only; after the last planted
    event time its effect persists) + pre_trend * event_time
    before the event (intervention only) + noise. Comparison employers have no
    event time (NaN).
    """
    effects = effects or {}
    rng = np.random.default_rng(seed)
    emp = np.repeat(np.arange(employers), employees)
    n = emp.size
    group = (emp < employers // 2).astype(int)
    start = rng.integers(4, 8, employers)[emp]
    frame = pd.DataFrame(
        {
            "employee": np.repeat(np.arange(n), periods),
            "employer": np.repeat(emp, periods),
            "period": np.tile(np.arange(periods), n),
            "group": np.repeat(group, periods),
        }
    )
    event = frame["period"] - np.repeat(start, periods)
    frame["event_time"] = event.where(frame["group"] == 1)
    last = max(effects, default=0)
    planted = event.map(lambda k: effects.get(min(k, last), 0.0)) + pre_trend * event.clip(upper=0)
    base = np.repeat(rng.normal(0, 1, employers)[emp] + rng.normal(0, 0.5, n), periods)
    shock = rng.normal(0, 0.2, (employers, periods))[frame["employer"], frame["period"]]
    frame["truth"] = planted * frame["group"]
    frame["y"] = base + 0.1 * frame["period"] + shock + frame["truth"] + rng.normal(0, 1, len(frame))
    return frame


def fixest_event_study(data: pd.DataFrame, ks: list[int]):
    """Reference: fixest with hand-made dummies 1{event_time == k} x group."""
    data = data.copy()
    names = []
    for k in ks:
        name = f"k{'m' if k < 0 else 'p'}{abs(k)}"
        data[name] = ((data["event_time"] == k) & (data["group"] == 1)).astype(float)
        names.append(name)
    fml = f"y ~ {' + '.join(names)} | employee + period"
    fit = pf.feols(fml, data=data, vcov={"CRV1": "employer"})
    return fit.coef()[names].to_numpy(), fit.se()[names].to_numpy()


def test_coefficients_and_ses_equal_fixest():
    data = simulate_events(1, effects={0: 0.5, 1: 1.0})
    es = estimate_event_study(data, "y", "employee", "period", "event_time", "group", "employer")
    table = es.table()
    ks = [k for k in table["event_time"] if k != -1]
    coef, se = fixest_event_study(data, ks)
    rows = table.set_index("event_time").loc[ks]
    np.testing.assert_allclose(rows["estimate"], coef, atol=1e-8)
    np.testing.assert_allclose(rows["se"], se, atol=1e-8)
    assert es.df == es.n_clusters - 1 == 19


@pytest.mark.parametrize("engine", ["panelols", "within"])
def test_several_outcomes_equal_one_at_a_time(engine):
    """Outcomes on the same rows share one design, an outcome with other missing rows gets its own; each
    result equals its own fit."""
    data = simulate_events(5, effects={0: 0.5, 1: 1.0})
    rng = np.random.default_rng(5)
    data = data.assign(y2=data["y"] * 2 + rng.normal(0, 1, len(data)), y3=data["y"] - data["truth"])
    data.loc[rng.random(len(data)) < 0.1, "y3"] = np.nan  # other rows observed: not the shared sample
    args = ("employee", "period", "event_time", "group", "employer")
    together = estimate_event_studies(data, ["y", "y2", "y3"], *args, window=(-3, 3), engine=engine)
    assert list(together) == ["y", "y2", "y3"]
    for outcome, study in together.items():
        alone = estimate_event_study(data, outcome, *args, window=(-3, 3), engine=engine)
        assert study.n_obs == alone.n_obs and study.method == alone.method
        pd.testing.assert_frame_equal(study.table(), alone.table(), rtol=1e-10, atol=1e-12)
        assert study.pretrend.p_value == pytest.approx(alone.pretrend.p_value, rel=1e-9)
    assert together["y3"].n_obs < together["y"].n_obs
    assert together["y"].table().set_index("event_time").loc[1, "estimate"] > 0.5  # the planted effect
    assert abs(together["y3"].table().set_index("event_time").loc[1, "estimate"]) < 0.5  # y3 has none


def test_window_bins_the_endpoints():
    data = simulate_events(2)
    es = estimate_event_study(data, "y", "employee", "period", "event_time", "group", "employer", window=(-3, 3))
    assert es.table()["event_time"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    binned = data.assign(event_time=data["event_time"].clip(-3, 3))
    coef, _se = fixest_event_study(binned, [-3, -2, 0, 1, 2, 3])
    rows = es.table().set_index("event_time").drop(index=-1)
    np.testing.assert_allclose(rows["estimate"], coef, atol=1e-8)
    trimmed = estimate_event_study(
        data, "y", "employee", "period", "event_time", "group", "employer", window=(-3, 3), bin_endpoints=False
    )
    assert trimmed.n_obs < es.n_obs  # treated rows outside the window are dropped


def test_recovers_planted_dynamic_effects():
    planted = {0: 0.5, 1: 1.0, 2: 1.5, 3: 1.5}
    data = simulate_events(3, employers=30, employees=20, effects=planted)
    es = estimate_event_study(data, "y", "employee", "period", "event_time", "group", "employer", window=(-4, 3))
    table = es.table().set_index("event_time")
    assert table.loc[-1, "estimate"] == 0.0 and table.loc[-1, "reference"]
    for k, row in table.drop(index=-1).iterrows():
        assert abs(row["estimate"] - planted.get(k, 0.0)) < 3 * row["se"]
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert es.pretrend is not None and es.pretrend.n_pre == 3
    assert es.pretrend.p_value > 0.01


def test_pretrend_test_rejects_a_planted_pre_trend():
    data = simulate_events(4, employers=30, employees=20, effects={0: 0.5}, pre_trend=0.25)
    es = estimate_event_study(data, "y", "employee", "period", "event_time", "group", "employer", window=(-4, 3))
    assert es.pretrend.p_value < 0.001
    assert (es.pretrend.df1, es.pretrend.df2) == (3, 29)


def test_pretrend_test_with_rank_deficient_covariance():
    # 4 employers, 2 intervention: 7 pre-period coefficients but the
    # cluster-robust covariance has rank < 4.
    data = simulate_events(5, employers=4, employees=10, periods=14)
    es = estimate_event_study(data, "y", "employee", "period", "event_time", "group", "employer")
    test = es.pretrend
    assert test.n_pre > test.df1 and 1 <= test.df1 <= 3
    assert np.isfinite(test.statistic) and 0.0 <= test.p_value <= 1.0
    assert test.df2 == 3


def test_questionnaire_waves_have_no_pretrend_and_match_means():
    rng = np.random.default_rng(6)
    rows = []
    for person in range(120):
        employer, group = person // 12, int(person < 60)
        level = rng.normal()
        for order, wave in enumerate(["t0", "t1", "t2"]):
            y = level + 0.2 * order + group * 0.4 * order + rng.normal(0, 0.5)
            rows.append((person, employer, wave, group, y))
    data = pd.DataFrame(rows, columns=["person", "employer", "wave", "group", "y"])
    es = estimate_wave_effects(data, "y", "person", "wave", "group", "employer")
    assert es.pretrend is None
    table = es.table().set_index("event_time")
    means = data.pivot_table(index="group", columns="wave", values="y")
    for k, wave in ((1, "t1"), (2, "t2")):
        did = (means.loc[1, wave] - means.loc[1, "t0"]) - (means.loc[0, wave] - means.loc[0, "t0"])
        assert table.loc[k, "estimate"] == pytest.approx(did, abs=1e-10)  # balanced 2x2
    assert table.loc[0, "reference"]


def test_balance_table_standardised_difference():
    baseline = pd.DataFrame(
        {"group": [1, 1, 1, 0, 0, 0, 0], "age": [30, 40, 50, 35, 45, 55, np.nan], "ao": [10, 20, 30, 10, 10, 10, 10]}
    )
    table = balance_table(baseline, "group", ["age", "ao"]).set_index("variable")
    assert table.loc["age", "mean_intervention"] == 40 and table.loc["age", "n_comparison"] == 3
    assert table.loc["age", "std_diff"] == pytest.approx(-5 / 10)  # both SD 10
    assert table.loc["ao", "std_diff"] == pytest.approx(10 / np.sqrt((100 + 0) / 2))
    assert table.loc["ao", "sd_comparison"] == 0
