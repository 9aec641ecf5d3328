"""Sensors: deliveries landing in the landing folder, and the monthly interim results of every study.

`landing_sensor`: each folder `landing/<study>/<delivery>/` is a delivery of that study, each folder
`landing/<drop>/` holding table files a drop on its own. A folder counts once no file in it has changed for
`SETTLE_SECONDS`, so that a half-copied drop is not evaluated. A new folder is registered as a delivery
(`pipelines.deliveries`: key from the date and the files' checksums, never from the folder's name), its
partition added, and its study evaluated as of it by its design's job; the run key is the partition key, so a delivery is
evaluated once however often the sensor looks. The cursor remembers `<study>:<digest>` of the folders seen.

`monthly_interim`: on the 1st of each month from 07:00 (Amsterdam) it evaluates every study (not the drops on
their own) as of its newest delivery with a cut-off at the end of the previous month. It is a sensor and not a
schedule because it adds the cut-off partitions: a schedule's evaluation (and the UI's "Preview tick result")
must have no side effects. Stopped by default: an instance evaluates interim results only when asked to.
"""

import datetime as dt
import json
import time
from pathlib import Path

import dagster as dg

from measures.contract.read import is_table_file
from pipelines.defs.jobs import pilot_evaluation
from pipelines.deliveries import (
    DELIVERY_PARTITIONS,
    OWN_STUDY,
    TIMEZONE,
    DeliveryError,
    design_of,
    digest_of,
    file_checksums,
    landed,
    latest,
    register,
    studies,
)
from pipelines.design_assets import all_definitions, job_name

#: Every evaluation job: a study is evaluated by its design's (`pilot_evaluation` for the AKC pilot).
EVALUATION_JOBS = [pilot_evaluation, *(built.job for built in all_definitions())]

SETTLE_SECONDS = 10
INTERIM_HOUR = 7


def _settled(drop: Path, now: float) -> bool:
    files = [p for p in drop.iterdir() if is_table_file(p)]
    return bool(files) and all(now - p.stat().st_mtime >= SETTLE_SECONDS for p in files)


@dg.sensor(
    jobs=EVALUATION_JOBS,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers each new folder landing/<study>/<delivery>/ (or landing/<drop>/) as a delivery and "
    "evaluates its study as of it.",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    now, requests, keys, refused = time.time(), [], [], 0
    for study, folder in landed():
        if not _settled(folder, now):
            continue
        marker = f"{study or OWN_STUDY}:{digest_of(file_checksums(folder))}"
        if marker in seen:
            continue
        try:
            delivery = register(folder, study)
        except DeliveryError:  # a study folder whose name is not a study id; its name is not repeated
            refused += 1
            continue
        seen.add(marker)
        tags = {"pilot/study": delivery.study}
        job = job_name(design_of(delivery.study))
        requests.append(dg.RunRequest(run_key=delivery.key, partition_key=delivery.key, tags=tags, job_name=job))
        keys.append(delivery.key)
    if refused:
        context.log.warning(f"{refused} folder(s) in the landing folder are not in a folder named by a study id")
    if not requests:
        return dg.SkipReason("no new deliveries in the landing folder")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[DELIVERY_PARTITIONS.build_add_request(keys)],
        cursor=json.dumps(sorted(seen)),
    )


def interim_cutoff(now: dt.datetime) -> dt.date:
    """The cut-off of the interim results due at `now`: the end of the month before the latest 1st-of-the-month
    07:00 in Amsterdam."""
    local = now.astimezone(TIMEZONE)
    first = local.date().replace(day=1)
    if local.day == 1 and local.hour < INTERIM_HOUR:
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first - dt.timedelta(days=1)


@dg.sensor(
    jobs=EVALUATION_JOBS,
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="On the 1st of each month from 07:00 (Amsterdam): every study as of its newest delivery, with a "
    "cut-off at the end of the previous month (interim results).",
)
def monthly_interim(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    cutoff = interim_cutoff(dt.datetime.now(dt.UTC))
    if context.cursor and context.cursor >= cutoff.isoformat():
        return dg.SkipReason(f"the interim results up to {context.cursor} are requested already")
    evaluations = [latest(study).with_cutoff(cutoff) for study in studies() if not study.startswith(f"{OWN_STUDY}-")]
    requests = [
        dg.RunRequest(
            run_key=f"interim-{e.key}",
            partition_key=e.key,
            tags={"pilot/study": e.study, "pilot/interim": "monthly"},
            job_name=job_name(design_of(e.study)),
        )
        for e in evaluations
    ]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[DELIVERY_PARTITIONS.build_add_request([e.key for e in evaluations])],
        cursor=cutoff.isoformat(),
    )
