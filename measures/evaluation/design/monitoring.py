"""A simulated feasibility study of the symptom monitor (seed 000, project I), with planted use and course.

Physicians of each profession (five occupational, five insurance physicians by default) each include ten
employees over the inclusion period. Each employee chooses, with the physician, one to four symptoms and a
frequency (weekly, fortnightly, monthly) and is monitored for `monitoring_weeks`. Every agreed occasion is
measured with the employee's own chance: the planted `adherence`, varied by physician and employee; what
`truth.json` calls the effect is the sample mean of those chances (the level the study estimates). A symptom's
score starts around 6 (0-10) and changes by `weekly_change` a week, with noise, rounded onto the scale. The
tool makes a feedback report every four weeks of monitoring; absences end with a return to work or otherwise
at a skewed time; questionnaires at inclusion (t0) and at the end of monitoring (t1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from measures.designs.model import StudyDesign
from measures.evaluation.design.simulate import DesignDrop, days_between, survey_answers

#: Weeks between the occasions of each frequency.
FREQUENCY_WEEKS = {"weekly": 1, "fortnightly": 2, "monthly": 4}
#: The chance that an employee monitors each symptom (at least one is monitored).
SYMPTOM_CHANCE = {"fatigue": 0.85, "pain": 0.6, "sleep": 0.55, "psychological": 0.45, "cognitive": 0.3}
FEEDBACK_WEEKS = 4


def simulate_monitoring(design: StudyDesign, params: dict[str, Any], rng: np.random.Generator) -> DesignDrop:
    professionals = _professionals(params)
    participants = _participants(professionals, params, rng)
    chance = _chances(participants, professionals, params, rng)
    symptoms = _symptoms(participants, rng)
    measurements = _measurements(participants, symptoms, chance, params, rng)
    feedback = _feedback(participants, params, rng)
    nobody = np.zeros(len(participants), dtype=bool)  # no comparison group: nothing is "treated"
    survey, _ = survey_answers(design, participants, nobody, params, rng)
    tables = {
        "professionals": professionals,
        "participants": participants.drop(columns=["followed_days"]),
        "symptoms": symptoms,
        "measurements": measurements,
        "feedback": feedback,
        "survey": survey,
    }
    effect = float(np.mean(chance))
    planted = {"symptom_change_at_12_weeks": float(params["weekly_change"]) * 12}
    return DesignDrop(tables, {"effect": effect, "att": {"sm_therapietrouw": effect}, "planted": planted})


def _professionals(params: dict[str, Any]) -> pd.DataFrame:
    rows, k = [], 0
    for profession, count in params["professionals"].items():
        for _ in range(int(count)):
            k += 1
            organisation = "arbodienst" if profession == "bedrijfsarts" else "UWV"
            rows.append({"professional_id": f"A{k:02d}", "profession": profession, "organisation": organisation})
    return pd.DataFrame(rows)


def _participants(professionals: pd.DataFrame, params: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    per = int(params["employees_per_professional"])
    n = per * len(professionals)
    inclusion = days_between(params["first_inclusion"], params["last_inclusion"], n, rng)
    absence = inclusion - pd.to_timedelta(rng.integers(21, 200, n), unit="D")
    frequency = rng.choice(list(FREQUENCY_WEEKS), size=n, p=[0.5, 0.35, 0.15])
    data_end = pd.Timestamp(params["data_end"])
    planned = inclusion + pd.Timedelta(weeks=float(params["monitoring_weeks"]))
    monitoring_end = planned.where(planned <= data_end, pd.NaT)
    back = inclusion + pd.to_timedelta(np.round(rng.gamma(1.5, 80.0, n)), unit="D")
    reason = rng.choice(["return_to_work", "exit", "wia"], size=n, p=[0.8, 0.12, 0.08])
    censored = (back > data_end).to_numpy()
    return pd.DataFrame(
        {
            "employee_id": [f"sm_{i:04d}" for i in range(n)],
            "professional_id": np.repeat(professionals["professional_id"].to_numpy(), per),
            "absence_start": absence,
            "inclusion_date": inclusion,
            "frequency": frequency,
            "monitoring_end": monitoring_end,
            "end_date": back.where(~censored, pd.NaT),
            "end_reason": pd.Series(reason, dtype=object).where(~censored, None),
            "followed_days": (planned.clip(upper=data_end) - inclusion).dt.days,
        }
    )


def _chances(
    participants: pd.DataFrame, professionals: pd.DataFrame, params: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Each employee's chance to measure at an agreed occasion: the planted mean, a physician's and an
    employee's deviation."""
    by_professional = dict(zip(professionals["professional_id"], rng.normal(0, 0.05, len(professionals)), strict=True))
    physician = participants["professional_id"].map(by_professional).to_numpy()
    own = rng.normal(0, 0.08, len(participants))
    return np.clip(float(params["adherence"]) + physician + own, 0.2, 1.0)


def _symptoms(participants: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for person in participants["employee_id"]:
        chosen = [s for s, p in SYMPTOM_CHANCE.items() if rng.random() < p] or ["fatigue"]
        rows += [{"employee_id": person, "symptom": s} for s in chosen]
    return pd.DataFrame(rows)


def _measurements(
    participants: pd.DataFrame,
    symptoms: pd.DataFrame,
    chance: np.ndarray,
    params: dict[str, Any],
    rng: np.random.Generator,
) -> pd.DataFrame:
    chosen = symptoms.groupby("employee_id", sort=False)["symptom"].apply(list)
    change = float(params["weekly_change"])
    rows = []
    for i, person in enumerate(participants.itertuples()):
        step = FREQUENCY_WEEKS[person.frequency]
        weeks = np.arange(0, person.followed_days / 7 + 1e-9, step)
        done = weeks[rng.random(len(weeks)) < chance[i]]
        for symptom in chosen[person.employee_id]:
            base, slope = rng.normal(6.0, 1.3), change * (1 + rng.normal(0, 0.3))
            scores = np.clip(np.round(base + slope * done + rng.normal(0, 0.8, len(done))), 0, 10)
            dates = person.inclusion_date + pd.to_timedelta(done * 7, unit="D")
            rows.append(
                pd.DataFrame({"employee_id": person.employee_id, "date": dates, "symptom": symptom, "score": scores})
            )
    return pd.concat(rows, ignore_index=True).sort_values(["employee_id", "date", "symptom"], ignore_index=True)


def _feedback(participants: pd.DataFrame, params: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for person in participants.itertuples():
        for week in range(FEEDBACK_WEEKS, int(person.followed_days / 7) + 1, FEEDBACK_WEEKS):
            if rng.random() < 0.9:
                rows.append(
                    {"employee_id": person.employee_id, "date": person.inclusion_date + pd.Timedelta(weeks=week)}
                )
    return pd.DataFrame(rows, columns=["employee_id", "date"])
