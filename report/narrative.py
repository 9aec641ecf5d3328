"""The contribution narrative: for each pathway of each ToC a short text, in Dutch and English, from the numbers.

It follows contribution analysis (Mayne): a claim that early deployment contributed to a long-term effect is
credible when the activities were carried out, every step of the chain improved, the links are supported and
the assumptions hold. The rules, so that a reader can check every sentence:

- a pathway is a simple path from an output up to a long-term effect that ends the chain (`toc.graph.pathways`
  from each output); its activities are those linked into its output, carried out when at least one
  intervention employer uses one of them (the activities table);
- a step improved or worsened when the 95% CI of the effect on its primary indicator excludes zero in the
  indicator's direction (`toc.overlay.classify`). Each measured node's estimate and CI, as in `effects.csv` and
  written as the report writes numbers (`toc.lang.number`), is given once per ToC; the pathways carry the
  markers;
- the verdict: *supported* when the long-term effect and every measured step improved; *partly* when the effect
  improved but a step did not (the steps are named); *no evidence*, *contradicted* or *not measured* by the
  long-term effect alone; *not carried out* when no activity of the output was used. Failed assumptions are
  named once per ToC, and each pathway names its weakest link and its grade;
- pathways are ranked from best to least supported (`toc.graph.rank_pathways`), those whose activities were not
  carried out last, and listed per output.

Templates live in `report.text.NARRATIVE`; no language model, so the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from measures.evaluation.assumptions import AssumptionResult, measure_label, reason_text
from measures.indicators.catalogue import labels
from measures.indicators.node_results import node_results
from report.text import NARRATIVE
from toc.graph import pathways, rank_pathways, weakest_link
from toc.lang import Lang, checked_lang, number, translated
from toc.models import MAIN_LAYERS, TheoryOfChange
from toc.overlay import CHECK_STYLES, RESULT_STYLES, NodeResult, classify

CLASSES = ("improvement", "worsening", "no_evidence", "not_measured")
GAP_ORDER = ("worsening", "no_evidence", "not_measured")


@dataclass(frozen=True)
class NarrativeInputs:
    effects: pd.DataFrame  # effects.csv of the run
    employers: pd.DataFrame
    activities: pd.DataFrame | None  # None or empty: not delivered
    assumptions: list[AssumptionResult]


@dataclass(frozen=True)
class PathwayStory:
    rank: int  # 1 = the best supported pathway of its ToC
    nodes: tuple[str, ...]
    verdict: str  # supported, partly, no_evidence, contradicted, end_not_measured, not_carried
    chain: str  # the nodes by number, each with the marker of its result: "1 ▲ → 7 ○ → 14 ▲"
    weakest: str  # "7 → 14, no source"
    conclusion: str
    text: str  # Markdown, one paragraph: all of the above


@dataclass(frozen=True)
class OutputStory:
    node: str
    heading: str
    activities: str  # Markdown
    pathways: tuple[PathwayStory, ...]


@dataclass(frozen=True)
class TocStory:
    toc_id: str
    title: str
    assumptions: str  # Markdown: a sentence and a list
    caveat: str  # Markdown: what the failed assumptions mean for the claims ("" when none failed)
    measured: str  # Markdown: every output and effect (the negative ones too) with its estimate and CI
    outputs: tuple[OutputStory, ...]

    @property
    def pathways(self) -> list[PathwayStory]:
        return sorted((p for o in self.outputs for p in o.pathways), key=lambda p: p.rank)


def narrative_markdown(tocs: list[TheoryOfChange], inputs: NarrativeInputs, lang: Lang) -> str:
    """`narrative.<lang>.md`: a section per ToC, a subsection per output, a paragraph per pathway."""
    t = NARRATIVE[checked_lang(lang)]
    parts = [f"# {t['title']}", t["intro"]]
    for story in stories(tocs, inputs, lang):
        parts += [f"## {story.title}", story.assumptions, *([story.caveat] if story.caveat else []), story.measured]
        for output in story.outputs:
            parts += [f"### {output.heading}", output.activities]
            if output.pathways:
                parts.append("\n".join(f"- {p.text}" for p in output.pathways))
        if not story.pathways:
            parts.append(t["no_pathways"])
    return "\n\n".join(parts) + "\n"


def stories(tocs: list[TheoryOfChange], inputs: NarrativeInputs, lang: Lang) -> list[TocStory]:
    lang = checked_lang(lang)
    return [_toc_story(toc, inputs, lang) for toc in tocs]


def _toc_story(toc: TheoryOfChange, inputs: NarrativeInputs, lang: Lang) -> TocStory:
    t = NARRATIVE[lang]
    results = node_results(toc.id, inputs.effects)
    outputs = sorted(toc.nodes_in("output"), key=lambda n: (n.number is None, n.number, n.id))
    carried = {o.id: _activities(toc, _feeding(toc, o.id), inputs, lang) for o in outputs}
    paths = [p for output in outputs for p in pathways(toc, output.id)]
    # a pathway whose activities were not carried out has no support from the data: it ranks below the others
    idle = [p for p in paths if carried[p[0]][0] is False]
    ranked = rank_pathways(toc, [p for p in paths if p not in idle], results) + rank_pathways(toc, idle, results)
    rank = {tuple(p): k for k, p in enumerate(ranked, 1)}
    told = []
    for output in outputs:
        was_carried, activity_text = carried[output.id]
        if was_carried is False:
            activity_text += " " + t["idle_output"]
        own = sorted((p for p in paths if p[0] == output.id), key=lambda p: rank[tuple(p)])
        told.append(
            OutputStory(
                node=output.id,
                heading=t["output"].format(label=_label(toc, output.id, lang)),
                activities=t["activities"].format(text=activity_text),
                pathways=tuple(_pathway(toc, rank[tuple(p)], len(paths), p, results, was_carried, lang) for p in own),
            )
        )
    measured = t["measured"].format(text=_results(toc, [n.id for n in toc.nodes_in(*MAIN_LAYERS[1:])], results, lang))
    if negative := [n.id for n in toc.nodes_in("negative_effect")]:
        measured += "\n\n" + t["negative"].format(text=_results(toc, negative, results, lang))
    summary, caveat = _assumptions(toc, inputs, lang)
    return TocStory(toc.id, translated(toc, "title", lang), summary, caveat, measured, tuple(told))


def _feeding(toc: TheoryOfChange, output: str) -> list[str]:
    """The activities linked into `output`."""
    return sorted(k.source for k in toc.links if k.target == output and toc.node(k.source).layer == "activity")


def _assumptions(toc: TheoryOfChange, inputs: NarrativeInputs, lang: Lang) -> tuple[str, str]:
    """The assumptions' outcomes (a sentence and a list), and the caveat the failed ones put on every claim."""
    t = NARRATIVE[lang]
    own = [r for r in inputs.assumptions if r.toc_id == toc.id]
    count = {s: sum(r.status == s for r in own) for s in ("holds", "fails", "untested")}
    lines = [t["assumptions"].format(summary=t["assumptions_summary"].format(total=len(own), **count))]
    lines += [f"- {CHECK_STYLES[r.status].marker} {_assumption_item(toc, r, lang)}" for r in own]
    text = "\n".join(lines[:1]) + ("\n\n" + "\n".join(lines[1:]) if own else "")
    failed = [f"'{_label(toc, r.item_id, lang)}'" for r in own if r.status == "fails"]
    return text, t["failed"].format(items=", ".join(failed)) if failed else ""


