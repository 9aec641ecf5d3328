"""Pathways through a ToC and the diff between two versions of one."""

from __future__ import annotations

import itertools

import pytest

from toc.diff import diff_tocs
from toc.errors import TocError
from toc.graph import pathway_record, pathways, rank_pathways, to_graph, weakest_link
from toc.load import load_shipped
from toc.models import MAIN_LAYERS, Link, Node, TheoryOfChange
from toc.overlay import NodeResult

TOCS = load_shipped()


def expected_pathways(toc: TheoryOfChange, start: str) -> set[tuple[str, ...]]:
    """Independent enumeration: walk the links of the causal chain until a long-term effect with no
    long-term successor (the top of the chain)."""
    layer = {n.id: n.layer for n in toc.nodes}
    succ: dict[str, list[str]] = {}
    for lk in toc.links:
        if layer[lk.source] in MAIN_LAYERS and layer[lk.target] in MAIN_LAYERS:
            succ.setdefault(lk.source, []).append(lk.target)
    found: set[tuple[str, ...]] = set()

    def walk(path: list[str]) -> None:
        here = path[-1]
        nxt = succ.get(here, [])
        if layer[here] == "long_term" and not any(layer[s] == "long_term" for s in nxt):
            found.add(tuple(path))
        for s in nxt:
            if s not in path:
                walk([*path, s])

    if layer[start] in MAIN_LAYERS:
        walk([start])
    return found


def check_pathway(toc: TheoryOfChange, start: str, path: list[str]) -> None:
    graph = to_graph(toc)
    assert path[0] == start
    end = path[-1]
    assert graph.nodes[end]["layer"] == "long_term"
    assert not any(graph.nodes[s]["layer"] == "long_term" for s in graph.successors(end)), path
    for a, b in itertools.pairwise(path):
        assert graph.has_edge(a, b), f"{a} -> {b} is not a link"
        assert graph.nodes[b]["layer"] in MAIN_LAYERS
    assert len(set(path)) == len(path)


@pytest.mark.parametrize("toc_id", sorted(TOCS))
def test_pathways_from_every_chain_node(toc_id):
    toc = TOCS[toc_id]
    for node in toc.nodes_in(*MAIN_LAYERS):
        found = pathways(toc, node.id)
        for path in found:
            check_pathway(toc, node.id, path)
        assert len(found) == len({tuple(p) for p in found}), f"{node.id}: a pathway is listed twice"
        assert {tuple(p) for p in found} == expected_pathways(toc, node.id), node.id
        if node.layer == "activity":
            assert found, f"activity {node.id} has no pathway"


def test_pathways_of_a_known_chain():
    toc = TOCS["werknemer-vroegtijdig"]
    found = pathways(toc, "suitable_job_in_second_track")
    assert found == [
        ["suitable_job_in_second_track", "less_wia_inflow"],
        ["suitable_job_in_second_track", "sustainable_employability"],
    ]
    assert pathways(toc, "less_wia_inflow") == [["less_wia_inflow"]]
    assert pathways(toc, "employee_loses_control") == []  # a negative effect is outside the chain
    with pytest.raises(TocError, match="no node 'nope'"):
        pathways(toc, "nope")


def modified(toc: TheoryOfChange) -> TheoryOfChange:
    """A copy with one node relabelled, one removed (with its links), one added and one link changed."""
    data = toc.model_dump()
    removed = "task_delegation"
    data["nodes"] = [n for n in data["nodes"] if n["id"] != removed]
    for n in data["nodes"]:
        if n["id"] == "absence_reduced":
            n["label_nl"] = "Verzuim neemt sterk af"
    data["nodes"].append(Node(id="new_output", layer="output", label_nl="Nieuw", label_en="New").model_dump())
    links = [lk for lk in data["links"] if removed not in (lk["source"], lk["target"])]
    for lk in links:
        if (lk["source"], lk["target"]) == ("dossier_check", "ad_finds_return_options"):
            lk["origin"], lk["rationale"] = "report", "Now stated in the text."
            lk["grade"], lk["grade_reason"] = "weak", "Stated in the report."
    links.append(
        Link(
            source="dossier_check", target="new_output", origin="derived", rationale="r", grade="none", grade_reason="g"
        ).model_dump()
    )
    data["links"] = links
    return TheoryOfChange.model_validate(data)


def test_diff_finds_added_removed_and_changed_nodes_and_links():
    old = TOCS["werknemer-vroegtijdig"]
    new = modified(old)
    result = diff_tocs(old, new)
    assert not result.empty
    assert result.nodes_added == ["new_output"]
    assert result.nodes_removed == ["task_delegation"]
    assert [c.key for c in result.nodes_changed] == ["absence_reduced"]
    assert result.nodes_changed[0].fields == {"label_nl": ("Verzuim neemt af", "Verzuim neemt sterk af")}
    assert result.links_added == ["dossier_check -> new_output"]
    assert result.links_removed == ["task_delegation -> return_to_work_plan_drawn_up"]
    [change] = result.links_changed
    assert change.key == "dossier_check -> ad_finds_return_options"
    assert set(change.fields) == {"origin", "rationale", "grade", "grade_reason"}
    assert change.fields["origin"] == ("derived", "report")
    as_dict = result.as_dict()
    assert as_dict["nodes"]["changed"][0]["fields"]["label_nl"] == {
        "old": "Verzuim neemt af",
        "new": "Verzuim neemt sterk af",
    }
    # and backwards: what was added is now removed
    back = diff_tocs(new, old)
    assert back.nodes_added == ["task_delegation"] and back.nodes_removed == ["new_output"]


