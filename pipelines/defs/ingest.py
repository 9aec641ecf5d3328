"""Stage 1-3: a drop's files -> validated tables + quarantine -> the DuckDB warehouse.

The raw files are read in memory only; the first thing stored is already projected onto the contract
columns and scrubbed. All tables of a delivery are replaced in one transaction.
"""

import time
from typing import Any

import dagster as dg
import pandas as pd

from measures.contract.read import DropError
from measures.contract.tables import TABLES, Table
from measures.contract.usability import UnusableDelivery, check_usable
from measures.contract.validate import QUARANTINE_COLUMNS, DropResult, IngestSummary, read_drop, validate_tables
from measures.indicators.catalogue import drop_reference
from pipelines.deliveries import drop_of, file_checksums
from pipelines.delivery_assets import OWNERS, delivery_asset, delivery_multi_asset, delivery_of
from pipelines.manifest import record_outcomes, register_files
from pipelines.metadata import markdown_table, table_schema
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse


@delivery_asset(
    group_name="drop",
    kinds={"python"},
    description="The table files of a delivery by SHA-256 (registered in the manifest once ingested; never copied).",
)
def drop_files(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    # Nothing is written here: a delivery that cannot be ingested leaves the warehouse as it was. No folder
    # path either: a drop's folder name may itself identify a person.
    checksums = file_checksums(drop_of(delivery_of(context)))
    shown = pd.DataFrame({"file_name": list(checksums), "sha256": [s[:12] for s in checksums.values()]})
    return dg.MaterializeResult(metadata={"files": markdown_table(shown), "n_files": len(checksums)})


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
            "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in QUARANTINE_COLUMNS])
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
    description="Read, project, scrub and validate a drop; load it in one transaction.",
)
def ingest_drop(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions):
    delivery = delivery_of(context)
    drop = drop_of(delivery)
    clock = _Stopwatch()
    try:
        raws = clock.time("read", read_drop, drop)
        result = clock.time("validate", validate_tables, raws, drop_reference())
        check_usable(result, options.max_quarantine_share)
    except (DropError, UnusableDelivery) as exc:
        # before anything is written: the warehouse stays byte for byte as it was; the reason is in the run log
        raise dg.Failure(description=str(exc)) from None
    loaded = {name: (result.tables[name].loaded if name in result.tables else _empty(TABLES[name])) for name in TABLES}
    summary = result.summary()
    checksums = file_checksums(drop)
    register_files(warehouse, delivery.key, drop, checksums)
    clock.time(
        "load",
        warehouse.replace,
        delivery.key,
        {
            **loaded,
            "quarantine": result.quarantine(),
            "warnings": result.warnings(),
            "ingest_summary": _summary_frame(summary),
        },
    )
    record_outcomes(
        warehouse,
        drop,
        {
            s.source_file: (s.sha256, f"loaded {s.loaded}, quarantined {s.quarantined}, warnings {s.warnings}")
            for s in summary.values()
        },
    )
    for name in TABLES:
        yield _table_result(name, loaded[name], summary.get(name))
    yield _quarantine_result(result, clock.seconds)


class _Stopwatch:
    """Seconds per stage of the ingest (read, validate, load), for the UI and the benchmark."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def time(self, stage: str, fn, *args):
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds[stage] = time.perf_counter() - start


def _empty(table: Table) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in table.column_names})


def _summary_frame(summary: dict[str, IngestSummary]) -> pd.DataFrame:
    return pd.DataFrame([s.as_row() for s in summary.values()])


def _table_result(name: str, frame: pd.DataFrame, summary: IngestSummary | None) -> dg.MaterializeResult:
    table = TABLES[name]
    rows_in = summary.rows_in if summary else 0
    quarantined = summary.quarantined if summary else 0
    accounted = rows_in == len(frame) + quarantined
    checks = [
        dg.AssetCheckResult(
            check_name="rows_accounted",
            asset_key=name,
            passed=accounted,
            metadata={"rows_in": rows_in, "loaded": len(frame), "quarantined": quarantined},
        ),
        dg.AssetCheckResult(
            check_name="contract_columns",
            asset_key=name,
            passed=list(frame.columns) == table.column_names,
            metadata={"columns": ", ".join(frame.columns)},
        ),
    ]
    metadata: dict[str, Any] = {
        "dagster/row_count": len(frame),
        "rows_in": rows_in,
        "quarantined": quarantined,
        "source_file": summary.source_file if summary else "(not delivered)",
    }
    if summary and summary.dropped_columns:
        metadata["dropped_columns"] = ", ".join(summary.dropped_columns)  # positions only, never names or values
    if summary and summary.scrubbed_cells:
        metadata["scrubbed_cells"] = summary.scrubbed_cells
    if summary and summary.warnings:
        metadata["warnings"] = summary.warnings
    return dg.MaterializeResult(asset_key=name, metadata=metadata, check_results=checks)


def _quarantine_result(result: DropResult, seconds: dict[str, float]) -> dg.MaterializeResult:
    quarantine = result.quarantine()
    reasons = (
        quarantine.groupby(["table", "reason"]).size().rename("rows").reset_index() if len(quarantine) else quarantine
    )
    return dg.MaterializeResult(
        asset_key="quarantine",
        metadata={
            **{f"{stage}_seconds": round(value, 3) for stage, value in seconds.items()},
            "dagster/row_count": len(quarantine),
            "reasons": markdown_table(reasons),
            "first_rows": markdown_table(quarantine[["table", "source_file", "row", "column", "reason"]], max_rows=20),
        },
    )
