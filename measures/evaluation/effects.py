"""The effects of a run: one difference-in-differences per indicator, event studies and balance.

Administrative indicators: employee and relative-month fixed effects, treated × post, clustered by
employer (the pilot DiD of `measures.estimation.did`). Questionnaire indicators: employee and wave fixed effects,
treated × (t1 or t2), all available answers. `rtw_12m`: a difference in shares between the groups at
employee level. A row whose groups hold fewer than the minimum number of employees is suppressed, and
an indicator that cannot be estimated says why in `method` instead of failing the run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd

from measures.estimation.did import estimate_did, estimate_dids, estimate_share_difference, same_rows
from measures.estimation.event_study import EventStudy, balance_table, estimate_event_studies, estimate_wave_effects
from measures.estimation.inference import SEED, Estimate, benjamini_hochberg
from measures.evaluation.results import EFFECTS, EVENT_STUDY
from measures.evaluation.thresholds import MIN_CELL
from measures.indicators.catalogue import ADMIN_MONTHLY

#: The pilot's primary indicator: the effect the asset check, the business case and the pre-registered plan use.
PRIMARY_INDICATOR = "ao_pct"
#: The estimator of every effect below (two-way fixed effects DiD, CR1 by employer, t(G−1)), as the plan records
#: it; an effects table with an `estimator` column says per row what a run used instead.
ESTIMATOR = "twfe"

#: effects.csv's and event_study.csv's columns, declared in `measures.evaluation.results`.
EFFECT_COLUMNS = EFFECTS.csv_columns
EVENT_COLUMNS = EVENT_STUDY.csv_columns
#: Relative months shown in the administrative event study; earlier and later months are binned.
EVENT_WINDOW = (-4, 12)


def effects_table(
    admin: pd.DataFrame, survey: pd.DataFrame, rtw: pd.DataFrame, min_n: int = MIN_CELL, seed: int = SEED
) -> pd.DataFrame:
    """One row per indicator with data in the run, with Benjamini-Hochberg q-values across them."""
    rows = []
    admin_smallest = _smallest_group(admin)  # the same rows for every administrative indicator
    indicators = [i for i in ADMIN_MONTHLY if i in admin and admin[i].notna().any()]
    for group in same_rows(admin, indicators):  # together where they can share a panel; a failure stays in its group
        together = functools.cache(
            functools.partial(
                estimate_dids, admin, tuple(group), "employee_id", "rel", "treated", cluster="employer_id", seed=seed
            )
        )
        rows += [_row(ind, admin, admin_smallest, min_n, _one_of(together, ind)) for ind in group]
    if len(rtw):
        rows.append(
            _row(
                "rtw_12m",
                rtw,
                _smallest_group(rtw),
                min_n,
                lambda f: estimate_share_difference(f, "rtw_12m", "treated_group", "employer_id"),
            )
        )
    for ind, answers in survey.groupby("indicator_id", sort=True):
        rows.append(
            _row(
                str(ind),
                answers,
                _smallest_group(answers),
                min_n,
                lambda f: estimate_did(
                    f, "value", "employee_id", "wave_order", "treated", cluster="employer_id", seed=seed
                ),
            )
        )
    # effects.csv's columns, and the t degrees of freedom behind each interval (kept in the warehouse)
    table = pd.DataFrame(rows, columns=[*(c for c in EFFECT_COLUMNS if c != "q_value"), "df"])
    table.insert(EFFECT_COLUMNS.index("q_value"), "q_value", _bh(table["p_value"]))
    return table.sort_values("indicator_id", kind="stable").reset_index(drop=True)


def _one_of(fits: Callable[[], dict[str, Estimate]], indicator: str) -> Callable[[pd.DataFrame], Estimate]:
    """The fit of one indicator from a fit of its group (made once, on first use)."""
    return lambda _frame: fits()[indicator]


def _smallest_group(frame: pd.DataFrame) -> int:
    """The number of employees in the smaller of the two groups."""
    return int(frame.groupby("treated_group")["employee_id"].nunique().reindex([0, 1], fill_value=0).min())


def _row(
    indicator: str, frame: pd.DataFrame, smallest: int, min_n: int, fit: Callable[[pd.DataFrame], Estimate]
) -> dict:
    if smallest < min_n:
        method = f"suppressed: fewer than {min_n} employees in a group"
    else:
        try:
            est = fit(frame)
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
            method = f"not estimable: {str(exc).splitlines()[0]}"
        else:
            return {
                "indicator_id": indicator,
                "estimate": est.estimate,
                "se": est.se,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "p_value": est.p_value,
                "p_value_wild": est.p_value_wild,
                "n_employers": est.n_clusters,
                "n_employees": est.n_entities,
                "n_obs": est.n_obs,
                "method": est.method,
                "df": est.df,
            }
    return {
        "indicator_id": indicator,
        "estimate": None,
        "se": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
        "p_value_wild": None,
        "n_employers": frame["employer_id"].nunique(),
        "n_employees": frame["employee_id"].nunique(),
        "n_obs": len(frame),
        "method": method,
        "df": None,
    }


def _bh(p_values: pd.Series) -> pd.Series:
    p = pd.to_numeric(p_values, errors="coerce")
    q = pd.Series(np.nan, index=p.index, dtype="float64")
    known = p.notna()
    if known.any():
        q[known] = benjamini_hochberg(p[known].to_numpy())
    return q


def event_study_table(admin: pd.DataFrame, survey: pd.DataFrame, min_n: int = MIN_CELL) -> pd.DataFrame:
    """Effects per relative month (admin) or wave (questionnaires), reference period omitted, with the
    joint pre-trend test of the administrative indicators."""
    parts = []
    indicators = [i for i in ADMIN_MONTHLY if i in admin and admin[i].notna().any()]
    if indicators and _smallest_group(admin) >= min_n:
        # the columns it needs (not the whole panel), one copy: a million rows
        columns = admin[["employee_id", "employer_id", "rel", "treated_group", *indicators]].assign(
            event_time=admin["rel"]
        )
        studies: dict[str, EventStudy | Exception] = {}
        for group in same_rows(
            admin, indicators
        ):  # together where they can share a design; a failure stays in its group
            try:
                studies |= estimate_event_studies(
                    columns,
                    group,
                    "employee_id",
                    "rel",
                    "event_time",
                    "treated_group",
                    "employer_id",
                    reference=-1,
                    window=EVENT_WINDOW,
                )
            except (ValueError, np.linalg.LinAlgError) as exc:
                studies |= dict.fromkeys(group, exc)
        parts += [_event_rows(i, studies[i]) for i in indicators]
    for ind, answers in survey.groupby("indicator_id", sort=True):
        if _smallest_group(answers) >= min_n:
            study: EventStudy | Exception
            try:
                study = estimate_wave_effects(
                    answers, "value", "employee_id", "wave", "treated_group", "employer_id", order=["t0", "t1", "t2"]
                )
            except (ValueError, np.linalg.LinAlgError) as exc:
                study = exc
            parts.append(_event_rows(str(ind), study))
    return pd.concat(parts, ignore_index=True)[EVENT_COLUMNS] if parts else pd.DataFrame(columns=EVENT_COLUMNS)


def _event_rows(indicator: str, study: EventStudy | Exception) -> pd.DataFrame:
    """The event-study rows of one indicator; one row with a `note` when it could not be estimated."""
    if isinstance(study, Exception):
        row = {c: float("nan") for c in EVENT_COLUMNS} | {
            "indicator_id": indicator,
            "reference": 0,
            "note": f"not estimable: {str(study).splitlines()[0]}",
        }
        return pd.DataFrame([row], columns=EVENT_COLUMNS)
    test, missing = study.pretrend, float("nan")
    return study.table().assign(
        indicator_id=indicator,
        reference=lambda t: t["reference"].astype(int),
        pretrend_f=test.statistic if test else missing,
        pretrend_df1=test.df1 if test else missing,
        pretrend_df2=test.df2 if test else missing,
        pretrend_p=test.p_value if test else missing,
        note="",
    )


BALANCE_COLUMNS = [
    "variable",
    "mean_intervention",
    "sd_intervention",
    "n_intervention",
    "mean_comparison",
    "sd_comparison",
    "n_comparison",
    "std_diff",
    "suppressed",
]


def baseline_balance(baseline: pd.DataFrame, variables: list[str], min_n: int = MIN_CELL) -> pd.DataFrame:
    """The balance table at baseline. A variable with fewer than `min_n` people in a group is suppressed:
    its means, SDs, standardised difference *and counts* are emptied here, before the table is stored or
    shown anywhere (a count of 3 is as telling as a mean of 3 people). No variable: no rows, same columns."""
    present = [v for v in variables if v in baseline and baseline[v].notna().any()]
    if not present:
        return pd.DataFrame({c: pd.Series(dtype="object" if c == "variable" else "float64") for c in BALANCE_COLUMNS})
    table = balance_table(baseline, "treated_group", present)
    small = ((table["n_intervention"] < min_n) | (table["n_comparison"] < min_n)).to_numpy()
    numbers = [c for c in table.columns if c != "variable" and not c.startswith("n_")]
    table.loc[small, numbers] = np.nan
    for count in ("n_intervention", "n_comparison"):
        table[count] = table[count].where(~small).astype("Int64")
    return table.assign(suppressed=small.astype(int))[BALANCE_COLUMNS]
