"""What the asset modules share: owners, the delivery of a run, panels, and metadata helpers."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from measures.evaluation import panels
from pipelines import settings
from pipelines.deliveries import Delivery
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse

OWNERS = ["team:evaluatie"]
CONTRACT_ASSETS = ["employers", "activities", "cases", "admin", "survey"]


def delivery_of(context: dg.AssetExecutionContext) -> Delivery:
    return Delivery.parse(context.partition_key)


def out_dir(delivery: Delivery, options: RunOptions) -> Path:
    return Path(options.out_dir) if options.out_dir else settings.outputs_dir() / delivery.key


@dataclass(frozen=True)
class Panels:
    """The analysis panels of one delivery, with its cut-off applied."""

    tables: dict[str, pd.DataFrame]  # the small contract tables: employers, activities, cases
    admin: pd.DataFrame
    survey: pd.DataFrame
    rtw: pd.DataFrame
    baseline: pd.DataFrame


# The panels of the run in progress. A run's steps execute one after another in one process (the job uses
# the in-process executor), and five of them need the same panels: build them once per run, not five
# times. Keyed by run, so a new run (or a new delivery) never sees another's panels.
_RUN_PANELS: dict[tuple[str, str, str], Panels] = {}


def panels_of_run(context: dg.AssetExecutionContext, warehouse: Warehouse) -> Panels:
    key = (warehouse.database, context.partition_key, context.run_id)
    if key not in _RUN_PANELS:
        _RUN_PANELS.clear()
        _RUN_PANELS[key] = load_panels(warehouse, delivery_of(context))
    return _RUN_PANELS[key]


def load_panels(warehouse: Warehouse, delivery: Delivery) -> Panels:
    tables = warehouse.read_many(CONTRACT_ASSETS, delivery.key)
    cutoff = pd.Timestamp(delivery.cutoff) if delivery.cutoff else None
    employers, cases = tables["employers"], tables["cases"]
    admin = panels.admin_panel(employers, cases, tables["admin"], cutoff)
    survey = panels.survey_panel(employers, cases, tables["survey"], cutoff)
    rtw = panels.rtw_frame(employers, cases, tables.pop("admin"), cutoff)
    del tables["survey"]  # the panels hold these rows now; keep one copy in memory, not two
    return Panels(
        tables=tables,
        admin=admin,
        survey=survey,
        rtw=rtw,
        baseline=panels.baseline_frame(employers, cases, admin, survey),
    )


def markdown_table(frame: pd.DataFrame, max_rows: int = 60, floatfmt: str = ".3g") -> dg.MetadataValue:
    """A table for the Dagster UI (only ever called on tables that are already suppressed)."""
    shown = frame.head(max_rows)
    text = shown.to_markdown(index=False, floatfmt=floatfmt) if len(shown) else "_(empty)_"
    if len(frame) > max_rows:
        text += f"\n\n… {len(frame) - max_rows} more rows"
    return dg.MetadataValue.md(text)


def image(png: bytes, alt: str) -> dg.MetadataValue:
    """Dagster has no image metadata type: a base64 PNG inside markdown shows in the UI."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")
