"""A ToC as a networkx DiGraph, and the queries evaluators ask of it: pathways, their weakest link, their
support by the evidence and by a run's results."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import networkx as nx

from toc.errors import TocError
from toc.models import GRADES, MAIN_LAYERS, Link, TheoryOfChange
from toc.overlay import NodeResult, classify


def to_graph(toc: TheoryOfChange) -> nx.DiGraph:
    """Nodes carry every Node field as attributes; edges carry origin, rationale and evidence."""
    graph = nx.DiGraph(id=toc.id, title=toc.title)
    for node in toc.nodes:
        graph.add_node(node.id, **node.model_dump())
    for link in toc.links:
        graph.add_edge(link.source, link.target, **link.model_dump(exclude={"source", "target"}))
    return graph


def layer_of(graph: nx.DiGraph, node: str) -> str:
    return graph.nodes[node]["layer"]


def nodes_in(graph: nx.DiGraph, *layers: str) -> list[str]:
    return [n for n, layer in graph.nodes(data="layer") if layer in layers]


def reachable_from(graph: nx.DiGraph, sources: list[str]) -> set[str]:
    """Every node reachable from any of `sources` (the sources included)."""
    seen: set[str] = set(sources)
    for source in sources:
        seen |= nx.descendants(graph, source)
    return seen


def pathways(toc: TheoryOfChange, start: str) -> list[list[str]]:
    """Every causal pathway from `start` up to a long-term effect where the chain ends.

    A pathway ends at a long-term effect with no further long-term successor, so that a path through
    one long-term effect to another is reported once, at full length. Sorted for stable output.
    """
    graph = to_graph(toc)
    if start not in graph:
        raise TocError(f"ToC {toc.id} has no node '{start}'")
    chain = graph.subgraph(nodes_in(graph, *MAIN_LAYERS))
    ends = [
        n
        for n in nodes_in(chain, "long_term")
        if not any(layer_of(chain, s) == "long_term" for s in chain.successors(n))
    ]
    if start not in chain:
        return []
    # networkx >= 3.3 yields [start] itself when start is an end; add it once, whatever the version
    paths = [p for end in ends if end != start for p in nx.all_simple_paths(chain, start, end)]
    if start in ends:
        paths.append([start])
    return sorted(paths, key=lambda p: (len(p), p))


#: Points per grade for the mean support of a pathway's links; the order of `GRADES`, strongest first.
GRADE_POINTS: dict[str, int] = {grade: len(GRADES) - 1 - rank for rank, grade in enumerate(GRADES)}


def path_links(toc: TheoryOfChange, path: list[str]) -> list[Link]:
    """The links along `path`, in order."""
    by_ends = {(link.source, link.target): link for link in toc.links}
    return [by_ends[pair] for pair in itertools.pairwise(path)]


def weakest_link(toc: TheoryOfChange, path: list[str]) -> Link | None:
    """The link along `path` with the weakest evidence; of equally weak links the first from the start.

    None for a pathway of one node (a long-term effect that ends the chain has no links)."""
    links = path_links(toc, path)
    return min(links, key=lambda link: GRADE_POINTS[link.grade], default=None)


def pathway_record(toc: TheoryOfChange, path: list[str], results: Mapping[str, NodeResult] | None = None) -> dict:
    """One pathway as `toc paths --json` gives it: nodes, links with grades, the weakest link, and with
    `results` (node -> result of a run) what the data say about each node."""
    weakest = weakest_link(toc, path)
    record: dict = {
        "nodes": list(path),
        "links": [{"source": k.source, "target": k.target, "grade": k.grade} for k in path_links(toc, path)],
        "weakest_link": None
        if weakest is None
        else {"source": weakest.source, "target": weakest.target, "grade": weakest.grade},
    }
    if results is not None:
        record["measured"] = [_measured(node, results.get(node)) for node in path]
    return record


def _measured(node: str, result: NodeResult | None) -> dict:
    outcome = classify(result)
    return {
        "node": node,
        "indicator": result.indicator if result is not None else None,
        "result": outcome,
        "improved": None if outcome == "not_measured" else outcome == "improvement",
    }


#: How a pathway's long-term effect ranks it: improved first, worsened last.
END_ORDER: dict[str, int] = {"improvement": 0, "no_evidence": 1, "not_measured": 2, "worsening": 3}


def rank_pathways(
    toc: TheoryOfChange, paths: list[list[str]], results: Mapping[str, NodeResult] | None = None
) -> list[list[str]]:
    """Pathways from best to least supported by the data and the evidence.

    First by what the run measured: on the pathway's long-term effect (improved, no evidence, not measured,
    worsened), then along the whole pathway (the share of its nodes that improved minus the share that worsened);
    without `results` these count for nothing. Then by its weakest link, then by the mean grade of its links;
    equal pathways keep their order."""

    def support(path: list[str]) -> tuple[int, float, int, float]:
        classes = [classify((results or {}).get(node)) for node in path]
        data = (classes.count("improvement") - classes.count("worsening")) / len(path)
        links = path_links(toc, path)
        weakest = weakest_link(toc, path)
        mean = sum(GRADE_POINTS[k.grade] for k in links) / len(links) if links else 0.0
        return (END_ORDER[classes[-1]], -data, -(GRADE_POINTS[weakest.grade] if weakest else 0), -mean)

    return sorted(paths, key=support)
