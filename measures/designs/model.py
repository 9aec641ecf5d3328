"""A study design as data: one YAML file under `studies/` (like a ToC under `toc/data/`), no Python.

A design names the ToC(s) it evaluates, its indicators (from the catalogue), its data contract, its design
(`pilot-did`, `cohort-did`, `case-file-timeline`, `feasibility-monitoring`), its time axis and its primary
indicator, and says how each indicator is computed from the contract's tables:

- questionnaire indicators (catalogue source `questionnaire_*`) are rows of the contract's `survey` table,
  process indicators (source `process`) rows of its `process` table: nothing more to say;
- case-file and monitoring indicators name a `measure` (`event_within`, `time_to_event`, `adherence`,
  `measurements`, `feedback`, `symptom_change`) and its parameters.

The model checks what one file can check on its own; `measures.designs.load` checks it against the ToCs, the
catalogue and its contract.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from measures.contract.tables import Contract

DesignKind = Literal["pilot-did", "cohort-did", "case-file-timeline", "feasibility-monitoring"]
TimeAxis = Literal["months_since_inclusion", "cohort_year", "wvp_weeks", "weeks_since_inclusion"]
#: The time axis each design runs on.
AXES: dict[str, str] = {
    "pilot-did": "months_since_inclusion",
    "cohort-did": "cohort_year",
    "case-file-timeline": "wvp_weeks",
    "feasibility-monitoring": "weeks_since_inclusion",
}
MeasureKind = Literal["event_within", "time_to_event", "adherence", "measurements", "feedback", "symptom_change"]
DESIGN_ID = r"^[a-z][a-z0-9-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(_Strict):
    """When something happened to a person, from exactly one source: the end of the absence with one of
    `end_reason`, a `milestone` of the milestones table, or a date `column` of the people table."""

    end_reason: tuple[str, ...] = ()
    milestone: str | None = None
    column: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Event:
        if sum((bool(self.end_reason), self.milestone is not None, self.column is not None)) != 1:
            raise ValueError("an event has exactly one of end_reason, milestone or column")
        return self


class Measure(_Strict):
    """How a case-file or monitoring indicator is computed from the contract's tables.

    - `event_within`: 1 when `event` happened within `weeks` (or `days`) of the person's start, else 0; only
      people whose window lies before the end of the data count; with `absent_at_week`, only those still
      absent then (a talk due in week 16 concerns those still absent in week 16).
    - `time_to_event`: weeks from the start to `event`; other endings and the end of the data censor. Its
      value is the restricted mean time within `horizon_weeks` (Kaplan-Meier).
    - `adherence`: measurement occasions done / due at the person's chosen frequency, per person (at most 1).
    - `measurements`, `feedback`: measurement occasions, feedback reports per person.
    - `symptom_change`: a person's score at `at_week` (the measurement nearest to it, within `window_weeks`)
      minus the first score, averaged over the person's monitored symptoms.
    """

    kind: MeasureKind
    event: Event | None = None
    weeks: float | None = Field(None, gt=0)
    days: int | None = Field(None, gt=0)
    absent_at_week: float | None = Field(None, ge=0)
    horizon_weeks: float | None = Field(None, gt=0)
    at_week: float | None = Field(None, gt=0)
    window_weeks: float = Field(2, gt=0)

    @model_validator(mode="after")
    def _parameters(self) -> Measure:
        needs = {
            "event_within": ("event",),
            "time_to_event": ("event", "horizon_weeks"),
            "symptom_change": ("at_week",),
        }.get(self.kind, ())
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} measure needs {', '.join(missing)}")
        if self.kind == "event_within" and (self.weeks is None) == (self.days is None):
            raise ValueError("an event_within measure needs exactly one of weeks or days")
        return self

    @property
    def window_days(self) -> float:
        """The window of an `event_within` measure in days."""
        return float(self.days) if self.days is not None else float(self.weeks or 0) * 7


class Milestone(_Strict):
    """A step on the case-file timeline: a value of the milestones table, due by `week` (from `from_week` when
    it has a window, e.g. the second track in weeks 53-57), counted from the sick report. Its label is the ToC's
    reference date for `toc_week` (default: `from_week`, else `week`) unless given here."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    week: float = Field(gt=0)
    from_week: float | None = Field(None, gt=0)
    toc_week: int | None = None
    label_nl: str = ""
    label_en: str = ""
    absent_at_week: float | None = Field(
        None, ge=0, description="Only cases still absent in this week are due (default: where the window opens)."
    )

    @property
    def due_from(self) -> float:
        """Where the window opens: `from_week`, else the ToC's planned week, else the deadline itself."""
        if self.from_week is not None:
            return self.from_week
        return float(self.toc_week) if self.toc_week is not None else self.week

    @property
    def population_week(self) -> float:
        return self.absent_at_week if self.absent_at_week is not None else self.due_from


class Units(_Strict):
    """Which tables and columns of the contract play which part: the clusters (employers, organisations,
    physicians; inference is clustered by them), the people followed, the day their time axis starts, and the
    clusters' group column (none: a design without a comparison group)."""

    clusters: str = "employers"
    cluster: str = "employer_id"
    people: str = "cases"
    person: str = "employee_id"
    start: str = "absence_start"
    group: str | None = "group"
    breakdown: str | None = Field(None, description="A column of the clusters shown as groups instead (no contrast).")
    answerer: str = Field("employee_id", description="Who answers in the survey table (its person column).")
    period: str = Field("year", description="The period column of the process table.")
    milestones: str = "milestones"
    measurements: str = "measurements"
    feedback: str = "feedback"
    frequency: str = "frequency"
    end: str = "end_date"
    end_reason: str = "end_reason"


class SeedNote(_Strict):
    """What the seed text asked for: the file, a verbatim quote, and the request in our words."""

    file: str
    quote: str
    asks_nl: str
    asks_en: str


class StudyDesign(_Strict):
    id: str = Field(pattern=DESIGN_ID)
    title_nl: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    design: DesignKind
    time_axis: TimeAxis
    tocs: tuple[str, ...] = Field(min_length=1)
    primary_indicator: str
    indicators: tuple[str, ...] = Field((), description="Empty: every catalogue indicator of the ToCs.")
    seed: tuple[SeedNote, ...] = ()
    units: Units = Units()
    measures: dict[str, Measure] = Field(default_factory=dict)
    milestones: tuple[Milestone, ...] = ()
    symptoms_column: str = "symptom"
    horizon_weeks: float = Field(52, gt=0, description="Follow-up of the time-to-event curves.")
    targets: dict[str, float] = Field(
        default_factory=dict, description="Levels a feasibility indicator is held against (no comparison group)."
    )
    simulation: dict[str, Any] = Field(default_factory=dict, description="Defaults of `pilot simulate --design`.")
    contract: Contract

    @model_validator(mode="after")
    def _axis_fits_design(self) -> StudyDesign:
        if AXES[self.design] != self.time_axis:
            raise ValueError(f"a {self.design} design runs on the time axis {AXES[self.design]}, not {self.time_axis}")
        if self.milestones and self.design != "case-file-timeline":
            raise ValueError("milestones belong to a case-file-timeline design")
        return self

    @property
    def has_groups(self) -> bool:
        return self.units.group is not None

    def measure(self, indicator: str) -> Measure | None:
        return self.measures.get(indicator)
