"""The contribution narrative: its numbers are effects.csv's, its verdicts follow the rules, its bytes repeat."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from measures.evaluation.assumptions import AssumptionResult
from measures.indicators.catalogue import indicators_by_id, labels, primary_indicators
from report.narrative import NarrativeInputs, narrative_markdown, stories
from toc.graph import pathways
from toc.load import load_shipped
from toc.models import Check

TOCS = load_shipped()
AKC = [
    TOCS[t] for t in ("werkgever-preventief", "werkgever-vroegtijdig", "werknemer-preventief", "werknemer-vroegtijdig")
]
EMPLOYERS = pd.DataFrame(
    {"employer_id": ["I1", "I2", "I3", "C1", "C2"], "group": ["intervention"] * 3 + ["comparison"] * 2}
)
NUMBER = r"[+−]?\d+(?:[.,]\d+)?"


def effects_table(seed: int = 11) -> pd.DataFrame:
    """An effects table for every indicator that measures an AKC node: estimates of either sign, CIs that
    exclude zero or not, one indicator without an estimate."""
    rng = np.random.default_rng(seed)
    ids = sorted({i.id for toc in AKC for i in primary_indicators(toc.id).values()})
    estimate = rng.normal(0, 1, len(ids)).round(6)
    half = rng.uniform(0.2, 1.5, len(ids)).round(6)
    table = pd.DataFrame(
        {"indicator_id": ids, "estimate": estimate, "ci_low": estimate - half, "ci_high": estimate + half}
    )
    table.loc[table["indicator_id"] == "imago_werkgever", ["estimate", "ci_low", "ci_high"]] = np.nan
    return table


def inputs(effects: pd.DataFrame, activities: pd.DataFrame | None = None, assumptions=()) -> NarrativeInputs:
    if activities is None:
        activities = pd.DataFrame(
            [
                {"employer_id": "I1", "activity_id": "light_advice"},
                {"employer_id": "I2", "activity_id": "light_advice"},
                {"employer_id": "I2", "activity_id": "dossier_check"},
                {"employer_id": "C1", "activity_id": "dossier_check"},
            ]
        )
    return NarrativeInputs(effects, EMPLOYERS, activities, list(assumptions))


def parse(text: str) -> float:
    return float(text.replace("−", "-").replace("+", "").replace(",", "."))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_numbers_are_those_of_effects_csv(lang):
    """REQUIRED: every estimate and CI in the narrative equals effects.csv's (to the two decimals shown)."""
    effects = effects_table()
    text = narrative_markdown(AKC, inputs(effects), lang)
    by_label = {labels(lang)[i]: row for i, row in effects.set_index("indicator_id").iterrows()}
    found = re.findall(rf"\(([^():]+(?:\([^()]*\))?): ({NUMBER}) \[({NUMBER}); ({NUMBER})\]\)", text)
    assert len(found) > 40
    for label, est, low, high in found:
        row = by_label[label]
        assert (parse(est), parse(low), parse(high)) == (
            round(row["estimate"], 2),
            round(row["ci_low"], 2),
            round(row["ci_high"], 2),
        ), label
    # every measured primary indicator of the four ToCs is reported, with the report's number format
    shown = {label for label, *_ in found}
    measured = {labels(lang)[i] for i in effects.dropna()["indicator_id"]}
    assert shown == measured
    decimal = "," if lang == "nl" else "."
    assert all(decimal in est for _, est, _, _ in found)


def test_same_inputs_give_the_same_bytes():
    effects = effects_table()
    first = narrative_markdown(AKC, inputs(effects), "nl").encode("utf-8")
    shuffled = effects.sample(frac=1, random_state=3).reset_index(drop=True)
    assert narrative_markdown(AKC, inputs(shuffled), "nl").encode("utf-8") == first
    assert narrative_markdown(AKC, inputs(effects_table(12)), "nl").encode("utf-8") != first


def test_every_pathway_from_every_output_is_told_once():
    effects = effects_table()
    for toc, story in zip(AKC, stories(AKC, inputs(effects), "en"), strict=True):
        expected = sorted(tuple(p) for o in toc.nodes_in("output") for p in pathways(toc, o.id))
        assert sorted(p.nodes for p in story.pathways) == expected
        assert [p.rank for p in story.pathways] == list(range(1, len(expected) + 1))
    text = narrative_markdown(AKC, inputs(effects), "en")
    assert text.count("\n- **") == sum(len(s.pathways) for s in stories(AKC, inputs(effects), "en"))


def row(indicator: str, estimate: float, low: float, high: float) -> dict:
    return {"indicator_id": indicator, "estimate": estimate, "ci_low": low, "ci_high": high}


UP, DOWN, FLAT = (0.5, 0.2, 0.8), (-0.5, -0.8, -0.2), (0.1, -0.2, 0.4)


