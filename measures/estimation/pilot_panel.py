"""A pilot-like employee-month panel with a known truth, for power by simulation and Monte Carlo checks.

The data-generating process, for employee i of employer j in calendar month t, d = months since the
absence started, and D = 1 from the inclusion month on at intervention employers:

  Y0(i,t) = recovery(d) + employer level + employee level + 0.3 t + shock 1[t >= shock_month]
            + employer change x 1[month >= inclusion] + noise
  Y1(i,t) = Y0(i,t) + effect_j + ramp x (months since inclusion)

with effect_j ~ N(effect, effect_sd) per employer ("effect heterogeneity") and the employer change
~ N(0, employer_change_sd) ("the employer-level variance of changes", which drives a DiD's precision).
An employee may return to work: each month with hazard ``return_hazard`` (``return_hazard_treated``
once treated), both potential paths driven by the same uniform draws, and from the return on the
outcome is 0 (the months stay in the panel until the data end, as the pilot's panels count them). An
employee may leave with ``exit_hazard`` (rows stop: censored). The panel holds the observed Y; the
truth is the mean of Y1 - Y0 over the treated rows, and for ``rtw_12m`` (returned within 12 months of
the absence start, over employees whose 12 months end within the data) the mean difference over
intervention employees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PanelSpec:
    """Knobs of the pilot-like panel (see the module docstring). ``employees``: per employer, one number or
    one per employer (unequal sizes); the first ``treated_employers`` employers are the intervention arm
    unless ``shuffle_arms``."""

    employers: int = 10
    treated_employers: int = 5
    employees: int | tuple[int, ...] = 20
    months: int = 30
    entry_months: int = 12
    treated_entry_delay: int = 0
    follow_up: int = 18
    effect: float = -10.0
    effect_sd: float = 0.0
    ramp: float = 0.0
    employer_sd: float = 6.0
    employee_sd: float = 8.0
    employer_change_sd: float = 3.0
    noise_sd: float = 5.0
    calendar_shock: float = 0.0
    shock_month: int = 14
    return_hazard: float = 0.0
    return_hazard_treated: float | None = None
    exit_hazard: float = 0.0
    shuffle_arms: bool = True


def sizes(spec: PanelSpec) -> np.ndarray:
    if isinstance(spec.employees, int):
        return np.full(spec.employers, spec.employees)
    if len(spec.employees) != spec.employers:
        raise ValueError("give one size per employer")
    return np.asarray(spec.employees)


def simulate_pilot_panel(spec: PanelSpec, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """The employee-month panel (employee_id, employer_id, month, duration, rel, treated_group, post,
    treated, y) and the truth (``att``: mean Y1 - Y0 over treated rows; ``rtw_att``, ``rtw`` frame in
    :func:`rtw_frame`)."""
    rng = np.random.default_rng(seed)
    n_per = sizes(spec)
    arm = np.zeros(spec.employers, dtype=int)
    arm[
        rng.permutation(spec.employers)[: spec.treated_employers]
        if spec.shuffle_arms
        else np.arange(spec.treated_employers)
    ] = 1
    employer = np.repeat(np.arange(spec.employers), n_per)
    n = len(employer)
    group = arm[employer]
    start = rng.integers(0, spec.entry_months, n) + spec.treated_entry_delay * group
    inclusion = start + rng.integers(4, 7, n)
    level = rng.normal(0, spec.employer_sd, spec.employers)[employer] + rng.normal(0, spec.employee_sd, n)
    change = rng.normal(0, spec.employer_change_sd, spec.employers)[employer]
    effect = rng.normal(spec.effect, spec.effect_sd, spec.employers)[employer]

    span = np.clip(np.minimum(spec.follow_up, spec.months - start), 0, None)
    row = np.repeat(np.arange(n), span)
    d = np.concatenate([np.arange(s) for s in span])
    month = start[row] + d
    post = (month >= inclusion[row]).astype(int)
    treated = group[row] * post
    y0 = (
        95 * np.exp(-d / 14.0)
        + level[row]
        + 0.3 * month
        + spec.calendar_shock * (month >= spec.shock_month)
        + change[row] * post
        + rng.normal(0, spec.noise_sd, len(row))
    )
    y1 = y0 + (effect[row] + spec.ramp * (month - inclusion[row])) * treated
    back0, back1, stop = _returns_and_exits(spec, rng, row, treated)
    y0, y1 = np.where(back0, 0.0, y0), np.where(back1, 0.0, y1)
    keep = ~stop
    panel = pd.DataFrame(
        {
            "employee_id": row,
            "employer_id": employer[row],
            "month": month,
            "duration": d,
            "rel": month - inclusion[row],
            "treated_group": group[row],
            "post": post,
            "treated": treated,
            "y": np.where(treated == 1, y1, y0),
        }
    )[keep].reset_index(drop=True)
    in_effect = keep & (treated == 1)
    truth = {"att": float(np.mean(y1[in_effect] - y0[in_effect])) if in_effect.any() else 0.0}
    return panel, truth | _rtw_truth(spec, row, d, back0, back1, keep, group, start)


def _returns_and_exits(spec: PanelSpec, rng: np.random.Generator, row: np.ndarray, treated: np.ndarray):
    """Whether each row lies after a return to work without and with treatment, and after an exit."""
    u = rng.random(len(row))
    hazard1 = spec.return_hazard if spec.return_hazard_treated is None else spec.return_hazard_treated
    event0 = u < spec.return_hazard
    event1 = u < np.where(treated == 1, hazard1, spec.return_hazard)
    exits = rng.random(len(row)) < spec.exit_hazard
    # "after": an event in an earlier month of the same employee (a return month itself still counts as absent)
    return _after(event0, row), _after(event1, row), _after(exits, row)


def _after(event: np.ndarray, row: np.ndarray) -> np.ndarray:
    """True from the row after the employee's first event on."""
    cumulative = pd.Series(event.astype(int)).groupby(row).cumsum().to_numpy()
    return (cumulative - event) > 0


def _rtw_truth(spec, row, d, back0, back1, keep, group, start) -> dict:
    """rtw_12m truth over intervention employees whose 12 months end within the data."""
    complete = start + 12 <= spec.months
    within = d < 12
    # observed by month 11 of the absence: "back" rows within the window (a return in month 11 shows in month 12)
    r0 = pd.Series(back0 & within).groupby(row).any().reindex(range(len(group)), fill_value=False).to_numpy()
    r1 = pd.Series(back1 & within).groupby(row).any().reindex(range(len(group)), fill_value=False).to_numpy()
    target = complete & (group == 1)
    return {"rtw_att": float(np.mean(r1[target].astype(float) - r0[target])) if target.any() else 0.0}


def rtw_frame(panel: pd.DataFrame, months: int) -> pd.DataFrame:
    """One row per employee whose 12 months since the absence start end within the data: rtw_12m = 1 when a
    month within them has y == 0 (back at work)."""
    first = panel.groupby("employee_id").agg(
        start=("month", "min"), employer_id=("employer_id", "first"), treated_group=("treated_group", "first")
    )
    back = panel.loc[(panel["duration"] < 12) & (panel["y"] == 0), "employee_id"].unique()
    frame = first.loc[first["start"] + 12 <= months].reset_index()
    return frame.assign(rtw_12m=frame["employee_id"].isin(back).astype(int), one=1)
