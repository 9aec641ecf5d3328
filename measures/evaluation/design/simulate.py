"""Synthetic drops of the study designs other than the AKC pilot, with planted effects (`truth.json`).

One generator per design (`measures.evaluation.design.cases` for the cohort and case-file designs,
`measures.evaluation.design.monitoring` for the feasibility design), driven by the design file: its contract
(the tables and columns written), its milestones and measures, and its `simulation:` defaults (which a caller
may override). What they share lives here: the organisations, questionnaires, process figures, the writer.

Every planted outcome is drawn twice from the same noise, with and without the intervention, so that
`truth.json` holds `effect`: the sample effect on the treated of the primary indicator, in the units
`effects.csv` reports (for a design without a comparison group: the sample value of the level the study
estimates), beside the nominal parameters (`planted`) and the seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from measures.designs.load import design_indicators, load_design
from measures.designs.model import StudyDesign
from measures.estimation.inference import SEED
from measures.evaluation.simulate import write_tables
from measures.indicators.catalogue import Indicator

SECTORS = ("ouderenzorg", "zorg", "industrie", "logistiek", "overheid", "bouw")


@dataclass(frozen=True)
class DesignDrop:
    """The contract tables of a simulated drop and what was planted in them."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any]


def simulate_design(design: StudyDesign, seed: int = SEED, settings: dict[str, Any] | None = None) -> DesignDrop:
    """A drop of `design` (its `simulation:` defaults, updated by `settings`), drawn with `seed`."""
    from measures.evaluation.design.cases import simulate_case_files, simulate_cohorts
    from measures.evaluation.design.monitoring import simulate_monitoring

    generators: dict[str, Callable[[StudyDesign, dict[str, Any], np.random.Generator], DesignDrop]] = {
        "cohort-did": simulate_cohorts,
        "case-file-timeline": simulate_case_files,
        "feasibility-monitoring": simulate_monitoring,
    }
    if design.design not in generators:
        raise ValueError(f"design {design.id} ({design.design}) is simulated by `measures.evaluation.simulate`")
    params = {**design.simulation, **(settings or {})}
    drop = generators[design.design](design, params, np.random.default_rng(seed))
    truth: dict[str, Any] = {"design": design.id, "seed": seed, "primary_indicator": design.primary_indicator}
    truth |= drop.truth
    extra: dict[str, Any] = drop.truth.get("planted", {})
    truth["planted"] = {k: v for k, v in params.items() if not isinstance(v, dict)} | extra
    return DesignDrop(drop.tables, truth)


