"""A ToC as a networkx DiGraph, and the queries evaluators ask of it."""

from __future__ import annotations

import networkx as nx

from toc.errors import TocError
from toc.models import MAIN_LAYERS, TheoryOfChange


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
