"""The ToC as a causal DAG: dagitty and GML on stdout, read back by DoWhy and pgmpy, and the identification table.

DoWhy reads the GML (as it reads any graph given as a string) and its own back-door search names the adjustment
set of each measured effect, which must equal ours. pgmpy's DAGitty reader reads the dagitty text (DoWhy's own
dagitty converter is a few regular expressions that cut `adjusted` out of node ids such as
`colleague_reactions_to_adjusted_tasks`).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from dowhy.causal_graph import CausalGraph
from dowhy.causal_identifier import BackdoorAdjustment
from dowhy.causal_identifier.auto_identifier import identify_backdoor
from pgmpy.base import DAG

from measures.indicators.identification import PILOT_CONFOUNDERS, measured_effects, pilot_dag
from report.identification import identification_rows
from toc.causal import EXPOSURE, Confounder, causal_dag, identify
from toc.export import to_dagitty, to_gml
from toc.load import load_shipped

# DoWhy 0.12 calls networkx's d-separation test by its pre-3.3 name, which networkx 3.5 removed; same function.
# (DoWhy >= 0.13 uses the new name but caps scipy at 1.15.3, which would move our scipy.)
if not hasattr(nx.algorithms, "d_separated"):
    nx.algorithms.d_separated = nx.is_d_separator

TOC = Path(sys.executable).with_name("toc")
TOCS = load_shipped()
AKC = ("werkgever-preventief", "werkgever-vroegtijdig", "werknemer-preventief", "werknemer-vroegtijdig")


def _export(kind: str, toc_id: str) -> str:
    proc = subprocess.run([str(TOC), "export", kind, toc_id], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _dowhy_graph(gml: str, outcome: str, observed: list[str]) -> CausalGraph:
    return CausalGraph(EXPOSURE, outcome, graph=gml, observed_node_names=observed)


def _dowhy_sets(gml: str, outcome: str, observed: list[str]) -> list[tuple[str, ...]]:
    graph = _dowhy_graph(gml, outcome, observed)._graph
    found = identify_backdoor(graph, [EXPOSURE], [outcome], observed, BackdoorAdjustment.BACKDOOR_MIN)
    return [tuple(sorted(s["backdoor_set"])) for s in found]


@pytest.mark.parametrize("toc_id", AKC)
def test_the_dag_has_exposure_outcomes_preconditions_and_confounders(toc_id):
    toc, dag = TOCS[toc_id], pilot_dag(TOCS[toc_id])
    assert nx.is_directed_acyclic_graph(dag)
    roles = nx.get_node_attributes(dag, "role")
    assert [n for n, r in roles.items() if r == "exposure"] == [EXPOSURE]
    assert {n for n, r in roles.items() if r == "outcome"} == {n.id for n in toc.nodes_in("long_term")}
    assert {n.id for n in toc.nodes_in("precondition")} <= set(dag)
    assert {"employer", "sector", "absence_duration_at_inclusion"} <= set(dag)
    assert not {n.id for n in toc.nodes_in("assumption", "excluded_effect")} & set(dag)
    # every link of the chain is an edge; every activity hangs from the intervention
    assert all(dag.has_edge(link.source, link.target) for link in toc.links)
    assert {n.id for n in toc.nodes_in("activity")} == set(dag.successors(EXPOSURE))
    assert set(dag.predecessors(EXPOSURE)) == {"employer", "absence_duration_at_inclusion"}
    assert all(not dag.nodes[p.id]["observed"] for p in toc.nodes_in("precondition"))


@pytest.mark.parametrize("toc_id", AKC)
def test_dowhy_reads_the_gml_and_names_the_same_adjustment_set(toc_id):
    gml = _export("gml", toc_id)
    dag = pilot_dag(TOCS[toc_id])
    read = _dowhy_graph(gml, EXPOSURE, [])._graph  # DoWhy's own reading of the string
    assert set(read.nodes) == set(dag.nodes) and set(read.edges) == set(dag.edges)
    observed = [n for n, seen in dag.nodes(data="observed") if seen]
    effects = measured_effects(TOCS[toc_id])
    assert effects, "every AKC ToC has measured effects"
    for effect in effects:
        assert effect.identified
        assert _dowhy_sets(gml, effect.node_id, observed) == [effect.adjustment_set], effect.node_id
        assert effect.adjustment_set == ("absence_duration_at_inclusion", "employer")


def test_an_unobserved_confounder_of_the_exposure_is_not_identified_by_either():
    willing = Confounder("employer_commitment", "Betrokkenheid", "Commitment", observed=False)
    toc = TOCS["werknemer-vroegtijdig"]
    dag = causal_dag(toc, (*PILOT_CONFOUNDERS, willing), set(pilot_dag(toc)) - {"employer_commitment"})
    observed = [n for n, seen in dag.nodes(data="observed") if seen]
    assert "employer_commitment" not in observed
    assert identify(dag, "absence_reduced").identified is False
    assert _dowhy_sets(to_gml(dag), "absence_reduced", observed) == []
    # once observed, both find a set that holds it
    measured = dataclasses.replace(willing, observed=True)
    seen = causal_dag(toc, (*PILOT_CONFOUNDERS, measured), None)
    assert "employer_commitment" in identify(seen, "absence_reduced").adjustment_set


def test_dagitty_text_reads_back_as_the_same_graph_with_its_roles():
    """pgmpy's DAGitty reader (written to dagitty.js's grammar) gives the same nodes, edges and roles."""
    text = _export("dagitty", "werknemer-vroegtijdig")
    dag = pilot_dag(TOCS["werknemer-vroegtijdig"])
    assert text.startswith("dag {\n") and text.endswith("}\n")
    read = DAG.from_dagitty(text)
    assert set(read.nodes) == set(dag.nodes) and set(read.edges) == set(dag.edges)
    assert read.exposures == {EXPOSURE}
    assert read.outcomes == {n.id for n in TOCS["werknemer-vroegtijdig"].nodes_in("long_term")}
    assert read.latents == {n for n, seen in dag.nodes(data="observed") if not seen}
    assert {"employee_retains_work_rhythm", "employer_can_create_other_work"} <= read.latents


def test_exports_repeat_to_the_byte_and_an_unknown_toc_is_one_line():
    assert _export("gml", "werknemer-preventief") == to_gml(pilot_dag(TOCS["werknemer-preventief"]))
    assert _export("dagitty", "werknemer-preventief") == to_dagitty(pilot_dag(TOCS["werknemer-preventief"]))
    proc = subprocess.run([str(TOC), "export", "gml", "nope"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "nope" in proc.stderr


def test_the_return_to_work_share_is_not_identified_by_the_design():
    """rtw_12m compares shares without adjustment: the DAG identifies the effect, the estimate does not."""
    by_node = {e.node_id: e for e in measured_effects(TOCS["werkgever-vroegtijdig"])}
    rtw = by_node["lower_replacement_costs"]
    assert rtw.indicator_id == "rtw_12m" and rtw.identified and not rtw.identified_by_design
    assert by_node["absence_reduced"].identified_by_design


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_report_rows_and_template_block(lang):
    import jinja2

    from report.build import TEMPLATES
    from report.text import TEXT

    effects = pd.DataFrame({"indicator_id": ["absence_days", "rtw_12m", "welbevinden"], "estimate": [-2.0, 0.1, None]})
    rows = identification_rows(effects, AKC, lang)
    indicators = {r["indicator"] for r in rows}
    assert len(indicators) == 2  # welbevinden has no estimate
    assert any(not r["identified"] for r in rows) and any(r["identified"] for r in rows)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    html = env.get_template("identification.html.j2").render(t=TEXT[lang], identification=rows)
    assert html.count("<tr>") == len(rows) + 1
    assert TEXT[lang]["ident_no_adjust"] in html and TEXT[lang]["ident_yes_fe"] in html
