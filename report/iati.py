"""The results of a run as IATI 2.03 activities (`iati-activities`): one activity per ToC, its results the ToC's.

Rules (what an IATI reader will find, and where it comes from):
- one `iati-activity` per ToC of the run, identified `{org_ref}-{study}-{toc id}`; status 2 (implementation)
  for interim results (a cut-off), 3 (finalisation) for final ones; actual start = the first inclusion month,
  actual end (final results only) = the last month of data; recipient country NL;
- one `result` per output (type 1) and per short-term, long-term or negative effect (type 2, outcome) whose
  primary indicator the run measured, in ToC order; titles and descriptions in Dutch and English;
- its `indicator`: the catalogue's label and question, `measure` from the scale (percentages and shares 2,
  Likert 4 ordinal, counts and days 1 unit; shares are given in per cent), `ascending` from the direction,
  the catalogue id as a reference in the publisher's own vocabulary (99), and the run's effect (the DiD, or
  the difference in shares) in the description;
- `baseline`: the group means at t0 (questionnaires) or in the month before inclusion (administrative data),
  one per group with a `group` dimension, dated at the first inclusion month (or the month before it);
- `period`s: the follow-up waves t1 and t2, and for monthly data the same months after inclusion (1 and 12);
  a period runs from that month after the first inclusion to that month after the last (or the last month of
  data); its `actual`s are the group means, one per group. The return-to-work share has one period, the data's
  months, and no baseline. Targets come from a design's `targets` when it has them;
- a suppressed cell (fewer than the minimum number of people) gives no baseline or actual: it stays out.
No timestamps: `generated-datetime` and `last-updated-datetime` are left out, so the same run gives the same bytes.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from measures.contract.tables import GROUPS, WAVE_MONTHS
from measures.indicators.catalogue import Indicator, primary_indicators
from toc.errors import UserError
from toc.lang import LANGS, Lang, number
from toc.load import load_shipped
from toc.models import TheoryOfChange

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RESULT_TYPES = {"output": "1", "short_term": "2", "long_term": "2", "negative_effect": "2"}
MEASURES = {"percent": "2", "yes_no": "2", "likert5": "4", "count": "1", "days": "1"}
#: Follow-up periods after the baseline: label -> months after inclusion (the waves, and monthly data alike).
FOLLOW_UP = {wave: months for wave, months in WAVE_MONTHS.items() if months > 0}
BASELINE = {"questionnaire": "t0", "admin": "-1"}
WORDS: dict[Lang, dict[str, str]] = {
    "nl": {
        "title": "{title}: resultaten van de evaluatie",
        "description": "Resultaten van de evaluatie van de interventie '{intervention}', gemeten bij werkgevers in de interventie- en vergelijkingsgroep, volgens de Theory of Change '{title}'.",
        "effect": "Effect (verschil-in-verschillen, interventie t.o.v. vergelijking): {est} [95%-BI {low}; {high}], p = {p}.",
        "effect_once": "Effect (verschil tussen de groepen, interventie t.o.v. vergelijking): {est} [95%-BI {low}; {high}], p = {p}.",
        "negative": "Negatief effect: ",
        "intervention": "interventiegroep",
        "comparison": "vergelijkingsgroep",
        "n": "{group}, n = {n}",
    },
    "en": {
        "title": "{title}: evaluation results",
        "description": "Results of the evaluation of the intervention '{intervention}', measured at employers in the intervention and comparison groups, following the Theory of Change '{title}'.",
        "effect": "Effect (difference-in-differences, intervention vs comparison): {est} [95% CI {low}; {high}], p = {p}.",
        "effect_once": "Effect (difference between the groups, intervention vs comparison): {est} [95% CI {low}; {high}], p = {p}.",
        "negative": "Negative effect: ",
        "intervention": "intervention group",
        "comparison": "comparison group",
        "n": "{group}, n = {n}",
    },
}


@dataclass(frozen=True)
class Calendar:
    """The months (YYYY-MM) that place a run's relative periods in time (run.json -> calendar)."""

    inclusion_first: str
    inclusion_last: str
    data_first: str
    data_last: str


@dataclass(frozen=True)
class RunResults:
    """What a `pilot run` wrote into its folder, as IATI needs it."""

    study: str
    effects: pd.DataFrame
    trends: pd.DataFrame
    calendar: Calendar
    final: bool
    toc_ids: tuple[str, ...]
    targets: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # indicator -> period -> target


@dataclass(frozen=True)
class Publisher:
    """Who publishes: the IATI organisation identifier and name (replace the defaults with your own)."""

    ref: str = "XX-AD-PILOT"
    name: str = "Evaluator of the AD pilot"
    type: str = "80"  # OrganisationType: academic, training and research


