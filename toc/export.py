"""A ToC's causal DAG (`toc.causal`) as text other tools read: dagitty and GML.

- dagitty (dagitty.net, the R package `dagitty`): `dag { ... }` with one statement per node, giving its role
  (`exposure`, `outcome`, `latent` for a variable the data do not hold) and a `pos` for a left-to-right
  drawing, then one `a -> b` per edge. Node ids are the ToC's ids (dagitty has no labels). Roles come before
  `pos` in each list, the order dagitty itself writes.
- GML through networkx (what DoWhy reads best): node `label` is the id, with `layer`, `role`, `label_nl`,
  `label_en` and `observed` (`yes`/`no`, DoWhy's own attribute) beside it.
Both list nodes and edges in a fixed order (the ToC's), so the same ToC gives the same bytes.
"""

from __future__ import annotations

import networkx as nx

from toc.causal import dag_positions

#: dagitty's word for a role; mediators, preconditions and confounders have none.
DAGITTY_ROLES = {"exposure": "exposure", "outcome": "outcome"}


def to_dagitty(dag: nx.DiGraph) -> str:
    """dagitty syntax for the DAG."""
    positions = dag_positions(dag)
    lines = ["dag {"]
    for node, data in dag.nodes(data=True):
        words = [w for w in (DAGITTY_ROLES.get(data["role"]), None if data["observed"] else "latent") if w]
        x, y = positions[node]
        words.append(f'pos="{x},{y}"')
        lines.append(f"{node} [{','.join(words)}]")
    lines += [f"{source} -> {target}" for source, target in dag.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_gml(dag: nx.DiGraph) -> str:
    """GML for the DAG, as networkx writes it (non-ASCII letters as character references)."""
    plain = nx.DiGraph(**{k: str(v) for k, v in dag.graph.items()})
    for node, data in dag.nodes(data=True):
        plain.add_node(node, **{k: _gml_value(v) for k, v in data.items()})
    plain.add_edges_from(dag.edges)
    return "\n".join(nx.generate_gml(plain)) + "\n"


def _gml_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
