"""Simulated absence cases of the cohort design (Passend Werk) and the case-file designs (Eigen Regie, the
second track), with planted effects.

Cohorts (`cohort-did`): organisations × calendar years of sick reports; whether a case returns to work within
12 months is a linear probability: the comparison's share, the intervention organisations' gap, a common trend
per year, an organisation effect and the planted effect after the organisation's start. A case that returns
within 12 months does so after a skewed number of days; one that does not returns later, leaves, or enters the
WIA. Later endings and those after the end of the data are censored (no end date).

Case files (`case-file-timeline`): cases of organisations with and without the intervention, absent for at
least `min_weeks_absent` weeks; each milestone of the design is reached by the cases still absent in its
population week: `early` (before its window; e.g. the second track in the first year), `on_time` (within its
window) or late or never, with one chance per group (comparison, intervention). Outcomes are drawn once per
case and shared by both potential outcomes, so a milestone's sample effect on the treated is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from measures.designs.model import Milestone, StudyDesign
from measures.evaluation.design.simulate import (
    DesignDrop,
    days_between,
    organisations,
    process_figures,
    survey_answers,
)
from toc.load import resolve

WEEK = pd.Timedelta(days=7)


def simulate_cohorts(design: StudyDesign, params: dict[str, Any], rng: np.random.Generator) -> DesignDrop:
    employers = organisations(params, params["start_date"], rng)
    cases, att = _cohort_cases(employers, params, rng)
    managers = _managers(employers, int(params.get("managers_per_employer", 6)))
    treated = (managers["group"] == "intervention").to_numpy()
    survey, survey_att = survey_answers(design, managers, treated, params, rng)
    years = [int(y) for y in params["cohorts"]]
    tables = {
        "employers": employers,
        "activities": _activities(design, employers),
        "cases": cases,
        "process": process_figures(design, employers, years, rng),
        "survey": survey,
    }
    effect = float(att)
    return DesignDrop(_present(design, tables), {"effect": effect, "att": {"rtw_12m_case": effect, **survey_att}})


def _cohort_cases(
    employers: pd.DataFrame, params: dict[str, Any], rng: np.random.Generator
) -> tuple[pd.DataFrame, float]:
    years = [int(y) for y in params["cohorts"]]
    per = float(params["cases_per_employer_year"])
    org_effect = rng.normal(0, 0.04, len(employers))
    rows = []
    for j, org in enumerate(employers.itertuples()):
        for year in years:
            n = int(rng.poisson(per))
            starts = days_between(f"{year}-01-01", f"{year}-12-31", n, rng)
            rows.append(pd.DataFrame({"employer_id": org.employer_id, "absence_start": starts, "_org": j}))
    cases = pd.concat(rows, ignore_index=True)
    intervention = (employers["group"].to_numpy() == "intervention")[cases["_org"]]
    post = (cases["absence_start"] >= employers["start_date"].to_numpy()[cases["_org"]]).to_numpy()
    trend = float(params.get("trend_per_year", 0.0)) * (cases["absence_start"].dt.year.to_numpy() - years[0])
    p0 = float(params["rtw_share"]) + float(params.get("intervention_gap", 0.0)) * intervention
    p0 = np.clip(p0 + trend + org_effect[cases["_org"]], 0.05, 0.9)
    treated = intervention & post
    p1 = np.clip(p0 + float(params["effect"]) * treated, 0.0, 0.95)
    u = rng.random(len(cases))
    y0, y1 = u < p0, u < p1
    data_end = pd.Timestamp(params["data_end"])
    complete = (cases["absence_start"] + pd.Timedelta(days=365) <= data_end).to_numpy()
    att = (
        float(np.mean(y1[treated & complete].astype(float) - y0[treated & complete]))
        if (treated & complete).any()
        else 0.0
    )
    ends = _endings(cases["absence_start"], y1, data_end, rng)
    offer = _offers(cases["absence_start"], ends["end_date"], treated, rng)
    cases = cases.assign(**ends, passend_werk_aangeboden=offer)
    cases["employee_id"] = [f"pw_{i:05d}" for i in range(len(cases))]
    return cases.drop(columns="_org"), att


def _endings(start: pd.Series, returned: np.ndarray, data_end: pd.Timestamp, rng: np.random.Generator) -> dict:
    """End date and reason: a return within 12 months after a skewed number of days; otherwise a later return,
    an exit or the WIA after the first year; censored at the end of the data."""
    n = len(start)
    early = 7 + np.minimum(rng.gamma(1.6, 60.0, n), 357)
    late = 366 + rng.gamma(2.0, 90.0, n)
    days = np.where(returned, early, late)
    later = rng.choice(["return_to_work", "exit", "wia"], size=n, p=np.array([11, 5, 4]) / 20)
    reason = np.where(returned, "return_to_work", later)
    end = start + pd.to_timedelta(np.round(days), unit="D")
    censored = (end > data_end).to_numpy()
    return {
        "end_date": end.where(~censored, pd.NaT),
        "end_reason": pd.Series(reason, dtype=object).where(~censored, None),
    }


def _offers(start: pd.Series, end: pd.Series, treated: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """The first offer of suitable work: within 6 weeks more often after the intervention started."""
    n = len(start)
    early = rng.random(n) < 0.3 + 0.2 * treated
    days = np.where(early, rng.integers(5, 42, n), rng.integers(43, 200, n))
    offered = start + pd.to_timedelta(days, unit="D")
    keep = (rng.random(n) < 0.85) & (end.isna() | (offered < end)).to_numpy()
    return offered.where(keep, pd.NaT)


def _managers(employers: pd.DataFrame, per: int) -> pd.DataFrame:
    rows = [
        {"manager_id": f"{org.employer_id}_L{k + 1}", "employer_id": org.employer_id, "group": org.group}
        for org in employers.itertuples()
        for k in range(per)
    ]
    return pd.DataFrame(rows)


def simulate_case_files(design: StudyDesign, params: dict[str, Any], rng: np.random.Generator) -> DesignDrop:
    employers = organisations(params, params["first_sick_report"], rng)
    cases = _case_files(employers, params, rng)
    intervention = (cases["group"] == "intervention").to_numpy()
    data_end = pd.Timestamp(params["data_end"])
    milestones, milestone_att = _milestones(design, cases, intervention, params, data_end, rng)
    effects = {design.primary_indicator: float(params["effect"])} if design.primary_indicator else {}
    survey, survey_att = survey_answers(design, cases, intervention, params, rng, effects)
    years = sorted({d.year for d in cases["absence_start"]})
    tables = {
        "employers": employers,
        "activities": _activities(design, employers),
        "cases": cases,
        "milestones": milestones,
        "process": process_figures(design, employers, years, rng),
        "survey": survey,
    }
    att = milestone_att | survey_att
    return DesignDrop(_present(design, tables), {"effect": att.get(design.primary_indicator, 0.0), "att": att})


def _case_files(employers: pd.DataFrame, params: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    k = len(employers)
    n = int(params["case_files"]) if "case_files" in params else int(params["cases_per_employer"]) * k
    org = np.sort(rng.integers(0, k, n)) if "case_files" in params else np.repeat(np.arange(k), n // k)
    start = days_between(params["first_sick_report"], params["last_sick_report"], len(org), rng)
    minimum = float(params.get("min_weeks_absent", 2))
    weeks = minimum + rng.gamma(1.3, float(params.get("mean_weeks_absent", 20)) / 1.3, len(org))
    reasons = params.get("end_reasons", {"return_to_work": 0.85, "exit": 0.1, "wia": 0.05})
    reason = rng.choice(list(reasons), size=len(org), p=np.array(list(reasons.values())) / sum(reasons.values()))
    end = start + pd.to_timedelta(np.round(weeks * 7), unit="D")
    censored = (end > pd.Timestamp(params["data_end"])).to_numpy()
    return pd.DataFrame(
        {
            "employee_id": [f"cf_{i:05d}" for i in range(len(org))],
            "employer_id": employers["employer_id"].to_numpy()[org],
            "group": employers["group"].to_numpy()[org],
            "absence_start": start,
            "end_date": end.where(~censored, pd.NaT),
            "end_reason": pd.Series(reason, dtype=object).where(~censored, None),
            "_weeks": weeks,
        }
    )


def _milestones(
    design: StudyDesign,
    cases: pd.DataFrame,
    intervention: np.ndarray,
    params: dict[str, Any],
    data_end: pd.Timestamp,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, dict[str, float]]:
    chances = params.get("milestones", {})
    frames, att = [], {}
    weeks_absent = cases["_weeks"].to_numpy()
    for milestone in design.milestones:
        setting = chances.get(milestone.id, {})
        week0, week1 = _milestone_weeks(milestone, setting, intervention, weeks_absent, rng)
        frames.append(_dated(cases, milestone, week1, data_end))
        for indicator, measure in design.measures.items():
            event = measure.event
            if event is not None and event.milestone == milestone.id and measure.kind == "event_within":
                due = measure.window_days / 7
                eligible = intervention & (weeks_absent >= (measure.absent_at_week or 0))
                eligible &= cases["absence_start"] + pd.to_timedelta(measure.window_days, unit="D") <= data_end
                y1, y0 = (week1 <= due)[eligible], (week0 <= due)[eligible]
                att[indicator] = float(np.mean(y1.astype(float) - y0)) if eligible.any() else 0.0
    columns = design.contract.by_name[design.units.milestones].column_names
    return pd.concat(frames, ignore_index=True)[columns], att


def _milestone_weeks(
    milestone: Milestone, setting: dict, intervention: np.ndarray, weeks_absent: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The week each case reaches the milestone without (0) and with (1) the intervention; inf: never (or after
    the absence ended). Per group (comparison, intervention): the chance of `early` (from the population week
    to the window), `on_time` (in the window) and, of the rest, `never` (the others are late)."""
    n = len(intervention)
    early, on_time = (np.array(setting.get(k, d), dtype=float) for k, d in (("early", [0, 0]), ("on_time", [0.7, 0.8])))
    never = np.array(setting.get("never", [0.15, 0.15]), dtype=float)
    u, v = rng.random(n), rng.random(n)
    lo = _window_start(milestone)
    first = min(milestone.population_week, lo)
    early_week = rng.uniform(first, max(lo - 1, first), n)
    timely_week = rng.uniform(lo, milestone.week, n)
    late_week = milestone.week + rng.exponential(6.0, n)
    result = []
    for arm in (0, 1):
        week = np.where(u < early[arm], early_week, np.where(u < early[arm] + on_time[arm], timely_week, late_week))
        week = np.where((u >= early[arm] + on_time[arm]) & (v < never[arm]), np.inf, week)
        result.append(np.where(week <= weeks_absent, week, np.inf))
    without, with_ = result
    return without, np.where(intervention, with_, without)


