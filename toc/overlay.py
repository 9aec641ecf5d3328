"""What the data say about a node: the classification behind the results-annotated ToC.

Pure functions over a mapping node -> NodeResult; the caller (the CLI, the report, the pipeline)
builds that mapping from its effects table. The palette is Okabe-Ito (colour-blind safe) and every
class also carries a text marker, so the diagram reads in grey print too. Assumptions and preconditions
get the outcome of their check (`CHECK_STYLES`) in the same palette.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from toc.lang import Lang, number, translated

ResultClass = Literal["improvement", "worsening", "no_evidence", "not_measured"]
#: The outcome of an assumption or precondition check (`assumptions.csv`'s `status`).
CheckStatus = Literal["holds", "fails", "untested"]


@dataclass(frozen=True)
class NodeResult:
    """The effect of the node's primary indicator, with the direction that counts as improvement."""

    indicator: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    lower_is_better: bool


@dataclass(frozen=True)
class ResultStyle:
    fill: str
    marker: str
    label_nl: str
    label_en: str


RESULT_STYLES: dict[ResultClass, ResultStyle] = {
    "improvement": ResultStyle("#009E73", "▲", "verbetering (95%-BI vrij van 0)", "improvement (95% CI clear of 0)"),
    "worsening": ResultStyle("#D55E00", "▼", "verslechtering (95%-BI vrij van 0)", "worsening (95% CI clear of 0)"),
    "no_evidence": ResultStyle("#F0E442", "○", "geen bewijs in beide richtingen", "no evidence either way"),
    "not_measured": ResultStyle("#FFFFFF", "–", "niet gemeten", "not measured"),
}


CHECK_STYLES: dict[CheckStatus, ResultStyle] = {
    "holds": ResultStyle("#009E73", "✓", "houdt stand", "holds"),
    "fails": ResultStyle("#D55E00", "✗", "houdt geen stand", "fails"),
    "untested": ResultStyle("#FFFFFF", "?", "niet getoetst", "not tested"),
}


def classify(result: NodeResult | None) -> ResultClass:
    """Improvement or worsening when the 95% CI excludes zero, in the indicator's direction."""
    interval = _interval(result)
    if result is None or interval is None:
        return "not_measured"
    estimate, low, high = interval
    if low > 0 or high < 0:
        better = (estimate < 0) if result.lower_is_better else (estimate > 0)
        return "improvement" if better else "worsening"
    return "no_evidence"


def annotation(result: NodeResult | None, lang: Lang = "nl") -> str:
    """The line drawn on the node: marker, estimate and CI (decimal comma in Dutch)."""
    cls = classify(result)
    marker = RESULT_STYLES[cls].marker
    interval = _interval(result)
    if result is None or interval is None:
        return f"{marker} {translated(RESULT_STYLES[cls], 'label', lang)}"
    estimate, low, high = interval
    return f"{marker} {result.indicator}: {_num(estimate, lang)} [{_num(low, lang)}; {_num(high, lang)}]"


def _interval(result: NodeResult | None) -> tuple[float, float, float] | None:
    """(estimate, ci_low, ci_high) when all three are finite numbers, else None."""
    if result is None:
        return None
    values = (result.estimate, result.ci_low, result.ci_high)
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    return values  # type: ignore[return-value]  # checked above: three floats


def _num(value: float, lang: Lang) -> str:
    return number(value, 2, lang, sign=True)
