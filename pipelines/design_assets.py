"""The assets and job of every study design other than the AKC pilot, built from its design file.

A new study of an existing design kind is a new file under `studies/`: its assets appear here, no Python.
Each design gets the same stages as the pilot, under its own key prefix and group (`passend_werk/...`), on
the same delivery partitions, with its own job (`passend_werk_evaluation`) that `pilot run`, the sensors and
the schedules launch for a study of that design:

    drop_files -> ingest (the contract's tables + quarantine) -> panels (the study's rows as of the delivery,
    after the cut-off) -> trends, effects, figures (milestones, survival, trajectories) -> integrity
    (assumptions, pre-registration) -> toc (results-annotated ToCs) -> outputs (CSVs, run.json, report.html)

Each asset calls one function of `measures`, `report` or `pipelines.ingestion`; the UI shows each design's
own figures (the timeline, the cohorts, the curves, the symptom courses) as metadata.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import dagster as dg
import pandas as pd

from measures.contract.limits import Limits
from measures.designs.load import DEFAULT_DESIGN, all_designs
from measures.designs.model import StudyDesign
from measures.evaluation.design.frames import DesignData, design_data
from measures.evaluation.results import EFFECTS, QUARANTINE, TRENDS
from pipelines.deliveries import DELIVERY_PARTITIONS, as_of
from pipelines.delivery_assets import OWNERS, delivery_asset, delivery_multi_asset, delivery_of
from pipelines.design_stages import (
    design_figures,
    design_integrity,
    design_outputs,
    design_toc,
    not_evaluable,
)
from pipelines.ingestion import Stopwatch, drop_metadata, load, quarantine_result, table_result
from pipelines.metadata import image, markdown_table, result_schema, table_schema
from pipelines.resources import RunOptions
from pipelines.studies import is_loaded, stored_summary, study_tables
from pipelines.warehouse import Warehouse, stored_name

NOT_EVALUABLE = "not_evaluable"


def prefix_of(design_id: str) -> str:
    return design_id.replace("-", "_")


def job_name(design_id: str) -> str:
    """The job that evaluates a study of the design (the AKC pilot's is `pilot_evaluation`)."""
    return "pilot_evaluation" if design_id == DEFAULT_DESIGN else f"{prefix_of(design_id)}_evaluation"


@dataclass(frozen=True)
class DesignDefinitions:
    assets: list[Any]
    job: Any  # what dg.define_asset_job returns (an unresolved job)


def build(design: StudyDesign) -> DesignDefinitions:
    prefix = prefix_of(design.id)

    def key(name: str) -> dg.AssetKey:
        return dg.AssetKey([prefix, name])

    common: dict[str, Any] = {"group_name": prefix}
    assets = [
        _drop_files(design, key, common),
        _ingest(design, key, common),
        _panels(design, key, common),
        *_analysis(design, key, common),
    ]
    job = dg.define_asset_job(
        job_name(design.id),
        selection=dg.AssetSelection.key_prefixes([prefix]),
        partitions_def=DELIVERY_PARTITIONS,
        executor_def=dg.in_process_executor,
        description=f"Evaluate one delivery of a study of the design {design.id}: ingest, analysis, report.",
    )
    return DesignDefinitions(assets, job)


def _drop_files(design: StudyDesign, key, common: dict) -> Any:
    @delivery_asset(key=key("drop_files"), kinds={"python"}, description="The table files of the delivery.", **common)
    def drop_files(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=drop_metadata(delivery_of(context)))

    return drop_files


def _ingest(design: StudyDesign, key, common: dict) -> Any:
    contract = design.contract
    specs = [
        dg.AssetSpec(
            key(t.name),
            deps=[key("drop_files")],
            owners=OWNERS,
            kinds={"duckdb"},
            description=f"{t.description_en} Validated rows of the delivery (contract columns, scrubbed).",
            metadata={
                "dagster/column_schema": table_schema(t),
                "dagster/table_name": f"warehouse.{stored_name(contract, t.name)}",
            },
            **common,
        )
        for t in contract.tables
    ]
    quarantine = dg.AssetSpec(
        key("quarantine"),
        deps=[key("drop_files")],
        owners=OWNERS,
        kinds={"duckdb"},
        description="Rows that were not loaded, each with table, file, row, column and reason (never the value).",
        metadata={"dagster/column_schema": result_schema(QUARANTINE), "dagster/table_name": "warehouse.quarantine"},
        **common,
    )
    checks = [
        dg.AssetCheckSpec(
            "rows_accounted", asset=key(t.name), blocking=True, description="rows_in = loaded + quarantined."
        )
        for t in contract.tables
    ] + [
        dg.AssetCheckSpec("contract_columns", asset=key(t.name), description="The stored columns are the contract's.")
        for t in contract.tables
    ]

    @delivery_multi_asset(
        specs=[*specs, quarantine],
        check_specs=checks,
        name=f"{prefix_of(design.id)}_ingest_drop",
        description=f"Read, project, scrub and validate a delivery of a {design.id} study; load it once.",
    )
    def ingest(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions) -> Iterator:
        delivery = delivery_of(context).delivery
        clock = Stopwatch()
        if is_loaded(warehouse, delivery):
            summary = stored_summary(warehouse, delivery)
            rows = warehouse.read("quarantine", delivery.delivery_key)
        else:
            summary, rows = load(
                warehouse, delivery, clock, options.max_quarantine_share, design, Limits(max_rows=options.max_rows)
            )
        for t in contract.tables:
            yield table_result(design, t.name, summary.get(t.name), key(t.name))
        yield quarantine_result(rows, clock.seconds, key("quarantine"))

    return ingest


def _panels(design: StudyDesign, key, common: dict) -> Any:
    names = [t.name for t in design.contract.tables]

    @delivery_asset(
        key=key("panels"),
        deps=[key(n) for n in names],
        io_manager_key="design_store",
        kinds={"pandas", "parquet"},
        output_required=False,
        description="The study's rows as assembled from its deliveries up to this one, after the cut-off.",
        **common,
    )
    def panels(context: dg.AssetExecutionContext, warehouse: Warehouse):
        evaluation = delivery_of(context)
        assembled = [d.delivery_key for d in as_of(evaluation)]
        tables = study_tables(warehouse, names, assembled, design.contract)
        cutoff = pd.Timestamp(evaluation.cutoff) if evaluation.cutoff else None
        reason = not_evaluable(design, tables)
        if reason is None:
            data = design_data(design, tables, cutoff)
            reason = None if len(data.people) else "no people up to the cut-off"
        if reason is not None:
            message = f"study {evaluation.study} cannot be evaluated yet ({len(assembled)} deliveries): {reason}"
            context.log.warning(message)
            context.log_event(
                dg.AssetObservation(
                    asset_key=key("panels"), partition=evaluation.key, metadata={NOT_EVALUABLE: message}
                )
            )
            return
        yield dg.Output(
            data.tables,
            metadata={
                "people": len(data.people),
                "deliveries": len(assembled),
                "data_end": data.data_end.date().isoformat(),
            },
        )

    return panels


def _data(design: StudyDesign, context: dg.AssetExecutionContext, tables: dict[str, pd.DataFrame]) -> DesignData:
    evaluation = delivery_of(context)
    return design_data(design, tables, pd.Timestamp(evaluation.cutoff) if evaluation.cutoff else None)


def _analysis(design: StudyDesign, key, common: dict) -> list[Any]:
    from measures.evaluation.design.describe import design_trends, organisation_indicators, trend_values
    from measures.evaluation.design.effects import design_effects

    panel = {"panels": dg.AssetIn(key("panels"))}

    @delivery_asset(
        key=key("trends"),
        ins=panel,
        kinds={"pandas", "duckdb"},
        metadata={"dagster/column_schema": result_schema(TRENDS), "dagster/table_name": "warehouse.trends"},
        description="Mean, 95% CI and n per indicator, group and period; small cells of people suppressed.",
        **common,
    )
    def trends(context: dg.AssetExecutionContext, panels: dict, warehouse: Warehouse, options: RunOptions):
        data = _data(design, context, panels)
        table = design_trends(trend_values(data), options.min_cell, organisation_indicators(design))
        warehouse.replace(delivery_of(context).key, {"trends": table})
        return dg.MaterializeResult(
            metadata={"dagster/row_count": len(table), "suppressed_cells": int(table["suppressed"].sum())}
        )

    @delivery_asset(
        key=key("effects"),
        ins=panel,
        kinds={"pandas", "duckdb"},
        metadata={"dagster/column_schema": result_schema(EFFECTS), "dagster/table_name": "warehouse.effects"},
        check_specs=[
            dg.AssetCheckSpec(
                "primary_estimated",
                asset=key("effects"),
                description=f"The primary indicator ({design.primary_indicator}) could be estimated.",
            )
        ],
        description="One estimate per indicator as the design prescribes, with the robust inference (effects.csv).",
        **common,
    )
    def effects(context: dg.AssetExecutionContext, panels: dict, warehouse: Warehouse, options: RunOptions):
        data = _data(design, context, panels)
        tables = design_effects(data, options.min_cell)
        warehouse.replace(delivery_of(context).key, {"effects": tables.effects, "estimates": tables.estimates})
        return _effects_result(design, tables.effects)

    figures = design_figures(design, key, common, panel)
    integrity = design_integrity(design, key, common, [key("effects")])
    toc = design_toc(design, key, common, [key("effects"), integrity.key])
    outputs = design_outputs(
        design, key, common, panel, [trends.key, effects.key, figures.key, integrity.key, toc.key, key("quarantine")]
    )
    return [trends, effects, figures, integrity, toc, outputs]


def _effects_result(design: StudyDesign, table: pd.DataFrame) -> dg.MaterializeResult:
    from measures.indicators.catalogue import labels, units
    from report import plots  # matplotlib where the asset runs, not in the code server

    primary = table.loc[table["indicator_id"] == design.primary_indicator]
    estimated = bool(len(primary)) and pd.notna(primary["estimate"].iloc[0])
    metadata: dict[str, Any] = {
        "primary_indicator": design.primary_indicator,
        "effects": markdown_table(
            table[["indicator_id", "estimate", "ci_low", "ci_high", "p_value", "estimator", "flags"]]
        ),
        "n_indicators": len(table),
        "forest_plot": image(plots.png(plots.forest_figure(table, labels("nl"), units("nl"))), "forest plot"),
    }
    if estimated:
        row = primary.iloc[0]
        metadata |= {f"primary_{c}": float(row[c]) for c in ("estimate", "ci_low", "ci_high") if pd.notna(row[c])}
    check = dg.AssetCheckResult(
        check_name="primary_estimated",
        passed=estimated,
        metadata={"method": str(primary["method"].iloc[0]) if len(primary) else "no data"},
    )
    return dg.MaterializeResult(metadata=metadata, check_results=[check])


@cache  # built once: the code location and the sensors must hold the same job objects
def all_definitions() -> list[DesignDefinitions]:
    """The assets and job of every shipped design except the AKC pilot's (whose assets are `pipelines/defs`)."""
    return [build(d) for design_id, d in all_designs().items() if design_id != DEFAULT_DESIGN]
