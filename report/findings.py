"""The key findings of a run in a few lines, for the place an evaluator looks first (the UI's outputs asset).

The main effects (the administrative indicators and return to work, as rows of the comparison table), the
baseline variables on which the groups differ by more than the balance threshold with what that means for
the effects, and how many cells of each table people see were suppressed. Nothing is computed here that
the results do not already hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from measures.evaluation.thresholds import BALANCE_THRESHOLD
from measures.indicators.catalogue import ADMIN_MONTHLY, labels
from report.comparison import comparison_columns, comparison_table
from report.text import TEXT
from toc.lang import Lang, checked_lang, number

#: The effects the report leads with: the administrative outcomes and return to work.
MAIN_INDICATORS = (*ADMIN_MONTHLY, "rtw_12m")
#: Columns of the comparison table the main effects keep.
MAIN_COLUMNS = ("indicator", "unit", "did", "ci", "p", "q", "verdict")

_SENTENCES: dict[Lang, dict[str, str]] = {
    "nl": {
        "balanced": "De groepen zijn bij de start vergelijkbaar: geen gestandaardiseerd verschil boven {threshold}.",
        "imbalanced": "Bij de start verschillen de groepen op: {items}. Een gestandaardiseerd verschil boven "
        "{threshold} betekent dat de groepen bij aanmelding niet goed vergelijkbaar zijn. Het DiD-effect houdt "
        "rekening met vaste verschillen tussen werknemers, niet met verschillen in hun verloop: lees de "
        "effecten op deze variabelen met voorzichtigheid en kijk naar de toets op pre-trends.",
        "suppressed": "Onderdrukt (minder dan {min_cell} personen): {trends} van {trend_cells} trendcellen, "
        "{effects} van {effect_rows} effecten, {balance} van {balance_rows} balansregels.",
    },
    "en": {
        "balanced": "The groups are comparable at baseline: no standardised difference above {threshold}.",
        "imbalanced": "At baseline the groups differ on: {items}. A standardised difference above {threshold} "
        "means that the groups were not well comparable at inclusion. The DiD effect allows for fixed differences "
        "between employees, not for differences in their course: read the effects on these variables with care "
        "and look at the pre-trend test.",
        "suppressed": "Suppressed (fewer than {min_cell} people): {trends} of {trend_cells} trend cells, "
        "{effects} of {effect_rows} effects, {balance} of {balance_rows} balance rows.",
    },
}


@dataclass(frozen=True)
class KeyFindings:
    main_effects: pd.DataFrame  # rows of the comparison table, in its text
    main_effect_columns: list[tuple[str, str]]  # (header, description) of its columns
    imbalanced: list[str]  # baseline variables above the balance threshold
    balance: str  # a sentence: balanced, or on which variables not and what that means
    suppressed: dict[str, int]  # suppressed cells per table shown to people
    suppression: str  # a sentence with those counts


def key_findings(
    effects: pd.DataFrame,
    means: pd.DataFrame,
    balance: pd.DataFrame,
    trends: pd.DataFrame,
    min_cell: int,
    lang: Lang = "nl",
) -> KeyFindings:
    lang = checked_lang(lang)
    words = _SENTENCES[lang]
    main = comparison_table(effects.loc[effects["indicator_id"].isin(MAIN_INDICATORS)], means, lang)
    columns = comparison_columns(lang)
    kept = [columns[key] for key in MAIN_COLUMNS]
    threshold = number(BALANCE_THRESHOLD, 2, lang)
    over = balance.loc[balance["std_diff"].abs() > BALANCE_THRESHOLD].sort_values(
        "std_diff", key=lambda s: -s.abs(), kind="stable"
    )
    names = labels(lang) | {"months_absent_at_inclusion": TEXT[lang]["months_absent_at_inclusion"]}
    items = [
        f"{names.get(v, v)} ({number(float(d), 2, lang, sign=True)})"
        for v, d in zip(over["variable"], over["std_diff"], strict=True)
    ]
    text = words["imbalanced"].format(items="; ".join(items), threshold=threshold) if items else words["balanced"]
    counts = {
        "trends": _suppressed(trends["suppressed"]),
        "effects": int(effects["method"].astype(str).str.startswith("suppressed").sum()),
        "balance": _suppressed(balance["suppressed"]) if "suppressed" in balance else 0,
    }
    sizes = {"trend_cells": len(trends), "effect_rows": len(effects), "balance_rows": len(balance)}
    return KeyFindings(
        main_effects=main[[name for name, _ in kept]],
        main_effect_columns=kept,
        imbalanced=over["variable"].tolist(),
        balance=text.format(threshold=threshold),
        suppressed=counts,
        suppression=words["suppressed"].format(min_cell=min_cell, **counts, **sizes),
    )


def _suppressed(column: pd.Series) -> int:
    return int((pd.to_numeric(column, errors="coerce") == 1).sum())
