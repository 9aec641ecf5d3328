"""Resources of the code location: the warehouse, and the options a run may set."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from pipelines import settings
from pipelines.warehouse import Warehouse


class RunOptions(dg.ConfigurableResource):
    """Per-run options. The delivery and its cut-off come from the partition key, not from here."""

    out_dir: str = Field(
        "", description="Folder for effects.csv, trends.csv, report.html, ... (default: data/outputs/<delivery>)."
    )
    min_cell: int = Field(
        settings.DEFAULT_MIN_CELL, description="Cells of fewer people are suppressed wherever numbers are shown."
    )
    lang: str = Field("nl", description="Language of the report: nl or en.")


def default_resources() -> dict:
    return {"warehouse": Warehouse(database=str(settings.warehouse_path())), "options": RunOptions()}
