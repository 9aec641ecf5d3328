"""The Theory of Change as data: pydantic models for one ToC file.

A ToC file (YAML, one per intervention) holds nodes in layers and the causal links between them. The
four main layers are read bottom to top: activities lead to outputs, outputs to short-term effects,
short-term effects to long-term effects. Negative effects, excluded effects, preconditions and
assumptions sit beside that chain. Structural rules that need the whole graph (cycles, reachability)
live in `toc.rules`; the models only check what one record can check on its own.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from toc.errors import TocError

Layer = Literal[
    "activity",
    "output",
    "short_term",
    "long_term",
    "negative_effect",
    "excluded_effect",
    "precondition",
    "assumption",
]

#: The causal chain, bottom to top. A link may stay in a layer or go up, never down.
MAIN_LAYERS: tuple[str, ...] = ("activity", "output", "short_term", "long_term")
#: Layers that must be reached from an activity (effects the intervention claims to cause).
EFFECT_LAYERS: tuple[str, ...] = ("output", "short_term", "long_term", "negative_effect")
#: Layers outside the causal chain: exempt from reachability rules and never linked.
SIDE_LAYERS: tuple[str, ...] = ("excluded_effect", "precondition", "assumption")
LAYER_RANK: dict[str, int] = {layer: rank for rank, layer in enumerate(MAIN_LAYERS)}

Perspective = Literal["employer", "employee", "employer_and_employee", "professionals"]
Timing = Literal["preventive", "early", "second_track", "whole_absence"]

#: How well the literature the report cites supports a link, strongest first (see `Link.grade`).
EvidenceGrade = Literal["strong", "moderate", "weak", "none"]
GRADES: tuple[str, ...] = ("strong", "moderate", "weak", "none")
#: What an assumption or precondition check compares its measure with.
Comparator = Literal[">=", "<=", ">", "<"]
CheckGroup = Literal["intervention", "comparison", "each", "all"]
CheckPeriod = Literal["inclusion", "baseline", "t0", "t1", "t2", "run"]
CHECKED_LAYERS: tuple[str, ...] = ("assumption", "precondition")

NODE_ID = r"^[a-z][a-z0-9_]*$"
TOC_ID = r"^[a-z][a-z0-9-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Strict):
    """A source from the report's literature that supports a node or a link."""

    ref: str = Field(description="Key into the ToC's `references`, e.g. 'a'.")
    note: str = Field(description="One line: what the source shows for this node or link.")


class Check(_Strict):
    """A claim the pilot's data can test: `measure` (in `group`, at `period`) `comparator` `threshold`.

    `measure` is an indicator of the catalogue or a measure the evaluator derives from the contract tables
    (`measures.evaluation.assumptions.MEASURES`); `toc validate` checks that it is one of them. `group`:
    the intervention or comparison group, `each` group on its own (both must pass; the worse one is reported)
    or `all` cases together.
    """

    measure: str = Field(pattern=NODE_ID)
    comparator: Comparator
    threshold: float
    group: CheckGroup = "all"
    period: CheckPeriod = "run"


class Node(_Strict):
    id: str = Field(pattern=NODE_ID, description="Unique within the ToC, no ToC prefix.")
    layer: Layer
    number: int | None = Field(None, description="The number in the source (Bijlage 6 for the AKC ToCs).")
    label_nl: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    description_nl: str = ""
    description_en: str = ""
    source: str = Field("", description="Where in the source document, e.g. 'Bijlage 6' or '§3.5.2'.")
    evidence: tuple[Evidence, ...] = ()
    check: Check | None = Field(None, description="Assumptions and preconditions: how every run tests it.")
    untestable_nl: str = Field("", description="Assumptions and preconditions: why the data cannot test it.")
    untestable_en: str = ""

    @model_validator(mode="after")
    def _checks_belong_to_assumptions(self) -> Node:
        if (self.check or self.untestable_nl or self.untestable_en) and self.layer not in CHECKED_LAYERS:
            raise ValueError(f"only assumptions and preconditions carry a check, not a {self.layer}")
        if self.check and (self.untestable_nl or self.untestable_en):
            raise ValueError("a check and a reason why it cannot be tested exclude each other")
        if bool(self.untestable_nl) != bool(self.untestable_en):
            raise ValueError("untestable_nl and untestable_en go together")
        return self


class Link(_Strict):
    source: str = Field(pattern=NODE_ID)
    target: str = Field(pattern=NODE_ID)
    origin: Literal["report", "derived"] = Field(
        description="'report' when the text states the relation, 'derived' when we inferred it."
    )
    rationale: str = Field(min_length=1, description="One line: why the source leads to the target.")
    evidence: tuple[Evidence, ...] = ()
    grade: EvidenceGrade = Field(
        description="strong: a systematic review or trial the report cites shows this relation; moderate: an "
        "empirical study it cites (cohort, file study, evaluation) supports it; weak: the report states it from "
        "its interviews and case studies, or an expert opinion it cites; none: we derived it, without a source."
    )
    grade_reason: str = Field(min_length=1, description="One line: why this grade.")

    @model_validator(mode="after")
    def _grade_fits_its_evidence(self) -> Link:
        if self.grade in ("strong", "moderate") and not self.evidence:
            raise ValueError(f"grade '{self.grade}' needs the study behind it as evidence")
        if self.grade == "none" and self.evidence:
            raise ValueError("grade 'none' means no source, but the link carries evidence")
        if self.grade == "none" and self.origin == "report":
            raise ValueError("grade 'none' means no source, but the report states the link (at least 'weak')")
        return self


class ReferenceDate(_Strict):
    """A fixed moment on the absence timeline (e.g. the Wet verbetering poortwachter steps)."""

    week: int = Field(ge=0)
    label_nl: str
    label_en: str


class SourceDocument(_Strict):
    title: str
    authors: str = ""
    year: int | None = None
    publisher: str = ""
    seed: str = Field("", description="File name of the seed text the ToC was written from.")


class TheoryOfChange(_Strict):
    id: str = Field(pattern=TOC_ID)
    title: str = Field(min_length=1, description="Dutch title.")
    title_en: str = Field(min_length=1)
    perspective: Perspective
    timing: Timing
    intervention: str = Field(min_length=1, description="The intervention the ToC describes (Dutch).")
    source: SourceDocument
    sources: tuple[SourceDocument, ...] = Field((), description="Further source documents, if any.")
    references: dict[str, str] = Field(default_factory=dict, description="Literature key -> citation.")
    reference_dates: tuple[ReferenceDate, ...] = ()
    nodes: tuple[Node, ...]
    links: tuple[Link, ...] = ()

    @model_validator(mode="after")
    def _evidence_refers_to_known_references(self) -> TheoryOfChange:
        known = set(self.references)
        for owner, evidence in self._evidence_owners():
            for item in evidence:
                if item.ref not in known:
                    raise ValueError(f"{owner}: evidence refers to unknown reference '{item.ref}'")
        return self

    def _evidence_owners(self):
        for node in self.nodes:
            yield f"node {node.id}", node.evidence
        for link in self.links:
            yield f"link {link.source} -> {link.target}", link.evidence

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise TocError(f"ToC {self.id} has no node '{node_id}'")

    def nodes_in(self, *layers: str) -> list[Node]:
        return [n for n in self.nodes if n.layer in layers]

    def counts(self) -> dict[str, int]:
        """Node counts of the four main layers (the `counts` of `toc list --json`)."""
        return {layer: len(self.nodes_in(layer)) for layer in MAIN_LAYERS}
