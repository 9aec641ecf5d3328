"""The evaluation report: one self-contained HTML file (charts embedded, no network), Dutch or English.

`build_report` takes the results of a run (already suppressed where they show people) and renders the
template; it computes nothing statistical itself, only tables and charts of what it is given.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pandas as pd

from measures.contract.tables import GROUPS, WAVES
from measures.estimation.estimators import FEW_CLUSTERS
from measures.evaluation.assumptions import AssumptionResult
from measures.evaluation.business_case import DAILY_WAGE, MeasuredBusinessCase, business_case, measured_business_case
from measures.evaluation.return_to_work import RMST_HORIZON
from measures.evaluation.suppression import suppress_small_cells
from measures.evaluation.thresholds import BALANCE_THRESHOLD
from measures.indicators.catalogue import ADMIN_MONTHLY, indicators_by_id, labels, units
from report import integrity, plots
from report.identification import identification_rows
from report.narrative import NarrativeInputs
from report.text import SOURCE, TEXT
from toc.lang import Lang, checked_lang, number, translated
from toc.load import load_shipped
from toc.overlay import RESULT_STYLES, NodeResult, classify

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows; frames as stored in the warehouse for one delivery."""

    delivery: str
    cutoff: dt.date | None
    min_cell: int
    employers: pd.DataFrame
    activities: pd.DataFrame
    cases: pd.DataFrame
    survey: pd.DataFrame  # the survey panel (answers with group)
    trends: pd.DataFrame
    effects: pd.DataFrame
    event_study: pd.DataFrame
    balance: pd.DataFrame
    ingest: dict[str, dict]
    quarantine: pd.DataFrame
    toc_svgs: dict[str, str] = field(default_factory=dict)  # ToC id -> results-annotated SVG
    estimates: pd.DataFrame = field(default_factory=pd.DataFrame)  # estimates.csv
    survival_curves: pd.DataFrame = field(default_factory=pd.DataFrame)  # Kaplan-Meier, suppressed
    rmst: pd.DataFrame = field(default_factory=pd.DataFrame)  # restricted mean time to return, one row
    assumptions: list[AssumptionResult] = field(default_factory=list)  # of the ToCs in `toc_svgs`
    preregistration: dict | None = None  # run.json's `preregistration`; None: not compared
    study: str = ""
    deliveries: pd.DataFrame | None = None  # deliveries.csv: what each delivery of the study brought
    over_time: pd.DataFrame | None = None  # effects_over_time.csv: the main effects of each evaluation so far


def build_report(inputs: ReportInputs, lang: Lang = "nl") -> str:
    lang = checked_lang(lang)
    t = TEXT[lang]
    env = environment(lang)
    context = {
        "t": t,
        "lang": lang,
        "inputs": inputs,
        "status": t["interim"].format(cutoff=inputs.cutoff.isoformat()) if inputs.cutoff else t["final"],
        "design": _design(inputs),
        "response": _response(inputs),
        "employers": inputs.employers.sort_values("employer_id").to_dict("records"),
        "overlap": _overlap(inputs, lang),
        "balance": _balance(inputs, lang),
        "admin_trends": [
            _chart(plots.trend_figure(inputs.trends, i, labels(lang)[i], units(lang)[i], lang), labels(lang)[i])
            for i in (*ADMIN_MONTHLY, "rtw_12m")
            if i in set(inputs.trends["indicator_id"])
        ],
        "survey_trends": [
            _chart(
                plots.trend_figure(inputs.trends, i, labels(lang).get(i, i), units(lang).get(i, ""), lang, "small"),
                labels(lang).get(i, i),
            )
            for i in sorted(set(inputs.survey["indicator_id"]))
        ],
        "effects": _effects(inputs, lang),
        "flag_notes": flag_notes(inputs.effects, lang),
        "estimates": _estimates(inputs, lang),
        "rtw": _rtw(inputs, lang),
        "forest": _chart(plots.forest_figure(inputs.effects, labels(lang), units(lang), lang), t["forest"]),
        "events": _events(inputs, lang),
        "tocs": [
            {"title": translated(toc, "title", lang), "img": _svg_img(inputs.toc_svgs[toc.id])}
            for toc in load_shipped().values()
            if toc.id in inputs.toc_svgs
        ],
        "legend": [
            {"fill": s.fill, "marker": s.marker, "label": translated(s, "label", lang)} for s in RESULT_STYLES.values()
        ],
        "banner": integrity.banner(inputs.preregistration, lang),
        "assumptions": integrity.assumption_rows(_tocs(inputs), inputs.assumptions, lang),
        "contribution": integrity.contribution(_tocs(inputs), _story_inputs(inputs), lang),
        "quality": _quality(inputs),
        "deliveries": _deliveries(inputs),
        "over_time": _over_time(inputs, lang),
        "reasons": _reasons(inputs),
        "business": _business(inputs),
        "literature": business_case(daily_wage=DAILY_WAGE),
        "daily_wage": DAILY_WAGE,
        "balance_threshold": BALANCE_THRESHOLD,
        "identification": identification_rows(inputs.effects, inputs.toc_svgs.keys(), lang),
        "source": SOURCE,
    }
    return env.get_template("report.html.j2").render(**context)


