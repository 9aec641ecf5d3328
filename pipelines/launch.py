"""Launching the evaluation job the way the UI does, from a script: through the workspace.

`dagster job launch -w workspace.yaml` (Dagster's public route) creates the run with the workspace's code
location as its origin, so that the UI re-executes it without a warning about "a different code location".
`dg.execute_job` runs in the calling process but records no origin, and Dagster has no public in-process
route that does; the launch costs two Python start-ups (the code server and the run worker; measured in
the README).

The launch goes through a view of the instance that differs from the UI's in one thing: runs start at once
(`DefaultRunCoordinator`) instead of waiting in the queue of a daemon that may not be running. Storage is the
instance's own, so the run shows in `pilot ui` like any other. The drop folders registered in this process
are handed to the run in its environment (`deliveries.FOLDERS_ENV`), never written anywhere: a folder's name
may identify a person. Dagster's console output (the CLI's, the code server's, the run worker's) goes to a
file that is deleted afterwards: a failure is told in one line, from the run's event log, where its stack
trace stays.

A caller that brings its own instance (an ephemeral one in tests) runs the job in its own process
(`execute_here`): no other process can reach that instance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import yaml

from pipelines import settings
from pipelines.deliveries import FOLDERS_ENV, registered_folders
from pipelines.progress import Reporter, RunWatcher, StepEvent
from toc.errors import UserError

JOB_NAME = "pilot_evaluation"
POLL_SECONDS = 0.5
_DIRECT = {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"}
_STORAGE_KEYS = {"storage", "run_storage", "event_log_storage", "schedule_storage"}


class PipelineFailed(UserError):
    """A run that failed; the message names the asset and the reason."""


def launch_and_wait(
    inst: dg.DagsterInstance,
    run_config: dict,
    tags: dict[str, str],
    report: Reporter | None = None,
    job: str = JOB_NAME,
) -> str:
    """Launch the evaluation job (`job`: the study's design's) through the workspace and wait for it; the run id,
    or `PipelineFailed`. ``report`` is told each step's start and end while the run goes on (`pipelines.progress`)."""
    run_id, start = str(uuid.uuid4()), time.time()
    command = [
        str(Path(sys.executable).with_name("dagster")),
        *("job", "launch", "-w", str(settings.PROJECT_ROOT / "workspace.yaml"), "-j", job),
        *("--run-id", run_id, "--config-json", json.dumps(run_config), "--tags", json.dumps(tags)),
    ]
    env = os.environ | {"DAGSTER_HOME": str(launch_home()), FOLDERS_ENV: json.dumps(registered_folders())}
    # the code server and the run worker inherit this file and write to it after the CLI has returned
    with tempfile.TemporaryFile() as console:
        if report:  # the launch (a code server and the run worker starting) takes seconds of its own
            report(StepEvent("launch", "started", time.time() - start))
        done = subprocess.run(command, env=env, cwd=settings.PROJECT_ROOT, stdout=console, stderr=console, check=False)
        if report:
            report(StepEvent("launch", "done", time.time() - start, time.time() - start))
        if done.returncode != 0 and inst.get_run_by_id(run_id) is None:
            raise PipelineFailed(f"the evaluation could not be launched: {_last_error(console)}")
        watcher = RunWatcher(inst, run_id, report, start) if report else None
        run = wait_for(inst, run_id, watcher.poll if watcher else None)
    if run.status != dg.DagsterRunStatus.SUCCESS:
        raise PipelineFailed(describe_failure(inst, run_id))
    return run_id


def execute_here(inst: dg.DagsterInstance, run_config: dict, tags: dict[str, str], job: str = JOB_NAME) -> str:
    """The evaluation job (`job`) run in this process, on `inst`; the run id, or `PipelineFailed`."""
    from pipelines.definitions import pilot_evaluation_job  # the code location, only when it runs here

    if job == JOB_NAME:
        target = dg.reconstructable(pilot_evaluation_job)
    else:  # a design's job, rebuilt by name in the process that runs it
        target = dg.build_reconstructable_job("pipelines.definitions", "evaluation_job", reconstructable_args=(job,))
    result = dg.execute_job(target, inst, run_config=run_config, tags=tags)
    if not result.success:
        raise PipelineFailed(describe_failure(inst, result.run_id))
    return result.run_id


def wait_for(inst: dg.DagsterInstance, run_id: str, on_poll: Callable[[], None] | None = None) -> dg.DagsterRun:
    """The run once it has finished (the code server marks a run failed whose worker died); ``on_poll`` is
    called on every poll, and once more at the end."""
    while True:
        run = inst.get_run_by_id(run_id)
        if run is None:
            raise PipelineFailed(f"run {run_id} was launched but is not in the instance")
        if on_poll:
            on_poll()
        if run.is_finished:
            return run
        time.sleep(POLL_SECONDS)


def launch_home() -> Path:
    """DAGSTER_HOME for the launches: the instance's configuration with its storage spelled out (the defaults
    would point into this folder) and runs started at once. Written when it differs, atomically."""
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


def worker_pid(inst: dg.DagsterInstance, run_id: str) -> int | None:
    """The process that executes the run, as its first engine event records it (None before it started)."""
    for entry in inst.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        pid = data.metadata.get("pid") if data else None
        if pid is not None:
            return int(str(pid.value))
    return None


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
        return f"run {run_id} failed: {(entry.message or 'see `pilot ui`').splitlines()[0]}"
    return f"run {run_id} failed before any asset ran (see `pilot ui`)"


def _last_error(console) -> str:
    """The last line of the launch's console that says what went wrong (Dagster ends its errors with it)."""
    console.seek(0)
    lines = [line.strip() for line in console.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return next((line for line in reversed(lines) if "Error" in line or "error" in line), lines[-1] if lines else "")
