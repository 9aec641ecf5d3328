"""The resources every asset receives: the warehouse, the run's options and the panel store."""

import dagster as dg

from pipelines import settings
from pipelines.resources import PanelStore, RunOptions
from pipelines.warehouse import Warehouse


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": Warehouse(database=str(settings.warehouse_path())),
            "options": RunOptions(),
            "panel_store": PanelStore(),
        }
    )