def _window_start(milestone: Milestone) -> float:
    """Where a milestone's window opens: its `from_week`, else a week before its ToC date, else two weeks before
    it is due."""
    if milestone.from_week is not None:
        return milestone.from_week
    if milestone.toc_week is not None:
        return max(milestone.toc_week - 1.0, 0.5)
    return max(milestone.week - 2.0, 0.5)


def _dated(cases: pd.DataFrame, milestone: Milestone, weeks: np.ndarray, data_end: pd.Timestamp) -> pd.DataFrame:
    reached = np.isfinite(weeks) & (weeks >= 0)
    dates = cases["absence_start"] + pd.to_timedelta(np.round(np.where(reached, weeks, 0) * 7), unit="D")
    reached &= (dates <= data_end).to_numpy()
    frame = cases.loc[reached, ["employee_id", "employer_id"]]
    return frame.assign(milestone=milestone.id, date=dates[reached].to_numpy())


def _activities(design: StudyDesign, employers: pd.DataFrame) -> pd.DataFrame:
    """Intervention organisations use every activity of the design's ToC(s) from their start."""
    table = design.contract.by_name.get("activities")
    if table is None:
        return pd.DataFrame()
    activities = [n.id for toc in design.tocs for n in resolve(toc).nodes_in("activity")]
    rows = [
        {"employer_id": org.employer_id, "activity_id": a, "start_date": org.start_date}
        for org in employers.itertuples()
        if org.group == "intervention"
        for a in activities
    ]
    return pd.DataFrame(rows, columns=table.column_names)


def _present(design: StudyDesign, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables the design's contract has, in its order."""
    return {t.name: tables[t.name] for t in design.contract.tables if t.name in tables}