def _assumption_item(toc: TheoryOfChange, result: AssumptionResult, lang: Lang) -> str:
    label = _label(toc, result.item_id, lang)
    if result.status == "untested":
        reason = reason_text(result, toc, lang)
        return f"{label} — {reason[:1].lower()}{reason[1:]}"
    t, check = NARRATIVE[lang], result.check
    assert check is not None  # only untested items have no check
    where = ", ".join(w for w in (t[f"group_{check.group}"], t[f"period_{check.period}"]) if w)
    value = t["value"].format(
        measure=measure_label(check.measure, lang),
        where=where,
        value=number(result.value, 2, lang),
        comparator={">=": "≥", "<=": "≤"}.get(check.comparator, check.comparator),
        threshold=number(result.threshold, 2, lang),
    )
    return f"{label} — {value}"


def _activities(
    toc: TheoryOfChange, activities: list[str], inputs: NarrativeInputs, lang: Lang
) -> tuple[bool | None, str]:
    """Whether any of `activities` was carried out (None: unknown), and the sentences saying so."""
    t = NARRATIVE[lang]
    names = {a: _label(toc, a, lang) for a in activities}
    table = inputs.activities
    if table is None or table.empty:
        return None, t["no_activities"].format(items=", ".join(names.values()))
    used = table.assign(group=table["employer_id"].map(inputs.employers.set_index("employer_id")["group"]))
    total = int((inputs.employers["group"] == "intervention").sum())
    count = {
        group: used.loc[used["group"] == group].groupby("activity_id")["employer_id"].nunique()
        for group in ("intervention", "comparison")
    }
    carried = [a for a in activities if count["intervention"].get(a, 0) > 0]
    sentences = []
    if carried:
        items = [
            t["carried_item"].format(label=names[a], k=int(count["intervention"][a]), total=total) for a in carried
        ]
        sentences.append(t["carried"].format(items=", ".join(items)))
    if idle := [names[a] for a in activities if a not in carried]:
        sentences.append(t["not_carried"].format(items=", ".join(idle)))
    if contaminated := [names[a] for a in activities if count["comparison"].get(a, 0) > 0]:
        sentences.append(t["comparison_used"].format(items=", ".join(contaminated)))
    return bool(carried), " ".join(sentences)


