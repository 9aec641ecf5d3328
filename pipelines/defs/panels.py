"""Stage 4: the analysis panels of a delivery, built once from its warehouse tables (cut-off applied).

Every analysis asset takes them as an input, so the asset graph shows what the analysis depends on; the
panel store keeps them between steps under any executor.
"""

import dagster as dg
import pandas as pd

from measures.evaluation.panels import SOURCE_TABLES, Panels, build_panels
from pipelines.delivery_assets import delivery_asset, delivery_of
from pipelines.warehouse import Warehouse


@delivery_asset(
    group_name="panels",
    deps=list(SOURCE_TABLES),
    io_manager_key="panel_store",
    kinds={"pandas", "parquet"},
    description="Employee-months with months relative to inclusion, answers per wave, return to work and the "
    "baseline of each employee, after the delivery's cut-off.",
)
def panels(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.Output[Panels]:
    delivery = delivery_of(context)
    cutoff = pd.Timestamp(delivery.cutoff) if delivery.cutoff else None
    built = build_panels(warehouse.read_many(list(SOURCE_TABLES), delivery.key), cutoff)
    return dg.Output(
        built,
        metadata={
            "admin_rows": len(built.admin),
            "survey_rows": len(built.survey),
            "employees": len(built.baseline),
            "cutoff": delivery.cutoff.isoformat() if delivery.cutoff else "–",  # "–": no cut-off, final results
        },
    )
