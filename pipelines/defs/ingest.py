"""Stage 1-3 of the AKC pilot: a delivery's files -> validated tables + quarantine -> the DuckDB warehouse.

The assets of the default design; what they do is `pipelines.ingestion`, shared with every other design (whose
assets `pipelines.design_assets` builds).
"""

import dagster as dg

from measures.contract.limits import Limits
from measures.contract.tables import TABLES
from measures.designs.load import DEFAULT_DESIGN, load_design
from measures.evaluation.results import QUARANTINE
from pipelines.delivery_assets import OWNERS, delivery_asset, delivery_multi_asset, delivery_of
from pipelines.ingestion import Stopwatch, drop_metadata, load, quarantine_result, table_result
from pipelines.metadata import result_schema, table_schema
from pipelines.resources import RunOptions
from pipelines.studies import is_loaded, stored_summary
from pipelines.warehouse import Warehouse


@delivery_asset(
    group_name="drop",
    kinds={"python"},
    description="The table files of the delivery, by name and SHA-256 as registered (never copied, never its folder).",
)
def drop_files(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=drop_metadata(delivery_of(context)))


def _specs() -> list[dg.AssetSpec]:
    """The contract tables and the quarantine, as specs of the one ingest step (built here, not at module
    level, where the defs loader would take each spec for an asset of its own)."""
    tables = [
        dg.AssetSpec(
            name,
            group_name="warehouse",
            deps=[drop_files],
            owners=OWNERS,
            kinds={"duckdb"},
            description=f"{t.description_en} Validated rows of the delivery (contract columns, scrubbed).",
            metadata={"dagster/column_schema": table_schema(t), "dagster/table_name": f"warehouse.{name}"},
        )
        for name, t in TABLES.items()
    ]
    quarantine = dg.AssetSpec(
        "quarantine",
        group_name="warehouse",
        deps=[drop_files],
        owners=OWNERS,
        kinds={"duckdb"},
        description="Rows that were not loaded, each with table, file, row, column and reason (never the value).",
        metadata={
            "dagster/column_schema": result_schema(QUARANTINE),
            "dagster/table_name": "warehouse.quarantine",
        },
    )
    return [*tables, quarantine]


def _checks() -> list[dg.AssetCheckSpec]:
    accounted = [
        dg.AssetCheckSpec(
            "rows_accounted",
            asset=name,
            blocking=True,
            description="Every input row is loaded or quarantined: rows_in = loaded + quarantined.",
        )
        for name in TABLES
    ]
    columns = [
        dg.AssetCheckSpec("contract_columns", asset=name, description="The stored columns are exactly the contract's.")
        for name in TABLES
    ]
    return accounted + columns


@delivery_multi_asset(
    specs=_specs(),
    check_specs=_checks(),
    name="ingest_drop",
    description="Read, project, scrub and validate the delivery against the study's earlier deliveries; load it in "
    "one transaction (once: a loaded delivery is not read again).",
)
def ingest_drop(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions):
    delivery = delivery_of(context).delivery
    clock, design = Stopwatch(), load_design(DEFAULT_DESIGN)
    if is_loaded(warehouse, delivery):
        context.log.info(f"delivery {delivery.delivery_key} is loaded already: its stored rows stand")
        summary, quarantine = stored_summary(warehouse, delivery), warehouse.read("quarantine", delivery.delivery_key)
    else:
        summary, quarantine = load(
            warehouse, delivery, clock, options.max_quarantine_share, design, Limits(max_rows=options.max_rows)
        )
    for name in TABLES:
        yield table_result(design, name, summary.get(name))
    yield quarantine_result(quarantine, clock.seconds)
