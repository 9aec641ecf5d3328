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
from measures.contract.validate import QUARANTINE_COLUMNS, DropResult, IngestSummary, read_drop, validate_tables
from measures.indicators.catalogue import drop_reference
from pipelines.deliveries import drop_of, file_checksums
from pipelines.delivery_assets import OWNERS, delivery_asset, delivery_multi_asset, delivery_of
from pipelines.manifest import record_outcomes, register_files
from pipelines.metadata import markdown_table, table_schema
from pipelines.warehouse import Warehouse


@delivery_asset(
    group_name="drop",
    kinds={"python"},
    description="The files of a delivery, registered by SHA-256 in the warehouse manifest (never copied).",
)
def drop_files(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    delivery = delivery_of(context)
    drop = drop_of(delivery)
    files = register_files(warehouse, delivery.key, drop, file_checksums(drop))
    shown = files.assign(sha256=files["sha256"].str[:12])
    return dg.MaterializeResult(
        metadata={
            "drop": dg.MetadataValue.path(str(drop)),
            "files": markdown_table(shown),
            "n_files": len(files),
            "n_new_files": int(files["new"].sum()),
        }
    )


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
def ingest_drop(context: dg.AssetExecutionContext, warehouse: Warehouse):
    delivery = delivery_of(context)
    drop = drop_of(delivery)
    clock = _Stopwatch()
    try:
        raws = clock.time("read", read_drop, drop)
    except DropError as exc:
        record_outcomes(warehouse, drop, {n: (s, f"failed: {exc}") for n, s in file_checksums(drop).items()})
        raise dg.Failure(description=str(exc), metadata={"drop": dg.MetadataValue.path(str(drop))}) from None
    result = clock.time("validate", validate_tables, raws, drop_reference())
    loaded = {name: (result.tables[name].loaded if name in result.tables else _empty(TABLES[name])) for name in TABLES}
    summary = result.summary()
    clock.time(
        "load",
        warehouse.replace,
        delivery.key,
        {**loaded, "quarantine": result.quarantine(), "ingest_summary": _summary_frame(summary)},
    )
    record_outcomes(
        warehouse,
        drop,
        {s.source_file: (s.sha256, f"loaded {s.loaded}, quarantined {s.quarantined}") for s in summary.values()},
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
        metadata["dropped_columns"] = ", ".join(summary.dropped_columns)  # names only, never values
    if summary and summary.scrubbed_cells:
        metadata["scrubbed_cells"] = summary.scrubbed_cells
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