def _results(toc: TheoryOfChange, nodes: list[str], results: dict[str, NodeResult], lang: Lang) -> str:
    """What the run measured on `nodes`, grouped by class, each with its primary indicator's estimate and CI."""
    t = NARRATIVE[lang]
    names = labels(lang)
    found = {node: classify(results.get(node)) for node in nodes}
    sentences = []
    for cls in CLASSES:
        items = []
        for node in (n for n in nodes if found[n] == cls):
            if cls == "not_measured":
                items.append(_label(toc, node, lang))
                continue
            r = results[node]
            items.append(
                t["estimate"].format(
                    label=_label(toc, node, lang),
                    indicator=names.get(r.indicator, r.indicator),
                    estimate=number(r.estimate, 2, lang, sign=True),
                    low=number(r.ci_low, 2, lang, sign=True),
                    high=number(r.ci_high, 2, lang, sign=True),
                )
            )
        if items:
            sentences.append(t[cls].format(items="; ".join(items)))
    return " ".join(sentences)


def _pathway(
    toc: TheoryOfChange,
    rank: int,
    total: int,
    path: list[str],
    results: dict[str, NodeResult],
    carried: bool | None,
    lang: Lang,
) -> PathwayStory:
    t = NARRATIVE[lang]
    classes = [classify(results.get(node)) for node in path]
    verdict = _verdict(carried, classes)
    weakest = weakest_link(toc, path)
    assert weakest is not None  # a pathway from an output has at least one link
    chain = " → ".join(f"{_short(toc, n)} {RESULT_STYLES[c].marker}" for n, c in zip(path, classes, strict=True))
    conclusion = _conclusion(toc, path, verdict, carried, classes, lang)
    source, target, grade = _short(toc, weakest.source), _short(toc, weakest.target), t[f"grade_{weakest.grade}"]
    text = (
        t["pathway"]
        .format(
            chain=chain,
            verdict_label=t[f"label_{verdict}"],
            rank=rank,
            total=total,
            source=source,
            target=target,
            grade=grade,
            conclusion=conclusion,
        )
        .rstrip()
    )
    return PathwayStory(rank, tuple(path), verdict, chain, f"{source} → {target}, {grade}", conclusion, text)


def _verdict(carried: bool | None, classes: Sequence[str]) -> str:
    if carried is False:
        return "not_carried"
    end, steps = classes[-1], classes[:-1]
    if end == "not_measured":
        return "end_not_measured"
    if end == "worsening":
        return "contradicted"
    if end == "no_evidence":
        return "no_evidence"
    measured = [s for s in steps if s != "not_measured"]
    return "supported" if measured and all(s == "improvement" for s in measured) else "partly"


def _conclusion(
    toc: TheoryOfChange, path: list[str], verdict: str, carried: bool | None, classes: Sequence[str], lang: Lang
) -> str:
    t = NARRATIVE[lang]
    if verdict == "not_carried":  # said once, for the output
        return ""
    sentences = [t[f"verdict_{verdict}"].format(end=_label(toc, path[-1], lang), gaps=_gaps(toc, path, classes, lang))]
    if carried is None:
        sentences.append(t["unknown_activities"])
    return " ".join(sentences)


def _gaps(toc: TheoryOfChange, path: list[str], classes: Sequence[str], lang: Lang) -> str:
    """The steps before the end that did not improve, by class: 'step 7 showed no improvement and ...'."""
    t = NARRATIVE[lang]
    parts = []
    for cls in GAP_ORDER:
        steps = [_short(toc, n) for n, c in zip(path[:-1], classes[:-1], strict=True) if c == cls]
        if steps:
            listed = f" {t['and']} ".join([", ".join(steps[:-1]), steps[-1]] if len(steps) > 1 else steps)
            one = len(steps) == 1
            named = t["step" if one else "steps"].format(steps=listed)
            parts.append(t[("gap_" if one else "gaps_") + cls].format(steps=named))
    return f" {t['and']} ".join(parts)


def _label(toc: TheoryOfChange, node_id: str, lang: Lang) -> str:
    node = toc.node(node_id)
    text = translated(node, "label", lang).rstrip(".")
    return f"{node.number}. {text}" if node.number is not None else text


def _short(toc: TheoryOfChange, node_id: str) -> str:
    """A node in a pathway: its number in the report, or its id."""
    node = toc.node(node_id)
    return str(node.number) if node.number is not None else node.id
