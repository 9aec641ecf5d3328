"""Run an evaluation headless, recorded in the persistent Dagster instance (what `pilot run` does).

The run is the same job the UI, the sensor and the schedules launch (same code location, same partitions),
executed in this process, so it shows in `pilot ui` afterwards. `pilot run --data DROP [--study ID]` registers
the drop as a delivery (of study ID, or of a study of its own) and evaluates the study as of that delivery;
`pilot run --study ID` evaluates the study as of its newest delivery again. A cut-off makes a partition of its
own (`<delivery key>-cutoff-DATE`). Partitions are added here (and by the sensors), never by a schedule.
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
from pipelines.defs.panels import NOT_EVALUABLE
from pipelines.deliveries import PARTITIONS_NAME, Delivery, DeliveryError, check_study_id, latest, register
from toc.errors import UserError

INSTANCE_LOCK_TIMEOUT_SECONDS = 120


class PipelineFailed(UserError):
    """A run that failed; the message names the asset and the reason."""


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    delivery: Delivery  # the evaluation (partition) that ran
    out_dir: Path
    not_evaluable: str | None = None  # why the study could not be evaluated yet (the delivery is stored)


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
    """Evaluate a drop on its own (a study of its own)."""
    return run_study(None, drop, out, cutoff, None, min_cell, lang, dagster_instance, log_level)


def run_study(
    study: str | None,
    drop: Path | None = None,
    out: Path | None = None,
    cutoff: dt.date | None = None,
    delivered: dt.date | None = None,
    min_cell: int = MIN_CELL,
    lang: str = "nl",
    dagster_instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
) -> RunOutcome:
    """Add `drop` (if given) to `study` (None: a study of its own) and evaluate the study as of that delivery,
    or as of its newest one when no drop is given."""
    if drop is not None:
        delivery = register(Path(drop), study, delivered)
    elif study is not None:
        delivery = latest(check_study_id(study) if not study.startswith("drop-") else study)
    else:
        raise UserError("give a drop (--data), a study (--study) or both")
    evaluation = delivery.with_cutoff(cutoff)
    inst = dagster_instance or instance()
    _forget_stale_partitions(inst)
    inst.add_dynamic_partitions(PARTITIONS_NAME, [evaluation.key])
    out = Path(out).resolve() if out else settings.outputs_dir() / evaluation.key
    job = dg.reconstructable(pilot_evaluation_job)
    run_config = {
        "resources": {"options": {"config": {"out_dir": str(out), "min_cell": min_cell, "lang": lang}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    tags = {"dagster/partition": evaluation.key, "pilot/study": evaluation.study}
    result = dg.execute_job(job, inst, run_config=run_config, tags=tags)
    if not result.success:
        raise PipelineFailed(describe_failure(result))
    return RunOutcome(result.run_id, evaluation, out, _not_evaluable(result))


def _not_evaluable(result: dg.ExecutionResult) -> str | None:
    for event in result.all_events:
        if event.is_asset_observation:
            metadata = event.asset_observation_data.asset_observation.metadata
            if NOT_EVALUABLE in metadata:
                return str(metadata[NOT_EVALUABLE].value)
    return None


def _forget_stale_partitions(inst: dg.DagsterInstance) -> None:
    """Partition keys of an older version (`<folder name>-<digest>`) can never run again: remove them, so that
    the UI shows no partition that can only fail."""
    for key in inst.get_dynamic_partitions(PARTITIONS_NAME):
        try:
            Delivery.parse(key)
        except DeliveryError:
            inst.delete_dynamic_partition(PARTITIONS_NAME, key)


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
