"""A design's assumptions and preconditions held against its run, and its ToC nodes coloured by its results.

- An assumption or precondition with a `check` whose measure is one of the design's indicators is tested on
  the indicator's level over everyone (its effects.csv row when that is a level; its trend otherwise): `holds`
  or `fails`; fewer people than the minimum cell size, or a measure the design does not have: `untested`.
- A node's result is its primary indicator's row of effects.csv; a level is shown against the benchmark it was
  tested against (`measures.evaluation.design.effects.benchmark`), so that "improvement" means "on the good
  side of the benchmark" and a level never counts as an effect by itself being above zero.
"""

from __future__ import annotations

import pandas as pd

from measures.designs.load import design_indicators
from measures.designs.model import StudyDesign
from measures.evaluation.assumptions import COMPARATORS, AssumptionResult
from measures.evaluation.design.effects import LEVELS, benchmark
from measures.indicators.catalogue import indicators_by_id, primary_indicators
from toc.load import resolve
from toc.models import CHECKED_LAYERS
from toc.overlay import NodeResult


def design_assumptions(design: StudyDesign, effects: pd.DataFrame, min_cell: int) -> list[AssumptionResult]:
    ids = {i.id for i in design_indicators(design)}
    rows = effects.set_index("indicator_id") if len(effects) else pd.DataFrame()
    results = []
    for toc_id in design.tocs:
        for node in resolve(toc_id).nodes_in(*CHECKED_LAYERS):
            check = node.check
            base = {"toc_id": toc_id, "item_id": node.id, "kind": node.layer, "check": check}
            if check is None:
                results.append(
                    AssumptionResult(**base, status="untested", value=None, threshold=None, n=None, reason="no_check")
                )
                continue
            row = rows.loc[check.measure] if check.measure in ids and check.measure in rows.index else None
            if row is None or pd.isna(row["estimate"]):
                reason = "small_n" if row is not None and str(row["method"]).startswith("suppressed") else "no_data"
                results.append(
                    AssumptionResult(
                        **base, status="untested", value=None, threshold=check.threshold, n=None, reason=reason
                    )
                )
                continue
            value, n = float(row["estimate"]), int(row["n_employees"])
            status = "holds" if COMPARATORS[check.comparator](value, check.threshold) else "fails"
            results.append(AssumptionResult(**base, status=status, value=value, threshold=check.threshold, n=n))
    return sorted(results, key=lambda r: (r.toc_id, r.kind, r.item_id))


def design_node_results(design: StudyDesign, toc_id: str, effects: pd.DataFrame) -> dict[str, NodeResult]:
    """Node id -> the result of its primary indicator among the design's rows (levels against their benchmark)."""
    rows = effects.set_index("indicator_id") if len(effects) else pd.DataFrame()
    catalogue = indicators_by_id()
    results = {}
    for node, indicator in primary_indicators(toc_id).items():
        if indicator.id not in rows.index:
            continue
        row = rows.loc[indicator.id]
        estimator = row["estimator"] if isinstance(row["estimator"], str) else ""
        # a change within people is held against no change, a level against its benchmark
        level = estimator in LEVELS and estimator != "within_change"
        shift = benchmark(design, catalogue[indicator.id]) if level else 0.0
        values = [None if pd.isna(row[c]) else float(row[c]) - shift for c in ("estimate", "ci_low", "ci_high")]
        results[node] = NodeResult(indicator.id, *values, lower_is_better=indicator.lower_is_better)
    return results
