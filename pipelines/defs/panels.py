"""Stage 4: the analysis panels of an evaluation, built once from its study's rows (cut-off applied).

The rows are the study's as assembled from its deliveries up to the partition's own (`pipelines.studies`).
Every analysis asset takes the panels as an input, so the asset graph shows what the analysis depends on; the
panel store keeps them between steps under any executor. A study that cannot be evaluated yet (no admin
months, no comparison employer yet: deliveries still to come) stops here, before the analysis, without
failing: the panels are not produced, the analysis steps are skipped, and the reason is recorded on the
panels asset (`not_evaluable`).
"""

import dagster as dg
import pandas as pd

from measures.evaluation.panels import SOURCE_TABLES, build_panels, not_evaluable
from pipelines.deliveries import as_of
from pipelines.delivery_assets import delivery_asset, delivery_of
from pipelines.studies import study_tables
from pipelines.warehouse import Warehouse

#: The metadata label under which a stopped evaluation records why (`pipelines.run` reads it).
NOT_EVALUABLE = "not_evaluable"


@delivery_asset(
    group_name="panels",
    deps=list(SOURCE_TABLES),
    io_manager_key="panel_store",
    kinds={"pandas", "parquet"},
    output_required=False,
    description="Employee-months with months relative to inclusion, answers per wave, return to work and the "
    "baseline of each employee, from the study's rows up to this delivery, after the cut-off.",
)
def panels(context: dg.AssetExecutionContext, warehouse: Warehouse):
    evaluation = delivery_of(context)
    assembled = [d.delivery_key for d in as_of(evaluation)]
    tables = study_tables(warehouse, SOURCE_TABLES, assembled)
    cutoff = pd.Timestamp(evaluation.cutoff) if evaluation.cutoff else None
    reason = not_evaluable(tables)
    built = build_panels(tables, cutoff) if reason is None else None
    if built is not None and not len(built.admin):
        reason = "no administrative months up to the cut-off"
    if built is None or reason is not None:
        message = f"study {evaluation.study} cannot be evaluated yet ({len(assembled)} deliveries): {reason}"
        context.log.warning(message)
        context.log_event(
            dg.AssetObservation(asset_key="panels", partition=evaluation.key, metadata={NOT_EVALUABLE: message})
        )
        return
    yield dg.Output(
        built,
        metadata={
            "admin_rows": len(built.admin),
            "survey_rows": len(built.survey),
            "employees": len(built.baseline),
            "deliveries": len(assembled),
            "cutoff": evaluation.cutoff.isoformat() if evaluation.cutoff else "–",  # "–": no cut-off, final results
        },
    )
