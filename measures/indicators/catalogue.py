"""The indicator catalogue: how each ToC output and effect is measured (`catalogue.yaml`, one source).

Each indicator names the ToC nodes it measures as `TOC_ID/NODE_ID`; for every measured node exactly one
indicator is its primary indicator, the one the results-annotated ToC colours the node by.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from measures.contract.validate import Reference, SurveyRule
from toc.lang import Lang, translated
from toc.load import SafeLoader, load_shipped
from toc.models import EFFECT_LAYERS, TheoryOfChange

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

Source = Literal[
    "admin",
    "questionnaire_employee",
    "questionnaire_employer",
    "questionnaire_professional",
    "questionnaire_manager",
    "process",
    "case_file",
    "monitoring",
]
Scale = Literal["likert5", "percent", "days", "yes_no", "count", "weeks", "proportion", "score10"]
#: Valid answers per scale: (minimum, maximum, whole numbers only).
SCALE_RANGES: dict[str, tuple[float, float, bool]] = {
    "likert5": (1, 5, True),
    "percent": (0, 100, False),
    "days": (0, 31, False),
    "yes_no": (0, 1, True),
    "count": (0, math.inf, True),
    "weeks": (0, math.inf, False),
    "proportion": (0, 1, False),
    "score10": (-10, 10, False),  # a change in a 0-10 score
}
#: The unit of a mean (or of a difference in means) on each scale, for tables and axes.
SCALE_UNITS: dict[str, dict[str, str]] = {
    "nl": {
        "likert5": "schaalpunten (1-5)",
        "percent": "procent(punt)",
        "days": "dagen per maand",
        "yes_no": "aandeel (0-1)",
        "count": "aantal",
        "weeks": "weken",
        "proportion": "aandeel (0-1)",
        "score10": "schaalpunten (0-10)",
    },
    "en": {
        "likert5": "scale points (1-5)",
        "percent": "percent(age points)",
        "days": "days per month",
        "yes_no": "share (0-1)",
        "count": "count",
        "weeks": "weeks",
        "proportion": "share (0-1)",
        "score10": "scale points (0-10)",
    },
}
#: The answer options of the scales answered by choosing (value -> label), as the questionnaires put them.
SCALE_CHOICES: dict[str, dict[str, dict[int, str]]] = {
    "nl": {
        "likert5": {
            1: "Helemaal mee oneens",
            2: "Mee oneens",
            3: "Niet mee eens, niet mee oneens",
            4: "Mee eens",
            5: "Helemaal mee eens",
        },
        "yes_no": {1: "Ja", 0: "Nee"},
    },
    "en": {
        "likert5": {
            1: "Strongly disagree",
            2: "Disagree",
            3: "Neither agree nor disagree",
            4: "Agree",
            5: "Strongly agree",
        },
        "yes_no": {1: "Yes", 0: "No"},
    },
}
RESPONDENT = {
    "questionnaire_employee": "employee",
    "questionnaire_employer": "employer",
    "questionnaire_professional": "professional",
    "questionnaire_manager": "manager",
}
#: Families of hypotheses (see catalogue.yaml): the administrative ones, then one per ToC layer.
ADMIN_FAMILIES = ("primary", "administrative")
Family = Literal["primary", "administrative", "output", "short_term", "long_term", "negative_effect"]
#: Administrative indicators computed from the `admin` table, by id.
ADMIN_MONTHLY = ("ao_pct", "absence_days", "loonwaarde_pct")


class Indicator(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    nodes: tuple[str, ...] = Field(min_length=1, description="ToC nodes measured, as TOC_ID/NODE_ID.")
    primary_for: tuple[str, ...] = Field((), description="The nodes for which this is the primary indicator.")
    label_nl: str
    label_en: str
    source: Source
    text_nl: str = Field(description="The Dutch question, or the administrative/process definition.")
    text_en: str
    scale: Scale
    direction: Literal["higher_is_better", "lower_is_better"]
    periods: tuple[str, ...] = Field(description="Waves (t0, t1, t2), 'monthly', 'yearly' or 'once'.")
    aggregation: Literal["mean", "share"]
    family: Family = Field(description="The family of hypotheses its effect is adjusted within (fixed in advance).")
    instrument: str = Field("", description="Validated instrument it is taken from, if any.")
    answer_range: tuple[float, float] | None = Field(
        None, description="Valid answers when narrower than the scale's (e.g. 0-10 for a 0-10 count)."
    )

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "lower_is_better"

    @property
    def respondent(self) -> str | None:
        return RESPONDENT.get(self.source)

    @property
    def valid_range(self) -> tuple[float, float, bool]:
        """(minimum, maximum, whole numbers only) of a valid answer."""
        low, high, whole = SCALE_RANGES[self.scale]
        return (*self.answer_range, whole) if self.answer_range else (low, high, whole)


@cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> tuple[Indicator, ...]:
    raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SafeLoader)
    return tuple(Indicator.model_validate(item) for item in raw["indicators"])


def indicators_by_id() -> dict[str, Indicator]:
    return {i.id: i for i in load_catalogue()}


def labels(lang: Lang = "nl") -> dict[str, str]:
    """Indicator id -> its label in `lang`."""
    return {i.id: translated(i, "label", lang) for i in load_catalogue()}


def units(lang: Lang = "nl") -> dict[str, str]:
    """Indicator id -> the unit of its mean and effect in `lang`."""
    return {i.id: SCALE_UNITS[lang][i.scale] for i in load_catalogue()}


def survey_rules(chosen: Collection[str] | None = None) -> dict[str, SurveyRule]:
    """Questionnaire indicators (all, or those `chosen`) and what a valid answer looks like (for
    `measures.contract.validate`)."""
    rules = {}
    for ind in load_catalogue():
        if ind.respondent and (chosen is None or ind.id in chosen):
            low, high, whole = ind.valid_range
            rules[ind.id] = SurveyRule(ind.respondent, low, high, whole)
    return rules


def process_rules(chosen: Collection[str] | None = None) -> dict[str, SurveyRule]:
    """Process indicators (all, or those `chosen`) and what a valid value looks like (no respondent)."""
    rules = {}
    for ind in load_catalogue():
        if ind.source == "process" and (chosen is None or ind.id in chosen):
            low, high, whole = ind.valid_range
            rules[ind.id] = SurveyRule("", low, high, whole)
    return rules


def primary_indicators(toc_id: str) -> dict[str, Indicator]:
    """Node id -> its primary indicator, for one ToC."""
    prefix = f"{toc_id}/"
    return {
        ref.removeprefix(prefix): ind for ind in load_catalogue() for ref in ind.primary_for if ref.startswith(prefix)
    }


def coverage(toc: TheoryOfChange) -> dict:
    """Each node with its indicators; `uncovered` lists outputs and effects (negative ones too) without any."""
    measured: dict[str, list[str]] = {n.id: [] for n in toc.nodes}
    for ind in load_catalogue():
        for ref in ind.nodes:
            toc_id, _, node = ref.partition("/")
            if toc_id == toc.id and node in measured:
                measured[node].append(ind.id)
    nodes = [{"id": n.id, "layer": n.layer, "indicators": measured[n.id]} for n in toc.nodes]
    uncovered = [n.id for n in toc.nodes if n.layer in EFFECT_LAYERS and not measured[n.id]]
    return {"toc": toc.id, "nodes": nodes, "uncovered": uncovered}


def validate_catalogue(tocs: dict[str, TheoryOfChange] | None = None, path: Path = CATALOGUE_PATH) -> list[str]:
    """One line per problem: unknown nodes, primaries that are missing, doubled or not measured.

    `path`: the catalogue to check (default the shipped one); `tocs`: the ToCs it points into (default all shipped).
    """
    where = Path(path).name
    try:
        catalogue = load_catalogue(Path(path))
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:  # unreadable, not YAML, wrong shape
        return [f"{where}: {exc}"]
    tocs = load_shipped() if tocs is None else tocs
    problems = [
        f"{where}: indicator '{i}' defined {n} times" for i, n in Counter(i.id for i in catalogue).items() if n > 1
    ]
    primaries: Counter[str] = Counter()
    measured: set[str] = set()
    for ind in catalogue:
        for ref in ind.nodes:
            toc_id, _, node = ref.partition("/")
            if toc_id not in tocs:
                problems.append(f"{where}: indicator '{ind.id}' points at unknown ToC '{toc_id}' ({ref})")
            elif node not in {n.id for n in tocs[toc_id].nodes}:
                problems.append(f"{where}: indicator '{ind.id}' points at unknown node '{ref}'")
            else:  # an unknown node is reported once, not again for lacking a primary
                measured.add(ref)
        for ref in ind.primary_for:
            if ref not in ind.nodes:
                problems.append(f"{where}: indicator '{ind.id}' is primary for {ref} but does not measure it")
            primaries[ref] += 1
        if ind.source in RESPONDENT and not set(ind.periods) <= {"t0", "t1", "t2"}:
            problems.append(f"{where}: questionnaire indicator '{ind.id}' has periods other than t0, t1, t2")
        problems += _family_problems(where, ind, tocs)
    problems += [
        f"{where}: node {ref} has {n} primary indicators (needs exactly one)" for ref, n in primaries.items() if n > 1
    ]
    problems += [
        f"{where}: node {ref} is measured but has no primary indicator" for ref in sorted(measured - set(primaries))
    ]
    return problems


def _family_problems(where: str, ind: Indicator, tocs: dict[str, TheoryOfChange]) -> list[str]:
    """An administrative indicator is in an administrative family; a questionnaire item in the family of a
    ToC layer among the nodes it measures."""
    if ind.source == "admin":
        ok = ind.family in ADMIN_FAMILIES
    else:
        layers = {n.layer for ref in ind.nodes for n in _node(tocs, ref)}
        ok = ind.family in layers
    return [] if ok else [f"{where}: indicator '{ind.id}' cannot be in family '{ind.family}'"]


def _node(tocs: dict[str, TheoryOfChange], ref: str) -> list:
    toc_id, _, node = ref.partition("/")
    return [n for n in tocs[toc_id].nodes if n.id == node] if toc_id in tocs else []


def families() -> dict[str, list[str]]:
    """Family -> its indicators (in catalogue order): the families of hypotheses, fixed in advance."""
    out: dict[str, list[str]] = {}
    for ind in load_catalogue():
        out.setdefault(ind.family, []).append(ind.id)
    return out


def drop_reference(chosen: Collection[str] | None = None, tocs: Collection[str] | None = None) -> Reference:
    """What a drop is checked against: the questionnaire and process indicators (all, or a study's `chosen`)
    and the activities of every shipped ToC (or of a study's `tocs`)."""
    shipped = load_shipped()
    activities = {n.id for t, toc in shipped.items() if tocs is None or t in tocs for n in toc.nodes_in("activity")}
    return Reference(survey=survey_rules(chosen), activities=frozenset(activities), process=process_rules(chosen))
