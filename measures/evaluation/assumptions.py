"""Assumptions and preconditions as testable claims: every run checks them against its own data.

An assumption or precondition of a ToC may carry a `check` (`toc.models.Check`): a measure, a comparator, a
threshold, the group and the period. A measure is either one of `MEASURES`, derived from the contract tables
(`employers`, `activities`, `cases`, `survey`) and the run's balance table, or an indicator of the catalogue (the
mean answer at the check's wave). Each check ends in one of three statuses:

- `holds`: the value meets the threshold; with group `each`, both groups do (the worse group is reported);
- `fails`: it does not;
- `untested`: the item has no check (its ToC says why the data cannot test it), the data the measure needs are
  not in the run (no activities delivered, no case has reached the wave), or the value would rest on fewer
  than `min_cell` people (small cells stay out of anything people see: value and n are left empty).

Everything here is a pure function of frames; the pipeline writes `assumptions.csv` from `assumptions_table`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from measures.contract.tables import GROUPS, SURVEY, WAVES
from measures.evaluation.panels import WAVE_MONTHS
from measures.evaluation.thresholds import MIN_CELL
from measures.indicators.catalogue import indicators_by_id
from toc.lang import Lang, translated
from toc.models import CHECKED_LAYERS, Check, Node, TheoryOfChange
from toc.overlay import CheckStatus

ASSUMPTION_COLUMNS = ["toc_id", "item_id", "kind", "status", "value", "threshold", "n"]
COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
EARLY_MONTHS = 6  # "bijvoorbeeld na 4 of 6 maanden na de start van het verzuim" (§5.3.1)


@dataclass(frozen=True)
class RunData:
    """What a run knows: the contract tables, the survey answers (after any cut-off) and the balance table."""

    employers: pd.DataFrame
    activities: pd.DataFrame
    cases: pd.DataFrame
    survey: pd.DataFrame  # employee_id, wave, respondent, indicator_id, value
    balance: pd.DataFrame  # measures.evaluation.effects.baseline_balance
    data_end: pd.Timestamp | None = None  # the cut-off, or the last day the data cover; None: everything is due


@dataclass(frozen=True)
class Units:
    """The units a measure rests on: one row per unit with its `group` and `value` (and optionally `n`)."""

    rows: pd.DataFrame
    people: bool  # units are people (or their answers): small cells are suppressed
    aggregate: str = "mean"  # "mean" or "max"


@dataclass(frozen=True)
class Measure:
    label_nl: str
    label_en: str
    units: Callable[[RunData, TheoryOfChange, Check], Units | str]  # a reason code when the data lack it
    periods: tuple[str, ...]  # the periods a check of this measure may name


@dataclass(frozen=True)
class AssumptionResult:
    toc_id: str
    item_id: str
    kind: str
    status: CheckStatus
    value: float | None
    threshold: float | None
    n: int | None
    check: Check | None
    reason: str = ""  # why untested: no_check, no_data, not_due, small_n


def evaluate_assumptions(tocs: list[TheoryOfChange], data: RunData, min_cell: int = MIN_CELL) -> list[AssumptionResult]:
    """One result per assumption and precondition of `tocs`, sorted by ToC, kind and item."""
    results = [
        _evaluate(toc, node, data, min_cell) for toc in tocs for node in toc.nodes if node.layer in CHECKED_LAYERS
    ]
    return sorted(results, key=lambda r: (r.toc_id, r.kind, r.item_id))


def assumptions_table(results: list[AssumptionResult]) -> pd.DataFrame:
    """`assumptions.csv`'s columns (toc_id, item_id, kind, status, value, threshold, n), and `reason` for the
    warehouse (why an item is untested)."""
    columns = [*ASSUMPTION_COLUMNS, "reason"]
    table = pd.DataFrame([{c: getattr(r, c) for c in columns} for r in results], columns=columns)
    return table.astype({"value": "float64", "threshold": "float64", "n": "Int64"})


def results_from_table(table: pd.DataFrame, tocs: Mapping[str, TheoryOfChange]) -> list[AssumptionResult]:
    """The results back from their table (checks from the ToCs), for the report and the narrative."""
    found = []
    for row in table.to_dict("records"):
        value, threshold, n = (None if pd.isna(row[c]) else row[c] for c in ("value", "threshold", "n"))
        check = tocs[row["toc_id"]].node(row["item_id"]).check
        found.append(
            AssumptionResult(
                row["toc_id"],
                row["item_id"],
                row["kind"],
                row["status"],
                value,
                threshold,
                n and int(n),
                check,
                row.get("reason") or "",
            )
        )
    return found


def _evaluate(toc: TheoryOfChange, node: Node, data: RunData, min_cell: int) -> AssumptionResult:
    check = node.check

    def result(status: CheckStatus, value=None, n=None, reason: str = "") -> AssumptionResult:
        threshold = None if check is None else check.threshold
        return AssumptionResult(toc.id, node.id, node.layer, status, value, threshold, n, check, reason)

    if check is None:
        return result("untested", reason="no_check")
    units = measure_units(check.measure)(data, toc, check)
    if isinstance(units, str):
        return result("untested", reason=units)
    observed = _observed(units, check)
    if observed is None:
        return result("untested", reason="no_data")
    value, n = observed
    if units.people and n < min_cell:
        return result("untested", reason="small_n")
    return result("holds" if COMPARATORS[check.comparator](value, check.threshold) else "fails", value, n)


def _observed(units: Units, check: Check) -> tuple[float, int] | None:
    """The value and its n in the check's group; for `each`, the group that does worse against the threshold."""
    rows = units.rows
    selections: dict[str, list[str | None]] = {
        "intervention": ["intervention"],
        "comparison": ["comparison"],
        "all": [None],
        "each": list(GROUPS),
    }
    found = []
    for group in selections[check.group]:
        part = rows if group is None else rows.loc[rows["group"] == group]
        if part.empty:
            return None
        if units.aggregate == "max":
            worst = part.loc[part["value"].idxmax()]
            found.append((float(worst["value"]), int(worst["n"])))
        else:
            found.append((float(part["value"].mean()), len(part)))
    # the worse group: the one furthest on the failing side of the threshold
    sign = 1 if check.comparator in (">=", ">") else -1
    return min(found, key=lambda vn: (sign * vn[0], vn[1]))


