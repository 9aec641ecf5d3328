"""What the data say about a node: the classification behind the results-annotated ToC.

Pure functions over a mapping node -> NodeResult; the caller (the CLI, the report, the pipeline)
builds that mapping from its effects table. A node is an improvement or a worsening when its result is
significant: by the p-value adjusted within the indicator's family of hypotheses when the result has one
(below :data:`SIGNIFICANCE`; the estimate's sign gives the direction), else when the 95% CI excludes zero.
The palette is Okabe-Ito (colour-blind safe) and every class also carries a text marker, so the diagram
reads in grey print too. Assumptions and preconditions get the outcome of their check (`CHECK_STYLES`) in
the same palette.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from toc.lang import Lang, number, translated

ResultClass = Literal["improvement", "worsening", "no_evidence", "not_measured"]
#: An adjusted p-value below this counts as an effect.
SIGNIFICANCE = 0.05
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
    adjusted_p: float | None = None  # p adjusted within the indicator's family (effects.csv's q_value)


@dataclass(frozen=True)
class ResultStyle:
    fill: str
    marker: str
    label_nl: str
    label_en: str


RESULT_STYLES: dict[ResultClass, ResultStyle] = {
    "improvement": ResultStyle(
        "#009E73",
        "▲",
        "verbetering (significant, gecorrigeerd binnen de familie)",
        "improvement (significant, adjusted)",
    ),
    "worsening": ResultStyle(
        "#D55E00",
        "▼",
        "verslechtering (significant, gecorrigeerd binnen de familie)",
        "worsening (significant, adjusted)",
    ),
    "no_evidence": ResultStyle("#F0E442", "○", "geen bewijs in beide richtingen", "no evidence either way"),
    "not_measured": ResultStyle("#FFFFFF", "–", "niet gemeten", "not measured"),
}


CHECK_STYLES: dict[CheckStatus, ResultStyle] = {
    "holds": ResultStyle("#009E73", "✓", "houdt stand", "holds"),
    "fails": ResultStyle("#D55E00", "✗", "houdt geen stand", "fails"),
    "untested": ResultStyle("#FFFFFF", "?", "niet getoetst", "not tested"),
}


def classify(result: NodeResult | None) -> ResultClass:
    """Improvement or worsening when significant (module docstring), in the indicator's direction."""
    if result is not None and _finite(result.estimate) and _finite(result.adjusted_p):
        significant = result.adjusted_p < SIGNIFICANCE  # type: ignore[operator]  # checked finite above
        estimate = float(result.estimate)  # type: ignore[arg-type]
    else:
        interval = _interval(result)
        if result is None or interval is None:
            return "not_measured"
        estimate, low, high = interval
        significant = low > 0 or high < 0
    if significant:
        better = (estimate < 0) if result.lower_is_better else (estimate > 0)
        return "improvement" if better else "worsening"
    return "no_evidence"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def annotation(result: NodeResult | None, lang: Lang = "nl") -> str:
    """The line drawn on the node: marker, estimate and CI (decimal comma in Dutch)."""
    cls = classify(result)
    marker = RESULT_STYLES[cls].marker
    if result is None or cls == "not_measured" or not _finite(result.estimate):
        return f"{marker} {translated(RESULT_STYLES[cls], 'label', lang)}"
    low, high = (  # ?: a bound the data do not give (an unbounded interval)
        _num(v, lang) if v is not None and math.isfinite(v) else "?" for v in (result.ci_low, result.ci_high)
    )
    estimate = result.estimate if result.estimate is not None else math.nan
    return f"{marker} {result.indicator}: {_num(estimate, lang)} [{low}; {high}]"


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
