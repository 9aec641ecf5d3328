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
from measures.evaluation.design.effects import result_of
from measures.indicators.catalogue import indicators_by_id, primary_indicators
from toc.load import resolve
from toc.models import CHECKED_LAYERS, Check
from toc.overlay import CheckStatus, NodeResult


def design_assumptions(design: StudyDesign, effects: pd.DataFrame, min_cell: int) -> list[AssumptionResult]:
    ids = {i.id for i in design_indicators(design)}
    rows = effects.set_index("indicator_id") if len(effects) else pd.DataFrame()
    results = []
    for toc_id in design.tocs:
        for node in resolve(toc_id).nodes_in(*CHECKED_LAYERS):
            check = node.check
            row = None
            if check is not None and check.measure in ids and check.measure in rows.index:
                row = rows.loc[check.measure]
            results.append(_assumption(toc_id, node.id, node.layer, check, row))
    return sorted(results, key=lambda r: (r.toc_id, r.kind, r.item_id))


def _assumption(toc_id: str, item: str, kind: str, check: Check | None, row: pd.Series | None) -> AssumptionResult:
    def result(status: CheckStatus, value: float | None = None, n: int | None = None, reason: str = ""):
        threshold = None if check is None else check.threshold
        return AssumptionResult(toc_id, item, kind, status, value, threshold, n, check, reason)

    if check is None:
        return result("untested", reason="no_check")
    if row is None or pd.isna(row["estimate"]):
        small = row is not None and str(row["method"]).startswith("suppressed")
        return result("untested", reason="small_n" if small else "no_data")
    value = float(row["estimate"])
    held = COMPARATORS[check.comparator](value, check.threshold)
    return result("holds" if held else "fails", value, int(row["n_employees"]))


def design_node_results(design: StudyDesign, toc_id: str, effects: pd.DataFrame) -> dict[str, NodeResult]:
    """Node id -> the result of its primary indicator among the design's rows (levels against their benchmark)."""
    rows = effects.set_index("indicator_id") if len(effects) else pd.DataFrame()
    catalogue = indicators_by_id()
    results = {}
    for node, indicator in primary_indicators(toc_id).items():
        if indicator.id not in rows.index:
            continue
        results[node] = result_of(design, catalogue[indicator.id], rows.loc[indicator.id].to_dict())
    return results
