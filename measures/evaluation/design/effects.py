"""The effects of a design's run: one row per indicator (effects.csv, the same columns as the AKC pilot's) and the
estimator behind each (estimates.csv), with the toolkit's estimators and robust inference.

What is estimated follows the design and the indicator:

| design                 | per person (event, case value)        | time to an event          | questionnaire                       | process figure        |
|------------------------|---------------------------------------|---------------------------|-------------------------------------|-----------------------|
| cohort-did             | imputation DiD, cluster + cohort FE   | RMST difference-in-diff.  | DiD, answerer + wave FE             | level (intervention)  |
| case-file-timeline     | difference between the groups         | RMST difference           | DiD with a t0, else the difference  | difference or level   |
| feasibility-monitoring | level, clustered by physician         | RMST level                | change t0 -> t1, else level          | level                 |

A difference or DiD has the wild cluster bootstrap and randomisation inference of
`measures.estimation.estimators`; a level the cluster-robust mean of `measures.estimation.levels`, tested
against its benchmark (the design's target; the neutral middle of a 1-5 scale; else 0), which `method` names.
A row whose groups (or, for a level, whose people) number fewer than the minimum cell size is suppressed: its
numbers are empty and `method` says why. `q_value` adjusts within the catalogue's families, as for the pilot.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from measures.designs.load import design_indicators
from measures.designs.model import Measure, StudyDesign
from measures.estimation.errors import EstimationError
from measures.estimation.estimators import Inference, estimate_difference_robust, estimate_robust
from measures.estimation.inference import Estimate
from measures.estimation.levels import cluster_mean
from measures.estimation.restricted_mean import rmst_did, rmst_level
from measures.estimation.survival import rmst_difference
from measures.evaluation.design.frames import DesignData, event_within, monitoring_values, process_frame, survey_frame
from measures.evaluation.design.frames import time_to_event as time_frame
from measures.evaluation.effects import EffectTables, effects_frame, estimate_row, estimates_frame, row_of
from measures.indicators.catalogue import Indicator
from toc.overlay import NodeResult

#: The neutral middle of a scale a level is held against when the design names no target.
NEUTRAL = {"likert5": 3.0}
#: Estimators that give a level (or a change within people) rather than a contrast between groups.
LEVELS = ("cluster_mean", "within_change", "rmst_level")


def benchmark(design: StudyDesign, ind: Indicator) -> float:
    """What a level of `ind` is tested against: the design's target, else the scale's neutral middle, else 0."""
    return design.targets.get(ind.id, NEUTRAL.get(ind.scale, 0.0))


def held_against(design: StudyDesign, ind: Indicator, estimator: object) -> float:
    """What a row's estimate is shown against: a level its benchmark, a change within people or a contrast 0."""
    level = isinstance(estimator, str) and estimator in LEVELS and estimator != "within_change"
    return benchmark(design, ind) if level else 0.0


def result_of(design: StudyDesign, ind: Indicator, row: Mapping[str, Any]) -> NodeResult:
    """An effects.csv row as a node's result: a level shifted by its benchmark, so that "improvement" means the
    good side of the benchmark (never a level merely above zero)."""
    shift = held_against(design, ind, row.get("estimator"))

    def value(column: str) -> float | None:
        found = row.get(column)
        return None if found is None or pd.isna(found) else float(found)

    def shifted(column: str) -> float | None:
        found = value(column)
        return None if found is None else found - shift

    return NodeResult(
        indicator=ind.id,
        estimate=shifted("estimate"),
        ci_low=shifted("ci_low"),
        ci_high=shifted("ci_high"),
        lower_is_better=ind.lower_is_better,
        adjusted_p=value("q_value"),
    )


@dataclass(frozen=True)
class Plan:
    """What one indicator's estimate is computed from, and how."""

    frame: pd.DataFrame  # one row per person (answer, cluster-period), with `value` or `duration`/`event`
    fit: Callable[[], Estimate]
    estimator: str
    people: str  # the column that counts people in `frame`
    contrast: bool  # a comparison between groups (suppressed by the smaller group) or a level
    people_counted: bool = True  # False: the rows are organisations' figures, which small cells do not hide


def design_effects(data: DesignData, min_n: int, inference: Inference | None = None) -> EffectTables:
    inference = inference or Inference()
    rows, estimates = [], []
    for ind in design_indicators(data.design):
        plan = plan_for(data, ind, inference)
        if plan is None:
            continue
        fit = _guarded(plan)  # fitted once for both rows
        row = row_of(ind.id, plan.frame, min_n, fit, plan.people, "cluster", _smallest(plan))
        rows.append(row | {"n_employees": plan.frame[plan.people].nunique()})  # people, whatever the model's units
        estimates.append(estimate_row(ind.id, plan.frame, min_n, plan.estimator, fit, _smallest(plan)))
    return EffectTables(effects_frame(rows), estimates_frame(estimates))


def _smallest(plan: Plan) -> Callable[[pd.DataFrame], int]:
    def smallest(frame: pd.DataFrame) -> int:
        if not plan.people_counted:  # organisations are not people: nothing to hide (as in the trends)
            return sys.maxsize
        if not plan.contrast:
            return int(frame[plan.people].nunique())
        return int(frame.groupby("treated_group")[plan.people].nunique().reindex([0, 1], fill_value=0).min())

    return smallest


def _guarded(plan: Plan) -> Callable[[], Estimate | str]:
    """The plan's fit, made on first use (effects.csv's and estimates.csv's rows share it), or why there is none."""
    made: list[Estimate | str] = []

    def run() -> Estimate | str:
        if not made:
            try:
                made.append(plan.fit())
            except (EstimationError, ValueError, ZeroDivisionError) as exc:
                made.append(f"not estimable: {str(exc).splitlines()[0]}")
        return made[0]

    return run


