"""The effects of a run: one primary estimate per indicator (effects.csv), every estimator's (estimates.csv), and
the baseline balance.

The primary estimate, with few-cluster-robust inference (`measures.estimation.estimators`):

- administrative monthly indicators: the imputation estimator (Borusyak-Jaravel-Spiess) with employee,
  calendar-month and absence-duration fixed effects; the estimand is the average effect on the treated
  employee-months (intervention employers, from the inclusion month on, months after a return to work
  counted as AO% 0);
- questionnaire indicators: employee and wave fixed effects, treated × (t1 or t2), all available answers;
- `rtw_12m`: the difference in shares between the groups at employee level.

`p_value` and the interval are the restricted wild cluster bootstrap's (the interval by test inversion), or
randomisation inference over employers when an arm has a single employer; `p_value_wild` is always the
bootstrap's. `q_value` is the p-value adjusted within the indicator's family of hypotheses, fixed in advance
in the catalogue (`family`): Romano-Wolf on the joint draws (Holm where the draws cannot be joined).

estimates.csv has a row per indicator and estimator: `twfe` exactly as published before (employee and
relative-month fixed effects, CR1 t(G-1), the robustness row), `imputation` and `sun_abraham` (cohorts by
inclusion month, comparison employees as never treated) with the robust inference. A row whose groups hold
fewer than the minimum number of employees is suppressed, and an indicator that cannot be estimated says why
in `method` instead of failing the run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from measures.estimation.did import Engine, estimate_did, estimate_dids, same_rows
from measures.estimation.estimators import Inference, estimate_difference_robust, estimate_robust
from measures.estimation.event_study import balance_table
from measures.estimation.inference import SEED, Estimate, family_adjusted
from measures.evaluation.results import BALANCE, EFFECTS, ESTIMATES
from measures.evaluation.suppression import smallest_group
from measures.evaluation.thresholds import MIN_CELL
from measures.indicators.catalogue import ADMIN_MONTHLY, indicators_by_id

#: The pilot's primary indicator: the effect the asset check, the business case and the pre-registered plan use.
PRIMARY_INDICATOR = "ao_pct"
#: The estimator of the primary effect (and of the other administrative ones), as the plan records it; effects.csv's
#: `estimator` column says per row what a run used.
ESTIMATOR = "imputation"

#: effects.csv and estimates.csv, declared in `measures.evaluation.results` (filled by `effects_tables`).
EFFECT_COLUMNS = EFFECTS.csv_columns
ESTIMATE_COLUMNS = ESTIMATES.csv_columns
#: Bootstrap draws of the run's wild cluster bootstraps.
WILD_REPS = 999
#: The fixed effects of the primary administrative estimate besides the employee's and the calendar month's.
ADMIN_FIXED_EFFECTS = ("duration",)
ASSIGNMENT = ("treated_group", "post")
#: The published TWFE through the exact within engine: the same numbers as PanelOLS (tested to 1e-6, and to
#: fixest to 1e-8), a tenth of the time on the many small questionnaire panels.
ENGINE: Engine = "within"
_NOT_ESTIMATED = (ValueError, np.linalg.LinAlgError, ZeroDivisionError)


@dataclass(frozen=True)
class EffectTables:
    """effects.csv (one row per indicator; the t degrees of freedom in `df` for the warehouse) and estimates.csv."""

    effects: pd.DataFrame
    estimates: pd.DataFrame


def effects_table(
    admin: pd.DataFrame, survey: pd.DataFrame, rtw: pd.DataFrame, min_n: int = MIN_CELL, seed: int = SEED
) -> pd.DataFrame:
    """effects.csv's table (see :func:`effects_tables`)."""
    return effects_tables(admin, survey, rtw, min_n, seed).effects


def effects_tables(
    admin: pd.DataFrame,
    survey: pd.DataFrame,
    rtw: pd.DataFrame,
    min_n: int = MIN_CELL,
    seed: int = SEED,
    wild_reps: int = WILD_REPS,
) -> EffectTables:
    """The primary estimate per indicator with family-adjusted p-values, and every estimator's estimate."""
    robust = Inference(wild_reps=wild_reps, seed=seed)
    rows: list[dict] = []
    estimates: list[dict] = []
    indicators = [i for i in ADMIN_MONTHLY if i in admin and admin[i].notna().any()]
    if indicators:
        _admin_effects(admin, indicators, min_n, robust, rows, estimates)
    if len(rtw):
        fit = _guarded(
            functools.partial(estimate_difference_robust, rtw, "rtw_12m", "treated_group", "employer_id", robust)
        )
        rows.append(row_of("rtw_12m", rtw, min_n, fit))
        estimates.append(estimate_row("rtw_12m", rtw, min_n, "share_difference", fit))
    survey_inference = Inference(wild_reps=wild_reps, seed=seed, randomization=False)  # unless it is the method
    for ind, answers in survey.groupby("indicator_id", sort=True):
        rows.append(row_of(str(ind), answers, min_n, _guarded(functools.partial(_survey, answers, survey_inference))))
        published = _guarded(functools.partial(_survey_published, answers))
        estimates.append(estimate_row(str(ind), answers, min_n, "twfe", published))
    return EffectTables(effects_frame(rows), estimates_frame(estimates))


