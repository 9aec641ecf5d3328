"""The asset graph under Dagster's multiprocess executor: every step in a process of its own, the panels
handed on through the panel store's files, and the same outputs as the in-process run."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pipeline_support import isolate, materialize, simulate

from pipelines.definitions import defs
from pipelines.deliveries import DELIVERY_PARTITIONS, PARTITIONS_NAME
from pipelines.run import instance

TESTS = Path(__file__).resolve().parent


def multiprocess_job() -> dg.JobDefinition:
    """The evaluation job with the multiprocess executor (reconstructable: each step process imports it)."""
    job = dg.define_asset_job(
        "multiprocess_evaluation",
        selection=dg.AssetSelection.all() - dg.AssetSelection.key_prefixes(["sector"]),  # a job of its own
        partitions_def=DELIVERY_PARTITIONS,
        executor_def=dg.multiprocess_executor,
    )
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def("multiprocess_evaluation")


def test_every_step_in_its_own_process_gives_the_same_outputs(monkeypatch, tmp_path):
    data = isolate(monkeypatch, tmp_path)
    drop = tmp_path / "levering"
    simulate(drop, seed=5)
    _, delivery, in_process = materialize(drop, data, dg.DagsterInstance.ephemeral())

    out = tmp_path / "multiprocess"
    inst = instance()  # a persistent instance: step processes report to it
    inst.add_dynamic_partitions(PARTITIONS_NAME, [delivery.key])
    result = dg.execute_job(
        dg.build_reconstructable_job("test_executors", "multiprocess_job", reconstructor_working_directory=str(TESTS)),
        inst,
        run_config={
            "resources": {"options": {"config": {"out_dir": str(out)}}},
        },
        tags={"dagster/partition": delivery.key},
    )
    assert result.success
    steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    pids = {e.pid for e in result.all_events if e.event_type_value == "STEP_START"}
    assert {"panels", "effects", "indicator_trends"} <= steps and len(pids) == len(steps)  # one process per step
    for name in ("effects.csv", "trends.csv", "event_study.csv", "balance.csv", "quarantine.csv", "ingest.json"):
        assert (out / name).read_bytes() == (in_process / name).read_bytes(), name
