"""Run the whole evaluation of one drop headless, recorded in the persistent Dagster instance.

The run is the same job the UI, the sensor and the schedules launch (same code location, same partition
of the delivery), executed in this process, so it shows in `pilot ui` afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from filelock import FileLock

from measures.evaluation.thresholds import MIN_CELL
from pipelines import settings
from pipelines.definitions import pilot_evaluation_job
from pipelines.deliveries import PARTITIONS_NAME, Delivery, delivery_for, register
from toc.errors import UserError

INSTANCE_LOCK_TIMEOUT_SECONDS = 120


class PipelineFailed(UserError):
    """A run that failed; the message names the asset and the reason."""


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    delivery: Delivery
    out_dir: Path


def instance() -> dg.DagsterInstance:
    """The persistent instance in DAGSTER_HOME (the project's data directory unless set).

    Opening a new SQLite instance creates its tables; two processes doing that at once collide ("table runs
    already exists"), so opening is serialised by a file lock (held for well under a second).
    """
    home = settings.dagster_home()
    os.environ["DAGSTER_HOME"] = str(home)
    with FileLock(home / "open.lock", timeout=INSTANCE_LOCK_TIMEOUT_SECONDS):
        return dg.DagsterInstance.get()


def run_drop(
    drop: Path,
    out: Path | None = None,
    cutoff: dt.date | None = None,
    min_cell: int = MIN_CELL,
    lang: str = "nl",
    dagster_instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
) -> RunOutcome:
    drop = Path(drop).resolve()
    delivery = delivery_for(drop, cutoff)
    register(delivery, drop)
    inst = dagster_instance or instance()
    inst.add_dynamic_partitions(PARTITIONS_NAME, [delivery.key])
    out = Path(out).resolve() if out else settings.outputs_dir() / delivery.key
    job = dg.reconstructable(pilot_evaluation_job)
    run_config = {
        "resources": {"options": {"config": {"out_dir": str(out), "min_cell": min_cell, "lang": lang}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    result = dg.execute_job(job, inst, run_config=run_config, tags={"dagster/partition": delivery.key})
    if not result.success:
        raise PipelineFailed(describe_failure(result))
    return RunOutcome(run_id=result.run_id, delivery=delivery, out_dir=out)


def describe_failure(result: dg.ExecutionResult) -> str:
    """'asset ingest_drop failed: admin.csv: missing required column ...' from the failed step's error."""
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        error = event.step_failure_data.error
        while error.cause is not None and error.cls_name in (
            "DagsterExecutionStepExecutionError",
            "DagsterUserCodeExecutionError",
        ):
            error = error.cause
        message = error.message.strip().removeprefix("dagster._core.definitions.events.Failure: ")
        return f"asset {event.step_key} failed: {message.splitlines()[0] if message else error.cls_name}"
    return f"run {result.run_id} failed before any asset ran (see `pilot ui`)"
