"""Evaluation integrity: the ToCs' assumptions tested on the run's data, and the run held against its plan.

`assumptions` evaluates every check of the study's ToCs (`measures.evaluation.assumptions`); its asset check
warns when an assumption or precondition fails. `preregistration` compares the run with the study's registered
analysis plan (`pipelines.preregistration`); its asset check fails, at error severity, when the plan moved and
warns when there is no plan.
"""

import json

import dagster as dg
import pandas as pd

from measures.evaluation.assumptions import RunData, assumptions_table, data_end, evaluate_assumptions
from measures.evaluation.panels import Panels
from measures.evaluation.preregistration import describe
from measures.evaluation.results import ASSUMPTIONS, PREREGISTRATION
from pipelines.defs.analysis import balance, effects
from pipelines.delivery_assets import delivery_asset, delivery_of
from pipelines.metadata import markdown_table, result_schema
from pipelines.preregistration import STUDY_TOCS, git_commit, run_comparison
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse
from toc.load import resolve


@delivery_asset(
    group_name="integrity",
    deps=[balance],
    kinds={"pandas", "duckdb"},
    metadata={"dagster/column_schema": result_schema(ASSUMPTIONS), "dagster/table_name": "warehouse.assumptions"},
    check_specs=[
        dg.AssetCheckSpec(
            "assumptions_hold",
            asset="assumptions",
            description="Every assumption and precondition with a check holds in the run's data.",
        )
    ],
    description="Each assumption and precondition of the AKC ToCs tested on the run's data (holds, fails or "
    "untested, with value, threshold and n): assumptions.csv.",
)
def assumptions(
    context: dg.AssetExecutionContext, panels: Panels, warehouse: Warehouse, options: RunOptions
) -> dg.MaterializeResult:
    delivery = delivery_of(context)
    cutoff = pd.Timestamp(delivery.cutoff) if delivery.cutoff else None
    run = RunData(
        employers=panels.tables["employers"],
        activities=panels.tables["activities"],
        cases=panels.tables["cases"],
        survey=panels.survey,
        balance=warehouse.read("balance", delivery.key),
        data_end=data_end(panels.admin["month"], cutoff),
    )
    table = assumptions_table(evaluate_assumptions([resolve(t) for t in STUDY_TOCS], run, options.min_cell))
    warehouse.replace(delivery.key, {"assumptions": table})
    failed = table.loc[table["status"] == "fails"]
    counts = table["status"].value_counts()
    check = dg.AssetCheckResult(
        check_name="assumptions_hold",
        passed=failed.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed": ", ".join(sorted(set(failed["item_id"]))) or "none"},
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            **{f"n_{status}": int(counts.get(status, 0)) for status in ("holds", "fails", "untested")},
            "assumptions": markdown_table(table),
        },
        check_results=[check],
    )


@delivery_asset(
    group_name="integrity",
    deps=[effects],
    kinds={"duckdb"},
    metadata={
        "dagster/column_schema": result_schema(PREREGISTRATION),
        "dagster/table_name": "warehouse.preregistration",
    },
    check_specs=[
        dg.AssetCheckSpec(
            "preregistration_intact",
            asset="preregistration",
            description="The run follows the study's pre-registered analysis plan: no ToC, indicator, primary "
            "indicator, estimator or cut-off moved since registration.",
        )
    ],
    description="The run compared with the study's pre-registered analysis plan (`pilot preregister`).",
)
def preregistration(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    delivery = delivery_of(context)
    result = run_comparison(warehouse, delivery, warehouse.read("effects", delivery.key), git_commit())
    warehouse.replace(delivery.key, {"preregistration": pd.DataFrame([{"comparison": json.dumps(result)}])})
    lines = [describe(change) for change in result["changes"]]
    missing = result["plan_sha256"] is None
    check = dg.AssetCheckResult(
        check_name="preregistration_intact",
        passed=result["intact"],
        severity=dg.AssetCheckSeverity.WARN if missing else dg.AssetCheckSeverity.ERROR,
        metadata={"study": result["study"], "changes": "\n".join(lines) or "none"},
    )
    return dg.MaterializeResult(
        metadata={
            "study": result["study"],
            "plan_sha256": result["plan_sha256"] or "none",
            "intact": result["intact"],
            "version": result["version"] or 0,
            "changes": dg.MetadataValue.md("\n".join(f"- {line}" for line in lines) or "_none_"),
        },
        check_results=[check],
    )
