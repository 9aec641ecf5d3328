"""The landing-folder sensor: one run per new or changed drop, none for an unchanged one; keys from checksums."""

from __future__ import annotations

import os
import time

import dagster as dg
import pandas as pd
from pipeline_support import isolate, simulate

from pipelines.defs.sensors import SETTLE_SECONDS, landing_sensor
from pipelines.deliveries import delivery_for


def _land(landing, name, seed):
    drop = landing / name
    simulate(drop, seed=seed, employers=4, employees_per_employer=12, survey_indicators=2)
    _settle(drop)
    return drop


def _settle(drop):
    past = time.time() - SETTLE_SECONDS - 5
    for f in drop.iterdir():
        os.utime(f, (past, past))


def _tick(instance, cursor):
    return landing_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_one_run_per_new_drop_and_none_for_an_unchanged_one(monkeypatch, tmp_path):
    landing = isolate(monkeypatch, tmp_path) / "landing"
    instance = dg.DagsterInstance.ephemeral()
    first = _land(landing, "levering-2026-01", seed=1)

    result = _tick(instance, None)
    [request] = result.run_requests
    key = delivery_for(first).key
    assert request.run_key == key and request.partition_key == key
    assert result.dynamic_partitions_requests[0].partition_keys == [key]

    assert isinstance(_tick(instance, result.cursor), dg.SkipReason)  # unchanged: nothing, however often we look
    assert _tick(instance, None).run_requests[0].run_key == key  # no cursor: the same key, so Dagster dedups it

    second = _land(landing, "levering-2026-02", seed=2)
    after_second = _tick(instance, result.cursor)
    assert [r.run_key for r in after_second.run_requests] == [delivery_for(second).key]

    admin = pd.read_csv(first / "admin.csv")
    admin.loc[0, "ao_pct"] = 50.5
    admin.to_csv(first / "admin.csv", index=False)
    _settle(first)
    changed = _tick(instance, after_second.cursor)
    [request] = changed.run_requests
    assert request.run_key == delivery_for(first).key != key  # a changed file is a new delivery
    assert isinstance(_tick(instance, changed.cursor), dg.SkipReason)


def test_a_drop_still_being_copied_waits(monkeypatch, tmp_path):
    landing = isolate(monkeypatch, tmp_path) / "landing"
    simulate(landing / "levering", seed=3, employers=4, employees_per_employer=12, survey_indicators=2)
    assert isinstance(_tick(dg.DagsterInstance.ephemeral(), None), dg.SkipReason)
