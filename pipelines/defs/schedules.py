"""Schedules, in Amsterdam time, without side effects: a schedule's evaluation (and the UI's "Preview tick
result") only asks for runs of partitions that exist. Partitions are added by `pilot run` and the sensors.

`weekly_refresh`: every Monday 06:00 each study is evaluated again as of its newest delivery (picking up a new
catalogue or a fixed bug). Off by default (Dagster's default for schedules): a refresh changes results that
were reported, so an evaluator turns it on. The monthly interim results are the sensor `monthly_interim`
(`pipelines/defs/sensors.py`): they need partitions of their own, which a schedule must not add.
"""

import dagster as dg

from pipelines.defs.jobs import pilot_evaluation
from pipelines.deliveries import PARTITIONS_NAME, TIMEZONE, latest, studies


@dg.schedule(
    job=pilot_evaluation,
    cron_schedule="0 6 * * 1",
    execution_timezone=str(TIMEZONE),
    description="Every Monday 06:00 (Amsterdam): every study evaluated again as of its newest delivery.",
)
def weekly_refresh(context: dg.ScheduleEvaluationContext):
    existing = set(context.instance.get_dynamic_partitions(PARTITIONS_NAME))
    stamp = context.scheduled_execution_time.date().isoformat()
    newest = [latest(study) for study in studies()]
    requests = [
        dg.RunRequest(
            run_key=f"weekly-{stamp}-{d.key}",
            partition_key=d.key,
            tags={"pilot/schedule": "weekly", "pilot/study": d.study},
        )
        for d in newest
        if d.key in existing
    ]
    return requests or dg.SkipReason("no evaluated study to refresh")
