"""Analysis panels built from the loaded contract tables.

The administrative panel is every loaded admin row (no window, no trimming), with `rel` = calendar
months between `month` and the month of `inclusion_date`, `post` = rel >= 0 (the inclusion month counts
as post), `treated` = intervention employer × post and `duration` = calendar months since the absence
started. After a case ends with `end_reason` return_to_work, the employee's months after the end month
up to the last month of the data count with AO% 0 and 0 absence days (loonwaarde stays missing): rows
stop at a return to work, and leaving those months out would estimate the effect on those still absent.
A month the employer did deliver is kept as delivered. Other endings, and an unknown reason, are censored:
no months are added. The survey panel dates each wave from the inclusion date (t0 at inclusion, t1 one
month later, t2 a year later), so that a cut-off applies to answers as it does to months.

`rtw_12m` (returned within 12 months of the absence start: a month with AO% 0, or a return to work ended
in them) is only given for employees whose 12 months end by the last month of the data. The survival
frame holds each employee's time to a return to work in months (an event), or to another ending or to the
end of the data (censored).
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
MONTH_DAYS = 30.4375
RETURN_TO_WORK = "return_to_work"


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
    # all known (the usual case): no selection, which would copy every row of every column; a new index
    # without copying the columns (the caller's rows are read, never written)
    joined = (rows if known.all() else rows.loc[known]).set_axis(pd.RangeIndex(int(known.sum())), copy=False)
    for column in columns:
        joined[column] = cases[column].array.take(position[known])  # keeps the dtype (Arrow text stays Arrow)
    return joined


def admin_panel(
    employers: pd.DataFrame, cases: pd.DataFrame, admin: pd.DataFrame, cutoff: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Employee-months with rel, post, treated and duration; months after the cut-off are left out, months
    after a return to work are added (see the module docstring)."""
    return _admin_panel(employers, cases, with_returns(_until(admin, cutoff), cases, cutoff))


