"""Stage 1-3: a delivery's files -> validated tables + quarantine -> the DuckDB warehouse.

The raw files are read in memory only; the first thing stored is already projected onto the contract
columns and scrubbed. A delivery is validated against the rows its study already holds (an answer may belong
to a case delivered before), counted against them (new, revised, unchanged) and stored in one transaction;
a delivery that leaves nothing usable is refused before anything is written. A delivery is loaded once:
materialising it again (a cut-off, a re-execution) uses its stored rows and needs no files.
"""

import time
from typing import Any

import dagster as dg
import pandas as pd

from measures.contract.limits import Limits
from measures.contract.read import DropError
from measures.contract.tables import TABLES
from measures.contract.usability import UnusableDelivery, check_usable
from measures.contract.validate import IngestSummary, read_drop, validate_tables
from measures.evaluation.results import QUARANTINE
from measures.indicators.catalogue import drop_reference
from pipelines.deliveries import Delivery, as_of, drop_of, file_checksums, files_of, refuse
from pipelines.delivery_assets import OWNERS, delivery_asset, delivery_multi_asset, delivery_of
from pipelines.manifest import record_outcomes, register_files
from pipelines.metadata import markdown_table, result_schema, table_schema
from pipelines.resources import RunOptions
from pipelines.studies import is_loaded, load_delivery, stored_summary, study_tables
from pipelines.warehouse import DECLARED, Warehouse

#: The tables other tables refer to: a delivery's references are checked against the study's rows of these.
REFERENCED = ("employers", "cases")


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


@delivery_asset(
    group_name="drop",
    kinds={"python"},
    description="The table files of the delivery, by name and SHA-256 as registered (never copied, never its folder).",
)
def drop_files(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    evaluation = delivery_of(context)
    files = files_of(evaluation.delivery)
    shown = pd.DataFrame({"file_name": list(files), "sha256": [s[:12] for s in files.values()]})
    assembled = as_of(evaluation)
    return dg.MaterializeResult(
        metadata={
            "study": evaluation.study,
            "delivery_date": evaluation.date.isoformat(),
            "files": markdown_table(shown),
            "n_files": len(files),
            "deliveries_in_study": len(assembled),
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
    clock = _Stopwatch()
    if is_loaded(warehouse, delivery):
        context.log.info(f"delivery {delivery.delivery_key} is loaded already: its stored rows stand")
        summary, quarantine = stored_summary(warehouse, delivery), warehouse.read("quarantine", delivery.delivery_key)
    else:
        limits = Limits(max_rows=options.max_rows)
        summary, quarantine = _load(warehouse, delivery, clock, options.max_quarantine_share, limits)
    for name in TABLES:
        yield _table_result(name, summary.get(name))
    yield _quarantine_result(quarantine, clock.seconds)


def _load(
    warehouse: Warehouse, delivery: Delivery, clock: _Stopwatch, max_share: float, limits: Limits
) -> tuple[dict[str, IngestSummary], pd.DataFrame]:
    """Read, validate and store a delivery. A delivery that leaves nothing usable is refused before anything is
    written (the warehouse stays byte for byte as it was; the reason is in the run log): for a drop on its own
    also when a group has no employer with a case, while a study may still receive them in a later delivery
    (its evaluation waits for them: `panels`)."""
    drop = drop_of(delivery)
    prior = [d.delivery_key for d in as_of(delivery)[:-1]]
    known = None if delivery.standalone else study_tables(warehouse, REFERENCED, prior)
    try:
        raws = clock.time("read", read_drop, drop, limits, delivery.standalone)
        result = clock.time("validate", validate_tables, raws, drop_reference(), limits, known)
        check_usable(result, max_share, groups=delivery.standalone)
    except (DropError, UnusableDelivery) as exc:
        refuse(delivery)  # on record, left out of the study's evaluations
        raise dg.Failure(description=f"delivery {delivery.delivery_key} not loaded: {exc}") from None
    checksums = file_checksums(drop)
    register_files(warehouse, delivery.delivery_key, drop, checksums)
    summary = clock.time("load", load_delivery, warehouse, delivery, prior, result)
    record_outcomes(
        warehouse,
        delivery.delivery_key,
        {
            s.source_file: (s.sha256, f"loaded {s.loaded}, quarantined {s.quarantined}, warnings {s.warnings}")
            for s in summary.values()
        },
    )
    return summary, result.quarantine()


def _table_result(name: str, summary: IngestSummary | None) -> dg.MaterializeResult:
    """What the delivery brought to one table (nothing when the table was not in it)."""
    counts = summary.as_json() if summary else dict.fromkeys(("rows_in", "loaded", "quarantined"), 0)
    checks = [
        dg.AssetCheckResult(
            check_name="rows_accounted",
            asset_key=name,
            passed=counts["rows_in"] == counts["loaded"] + counts["quarantined"],
            metadata={k: counts[k] for k in ("rows_in", "loaded", "quarantined")},
        ),
        dg.AssetCheckResult(
            check_name="contract_columns",
            asset_key=name,
            passed=DECLARED[name].data_columns == TABLES[name].column_names,
            metadata={"columns": ", ".join(DECLARED[name].data_columns)},
        ),
    ]
    metadata: dict[str, Any] = {"dagster/row_count": counts["loaded"], "source_file": "(not in this delivery)"}
    if summary:
        metadata |= {k: counts[k] for k in ("rows_in", "quarantined", "new", "revised", "unchanged")}
        metadata["source_file"] = summary.source_file
    if summary and summary.dropped_columns:
        metadata["dropped_columns"] = ", ".join(summary.dropped_columns)  # positions only, never names or values
    if summary and summary.scrubbed_cells:
        metadata["scrubbed_cells"] = summary.scrubbed_cells
    if summary and summary.warnings:
        metadata["warnings"] = summary.warnings
    return dg.MaterializeResult(asset_key=name, metadata=metadata, check_results=checks)


def _quarantine_result(quarantine: pd.DataFrame, seconds: dict[str, float]) -> dg.MaterializeResult:
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
