"""Each validation rule, proven with a broken file whose message must name the file and the node."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from toc.load import TocFileError, load_toc
from toc.rules import validate_paths

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
        {"source": "act", "target": "out", "origin": "report", "rationale": "r"},
        {"source": "out", "target": "short", "origin": "derived", "rationale": "r"},
        {"source": "short", "target": "long", "origin": "derived", "rationale": "r"},
        {"source": "act", "target": "neg", "origin": "report", "rationale": "r"},
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
        lambda d: d["links"].append({"source": "short", "target": "ghost", "origin": "derived", "rationale": "r"})
    )
    [problem] = problems_of(tmp_path, data)
    assert "node 'ghost'" in problem and "unknown node" in problem


def test_cycle(tmp_path):
    def make_cycle(d):
        d["nodes"].append({"id": "short2", "layer": "short_term", "label_nl": "K2", "label_en": "S2"})
        d["links"] += [
            {"source": "short", "target": "short2", "origin": "derived", "rationale": "r"},
            {"source": "short2", "target": "short", "origin": "derived", "rationale": "r"},
        ]

    problems = problems_of(tmp_path, broken(make_cycle))
    assert any("cycle: " in p and "short" in p and "short2" in p for p in problems), problems


@pytest.mark.parametrize("source,target", [("long", "short"), ("short", "act"), ("out", "act")])
def test_downward_link(tmp_path, source, target):
    data = broken(
        lambda d: d["links"].append({"source": source, "target": target, "origin": "derived", "rationale": "r"})
    )
    problems = problems_of(tmp_path, data)
    assert any(f"link {source}" in p and "runs downwards" in p and f"node '{source}'" in p for p in problems), problems


def test_negative_effect_is_only_caused_by_activity_or_output(tmp_path):
    data = broken(
        lambda d: d["links"].append({"source": "long", "target": "neg", "origin": "derived", "rationale": "r"})
    )
    problems = problems_of(tmp_path, data)
    assert any("node 'neg'" in p and "activity or output" in p for p in problems), problems


def test_precondition_takes_no_links(tmp_path):
    data = broken(
        lambda d: d["links"].append({"source": "pre", "target": "long", "origin": "derived", "rationale": "r"})
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
