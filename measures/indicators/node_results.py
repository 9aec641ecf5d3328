"""From an effects table to the node results that colour the results-annotated ToC."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from measures.indicators.catalogue import primary_indicators
from toc.errors import UserError
from toc.overlay import NodeResult


def node_results(toc_id: str, effects: pd.DataFrame) -> dict[str, NodeResult]:
    """Node id -> the effect of its primary indicator; nodes whose indicator has no row are left out."""
    rows = effects.set_index("indicator_id")
    results = {}
    for node, indicator in primary_indicators(toc_id).items():
        if indicator.id not in rows.index:
            continue
        row = rows.loc[indicator.id]
        results[node] = NodeResult(
            indicator=indicator.id,
            estimate=_float(row["estimate"]),
            ci_low=_float(row["ci_low"]),
            ci_high=_float(row["ci_high"]),
            lower_is_better=indicator.lower_is_better,
            adjusted_p=_float(row["q_value"]) if "q_value" in row.index else None,
        )
    return results


def node_results_from_effects_csv(toc_id: str, path: Path) -> dict[str, NodeResult]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such effects file (run `pilot run` to make one)")
    effects = pd.read_csv(path)
    missing = {"indicator_id", "estimate", "ci_low", "ci_high"} - set(effects.columns)
    if missing:
        raise UserError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    return node_results(toc_id, effects)


def _float(value) -> float | None:
    return None if pd.isna(value) else float(value)
