"""What a design's report and UI describe, per group: trends, the timeline's milestones, symptom trajectories.

Every table here is suppressed before it leaves: a cell of fewer people than the minimum cell size keeps
its row with `suppressed` = 1 and empty numbers.

- Trends (trends.csv): per indicator, group and period the mean with a descriptive t interval and n, the
  periods being the cohort years (cohort design), the waves (questionnaires), the years (process figures) or
  `all` (one value per person).
- Milestones (milestones.csv): per milestone of the timeline and group, among the cases still absent in the
  milestone's population week whose deadline lies before the end of the data: the share that took the step
  by its deadline (Wilson interval), the share that took it at all, and the quartiles of the week in which
  those who took it did so.
- Trajectories (trajectories.csv): per symptom, group and two-week period since inclusion, the mean score of
  the people measured then (each person's mean within the period), with an interval clustered by physician.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from measures.designs.load import design_indicators
from measures.designs.model import Event, StudyDesign
from measures.estimation.errors import EstimationError
from measures.estimation.inference import t_quantile
from measures.estimation.levels import cluster_mean, wilson_interval
from measures.estimation.survival import kaplan_meier
from measures.evaluation.design.frames import (
    DesignData,
    absent_weeks,
    event_weeks,
    event_within,
    monitoring_values,
    process_frame,
    survey_frame,
    symptom_scores,
    time_to_event,
)
from measures.evaluation.results import MILESTONES, SURVIVAL, TRAJECTORIES, TRENDS
from measures.evaluation.suppression import suppress_small_cells
from measures.evaluation.trends import sort_trends

#: Width of a trajectory's periods, in weeks.
TRAJECTORY_WEEKS = 2


def design_trends(
    values: dict[str, tuple[pd.DataFrame, str]], min_n: int, organisations: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """`values`: indicator -> (a frame with `group`, `value` and the period column, the period column's name).
    Indicators in `organisations` count organisations, not people: their cells are not suppressed."""
    parts = []
    for indicator, (frame, period) in values.items():
        if not len(frame):
            continue
        stats_ = frame.dropna(subset=["value"]).groupby(["group", period], sort=True)["value"]
        table = stats_.agg(mean="mean", sd="std", n="count").reset_index()
        half = _half_width(table["sd"], table["n"])
        table = table.assign(ci_low=table["mean"] - half, ci_high=table["mean"] + half, indicator_id=indicator)
        table = table.assign(period=table[period].astype(str))
        floor = 1 if indicator in organisations else min_n
        parts.append(suppress_small_cells(table, n="n", values=("mean", "ci_low", "ci_high"), min_n=floor))
    if not parts:
        return pd.DataFrame(columns=TRENDS.csv_columns)
    return sort_trends(pd.concat(parts, ignore_index=True)[TRENDS.csv_columns])


def trend_values(data: DesignData) -> dict[str, tuple[pd.DataFrame, str]]:
    """Per indicator of the design, the values its trends summarise and their period column: one value per
    person per cohort year (cohort design) or overall (`all`), answers per wave, process figures per year. Times
    to an event are not summarised here (their curves are: `survival.csv`)."""
    design, out = data.design, {}
    period = "cohort" if design.design == "cohort-did" else "period"
    for ind in design_indicators(design):
        measure = design.measure(ind.id)
        if ind.source == "process":
            figures = process_frame(data)
            out[ind.id] = (figures.loc[figures["indicator_id"] == ind.id], "period")
        elif ind.respondent is not None:
            answers = survey_frame(data)
            out[ind.id] = (answers.loc[answers["indicator_id"] == ind.id], "wave")
        elif measure is not None and measure.kind == "event_within":
            out[ind.id] = (event_within(data, measure).assign(period="all"), period)
        elif measure is not None and measure.kind != "time_to_event":
            out[ind.id] = (monitoring_values(data, measure).assign(period="all"), "period")
    return out


def _half_width(sd: pd.Series, n: pd.Series) -> pd.Series:
    return t_quantile(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)


def milestone_table(data: DesignData, min_n: int) -> pd.DataFrame:
    """Timeliness per milestone and group (see the module docstring)."""
    rows = []
    followed = absent_weeks(data)
    for milestone in data.design.milestones:
        weeks = event_weeks(data, Event(milestone=milestone.id))
        due = data.people["start"] + pd.to_timedelta(milestone.week * 7, unit="D") <= data.data_end
        population = (followed >= milestone.population_week) & due
        for group in sorted(data.people["group"].unique()):
            mine = population & (data.people["group"] == group)
            reached = weeks[mine].dropna()
            n, on_time = int(mine.sum()), int((weeks[mine] <= milestone.week).sum())
            low, high = wilson_interval(on_time, n)
            quartiles = reached.quantile([q / 4 for q in (1, 2, 3)]).to_numpy() if len(reached) else [np.nan] * 3
            rows.append(
                {
                    "milestone": milestone.id,
                    "group": group,
                    "due_from_week": milestone.due_from,
                    "due_week": milestone.week,
                    "population_week": milestone.population_week,
                    "n": n,
                    "on_time": on_time / n if n else np.nan,
                    "ci_low": low,
                    "ci_high": high,
                    "reached": len(reached) / n if n else np.nan,
                    "q1_week": quartiles[0],
                    "median_week": quartiles[1],
                    "q3_week": quartiles[2],
                }
            )
    table = pd.DataFrame(rows, columns=[c for c in MILESTONES.column_names if c != "suppressed"])
    shown = ("on_time", "ci_low", "ci_high", "reached", "q1_week", "median_week", "q3_week")
    return suppress_small_cells(table, n="n", values=shown, min_n=min_n)[MILESTONES.column_names]


def trajectories(data: DesignData, min_n: int) -> pd.DataFrame:
    """Mean score per symptom, group and two-week period (see the module docstring)."""
    scores = symptom_scores(data)
    columns = [c for c in TRAJECTORIES.column_names if c != "suppressed"]
    if not len(scores):
        return pd.DataFrame(columns=TRAJECTORIES.column_names)
    scores = scores.assign(week=(scores["week"] // TRAJECTORY_WEEKS) * TRAJECTORY_WEEKS)
    people = scores.groupby(["symptom", "group", "week", "person", "cluster"], sort=True)["score"].mean().reset_index()
    rows = []
    for (symptom, group, week), cell in people.groupby(["symptom", "group", "week"], sort=True):
        row = {"symptom": symptom, "group": group, "week": float(week), "n": len(cell)}
        try:
            fit = cluster_mean(cell["score"].to_numpy(), cell["cluster"].to_numpy())
            row |= {"mean": fit.estimate, "ci_low": fit.ci_low, "ci_high": fit.ci_high}
        except EstimationError:  # one physician's employees only: a mean without a clustered interval
            row |= {"mean": float(cell["score"].mean())}
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=columns)
    return suppress_small_cells(table, n="n", values=("mean", "ci_low", "ci_high"), min_n=min_n)[
        TRAJECTORIES.column_names
    ]


def organisation_indicators(design: StudyDesign) -> frozenset[str]:
    """The design's indicators that count organisations (process figures), not people."""
    return frozenset(i.id for i in design_indicators(design) if i.source == "process")


def survival_table(data: DesignData, min_n: int) -> pd.DataFrame:
    """Kaplan-Meier "not yet back" per week for each time-to-event indicator, per group (and before/after in a
    cohort design); points with fewer people at risk than `min_n` are left out."""
    parts = []
    for indicator, measure in data.design.measures.items():
        if measure.kind != "time_to_event":
            continue
        frame = time_to_event(data, measure)
        periods = (
            frame["post"].map({0: "before", 1: "after"}) if "post" in frame else pd.Series("all", index=frame.index)
        )
        for (group, period), part in frame.groupby([frame["group"], periods], sort=True):
            curve = kaplan_meier(part["duration"].to_numpy(float), part["event"].to_numpy(int))
            table = curve.table(str(group)).rename(columns={"time": "week"})
            parts.append(table.assign(indicator_id=indicator, period=period))
    if not parts:
        return pd.DataFrame(columns=SURVIVAL.column_names)
    table = pd.concat(parts, ignore_index=True)
    return table.loc[table["at_risk"] >= min_n, SURVIVAL.column_names].reset_index(drop=True)
