"""The hand-written baseline: what an analyst would write for the same outputs, without the toolkit (PanelOLS).

    .venv/bin/python benchmarks/baseline.py DROP [--out DIR]

DuckDB reads the drop and computes the trends (`analyst.py`); linearmodels PanelOLS fits the pilot DiD for
each administrative indicator: employee fixed effects (EntityEffects), period effects as dummies C(rel) plus
a constant, treated × post, clustered by employer (debiased + group_debias: CR1 as fixest). Prints one JSON
object: the time of each phase and the estimates (run.py checks them against the pipeline).
"""

from __future__ import annotations

import time

START = time.perf_counter()

import sys  # after START: imports count towards the baseline, as they would for an analyst
from pathlib import Path

import pandas as pd
from linearmodels.panel import PanelOLS

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analyst import ADMIN_INDICATORS, main


def did(frame: pd.DataFrame, indicator: str) -> dict:
    frame = frame.dropna(subset=[indicator])  # else C(rel) may hold a month with no answers: a zero column
    model = PanelOLS.from_formula(f"{indicator} ~ 1 + treated_post + C(rel) + EntityEffects", data=frame)
    fit = model.fit(cov_type="clustered", clusters=frame[["employer"]], debiased=True, group_debias=True)
    return {
        "estimate": float(fit.params["treated_post"]),
        "se": float(fit.std_errors["treated_post"]),
        "n_obs": int(fit.nobs),
    }


def did_all(frame: pd.DataFrame) -> dict[str, dict]:
    frame = frame.set_index(["employee_id", "month"])
    return {ind: did(frame, ind) for ind in ADMIN_INDICATORS}


if __name__ == "__main__":
    main(START, __doc__, did_all)
