"""Each validation rule, proven with a broken file whose message must name the file and the node."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from toc.load import TocFileError, load_toc
from toc.rules import validate_paths

NONE = {"grade": "none", "grade_reason": "Derived, no source."}
WEAK = {"grade": "weak", "grade_reason": "Stated in the report."}
VALID = {
    "id": "mini",
    "title": "Mini ToC",
    "title_en": "Mini ToC",
    "perspective": "employer",
    "timing": "early",
    "intervention": "Test",
    "source": {"title": "test"},
    "references": {"a": "Someone (2020)."},
    "nodes": [
        {"id": "act", "layer": "activity", "label_nl": "Activiteit", "label_en": "Activity"},
        {"id": "out", "layer": "output", "label_nl": "Output", "label_en": "Output"},
        {"id": "short", "layer": "short_term", "label_nl": "Kort", "label_en": "Short"},
        {
            "id": "long",
            "layer": "long_term",
            "label_nl": "Lang",
            "label_en": "Long",
            "evidence": [{"ref": "a", "note": "shows it"}],
        },
        {"id": "neg", "layer": "negative_effect", "label_nl": "Negatief", "label_en": "Negative"},
        {"id": "pre", "layer": "precondition", "label_nl": "Voorwaarde", "label_en": "Precondition"},
    ],
    "links": [
        {"source": "act", "target": "out", "origin": "report", "rationale": "r", **WEAK},
        {"source": "out", "target": "short", "origin": "derived", "rationale": "r", **NONE},
        {"source": "short", "target": "long", "origin": "derived", "rationale": "r", **NONE},
        {"source": "act", "target": "neg", "origin": "report", "rationale": "r", **WEAK},
    ],
}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, data: dict) -> list[str]:
    return [str(p) for p in validate_paths([write(tmp_path, data)])]


def broken(mutate) -> dict:
    data = copy.deepcopy(VALID)
    mutate(data)
    return data


def test_the_minimal_toc_is_valid(tmp_path):
    assert problems_of(tmp_path, VALID) == []


def test_unknown_layer_names_file_and_node(tmp_path):
    data = broken(lambda d: d["nodes"][1].update(layer="outcome"))
    [problem] = problems_of(tmp_path, data)
    assert "mini.yaml: node 'out'" in problem and "unknown layer 'outcome'" in problem


def test_duplicate_id(tmp_path):
    data = broken(lambda d: d["nodes"].append(dict(d["nodes"][2])))
    [problem] = problems_of(tmp_path, data)
    assert "node 'short'" in problem and "duplicate id" in problem


def test_link_to_unknown_node(tmp_path):
    data = broken(
        lambda d: d["links"].append(
            {"source": "short", "target": "ghost", "origin": "derived", "rationale": "r", **NONE}
        )
    )
    [problem] = problems_of(tmp_path, data)
    assert "node 'ghost'" in problem and "unknown node" in problem


def test_cycle(tmp_path):
    def make_cycle(d):
        d["nodes"].append({"id": "short2", "layer": "short_term", "label_nl": "K2", "label_en": "S2"})
        d["links"] += [
            {"source": "short", "target": "short2", "origin": "derived", "rationale": "r", **NONE},
            {"source": "short2", "target": "short", "origin": "derived", "rationale": "r", **NONE},
        ]

    problems = problems_of(tmp_path, broken(make_cycle))
    assert any("cycle: " in p and "short" in p and "short2" in p for p in problems), problems


@pytest.mark.parametrize("source,target", [("long", "short"), ("short", "act"), ("out", "act")])
def test_downward_link(tmp_path, source, target):
    data = broken(
        lambda d: d["links"].append({"source": source, "target": target, "origin": "derived", "rationale": "r", **NONE})
    )
    problems = problems_of(tmp_path, data)
    assert any(f"link {source}" in p and "runs downwards" in p and f"node '{source}'" in p for p in problems), problems


def test_negative_effect_is_only_caused_by_activity_or_output(tmp_path):
    data = broken(
        lambda d: d["links"].append({"source": "long", "target": "neg", "origin": "derived", "rationale": "r", **NONE})
    )
    problems = problems_of(tmp_path, data)
    assert any("node 'neg'" in p and "activity or output" in p for p in problems), problems


def test_precondition_takes_no_links(tmp_path):
    data = broken(
        lambda d: d["links"].append({"source": "pre", "target": "long", "origin": "derived", "rationale": "r", **NONE})
    )
    problems = problems_of(tmp_path, data)
    assert any("precondition nodes take no links" in p for p in problems), problems


def test_effect_no_activity_reaches(tmp_path):
    def orphan(d):
        d["nodes"].append({"id": "lonely", "layer": "long_term", "label_nl": "Alleen", "label_en": "Alone"})

    problems = problems_of(tmp_path, broken(orphan))
    assert problems == [
        "mini.yaml: node 'lonely': long_term that no activity reaches".replace("mini.yaml", str(tmp_path / "mini.yaml"))
    ]


def test_activity_that_leads_nowhere(tmp_path):
    def idle(d):
        d["nodes"].append({"id": "idle", "layer": "activity", "label_nl": "Niets", "label_en": "Nothing"})

    [problem] = problems_of(tmp_path, broken(idle))
    assert "node 'idle'" in problem and "leads nowhere" in problem


def test_unreached_negative_effect(tmp_path):
    data = broken(lambda d: d["links"].pop())  # drop act -> neg
    [problem] = problems_of(tmp_path, data)
    assert "node 'neg'" in problem and "negative_effect that no activity reaches" in problem


def test_evidence_must_cite_a_known_reference(tmp_path):
    data = broken(lambda d: d["nodes"][3]["evidence"].append({"ref": "z", "note": "n"}))
    with pytest.raises(TocFileError, match="unknown reference 'z'"):
        load_toc(write(tmp_path, data))


def test_unreadable_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    [problem] = validate_paths([path])
    assert str(path) in str(problem) and "not valid YAML" in str(problem)


def load_problems(tmp_path: Path, data: dict) -> list[str]:
    """The one-line problems of a file that does not load."""
    with pytest.raises(TocFileError) as caught:
        load_toc(write(tmp_path, data))
    return [str(p) for p in caught.value.problems]


def test_every_link_needs_a_grade_and_a_reason(tmp_path):
    data = broken(lambda d: [d["links"][1].pop("grade"), d["links"][1].pop("grade_reason")])
    problems = load_problems(tmp_path, data)
    assert len(problems) == 2 and all("link out -> short" in p for p in problems), problems
    assert any("grade: Field required" in p for p in problems) and any("grade_reason" in p for p in problems)


@pytest.mark.parametrize(
    "change,words",
    [
        ({"grade": "moderate"}, "grade 'moderate' needs the study behind it as evidence"),
        ({"grade": "strong"}, "grade 'strong' needs the study behind it as evidence"),
        ({"grade": "none", "origin": "report"}, "the report states the link"),
        ({"grade": "none", "evidence": [{"ref": "a", "note": "n"}]}, "the link carries evidence"),
        ({"grade": "convincing"}, "grade: Input should be 'strong', 'moderate', 'weak' or 'none'"),
        ({"grade_reason": ""}, "grade_reason: String should have at least 1 character"),
    ],
)
def test_a_grade_must_fit_its_evidence(tmp_path, change, words):
    [problem] = load_problems(tmp_path, broken(lambda d: d["links"][1].update(change)))
    assert f"{tmp_path / 'mini.yaml'}: link out -> short: " in problem and words in problem, problem


def test_grades_that_fit_load(tmp_path):
    def graded(d):
        d["links"][1].update(grade="moderate", evidence=[{"ref": "a", "note": "a cohort study"}])
        d["links"][2].update(grade="weak", evidence=[{"ref": "a", "note": "an opinion"}])

    toc = load_toc(write(tmp_path, broken(graded)))
    assert [link.grade for link in toc.links] == ["weak", "moderate", "weak", "weak"]


CHECK = {"measure": "share_included_within_6_months", "comparator": ">=", "threshold": 0.8, "group": "intervention"}


def test_a_precondition_with_a_check_loads(tmp_path):
    toc = load_toc(write(tmp_path, broken(lambda d: d["nodes"][5].update(check=CHECK))))
    check = toc.node("pre").check
    assert (check.measure, check.comparator, check.threshold, check.group, check.period) == (
        "share_included_within_6_months",
        ">=",
        0.8,
        "intervention",
        "run",
    )


@pytest.mark.parametrize(
    "node,change,words",
    [
        (1, {"check": CHECK}, "only assumptions and preconditions carry a check, not a output"),
        (5, {"check": CHECK, "untestable_nl": "x", "untestable_en": "x"}, "exclude each other"),
        (5, {"untestable_nl": "Niet in de data."}, "untestable_nl and untestable_en go together"),
        (5, {"check": CHECK | {"comparator": "=="}}, "check.comparator"),
        (5, {"check": CHECK | {"group": "everyone"}}, "check.group"),
        (5, {"check": CHECK | {"period": "t3"}}, "check.period"),
        (5, {"check": {k: v for k, v in CHECK.items() if k != "threshold"}}, "check.threshold: Field required"),
    ],
)
def test_a_check_is_checked(tmp_path, node, change, words):
    problems = load_problems(tmp_path, broken(lambda d: d["nodes"][node].update(change)))
    node_id = VALID["nodes"][node]["id"]
    assert any(f"node '{node_id}'" in p and words in p for p in problems), problems
