"""A study's rows as the frames its analysis needs, computed as its design file says.

Rules:
- The people table (cases, participants) gives one row per person with the cluster (employer, organisation,
  physician), the group (`intervention`/`comparison`; a design without groups: the `breakdown`, or `all`), the
  start of the time axis and how the absence ended. `treated_group` is 1 in the intervention group; in a cohort
  design `cohort` is the calendar year of the start and `post` says whether it lies on or after the cluster's
  start date, `treated` = both.
- The end of the data (`data_end`) is the cut-off when there is one, else the latest date in the study's rows.
  After a cut-off, rows dated later are left out and endings after it are unknown (censored).
- `event_within`: 1 when the event happened within the window, 0 otherwise; only people whose window ended
  on or before the end of the data count, and with `absent_at_week` only those still absent then.
- `time_to_event`: weeks from the start to the event; other endings and the end of the data censor.
- Monitoring: occasions done (distinct measurement days) and due (at the chosen frequency from inclusion to the
  end of monitoring or of the data), reports, and each symptom's change from the first score to the one
  nearest `at_week`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from measures.designs.model import Event, Measure, StudyDesign

FREQUENCY_WEEKS = {"weekly": 1, "fortnightly": 2, "monthly": 4}
NO_GROUP = "all"


@dataclass(frozen=True)
class DesignData:
    """A study's rows after the cut-off, and its people as one frame."""

    design: StudyDesign
    tables: dict[str, pd.DataFrame]
    people: pd.DataFrame
    data_end: pd.Timestamp

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())


def design_data(design: StudyDesign, tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp | None) -> DesignData:
    u = design.units
    people = tables[u.people].copy()
    if cutoff is not None:
        people = people.loc[people[u.start] <= cutoff].copy()
        tables = _before(design, tables, people, cutoff)
    data_end = cutoff if cutoff is not None else _latest(design, tables)
    clusters = tables[u.clusters].set_index(u.cluster)
    frame = pd.DataFrame(
        {
            "person": people[u.person].to_numpy(),
            "cluster": people[u.cluster].to_numpy(),
            "start": pd.to_datetime(people[u.start]).to_numpy(),
        }
    )
    frame["group"] = _groups(design, clusters, frame["cluster"])
    frame["treated_group"] = (frame["group"] == "intervention").astype(int)
    for column, name in ((u.end, "end"), (u.end_reason, "end_reason")):
        frame[name] = people[column].to_numpy() if column in people else None
    frame["end"] = pd.to_datetime(frame["end"])
    if design.design == "cohort-did":
        frame["cohort"] = frame["start"].dt.year
        since = pd.to_datetime(frame["cluster"].map(clusters["start_date"]))
        frame["post"] = (frame["start"] >= since).astype(int)
        frame["treated"] = frame["treated_group"] * frame["post"]
    if u.frequency in people:
        frame["frequency"] = people[u.frequency].to_numpy()
    if "monitoring_end" in people:
        frame["monitoring_end"] = pd.to_datetime(people["monitoring_end"]).to_numpy()
    return DesignData(design, tables, frame.reset_index(drop=True), pd.Timestamp(data_end))


def _groups(design: StudyDesign, clusters: pd.DataFrame, cluster: pd.Series) -> pd.Series:
    column = design.units.group or design.units.breakdown
    if column is None:
        return pd.Series(NO_GROUP, index=cluster.index)
    return cluster.map(clusters[column]).astype(str)