def _admin_effects(
    admin: pd.DataFrame, indicators: list[str], min_n: int, robust: Inference, rows: list, estimates: list
) -> None:
    """The administrative indicators, estimated together where they share rows (a failure stays in its group)."""
    sa_inference = Inference(wild_reps=robust.wild_reps, seed=robust.seed, randomization=False)
    employees = smallest_group(admin)  # counted once: every row and estimate of the admin panel asks
    for group in same_rows(admin, indicators):
        same = (admin, group, "employee_id", "month", "treated", "employer_id")
        fits = {
            "imputation": _group_fit(
                functools.partial(
                    estimate_robust, *same, "imputation", ADMIN_FIXED_EFFECTS, assignment=ASSIGNMENT, inference=robust
                )
            ),
            "twfe": _group_fit(
                functools.partial(
                    estimate_dids,
                    admin,
                    group,
                    "employee_id",
                    "rel",
                    "treated",
                    "employer_id",
                    wild=False,
                    engine=ENGINE,
                )
            ),
            "sun_abraham": _group_fit(
                functools.partial(estimate_robust, *same, "sun_abraham", ["duration"], inference=sa_inference)
            ),
        }
        for ind in group:
            rows.append(row_of(ind, admin, min_n, fits["imputation"](ind), employees=employees))
            estimates += [
                estimate_row(ind, admin, min_n, name, fit(ind), employees=employees) for name, fit in fits.items()
            ]


Fit = Callable[[], Estimate | str]


def _survey(answers: pd.DataFrame, inference: Inference) -> Estimate:
    """A questionnaire item's primary estimate: employee and wave fixed effects, the robust inference."""
    return estimate_robust(
        answers,
        ["value"],
        "employee_id",
        "wave_order",
        "treated",
        "employer_id",
        "twfe",
        assignment=ASSIGNMENT,
        inference=inference,
    )["value"]


def _survey_published(answers: pd.DataFrame) -> Estimate:
    """The same model with CR1 t(G-1), as published (estimates.csv's twfe row)."""
    return estimate_did(
        answers, "value", "employee_id", "wave_order", "treated", cluster="employer_id", wild=False, engine=ENGINE
    )


def _guarded(fit: Callable[[], Estimate]) -> Fit:
    """A fit that, when called, gives the estimate or why there is none; made on first use (effects.csv's row
    and estimates.csv's row of an indicator share it: its randomisation inference is most of a run's effects)."""
    made: list[Estimate | str] = []

    def run() -> Estimate | str:
        if not made:
            try:
                made.append(fit())
            except _NOT_ESTIMATED as exc:
                made.append(_why(exc))
        return made[0]

    return run


def _group_fit(fit: Callable[[], dict[str, Estimate]]) -> Callable[[str], Fit]:
    """Fits of several outcomes at once, made on first use; per outcome, the estimate or why there is none."""
    made: list[dict[str, Estimate] | str] = []

    def of(indicator: str) -> Fit:
        def run() -> Estimate | str:
            if not made:
                try:
                    made.append(fit())
                except _NOT_ESTIMATED as exc:
                    made.append(_why(exc))
            result = made[0]
            return result if isinstance(result, str) else result[indicator]

        return run

    return of


def _why(exc: Exception) -> str:
    return f"not estimable: {str(exc).splitlines()[0]}"


#: How many people the smaller group of an estimate's rows holds (a level: all its people).
Smallest = Callable[[pd.DataFrame], int]


def _outcome(
    frame: pd.DataFrame, min_n: int, fit: Fit, smallest: Smallest | None, employees: int | None = None
) -> Estimate | str:
    """The estimate, or why there is none: too few people in a group (checked first, so nothing is fitted on a
    small group), or the estimator's reason. `employees`: the frame's `smallest_group`, when already counted."""
    if smallest is None and (smallest_group(frame) if employees is None else employees) < min_n:
        return f"suppressed: fewer than {min_n} employees in a group"
    if smallest is not None and smallest(frame) < min_n:
        return f"suppressed: fewer than {min_n} people in a group"
    return fit()


