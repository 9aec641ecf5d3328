"""The sensors and the schedule: a folder landing/<study>/<delivery>/ (or landing/<drop>/) is registered and
evaluated once, with a key from the date and the checksums, never from a folder's name; the monthly interim
sensor adds the cut-off partitions; a schedule's evaluation adds nothing."""

from __future__ import annotations

import datetime as dt
import os
import time

import dagster as dg
import pandas as pd
from pipeline_support import isolate, simulate

from pipelines.defs.schedules import weekly_refresh
from pipelines.defs.sensors import SETTLE_SECONDS, interim_cutoff, landing_sensor, monthly_interim
from pipelines.deliveries import PARTITIONS_NAME, TIMEZONE, deliveries, register, studies, today


def _land(drop, seed):
    simulate(drop, seed=seed, employers=4, employees_per_employer=12, survey_indicators=2)
    _settle(drop)
    return drop


def _settle(drop):
    past = time.time() - SETTLE_SECONDS - 5
    for f in drop.iterdir():
        os.utime(f, (past, past))


def _tick(instance, cursor):
    return landing_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_each_delivery_of_a_study_runs_once_and_no_folder_name_reaches_a_key(monkeypatch, tmp_path):
    landing = isolate(monkeypatch, tmp_path) / "landing"
    instance = dg.DagsterInstance.ephemeral()
    first = _land(landing / "akc-pilot" / "levering 2026-01 Jan de Vries", seed=1)

    result = _tick(instance, None)
    [request] = result.run_requests
    [delivery] = deliveries("akc-pilot")
    key = delivery.key
    assert request.run_key == request.partition_key == key and request.tags["pilot/study"] == "akc-pilot"
    assert key.startswith(today().isoformat() + "-akc-pilot-") and "jan" not in key.lower()
    assert result.dynamic_partitions_requests[0].partition_keys == [key]
    assert "Jan" not in (result.cursor or "")

    assert isinstance(_tick(instance, result.cursor), dg.SkipReason)  # unchanged: nothing, however often we look
    assert _tick(instance, None).run_requests[0].run_key == key  # no cursor: the same key, so Dagster dedups it

    _land(landing / "akc-pilot" / "levering-2026-02", seed=2)
    _land(landing / "losse-levering", seed=3)  # a drop on its own
    _land(landing / "Jan de Vries" / "levering", seed=4)  # not a study id: skipped, its name not repeated
    after = _tick(instance, result.cursor)
    assert [r.tags["pilot/study"] for r in after.run_requests] == [
        "akc-pilot",
        after.run_requests[1].tags["pilot/study"],
    ]
    assert after.run_requests[1].partition_key.split("-")[3] == "drop"
    assert len(deliveries("akc-pilot")) == 2 and studies() == sorted(studies())

    admin = pd.read_csv(first / "admin.csv")
    admin.loc[0, "ao_pct"] = 50.5
    admin.to_csv(first / "admin.csv", index=False)
    _settle(first)
    changed = _tick(instance, after.cursor)
    [request] = changed.run_requests
    assert request.partition_key == deliveries("akc-pilot")[-1].key != key  # changed files: a new delivery
    assert isinstance(_tick(instance, changed.cursor), dg.SkipReason)


def test_a_drop_still_being_copied_waits(monkeypatch, tmp_path):
    landing = isolate(monkeypatch, tmp_path) / "landing"
    simulate(landing / "akc-pilot" / "levering", seed=3, employers=4, employees_per_employer=12, survey_indicators=2)
    assert isinstance(_tick(dg.DagsterInstance.ephemeral(), None), dg.SkipReason)


def test_a_schedule_evaluation_adds_no_partition(monkeypatch, tmp_path):
    isolate(monkeypatch, tmp_path)
    evaluated = register(_land(tmp_path / "a", seed=5), "evaluated")
    register(_land(tmp_path / "b", seed=6), "registered-only")  # no partition: nothing to refresh
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PARTITIONS_NAME, [evaluated.key])  # as `pilot run` or the sensor did
        before = instance.get_dynamic_partitions(PARTITIONS_NAME)
        monday = dt.datetime(2026, 3, 2, 6, tzinfo=TIMEZONE)
        requests = weekly_refresh(dg.build_schedule_context(instance=instance, scheduled_execution_time=monday))
        assert [r.partition_key for r in requests] == [evaluated.key]
        assert instance.get_dynamic_partitions(PARTITIONS_NAME) == before


def test_monthly_interim_adds_cutoff_partitions_for_every_study(monkeypatch, tmp_path):
    isolate(monkeypatch, tmp_path)
    register(_land(tmp_path / "a", seed=5), "akc-pilot")
    newest = register(_land(tmp_path / "b", seed=6), "akc-pilot")
    register(_land(tmp_path / "c", seed=7))  # a drop on its own: no interim results
    result = monthly_interim(dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral()))
    cutoff = interim_cutoff(dt.datetime.now(dt.UTC))
    [request] = result.run_requests
    assert request.partition_key == newest.with_cutoff(cutoff).key == f"{newest.key}-cutoff-{cutoff.isoformat()}"
    assert result.dynamic_partitions_requests[0].partition_keys == [request.partition_key]
    again = monthly_interim(dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=result.cursor))
    assert isinstance(again, dg.SkipReason)

    assert interim_cutoff(dt.datetime(2026, 3, 1, 6, 30, tzinfo=TIMEZONE)) == dt.date(2026, 1, 31)
    assert interim_cutoff(dt.datetime(2026, 3, 1, 7, 30, tzinfo=TIMEZONE)) == dt.date(2026, 2, 28)


def test_a_study_named_like_a_design_is_evaluated_by_its_job(monkeypatch, tmp_path):
    from measures.evaluation.design.simulate import write_design_drop
    from pipelines.deliveries import design_of

    landing = isolate(monkeypatch, tmp_path) / "landing"
    drop = landing / "tweede-spoor" / "dossiers-2025"
    write_design_drop("tweede-spoor", drop, seed=2)
    _settle(drop)
    [request] = _tick(dg.DagsterInstance.ephemeral(), None).run_requests
    assert design_of("tweede-spoor") == "tweede-spoor" and request.job_name == "tweede_spoor_evaluation"
    akc = _land(landing / "akc-pilot" / "levering-1", seed=1)
    later = _tick(dg.DagsterInstance.ephemeral(), None).run_requests
    assert {r.job_name for r in later} == {"tweede_spoor_evaluation", "pilot_evaluation"} and akc.exists()