def _tocs(inputs: ReportInputs) -> list:
    """The ToCs the report shows (those of the run's diagrams), in file order."""
    return [toc for toc in load_shipped().values() if toc.id in inputs.toc_svgs]


def _story_inputs(inputs: ReportInputs) -> NarrativeInputs:
    return NarrativeInputs(inputs.effects, inputs.employers, inputs.activities, inputs.assumptions)


def environment(lang: Lang) -> jinja2.Environment:
    """The reports' Jinja2 environment: the templates folder, autoescaping, numbers as the report writes them."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, digits=2: _num(v, digits, lang)
    return env


def _num(value, digits: int, lang: Lang) -> str:
    return number(None if value is pd.NA else value, digits, lang)


def _chart(fig, alt: str) -> dict:
    return {"img": _svg_img(plots.svg(fig)), "alt": alt}


def _svg_img(svg_text: str) -> str:
    """An SVG as a data URI for an <img>: self-contained, and its ids cannot clash with the page's."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode("utf-8")).decode("ascii")


def _design(inputs: ReportInputs) -> list[dict]:
    """Employers and employees per group, with a total row: small cells suppressed, also secondarily."""
    group = inputs.cases["employer_id"].map(inputs.employers.set_index("employer_id")["group"])
    rows = pd.DataFrame(
        {
            "group": GROUPS,
            "employers": [int((inputs.employers["group"] == g).sum()) for g in GROUPS],
            "n": [int((group == g).sum()) for g in GROUPS],
        }
    ).assign(margin="all")
    # employer counts describe organisations, not people: only the employee counts are suppressed
    shown = suppress_small_cells(rows, n="n", min_n=inputs.min_cell, margins=["margin"])
    records = shown.to_dict("records")
    records.append(
        {"group": "total", "employers": int(rows["employers"].sum()), "n": int(rows["n"].sum()), "suppressed": 0}
    )
    return records


def _response(inputs: ReportInputs) -> list[dict]:
    """Employees answering at least one question per wave and group, as a share of the group."""
    group_size = inputs.cases["employer_id"].map(inputs.employers.set_index("employer_id")["group"]).value_counts()
    answered = inputs.survey.groupby(["wave", "group"])["employee_id"].nunique()
    rows = [
        {"wave": w, "group": g, "n": int(answered.get((w, g), 0)), "of": int(group_size.get(g, 0))}
        for w in WAVES
        for g in GROUPS
    ]
    table = suppress_small_cells(pd.DataFrame(rows), n="n", min_n=inputs.min_cell)
    return [
        r | {"share": (r["n"] / r["of"]) if r["n"] is not None and not pd.isna(r["n"]) and r["of"] else None}
        for r in table.to_dict("records")
    ]


