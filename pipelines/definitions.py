"""The Dagster code location: loaded by workspace.yaml, `dagster` and `dg` from the repository root."""

from __future__ import annotations

import dagster as dg

from pipelines.defs import analysis, diagrams, ingest, outputs
from pipelines.jobs import pilot_evaluation
from pipelines.resources import default_resources
from pipelines.schedules import monthly_interim, weekly_refresh
from pipelines.sensors import landing_sensor

_modules = [ingest, analysis, diagrams, outputs]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(_modules),
    asset_checks=dg.load_asset_checks_from_modules(_modules),
    jobs=[pilot_evaluation],
    schedules=[weekly_refresh, monthly_interim],
    sensors=[landing_sensor],
    resources=default_resources(),
)
