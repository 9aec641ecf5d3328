"""The peer an analyst would pick: pyfixest on the same drop, the same DiD and DuckDB trends, without the toolkit.

    .venv/bin/python benchmarks/pyfixest_script.py DROP [--out DIR]

DuckDB reads the drop and computes the trends (`analyst.py`); pyfixest's `feols` fits the pilot DiD of each
administrative indicator: `indicator ~ treated_post | employee_id + rel` (employee and period fixed effects),
CRV1 clustered by employer (fixest's small-sample factors; singletons dropped as fixest does), each on its own
complete cases. Prints one JSON object: the time of each phase and the estimates.
"""

from __future__ import annotations

import time

START = time.perf_counter()

import sys  # after START: imports count towards the script, as they would for an analyst
from pathlib import Path

import pandas as pd
import pyfixest as pf

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analyst import ADMIN_INDICATORS, main


def did(frame: pd.DataFrame, indicator: str) -> dict:
    fit = pf.feols(f"{indicator} ~ treated_post | employee_id + rel", data=frame, vcov={"CRV1": "employer"})
    return {"estimate": float(fit.coef()["treated_post"]), "se": float(fit.se()["treated_post"]), "n_obs": fit._N}


def did_all(frame: pd.DataFrame) -> dict[str, dict]:
    return {ind: did(frame, ind) for ind in ADMIN_INDICATORS}


if __name__ == "__main__":
    main(START, __doc__, did_all)