def _overlap(inputs: ReportInputs, lang: Lang) -> dict:
    """Activities (rows) by intervention employer (columns): which elements of the approach overlap."""
    acts = inputs.activities
    if acts.empty:
        return {"employers": [], "rows": []}
    names = {n.id: translated(n, "label", lang) for toc in load_shipped().values() for n in toc.nodes_in("activity")}
    employers = sorted(acts["employer_id"].unique())
    used = set(zip(acts["activity_id"], acts["employer_id"], strict=True))
    rows = [
        {
            "label": names.get(a, a),
            "cells": [(a, e) in used for e in employers],
            "count": sum((a, e) in used for e in employers),
        }
        for a in sorted(acts["activity_id"].unique())
    ]
    return {"employers": employers, "rows": sorted(rows, key=lambda r: (-r["count"], r["label"]))}


def _balance(inputs: ReportInputs, lang: Lang) -> list[dict]:
    names = labels(lang) | {"months_absent_at_inclusion": TEXT[lang]["months_absent_at_inclusion"]}
    return [r | {"label": names.get(r["variable"], r["variable"])} for r in inputs.balance.to_dict("records")]


def _effects(inputs: ReportInputs, lang: Lang) -> list[dict]:
    catalogue, t = indicators_by_id(), TEXT[lang]
    rows = []
    for r in inputs.effects.to_dict("records"):
        ind = catalogue.get(r["indicator_id"])
        result = NodeResult(
            r["indicator_id"],
            _f(r["estimate"]),
            _f(r["ci_low"]),
            _f(r["ci_high"]),
            ind.lower_is_better if ind else False,
            _f(r.get("q_value")),
        )
        verdict = classify(result)
        rows.append(
            r
            | {
                "label": translated(ind, "label", lang) if ind else r["indicator_id"],
                "unit": units(lang).get(r["indicator_id"], ""),
                "verdict": t[verdict],
                "marker": RESULT_STYLES[verdict].marker,
                "fill": RESULT_STYLES[verdict].fill,
            }
        )
    return rows


def flag_notes(effects: pd.DataFrame, lang: Lang = "nl") -> list[str]:
    """The design flags of the effects, in words: one sentence per flag naming the indicators it concerns (the
    report and the Dagster UI say the same)."""
    names = labels(lang)
    by_flag: dict[str, list[str]] = {}
    for r in effects.to_dict("records"):
        for flag in str(r.get("flags") or "").split(";"):
            if flag:
                by_flag.setdefault(flag, []).append(names.get(r["indicator_id"], r["indicator_id"]))
    return [
        TEXT[lang][f"flag_{flag}"].format(indicators=", ".join(found), n=FEW_CLUSTERS)
        for flag, found in sorted(by_flag.items())
        if f"flag_{flag}" in TEXT[lang]
    ]


def _estimates(inputs: ReportInputs, lang: Lang) -> list[dict]:
    """estimates.csv's administrative rows, labelled."""
    table = inputs.estimates
    if table.empty:
        return []
    rows = table.loc[table["indicator_id"].isin(ADMIN_MONTHLY)].to_dict("records")
    return [
        r
        | {
            "label": labels(lang).get(r["indicator_id"], r["indicator_id"]),
            "unit": units(lang).get(r["indicator_id"], ""),
            "estimator_label": TEXT[lang].get(f"estimator_{r['estimator']}", r["estimator"]),
        }
        for r in rows
    ]


def _events(inputs: ReportInputs, lang: Lang) -> list[dict]:
    out = []
    for ind in ADMIN_MONTHLY:
        rows = inputs.event_study.loc[inputs.event_study["indicator_id"] == ind]
        if rows.empty or rows["estimate"].isna().all():
            continue
        first = rows.iloc[0]
        test = (
            TEXT[lang]["pretrend"].format(
                df1=int(first["pretrend_df1"]),
                df2=int(first["pretrend_df2"]),
                f=_num(float(first["pretrend_f"]), 2, lang),
                p=_num(float(first["pretrend_p"]), 3, lang),
                p_wild=_num(_f(first.get("pretrend_p_wild")), 3, lang),
            )
            if pd.notna(first["pretrend_p"])
            else TEXT[lang]["pretrend_none"]
        )
        fig = plots.event_figure(inputs.event_study, ind, labels(lang)[ind], units(lang)[ind], lang)
        out.append(_chart(fig, labels(lang)[ind]) | {"test": test, "honest": _honest_text(first, ind, lang)})
    return out