def story_of(effects: list[dict], path: tuple[str, ...], activities=None, lang="en"):
    toc = TOCS["werkgever-vroegtijdig"]
    [story] = stories([toc], inputs(pd.DataFrame(effects), activities), lang)
    return next(p for p in story.pathways if p.nodes == path)


# 1 informed -> 7 adjusts earlier -> 14 absence reduced -> 12 less occupational physician deployment
PATH = (
    "employer_informed_possible_tasks",
    "employer_adjusts_work_earlier",
    "absence_reduced",
    "less_occupational_physician_deployment",
)


def chain(informed, adjusted, absence, physician) -> list[dict]:
    flip = lambda v: tuple(-x for x in (v[0], v[2], v[1]))  # noqa: E731 (lower is better: mirror the CI)
    return [
        row("kennis_passende_taken", *informed),
        row("werk_aangepast", *adjusted),
        row("absence_days", *flip(absence)),
        row("contacten_bedrijfsarts", *flip(physician)),
    ]


def test_every_step_improved_supports_the_claim():
    found = story_of(chain(UP, UP, UP, UP), PATH)
    assert found.verdict == "supported"
    assert found.text.startswith("**1 ▲ → 7 ▲ → 14 ▲ → 12 ▲** (supported;")
    assert "weakest link 7 → 14, no source" in found.text  # derived by us: the chain's weakest link


def test_an_open_step_makes_it_partly_supported_and_is_named():
    found = story_of(chain(UP, FLAT, UP, UP), PATH)
    assert found.verdict == "partly" and "but step 7 showed no improvement" in found.text
    worse = story_of(chain(DOWN, FLAT, UP, UP), PATH)
    assert "but step 1 worsened and step 7 showed no improvement" in worse.text


def test_the_long_term_effect_decides_otherwise():
    assert story_of(chain(UP, UP, UP, DOWN), PATH).verdict == "contradicted"
    assert story_of(chain(UP, UP, UP, FLAT), PATH).verdict == "no_evidence"
    assert story_of(chain(UP, UP, UP, UP)[:3], PATH).verdict == "end_not_measured"


def test_activities_not_carried_out_say_nothing_about_the_pathway():
    none_used = pd.DataFrame([{"employer_id": "I1", "activity_id": "dossier_check"}])  # feeds output 2, not 1
    found = story_of(chain(UP, UP, UP, UP), PATH, none_used)
    assert found.verdict == "not_carried" and found.conclusion == "" and found.text.endswith("no source).")
    [story] = stories([TOCS["werkgever-vroegtijdig"]], inputs(pd.DataFrame(chain(UP, UP, UP, UP)), none_used), "en")
    informed = next(o for o in story.outputs if o.node == PATH[0])
    assert "None of these activities was used" in informed.activities  # said once, for the output
    carried = [p.rank for p in story.pathways if p.verdict != "not_carried"]
    idle = [p.rank for p in story.pathways if p.verdict == "not_carried"]
    assert carried and idle and max(carried) < min(idle)  # without activities, no support from the data
    unknown = story_of(chain(UP, UP, UP, UP), PATH, pd.DataFrame(columns=["employer_id", "activity_id"]))
    assert unknown.verdict == "supported" and "remains provisional" in unknown.text


def test_activity_counts_and_assumptions():
    toc = TOCS["werkgever-vroegtijdig"]
    check = Check(measure="share_employers_using_toc_activities", comparator="<=", threshold=0.0, group="comparison")
    results = [
        AssumptionResult(toc.id, "comparison_without_early_ad", "assumption", "fails", 0.5, 0.0, 2, check),
        AssumptionResult(
            toc.id, "relationship_with_employer", "assumption", "untested", None, None, None, None, "no_check"
        ),
    ]
    [story] = stories([toc], inputs(effects_table(), assumptions=results), "nl")
    assert story.assumptions.startswith(
        "**Aannames en randvoorwaarden.** Van de 2 houden er 0 stand in de data, 1 niet"
    )
    assert "- ✗ De vergelijkingsgroep volgt" in story.assumptions and "0,50, drempel ≤ 0,00" in story.assumptions
    assert "- ? Relatie met de werkgever — niet te toetsen met de pilotdata" in story.assumptions
    assert story.caveat.startswith("Omdat 'De vergelijkingsgroep volgt")
    informed = next(o for o in story.outputs if o.node == "employer_informed_possible_tasks")
    assert "“Light” advies (2 van 3)" in informed.activities
    clear = next(o for o in story.outputs if o.node == "solution_directions_clear")
    assert "Dossier check (1 van 3)" in clear.activities
    assert "Ook bij vergelijkingswerkgevers ingezet: Dossier check" in clear.activities


def test_no_activities_table_is_said():
    text = narrative_markdown(AKC[1:2], inputs(effects_table(), pd.DataFrame()), "en")
    assert "No activities table was delivered" in text
    assert set(indicators_by_id()) >= set(effects_table()["indicator_id"])
