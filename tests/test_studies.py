"""A study assembled from partial deliveries, end to end through `run_study` (what `pilot run` does): the parts
equal the whole, a revision is counted and applied, a bad delivery never breaks the next, a delivery that
leaves nothing usable is refused without touching the warehouse, and a folder's name reaches nothing."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest
from pipeline_support import isolate, simulate
from study_support import assert_same_effects, part, read_drop, write_drop

from pipelines.deliveries import deliveries
from pipelines.run import PipelineFailed, run_study

SMALL = {"survey_indicators": 2}  # with pipeline_support.SMALL: 8 employers × 25 employees


@pytest.fixture
def data(monkeypatch, tmp_path):
    return isolate(monkeypatch, tmp_path)


@pytest.fixture
def instance():
    return dg.DagsterInstance.ephemeral()


def _run(study, drop, out, instance, **options):
    return run_study(study, drop, out, dagster_instance=instance, log_level="ERROR", **options)


def test_four_partial_deliveries_equal_the_whole_drop_and_a_revision_is_applied(data, tmp_path, instance):
    whole = tmp_path / "whole"
    simulate(whole, seed=17, **SMALL)
    _run(None, whole, tmp_path / "alone", instance)
    tables = read_drop(whole)
    employers = tables["employers"]
    intervention = set(employers.loc[employers["group"] == "intervention", "employer_id"])
    cut = sorted(tables["admin"]["month"])[len(tables["admin"]) // 2]

    def early_intervention(frame):
        return frame["employer_id"].isin(intervention) & (frame["month"] <= cut)

    parts = [
        part(whole, tmp_path / "d1", employers=True, cases=True),
        part(whole, tmp_path / "d2", activities=True, survey=True),  # answers to cases delivered before
        part(whole, tmp_path / "d3", admin=early_intervention),
        part(whole, tmp_path / "d4", admin=lambda f: ~early_intervention(f)),
    ]
    outcomes = [_run("akc-pilot", p, tmp_path / f"out{i}", instance) for i, p in enumerate(parts, start=1)]
    assert [o.not_evaluable is None for o in outcomes] == [False, False, False, True]
    assert "no administrative months yet" in outcomes[1].not_evaluable
    assert "comparison group" in outcomes[2].not_evaluable
    assert_same_effects(tmp_path / "out4", tmp_path / "alone")

    keys = [d.delivery_key for d in deliveries("akc-pilot")]
    assert keys == [o.delivery.key for o in outcomes] and all("-akc-pilot-" in k for k in keys)
    assert keys == sorted(keys, key=lambda k: k[:10])  # the delivery date leads
    listed = pd.read_csv(tmp_path / "out4" / "deliveries.csv")
    assert list(listed["delivery"].unique()) == keys
    brought = listed.groupby("table")[["new", "revised", "unchanged"]].sum()
    for name, frame in tables.items():
        assert brought.loc[name].tolist() == [len(frame), 0, 0], name

    # a revision: 30 admin months with other values, 5 repeated as they were, 2 months not delivered before
    admin = tables["admin"]
    revised = admin.iloc[:30].assign(
        ao_pct=lambda f: [f"{100 - float(v) if float(v) != 50 else 10:.1f}" for v in f["ao_pct"]]
    )
    repeated = admin.iloc[30:35]
    last = admin.assign(_m=pd.PeriodIndex(admin["month"], freq="M")).groupby("employee_id").tail(1).iloc[:2]
    added = last.assign(month=(last["_m"] + 1).astype(str)).drop(columns="_m")
    correction = write_drop(tmp_path / "d5", {"admin": pd.concat([revised, repeated, added])})
    fifth = _run("akc-pilot", correction, tmp_path / "out5", instance)
    ingest = json.loads((tmp_path / "out5" / "ingest.json").read_text())
    assert list(ingest) == ["admin"]
    counts = {k: ingest["admin"][k] for k in ("rows_in", "loaded", "quarantined", "new", "revised", "unchanged")}
    assert counts == {"rows_in": 37, "loaded": 37, "quarantined": 0, "new": 2, "revised": 30, "unchanged": 5}

    applied = admin.copy()
    applied.iloc[:30] = revised
    write_drop(tmp_path / "expected", tables | {"admin": pd.concat([applied, added])})
    _run(None, tmp_path / "expected", tmp_path / "expected-out", instance)
    assert_same_effects(tmp_path / "out5", tmp_path / "expected-out")  # applied once, never duplicated

    over_time = pd.read_csv(tmp_path / "out5" / "effects_over_time.csv")
    assert list(over_time["evaluation"].unique()) == [outcomes[3].delivery.key, fifth.delivery.key]
    assert set(over_time["indicator_id"]) >= {"ao_pct", "absence_days"}
    ao = over_time.loc[over_time["indicator_id"] == "ao_pct"].set_index("evaluation")["estimate"]
    effect = pd.read_csv(tmp_path / "out5" / "effects.csv").set_index("indicator_id").loc["ao_pct", "estimate"]
    assert ao[fifth.delivery.key] == pytest.approx(effect, abs=1e-9)
    report = (tmp_path / "out5" / "report.html").read_text(encoding="utf-8")
    assert 'id="over-time"' in report and 'id="deliveries"' in report and fifth.delivery.key in report
    assert 'id="over-time"' not in (tmp_path / "out4" / "report.html").read_text(encoding="utf-8")  # one point


def test_a_clean_delivery_then_one_with_bad_rows_and_no_name_reaches_anything(data, tmp_path, instance):
    whole = tmp_path / "whole"
    simulate(whole, seed=5, **SMALL)
    named = part(whole, tmp_path / "verzuim Jan de Vries 123456782", employers=True, cases=True)
    first = _run("pilot-2026", named, tmp_path / "out1", instance)  # clean: an empty quarantine is stored
    assert first.not_evaluable is not None

    tables = read_drop(whole)
    admin, survey = tables["admin"].copy(), tables["survey"].copy()
    admin.loc[3, "ao_pct"], admin.loc[4, "absence_days"], admin.loc[5, "month"] = "130", "veel", "2026-13"
    survey.loc[0, "value"] = "9"
    bad = write_drop(tmp_path / "levering 2", {"admin": admin, "survey": survey, "activities": tables["activities"]})
    second = _run("pilot-2026", bad, tmp_path / "out2", instance)
    assert second.not_evaluable is None
    quarantine = pd.read_csv(tmp_path / "out2" / "quarantine.csv")
    assert set(zip(quarantine["table"], quarantine["reason"], strict=True)) == {
        ("admin", "out_of_range"),
        ("admin", "not_a_number"),
        ("admin", "bad_month"),
        ("survey", "out_of_range"),
    }
    ingest = json.loads((tmp_path / "out2" / "ingest.json").read_text())
    assert ingest["admin"]["quarantined"] == 3 and ingest["admin"]["new"] == len(admin) - 3

    for key in (first.delivery.key, second.delivery.key):
        assert "jan" not in key and "vries" not in key and "123456782" not in key
    stored = [p for root in (data, tmp_path / "out1", tmp_path / "out2") for p in root.rglob("*") if p.is_file()]
    assert stored
    for path in stored:
        content = path.read_bytes()
        assert b"Jan de Vries" not in content and b"123456782" not in content, path


def test_a_delivery_with_nothing_usable_leaves_the_warehouse_byte_identical(data, tmp_path, instance):
    whole = tmp_path / "whole"
    simulate(whole, seed=9, **SMALL)
    first = _run("pilot-x", part(whole, tmp_path / "d1", employers=True, cases=True), tmp_path / "out1", instance)
    warehouse = data / "warehouse.duckdb"
    before = warehouse.read_bytes()

    employers = read_drop(whole)["employers"].assign(group="onbekend")
    spoiled = write_drop(tmp_path / "d2", {"employers": employers})
    with pytest.raises(PipelineFailed) as failure:
        _run("pilot-x", spoiled, tmp_path / "out2", instance)
    message = str(failure.value)
    assert "employers.csv" in message and "not_allowed" in message and "column group" in message, message
    assert warehouse.read_bytes() == before
    assert not (tmp_path / "out2").exists()
    again = _run("pilot-x", None, tmp_path / "out2", instance)  # the refused delivery is left out of the study
    assert again.delivery.key == first.delivery.key and [d.key for d in deliveries("pilot-x")] == [first.delivery.key]

    alone = read_drop(whole)
    alone["employers"] = alone["employers"].assign(group="intervention")  # nobody to compare with
    with pytest.raises(PipelineFailed, match="no usable employer in the comparison group"):
        _run(None, write_drop(tmp_path / "d3", alone), tmp_path / "out3", instance)
    assert warehouse.read_bytes() == before
