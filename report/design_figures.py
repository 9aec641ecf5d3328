"""Which charts a design shows, from its run's tables: the same charts in the report and in the Dagster UI.

- cohort-did: the share per cohort year and group of each per-case indicator (the primary first), and the
  Kaplan-Meier curves per group before and after the introduction;
- case-file-timeline: the timeline with each milestone's timeliness per group, and the Kaplan-Meier curves;
- feasibility-monitoring: the levels per profession and overall against their standard, the symptom courses,
  and the Kaplan-Meier curve.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from measures.designs.load import design_indicators
from measures.designs.model import StudyDesign
from measures.indicators.catalogue import labels, units
from report import design_plots as charts
from report.design_text import DESIGN_TEXT
from toc.lang import Lang, translated
from toc.load import resolve


def milestone_labels(design: StudyDesign, lang: Lang) -> dict[str, str]:
    """A milestone's label: its own, else the ToC reference date of its week."""
    dates = {d.week: translated(d, "label", lang) for t in design.tocs for d in resolve(t).reference_dates}
    out = {}
    for m in design.milestones:
        own = m.label_nl if lang == "nl" else m.label_en
        out[m.id] = own or dates.get(m.toc_week if m.toc_week is not None else int(m.due_from), m.id)
    return out


def reference_weeks(design: StudyDesign) -> list[int]:
    return sorted({d.week for t in design.tocs for d in resolve(t).reference_dates})


def design_charts(
    design: StudyDesign, tables: dict[str, pd.DataFrame], lang: Lang, start_year: int | None = None
) -> dict[str, tuple[Figure, str]]:
    """Name -> (figure, alternative text) of the charts the design shows; `start_year`: when the intervention
    started (cohort designs: the dotted line)."""
    t, names, unit = DESIGN_TEXT[lang], labels(lang), units(lang)
    out: dict[str, tuple[Figure, str]] = {}
    trends = tables.get("trends", pd.DataFrame())
    if design.design == "cohort-did":
        start = start_year or 0
        for ind in _per_person(design):
            if (trends["indicator_id"] == ind).any():
                fig = charts.cohort_figure(trends, ind, names.get(ind, ind), unit.get(ind, ""), start, lang)
                out[f"cohorts_{ind}"] = (fig, names.get(ind, ind))
    milestones = tables.get("milestones")
    if milestones is not None and len(milestones):
        fig = charts.timeline_figure(milestones, milestone_labels(design, lang), reference_weeks(design), lang)
        out["timeline"] = (fig, t["timeline"])
    if design.design == "feasibility-monitoring":
        levels = _levels(design, trends, tables.get("effects", pd.DataFrame()))
        if len(levels):
            out["levels"] = (charts.levels_figure(levels, names, unit, design.targets, lang), t["use"])
        courses = tables.get("trajectories")
        if courses is not None and len(courses):
            out["trajectories"] = (charts.trajectory_figure(courses, t, lang), t["trajectories"])
    survival = tables.get("survival")
    if survival is not None and len(survival):
        since = "inclusion" if design.time_axis == "weeks_since_inclusion" else "report"  # where the clock starts
        out["survival"] = (charts.survival_figure(survival, lang, f"axis_weeks_since_{since}"), t["survival"])
    return out


def _per_person(design: StudyDesign) -> list[str]:
    """The per-person (event) indicators, the primary first."""
    ids = [i.id for i in design_indicators(design) if (m := design.measure(i.id)) and m.kind == "event_within"]
    return sorted(ids, key=lambda i: i != design.primary_indicator)


def start_year(clusters: pd.DataFrame, design: StudyDesign) -> int | None:
    """The year the intervention's organisations started (the earliest), for the cohort charts."""
    group = design.units.group
    if group is None or "start_date" not in clusters or not len(clusters):
        return None
    starts = pd.to_datetime(clusters.loc[clusters[group] == "intervention", "start_date"])
    return int(starts.min().year) if len(starts) else None


def _levels(design: StudyDesign, trends: pd.DataFrame, effects: pd.DataFrame) -> pd.DataFrame:
    """Per monitoring indicator the level overall (from effects.csv) and per group (from trends.csv)."""
    monitored = [i.id for i in design_indicators(design) if i.source == "monitoring"]
    rows = []
    for ind in monitored:
        overall = effects.loc[effects["indicator_id"] == ind]
        if len(overall):
            r = overall.iloc[0]
            rows.append(
                {
                    "indicator_id": ind,
                    "group": "all",
                    "mean": r["estimate"],
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                }
            )
        for r in trends.loc[(trends["indicator_id"] == ind) & (trends["suppressed"] == 0)].itertuples():
            rows.append(
                {"indicator_id": ind, "group": r.group, "mean": r.mean, "ci_low": r.ci_low, "ci_high": r.ci_high}
            )
    return pd.DataFrame(rows, columns=["indicator_id", "group", "mean", "ci_low", "ci_high"])
