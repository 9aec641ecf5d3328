"""The job: the whole evaluation of one delivery, from its files to the report."""

from __future__ import annotations

import dagster as dg

from pipelines.deliveries import DELIVERY_PARTITIONS

# In-process: one run is a chain of small steps on one delivery, and DuckDB has a single writer anyway.
pilot_evaluation = dg.define_asset_job(
    "pilot_evaluation",
    selection=dg.AssetSelection.all(),
    partitions_def=DELIVERY_PARTITIONS,
    executor_def=dg.in_process_executor,
    description="Evaluate one delivery: ingest, validate, trends, effects, ToC diagrams and the report.",
)
