"""Indicator trends per group and period: mean, 95% CI and n, with small cells suppressed.

Periods are months relative to inclusion for administrative indicators (`-3`, `0`, `12`), waves for
questionnaires (`t0`, `t1`, `t2`) and `12m` for the return-to-work share. The CI is the descriptive
t-interval of the mean of individuals; it ignores clustering by employer (the effects do not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from measures.catalogue import ADMIN_MONTHLY
from measures.contract import WAVES
from measures.suppression import DEFAULT_MIN_CELL, suppress_small_cells

TREND_COLUMNS = ["indicator_id", "group", "period", "mean", "ci_low", "ci_high", "n", "suppressed"]


def indicator_trends(admin: pd.DataFrame, survey: pd.DataFrame, rtw: pd.DataFrame,
                     min_n: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """All trends of a run, sorted by indicator, group and period, with small cells suppressed."""
    parts = [_summarise(admin, ind, "rel", order=None).assign(indicator_id=ind)
             for ind in ADMIN_MONTHLY if ind in admin]
    for ind, answers in survey.groupby("indicator_id", sort=True):
        parts.append(_summarise(answers, "value", "wave", order=list(WAVES)).assign(indicator_id=ind))
    if len(rtw):
        parts.append(_summarise(rtw.assign(period="12m"), "rtw_12m", "period", order=["12m"]).assign(indicator_id="rtw_12m"))
    if not parts:
        return pd.DataFrame(columns=TREND_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values(["indicator_id", "group", "_order"], kind="stable")
    table = suppress_small_cells(table, n="n", values=("mean", "ci_low", "ci_high"), min_n=min_n)
    return table[TREND_COLUMNS].reset_index(drop=True)


def _summarise(frame: pd.DataFrame, value: str, period: str, order: list | None) -> pd.DataFrame:
    stats_ = (frame.dropna(subset=[value]).groupby(["group", period], sort=True)[value]
              .agg(mean="mean", sd="std", n="count").reset_index())
    half = stats.t.ppf(0.975, np.maximum(stats_["n"] - 1, 1)) * stats_["sd"] / np.sqrt(stats_["n"])
    stats_ = stats_.assign(ci_low=stats_["mean"] - half, ci_high=stats_["mean"] + half)
    position = stats_[period].map({p: i for i, p in enumerate(order)}) if order else stats_[period]
    return stats_.assign(period=stats_[period].astype(str), _order=position.astype(float))
