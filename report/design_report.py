"""The report of a study design other than the AKC pilot: one self-contained HTML file, Dutch or English.

Its sections follow the design: what the seed asked for and how the study answers it; the groups; the design's
own figures (cohorts and curves, the timeline's timeliness, the tool's use and the symptom courses); one result
per indicator (effects.csv) with its verdict; trends per group; the results-annotated ToC; assumptions; data
quality and deliveries; method. It computes nothing statistical: the tables come from the run (already
suppressed where they show people), the charts from `report.design_figures`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from measures.designs.load import design_indicators
from measures.designs.model import StudyDesign
from measures.evaluation.design.effects import LEVELS, held_against, result_of
from measures.evaluation.design.frames import DesignData
from measures.evaluation.suppression import suppress_small_cells
from measures.indicators.catalogue import indicators_by_id, labels, units
from report import integrity
from report.build import _chart, _svg_img, environment
from report.design_figures import design_charts, milestone_labels, start_year
from report.design_text import DESIGN_TEXT
from report.text import TEXT
from toc.lang import Lang, checked_lang, translated
from toc.load import resolve
from toc.overlay import RESULT_STYLES, classify


@dataclass(frozen=True)
class DesignReportInputs:
    design: StudyDesign
    delivery: str
    cutoff: dt.date | None
    min_cell: int
    data: DesignData
    tables: dict[
        str, pd.DataFrame
    ]  # effects, trends, milestones, survival, trajectories, assumptions, quarantine, deliveries
    ingest: dict[str, dict]
    preregistration: dict | None = None
    toc_svgs: dict[str, str] = field(default_factory=dict)
    study: str = ""


def build_design_report(inputs: DesignReportInputs, lang: Lang = "nl") -> str:
    lang = checked_lang(lang)
    t, d = TEXT[lang], DESIGN_TEXT[lang]
    env = environment(lang)
    design = inputs.design
    charts = design_charts(design, inputs.tables, lang, start_year(inputs.data.table(design.units.clusters), design))
    context = {
        "t": t,
        "d": d,
        "lang": lang,
        "inputs": inputs,
        "design": design,
        "title": translated(design, "title", lang),
        "status": t["interim"].format(cutoff=inputs.cutoff.isoformat()) if inputs.cutoff else t["final"],
        "banner": integrity.banner(inputs.preregistration, lang),
        "seeds": [
            {"file": s.file, "quote": s.quote, "asks": s.asks_nl if lang == "nl" else s.asks_en} for s in design.seed
        ],
        "tocs": [{"id": tid, "title": translated(resolve(tid), "title", lang)} for tid in design.tocs],
        "primary": labels(lang).get(design.primary_indicator, design.primary_indicator),
        "groups": _groups(inputs),
        "charts": {name: _chart(fig, alt) for name, (fig, alt) in charts.items()},
        "milestones": _milestones(inputs, lang),
        "results": _results(inputs, lang),
        "levels": design.design == "feasibility-monitoring",
        "trends": _trends(inputs, lang),
        "toc_figures": [
            {"title": translated(resolve(tid), "title", lang), "img": _svg_img(svg)}
            for tid, svg in inputs.toc_svgs.items()
        ],
        "legend": [
            {"fill": s.fill, "marker": s.marker, "label": translated(s, "label", lang)} for s in RESULT_STYLES.values()
        ],
        "assumptions": _assumptions(inputs, lang),
        "quality": [{"table": name} | summary for name, summary in inputs.ingest.items()],
        "reasons": _reasons(inputs.tables.get("quarantine", pd.DataFrame())),
        "deliveries": _deliveries(inputs.tables.get("deliveries")),
        "methods": d[f"methods_{design.design}"].format(horizon=f"{design.horizon_weeks:g}"),
    }
    return env.get_template("design.html.j2").render(**context)


def _groups(inputs: DesignReportInputs) -> list[dict]:
    """Clusters and people per group, the people suppressed below the minimum cell size."""
    people = inputs.data.people
    clusters = people.groupby("group")["cluster"].nunique()
    counts = people.groupby("group")["person"].nunique()
    rows = pd.DataFrame(
        {"group": counts.index, "clusters": clusters.reindex(counts.index).to_numpy(), "n": counts.to_numpy()}
    )
    return suppress_small_cells(rows, n="n", min_n=inputs.min_cell).to_dict("records")


def _milestones(inputs: DesignReportInputs, lang: Lang) -> list[dict]:
    table = inputs.tables.get("milestones")
    if table is None or not len(table):
        return []
    names = milestone_labels(inputs.design, lang)
    return [r | {"label": names.get(r["milestone"], r["milestone"])} for r in table.to_dict("records")]


def _results(inputs: DesignReportInputs, lang: Lang) -> list[dict]:
    catalogue, t, d = indicators_by_id(), TEXT[lang], DESIGN_TEXT[lang]
    rows = []
    for r in inputs.tables["effects"].to_dict("records"):
        ind = catalogue[r["indicator_id"]]
        verdict = classify(result_of(inputs.design, ind, r))
        kind = (
            "level"
            if r.get("estimator") in LEVELS
            else "did"
            if r.get("estimator") in ("imputation", "rmst_did")
            else "difference"
        )
        if r.get("estimator") == "within_change":
            kind = "change"
        rows.append(
            r
            | {
                "label": translated(ind, "label", lang),
                "unit": units(lang).get(r["indicator_id"], ""),
                "kind": d[kind],
                "benchmark": held_against(inputs.design, ind, r.get("estimator")) if kind == "level" else None,
                "verdict": t[verdict],
                "marker": RESULT_STYLES[verdict].marker,
                "fill": RESULT_STYLES[verdict].fill,
                "primary": r["indicator_id"] == inputs.design.primary_indicator,
            }
        )
    return sorted(rows, key=lambda r: (not r["primary"], r["label"]))


def _trends(inputs: DesignReportInputs, lang: Lang) -> list[dict]:
    trends = inputs.tables.get("trends", pd.DataFrame())
    names = labels(lang)
    order = [i.id for i in design_indicators(inputs.design)]
    rows = [r | {"label": names.get(r["indicator_id"], r["indicator_id"])} for r in trends.to_dict("records")]
    return sorted(rows, key=lambda r: order.index(r["indicator_id"]) if r["indicator_id"] in order else len(order))


def _assumptions(inputs: DesignReportInputs, lang: Lang) -> list[dict]:
    table = inputs.tables.get("assumptions", pd.DataFrame())
    out = []
    for r in table.to_dict("records"):
        node = resolve(r["toc_id"]).node(r["item_id"])
        reason = translated(node, "untestable", lang) if r["status"] == "untested" else ""
        out.append(
            r | {"label": translated(node, "label", lang), "status_text": DESIGN_TEXT[lang][r["status"]], "why": reason}
        )
    return out


def _reasons(quarantine: pd.DataFrame) -> list[dict]:
    if quarantine.empty:
        return []
    return quarantine.groupby(["table", "reason"]).size().rename("rows").reset_index().to_dict("records")


def _deliveries(deliveries: pd.DataFrame | None) -> list[dict]:
    if deliveries is None or deliveries.empty:
        return []
    rows = deliveries.assign(date=pd.to_datetime(deliveries["delivery_date"]).dt.strftime("%Y-%m-%d"))
    return rows.to_dict("records")