def _honest_text(first: pd.Series, indicator: str, lang: Lang) -> str:
    """The breakdown value in words, next to the pre-period's curvature (measures.evaluation.event_studies)."""
    breakdown, curvature = _f(first.get("breakdown_m")), _f(first.get("pre_curvature"))
    if pd.isna(first.get("pretrend_p")):
        return ""
    if breakdown is None:
        return TEXT[lang]["honest_none"]
    fragile = curvature is not None and breakdown < curvature
    return TEXT[lang]["honest_fragile" if fragile else "honest"].format(
        m=_num(breakdown, 3, lang), c=_num(curvature, 3, lang), unit=units(lang).get(indicator, "")
    )


def _rtw(inputs: ReportInputs, lang: Lang) -> dict:
    """The Kaplan-Meier figure and the restricted mean time to return, or why there are none."""
    t = TEXT[lang]
    row = inputs.rmst.iloc[0].to_dict() if not inputs.rmst.empty else {"method": "—"}
    curves = inputs.survival_curves
    chart = _chart(plots.survival_figure(curves, lang), t["rtw"]) if not curves.empty else None
    rmst = row if _f(row.get("difference")) is not None else None
    return {
        "intro": t["rtw_intro"].format(min_cell=inputs.min_cell, horizon=RMST_HORIZON),
        "chart": chart,
        "rmst": rmst,
        "rmst_title": t["rmst"].format(horizon=RMST_HORIZON),
        "none": None if rmst else t["no_rtw"].format(reason=row.get("method", "—")),
    }


def _quality(inputs: ReportInputs) -> list[dict]:
    return [{"table": name} | summary for name, summary in inputs.ingest.items()]


def _deliveries(inputs: ReportInputs) -> list[dict]:
    if inputs.deliveries is None or inputs.deliveries.empty:
        return []
    rows = inputs.deliveries.assign(date=pd.to_datetime(inputs.deliveries["delivery_date"]).dt.strftime("%Y-%m-%d"))
    return rows.to_dict("records")


def _over_time(inputs: ReportInputs, lang: Lang) -> dict | None:
    """The estimate over time: shown once the study has been evaluated more than once."""
    table = inputs.over_time
    if table is None or table["evaluation"].nunique() < 2:
        return None
    indicators = tuple(dict.fromkeys(table["indicator_id"]))
    figure = plots.over_time_figure(table, indicators, labels(lang), units(lang), lang)
    primary = table.loc[table["indicator_id"] == "ao_pct"]
    rows = primary.assign(date=pd.to_datetime(primary["date"]).dt.strftime("%Y-%m-%d")).to_dict("records")
    return _chart(figure, TEXT[lang]["over_time"]) | {"rows": rows, "label": labels(lang).get("ao_pct", "ao_pct")}


def _reasons(inputs: ReportInputs) -> list[dict]:
    q = inputs.quarantine
    if q.empty:
        return []
    return q.groupby(["table", "reason"]).size().rename("rows").reset_index().to_dict("records")


def _business(inputs: ReportInputs) -> MeasuredBusinessCase | None:
    row = inputs.effects.loc[inputs.effects["indicator_id"] == "ao_pct"]
    if row.empty or pd.isna(row["estimate"].iloc[0]):
        return None
    r = row.iloc[0]
    # a negative DiD on AO% is a reduction; the business case takes the reduction in points, with the robust
    # interval of the effect (mirrored); missing bounds fall back to t(df)
    low, high = _f(r.get("ci_low")), _f(r.get("ci_high"))
    reduction = SimpleNamespace(
        estimate=-float(r["estimate"]),
        se=float(r["se"]),
        df=float(r["df"]),
        ci_low=None if high is None else -high,
        ci_high=None if low is None else -low,
    )
    return measured_business_case(reduction, daily_wage=DAILY_WAGE)


def _f(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
