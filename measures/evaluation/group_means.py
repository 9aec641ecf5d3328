"""Each indicator's mean per group before and after inclusion: the raw comparison beside the DiD.

`before` and `after` are the DiD's own split: administrative months before inclusion (`rel < 0`) against
the inclusion month and later (`post`), questionnaire answers at t0 against t1 and t2 together. Return to
work within 12 months has one value per employee, so it only has an `after`. `n` counts the employees
behind a mean (not their months or answers): a mean of fewer than the minimum is suppressed, as everywhere.
"""

from __future__ import annotations

import pandas as pd

from measures.contract.tables import GROUPS
from measures.evaluation.suppression import suppress_small_cells
from measures.evaluation.thresholds import MIN_CELL
from measures.indicators.catalogue import ADMIN_MONTHLY

GROUP_MEAN_COLUMNS = ["indicator_id", "group", "phase", "mean", "n", "suppressed"]
PHASES = ("before", "after")


def group_means(admin: pd.DataFrame, survey: pd.DataFrame, rtw: pd.DataFrame, min_n: int = MIN_CELL) -> pd.DataFrame:
    """One row per indicator × group × phase that has data, sorted, small cells suppressed."""
    parts = [_means(admin, ind, ind) for ind in ADMIN_MONTHLY if ind in admin]
    parts += [_means(answers, "value", str(ind)) for ind, answers in survey.groupby("indicator_id", sort=True)]
    if len(rtw):
        parts.append(_means(rtw.assign(post=1), "rtw_12m", "rtw_12m"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=GROUP_MEAN_COLUMNS)
    table = suppress_small_cells(pd.concat(parts, ignore_index=True), n="n", values=("mean",), min_n=min_n)
    order = {"group": {g: i for i, g in enumerate(GROUPS)}, "phase": {p: i for i, p in enumerate(PHASES)}}
    ranked = table.sort_values(
        ["indicator_id", "group", "phase"], key=lambda c: c.map(order[c.name]) if c.name in order else c
    )
    return ranked[GROUP_MEAN_COLUMNS].reset_index(drop=True)


def _means(frame: pd.DataFrame, value: str, indicator: str) -> pd.DataFrame:
    rows = frame.loc[frame[value].notna(), ["group", "post", "employee_id", value]]
    if rows.empty:
        return pd.DataFrame(columns=GROUP_MEAN_COLUMNS[:-1])
    stats = (
        rows.assign(phase=rows["post"].map({0: "before", 1: "after"}))
        .groupby(["group", "phase"], sort=True)
        .agg(mean=(value, "mean"), n=("employee_id", "nunique"))
        .reset_index()
    )
    return stats.assign(indicator_id=indicator, group=stats["group"].astype(str))[GROUP_MEAN_COLUMNS[:-1]]
