"""Analysis panels built from the loaded contract tables.

The administrative panel is every loaded admin row (no window, no trimming), with `rel` = calendar
months between `month` and the month of `inclusion_date`, `post` = rel >= 0 (the inclusion month counts
as post) and `treated` = intervention employer × post. The survey panel dates each wave from the
inclusion date (t0 at inclusion, t1 one month later, t2 a year later), so that a cut-off applies to
answers as it does to months.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from measures.contract.arrow_text import TEXT, positions
from measures.contract.tables import GROUPS, WAVES

WAVE_MONTHS = {"t0": 0, "t1": 1, "t2": 12}
RTW_WINDOW_MONTHS = 12
MONTH_SECONDS = 2_629_800  # 30.4375 days (365.25 / 12)


def _month_index(values: pd.Series) -> np.ndarray:
    """Calendar months since 1970-01, by numpy's month unit (no per-field calls): whole numbers, or floats
    with NaN where a date is missing."""
    months = np.asarray(values, dtype="datetime64[M]")
    index, missing = months.astype(np.int64), np.isnat(months)
    return np.where(missing, np.nan, index) if missing.any() else index


def case_frame(employers: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Cases with their employer's group and the 0/1 `treated_group`."""
    group = cases["employer_id"].map(employers.set_index("employer_id")["group"]).astype(TEXT)
    return cases.assign(group=group, treated_group=(group == "intervention").astype(int))


