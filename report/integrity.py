"""The report's integrity sections: the pre-registration banner, the assumptions tested, the pathways ranked.

Each function turns what the run produced (the comparison with the plan, the assumption results, the effects)
into rows for the template; nothing is computed here that the run did not already decide. The contribution
story comes from `report.narrative`, whose Markdown (bold and list items only) is turned into HTML here.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

from measures.evaluation.assumptions import AssumptionResult, measure_label, reason_text
from measures.evaluation.preregistration import describe
from report.narrative import NarrativeInputs, TocStory, stories
from report.text import NARRATIVE, TEXT
from toc.lang import Lang, number, translated
from toc.models import TheoryOfChange
from toc.overlay import CHECK_STYLES

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def banner(comparison: dict | None, lang: Lang) -> dict | None:
    """What the report says about the plan: a warning when it moved or is missing, a line when it held."""
    if comparison is None:
        return None
    t = TEXT[lang]
    history = comparison.get("registrations", [])
    if comparison["plan_sha256"] is None:
        return {"kind": "warning", "title": t["prereg_missing"].format(study=comparison["study"]), "lines": []}
    lines = [describe(change, lang) for change in comparison["changes"]]
    latest = history[-1] if history else {"registered_on": "?", "version": comparison.get("version")}
    held = t["prereg_held"].format(
        date=latest["registered_on"], version=latest["version"], sha=comparison["plan_sha256"][:12]
    )
    if len(history) > 1:
        held += " " + t["prereg_versions"].format(
            n=len(history), dates=", ".join(h["registered_on"] for h in history[:-1])
        )
    if comparison["intact"]:
        return {"kind": "ok", "title": held, "lines": []}
    return {"kind": "warning", "title": t["prereg_moved"], "lines": [*lines, held]}


def assumption_rows(tocs: list[TheoryOfChange], results: list[AssumptionResult], lang: Lang) -> list[dict]:
    """Per ToC its assumptions and preconditions: the outcome, what was tested, value against threshold, n."""
    t, n = TEXT[lang], NARRATIVE[lang]
    by_toc = []
    for toc in tocs:
        rows = []
        for r in (r for r in results if r.toc_id == toc.id):
            check = r.check
            tested = ""
            if check is not None:
                where = ", ".join(w for w in (n[f"group_{check.group}"], n[f"period_{check.period}"]) if w)
                tested = f"{measure_label(check.measure, lang)} ({where})"
            rows.append(
                {
                    "marker": CHECK_STYLES[r.status].marker,
                    "fill": CHECK_STYLES[r.status].fill,
                    "status": translated(CHECK_STYLES[r.status], "label", lang),
                    "kind": t[r.kind],
                    "label": translated(toc.node(r.item_id), "label", lang),
                    "tested": tested,
                    "value": number(r.value, 2, lang),
                    "threshold": "" if check is None else f"{_symbol(check.comparator)} {number(r.threshold, 2, lang)}",
                    "n": "" if r.n is None else r.n,
                    "reason": reason_text(r, toc, lang) if r.status == "untested" else "",
                }
            )
        by_toc.append({"title": translated(toc, "title", lang), "rows": rows})
    return by_toc


def contribution(tocs: list[TheoryOfChange], inputs: NarrativeInputs, lang: Lang) -> list[dict]:
    """Per ToC its pathways ranked by data and evidence, and its contribution story as HTML."""
    return [_toc(story, lang) for story in stories(tocs, inputs, lang)]


def _toc(story: TocStory, lang: Lang) -> dict:
    n = NARRATIVE[lang]
    ranked = [
        {"rank": p.rank, "chain": p.chain, "verdict": n[f"label_{p.verdict}"], "weakest": p.weakest}
        for p in story.pathways
    ]
    parts = [_html(story.caveat), _html(story.measured)] if story.caveat else [_html(story.measured)]
    for output in story.outputs:
        parts.append(Markup(f"<h4>{html.escape(output.heading)}</h4>") + _html(output.activities))
        parts.append(_html("\n".join(f"- {p.text}" for p in output.pathways)))
    return {"title": story.title, "ranked": ranked, "story": Markup("").join(parts)}


def _html(markdown: str) -> Markup:
    """Paragraphs and `- ` lists of the narrative, with **bold**, as escaped HTML."""
    out = []
    for block in markdown.split("\n\n"):
        lines = block.split("\n")
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append(f"<p>{_inline(block)}</p>")
    return Markup("".join(out))


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(text))


def _symbol(comparator: str) -> str:
    return {">=": "≥", "<=": "≤"}.get(comparator, comparator)
