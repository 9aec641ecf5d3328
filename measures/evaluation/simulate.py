"""A synthetic pilot drop in the contract, with effects we planted and write down in `truth.json`.

The data-generating process, per employee i at employer j in calendar month t:
  AO%(i,t) = clip(recovery(months since absence start) + employer level + employee level
                  + common calendar trend + effect_j · 1[intervention employer and month ≥ inclusion] + noise, 0, 100)
with employer-level variation in the effect (effect_j = effect_ao · (1 + 0.3·z_j)). Employees return to work
early or drop out at random (independent of treatment), after which they deliver no more rows, as real data
do; the case says why it ended (`end_reason` return_to_work or exit, `end_date` in the last month delivered).
The planted effect on AO% and absence days is averaged over the treated months of the analysis panel, which
counts the months after a return to work as 0 until the data's last month (there both outcomes are 0). Survey
answers: a person trait plus a wave trend plus the planted effect at t1/t2, rounded onto the indicator's
scale, with missing waves and missing answers. Every outcome is drawn twice from the same noise, with and
without treatment, so `truth.json` holds the exact sample effect on the treated (after clipping and
rounding), not only the parameter.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from measures.contract.tables import AKC, TABLES, WAVES, Contract
from measures.designs.load import DEFAULT_DESIGN, design_indicators, load_design
from measures.estimation.inference import SEED
from measures.indicators.catalogue import Indicator
from toc.load import resolve

SECTORS = ("zorg", "onderwijs", "logistiek", "overheid", "industrie", "zakelijke dienstverlening")
EARLY_TOC = "werkgever-vroegtijdig"
FIRST_ABSENCE = pd.Timestamp("2025-07-01")
#: Where answers on each scale centre and how far they spread (counts are small numbers).
SCALE_CENTRE = {
    "likert5": (3.0, 0.9),
    "percent": (55.0, 18.0),
    "days": (8.0, 5.0),
    "yes_no": (0.5, 0.25),
    "count": (1.5, 1.0),
}
MAX_COUNT = 40  # an open count (contacts, deployments) never goes above this in the simulation


@dataclass(frozen=True)
class SimulationSpec:
    seed: int = SEED
    employers: int = 10
    employees_per_employer: int = 20
    effect_ao: float = -10.0  # percentage points of AO% after inclusion at intervention employers
    effect_survey: float = 0.3  # scale points at t1/t2, in the direction of improvement
    survey_effects: dict[str, float] = field(default_factory=dict)  # per-indicator overrides
    survey_indicators: int | None = None  # simulate only the first N questionnaire indicators
    effect_heterogeneity: float = 0.3  # sd of the employer effect, relative to the mean effect
    months_followed: int = 20  # months of admin data after the absence start, at most
    return_hazard: float = 0.03  # monthly chance of an early full return (rows stop)
    dropout_hazard: float = 0.01  # monthly chance of leaving the pilot (rows stop)
    wave_response: tuple[float, float, float] = (0.95, 0.85, 0.70)
    item_missing: float = 0.05


def simulate(spec: SimulationSpec) -> tuple[dict[str, pd.DataFrame], dict]:
    """The contract tables of one drop, and the truth we planted in them."""
    rng = np.random.default_rng(spec.seed)
    employers = _employers(spec, rng)
    activities = _activities(employers, rng)
    cases = _cases(spec, employers, rng)
    admin, ao_truth = _admin(spec, employers, cases, rng)
    survey, survey_truth = _survey(spec, employers, cases, rng)
    truth = {"spec": asdict(spec), "effect_ao": spec.effect_ao, "att": {**ao_truth, **survey_truth}}
    cases = cases.drop(columns=["last_month", "returned"])
    tables = {"employers": employers, "activities": activities, "cases": cases, "admin": admin, "survey": survey}
    return tables, truth


def write_drop(spec: SimulationSpec, out: Path, fmt: str = "csv") -> dict:
    """Write the drop into `out` (csv, csv-nl: Dutch Excel style, xlsx or parquet) and `truth.json` beside it."""
    tables, truth = simulate(spec)
    write_tables(tables, AKC, out, fmt)
    (Path(out) / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return truth


def write_tables(tables: dict[str, pd.DataFrame], contract: Contract, out: Path, fmt: str = "csv") -> None:
    """The tables of a drop as files of one format in `out`, with the contract's columns in its order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame = frame[contract.by_name[name].column_names]
        if fmt == "csv":
            frame.to_csv(out / f"{name}.csv", index=False, date_format="%Y-%m-%d", float_format="%.10g")
        elif fmt == "csv-nl":
            frame.to_csv(
                out / f"{name}.csv", index=False, sep=";", decimal=",", date_format="%d-%m-%Y", encoding="utf-8-sig"
            )
        elif fmt == "xlsx":
            frame.to_excel(out / f"{name}.xlsx", index=False, sheet_name=name)
            _reproducible_xlsx(out / f"{name}.xlsx")
        elif fmt == "parquet":
            frame.to_parquet(out / f"{name}.parquet", index=False)
        else:
            raise ValueError(f"format must be csv, csv-nl, xlsx or parquet, not {fmt!r}")