def with_case(rows: pd.DataFrame, cases: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`rows` of known employees, in their order, with the columns of their case (an inner join on
    employee_id, done by position: cases has one row per employee, so there is nothing to match twice)."""
    position = positions(rows["employee_id"], cases["employee_id"])
    known = position >= 0
    # all known (the usual case): no selection, which would copy every row of every column
    joined = (rows if known.all() else rows.loc[known]).reset_index(drop=True)
    for column in columns:
        joined[column] = cases[column].array.take(position[known])  # keeps the dtype (Arrow text stays Arrow)
    return joined


def admin_panel(
    employers: pd.DataFrame, cases: pd.DataFrame, admin: pd.DataFrame, cutoff: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Employee-months with rel, post and treated; months after the cut-off are left out."""
    panel = with_case(
        admin, case_frame(employers, cases), ["group", "treated_group", "absence_start", "inclusion_date"]
    )
    if cutoff is not None:
        panel = panel.loc[panel["month"] <= cutoff]
    rel = _month_index(panel["month"]) - _month_index(panel["inclusion_date"])
    post = (rel >= 0).astype(int)
    return panel.assign(rel=rel, post=post, treated=panel["treated_group"].to_numpy() * post).reset_index(drop=True)


def survey_panel(
    employers: pd.DataFrame, cases: pd.DataFrame, survey: pd.DataFrame, cutoff: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Answers with wave order, post (t1/t2) and treated; answers dated after the cut-off are left out."""
    panel = with_case(survey, case_frame(employers, cases), ["group", "treated_group", "inclusion_date"])
    offset = panel["wave"].map(WAVE_MONTHS).astype(int)
    # average month length in whole seconds, as numpy timedeltas (pandas' float-days conversion is slow)
    wave_date = panel["inclusion_date"] + (offset.to_numpy() * MONTH_SECONDS).astype("timedelta64[s]")
    if cutoff is not None:
        panel = panel.loc[wave_date <= cutoff]
    wave_order = panel["wave"].map({w: i for i, w in enumerate(WAVES)}).astype(int)
    post = (wave_order > 0).astype(int)
    return panel.assign(wave_order=wave_order, post=post, treated=panel["treated_group"] * post).reset_index(drop=True)


def rtw_frame(
    employers: pd.DataFrame, cases: pd.DataFrame, admin: pd.DataFrame, cutoff: pd.Timestamp | None = None
) -> pd.DataFrame:
    """One row per employee: rtw_12m = 1 when a month within 12 months of absence_start has AO% 0."""
    frame = case_frame(employers, cases)[["employee_id", "employer_id", "group", "treated_group", "absence_start"]]
    months = with_case(admin[["employee_id", "month", "ao_pct"]], frame, ["absence_start"])
    if cutoff is not None:
        months = months.loc[months["month"] <= cutoff]
    since = _month_index(months["month"]) - _month_index(months["absence_start"])
    back = months.loc[(since >= 0) & (since < RTW_WINDOW_MONTHS) & (months["ao_pct"] == 0), "employee_id"]
    observed = frame["employee_id"].isin(months["employee_id"])
    return frame.loc[observed].assign(rtw_12m=frame["employee_id"].isin(back).astype(int)).reset_index(drop=True)


def baseline_frame(
    employers: pd.DataFrame, cases: pd.DataFrame, admin_rows: pd.DataFrame, survey_rows: pd.DataFrame
) -> pd.DataFrame:
    """One row per employee at baseline: admin values in the month before inclusion, t0 answers,
    and the months of absence at inclusion."""
    frame = case_frame(employers, cases)
    months_absent = _month_index(frame["inclusion_date"]) - _month_index(frame["absence_start"])
    base = frame[["employee_id", "employer_id", "group", "treated_group"]].assign(
        months_absent_at_inclusion=months_absent
    )
    before = admin_rows.loc[admin_rows["rel"] == -1, ["employee_id", "ao_pct", "absence_days", "loonwaarde_pct"]]
    t0 = survey_rows.loc[survey_rows["wave"] == "t0"].pivot_table(
        index="employee_id", columns="indicator_id", values="value", aggfunc="first"
    )
    return base.merge(before, on="employee_id", how="left").merge(
        t0, left_on="employee_id", right_index=True, how="left"
    )


@dataclass(frozen=True)
class Panels:
    """The analysis panels of one evaluation, with its cut-off applied: what every analysis step reads."""

    tables: dict[str, pd.DataFrame]  # the small contract tables: employers, activities, cases
    admin: pd.DataFrame
    survey: pd.DataFrame
    rtw: pd.DataFrame
    baseline: pd.DataFrame


#: The contract tables the panels are built from.
SOURCE_TABLES = ("employers", "activities", "cases", "admin", "survey")


def build_panels(tables: Mapping[str, pd.DataFrame], cutoff: pd.Timestamp | None = None) -> Panels:
    """All panels from the loaded contract tables (`SOURCE_TABLES`); data after `cutoff` are left out."""
    employers, cases = tables["employers"], tables["cases"]
    admin = admin_panel(employers, cases, tables["admin"], cutoff)
    survey = survey_panel(employers, cases, tables["survey"], cutoff)
    rtw = rtw_frame(employers, cases, tables["admin"], cutoff)
    small = {name: tables[name] for name in ("employers", "activities", "cases")}
    return Panels(
        tables=small, admin=admin, survey=survey, rtw=rtw, baseline=baseline_frame(employers, cases, admin, survey)
    )


def not_evaluable(tables: Mapping[str, pd.DataFrame]) -> str | None:
    """Why the loaded tables cannot be evaluated yet (None: they can): a study assembled from partial
    deliveries may still lack employers, cases, one of the two groups or administrative months."""
    employers, cases, admin = tables["employers"], tables["cases"], tables["admin"]
    for name, frame in (("employers", employers), ("cases", cases), ("administrative months", admin)):
        if not len(frame):
            return f"no {name} yet"
    with_cases = employers.loc[employers["employer_id"].isin(cases["employer_id"]), "group"]
    with_months = employers.loc[employers["employer_id"].isin(admin["employer_id"].unique()), "group"]
    for group in GROUPS:
        if not (with_cases == group).any():
            return f"no employer in the {group} group with a case yet"
        if not (with_months == group).any():
            return f"no administrative months of the {group} group yet"
    return None
