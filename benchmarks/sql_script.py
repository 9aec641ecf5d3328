"""The toolkit's out-of-core route on the same drop: the pilot DiDs computed by DuckDB where the rows are.

    .venv/bin/python benchmarks/sql_script.py DROP [--out DIR]

DuckDB reads the drop and computes the trends (`analyst.py`, as the yardsticks do); each administrative
indicator's DiD (`indicator ~ treated_post | employee_id + rel`, CR1 by employer, as the pyfixest script) is
fitted by `measures.estimation.did_sql.fit_twfe_sql` on the view `did_panel`: group-by aggregates in DuckDB, no
frame in Python; DuckDB's memory is limited (it spills to a temporary folder beyond it). Prints one JSON object: the time of each phase and the estimates.
"""

from __future__ import annotations

import time

START = time.perf_counter()

import sys  # after START: imports count
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyst import ADMIN_INDICATORS, main

from measures.estimation.did_sql import fit_twfe_sql

#: DuckDB spills past it: the issue's 50M rows within 8 GB, with room for Python and the temporary files' buffers.
MEMORY_LIMIT = "4GB"


def did_all(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    effects = {}
    for indicator in ADMIN_INDICATORS:
        fit = fit_twfe_sql(con, "did_panel", indicator, "employee_id", "rel", ["treated_post"], "employer_id")
        estimate, se = fit.coef("treated_post")
        effects[indicator] = {"estimate": estimate, "se": se, "n_obs": fit.n_obs}
    return effects


if __name__ == "__main__":
    main(START, __doc__, fit_in_database=did_all, memory_limit=MEMORY_LIMIT)
