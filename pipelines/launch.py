"""Running the evaluation job as the UI's run of it, from a script.

A run of `pilot run` must re-execute from the UI without a warning about "a different code location": the
UI offers that when the run's origin is the workspace's code location and its job snapshot is the code
location's. Dagster's public routes either record no origin (`dg.execute_job`) or start a code server and a
run worker for it (`dagster job launch -w workspace.yaml`: two more Python start-ups, each importing Dagster and
loading the definitions, ~6 s of a pilot-sized run). `run_job` does what that run worker does, in this
process: the run created with the origin that `workspace.yaml` gives, then executed here. That takes three
of Dagster's internal functions (imported in `run_job` alone); tests/test_ui_views.py checks the origin and the
snapshot against a real webserver's workspace, so that a Dagster upgrade that moves them fails there.

The run needs no run coordinator (it does not queue: it runs), and it is stored in the instance it is given
(the persistent one, or an ephemeral one in tests), so it shows in `pilot ui` like any other.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import dagster as dg

from pipelines import settings
from pipelines.deliveries import FOLDERS_ENV, registered_folders
from pipelines.progress import Reporter, StepEvent, StepWatcher
from toc.errors import UserError

JOB_NAME = "pilot_evaluation"


class PipelineFailed(UserError):
    """A run that failed; the message names the asset and the reason."""


def run_job(
    inst: dg.DagsterInstance,
    run_config: dict,
    tags: dict[str, str],
    report: Reporter | None = None,
    job: str = JOB_NAME,
) -> str:
    """Run the evaluation job (`job`: the study's design's) in this process, recorded as a run of the
    workspace's code location; the run id, or `PipelineFailed`. ``report`` is told each step's start and end
    while the run goes on (`pipelines.progress`)."""
    # Dagster's public routes either record no origin (`execute_job`) or start a code server and a run worker
    # (`dagster job launch`, two Python start-ups: ~6 s of a pilot-sized run); this creates the run as the
    # workspace's code location would and executes it here (Dagster's own run worker does the same two calls).
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import execute_run_iterator
    from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    start = time.time()
    if report:
        report(StepEvent("launch", "started", 0.0))
    [location] = location_origins_from_yaml_paths([str(settings.PROJECT_ROOT / "workspace.yaml")])
    target = location.loadable_target_origin
    if target.module_name is None or target.attribute is None:
        raise UserError("workspace.yaml: the code location must be a python_module with an attribute")
    repository = ReconstructableRepository.for_module(target.module_name, target.attribute, target.working_directory)
    recon = repository.get_reconstructable_job(job)
    job_def = recon.get_definition()
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, repository.get_definition().name), job)
    run = inst.create_run_for_job(
        job_def,
        run_id=str(uuid.uuid4()),
        run_config=run_config,
        tags=tags,
        remote_job_origin=origin,
        job_code_origin=recon.get_python_origin(),
    )
    if report:
        report(StepEvent("launch", "done", time.time() - start, time.time() - start))
    # a step in a process of its own (another executor) finds the registered folders in its environment
    os.environ[FOLDERS_ENV] = json.dumps(registered_folders())
    watcher = StepWatcher(report, start) if report else None
    for event in execute_run_iterator(recon, run, inst):
        if watcher:
            watcher.handle(event)
    finished = inst.get_run_by_id(run.run_id)
    if finished is None or finished.status != dg.DagsterRunStatus.SUCCESS:
        raise PipelineFailed(describe_failure(inst, run.run_id))
    return run.run_id


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
