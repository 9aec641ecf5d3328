"""A ToC as a causal DAG, and which effects of the intervention a set of observed variables identifies.

The DAG (a networkx DiGraph) is built by these rules:
- one exposure node, `intervention`, with an edge to every activity: deploying the intervention is what the
  groups differ in; the activities are how it works;
- the causal chain as the ToC draws it: activities, outputs, short- and long-term effects and the negative
  effects with their links; the long-term effects are the outcomes;
- each precondition as a node with an edge to every long-term effect (the ToC says the effects depend on it)
  and none to the exposure: the ToC's own assumption that the preconditions are spread alike over the groups;
- each confounder the caller names (a `Confounder`: variables outside the ToC, such as a pilot's employer)
  with an edge to the exposure when it influences who gets the intervention, to every effect node, and from
  the confounders it names as its causes;
- excluded effects and assumptions are statements about the graph, not variables, and stay out.
The exposure's labels are the ToC's `intervention` (a name; the model has no English one). Every node carries `layer`, `role` (exposure, outcome, mediator, precondition, confounder), `label_nl`,
`label_en` and `observed` (True for variables the data hold; pass `observed`, else the chain counts as observed
and the preconditions do not).

`identify` applies the back-door criterion: the effect of the exposure on a node is identified by adjustment
when some set of observed variables, none of them a descendant of the exposure, d-separates the two once the
exposure's own outgoing edges are removed. It returns a minimal such set (networkx's minimal d-separator).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import networkx as nx

from toc.errors import TocError
from toc.models import EFFECT_LAYERS, TheoryOfChange

EXPOSURE = "intervention"
#: The columns of a left-to-right drawing (dagitty positions), by layer or role.
COLUMNS = {
    "confounder": 0,
    "exposure": 1,
    "activity": 2,
    "output": 3,
    "short_term": 4,
    "negative_effect": 4,
    "long_term": 5,
    "precondition": 5,
}


@dataclass(frozen=True)
class Confounder:
    """A variable outside the ToC that influences the effects and, when `affects_exposure`, who is treated."""

    id: str
    label_nl: str
    label_en: str
    observed: bool = True
    affects_exposure: bool = True
    causes: tuple[str, ...] = ()  # other confounders it influences (sector -> employer)


@dataclass(frozen=True)
class Identification:
    """Whether the effect of the exposure on `outcome` is identified by adjustment, and for what set."""

    outcome: str
    identified: bool
    adjustment_set: tuple[str, ...]  # sorted; empty when nothing needs adjusting (or when not identified)


def causal_dag(
    toc: TheoryOfChange, confounders: Sequence[Confounder] = (), observed: Collection[str] | None = None
) -> nx.DiGraph:
    """The ToC as a DAG by the module's rules. `observed`: node ids the data hold (None: the whole chain)."""
    chain = [n for n in toc.nodes if n.layer in ("activity", *EFFECT_LAYERS)]
    preconditions = toc.nodes_in("precondition")
    clash = {c.id for c in confounders} & ({n.id for n in toc.nodes} | {EXPOSURE})
    if clash:
        raise TocError(f"ToC {toc.id}: confounder id(s) {', '.join(sorted(clash))} already name a node")
    dag = nx.DiGraph(id=toc.id, title=toc.title)
    dag.add_node(EXPOSURE, layer="exposure", role="exposure", label_nl=toc.intervention, label_en=toc.intervention)
    for node in [*chain, *preconditions]:
        dag.add_node(node.id, layer=node.layer, role=_role(node.layer), label_nl=node.label_nl, label_en=node.label_en)
    for node in toc.nodes_in("activity"):
        dag.add_edge(EXPOSURE, node.id)
    kept = set(dag)
    dag.add_edges_from((link.source, link.target) for link in toc.links if {link.source, link.target} <= kept)
    long_term = [n.id for n in toc.nodes_in("long_term")]
    dag.add_edges_from((p.id, effect) for p in preconditions for effect in long_term)
    effects = [n.id for n in chain if n.layer in EFFECT_LAYERS]
    for c in confounders:
        dag.add_node(c.id, layer="confounder", role="confounder", label_nl=c.label_nl, label_en=c.label_en)
        dag.add_edges_from((c.id, effect) for effect in effects)
        if c.affects_exposure:
            dag.add_edge(c.id, EXPOSURE)
    for c in confounders:
        for cause_of in c.causes:
            if cause_of not in {x.id for x in confounders}:
                raise TocError(f"confounder {c.id} causes unknown confounder {cause_of}")
            dag.add_edge(c.id, cause_of)
    seen = set(observed) if observed is not None else {EXPOSURE, *(n.id for n in chain)}
    for node, data in dag.nodes(data=True):
        data["observed"] = node == EXPOSURE or node in seen or any(c.id == node and c.observed for c in confounders)
    if not nx.is_directed_acyclic_graph(dag):
        raise TocError(f"ToC {toc.id}: the causal graph has a cycle")
    return dag


def _role(layer: str) -> str:
    return {"long_term": "outcome", "precondition": "precondition"}.get(layer, "mediator")


def identify(dag: nx.DiGraph, outcome: str, exposure: str = EXPOSURE) -> Identification:
    """The back-door criterion for exposure -> outcome with a minimal adjustment set of observed variables."""
    if outcome not in dag:
        raise TocError(f"the causal graph of {dag.graph.get('id', 'the ToC')} has no node '{outcome}'")
    descendants = nx.descendants(dag, exposure)
    allowed = {n for n, seen in dag.nodes(data="observed") if seen and n != exposure and n not in descendants}
    backdoor = dag.copy()
    backdoor.remove_edges_from(list(dag.out_edges(exposure)))
    found = nx.find_minimal_d_separator(backdoor, exposure, outcome, restricted=allowed)
    if found is None:
        return Identification(outcome, False, ())
    return Identification(outcome, True, tuple(sorted(found)))


def dag_positions(dag: nx.DiGraph) -> dict[str, tuple[int, int]]:
    """Node -> (column, row) for a left-to-right drawing: columns by layer, rows in node order."""
    rows: dict[int, int] = {}
    positions = {}
    for node, layer in dag.nodes(data="layer"):
        column = COLUMNS[layer]
        positions[node] = (column, rows.get(column, 0))
        rows[column] = rows.get(column, 0) + 1
    return positions