@pytest.mark.parametrize("toc_id", sorted(TOCS))
def test_diff_of_identical_tocs_is_empty(toc_id):
    toc = TOCS[toc_id]
    result = diff_tocs(toc, TheoryOfChange.model_validate(toc.model_dump()))
    assert result.empty
    assert result.as_dict()["nodes"] == {"added": [], "removed": [], "changed": []}
    assert result.as_dict()["links"] == {"added": [], "removed": [], "changed": []}


def hand_made() -> TheoryOfChange:
    """a -> o -> s1 -> s2 -> l1 -> l2 and o -> l1, with grades chosen so that the weakest link is known."""
    nodes = [("a", "activity"), ("o", "output"), ("s1", "short_term"), ("s2", "short_term")]
    nodes += [("l1", "long_term"), ("l2", "long_term")]
    links = [
        ("a", "o", "report", "weak", []),
        ("o", "s1", "report", "moderate", [{"ref": "x", "note": "a cohort"}]),
        ("s1", "s2", "report", "weak", []),
        ("s2", "l1", "report", "strong", [{"ref": "x", "note": "a trial"}]),
        ("l1", "l2", "report", "weak", []),
        ("o", "l1", "derived", "none", []),
    ]
    return TheoryOfChange.model_validate(
        {
            "id": "hand",
            "title": "Hand",
            "title_en": "Hand",
            "perspective": "employer",
            "timing": "early",
            "intervention": "Test",
            "source": {"title": "test"},
            "references": {"x": "A study."},
            "nodes": [{"id": i, "layer": layer, "label_nl": i, "label_en": i} for i, layer in nodes],
            "links": [
                {
                    "source": s,
                    "target": t,
                    "origin": o,
                    "rationale": "r",
                    "grade": g,
                    "grade_reason": "why",
                    "evidence": e,
                }
                for s, t, o, g, e in links
            ],
        }
    )


def test_weakest_link_of_a_hand_made_toc():
    toc = hand_made()
    assert pathways(toc, "a") == [["a", "o", "l1", "l2"], ["a", "o", "s1", "s2", "l1", "l2"]]
    short, long = pathways(toc, "a")
    assert (weakest_link(toc, short).source, weakest_link(toc, short).target) == ("o", "l1")  # none beats weak
    # three weak links and nothing weaker: the first from the start is the weakest
    assert (weakest_link(toc, long).source, weakest_link(toc, long).target, weakest_link(toc, long).grade) == (
        "a",
        "o",
        "weak",
    )
    assert weakest_link(toc, ["s2", "l1"]).grade == "strong"
    assert weakest_link(toc, ["l2"]) is None
    assert pathway_record(toc, ["l2"]) == {"nodes": ["l2"], "links": [], "weakest_link": None}
    record = pathway_record(toc, short)
    assert record["weakest_link"] == {"source": "o", "target": "l1", "grade": "none"}
    assert [lk["grade"] for lk in record["links"]] == ["weak", "none", "weak"]


def test_pathways_ranked_by_data_then_evidence():
    toc = hand_made()
    short, long = pathways(toc, "a")
    # evidence alone: the long pathway's weakest link (weak) beats the short one's (none)
    assert rank_pathways(toc, [short, long]) == [long, short]
    # the data come first: l1 measured to improve lifts the short pathway (1 of 4 nodes) above the long (1 of 6)
    better = {"l1": NodeResult("ind", -2.0, -3.0, -1.0, lower_is_better=True)}
    assert rank_pathways(toc, [long, short], better) == [short, long]
    # a worsening on the long pathway's own nodes only pushes it further down
    worse = better | {"s1": NodeResult("ind2", -0.5, -0.9, -0.1, lower_is_better=False)}
    assert rank_pathways(toc, [long, short], worse) == [short, long]
    # the long-term effect comes first: an improved end beats more improved steps on the way
    ending = {"s1": NodeResult("x", 1, 0.5, 1.5, False), "s2": NodeResult("y", 1, 0.5, 1.5, False)}
    assert rank_pathways(toc, [long, short], ending) == [long, short]
    ending["l2"] = NodeResult("z", -1, -1.5, -0.5, False)  # the shared end worsens: both rank by their steps
    assert rank_pathways(toc, [short, long], ending) == [long, short]
    # the same improved end: the share of improved nodes decides (1 of 4 beats 1 of 6)
    assert rank_pathways(toc, [long, short], {"l2": NodeResult("z", 1, 0.5, 1.5, False)}) == [short, long]
    measured = pathway_record(toc, long, worse)["measured"]
    assert [(m["node"], m["result"], m["improved"]) for m in measured] == [
        ("a", "not_measured", None),
        ("o", "not_measured", None),
        ("s1", "worsening", False),
        ("s2", "not_measured", None),
        ("l1", "improvement", True),
        ("l2", "not_measured", None),
    ]
