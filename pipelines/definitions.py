"""The Dagster code location: loaded by workspace.yaml, `dagster` and `dg` from the repository root.

Everything is collected from the `pipelines/defs/` folder the Dagster way (assets, checks, the job, the
schedules, the sensor and the resources, one module per stage).
"""

from __future__ import annotations

import dagster as dg

from pipelines import settings

defs = dg.load_from_defs_folder(project_root=settings.PROJECT_ROOT)


def evaluation_job(name: str) -> dg.JobDefinition:
    """A job by name (a design's evaluation, `sector_did`), resolved from the code location: what a reconstructable
    job of another process rebuilds (`dg.build_reconstructable_job(..., "evaluation_job", (name,))`)."""
    return defs.resolve_job_def(name)
