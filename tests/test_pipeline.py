"""The whole asset graph on simulated drops: planted effects recovered, outputs in contract, runs isolated."""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from pipeline_support import effects, isolate, materialize, simulate, truth

from measures.evaluation.effects import EFFECT_COLUMNS, ESTIMATE_COLUMNS
from measures.evaluation.panels import admin_panel
from measures.evaluation.trends import TREND_COLUMNS
from pipelines.run import PipelineFailed, run_drop


@pytest.fixture
def data(monkeypatch, tmp_path):
    return isolate(monkeypatch, tmp_path)


def test_materialize_recovers_the_planted_effect(data, tmp_path):
    drop = tmp_path / "levering"
    simulate(drop, seed=11, effect_ao=-12)
    result, delivery, out = materialize(drop, data, dg.DagsterInstance.ephemeral())
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(
        c.passed for c in checks if c.check_name in ("rows_accounted", "contract_columns", "ao_pct_estimated")
    )

    ao = effects(out).loc["ao_pct"]
    att = truth(drop)["att"]["ao_pct"]
    assert abs(ao["estimate"] - att) < 2 * ao["se"], (ao["estimate"], att, ao["se"])
    assert ao["ci_low"] < att < ao["ci_high"]
    assert ao["n_employers"] == 8 and 0 < ao["p_value_wild"] == ao["p_value"]  # the wild bootstrap's, never 0
    assert (ao["n_treated_employers"], ao["n_comparison_employers"], ao["estimator"]) == (4, 4, "imputation")
    assert list(pd.read_csv(out / "estimates.csv").columns) == ESTIMATE_COLUMNS
    assert list(pd.read_csv(out / "effects.csv").columns) == EFFECT_COLUMNS
    trends = pd.read_csv(out / "trends.csv")
    assert list(trends.columns) == TREND_COLUMNS
    months = trends.loc[(trends["indicator_id"] == "ao_pct") & (trends["group"] == "comparison"), "period"].astype(int)
    assert list(months) == sorted(months) and len(months) > 10  # numeric order, as written
    ingest = json.loads((out / "ingest.json").read_text())
    assert all(t["rows_in"] == t["loaded"] + t["quarantined"] for t in ingest.values())
    for name in ("event_study.csv", "balance.csv", "quarantine.csv", "run.json", "report.html"):
        assert (out / name).stat().st_size > 0, name
    run = json.loads((out / "run.json").read_text())
    assert (
        run["delivery"] == delivery.key
        and run["cutoff"] is None
        and set(run["input_files"]) >= {"admin.csv", "cases.csv"}
    )


def test_ao_pct_effects_are_the_pilot_did(data, tmp_path):
    """Recomputed here from the raw files with pyfixest, an independent implementation (no returns to work in this
    drop, so the panel is the delivered rows): estimates.csv's twfe row is the published model (employee fixed
    effects, month relative to inclusion as period effects, treated × post, CR1 by employer), its imputation row
    (effects.csv's estimate) the untreated rows' employee, calendar-month and absence-duration effects imputed
    for the treated rows."""
    drop = tmp_path / "levering"
    simulate(drop, seed=3, return_hazard=0.0)
    _, _, out = materialize(drop, data, dg.DagsterInstance.ephemeral())
    admin, cases, employers = (pd.read_csv(drop / f"{t}.csv") for t in ("admin", "cases", "employers"))
    panel = admin.merge(cases[["employee_id", "inclusion_date", "absence_start"]], on="employee_id")
    month, inclusion = pd.to_datetime(panel["month"]), pd.to_datetime(panel["inclusion_date"])
    start = pd.to_datetime(panel["absence_start"])
    panel["rel"] = (month.dt.year - inclusion.dt.year) * 12 + month.dt.month - inclusion.dt.month
    panel["duration"] = (month.dt.year - start.dt.year) * 12 + month.dt.month - start.dt.month
    group = panel["employer_id"].map(employers.set_index("employer_id")["group"])
    panel["treated"] = ((group == "intervention") & (panel["rel"] >= 0)).astype(int)
    fit = pf.feols("ao_pct ~ treated | employee_id + rel", data=panel, vcov={"CRV1": "employer_id"})
    rows = pd.read_csv(out / "estimates.csv").set_index(["indicator_id", "estimator"])
    twfe = rows.loc[("ao_pct", "twfe")]
    assert twfe["estimate"] == pytest.approx(fit.coef()["treated"], abs=1e-6)
    assert twfe["se"] == pytest.approx(fit.se()["treated"], abs=1e-6)
    untreated, treated = panel[panel["treated"] == 0], panel[panel["treated"] == 1]
    first = pf.feols("ao_pct ~ 1 | employee_id + month + duration", data=untreated, fixef_rm="none")
    imputed = np.nanmean(treated["ao_pct"].to_numpy() - first.predict(newdata=treated))
    ao = effects(out).loc["ao_pct"]
    assert ao["estimator"] == "imputation" and rows.loc[("ao_pct", "imputation"), "estimate"] == ao["estimate"]
    assert ao["estimate"] == pytest.approx(imputed, abs=1e-5)  # pyfixest recovers three sets of effects to ~1e-6