def measure_units(measure: str) -> Callable[[RunData, TheoryOfChange, Check], Units | str]:
    if measure in MEASURES:
        return MEASURES[measure].units
    if measure in indicators_by_id():
        return _indicator_mean
    raise KeyError(measure)


def measure_label(measure: str, lang: Lang) -> str:
    """What the measure is, in words (a derived measure's label, or the indicator's)."""
    if measure in MEASURES:
        return translated(MEASURES[measure], "label", lang)
    label = translated(indicators_by_id()[measure], "label", lang)
    return {"nl": f"gemiddeld antwoord op '{label}'", "en": f"mean answer to '{label}'"}[lang]


def validate_checks(tocs: Mapping[str, TheoryOfChange]) -> list[str]:
    """Problems with the checks of `tocs` (file name or id -> ToC): an unknown measure, or a measure asked at a
    period it is not measured."""
    problems = []
    for name, toc in tocs.items():
        for node in toc.nodes:
            check = node.check
            if check is None:
                continue
            where = f"{name}: node '{node.id}': check"
            if check.measure not in MEASURES and check.measure not in indicators_by_id():
                problems.append(f"{where}: unknown measure '{check.measure}' (neither derived nor an indicator)")
            elif check.period not in _periods(check.measure):
                allowed = ", ".join(_periods(check.measure))
                problems.append(f"{where}: '{check.measure}' is measured at {allowed}, not at '{check.period}'")
    return problems


def _periods(measure: str) -> tuple[str, ...]:
    if measure in MEASURES:
        return MEASURES[measure].periods
    periods = indicators_by_id()[measure].periods
    return (*periods, "run") if "once" in periods else periods  # one value per person: over the whole run


#: Why a check is untested, in words (an item without a check says why in its ToC).
REASONS: dict[str, dict[str, str]] = {
    "no_check": {"nl": "geen toets vastgelegd", "en": "no check defined"},
    "no_data": {
        "nl": "de data van deze run bevatten niet wat de toets nodig heeft",
        "en": "the run's data lack what the check needs",
    },
    "not_due": {"nl": "nog geen casus heeft dit meetmoment bereikt", "en": "no case has reached this wave yet"},
    "small_n": {
        "nl": "minder dan het minimum aantal personen: niet getoond",
        "en": "fewer people than the minimum: not shown",
    },
}


def reason_text(result: AssumptionResult, toc: TheoryOfChange, lang: Lang) -> str:
    """Why an untested item is untested: its ToC's own words, or the reason the run found."""
    if result.reason == "no_check":
        node = toc.node(result.item_id)
        return translated(node, "untestable", lang) or REASONS["no_check"][lang]
    return REASONS[result.reason][lang] if result.reason else ""


def data_end(admin_months: pd.Series, cutoff: pd.Timestamp | None) -> pd.Timestamp | None:
    """The last day the run's data cover: the cut-off, else the end of the last administrative month."""
    if cutoff is not None:
        return pd.Timestamp(cutoff)
    months = pd.to_datetime(admin_months.dropna())
    return None if months.empty else months.max() + pd.offsets.MonthEnd(0)


def _groups(data: RunData) -> pd.Series:
    return data.employers.set_index("employer_id")["group"]


def _case_groups(data: RunData) -> pd.Series:
    """Employee id -> the group of the employee's employer."""
    return data.cases.set_index("employee_id")["employer_id"].map(_groups(data))


