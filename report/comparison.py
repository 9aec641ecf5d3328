"""The comparison of the groups an evaluator reads without opening a file: one row per indicator.

Each row says what the indicator is (the catalogue's label, unit, the ToC nodes it is the primary measure of, the direction
that counts as better), how the groups compare before and after inclusion (means with the number of employees,
from `measures.evaluation.group_means`), and what the DiD says: estimate, 95% CI, p, q and the verdict
the results-annotated ToC shows (`toc.overlay.classify`: improvement or worsening when the CI excludes zero,
in the indicator's direction). Rows are sorted by the ToC layer of the nodes the indicator is primary for
(outputs, short-term, long-term effects), then by label. Everything is text as the report writes it (`nl`
decimal commas); a suppressed mean or effect stays suppressed, and a p below 0.001 reads `< 0,001`, never 0.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from measures.contract.tables import GROUPS
from measures.indicators.catalogue import Indicator, indicators_by_id, units
from report.text import TEXT
from toc.lang import Lang, checked_lang, number, translated
from toc.load import load_shipped
from toc.overlay import NodeResult, classify
from toc.render import LAYER_TITLES

#: Layers in the order the table shows them: the causal chain upwards, then the rest.
LAYER_ORDER = ("output", "short_term", "long_term", "negative_effect", "activity", "excluded_effect")
P_FLOOR = 0.001

_WORDS: dict[Lang, dict[str, str]] = {
    "nl": {
        "before": "vóór",
        "after": "na",
        "lower_is_better": "lager",
        "higher_is_better": "hoger",
        "not_estimated": "niet geschat",
        "layer": "ToC-laag",
        "nodes": "ToC-knopen",
        "direction": "Beter als",
        "did": "DiD",
    },
    "en": {
        "before": "before",
        "after": "after",
        "lower_is_better": "lower",
        "higher_is_better": "higher",
        "not_estimated": "not estimated",
        "layer": "ToC layer",
        "nodes": "ToC nodes",
        "direction": "Better when",
        "did": "DiD",
    },
}

_DESCRIPTIONS: dict[Lang, dict[str, str]] = {
    "nl": {
        "layer": "Laag van de ToC-knopen waarvoor de indicator de primaire maat is (output, korte of lange termijn); "
        "de tabel is erop gesorteerd.",
        "indicator": "De indicator zoals de indicatorcatalogus hem noemt.",
        "unit": "Eenheid van de gemiddelden en van het effect.",
        "nodes": "De ToC-knopen waarvoor de indicator de primaire maat is (die de ToC-diagrammen ernaar kleuren), "
        "als TOC_ID/KNOOP_ID.",
        "direction": "Wat als verbetering telt: een lagere of een hogere waarde.",
        "mean": "Gemiddelde in de {group}sgroep {phase} aanmelding (administratief: {admin}; vragenlijst: {wave}), "
        "met tussen haakjes het aantal werknemers; 'onderdrukt' bij minder werknemers dan de minimale celgrootte.",
        "did": "Verschil-in-verschillen: het effect van de interventie (interventie min vergelijking, na min vóór).",
        "ci": "95%-betrouwbaarheidsinterval van het effect.",
        "p": "p-waarde van het effect; onder 0,001 staat '< 0,001'.",
        "q": "q-waarde: p gecorrigeerd voor het aantal indicatoren (Benjamini–Hochberg).",
        "verdict": "Verbetering of verslechtering als het 95%-BI nul uitsluit (in de richting die als verbetering "
        "telt), anders geen bewijs; onderdrukt bij te weinig werknemers in een groep.",
    },
    "en": {
        "layer": "Layer of the ToC nodes the indicator is the primary measure of (output, short or long term); the "
        "table is sorted by it.",
        "indicator": "The indicator as the indicator catalogue names it.",
        "unit": "Unit of the means and of the effect.",
        "nodes": "The ToC nodes the indicator is the primary measure of (which the ToC diagrams colour by it), as "
        "TOC_ID/NODE_ID.",
        "direction": "What counts as improvement: a lower or a higher value.",
        "mean": "Mean in the {group} group {phase} inclusion (administrative: {admin}; questionnaire: {wave}), with "
        "the number of employees in brackets; 'suppressed' when fewer employees than the minimum cell size.",
        "did": "Difference-in-differences: the effect of the intervention (intervention minus comparison, after minus "
        "before).",
        "ci": "95% confidence interval of the effect.",
        "p": "p-value of the effect; below 0.001 it reads '< 0.001'.",
        "q": "q-value: p adjusted for the number of indicators (Benjamini–Hochberg).",
        "verdict": "Improvement or worsening when the 95% CI excludes zero (in the direction that counts as "
        "improvement), otherwise no evidence; suppressed when a group has too few employees.",
    },
}
_PHASE_DETAIL = {
    "nl": {"before": ("de maanden vóór de aanmeldmaand", "t0"), "after": ("de aanmeldmaand en later", "t1 en t2")},
    "en": {"before": ("the months before the inclusion month", "t0"), "after": ("the inclusion month on", "t1 and t2")},
}


def comparison_columns(lang: Lang = "nl") -> dict[str, tuple[str, str]]:
    """Each column of `comparison_table` by key, in its order: (header in `lang`, description in `lang`)."""
    lang = checked_lang(lang)
    t, w, d = TEXT[lang], _WORDS[lang], _DESCRIPTIONS[lang]
    columns = {
        "layer": (w["layer"], d["layer"]),
        "indicator": (t["indicator"], d["indicator"]),
        "unit": (t["unit"], d["unit"]),
        "direction": (w["direction"], d["direction"]),
    }
    for group in GROUPS:
        for phase in ("before", "after"):
            admin, wave = _PHASE_DETAIL[lang][phase]
            text = d["mean"].format(group=t[group].lower(), phase=w[phase], admin=admin, wave=wave)
            columns[f"{group}_{phase}"] = (f"{t[group]} {w[phase]} (n)", text)
    return columns | {
        "did": (w["did"], d["did"]),
        "ci": (t["ci"], d["ci"]),
        "p": (t["p"], d["p"]),
        "q": (t["q"], d["q"]),
        "verdict": (t["verdict"], d["verdict"]),
        "nodes": (w["nodes"], d["nodes"]),  # last: long, and what the verdict colours in the ToC diagrams
    }


def comparison_table(effects: pd.DataFrame, means: pd.DataFrame, lang: Lang = "nl") -> pd.DataFrame:
    """One row of text per indicator of `effects` (effects.csv's columns), with the group means of `means`
    (`group_means`' columns), headed by the headers of `comparison_columns(lang)`."""
    lang = checked_lang(lang)
    catalogue = indicators_by_id()
    cells = {(r.indicator_id, r.group, r.phase): r for r in means.itertuples(index=False)}
    rows = []
    for effect in effects.to_dict("records"):
        ind = catalogue.get(effect["indicator_id"])
        layer = _layer(ind)
        row = {
            "layer": LAYER_TITLES[lang].get(layer, "–") if layer else "–",
            "indicator": translated(ind, "label", lang) if ind else effect["indicator_id"],
            "unit": units(lang).get(effect["indicator_id"], ""),
            "direction": _WORDS[lang][ind.direction] if ind else "",
            "did": _number(effect["estimate"], lang),
            "ci": _interval(effect, lang),
            "p": p_text(effect["p_value"], lang),
            "q": p_text(effect["q_value"], lang),
            "verdict": _verdict(effect, ind, lang),
            "nodes": ", ".join(ind.primary_for or ind.nodes) if ind else "",
        }
        for g in GROUPS:
            for phase in ("before", "after"):
                row[f"{g}_{phase}"] = _mean(cells.get((effect["indicator_id"], g, phase)), lang)
        rows.append((_sort_key(ind, effect["indicator_id"], lang), row))
    columns = comparison_columns(lang)
    ordered = [[row[key] for key in columns] for _, row in sorted(rows, key=lambda r: r[0])]
    return pd.DataFrame(ordered, columns=[name for name, _ in columns.values()])


def by_layer(indicator_ids, lang: Lang = "nl") -> list[str]:
    """Indicator ids in the order the comparison table shows them: ToC layer, then label."""
    catalogue = indicators_by_id()
    return sorted(indicator_ids, key=lambda i: _sort_key(catalogue.get(i), i, lang))


def _sort_key(ind: Indicator | None, indicator_id: str, lang: Lang) -> tuple[int, str]:
    layer = _layer(ind)
    rank = LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)
    return rank, (translated(ind, "label", lang) if ind else indicator_id).casefold()


def p_text(value, lang: Lang = "nl") -> str:
    """A p- or q-value as the report writes it: three decimals, `< 0,001` below 0.001 (never 0), `–` if none."""
    if value is None or pd.isna(value):
        return "–"
    if float(value) < P_FLOOR:
        return f"< {number(P_FLOOR, 3, lang)}"
    return number(float(value), 3, lang)


def _mean(cell, lang: Lang) -> str:
    if cell is None:
        return "–"
    if cell.suppressed:
        return TEXT[lang]["suppressed"]
    return f"{number(float(cell.mean), 2, lang)} ({int(cell.n)})"


def _number(value, lang: Lang) -> str:
    return "–" if pd.isna(value) else number(float(value), 2, lang, sign=True)


def _interval(effect: dict, lang: Lang) -> str:
    if pd.isna(effect["ci_low"]) or pd.isna(effect["ci_high"]):
        return "–"
    return f"[{_number(effect['ci_low'], lang)}; {_number(effect['ci_high'], lang)}]"


def _verdict(effect: dict, ind: Indicator | None, lang: Lang) -> str:
    if pd.isna(effect["estimate"]):
        suppressed = str(effect.get("method", "")).startswith("suppressed")
        return TEXT[lang]["suppressed"] if suppressed else _WORDS[lang]["not_estimated"]
    result = NodeResult(
        effect["indicator_id"],
        float(effect["estimate"]),
        float(effect["ci_low"]),
        float(effect["ci_high"]),
        ind.lower_is_better if ind else False,
    )
    return TEXT[lang][classify(result)]


def _layer(ind: Indicator | None) -> str | None:
    """The earliest layer (in `LAYER_ORDER`) of the nodes the indicator is primary for, else of all its nodes."""
    if ind is None:
        return None
    layers = [_node_layers().get(ref) for ref in (ind.primary_for or ind.nodes)]
    known = [layer for layer in layers if layer in LAYER_ORDER]
    return min(known, key=LAYER_ORDER.index) if known else None


@cache
def _node_layers() -> dict[str, str]:
    """TOC_ID/NODE_ID -> layer, over every shipped ToC."""
    return {f"{toc.id}/{node.id}": node.layer for toc in load_shipped().values() for node in toc.nodes}