def _before(
    design: StudyDesign, tables: dict[str, pd.DataFrame], people: pd.DataFrame, cutoff: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """Rows of people who started by the cut-off, dated rows up to it; endings after it become unknown."""
    u = design.units
    kept = set(people[u.person])
    out = dict(tables)
    ended_later = people[u.end] > cutoff if u.end in people else pd.Series(False, index=people.index)
    people = people.assign(**{u.end: people[u.end].where(~ended_later)}) if u.end in people else people
    if u.end_reason in people:
        people[u.end_reason] = people[u.end_reason].where(~ended_later)
    out[u.people] = people
    for name, frame in tables.items():
        if name in (u.people, u.clusters) or u.person not in frame:
            continue
        rows = frame[u.person].isin(kept)
        if "date" in frame:
            rows &= frame["date"] <= cutoff
        out[name] = frame.loc[rows]
    return out


def _latest(design: StudyDesign, tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The latest date anywhere in the study's rows about people (the data's as-of date)."""
    dates = []
    for table in design.contract.tables:
        frame = tables.get(table.name)
        if frame is None or not len(frame) or table.name == design.units.clusters:
            continue
        dates += [frame[c.name].max() for c in table.columns if c.kind == "date" and frame[c.name].notna().any()]
    return max(dates) if dates else pd.Timestamp.today().normalize()


def event_weeks(data: DesignData, event: Event) -> pd.Series:
    """Weeks from each person's start to the event (NaN: not happened, as far as the data go)."""
    people, u = data.people, data.design.units
    if event.end_reason:
        when = people["end"].where(people["end_reason"].isin(event.end_reason))
    elif event.milestone is not None:
        rows = data.table(u.milestones)
        rows = rows.loc[rows["milestone"] == event.milestone]
        when = people["person"].map(rows.groupby(u.person)["date"].min())
    else:
        column = data.table(u.people).set_index(u.person)[event.column]
        when = people["person"].map(column)
    return (pd.to_datetime(when) - people["start"]).dt.days / 7


def absent_weeks(data: DesignData) -> pd.Series:
    """Weeks each person was known to be absent: to the end of the absence, or to the end of the data."""
    people = data.people
    return (people["end"].fillna(data.data_end) - people["start"]).dt.days / 7


def event_within(data: DesignData, measure: Measure) -> pd.DataFrame:
    """The people whose window has passed (and who were still absent at `absent_at_week`), with `value` 0/1."""
    assert measure.event is not None
    window = measure.window_days / 7
    people = data.people.assign(_weeks=event_weeks(data, measure.event).to_numpy())
    complete = people["start"] + pd.to_timedelta(measure.window_days, unit="D") <= data.data_end
    keep = complete.to_numpy()
    if measure.absent_at_week is not None:
        keep &= (absent_weeks(data) >= measure.absent_at_week).to_numpy()
    value = (people["_weeks"] <= window).astype(float)
    return people.loc[keep].assign(value=value[keep]).drop(columns="_weeks").reset_index(drop=True)


def time_to_event(data: DesignData, measure: Measure) -> pd.DataFrame:
    """Per person `duration` (weeks) and `event` (1: the event; 0: censored by another ending or the data)."""
    assert measure.event is not None
    weeks = event_weeks(data, measure.event)
    followed = absent_weeks(data)
    event = weeks.notna()
    duration = weeks.where(event, followed).clip(lower=0)
    return data.people.assign(duration=duration.to_numpy(), event=event.astype(int).to_numpy())


def monitoring_values(data: DesignData, measure: Measure) -> pd.DataFrame:
    """Per person the value of a monitoring measure (adherence, measurements, feedback, symptom_change)."""
    people, u = data.people, data.design.units
    if measure.kind == "feedback":
        reports = data.table(u.feedback).groupby(u.person).size()
        return people.assign(value=people["person"].map(reports).fillna(0).astype(float).to_numpy())
    occasions = data.table(u.measurements).groupby(u.person)["date"].nunique()
    done = people["person"].map(occasions).fillna(0).astype(float)
    if measure.kind == "measurements":
        return people.assign(value=done.to_numpy())
    if measure.kind == "adherence":
        return people.assign(value=np.minimum(done / _due(data), 1.0).to_numpy())
    change = symptom_changes(data, measure).groupby("person")["change"].mean()
    return people.assign(value=people["person"].map(change).to_numpy()).dropna(subset=["value"])


def _due(data: DesignData) -> pd.Series:
    """Occasions due at the chosen frequency, from inclusion (the first) to the end of monitoring or data."""
    people = data.people
    end = people["monitoring_end"].fillna(data.data_end) if "monitoring_end" in people else data.data_end
    weeks = (pd.to_datetime(end) - people["start"]).dt.days.clip(lower=0) / 7
    step = people["frequency"].map(FREQUENCY_WEEKS).astype(float)
    return np.floor(weeks / step + 1e-9) + 1


def symptom_scores(data: DesignData) -> pd.DataFrame:
    """Every measurement with the person's group and the week since inclusion."""
    u, design = data.design.units, data.design
    rows = data.table(u.measurements)
    people = data.people.set_index("person")
    frame = pd.DataFrame(
        {
            "person": rows[u.person].to_numpy(),
            "symptom": rows[design.symptoms_column].to_numpy(),
            "score": rows["score"].to_numpy(dtype=float),
            "date": pd.to_datetime(rows["date"]).to_numpy(),
        }
    )
    frame["cluster"] = frame["person"].map(people["cluster"])
    frame["group"] = frame["person"].map(people["group"])
    frame["week"] = (frame["date"] - frame["person"].map(people["start"])).dt.days / 7
    return frame.dropna(subset=["cluster"])


def symptom_changes(data: DesignData, measure: Measure) -> pd.DataFrame:
    """Per person and symptom: the score nearest `at_week` (within `window_weeks`) minus the first score."""
    assert measure.at_week is not None
    scores = symptom_scores(data).sort_values(["person", "symptom", "week"], kind="stable")
    first = scores.groupby(["person", "symptom"]).first()
    near = scores.assign(_gap=(scores["week"] - measure.at_week).abs())
    near = near.loc[near["_gap"] <= measure.window_weeks].sort_values("_gap", kind="stable")
    later = near.groupby(["person", "symptom"]).first()
    joined = first[["score"]].join(later[["score"]], rsuffix="_later", how="inner")
    joined = joined.loc[joined.index.isin(later.index)]
    out = (joined["score_later"] - joined["score"]).rename("change").reset_index()
    return out.merge(first[["cluster", "group"]].reset_index(), on=["person", "symptom"])


def survey_frame(data: DesignData) -> pd.DataFrame:
    """Answers with the answerer, cluster, group and `post` (a wave after the first)."""
    answers, u = data.table("survey"), data.design.units
    if not len(answers):
        return pd.DataFrame(columns=["answerer", "cluster", "group", "wave", "indicator_id", "value"])
    waves = list(data.design.contract.by_name["survey"].column("wave").values)
    clusters = data.table(u.clusters).set_index(u.cluster)
    cluster = (
        answers[u.cluster]
        if u.cluster in answers
        else answers[u.person].map(data.people.set_index("person")["cluster"])
    )
    frame = pd.DataFrame(
        {
            "answerer": answers[u.answerer].to_numpy(),
            "cluster": cluster.to_numpy(),
            "wave": answers["wave"].to_numpy(),
            "respondent": answers["respondent"].to_numpy(),
            "indicator_id": answers["indicator_id"].to_numpy(),
            "value": answers["value"].to_numpy(dtype=float),
        }
    )
    frame["group"] = _groups(data.design, clusters, frame["cluster"]).to_numpy()
    frame["treated_group"] = (frame["group"] == "intervention").astype(int)
    frame["wave_index"] = frame["wave"].map({w: i for i, w in enumerate(waves)})
    frame["post"] = (frame["wave_index"] > 0).astype(int)
    frame["treated"] = frame["treated_group"] * frame["post"]
    # an answer is one person's answer at one wave: the answerer id joined with the respondent role
    frame["unit"] = frame["answerer"].astype(str) + "|" + frame["respondent"].astype(str)
    return frame


def process_frame(data: DesignData) -> pd.DataFrame:
    """Process figures per cluster and period with the cluster's group."""
    rows, u = data.table("process"), data.design.units
    if not len(rows):
        return pd.DataFrame(columns=["cluster", "period", "indicator_id", "value", "group"])
    clusters = data.table(u.clusters).set_index(u.cluster)
    frame = pd.DataFrame(
        {
            "cluster": rows[u.cluster].to_numpy(),
            "period": rows[u.period].astype("Int64").to_numpy(),
            "indicator_id": rows["indicator_id"].to_numpy(),
            "value": rows["value"].to_numpy(dtype=float),
        }
    )
    frame["group"] = _groups(data.design, clusters, frame["cluster"]).to_numpy()
    frame["treated_group"] = (frame["group"] == "intervention").astype(int)
    return frame