def _included_within_early_months(data: RunData, toc: TheoryOfChange, check: Check) -> Units | str:
    """Per case included by the end of the data: 1 when the AD came within 6 months of the sick report."""
    cases = data.cases
    if data.data_end is not None:
        cases = cases.loc[cases["inclusion_date"] <= data.data_end]
    if cases.empty:
        return "no_data"
    limit = cases["absence_start"] + pd.DateOffset(months=EARLY_MONTHS)
    rows = pd.DataFrame(
        {
            "group": cases["employer_id"].map(_groups(data)).to_numpy(),
            "value": (cases["inclusion_date"] <= limit).astype(float).to_numpy(),
        }
    )
    return Units(rows, people=True)


def _employers_using_toc_activities(data: RunData, toc: TheoryOfChange, check: Check) -> Units | str:
    """Per employer: 1 when it uses at least one activity of this ToC (started by the end of the data)."""
    activities = data.activities
    if activities is None or activities.empty:
        return "no_data"
    if data.data_end is not None:
        activities = activities.loc[activities["start_date"] <= data.data_end]
    own = {n.id for n in toc.nodes_in("activity")}
    users = set(activities.loc[activities["activity_id"].isin(own), "employer_id"])
    employers = data.employers
    rows = pd.DataFrame(
        {"group": employers["group"].to_numpy(), "value": employers["employer_id"].isin(users).astype(float).to_numpy()}
    )
    return Units(rows, people=False)


def _response_rate(respondent: str) -> Callable[[RunData, TheoryOfChange, Check], Units | str]:
    def units(data: RunData, toc: TheoryOfChange, check: Check) -> Units | str:
        """Per case whose wave was due by the end of the data: 1 when the respondent answered at that wave."""
        cases = data.cases
        if data.data_end is not None:
            due = cases["inclusion_date"] + pd.DateOffset(months=WAVE_MONTHS[check.period])
            cases = cases.loc[due <= data.data_end]
        if cases.empty:
            return "not_due"
        survey = data.survey
        answered = survey.loc[(survey["wave"] == check.period) & (survey["respondent"] == respondent), "employee_id"]
        rows = pd.DataFrame(
            {
                "group": cases["employer_id"].map(_groups(data)).to_numpy(),
                # the answers' ids as they are: `isin` hashes them in C (a set takes them one Python str at a time)
                "value": cases["employee_id"].isin(answered).astype(float).to_numpy(),
            }
        )
        return Units(rows, people=True)

    return units


def _largest_std_diff(data: RunData, toc: TheoryOfChange, check: Check) -> Units | str:
    """Per baseline variable shown (not suppressed): |standardised difference|, with the people behind it."""
    balance = data.balance
    if balance is None or balance.empty:
        return "no_data"
    shown = balance.loc[balance["std_diff"].notna()]
    if shown.empty:
        return "no_data"
    rows = pd.DataFrame(
        {
            "group": "all",
            "value": shown["std_diff"].abs().to_numpy(),
            "n": (shown["n_intervention"] + shown["n_comparison"]).to_numpy(),
        }
    )
    return Units(rows, people=True, aggregate="max")


def _indicator_mean(data: RunData, toc: TheoryOfChange, check: Check) -> Units | str:
    """Per answer to the indicator at the check's wave: the answer (its mean is the value)."""
    survey = data.survey
    answers = survey.loc[(survey["indicator_id"] == check.measure) & (survey["wave"] == check.period)]
    if answers.empty:
        return "no_data"
    rows = pd.DataFrame(
        {
            "group": answers["employee_id"].map(_case_groups(data)).to_numpy(),
            "value": answers["value"].astype(float).to_numpy(),
        }
    )
    return Units(rows, people=True)


MEASURES: dict[str, Measure] = {
    "share_included_within_6_months": Measure(
        "aandeel casussen waarin de arbeidsdeskundige binnen 6 maanden na de ziekmelding is ingezet",
        "share of cases in which the work-ability expert was deployed within 6 months of the sick report",
        _included_within_early_months,
        ("inclusion",),
    ),
    "share_employers_using_toc_activities": Measure(
        "aandeel werkgevers dat ten minste één activiteit van deze ToC inzet",
        "share of employers that use at least one activity of this ToC",
        _employers_using_toc_activities,
        ("run",),
    ),
    **{
        f"response_rate_{respondent}": Measure(
            f"respons op de vragenlijst voor de {'werknemer' if respondent == 'employee' else 'werkgever'}",
            f"response to the {respondent} questionnaire",
            _response_rate(respondent),
            WAVES,
        )
        for respondent in SURVEY.column("respondent").values  # the AKC pilot's respondents
    },
    "max_abs_std_diff": Measure(
        "grootste absolute gestandaardiseerde verschil tussen de groepen",
        "largest absolute standardised difference between the groups",
        _largest_std_diff,
        ("baseline",),
    ),
}