def _reproducible_xlsx(path: Path) -> None:
    """Same seed, same bytes: pin the times openpyxl stamps into the workbook (core properties, zip entries)."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _CORE_TIMES.sub(lambda m: m.group(1) + _FIXED_TIME + m.group(3), data)
            pinned = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            pinned.compress_type, pinned.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            target.writestr(pinned, data)


_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")
_FIXED_TIME = b"2025-01-01T00:00:00Z"


def _employers(spec: SimulationSpec, rng: np.random.Generator) -> pd.DataFrame:
    k = spec.employers
    group = np.where(np.arange(k) % 2 == 0, "intervention", "comparison")  # alternate: balanced arms
    approach = np.where(
        group == "intervention",
        "De arbeidsdeskundige wordt na 4 tot 6 maanden verzuim ingezet voor een dossiercheck en 'light' advies.",
        "Verzuimbegeleiding volgens de Wet verbetering poortwachter; arbeidsdeskundige rond het eerste ziektejaar.",
    )
    return pd.DataFrame(
        {
            "employer_id": [f"WG{i + 1:02d}" for i in range(k)],
            "group": group,
            "sector": rng.choice(SECTORS, size=k),
            "size_class": rng.choice(["medium", "large"], size=k, p=[0.3, 0.7]),
            "start_date": pd.Timestamp("2025-06-01"),
            "approach": approach,
        }
    )


def _activities(employers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Intervention employers each use a few of the early activities of §3.5.2 (from the ToC itself)."""
    early = [n.id for n in resolve(EARLY_TOC).nodes_in("activity")]
    rows = []
    for employer in employers.loc[employers["group"] == "intervention", "employer_id"]:
        used = rng.choice(early, size=rng.integers(2, 6), replace=False)
        rows += [
            {"employer_id": employer, "activity_id": a, "start_date": pd.Timestamp("2025-06-01")} for a in sorted(used)
        ]
    return pd.DataFrame(rows, columns=TABLES["activities"].column_names)


