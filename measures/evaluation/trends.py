"""Indicator trends per group and period: mean, 95% CI and n, with small cells suppressed.

Periods are months relative to inclusion for administrative indicators (`-3`, `0`, `12`), waves for
questionnaires (`t0`, `t1`, `t2`) and `12m` for the return-to-work share. The CI is the descriptive
t-interval of the mean of individuals; it ignores clustering by employer (the effects do not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from measures.contract.tables import WAVES
from measures.estimation.inference import t_quantile
from measures.evaluation.results import TRENDS
from measures.evaluation.suppression import suppress_small_cells
from measures.evaluation.thresholds import MIN_CELL
from measures.indicators.catalogue import ADMIN_MONTHLY

#: trends.csv's columns, declared in `measures.evaluation.results`.
TREND_COLUMNS = TRENDS.csv_columns


def indicator_trends(
    admin: pd.DataFrame, survey: pd.DataFrame, rtw: pd.DataFrame, min_n: int = MIN_CELL
) -> pd.DataFrame:
    """All trends of a run, sorted by indicator, group and period, with small cells suppressed."""
    parts = [_summarise(admin, ind, "rel").assign(indicator_id=ind) for ind in ADMIN_MONTHLY if ind in admin]
    for ind, answers in survey.groupby("indicator_id", sort=True):
        parts.append(_summarise(answers, "value", "wave").assign(indicator_id=ind))
    if len(rtw):
        parts.append(_summarise(rtw.assign(period="12m"), "rtw_12m", "period").assign(indicator_id="rtw_12m"))
    if not parts:
        return pd.DataFrame(columns=TREND_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    table = suppress_small_cells(table, n="n", values=("mean", "ci_low", "ci_high"), min_n=min_n)
    return sort_trends(table[TREND_COLUMNS])


def sort_trends(table: pd.DataFrame) -> pd.DataFrame:
    """Trends in their one row order: indicator, group, then the period in time order.

    Periods are text (`-4`, `t0`, `12m`), so sorting them as text would put `-1` before `-4` and `10` before
    `2`; the order comes from what the text says (a month, a wave, or anything else last).
    """
    period = table["period"].astype(str)
    order = pd.to_numeric(period, errors="coerce")  # admin: months relative to inclusion
    order = order.fillna(period.map({w: i for i, w in enumerate(WAVES)}))  # questionnaires: t0, t1, t2
    order = order.fillna(np.inf)  # `12m` and anything else last, as text
    ranked = table.assign(_order=order.to_numpy(dtype=float), _text=period.to_numpy())
    ranked = ranked.sort_values(["indicator_id", "group", "_order", "_text"], kind="stable")
    return ranked.drop(columns=["_order", "_text"]).reset_index(drop=True)


def _summarise(frame: pd.DataFrame, value: str, period: str) -> pd.DataFrame:
    stats_ = (
        frame[["group", period, value]]  # the columns it needs (not a copy of every column of the panel's rows)
        .dropna(subset=[value])
        .groupby(["group", period], sort=True)[value]
        .agg(mean="mean", sd="std", n="count")
        .reset_index()
    )
    half = t_quantile(0.975, np.maximum(stats_["n"] - 1, 1)) * stats_["sd"] / np.sqrt(stats_["n"])
    stats_ = stats_.assign(ci_low=stats_["mean"] - half, ci_high=stats_["mean"] + half)
    return stats_.assign(period=stats_[period].astype(str))