def _admin_panel(employers: pd.DataFrame, cases: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """`admin_panel` of the admin rows with the months after a return to work (`with_returns`) already added."""
    panel = with_case(rows, case_frame(employers, cases), ["group", "treated_group", "absence_start", "inclusion_date"])
    month = _month_index(panel["month"])
    rel = month - _month_index(panel["inclusion_date"])
    post = (rel >= 0).astype(int)
    # added to the joined frame, which is this function's own (`assign` and `reset_index` would each copy every
    # column again)
    panel["rel"] = rel
    panel["post"] = post
    panel["treated"] = panel["treated_group"].to_numpy() * post
    panel["duration"] = month - _month_index(panel["absence_start"])
    return panel


def _until(admin: pd.DataFrame, cutoff: pd.Timestamp | None) -> pd.DataFrame:
    """The admin rows up to the cut-off's month."""
    if cutoff is None:
        return admin
    return admin.loc[_month_index(admin["month"]) <= _month_index(pd.Series([cutoff]))[0]]


def with_returns(admin: pd.DataFrame, cases: pd.DataFrame, cutoff: pd.Timestamp | None = None) -> pd.DataFrame:
    """``admin`` plus a row (AO% 0, 0 absence days, no loonwaarde) for every month after a return to work up
    to the data's last month that the employer did not deliver; a return after the cut-off is not known yet."""
    returned = _returned(cases, cutoff)
    if returned.empty or admin.empty:
        return admin
    last = int(np.nanmax(_month_index(admin["month"])))
    first = _month_index(returned["end_date"]).astype(np.int64) + 1
    count = np.clip(last - first + 1, 0, None)
    month = np.repeat(first, count) + np.concatenate([np.arange(c) for c in count]) if count.sum() else first[:0]
    added = pd.DataFrame(
        {
            "employee_id": np.repeat(returned["employee_id"].to_numpy(), count),
            "employer_id": np.repeat(returned["employer_id"].to_numpy(), count),
            "month": _as_month_of(admin["month"], month),
            "absence_days": 0,
            "ao_pct": 0.0,
            "loonwaarde_pct": np.nan,
        }
    )
    added = added.loc[~_delivered(admin, returned, count, month)]
    if added.empty:
        return admin
    columns = list(admin.columns)
    return pd.concat([admin, added.reindex(columns=columns).astype(admin.dtypes.to_dict())], ignore_index=True)


def _delivered(admin: pd.DataFrame, returned: pd.DataFrame, count: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Which of the added months (``count`` per returned case, months ``month``) the employer delivered: the
    (employee, month) pairs as integers (the case's position, the month), matched in C, not as Python tuples."""
    case = positions(admin["employee_id"], returned["employee_id"])
    delivered_month = _month_index(admin["month"])
    known = (case >= 0) & ~np.isnan(delivered_month)
    span = np.int64(1) << 32  # months since 1970 stay far below 2**32
    delivered = case[known].astype(np.int64) * span + delivered_month[known].astype(np.int64)
    wanted = np.repeat(np.arange(len(returned), dtype=np.int64), count) * span + month.astype(np.int64)
    return pd.Series(wanted).isin(delivered).to_numpy()  # hashed: np.isin sorts both (seconds at 10M rows)


def _returned(cases: pd.DataFrame, cutoff: pd.Timestamp | None) -> pd.DataFrame:
    """Cases that ended with a return to work known by the cut-off."""
    if "end_reason" not in cases:
        return cases.iloc[:0]
    ended = (cases["end_reason"].astype(str) == RETURN_TO_WORK) & cases["end_date"].notna()
    if cutoff is not None:
        ended &= cases["end_date"] <= cutoff
    return cases.loc[ended]


def _as_month_of(like: pd.Series, months: np.ndarray) -> np.ndarray:
    """Month indices in the form ``like`` holds months: dates (the warehouse) or YYYY-MM text (a raw drop)."""
    values = months.astype("datetime64[M]")
    if pd.api.types.is_datetime64_any_dtype(like):
        return values.astype(like.dtype)
    return np.datetime_as_string(values, unit="M")


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
    """One row per employee whose 12 months since the absence start end by the data's last month: rtw_12m = 1
    when a month within them has AO% 0, or the case ended in them with a return to work."""
    rows = with_returns(_until(admin[["employee_id", "employer_id", "month", "ao_pct"]], cutoff), cases, cutoff)
    return _rtw_frame(employers, cases, rows, cutoff)


def _rtw_frame(
    employers: pd.DataFrame, cases: pd.DataFrame, rows: pd.DataFrame, cutoff: pd.Timestamp | None
) -> pd.DataFrame:
    """`rtw_frame` of the admin rows with the months after a return to work (`with_returns`) already added."""
    frame = case_frame(employers, cases)
    if rows.empty:
        return frame.iloc[:0].assign(rtw_12m=pd.Series(dtype=int))
    months = with_case(rows, frame, ["absence_start"])
    since = _month_index(months["month"]) - _month_index(months["absence_start"])
    # who returned, and who was observed, as arrays: `isin` looks them up in C (a Python set of a million
    # Arrow strings is built one element at a time)
    returned = _returned(cases, cutoff)
    within = _month_index(returned["end_date"]) - _month_index(returned["absence_start"]) < RTW_WINDOW_MONTHS
    zero = months.loc[(since >= 0) & (since < RTW_WINDOW_MONTHS) & (months["ao_pct"] == 0), "employee_id"]
    back = pd.concat([zero, returned.loc[within, "employee_id"]], ignore_index=True).unique()
    last = int(np.nanmax(_month_index(rows["month"])))
    complete = _month_index(frame["absence_start"]) + RTW_WINDOW_MONTHS - 1 <= last
    observed = frame["employee_id"].isin(months["employee_id"].unique()) & complete
    columns = ["employee_id", "employer_id", "group", "treated_group", "absence_start"]
    chosen = frame.loc[observed, columns]
    return chosen.assign(rtw_12m=chosen["employee_id"].isin(back).astype(int)).reset_index(drop=True)


def survival_frame(
    employers: pd.DataFrame, cases: pd.DataFrame, admin: pd.DataFrame, cutoff: pd.Timestamp | None = None
) -> pd.DataFrame:
    """One row per employee: ``duration`` in months from the absence start to a return to work (``event`` 1),
    or to another ending, an unknown one, or the end of the data (the cut-off, or the end of the last month
    delivered) (``event`` 0)."""
    frame = case_frame(employers, cases)
    rows = _until(admin, cutoff)
    if rows.empty:
        return pd.DataFrame(columns=["employee_id", "employer_id", "treated_group", "duration", "event"])
    last_month = np.datetime64(int(np.nanmax(_month_index(rows["month"]))) + 1, "M").astype("datetime64[ns]")
    end_of_data = pd.Timestamp(last_month) - pd.Timedelta(days=1)
    if cutoff is not None:
        end_of_data = min(end_of_data, pd.Timestamp(cutoff))
    ended = frame["end_date"].notna() & (frame["end_date"] <= end_of_data)
    stop = frame["end_date"].where(ended, end_of_data)
    reason = frame["end_reason"].astype(str) if "end_reason" in frame else pd.Series("", index=frame.index)
    event = (ended & (reason == RETURN_TO_WORK)).astype(int)
    duration = (stop - frame["absence_start"]).dt.days / MONTH_DAYS
    keep = frame["absence_start"] <= end_of_data
    out = frame.loc[keep, ["employee_id", "employer_id", "treated_group"]]
    return out.assign(duration=duration[keep].clip(lower=0), event=event[keep]).reset_index(drop=True)


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
    survival: pd.DataFrame


#: The contract tables the panels are built from.
SOURCE_TABLES = ("employers", "activities", "cases", "admin", "survey")


def build_panels(tables: Mapping[str, pd.DataFrame], cutoff: pd.Timestamp | None = None) -> Panels:
    """All panels from the loaded contract tables (`SOURCE_TABLES`); data after `cutoff` are left out."""
    employers, cases = tables["employers"], tables["cases"]
    # the months after a return to work are added once, for the admin panel and the return-to-work frame
    rows = with_returns(_until(tables["admin"], cutoff), cases, cutoff)
    admin = _admin_panel(employers, cases, rows)
    survey = survey_panel(employers, cases, tables["survey"], cutoff)
    rtw = _rtw_frame(employers, cases, rows, cutoff)
    small = {name: tables[name] for name in ("employers", "activities", "cases")}
    return Panels(
        tables=small,
        admin=admin,
        survey=survey,
        rtw=rtw,
        baseline=baseline_frame(employers, cases, admin, survey),
        survival=survival_frame(employers, cases, tables["admin"], cutoff),
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
