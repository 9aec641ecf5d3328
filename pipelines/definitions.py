"""The Dagster code location: loaded by workspace.yaml, `dagster` and `dg` from the repository root.

Everything is collected from the `pipelines/defs/` folder the Dagster way (assets, checks, the job, the
schedules, the sensor and the resources, one module per stage).
"""

from __future__ import annotations

import dagster as dg

from pipelines import settings

defs = dg.load_from_defs_folder(project_root=settings.PROJECT_ROOT)


def pilot_evaluation_job() -> dg.JobDefinition:
    """The evaluation job, resolved from the code location (what `pilot run` executes, reconstructably)."""
    return defs.resolve_job_def("pilot_evaluation")


def evaluation_job(name: str) -> dg.JobDefinition:
    """A design's evaluation job by name (`pipelines.design_assets.job_name`), resolved from the code location."""
    return defs.resolve_job_def(name)