def plan_for(data: DesignData, ind: Indicator, inference: Inference) -> Plan | None:
    """How the design estimates `ind` (None: no data for it in this run)."""
    measure = data.design.measure(ind.id)
    if ind.source == "process":
        return _process(data, ind)
    if ind.respondent is not None:
        return _survey(data, ind, inference)
    if measure is None:
        return None
    if measure.kind == "time_to_event":
        return _time(data, measure)
    frame = event_within(data, measure) if measure.kind == "event_within" else monitoring_values(data, measure)
    return _per_person(data, ind, frame, inference)


def _per_person(data: DesignData, ind: Indicator, frame: pd.DataFrame, inference: Inference) -> Plan | None:
    if not len(frame):
        return None
    kind = data.design.design
    if kind == "cohort-did":
        fit = lambda: _robust(frame, "person", "cohort", inference)  # noqa: E731
        return Plan(frame, fit, "imputation", "person", True)
    if kind == "case-file-timeline":
        fit = lambda: estimate_difference_robust(frame, "value", "treated_group", "cluster", inference)  # noqa: E731
        return Plan(frame, fit, "share_difference", "person", True)
    return _level(data, ind, frame, "person")


def _robust(frame: pd.DataFrame, people: str, time: str, inference: Inference) -> Estimate:
    """Imputation DiD: cluster (organisation, or answerer) and period fixed effects, treated = group x post."""
    entity = "cluster" if time == "cohort" else "unit"
    return estimate_robust(
        frame,
        ["value"],
        entity,
        time,
        "treated",
        "cluster",
        "imputation",
        assignment=("treated_group", "post"),
        inference=inference,
    )["value"]


def _level(data: DesignData, ind: Indicator, frame: pd.DataFrame, people: str, null: float | None = None) -> Plan:
    null = benchmark(data.design, ind) if null is None else null

    def fit() -> Estimate:
        est = cluster_mean(frame["value"].to_numpy(float), frame["cluster"].to_numpy(), null=null)
        return _with(est, "cluster_mean", f"{est.method}; level tested against {null:g}")

    return Plan(frame, fit, "cluster_mean", people, False)


def _time(data: DesignData, measure: Measure) -> Plan:
    frame = time_frame(data, measure)
    horizon = measure.horizon_weeks or data.design.horizon_weeks
    kind = data.design.design
    if kind == "cohort-did":
        return Plan(frame, lambda: _with(rmst_did(frame, horizon), "rmst_did"), "rmst_did", "person", True)
    if kind == "case-file-timeline":

        def fit() -> Estimate:
            found = rmst_difference(frame, "duration", "event", "treated_group", "cluster", horizon)
            return Estimate(
                found.difference,
                float("nan"),
                found.ci_low,
                found.ci_high,
                float("nan"),
                None,
                found.n_intervention + found.n_comparison,
                found.n_intervention + found.n_comparison,
                int(frame["cluster"].nunique()),
                float("nan"),
                found.method.replace("months", "weeks"),
                estimator="rmst_difference",
            )

        return Plan(frame, fit, "rmst_difference", "person", True)
    return Plan(frame, lambda: _with(rmst_level(frame, horizon), "rmst_level"), "rmst_level", "person", False)


def _survey(data: DesignData, ind: Indicator, inference: Inference) -> Plan | None:
    answers = survey_frame(data)
    answers = answers.loc[answers["indicator_id"] == ind.id]
    if not len(answers):
        return None
    baseline = answers["post"].eq(0).any() and answers["post"].eq(1).any()
    if data.design.has_groups:
        both = answers.groupby("post")["treated_group"].nunique().min() == 2
        if baseline and both:
            fit = lambda: _robust(answers, "unit", "wave", inference)  # noqa: E731
            return Plan(answers, fit, "imputation", "unit", True)
        last = answers.loc[answers["wave_index"] == answers["wave_index"].max()]
        fit = lambda: estimate_difference_robust(last, "value", "treated_group", "cluster", inference)  # noqa: E731
        return Plan(last, fit, "share_difference", "unit", True)
    if baseline:  # no comparison: the change within people from the first wave to the last
        wide = answers.pivot_table(index=["unit", "cluster", "group"], columns="wave_index", values="value")
        change = (wide[wide.columns.max()] - wide[wide.columns.min()]).dropna().rename("value").reset_index()
        plan = _level(data, ind, change, "unit", null=0.0)  # a change is held against none
        return Plan(change, lambda: _with(plan.fit(), "within_change"), "within_change", "unit", False)
    return _level(data, ind, answers, "unit")


def _process(data: DesignData, ind: Indicator) -> Plan | None:
    figures = process_frame(data)
    figures = figures.loc[figures["indicator_id"] == ind.id]
    if not len(figures):
        return None
    if data.design.has_groups and figures["treated_group"].nunique() == 2:
        per = figures.groupby(["cluster", "treated_group"], as_index=False)["value"].mean()
        fit = lambda: estimate_difference_robust(per, "value", "treated_group", "cluster")  # noqa: E731
        return Plan(per.assign(person=per["cluster"]), fit, "share_difference", "person", True, False)
    mine = figures.loc[figures["treated_group"] == 1] if data.design.has_groups else figures
    return replace(_level(data, ind, mine.assign(person=mine["cluster"]), "person"), people_counted=False)


def _with(est: Estimate, estimator: str, method: str | None = None) -> Estimate:
    return replace(est, estimator=estimator, method=method or est.method)
