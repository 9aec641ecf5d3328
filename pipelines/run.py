"""Run the whole evaluation of one drop headless, recorded in the persistent Dagster instance.

The run is the same job the UI, the sensor and the schedules launch, launched the way the UI launches it:
through the workspace (`dagster job launch -w workspace.yaml`, Dagster's public route), so that the run
records the workspace's code location as its origin and re-executes from the UI without a warning about
"a different code location". `dg.execute_job` runs in this process but records no origin, and Dagster has
no public in-process route that does; the launch costs two Python start-ups (the code server and the run
worker, some 5 s on an idle machine, measured in the README).

The launch uses a view of the instance that differs from the UI's in one thing: runs start at once
(`DefaultRunCoordinator`) instead of waiting in the queue of a daemon that may not be running. Storage is
the instance's own, so the run shows in `pilot ui` like any other.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml
from filelock import FileLock

from measures.evaluation.thresholds import MIN_CELL
from pipelines import settings
from pipelines.deliveries import PARTITIONS_NAME, Delivery, delivery_for, register
from toc.errors import UserError

INSTANCE_LOCK_TIMEOUT_SECONDS = 120
JOB_NAME = "pilot_evaluation"
POLL_SECONDS = 0.5
#: The instance view `pilot run` launches through: the same storage, runs started without a queue.
_DIRECT = {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"}
_STORAGE_KEYS = {"storage", "run_storage", "event_log_storage", "schedule_storage"}


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
    log_level: str = "INFO",
) -> RunOutcome:
    drop = Path(drop).resolve()
    delivery = delivery_for(drop, cutoff)
    register(delivery, drop)
    inst = instance()
    inst.add_dynamic_partitions(PARTITIONS_NAME, [delivery.key])
    out = Path(out).resolve() if out else settings.outputs_dir() / delivery.key
    run_config = {
        "resources": {"options": {"config": {"out_dir": str(out), "min_cell": min_cell, "lang": lang}}},
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    run_id = launch(run_config, {"dagster/partition": delivery.key})
    run = wait_for(inst, run_id)
    if run.status != dg.DagsterRunStatus.SUCCESS:
        raise PipelineFailed(describe_failure(inst, run_id))
    return RunOutcome(run_id=run_id, delivery=delivery, out_dir=out)


def launch(run_config: dict, tags: dict[str, str]) -> str:
    """Launch the evaluation job through the workspace; returns the run id (the run goes on after this returns)."""
    run_id = str(uuid.uuid4())
    command = [
        str(Path(sys.executable).with_name("dagster")),
        *("job", "launch", "-w", str(settings.PROJECT_ROOT / "workspace.yaml"), "-j", JOB_NAME),
        *("--run-id", run_id, "--config-json", json.dumps(run_config), "--tags", json.dumps(tags)),
    ]
    env = os.environ | {"DAGSTER_HOME": str(launch_home())}
    done = subprocess.run(command, env=env, cwd=settings.PROJECT_ROOT, stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise PipelineFailed(f"the evaluation could not be launched (`dagster job launch` exited {done.returncode})")
    return run_id


def wait_for(inst: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    """The run once it has finished (the code server marks a run failed whose worker died)."""
    while True:
        run = inst.get_run_by_id(run_id)
        if run is None:
            raise PipelineFailed(f"run {run_id} was launched but is not in the instance")
        if run.is_finished:
            return run
        time.sleep(POLL_SECONDS)


def launch_home() -> Path:
    """DAGSTER_HOME for `pilot run`'s launches: the instance's configuration with its storage spelled out (the
    defaults would point into this folder) and runs started at once. Written when it differs, atomically."""
    home = settings.dagster_home()
    config = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8")) or {}
    if not _STORAGE_KEYS & config.keys():
        config["storage"] = {"sqlite": {"base_dir": str(home)}}
    config.setdefault(
        "local_artifact_storage",
        {"module": "dagster._core.storage.root", "class": "LocalArtifactStorage", "config": {"base_dir": str(home)}},
    )
    config.setdefault(
        "compute_logs",
        {
            "module": "dagster._core.storage.local_compute_log_manager",
            "class": "LocalComputeLogManager",
            "config": {"base_dir": str(home / "storage")},
        },
    )
    config["run_coordinator"] = _DIRECT
    folder = home / "launch"
    folder.mkdir(exist_ok=True)
    path, text = folder / "dagster.yaml", yaml.safe_dump(config, sort_keys=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        scratch = folder / f".dagster.yaml.{os.getpid()}"
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(path)
    return folder


def describe_failure(inst: dg.DagsterInstance, run_id: str) -> str:
    """'asset ingest_drop failed: admin.csv: missing required column ...' from the failed step's error."""
    for entry in inst.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        error = event.step_failure_data.error if event else None
        if event is None or error is None:
            continue
        while error.cause is not None and error.cls_name in (
            "DagsterExecutionStepExecutionError",
            "DagsterUserCodeExecutionError",
        ):
            error = error.cause
        message = error.message.strip().removeprefix("dagster._core.definitions.events.Failure: ")
        return f"asset {event.step_key} failed: {message.splitlines()[0] if message else error.cls_name}"
    for entry in inst.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        return f"run {run_id} failed: {entry.message or 'see `pilot ui`'}"
    return f"run {run_id} failed before any asset ran (see `pilot ui`)"
