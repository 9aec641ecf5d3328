"""A sensor on the landing folder: one run per new or changed drop, keyed by the drop's checksums.

Each sub-folder of the landing folder is a drop. Its partition key, and so its run key, is derived from
the SHA-256 of its files, never from the clock: an unchanged drop yields nothing, however often the
sensor looks, and a changed file yields a new delivery. A drop counts once no file in it has changed for
`SETTLE_SECONDS`, so that a half-copied drop is not evaluated.
"""

import json
import time
from pathlib import Path

import dagster as dg

from measures.contract.read import is_table_file
from pipelines import settings
from pipelines.defs.jobs import pilot_evaluation
from pipelines.deliveries import DELIVERY_PARTITIONS, delivery_for, register

SETTLE_SECONDS = 10


def _settled(drop: Path, now: float) -> bool:
    files = [p for p in drop.iterdir() if is_table_file(p)]
    return bool(files) and all(now - p.stat().st_mtime >= SETTLE_SECONDS for p in files)


def new_drops(landing: Path, seen: dict[str, str], now: float) -> list[tuple[Path, str]]:
    """(drop, delivery key) for every settled drop whose key is not what the cursor remembers."""
    found = []
    for drop in sorted(p for p in landing.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not _settled(drop, now):
            continue
        key = delivery_for(drop).key
        if seen.get(drop.name) != key:
            found.append((drop, key))
    return found


@dg.sensor(
    job=pilot_evaluation,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts an evaluation for each new or changed drop in the landing folder.",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    landing = settings.landing_dir()
    if not landing.is_dir():
        return dg.SkipReason(f"no landing folder at {landing}")
    seen = json.loads(context.cursor) if context.cursor else {}
    drops = new_drops(landing, seen, time.time())
    if not drops:
        return dg.SkipReason("no new or changed drops")
    for drop, key in drops:
        register(delivery_for(drop), drop)
        seen[drop.name] = key
    keys = [key for _, key in drops]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=key, partition_key=key, tags={"pilot/drop": drop.name}) for drop, key in drops
        ],
        dynamic_partitions_requests=[DELIVERY_PARTITIONS.build_add_request(keys)],
        cursor=json.dumps(seen, sort_keys=True),
    )