def write_design_drop(
    design_id: str, out: Path, seed: int = SEED, fmt: str = "csv", settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write a simulated drop of the design into `out` and `truth.json` beside its tables; returns the truth."""
    design = load_design(design_id)
    drop = simulate_design(design, seed, settings)
    write_tables(drop.tables, design.contract, out, fmt)
    text = json.dumps(drop.truth, indent=2, sort_keys=True, default=float) + "\n"
    (Path(out) / "truth.json").write_text(text, encoding="utf-8")
    return drop.truth


def organisations(params: dict[str, Any], start: str, rng: np.random.Generator) -> pd.DataFrame:
    """Intervention organisations first, then comparison ones, with pseudonymous codes."""
    n_int, n_comp = int(params["intervention_employers"]), int(params["comparison_employers"])
    group = np.array(["intervention"] * n_int + ["comparison"] * n_comp)
    k = len(group)
    return pd.DataFrame(
        {
            "employer_id": [f"ORG{i + 1:02d}" for i in range(k)],
            "group": group,
            "sector": np.where(rng.random(k) < 0.7, SECTORS[0], rng.choice(SECTORS[1:], size=k)),
            "size_class": rng.choice(["medium", "large"], size=k, p=[0.4, 0.6]),
            "start_date": pd.Timestamp(start),
        }
    )


def days_between(first: str, last: str, n: int, rng: np.random.Generator) -> pd.Series:
    """`n` calendar days drawn uniformly from `first` to `last`."""
    span = (pd.Timestamp(last) - pd.Timestamp(first)).days
    return pd.Series(pd.Timestamp(first) + pd.to_timedelta(rng.integers(0, span + 1, n), unit="D"))


def likert_pair(
    latent: np.ndarray, shift: np.ndarray, ind: Indicator, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Answers without and with the intervention's `shift` (scale points) from the same latent position."""
    low, high, _ = ind.valid_range
    high = min(high, 40.0)
    if ind.scale == "yes_no":
        u = rng.random(len(latent))
        p0 = 1 / (1 + np.exp(-latent))
        return (u < p0).astype(float), (u < np.clip(p0 + shift / 4, 0, 1)).astype(float)
    mid, spread = ((low + high) / 2, (high - low) / 6) if ind.answer_range else (3.0, 0.9)
    value = mid + spread * latent
    return np.clip(np.round(value), low, high), np.clip(np.round(value + shift), low, high)


def survey_answers(
    design: StudyDesign,
    people: pd.DataFrame,
    treated: np.ndarray,
    params: dict[str, Any],
    rng: np.random.Generator,
    effects: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Answers of `people` (their `answerer` id, cluster and, when the survey has one, `professional_id`) to the
    design's questionnaire indicators at the survey's waves, with the planted effect at the later waves for the
    `treated`; returns the rows and each indicator's sample effect on the treated."""
    table = design.contract.by_name.get("survey")
    if table is None:
        return pd.DataFrame(), {}
    waves = table.column("wave").values
    respondents = set(table.column("respondent").values)
    items = [i for i in design_indicators(design) if i.respondent in respondents]
    response = params.get("wave_response", [0.85, 0.7, 0.6])
    trait = rng.standard_normal(len(people))
    frames, att = [], {}
    for ind in items:
        effect = (effects or {}).get(ind.id, float(params.get("survey_effect", 0.3)))
        effect *= -1 if ind.lower_is_better else 1
        person = 0.6 * trait + 0.5 * rng.standard_normal(len(people))
        y1_all, y0_all = [], []
        for w, wave in enumerate(waves):
            if wave not in ind.periods:
                continue
            answered = rng.random(len(people)) < response[min(w, len(response) - 1)]
            latent = person + 0.15 * w + 0.6 * rng.standard_normal(len(people))
            y0, y1 = likert_pair(latent, effect * (treated & (w > 0)), ind, rng)
            frames.append(_rows(people[answered], table.column_names, wave, ind, y1[answered]))
            if w > 0:
                y1_all.append(y1[answered & treated])
                y0_all.append(y0[answered & treated])
        treated_answers = np.concatenate(y1_all) - np.concatenate(y0_all) if y1_all else np.zeros(0)
        if len(treated_answers):
            att[ind.id] = float(np.mean(treated_answers))
    columns = table.column_names
    return (pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)), att


def _rows(people: pd.DataFrame, columns: list[str], wave: str, ind: Indicator, values: np.ndarray) -> pd.DataFrame:
    frame = people[[c for c in columns if c in people]].copy()
    return frame.assign(wave=wave, respondent=ind.respondent, indicator_id=ind.id, value=values)


def process_figures(
    design: StudyDesign, employers: pd.DataFrame, years: list[int], rng: np.random.Generator
) -> pd.DataFrame:
    """Yearly process figures per organisation for the design's process indicators: the intervention's
    organisations use what the intervention offers, the comparison's (mostly) do not."""
    table = design.contract.by_name.get("process")
    if table is None:
        return pd.DataFrame()
    rows = []
    for ind in (i for i in design_indicators(design) if i.source == "process"):
        for org in employers.itertuples():
            active = org.group == "intervention"
            if not active and ind.scale == "count":  # what only the intervention offers is not counted elsewhere
                continue
            for year in years:
                if year < org.start_date.year:
                    continue
                rows.append({"employer_id": org.employer_id, "year": year, "indicator_id": ind.id})
                rows[-1]["value"] = _process_value(ind, active, rng)
    return pd.DataFrame(rows, columns=table.column_names)


def _process_value(ind: Indicator, active: bool, rng: np.random.Generator) -> float:
    if ind.scale == "yes_no":
        return float(rng.random() < (0.9 if active else 0.1))
    if ind.scale == "percent":
        return float(np.round(rng.uniform(60, 95) if active else rng.uniform(0, 10)))
    level = 30.0 if ind.direction == "higher_is_better" else 12.0
    return float(rng.poisson(level if active else 1.0))
