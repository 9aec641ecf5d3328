"""Structural rules of a Theory of Change, each reported as a Problem naming the file and the node.

Schema rules (unknown layer, missing label, bad id) are enforced when the file is loaded
(`toc.load`); the rules here need the whole ToC: unique ids, links between known nodes, no cycles,
no link that runs down the chain, every effect reached from an activity, every activity reaching a
long-term effect.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import networkx as nx

from toc.graph import reachable_from, to_graph
from toc.load import Problem, TocFileError, load_toc
from toc.models import EFFECT_LAYERS, LAYER_RANK, SIDE_LAYERS, TheoryOfChange


def validate_paths(paths: list[Path]) -> list[Problem]:
    """Load and check every file; the problems of all files, in file order."""
    problems: list[Problem] = []
    for path in paths:
        try:
            toc = load_toc(path)
        except TocFileError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(validate_toc(toc, str(path)))
    return problems


def validate_toc(toc: TheoryOfChange, file: str) -> list[Problem]:
    problems = _duplicate_ids(toc, file) + _unknown_link_ends(toc, file)
    if problems:  # the graph rules below assume unique ids and known link ends
        return problems
    graph = to_graph(toc)
    return (
        _duplicate_links(toc, file)
        + _cycles(graph, file)
        + _downward_links(toc, file)
        + _unreached_effects(toc, graph, file)
        + _activities_leading_nowhere(toc, graph, file)
    )


def _duplicate_ids(toc: TheoryOfChange, file: str) -> list[Problem]:
    counts = Counter(node.id for node in toc.nodes)
    return [Problem(file, f"duplicate id ({n} nodes)", node=i) for i, n in counts.items() if n > 1]


def _unknown_link_ends(toc: TheoryOfChange, file: str) -> list[Problem]:
    known = {node.id for node in toc.nodes}
    return [
        Problem(file, f"link {link.source} -> {link.target} refers to unknown node '{end}'", node=end)
        for link in toc.links
        for end in (link.source, link.target)
        if end not in known
    ]


def _duplicate_links(toc: TheoryOfChange, file: str) -> list[Problem]:
    counts = Counter((link.source, link.target) for link in toc.links)
    return [Problem(file, f"link {s} -> {t} appears {n} times", node=s) for (s, t), n in counts.items() if n > 1]


def _cycles(graph: nx.DiGraph, file: str) -> list[Problem]:
    problems = []
    for cycle in nx.simple_cycles(graph):
        loop = " -> ".join([*cycle, cycle[0]])
        problems.append(Problem(file, f"cycle: {loop}", node=cycle[0]))
    return problems


def _downward_links(toc: TheoryOfChange, file: str) -> list[Problem]:
    """Links must go up the chain (or stay in a layer); negative effects are only caused."""
    layer = {node.id: node.layer for node in toc.nodes}
    problems = []
    for link in toc.links:
        src, dst = layer[link.source], layer[link.target]
        where = f"link {link.source} ({src}) -> {link.target} ({dst})"
        if src in SIDE_LAYERS or dst in SIDE_LAYERS:
            problems.append(
                Problem(file, f"{where}: {src if src in SIDE_LAYERS else dst} nodes take no links", node=link.source)
            )
        elif src == "negative_effect":
            problems.append(
                Problem(file, f"{where}: a negative effect is caused, it causes nothing here", node=link.source)
            )
        elif dst == "negative_effect":
            if src not in ("activity", "output"):
                problems.append(
                    Problem(
                        file,
                        f"{where}: a negative effect is linked from the activity or output that causes it",
                        node=link.target,
                    )
                )
        elif LAYER_RANK[dst] < LAYER_RANK[src]:
            problems.append(Problem(file, f"{where}: runs downwards", node=link.source))
    return problems


def _unreached_effects(toc: TheoryOfChange, graph: nx.DiGraph, file: str) -> list[Problem]:
    reached = reachable_from(graph, [n.id for n in toc.nodes_in("activity")])
    return [
        Problem(file, f"{node.layer} that no activity reaches", node=node.id)
        for node in toc.nodes_in(*EFFECT_LAYERS)
        if node.id not in reached
    ]


def _activities_leading_nowhere(toc: TheoryOfChange, graph: nx.DiGraph, file: str) -> list[Problem]:
    long_term = {n.id for n in toc.nodes_in("long_term")}
    return [
        Problem(file, "activity that leads nowhere (reaches no long-term effect)", node=node.id)
        for node in toc.nodes_in("activity")
        if not nx.descendants(graph, node.id) & long_term
    ]
