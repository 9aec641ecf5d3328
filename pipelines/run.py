"""Run an evaluation headless, recorded in the persistent Dagster instance (what `pilot run` does).

The run is the same job the UI, the sensor and the schedules launch (same code location, same partitions),
recorded as a run of the workspace's code location and executed in this process (`pipelines.launch`: it
re-executes from the UI without a warning), and it shows in `pilot ui` afterwards. `pilot run --data DROP [--study ID]` registers
the drop as a delivery (of study ID, or of a study of its own) and evaluates the study as of that delivery;
`pilot run --study ID` evaluates the study as of its newest delivery again. A cut-off makes a partition of its
own (`<delivery key>-cutoff-DATE`). Partitions are added here (and by the sensors), never by a schedule.

Before anything is computed: the data folder and OUT must be writable, OUT must not lie inside the drop
(outputs never go into a delivery) and must hold no link (nothing is written through one). Dagster's own
console output is silenced: a failure becomes one line (`PipelineFailed`), its stack trace stays in the
run's event log. A run whose process was killed (-9) stays STARTED in Dagster; the next run marks it
failed.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from filelock import FileLock

from measures.contract.limits import MAX_QUARANTINE_SHARE
from measures.evaluation.thresholds import MIN_CELL
from pipelines import settings
from pipelines.defs.outputs import evaluation_outputs
from pipelines.defs.panels import NOT_EVALUABLE
from pipelines.deliveries import (
    PARTITIONS_NAME,
    Delivery,
    DeliveryError,
    check_study_id,
    design_of,
    latest,
    register,
)
from pipelines.design_assets import job_name
from pipelines.launch import PipelineFailed, run_job, worker_pid
from pipelines.progress import Reporter
from toc.errors import UserError

INSTANCE_LOCK_TIMEOUT_SECONDS = 120


__all__ = ["PipelineFailed", "RunOutcome", "instance", "latest_outputs", "run_drop", "run_study"]


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
    log_level: str = "CRITICAL",
    max_quarantine_share: float = MAX_QUARANTINE_SHARE,
    report: Reporter | None = None,
    max_rows: dict[str, int] | None = None,
) -> RunOutcome:
    """Evaluate a drop on its own (a study of its own)."""
    return run_study(
        None,
        drop,
        out,
        cutoff,
        None,
        min_cell,
        lang,
        dagster_instance,
        log_level,
        max_quarantine_share,
        report,
        max_rows,
    )


def run_study(
    study: str | None,
    drop: Path | None = None,
    out: Path | None = None,
    cutoff: dt.date | None = None,
    delivered: dt.date | None = None,
    min_cell: int = MIN_CELL,
    lang: str = "nl",
    dagster_instance: dg.DagsterInstance | None = None,
    log_level: str = "CRITICAL",
    max_quarantine_share: float = MAX_QUARANTINE_SHARE,
    report: Reporter | None = None,
    max_rows: dict[str, int] | None = None,
    design: str | None = None,
) -> RunOutcome:
    """Add `drop` (if given) to `study` (None: a study of its own) and evaluate the study as of that delivery,
    or as of its newest one when no drop is given, with the job of the study's design (`design` chooses it on
    the study's first delivery). ``report`` hears each step's start and end while the run goes on (a launched
    run; `pipelines.progress`)."""
    writable(settings.data_dir(), "the data folder")
    if drop is not None:
        drop = Path(drop).resolve()
        if out is not None:
            check_out(Path(out), drop)
        delivery = register(drop, study, delivered, design)
    elif study is not None:
        delivery = latest(study if study.startswith("drop-") else check_study_id(study))
    else:
        raise UserError("give a drop (--data), a study (--study) or both")
    if drop is None and design is not None and design != design_of(delivery.study):
        raise UserError(
            f"study {delivery.study} has design {design_of(delivery.study)}; --design needs a first delivery"
        )
    job = job_name(design_of(delivery.study))
    evaluation = delivery.with_cutoff(cutoff)
    out = Path(out).resolve() if out else settings.outputs_dir() / evaluation.key
    inst = dagster_instance or instance()
    fail_dead_runs(inst)
    _forget_stale_partitions(inst)
    inst.add_dynamic_partitions(PARTITIONS_NAME, [evaluation.key])
    run_config = {
        "resources": {
            "options": {
                "config": {
                    "out_dir": str(out),
                    "min_cell": min_cell,
                    "lang": lang,
                    "max_quarantine_share": max_quarantine_share,
                    "max_rows": dict(max_rows or {}),
                }
            }
        },
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    tags = {"dagster/partition": evaluation.key, "pilot/study": evaluation.study, HOST_TAG: socket.gethostname()}
    run_id = run_job(inst, run_config, tags, report=report, job=job)
    return RunOutcome(run_id, evaluation, out, _not_evaluable(inst, run_id))


def _not_evaluable(inst: dg.DagsterInstance, run_id: str) -> str | None:
    """Why the study could not be evaluated yet, as the panels asset recorded it (None: it was evaluated)."""
    for entry in inst.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION):
        observation = entry.asset_observation
        if observation is not None and NOT_EVALUABLE in observation.metadata:
            return str(observation.metadata[NOT_EVALUABLE].value)
    return None


def _forget_stale_partitions(inst: dg.DagsterInstance) -> None:
    """Partition keys of an older version (`<folder name>-<digest>`) can never run again: remove them, so that
    the UI shows no partition that can only fail."""
    for key in inst.get_dynamic_partitions(PARTITIONS_NAME):
        try:
            Delivery.parse(key)
        except DeliveryError:
            inst.delete_dynamic_partition(PARTITIONS_NAME, key)


#: The machine a `pilot run` ran on: only there can its worker be looked for.
HOST_TAG = "pilot/host"


def writable(folder: Path, label: str, create: bool = True) -> None:
    """One line, before any computation, when `folder` cannot be written (or created). Without `create`, a
    folder that does not exist yet is left uncreated: its nearest existing parent must be writable."""
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        probe = next(p for p in (folder, *folder.parents) if p.exists())
        if not probe.is_dir():
            raise NotADirectoryError(20, "not a folder")
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise UserError(f"{label} {folder}: cannot write there ({exc.strerror or type(exc).__name__})") from None


def check_out(out: Path, drop: Path) -> None:
    """OUT lies outside the drop, is no link and holds none; and it can be written."""
    if out.resolve().is_relative_to(drop) or drop.is_relative_to(out.resolve()):
        raise UserError(f"--out {out}: lies inside the drop (or holds it); choose a folder outside the delivery")
    if out.is_symlink():
        raise UserError(f"--out {out}: is a link; outputs are never written through links")
    if out.is_dir():
        link = next((p for p in sorted(out.rglob("*")) if p.is_symlink()), None)
        if link is not None:
            raise UserError(
                f"--out {out}: holds a link ({link.relative_to(out)}); outputs are never written through links"
            )
    writable(out, "--out", create=False)


def fail_dead_runs(inst: dg.DagsterInstance) -> list[str]:
    """Runs of `pilot run` on this machine that are still STARTED although their process is gone (killed
    with -9, a power cut): marked failed, so that Dagster does not show them running forever."""
    dead = []
    for record in inst.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        if run.tags.get(HOST_TAG) != socket.gethostname():
            continue
        pid = worker_pid(inst, run.run_id)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        inst.report_run_failed(run)
        inst.report_engine_event(f"run {run.run_id}: its process {pid} is gone (killed); marked failed", run)
        dead.append(run.run_id)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed worker whose code server died with it waits, a zombie, for init to reap it: it runs nothing
    (Linux's /proc says so; elsewhere it counts as alive)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def latest_outputs(study: str, dagster_instance: dg.DagsterInstance | None = None) -> Path:
    """The outputs folder of the study's most recent evaluation, wherever it was written (`pilot run --out`, or
    the outputs folder for runs of the sensors, schedules and UI): read from the outputs asset's report path
    in the Dagster instance, so that no second record of it is kept."""
    if not study.startswith("drop-"):  # a drop's own study is named by the tool, not the user
        check_study_id(study)
    inst = dagster_instance or instance()
    records = inst.fetch_materializations(evaluation_outputs.key, limit=1000).records  # newest first
    for record in records:
        materialization = record.asset_materialization
        if materialization is None or materialization.partition is None:
            continue
        try:
            evaluation = Delivery.parse(materialization.partition)
        except DeliveryError:
            continue
        report = materialization.metadata.get("report")
        if evaluation.study == study and isinstance(report, dg.PathMetadataValue):
            folder = Path(report.path).parent
            if (folder / "effects.csv").is_file():
                return folder
    raise DeliveryError(
        f"study {study} has no evaluation with outputs on this machine: run `pilot run --study {study} --out DIR` "
        "or give --results DIR"
    )