def read_results(out_dir: Path) -> RunResults:
    """effects.csv, trends.csv and run.json of a run folder; its ToCs are the study's (run.json `tocs`)."""
    out_dir = Path(out_dir)
    for name in ("effects.csv", "trends.csv", "run.json"):
        if not (out_dir / name).is_file():
            raise UserError(f"{out_dir}: no {name} (is this the --out folder of a `pilot run`?)")
    run = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    months = run.get("calendar") or {}
    if not all(months.get(f.name) for f in dataclasses.fields(Calendar)):
        raise UserError(f"{out_dir / 'run.json'}: no calendar (months of inclusion and data); run it again")
    # the study's ToCs (a sister ToC drawn because the run measured one of its nodes is not an activity of it);
    # a run folder from before run.json listed them: the ToCs drawn with results
    shipped = load_shipped()
    drawn = tuple(run.get("tocs") or (t for t in shipped if (out_dir / "toc" / f"{t}-results.svg").exists()))
    return RunResults(
        study=run.get("study") or run["delivery"],
        effects=pd.read_csv(out_dir / "effects.csv", dtype={"indicator_id": str}),
        trends=pd.read_csv(out_dir / "trends.csv", dtype={"indicator_id": str, "group": str, "period": str}),
        calendar=Calendar(**{f.name: months[f.name] for f in dataclasses.fields(Calendar)}),
        final=run.get("cutoff") is None,
        toc_ids=drawn,
    )


def iati_activities(results: RunResults, publisher: Publisher = Publisher()) -> bytes:
    """The `iati-activities` document, UTF-8, indented."""
    root = ET.Element("iati-activities", {"version": "2.03"})
    tocs = load_shipped()
    for toc_id in results.toc_ids:
        root.append(_activity(tocs[toc_id], results, publisher))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _narratives(parent: ET.Element, tag: str, texts: Mapping[Lang, str], attrib: dict | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib or {})
    for lang in LANGS:
        if texts.get(lang):
            ET.SubElement(element, "narrative", {XML_LANG: lang}).text = texts[lang]
    return element


def _activity(toc: TheoryOfChange, results: RunResults, publisher: Publisher) -> ET.Element:
    cal = results.calendar
    activity = ET.Element("iati-activity", {XML_LANG: "nl"})
    ET.SubElement(activity, "iati-identifier").text = f"{publisher.ref}-{results.study}-{toc.id}"
    names: dict[Lang, str] = {"nl": publisher.name, "en": publisher.name}
    _narratives(activity, "reporting-org", names, {"ref": publisher.ref, "type": publisher.type})
    titles: dict[Lang, str] = {"nl": toc.title, "en": toc.title_en}
    _narratives(activity, "title", {lang: WORDS[lang]["title"].format(title=titles[lang]) for lang in LANGS})
    description = {
        lang: WORDS[lang]["description"].format(intervention=toc.intervention, title=titles[lang]) for lang in LANGS
    }
    _narratives(activity, "description", description, {"type": "1"})
    _narratives(activity, "participating-org", names, {"ref": publisher.ref, "role": "4"})
    ET.SubElement(activity, "activity-status", {"code": "3" if results.final else "2"})
    ET.SubElement(activity, "activity-date", {"type": "2", "iso-date": _first_day(cal.inclusion_first)})
    if results.final:
        ET.SubElement(activity, "activity-date", {"type": "4", "iso-date": _last_day(cal.data_last)})
    ET.SubElement(activity, "recipient-country", {"code": "NL", "percentage": "100"})
    measured = set(results.trends["indicator_id"]) | set(results.effects["indicator_id"])
    primaries = primary_indicators(toc.id)
    for node in toc.nodes:
        ind = primaries.get(node.id)
        if node.layer in RESULT_TYPES and ind is not None and ind.id in measured:
            activity.append(_result(node, ind, results))
    return activity


