"""The report's identification table: for each measured effect, does the pilot's design identify it?

`identification_rows` gives the rows the template block `identification.html.j2` shows (with `t` the
report's text): one per ToC node whose primary indicator has an estimate in `effects`, with the minimal
adjustment set of the ToC's causal DAG and the verdict (`measures.indicators.identification`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from measures.indicators.catalogue import labels
from measures.indicators.identification import PILOT_CONFOUNDERS, MeasuredEffect, measured_effects
from report.text import TEXT
from toc.lang import Lang, translated
from toc.load import load_shipped


def identification_rows(effects: pd.DataFrame, toc_ids: Iterable[str], lang: Lang = "nl") -> list[dict]:
    """Rows for the template, ToC by ToC in shipped order, nodes in ToC order."""
    estimated = set(effects.loc[effects["estimate"].notna(), "indicator_id"])
    wanted = set(toc_ids)
    names = {c.id: translated(c, "label", lang) for c in PILOT_CONFOUNDERS}
    rows = []
    for toc in load_shipped().values():
        if toc.id not in wanted:
            continue
        for effect in measured_effects(toc, estimated):
            rows.append(
                {
                    "toc": translated(toc, "title", lang),
                    "node": translated(toc.node(effect.node_id), "label", lang),
                    "indicator": labels(lang)[effect.indicator_id],
                    "adjustment_set": ", ".join(names.get(n, n) for n in effect.adjustment_set) or "–",
                    "identified": effect.identified_by_design,
                    "verdict": TEXT[lang][_verdict(effect)],
                }
            )
    return rows


def _verdict(effect: MeasuredEffect) -> str:
    if not effect.identified:
        return "ident_no_set"
    if not effect.design_adjusts:
        return "ident_no_adjust"
    return "ident_yes_fe" if effect.adjustment_set else "ident_yes_none"