def test_deliveries_in_one_warehouse_do_not_mix(data, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    simulate(first, seed=21, effect_ao=-15, employees_per_employer=25)
    simulate(second, seed=22, effect_ao=0, employees_per_employer=20)
    instance = dg.DagsterInstance.ephemeral()
    _, _, out_a = materialize(first, data, instance)
    _, _, out_b = materialize(second, data, instance)
    a, b = effects(out_a).loc["ao_pct"], effects(out_b).loc["ao_pct"]
    assert a["n_employees"] <= 200 and b["n_employees"] <= 160 and b["n_employees"] != a["n_employees"]
    assert a["ci_high"] < 0 and b["ci_low"] < 0 < b["ci_high"]


def test_same_drop_twice_gives_identical_bytes(data, tmp_path):
    drop = tmp_path / "levering"
    simulate(drop, seed=5)
    instance = dg.DagsterInstance.ephemeral()
    _, _, out = materialize(drop, data, instance)
    first = {name: (out / name).read_bytes() for name in ("effects.csv", "trends.csv")}
    _, _, again = materialize(drop, data, instance)
    assert again == out
    assert {name: (again / name).read_bytes() for name in first} == first


def test_interim_results_leave_out_data_after_the_cutoff(data, tmp_path):
    drop = tmp_path / "levering"
    simulate(drop, seed=9)
    cutoff = pd.Timestamp("2026-06-30")
    result, delivery, out = materialize(drop, data, dg.DagsterInstance.ephemeral(), cutoff=cutoff.date())
    assert result.success and delivery.key.endswith("-cutoff-2026-06-30")
    assert json.loads((out / "run.json").read_text())["cutoff"] == "2026-06-30"
    admin = pd.read_csv(drop / "admin.csv")
    cases = pd.read_csv(drop / "cases.csv", parse_dates=["absence_start", "inclusion_date", "end_date"])
    kept = effects(out).loc["ao_pct", "n_obs"]
    # the delivered months up to the cut-off, and the months after a return to work known by then, up to it
    panel = admin_panel(pd.read_csv(drop / "employers.csv"), cases, admin, cutoff)
    assert (pd.to_datetime(panel["month"]) <= cutoff).all()
    assert kept == len(panel.dropna(subset=["ao_pct"])) < len(admin)
    assert "report" not in delivery.key


def test_a_failed_run_names_the_asset_and_the_reason(data, tmp_path):
    drop = tmp_path / "kapot"
    simulate(drop, seed=1)
    admin = pd.read_csv(drop / "admin.csv").drop(columns=["ao_pct"])
    admin.to_csv(drop / "admin.csv", index=False)
    with pytest.raises(PipelineFailed) as failure:
        run_drop(drop, tmp_path / "out", log_level="ERROR")
    message = str(failure.value)
    assert "ingest_drop" in message and "admin.csv" in message and "ao_pct" in message
    assert not (tmp_path / "out").exists()  # nothing half-written
