"""The pre-registered analysis plan of a study: registered in the warehouse, compared by every run.

`pilot preregister --study ID` builds the plan from the files as they are (`measures.evaluation.preregistration`)
and appends it to the warehouse table `preregistrations` as the study's next version: re-registering is allowed
and kept, never overwritten, and `pilot preregister` says what moved since the version before. Every run builds
the plan again from the files and the settings it actually used and compares it with the study's latest
version; `run.json` carries the outcome as `preregistration`.

A run's study is its partition's (`pipelines.deliveries`): the study its deliveries were added to, or for a
drop evaluated on its own `drop-<digest>` (never the folder's name).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass

import pandas as pd

from measures.designs.load import DEFAULT_DESIGN, load_design
from measures.evaluation.preregistration import build_plan, canonical_json, compare, plan_sha256
from measures.evaluation.thresholds import ALPHA
from measures.indicators.catalogue import CATALOGUE_PATH, families
from pipelines import settings
from pipelines.deliveries import Delivery
from pipelines.warehouse import Warehouse
from toc.load import DATA_DIR

TABLE = "preregistrations"
#: The ToCs a study of the AKC pilot evaluates (the diagrams and the assumptions use the same four): its
#: study file's, `studies/akc-pilot.yaml`.
STUDY_TOCS: tuple[str, ...] = tuple(load_design(DEFAULT_DESIGN).tocs)


@dataclass(frozen=True)
class Registration:
    study: str
    version: int
    registered_on: str
    plan_sha256: str
    plan: dict


def study_of(delivery: Delivery) -> str:
    """The study a delivery belongs to (a drop on its own: `drop-<digest>`)."""
    return delivery.study


def settings_of_run(effects: pd.DataFrame | None = None) -> dict:
    """The analysis settings a plan fixes, as the code runs them (and as a run's effects table says it ran): the
    primary indicator, its estimator, the families of hypotheses the q-values are adjusted within (Romano-Wolf;
    `family` in the catalogue) and alpha."""
    # here, not at the top: the effects module brings the estimators (scipy), which the code location needs
    # only when a run fits them
    from measures.evaluation.effects import ESTIMATOR, PRIMARY_INDICATOR

    estimator = ESTIMATOR
    if effects is not None and "estimator" in effects:
        primary = effects.loc[effects["indicator_id"] == PRIMARY_INDICATOR, "estimator"].dropna()
        if len(primary):
            estimator = str(primary.iloc[0])
    return {
        "primary_indicator": PRIMARY_INDICATOR,
        "families": families(),
        "estimator": estimator,
        "alpha": ALPHA,
    }


def plan_for(
    study: str, registered_on: str, git_commit: str | None, cutoffs: list[str], overrides: dict | None = None
) -> dict:
    """The plan of `study` from the files as they are now, with the run's settings unless `overrides` says."""
    files = {f"toc/data/{t}.yaml": (DATA_DIR / f"{t}.yaml").read_bytes() for t in STUDY_TOCS}
    catalogue = CATALOGUE_PATH.read_bytes()
    analysis = settings_of_run() | (overrides or {})
    return build_plan(
        study,
        files,
        catalogue,
        design=None,  # study designs (issue 18) go here as (file name, bytes)
        cutoffs=cutoffs,
        registered_on=registered_on,
        git_commit=git_commit,
        **analysis,
    )


def register(warehouse: Warehouse, plan: dict) -> Registration:
    """Append `plan` as the next version of its study's plan."""
    with warehouse.get_connection() as conn:
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{TABLE}" (study VARCHAR NOT NULL, version INTEGER NOT NULL, '
            "registered_on VARCHAR NOT NULL, plan_sha256 VARCHAR NOT NULL, plan VARCHAR NOT NULL)"
        )
        version = conn.execute(
            f'SELECT coalesce(max(version), 0) + 1 FROM "{TABLE}" WHERE study = ?', [plan["study"]]
        ).fetchall()[0][0]
        digest = plan_sha256(plan)
        conn.execute(
            f'INSERT INTO "{TABLE}" VALUES (?, ?, ?, ?, ?)',
            [plan["study"], version, plan["registered_on"], digest, canonical_json(plan).decode("utf-8")],
        )
    return Registration(plan["study"], int(version), plan["registered_on"], digest, plan)


def registrations(warehouse: Warehouse, study: str) -> list[Registration]:
    """Every registered version of the study's plan, oldest first."""
    with warehouse.get_connection() as conn:
        exists = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [TABLE]
        ).fetchall()[0][0]
        if not exists:
            return []
        rows = conn.execute(
            f'SELECT study, version, registered_on, plan_sha256, plan FROM "{TABLE}" WHERE study = ? ORDER BY version',
            [study],
        ).fetchall()
    return [Registration(s, int(v), d, h, json.loads(p)) for s, v, d, h, p in rows]


def run_comparison(warehouse: Warehouse, delivery: Delivery, effects: pd.DataFrame, git_commit: str | None) -> dict:
    """`run.json`'s `preregistration`: plan_sha256, intact, changes; with the study, its version and history."""
    study = study_of(delivery)
    history = registrations(warehouse, study)
    listed = [{"version": r.version, "registered_on": r.registered_on, "plan_sha256": r.plan_sha256} for r in history]
    if not history:
        missing = [{"kind": "plan", "id": study, "change": "missing"}]
        return {"plan_sha256": None, "intact": False, "changes": missing, "study": study, "version": None} | {
            "registrations": listed
        }
    latest = history[-1].plan
    current = plan_for(study, latest["registered_on"], git_commit, latest["cutoffs"], settings_of_run(effects))
    cutoff = delivery.cutoff.isoformat() if delivery.cutoff else None
    result = compare(latest, current, cutoff).as_dict()
    return result | {"study": study, "version": history[-1].version, "registrations": listed}


def git_commit() -> str | None:
    """The commit of the toolkit's checkout, when it is one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=settings.PROJECT_ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def today() -> str:
    return dt.date.today().isoformat()


def default_out(study: str):
    return settings.outputs_dir() / "preregistration" / study
