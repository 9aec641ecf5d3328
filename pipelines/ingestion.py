"""Ingest, shared by every study design: a delivery's files -> validated tables + quarantine -> the warehouse.

The raw files are read in memory only; the first thing stored is already projected onto the contract
columns and scrubbed. A delivery is validated against the rows its study already holds (an answer may belong
to a case delivered before), counted against them (new, revised, unchanged) and stored in one transaction;
a delivery that leaves nothing usable is refused before anything is written. A delivery is loaded once:
materialising it again (a cut-off, a re-execution) uses its stored rows and needs no files.

The design decides the contract, what a delivery is checked against (its indicators, its ToCs' activities),
which tables must load for it to be usable and where its groups are; the AKC pilot's assets
(`pipelines/defs/ingest.py`) and every other design's (`pipelines/design_assets.py`) call the same functions.
"""

from __future__ import annotations

import time
from typing import Any

import dagster as dg
import pandas as pd

from measures.contract.limits import Limits
from measures.contract.read import DropError
from measures.contract.usability import NEEDED, Groups, UnusableDelivery, check_usable
from measures.contract.validate import IngestSummary, read_drop, validate_tables
from measures.designs.load import DEFAULT_DESIGN, design_indicators
from measures.designs.model import StudyDesign
from measures.indicators.catalogue import Reference, drop_reference
from pipelines.deliveries import Delivery, as_of, drop_of, file_checksums, files_of, refuse
from pipelines.manifest import record_outcomes, register_files
from pipelines.metadata import markdown_table
from pipelines.studies import load_delivery, study_tables
from pipelines.warehouse import DECLARED, Warehouse, stored_name


class Stopwatch:
    """Seconds per stage of the ingest (read, validate, load), for the UI and the benchmark."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def time(self, stage: str, fn, *args):
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds[stage] = time.perf_counter() - start


def drop_metadata(evaluation: Delivery) -> dict[str, Any]:
    """What the UI shows of a delivery's files: names and SHA-256 as registered, never the folder."""
    files = files_of(evaluation.delivery)
    shown = pd.DataFrame({"file_name": list(files), "sha256": [s[:12] for s in files.values()]})
    return {
        "study": evaluation.study,
        "delivery_date": evaluation.date.isoformat(),
        "files": markdown_table(shown),
        "n_files": len(files),
        "deliveries_in_study": len(as_of(evaluation)),
    }


def design_reference(design: StudyDesign) -> Reference:
    """What a drop of the design is checked against: its indicators' questionnaire and process rules; the AKC
    pilot accepts the activities of every shipped ToC (as it always has), a design those of its own ToCs."""
    chosen = [i.id for i in design_indicators(design)]
    return drop_reference(chosen, None if design.id == DEFAULT_DESIGN else design.tocs)


def referenced_tables(design: StudyDesign) -> tuple[str, ...]:
    """The tables other tables refer to: a delivery's references are checked against the study's rows of these."""
    targets = {c.references.split(".")[0] for t in design.contract.tables for c in t.columns if c.references}
    return tuple(t.name for t in design.contract.tables if t.name in targets)


def _usability(design: StudyDesign) -> tuple[tuple[str, ...], Groups | None]:
    """Which tables must load a row, and where the design's groups are (None: it has none)."""
    if design.id == DEFAULT_DESIGN:
        return NEEDED, Groups()
    u = design.units
    groups = Groups(clusters=u.clusters, cluster=u.cluster, people=u.people) if design.has_groups else None
    return (u.clusters, u.people), groups


def load(
    warehouse: Warehouse,
    delivery: Delivery,
    clock: Stopwatch,
    max_share: float,
    design: StudyDesign,
    limits: Limits | None = None,
) -> tuple[dict[str, IngestSummary], pd.DataFrame]:
    """Read, validate and store a delivery. A delivery that leaves nothing usable is refused before anything is
    written (the warehouse stays byte for byte as it was; the reason is in the run log): for a drop on its own
    also when a group has no employer with a case, while a study may still receive them in a later delivery
    (its evaluation waits for them: `panels`)."""
    drop, contract = drop_of(delivery), design.contract
    prior = [d.delivery_key for d in as_of(delivery)[:-1]]
    known = None if delivery.standalone else study_tables(warehouse, referenced_tables(design), prior, contract)
    reference = design_reference(design)
    needed, groups = _usability(design)
    try:
        raws = clock.time("read", read_drop, drop, limits, delivery.standalone, contract)
        result = clock.time("validate", validate_tables, raws, reference, limits, known, contract)
        check_usable(result, max_share, delivery.standalone, contract, needed, groups)
    except (DropError, UnusableDelivery) as exc:
        refuse(delivery)  # on record, left out of the study's evaluations
        raise dg.Failure(description=f"delivery {delivery.delivery_key} not loaded: {exc}") from None
    checksums = file_checksums(drop)
    register_files(warehouse, delivery.delivery_key, drop, checksums)
    summary = clock.time("load", load_delivery, warehouse, delivery, prior, result, contract)
    record_outcomes(
        warehouse,
        delivery.delivery_key,
        {
            s.source_file: (s.sha256, f"loaded {s.loaded}, quarantined {s.quarantined}, warnings {s.warnings}")
            for s in summary.values()
        },
    )
    return summary, result.quarantine()


def table_result(
    design: StudyDesign, name: str, summary: IngestSummary | None, key: dg.AssetKey | str | None = None
) -> dg.MaterializeResult:
    """What the delivery brought to one table of the design's contract (nothing when the table was not in it);
    `key`: the table's asset key (default: its name)."""
    key = key or name
    stored = DECLARED[stored_name(design.contract, name)]
    counts = summary.as_json() if summary else dict.fromkeys(("rows_in", "loaded", "quarantined"), 0)
    checks = [
        dg.AssetCheckResult(
            check_name="rows_accounted",
            asset_key=key,
            passed=counts["rows_in"] == counts["loaded"] + counts["quarantined"],
            metadata={k: counts[k] for k in ("rows_in", "loaded", "quarantined")},
        ),
        dg.AssetCheckResult(
            check_name="contract_columns",
            asset_key=key,
            passed=stored.data_columns == design.contract.by_name[name].column_names,
            metadata={"columns": ", ".join(stored.data_columns)},
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
    return dg.MaterializeResult(asset_key=key, metadata=metadata, check_results=checks)


def quarantine_result(
    quarantine: pd.DataFrame, seconds: dict[str, float], key: dg.AssetKey | str = "quarantine"
) -> dg.MaterializeResult:
    reasons = (
        quarantine.groupby(["table", "reason"]).size().rename("rows").reset_index() if len(quarantine) else quarantine
    )
    return dg.MaterializeResult(
        asset_key=key,
        metadata={
            **{f"{stage}_seconds": round(value, 3) for stage, value in seconds.items()},
            "dagster/row_count": len(quarantine),
            "reasons": markdown_table(reasons),
            "first_rows": markdown_table(quarantine[["table", "source_file", "row", "column", "reason"]], max_rows=20),
        },
    )
