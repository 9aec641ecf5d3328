"""Adding a delivery from the UI: the job `register_delivery`, then its evaluation.

An evaluator launches `register_delivery` with the drop folder in its run config (and, once studies exist, the
study it belongs to). The job checks the folder, registers it as a delivery (as `pilot run` does) and only
then adds its partition; the sensor `evaluate_registered` sees the job succeed and asks for the evaluation of
that partition, through the instance's queue like any run launched from the UI. A folder that cannot be a
delivery fails the job with one line and adds nothing, so no partition is left that cannot be evaluated.

The folder's path is part of the run's configuration and so kept in Dagster's run record: name drop folders
after the delivery, never after a person (the landing folder's convention).
"""

from pathlib import Path

import dagster as dg
from pydantic import Field

from pipelines.defs.jobs import pilot_evaluation
from pipelines.deliveries import PARTITIONS_NAME, Delivery, DeliveryError, delivery_for, register

#: The run tag by which `register_delivery` tells the sensor which partition it added.
DELIVERY_TAG = "pilot/registered_delivery"


class DeliveryFolder(dg.Config):
    folder: str = Field(description="The drop folder to add as a delivery: a folder of contract tables.")
    study: str = Field(
        default="",
        description="The study the delivery belongs to (empty: the drop is a study of its own). Studies arrive "
        "with the deliveries of issue #15; until then only empty is accepted.",
    )


def add_delivery(folder: Path, study: str | None) -> Delivery:
    """Register `folder` as a delivery (of `study`) and return it; `DeliveryError` names what is wrong.

    The one place this job depends on how deliveries are registered (`pilot run` registers the same way)."""
    if study:
        raise DeliveryError("study: this version evaluates each drop as a study of its own; leave study empty")
    if not folder.is_absolute():
        raise DeliveryError("folder: give the full path of the drop folder (it starts with /)")
    delivery = delivery_for(folder)
    register(delivery, folder)
    return delivery


@dg.op(description="Check the folder, register it as a delivery and add its partition (nothing when it fails).")
def register_folder(context: dg.OpExecutionContext, config: DeliveryFolder) -> str:
    try:
        delivery = add_delivery(Path(config.folder), config.study.strip() or None)
    except DeliveryError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    context.instance.add_dynamic_partitions(PARTITIONS_NAME, [delivery.key])
    context.instance.add_run_tags(context.run_id, {DELIVERY_TAG: delivery.key})
    context.log.info(f"delivery {delivery.key} registered; its evaluation follows (sensor evaluate_registered)")
    return delivery.key


@dg.job(
    description="Add a drop folder as a delivery (run config: folder, and study), then evaluate it: the sensor "
    "evaluate_registered starts pilot_evaluation for the new partition."
)
def register_delivery():
    register_folder()


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[register_delivery],
    request_job=pilot_evaluation,
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Evaluates each delivery that register_delivery added (on by default: the evaluation is what an "
    "evaluator asks for when registering a delivery from the UI).",
)
def evaluate_registered(context: dg.RunStatusSensorContext):
    key = context.dagster_run.tags.get(DELIVERY_TAG)
    if not key:
        return dg.SkipReason(f"run {context.dagster_run.run_id} registered no delivery")
    return dg.RunRequest(
        run_key=f"registered-{context.dagster_run.run_id}",
        partition_key=key,
        tags={"pilot/registered_by": context.dagster_run.run_id},
    )
