"""Which measured effects the pilot's design identifies: the ToC's causal DAG with the pilot's confounders.

The known confounders of the pilot (one home): the employer (the unit that chooses the intervention; its
policy and culture also shape absence), its sector (which employers there are, and how absence runs), and the
absence duration at inclusion (when in the absence an employee is included shapes both the help given and
the course of the absence). All three are in the contract (`employers.employer_id`, `employers.sector`,
`cases.inclusion_date` - `cases.absence_start`) and constant per employee.

The pilot's estimators adjust for them like this: a difference-in-differences with employee fixed effects
(the monthly administrative indicators and the questionnaire items) absorbs everything constant per
employee, so every one of these confounders; the return-to-work share (`periods: once`) compares the groups
without adjustment. An effect is identified *by the design* when the DAG identifies it by adjustment and the
estimator adjusts for the whole adjustment set.

Observed nodes: the exposure, the activities (the `activities` table), every node with an indicator in the
catalogue, and the observed confounders; preconditions and unmeasured effects are latent.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from measures.indicators.catalogue import Indicator, load_catalogue
from toc.causal import Confounder, causal_dag, identify
from toc.models import TheoryOfChange

PILOT_CONFOUNDERS: tuple[Confounder, ...] = (
    Confounder(
        "sector",
        "Branche van de werkgever",
        "Sector of the employer",
        affects_exposure=False,  # only through the employer, which chooses the intervention
        causes=("employer",),
    ),
    Confounder("employer", "Werkgever", "Employer"),
    Confounder("absence_duration_at_inclusion", "Verzuimduur bij aanmelding", "Absence duration at inclusion"),
)


@dataclass(frozen=True)
class MeasuredEffect:
    """One measured node of a ToC: does the DAG identify the intervention's effect on it, does the design?"""

    toc_id: str
    node_id: str
    layer: str
    indicator_id: str
    identified: bool  # by adjustment for observed variables (back-door criterion)
    adjustment_set: tuple[str, ...]
    design_adjusts: bool  # the estimator of this indicator adjusts for the whole set

    @property
    def identified_by_design(self) -> bool:
        return self.identified and self.design_adjusts

    def as_dict(self) -> dict:
        return {
            "toc_id": self.toc_id,
            "node_id": self.node_id,
            "layer": self.layer,
            "indicator_id": self.indicator_id,
            "identified": self.identified,
            "adjustment_set": list(self.adjustment_set),
            "design_adjusts": self.design_adjusts,
            "identified_by_design": self.identified_by_design,
        }


def observed_nodes(toc: TheoryOfChange) -> set[str]:
    """The ToC's nodes the pilot's data hold: activities and every node with an indicator."""
    measured = {ref.partition("/")[2] for ind in load_catalogue() for ref in ind.nodes if ref.startswith(f"{toc.id}/")}
    return measured | {n.id for n in toc.nodes_in("activity")}


def pilot_dag(toc: TheoryOfChange) -> nx.DiGraph:
    """The ToC's causal DAG with the pilot's confounders, latent where the pilot does not measure."""
    return causal_dag(toc, PILOT_CONFOUNDERS, observed_nodes(toc))


def adjusts_for_employee_constants(indicator: Indicator) -> bool:
    """True when the indicator's estimator has employee fixed effects (repeated measures: months or waves)."""
    return tuple(indicator.periods) != ("once",)


def measured_effects(toc: TheoryOfChange, indicator_ids: set[str] | None = None) -> list[MeasuredEffect]:
    """Every node of the ToC with a primary indicator (only those in `indicator_ids` when given), in ToC order."""
    dag = pilot_dag(toc)
    constants = {c.id for c in PILOT_CONFOUNDERS}  # all constant per employee (see the module docstring)
    primaries = {
        ref.partition("/")[2]: ind
        for ind in load_catalogue()
        for ref in ind.primary_for
        if ref.startswith(f"{toc.id}/")
    }
    rows = []
    for node in toc.nodes:
        ind = primaries.get(node.id)
        if ind is None or (indicator_ids is not None and ind.id not in indicator_ids):
            continue
        found = identify(dag, node.id)
        # nothing to adjust for, or only employee constants that the estimator's fixed effects absorb
        adjusts = not found.adjustment_set or (
            set(found.adjustment_set) <= constants and adjusts_for_employee_constants(ind)
        )
        rows.append(
            MeasuredEffect(toc.id, node.id, node.layer, ind.id, found.identified, found.adjustment_set, adjusts)
        )
    return rows