def row_of(
    indicator: str,
    frame: pd.DataFrame,
    min_n: int,
    fit: Fit,
    people: str = "employee_id",
    cluster: str = "employer_id",
    smallest: Smallest | None = None,
    employees: int | None = None,
) -> dict:
    """effects.csv's row of `indicator`: its estimate from `fit`, or why there is none (suppressed when the
    smaller group, by `smallest` or else the employees per group, is below `min_n`; `employees`: that count
    when the caller has it)."""
    est = _outcome(frame, min_n, fit, smallest, employees)
    if isinstance(est, str):
        return {
            "indicator_id": indicator,
            "n_employers": frame[cluster].nunique(),
            "n_employees": frame[people].nunique(),
            "n_obs": len(frame),
            "flags": "",
            "method": est,
            "test": None,
        }
    return {
        "indicator_id": indicator,
        "estimate": est.estimate,
        "se": est.se,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "p_value": est.p_value,
        "p_value_wild": est.p_value_wild,
        "p_value_ri": est.p_value_ri,
        "estimator": est.estimator,
        "n_treated_employers": est.n_treated_clusters,
        "n_comparison_employers": est.n_comparison_clusters,
        "n_employers": est.n_clusters,
        "n_employees": est.n_entities,
        "n_obs": est.n_obs,
        "flags": ";".join(est.flags),
        "method": est.method,
        "df": est.df,
        "test": est.test,
    }


def estimate_row(
    indicator: str,
    frame: pd.DataFrame,
    min_n: int,
    estimator: str,
    fit: Fit,
    smallest: Smallest | None = None,
    employees: int | None = None,
) -> dict:
    """estimates.csv's row of `indicator` and `estimator` (suppressed as in `row_of`)."""
    est = _outcome(frame, min_n, fit, smallest, employees)
    if isinstance(est, str):
        return {"indicator_id": indicator, "estimator": estimator, "n_obs": len(frame), "method": est}
    fields = ("estimate", "se", "ci_low", "ci_high", "p_value", "n_obs", "method")
    return {"indicator_id": indicator, "estimator": estimator} | {f: getattr(est, f) for f in fields}


def effects_frame(rows: list[dict]) -> pd.DataFrame:
    """effects.csv from `row_of`'s rows: q-values within the catalogue's families, sorted by indicator."""
    catalogue = indicators_by_id()
    for row in rows:
        row["family"] = catalogue[row["indicator_id"]].family if row["indicator_id"] in catalogue else "other"
    table = pd.DataFrame(rows).reindex(columns=[*EFFECT_COLUMNS, "df", "test"])
    table["q_value"] = _family_adjusted(table)
    table = table.drop(columns="test").sort_values("indicator_id", kind="stable").reset_index(drop=True)
    return table.astype(dict.fromkeys(("estimate", "se", "ci_low", "ci_high", "p_value", "q_value", "df"), "float64"))


def _family_adjusted(table: pd.DataFrame) -> pd.Series:
    """Within each family, Romano-Wolf adjusted p-values of the estimated indicators (see the module docstring)."""
    adjusted = pd.Series(np.nan, index=table.index, dtype="float64")
    estimated = table["p_value"].notna()
    for _, members in table.loc[estimated].groupby("family", sort=True):
        adjusted[members.index] = family_adjusted(list(members["test"]), list(members["p_value"]))
    return adjusted


def estimates_frame(rows: list[dict]) -> pd.DataFrame:
    """estimates.csv from `estimate_row`'s rows, sorted by indicator and estimator."""
    table = pd.DataFrame(rows).reindex(columns=ESTIMATE_COLUMNS)
    order = {name: k for k, name in enumerate(("imputation", "twfe", "sun_abraham", "share_difference"))}
    table = table.assign(_order=table["estimator"].map(order)).sort_values(["indicator_id", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


BALANCE_COLUMNS = BALANCE.csv_columns


def baseline_balance(baseline: pd.DataFrame, variables: list[str], min_n: int = MIN_CELL) -> pd.DataFrame:
    """The balance table at baseline. A variable with fewer than `min_n` people in a group is suppressed:
    its means, SDs, standardised difference *and counts* are emptied here, before the table is stored or
    shown anywhere (a count of 3 is as telling as a mean of 3 people). No variable: no rows, same columns."""
    present = [v for v in variables if v in baseline and baseline[v].notna().any()]
    if not present:
        return pd.DataFrame({c: pd.Series(dtype="object" if c == "variable" else "float64") for c in BALANCE_COLUMNS})
    table = balance_table(baseline, "treated_group", present)
    small = ((table["n_intervention"] < min_n) | (table["n_comparison"] < min_n)).to_numpy()
    numbers = [c for c in table.columns if c != "variable" and not c.startswith("n_")]
    table.loc[small, numbers] = np.nan
    for count in ("n_intervention", "n_comparison"):
        table[count] = table[count].where(~small).astype("Int64")
    return table.assign(suppressed=small.astype(int))[BALANCE_COLUMNS]
