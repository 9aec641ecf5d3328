"""The calendar of a run: when the cohort was included and which months its data cover.

The analysis counts time relative to each employee's inclusion; the standards that report results (IATI
periods) need calendar dates. `run_calendar` gives the four months that place relative periods in time, as
`YYYY-MM` text for run.json: the first and last inclusion month and the first and last month of data.
Months, not days, and only extremes of the cohort: no employee's own dates.
"""

from __future__ import annotations

import pandas as pd


def run_calendar(admin: pd.DataFrame) -> dict[str, str | None]:
    """From the administrative panel (`month`, `inclusion_date`); None for each when there are no rows."""
    keys = ("inclusion_first", "inclusion_last", "data_first", "data_last")
    if admin.empty:
        return dict.fromkeys(keys)
    inclusion = pd.to_datetime(admin["inclusion_date"]).dropna()
    months = pd.to_datetime(admin["month"]).dropna()
    values = (inclusion.min(), inclusion.max(), months.min(), months.max())
    return {key: None if pd.isna(v) else v.strftime("%Y-%m") for key, v in zip(keys, values, strict=True)}
