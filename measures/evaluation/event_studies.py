"""Effects per month relative to inclusion and per wave, with the pre-trends as a sensitivity analysis.

Administrative indicators: the event study (employee and relative-month fixed effects, event-time x
intervention dummies, reference month -1, the window binned at its ends) with its joint pre-trend test twice:
the CR1 F test (as published) and the wild cluster bootstrap p-value (`pretrend_p_wild`), which keeps its size
with few employers (it is left out when there are many in each arm, where the F test holds). And the Rambachan-Roth sensitivity of the average post-period effect
(`measures.estimation.honest`): `breakdown_m`, the largest change of slope per month (in the indicator's units)
at which its interval still excludes 0 (empty when there is no significant effect to overturn), and
`pre_curvature`, the largest such change among the pre-period coefficients. A breakdown below the pre-period's
curvature means a violation of parallel trends no larger than one already seen would overturn the conclusion:
that, not a 5 % test, is what the pipeline warns about. Questionnaire indicators: effects at t1 and t2
relative to t0. Per indicator and study the test's values repeat on each of its rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from measures.estimation.did import same_rows
from measures.estimation.estimators import many_clusters
from measures.estimation.event_study import EventStudy, estimate_event_studies, estimate_wave_effects
from measures.estimation.honest import HonestResult, honest_breakdown
from measures.estimation.inference import SEED
from measures.evaluation.results import EVENT_STUDY
from measures.evaluation.thresholds import MIN_CELL
from measures.indicators.catalogue import ADMIN_MONTHLY

#: event_study.csv's columns, declared in `measures.evaluation.results` (filled by `event_study_table`).
EVENT_COLUMNS = EVENT_STUDY.csv_columns
#: Relative months shown in the administrative event study; earlier and later months are binned.
EVENT_WINDOW = (-4, 12)
#: Bootstrap draws of the wild pre-trend test.
PRETREND_WILD_REPS = 999


def event_study_table(
    admin: pd.DataFrame, survey: pd.DataFrame, min_n: int = MIN_CELL, seed: int = SEED
) -> pd.DataFrame:
    """Effects per relative month (admin) or wave (questionnaires), reference period omitted, with the pre-trend
    tests and the honest-DiD sensitivity of the administrative indicators."""
    parts = []
    indicators = [i for i in ADMIN_MONTHLY if i in admin and admin[i].notna().any()]
    if indicators and _smallest_group(admin) >= min_n:
        studies = _admin_studies(admin, indicators, seed)
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


def _admin_studies(admin: pd.DataFrame, indicators: list[str], seed: int) -> dict[str, EventStudy | Exception]:
    # the columns it needs (not the whole panel), one copy: a million rows
    columns = admin[["employee_id", "employer_id", "rel", "treated_group", *indicators]].assign(event_time=admin["rel"])
    arms = admin.groupby("treated_group")["employer_id"].nunique().reindex([1, 0], fill_value=0)
    # with many employers in each arm the F test holds its size; the bootstrap is for few
    reps = None if many_clusters(int(arms[1]), int(arms[0])) else PRETREND_WILD_REPS
    studies: dict[str, EventStudy | Exception] = {}
    for group in same_rows(admin, indicators):  # together where they can share a design; a failure stays in its group
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
                wild_reps=reps,
                seed=seed,
            )
        except (ValueError, np.linalg.LinAlgError) as exc:
            studies |= dict.fromkeys(group, exc)
    return studies


def _smallest_group(frame: pd.DataFrame) -> int:
    return int(frame.groupby("treated_group")["employee_id"].nunique().reindex([0, 1], fill_value=0).min())


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
    honest = _honest(study) if test else None
    return study.table().assign(
        indicator_id=indicator,
        reference=lambda t: t["reference"].astype(int),
        pretrend_f=test.statistic if test else missing,
        pretrend_df1=test.df1 if test else missing,
        pretrend_df2=test.df2 if test else missing,
        pretrend_p=test.p_value if test else missing,
        pretrend_p_wild=test.p_value_wild if test and test.p_value_wild is not None else missing,
        breakdown_m=_or_missing(honest.breakdown if honest else None),
        pre_curvature=_or_missing(honest.pre_curvature if honest else None),
        note="",
    )


def _honest(study: EventStudy) -> HonestResult | None:
    try:
        return honest_breakdown(study)
    except (ValueError, np.linalg.LinAlgError):  # a solver that fails leaves the sensitivity out, not the run
        return None


def _or_missing(value: float | None) -> float:
    return float("nan") if value is None or not math.isfinite(value) else float(value)


def fragile(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per administrative indicator with a breakdown value: the breakdown, the pre-period curvature and whether
    a violation no larger than the curvature overturns the conclusion (``fragile`` 1)."""
    out = {}
    for ind, rows in table.loc[table["indicator_id"].isin(ADMIN_MONTHLY)].groupby("indicator_id", sort=True):
        first = rows.iloc[0]
        if pd.notna(first["breakdown_m"]):
            curvature = first["pre_curvature"]
            is_fragile = pd.notna(curvature) and first["breakdown_m"] < curvature
            out[str(ind)] = {
                "breakdown_m": float(first["breakdown_m"]),
                "pre_curvature": float(curvature) if pd.notna(curvature) else float("nan"),
                "fragile": float(is_fragile),
            }
    return out
