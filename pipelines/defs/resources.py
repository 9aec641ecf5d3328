"""The resources every asset receives: the warehouse, the run's options and the panel store."""

import dagster as dg

from pipelines.resources import DesignStore, PanelStore, RunOptions
from pipelines.warehouse import Warehouse


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": Warehouse(),  # the data folder's, resolved when used
            "options": RunOptions(),
            "panel_store": PanelStore(),
            "design_store": DesignStore(),
        }
    )
