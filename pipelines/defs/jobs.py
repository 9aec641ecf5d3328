"""The job of the AKC pilot: the whole evaluation of one delivery, from its files to the report. (Every other
study design has a job of its own, built with its assets: `pipelines.design_assets`.)"""

from __future__ import annotations

import dagster as dg

from measures.designs.load import DEFAULT_DESIGN, design_ids
from pipelines.deliveries import DELIVERY_PARTITIONS
from pipelines.design_assets import prefix_of

#: The other designs' assets carry their design as key prefix; the pilot's job leaves them out.
_OTHER_DESIGNS = [prefix_of(d) for d in design_ids() if d != DEFAULT_DESIGN]
#: The sector's panel in parts (`pipelines/defs/sector.py`) has a job of its own.
_SECTOR = ["sector"]

# In-process: one run is a chain of small steps on one delivery, and DuckDB has a single writer anyway.
pilot_evaluation = dg.define_asset_job(
    "pilot_evaluation",
    selection=dg.AssetSelection.all() - dg.AssetSelection.key_prefixes(*_OTHER_DESIGNS, _SECTOR),
    partitions_def=DELIVERY_PARTITIONS,
    executor_def=dg.in_process_executor,
    description="Evaluate one delivery: ingest, validate, trends, effects, ToC diagrams and the report.",
)
