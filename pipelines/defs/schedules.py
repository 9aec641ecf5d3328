"""Schedules, in Amsterdam time: a weekly refresh of every current drop, and monthly interim results.

The weekly refresh re-evaluates the delivery each drop in the landing folder holds now (picking up a new
catalogue or a fixed bug). The monthly interim run evaluates the same drops with a cut-off at the end of
the previous month, which the pilot report asks for.
"""

import datetime as dt

import dagster as dg

from pipelines import settings
from pipelines.defs.jobs import pilot_evaluation
from pipelines.deliveries import PARTITIONS_NAME, DeliveryError, delivery_for, register

TIMEZONE = "Europe/Amsterdam"


def _current_drops() -> list:
    landing = settings.landing_dir()
    if not landing.is_dir():
        return []
    return sorted(p for p in landing.iterdir() if p.is_dir() and not p.name.startswith(".") and any(p.iterdir()))


def _requests(
    context: dg.ScheduleEvaluationContext, cutoff: dt.date | None, tag: str
) -> list[dg.RunRequest] | dg.SkipReason:
    requests = []
    for drop in _current_drops():
        try:
            delivery = delivery_for(drop, cutoff)
        except DeliveryError:
            continue
        register(delivery, drop)
        context.instance.add_dynamic_partitions(PARTITIONS_NAME, [delivery.key])
        stamp = context.scheduled_execution_time.date().isoformat()
        requests.append(
            dg.RunRequest(
                run_key=f"{tag}-{stamp}-{delivery.key}",
                partition_key=delivery.key,
                tags={"pilot/schedule": tag, "pilot/drop": drop.name},
            )
        )
    return requests or dg.SkipReason("no drops in the landing folder")


@dg.schedule(
    job=pilot_evaluation,
    cron_schedule="0 6 * * 1",
    execution_timezone=TIMEZONE,
    description="Every Monday 06:00 (Amsterdam): re-evaluate every drop in the landing folder.",
)
def weekly_refresh(context: dg.ScheduleEvaluationContext):
    return _requests(context, None, "weekly")


@dg.schedule(
    job=pilot_evaluation,
    cron_schedule="0 7 1 * *",
    execution_timezone=TIMEZONE,
    description="On the 1st of each month 07:00 (Amsterdam): interim results with a cut-off at the end of the previous month.",
)
def monthly_interim(context: dg.ScheduleEvaluationContext):
    first = context.scheduled_execution_time.date().replace(day=1)
    return _requests(context, first - dt.timedelta(days=1), "interim")
