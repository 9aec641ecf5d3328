"""Time to return to work per group: Kaplan-Meier curves and the restricted mean time, from the survival panel.

A return to work (`end_reason` return_to_work) is the event; any other ending, an unknown one and the end of
the data censor (`measures.evaluation.panels.survival_frame`). The restricted mean time to return within
:data:`RMST_HORIZON` months (the area under the "still absent" curve) is compared between the groups with a
bootstrap of employers within each group. What people see is suppressed as everywhere: a curve stops where
fewer than the minimum number of employees are still at risk, and a group with fewer employees gets no curve
and no restricted mean.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from measures.estimation.errors import EstimationError
from measures.estimation.inference import SEED
from measures.estimation.survival import kaplan_meier, rmst_difference
from measures.evaluation.panels import RTW_WINDOW_MONTHS
from measures.evaluation.results import RMST, SURVIVAL_CURVES
from measures.evaluation.thresholds import MIN_CELL

#: The horizon of the restricted mean time to return (months): the window of rtw_12m.
RMST_HORIZON = RTW_WINDOW_MONTHS
#: The warehouse's `survival_curves` and `rmst`, declared in `measures.evaluation.results`.
CURVE_COLUMNS = SURVIVAL_CURVES.column_names
RMST_COLUMNS = RMST.column_names
GROUP_OF = {1: "intervention", 0: "comparison"}
#: No curve at all, with the columns' types (the warehouse keeps the types of the first table it sees).
EMPTY_CURVES = pd.DataFrame(
    {
        "group": pd.Series(dtype=str),
        "time": pd.Series(dtype=float),
        "survival": pd.Series(dtype=float),
        "at_risk": pd.Series(dtype="int64"),
        "events": pd.Series(dtype="int64"),
    }
)


@dataclass(frozen=True)
class ReturnToWork:
    """Kaplan-Meier curves (suppressed) and the restricted-mean comparison (one row, or a reason in ``method``)."""

    curves: pd.DataFrame
    rmst: pd.DataFrame


def return_to_work(survival: pd.DataFrame, min_n: int = MIN_CELL, seed: int = SEED) -> ReturnToWork:
    """The curves per group and the restricted mean time to return (see the module docstring)."""
    sizes = survival.groupby("treated_group")["employee_id"].nunique().reindex([0, 1], fill_value=0)
    curves = [
        _curve(survival.loc[survival["treated_group"] == g], GROUP_OF[g], min_n) for g in (1, 0) if sizes[g] >= min_n
    ]
    table = pd.concat(curves, ignore_index=True) if curves else EMPTY_CURVES
    return ReturnToWork(table[CURVE_COLUMNS], _rmst(survival, sizes, min_n, seed))


def _curve(frame: pd.DataFrame, group: str, min_n: int) -> pd.DataFrame:
    """The group's curve, starting at S(0) = 1, stopped where fewer than ``min_n`` are at risk."""
    curve = kaplan_meier(frame["duration"].to_numpy(float), frame["event"].to_numpy(int)).table(group)
    start = pd.DataFrame([{"group": group, "time": 0.0, "survival": 1.0, "at_risk": len(frame), "events": 0}])
    return pd.concat([start, curve.loc[curve["at_risk"] >= min_n]], ignore_index=True)


def _rmst(survival: pd.DataFrame, sizes: pd.Series, min_n: int, seed: int) -> pd.DataFrame:
    if sizes.min() < min_n:
        return _without(f"suppressed: fewer than {min_n} employees in a group")
    try:
        result = rmst_difference(survival, "duration", "event", "treated_group", "employer_id", RMST_HORIZON, seed=seed)
    except EstimationError as exc:
        return _without(f"not estimable: {exc}")
    row = {k: v for k, v in asdict(result).items() if k in RMST_COLUMNS}
    return pd.DataFrame([row])[RMST_COLUMNS]


def _without(reason: str) -> pd.DataFrame:
    """The restricted-mean row when there is none: its numbers missing (as floats), the reason in ``method``."""
    numbers = {c: float("nan") for c in RMST_COLUMNS if c not in ("horizon", "method")}
    return pd.DataFrame([{"horizon": RMST_HORIZON, **numbers, "method": reason}])[RMST_COLUMNS]
