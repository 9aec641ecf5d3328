"""The indicator catalogue: full coverage of the AKC ToCs, one primary per measured node, a checker that catches errors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from measures.contract.validate import SurveyRule
from measures.indicators.catalogue import (
    CATALOGUE_PATH,
    SCALE_RANGES,
    coverage,
    indicators_by_id,
    load_catalogue,
    primary_indicators,
    survey_rules,
    validate_catalogue,
)
from toc.load import load_shipped
from toc.models import EFFECT_LAYERS

AKC = ("werkgever-preventief", "werkgever-vroegtijdig", "werknemer-preventief", "werknemer-vroegtijdig")
EMPLOYEE_TOCS = ("werknemer-preventief", "werknemer-vroegtijdig")


@pytest.fixture(scope="module")
def tocs():
    return load_shipped()


@pytest.mark.parametrize("toc_id", AKC)
def test_every_output_and_effect_of_an_akc_toc_has_an_indicator(tocs, toc_id):
    measured = {ref for ind in load_catalogue() for ref in ind.nodes}
    toc = tocs[toc_id]
    effects = [n for n in toc.nodes if n.layer in ("output", "short_term", "long_term", "negative_effect")]
    assert len(effects) > 10
    missing = [f"{n.layer}: {n.id}" for n in effects if f"{toc_id}/{n.id}" not in measured]
    assert missing == []
    assert coverage(toc)["uncovered"] == []
    assert set(EFFECT_LAYERS) == {"output", "short_term", "long_term", "negative_effect"}


def test_regie_ervaren_measures_taking_control_in_both_employee_tocs(tocs):
    regie = indicators_by_id()["regie_ervaren"]
    assert (regie.source, regie.scale, regie.respondent) == ("questionnaire_employee", "likert5", "employee")
    assert set(regie.periods) == {"t0", "t1", "t2"} and regie.direction == "higher_is_better"
    for toc_id in EMPLOYEE_TOCS:
        node = next(n for n in tocs[toc_id].nodes if n.id == "employee_takes_control")
        assert "regie in handen" in node.label_nl
        assert f"{toc_id}/employee_takes_control" in regie.primary_for
        assert primary_indicators(toc_id)["employee_takes_control"].id == "regie_ervaren"
    assert survey_rules()["regie_ervaren"] == SurveyRule("employee", 1, 5, True)


@pytest.mark.parametrize(
    ("indicator", "scale"),
    [("ao_pct", "percent"), ("absence_days", "days"), ("loonwaarde_pct", "percent"), ("rtw_12m", "yes_no")],
)
def test_the_administrative_indicators_exist(indicator, scale):
    ind = indicators_by_id()[indicator]
    assert (ind.source, ind.scale) == ("admin", scale)
    assert indicator not in survey_rules()
    assert indicators_by_id()["ao_pct"].lower_is_better


def test_every_measured_node_has_exactly_one_primary():
    catalogue = load_catalogue()
    measured = {ref for ind in catalogue for ref in ind.nodes}
    primaries = Counter(ref for ind in catalogue for ref in ind.primary_for)
    assert set(primaries) == measured
    assert {ref: n for ref, n in primaries.items() if n != 1} == {}
    for ind in catalogue:
        assert set(ind.primary_for) <= set(ind.nodes), ind.id


def test_ids_are_unique_and_questionnaire_scales_are_known():
    catalogue = load_catalogue()
    ids = [i.id for i in catalogue]
    assert len(ids) == len(set(ids))
    for ind in catalogue:
        assert ind.scale in SCALE_RANGES
        if ind.respondent:
            assert set(ind.periods) <= {"t0", "t1", "t2"}, ind.id


def test_the_shipped_catalogue_is_valid(tocs):
    assert validate_catalogue() == []
    assert validate_catalogue(tocs, CATALOGUE_PATH) == []


def _broken(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    change({i["id"]: i for i in raw["indicators"]}, raw)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_an_indicator_pointing_at_an_unknown_node_is_caught(tmp_path, tocs):
    path = _broken(
        tmp_path, lambda ind, raw: ind["regie_ervaren"]["nodes"].append("werknemer-vroegtijdig/no_such_node")
    )
    assert len(load_catalogue(path)) == len(load_catalogue())
    problems = validate_catalogue(tocs, path=path)
    assert problems == [
        "catalogue.yaml: indicator 'regie_ervaren' points at unknown node 'werknemer-vroegtijdig/no_such_node'"
    ]


def test_an_unknown_toc_is_caught(tmp_path, tocs):
    path = _broken(tmp_path, lambda ind, raw: ind["ao_pct"]["nodes"].append("nergens/absence_reduced"))
    assert any("unknown ToC 'nergens'" in p for p in validate_catalogue(tocs, path=path))


def test_a_doubled_or_missing_primary_is_caught(tmp_path, tocs):
    def double(ind, raw):
        ind["absence_days"]["primary_for"].append("werkgever-preventief/absence_reduced")  # already primary
        ind["wia_aanvraag"]["primary_for"].remove("tweede-spoor/fewer_wia_inflow")

    problems = validate_catalogue(tocs, path=_broken(tmp_path, double))
    assert any("werkgever-preventief/absence_reduced has 2 primary indicators" in p for p in problems)
    assert any("tweede-spoor/fewer_wia_inflow is measured but has no primary" in p for p in problems)


def test_a_primary_that_is_not_measured_is_caught(tmp_path, tocs):
    path = _broken(
        tmp_path, lambda ind, raw: ind["regie_ervaren"]["primary_for"].append("werkgever-vroegtijdig/absence_reduced")
    )
    problems = validate_catalogue(tocs, path=path)
    assert any(
        "'regie_ervaren' is primary for werkgever-vroegtijdig/absence_reduced but does not measure it" in p
        for p in problems
    )


@pytest.mark.parametrize("text", ["indicators: [unclosed", "", "- just a list", "indicators:\n  - id: Bad Id\n"])
def test_a_catalogue_that_cannot_be_read_is_a_problem_not_a_crash(tmp_path, tocs, text):
    path = tmp_path / f"cat{abs(hash(text))}.yaml"
    path.write_text(text, encoding="utf-8")
    problems = validate_catalogue(tocs, path=path)
    assert len(problems) == 1 and problems[0].startswith(f"{path.name}: ")