def _result(node, ind: Indicator, results: RunResults) -> ET.Element:
    result = ET.Element("result", {"type": RESULT_TYPES[node.layer], "aggregation-status": "false"})
    prefix = {lang: WORDS[lang]["negative"] if node.layer == "negative_effect" else "" for lang in LANGS}
    _narratives(result, "title", {lang: prefix[lang] + getattr(node, f"label_{lang}") for lang in LANGS})
    if node.description_nl:
        _narratives(result, "description", {"nl": node.description_nl, "en": node.description_en})
    attrib = {"measure": MEASURES[ind.scale], "ascending": "false" if ind.lower_is_better else "true"}
    indicator = ET.SubElement(result, "indicator", attrib)
    _narratives(indicator, "title", {"nl": ind.label_nl, "en": ind.label_en})
    _narratives(indicator, "description", _indicator_text(ind, results.effects))
    ET.SubElement(indicator, "reference", {"vocabulary": "99", "code": ind.id})
    trends = results.trends.loc[results.trends["indicator_id"] == ind.id]
    source = "admin" if ind.source in ("admin", "process") else "questionnaire"
    if ind.periods != ("once",):
        _baseline(indicator, ind, trends, BASELINE[source], results.calendar, source)
        for label, months in FOLLOW_UP.items():
            period = label if source == "questionnaire" else str(months)
            window = _window(results.calendar, months)
            if window:
                _period(indicator, ind, trends, period, window, results.targets.get(ind.id, {}).get(label))
    else:
        window = (_first_day(results.calendar.data_first), _last_day(results.calendar.data_last))
        for period in sorted(set(trends["period"])):
            _period(indicator, ind, trends, period, window, results.targets.get(ind.id, {}).get(period))
    return result


def _indicator_text(ind: Indicator, effects: pd.DataFrame) -> dict[Lang, str]:
    row = effects.loc[effects["indicator_id"] == ind.id]
    texts: dict[Lang, str] = {"nl": ind.text_nl, "en": ind.text_en}
    if row.empty or pd.isna(row["estimate"].iloc[0]):
        return texts
    r = row.iloc[0]
    for lang in LANGS:
        scale = _scale(ind)
        effect = WORDS[lang]["effect_once" if ind.periods == ("once",) else "effect"].format(
            est=number(float(r["estimate"]) * scale, 2, lang, sign=True),
            low=number(float(r["ci_low"]) * scale, 2, lang),
            high=number(float(r["ci_high"]) * scale, 2, lang),
            p=number(float(r["p_value"]), 3, lang),
        )
        texts[lang] = f"{texts[lang]} {effect}"
    return texts


def _scale(ind: Indicator) -> float:
    """Shares (0-1) are reported in per cent, IATI's measure 2."""
    return 100.0 if ind.scale == "yes_no" else 1.0


def _cells(trends: pd.DataFrame, period: str) -> list[pd.Series]:
    """The unsuppressed group means of one period, intervention first."""
    rows = trends.loc[(trends["period"] == period) & (trends["suppressed"] == 0) & trends["mean"].notna()]
    return [r for g in GROUPS for _, r in rows.loc[rows["group"] == g].iterrows()]


def _value(ind: Indicator, mean: float) -> str:
    return f"{mean * _scale(ind):.4g}"


def _group_parts(element: ET.Element, ind: Indicator, cell: pd.Series) -> None:
    ET.SubElement(element, "dimension", {"name": "group", "value": cell["group"]})
    comment = {lang: WORDS[lang]["n"].format(group=WORDS[lang][cell["group"]], n=int(cell["n"])) for lang in LANGS}
    _narratives(element, "comment", comment)


def _baseline(
    parent: ET.Element, ind: Indicator, trends: pd.DataFrame, period: str, cal: Calendar, source: str
) -> None:
    month = _add_months(cal.inclusion_first, -1 if source == "admin" else 0)
    for cell in _cells(trends, period):
        attrib = {"year": month[:4], "iso-date": _first_day(month), "value": _value(ind, cell["mean"])}
        _group_parts(ET.SubElement(parent, "baseline", attrib), ind, cell)


def _period(
    parent: ET.Element, ind: Indicator, trends: pd.DataFrame, period: str, window: tuple[str, str], target: float | None
) -> None:
    cells = _cells(trends, period)
    if not cells and target is None:
        return
    element = ET.SubElement(parent, "period")
    ET.SubElement(element, "period-start", {"iso-date": window[0]})
    ET.SubElement(element, "period-end", {"iso-date": window[1]})
    if target is not None:
        ET.SubElement(element, "target", {"value": f"{target:.4g}"})
    for cell in cells:
        _group_parts(ET.SubElement(element, "actual", {"value": _value(ind, cell["mean"])}), ind, cell)


def _window(cal: Calendar, months: int) -> tuple[str, str] | None:
    """The calendar months in which `months` after inclusion fell for the cohort, within the data."""
    start = _add_months(cal.inclusion_first, months)
    end = min(_add_months(cal.inclusion_last, months), cal.data_last)
    return None if start > cal.data_last else (_first_day(start), _last_day(end))


def _add_months(month: str, months: int) -> str:
    year, mon = map(int, month.split("-"))
    index = year * 12 + mon - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _first_day(month: str) -> str:
    return f"{month}-01"


def _last_day(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return dt.date(year, mon, calendar.monthrange(year, mon)[1]).isoformat()