def _cases(spec: SimulationSpec, employers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = spec.employers * spec.employees_per_employer
    employer = np.repeat(employers["employer_id"].to_numpy(), spec.employees_per_employer)
    start = FIRST_ABSENCE + pd.to_timedelta(rng.integers(0, 270, size=n), unit="D")
    inclusion = start + pd.to_timedelta(rng.integers(120, 183, size=n), unit="D")  # referral after 4-6 months
    # months of rows after the absence start: stop at an early return or dropout, else at the follow-up end
    hazard = spec.return_hazard + spec.dropout_hazard
    stop = np.minimum(rng.geometric(hazard, size=n), spec.months_followed)
    returned = rng.random(n) < spec.return_hazard / hazard
    # the case ends on the last day of the last month delivered (its AO% is 0 at a return)
    last_row_month = pd.PeriodIndex(start.to_period("M")) + (stop - 1)
    end = last_row_month.to_timestamp(how="end").normalize()
    ended = stop < spec.months_followed
    ids = [f"E{idx:06d}" for idx in rng.permutation(n)]
    return pd.DataFrame(
        {
            "employee_id": ids,
            "employer_id": employer,
            "absence_start": start.normalize(),
            "inclusion_date": inclusion.normalize(),
            "end_date": pd.Series(end).where(ended),
            "end_reason": pd.Series(np.where(returned, "return_to_work", "exit")).where(ended),
            "last_month": stop - 1,  # index of the last month with a row (0 = the absence start month)
            "returned": returned & ended,  # a full return: the last month has AO% 0
        }
    )


def _admin(
    spec: SimulationSpec, employers: pd.DataFrame, cases: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict]:
    k = len(employers)
    employer_index = {e: i for i, e in enumerate(employers["employer_id"])}
    level_j = rng.normal(0, 6, size=k)
    effect_j = spec.effect_ao * (1 + spec.effect_heterogeneity * rng.standard_normal(k))
    intervention_j = (employers["group"] == "intervention").to_numpy()

    months = cases["last_month"].to_numpy() + 1
    row_case = np.repeat(np.arange(len(cases)), months)
    since_start = np.concatenate([np.arange(m) for m in months])
    j = cases["employer_id"].map(employer_index).to_numpy()[row_case]
    start_month = cases["absence_start"].dt.to_period("M").to_numpy()[row_case]
    month = (pd.PeriodIndex(start_month) + since_start).to_timestamp()
    inclusion_month = pd.PeriodIndex(cases["inclusion_date"].dt.to_period("M").to_numpy()[row_case]).to_timestamp()
    post = month >= inclusion_month
    d = (intervention_j[j] & post).astype(float)

    calendar = (month.year - 2025) * 12 + month.month
    recovery = 95 * np.exp(-since_start / 14.0)
    latent = (
        recovery
        + level_j[j]
        + rng.normal(0, 8, len(cases))[row_case]
        - 0.4 * calendar
        + rng.normal(0, 5, size=len(row_case))
    )
    back = cases["returned"].to_numpy()[row_case] & (since_start == cases["last_month"].to_numpy()[row_case])
    ao0 = np.where(back, 0.0, np.clip(np.round(latent, 1), 0, 100))
    ao1 = np.where(back, 0.0, np.clip(np.round(latent + effect_j[j] * d, 1), 0, 100))
    days_in_month = month.days_in_month.to_numpy()
    day_noise = rng.normal(0, 1.5, size=len(row_case))
    lw_noise = rng.normal(0, 4, size=len(row_case))
    absence0 = np.clip(np.round(days_in_month * ao0 / 100 + day_noise), 0, days_in_month)
    absence1 = np.clip(np.round(days_in_month * ao1 / 100 + day_noise), 0, days_in_month)
    lw0, lw1 = (np.clip(np.round(100 - a + lw_noise, 1), 0, 100) for a in (ao0, ao1))
    assessed = rng.random(len(row_case)) < 0.6  # loonwaarde is not assessed every month

    admin = pd.DataFrame(
        {
            "employee_id": cases["employee_id"].to_numpy()[row_case],
            "employer_id": cases["employer_id"].to_numpy()[row_case],
            "month": month.strftime("%Y-%m"),
            "absence_days": absence1.astype(int),
            "ao_pct": ao1,
            "loonwaarde_pct": np.where(assessed, lw1, np.nan),
        }
    )
    treated_post = d == 1
    # months after a return count as 0 in the panel, with and without treatment: they add treated months
    # without an effect
    zeros = _treated_months_after_return(cases, intervention_j, employer_index, month.max())
    att = {
        "ao_pct": _mean_diff(ao1, ao0, treated_post, zeros),
        "absence_days": _mean_diff(absence1, absence0, treated_post, zeros),
        "loonwaarde_pct": _mean_diff(lw1, lw0, treated_post & assessed),
    }
    return admin, att


def _treated_months_after_return(
    cases: pd.DataFrame, intervention_j: np.ndarray, employer_index: dict, last: pd.Timestamp
) -> int:
    """Months after a return to work, up to the data's last month, at intervention employers from inclusion on."""
    returned = cases.loc[cases["returned"].to_numpy() & intervention_j[cases["employer_id"].map(employer_index)]]
    first = np.maximum(
        returned["end_date"].dt.to_period("M").astype(int) + 1, returned["inclusion_date"].dt.to_period("M").astype(int)
    )
    return int(np.clip(pd.Period(last, "M").ordinal - first + 1, 0, None).sum())


def _survey(
    spec: SimulationSpec, employers: pd.DataFrame, cases: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict]:
    indicators = [i for i in design_indicators(load_design(DEFAULT_DESIGN)) if i.respondent]  # the AKC pilot's
    if spec.survey_indicators is not None:
        indicators = indicators[: spec.survey_indicators]
    group = cases["employer_id"].map(employers.set_index("employer_id")["group"]).to_numpy()
    intervention = group == "intervention"
    n = len(cases)
    answered = {w: rng.random(n) < p for w, p in zip(WAVES, spec.wave_response, strict=True)}
    trait = rng.standard_normal(n)
    frames, att = [], {}
    for ind in indicators:
        effect = spec.survey_effects.get(ind.id, spec.effect_survey) * (-1 if ind.lower_is_better else 1)
        frame, att[ind.id] = _answers(ind, effect, cases, intervention, answered, trait, spec, rng)
        frames.append(frame)
    columns = TABLES["survey"].column_names
    survey = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return survey[columns], att


def _answers(
    ind: Indicator,
    effect: float,
    cases: pd.DataFrame,
    intervention: np.ndarray,
    answered: dict,
    trait: np.ndarray,
    spec: SimulationSpec,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, float]:
    low, high, _ = ind.valid_range
    # answers centre on the scale; an indicator with its own range (a 0-10 score) centres on that range
    mid, spread = ((low + high) / 2, (high - low) / 6) if ind.answer_range else SCALE_CENTRE[ind.scale]
    high = min(high, MAX_COUNT)
    person = 0.5 * trait + 0.5 * rng.standard_normal(len(cases))
    frames, y1_all, y0_all = [], [], []
    for w, wave in enumerate(WAVES):
        keep = answered[wave] & (rng.random(len(cases)) >= spec.item_missing)
        latent = mid + spread * (person + 0.1 * w + 0.6 * rng.standard_normal(len(cases)))
        shift = effect * (intervention & (w > 0))
        if ind.scale == "yes_no":  # the effect shifts the probability of "yes" by a quarter of its size
            u = rng.random(len(cases))
            p0 = 1 / (1 + np.exp(-(person + 0.1 * w)))
            y0, y1 = (u < p0).astype(float), (u < np.clip(p0 + shift / 4, 0, 1)).astype(float)
        else:
            y0 = np.clip(np.round(latent), low, high)
            y1 = np.clip(np.round(latent + shift), low, high)
        frames.append(
            pd.DataFrame(
                {
                    "employee_id": cases["employee_id"].to_numpy()[keep],
                    "employer_id": cases["employer_id"].to_numpy()[keep],
                    "wave": wave,
                    "respondent": ind.respondent,
                    "indicator_id": ind.id,
                    "value": y1[keep],
                }
            )
        )
        if w > 0:
            y1_all.append(y1[keep & intervention])
            y0_all.append(y0[keep & intervention])
    treated1, treated0 = np.concatenate(y1_all), np.concatenate(y0_all)
    return pd.concat(frames, ignore_index=True), float(np.mean(treated1 - treated0)) if len(treated1) else 0.0


def _mean_diff(y1: np.ndarray, y0: np.ndarray, mask: np.ndarray, zeros: int = 0) -> float:
    """Mean of y1 - y0 over the masked rows and ``zeros`` further rows where both are 0."""
    count = int(mask.sum()) + zeros
    return float(np.sum(y1[mask] - y0[mask]) / count) if count else 0.0
