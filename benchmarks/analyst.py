"""What both hand-written yardsticks share: the drop read by DuckDB, the trends in SQL, and the run with its clock.

An analyst's script without the toolkit: DuckDB reads the drop's CSVs, adds the months after a return to work
(AO% 0, 0 absence days, up to the last month of the data: contract 1.1) and computes the trends (mean, n and
a 95% t-interval per indicator × group × month relative to inclusion, and per wave for the questionnaire).
`baseline.py` (linearmodels PanelOLS) and `pyfixest_script.py` (pyfixest feols) then fit the pilot DiD of each
administrative indicator on the same frame; `sql_script.py` fits it where the rows are, with the toolkit's SQL
route (the one script that imports the toolkit: the out-of-core route measured on the same drop). Nothing of the toolkit is imported: this is the yardstick, not a
second implementation to maintain.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
from scipy import stats

ADMIN_INDICATORS = ("ao_pct", "absence_days", "loonwaarde_pct")
MIN_CELL = 10  # the analyst's own script: deliberately written without the toolkit

PANEL_SQL = """
CREATE TABLE panel AS
SELECT a.employee_id, a.employer_id, e."group" AS grp,
       strptime(a.month, '%Y-%m')::DATE AS month,
       (year(strptime(a.month, '%Y-%m')) * 12 + month(strptime(a.month, '%Y-%m')))
         - (year(c.inclusion_date) * 12 + month(c.inclusion_date)) AS rel,
       a.ao_pct, a.absence_days, a.loonwaarde_pct
FROM read_csv('{drop}/admin.csv', types={{'month': 'VARCHAR', 'absence_days': 'DOUBLE', 'ao_pct': 'DOUBLE',
                                          'loonwaarde_pct': 'DOUBLE'}}) a
JOIN read_csv('{drop}/cases.csv') c USING (employee_id)
JOIN read_csv('{drop}/employers.csv') e ON e.employer_id = a.employer_id
"""

RETURNS_SQL = """
INSERT INTO panel
SELECT c.employee_id, c.employer_id, e."group", m.month::DATE,
       (year(m.month) * 12 + month(m.month)) - (year(c.inclusion_date) * 12 + month(c.inclusion_date)),
       0.0, 0.0, NULL
FROM read_csv('{drop}/cases.csv', types={{'end_reason': 'VARCHAR', 'end_date': 'DATE'}}) c
JOIN read_csv('{drop}/employers.csv') e ON e.employer_id = c.employer_id
CROSS JOIN LATERAL (
    SELECT unnest(generate_series(date_trunc('month', c.end_date) + INTERVAL 1 MONTH,
                                  (SELECT max(month) FROM panel), INTERVAL 1 MONTH)) AS month
) m
WHERE c.end_reason = 'return_to_work'
  AND NOT EXISTS (SELECT 1 FROM panel p WHERE p.employee_id = c.employee_id AND p.month = m.month::DATE)
"""

SURVEY_SQL = """
CREATE TABLE answers AS
SELECT s.employee_id, s.indicator_id, s.wave, s.value, e."group" AS grp
FROM read_csv('{drop}/survey.csv', types={{'value': 'DOUBLE'}}) s
JOIN read_csv('{drop}/employers.csv') e USING (employer_id)
"""

TRENDS_SQL = """
SELECT indicator_id, grp AS "group", CAST(rel AS VARCHAR) AS period, avg(value) AS mean,
       stddev_samp(value) AS sd, count(value) AS n
FROM (UNPIVOT (SELECT grp, rel, ao_pct, absence_days, loonwaarde_pct FROM panel)
      ON ao_pct, absence_days, loonwaarde_pct INTO NAME indicator_id VALUE value)
GROUP BY ALL
UNION ALL
SELECT indicator_id, grp, wave, avg(value), stddev_samp(value), count(value)
FROM answers GROUP BY ALL
ORDER BY 1, 2, 3
"""


DID_VIEW = """
CREATE VIEW did_panel AS
SELECT employee_id, month, rel, ao_pct, absence_days, loonwaarde_pct, employer_id,
       CAST(grp = 'intervention' AND rel >= 0 AS DOUBLE) AS treated_post
FROM panel"""


def load(con: duckdb.DuckDBPyConnection, drop: Path) -> None:
    con.execute(PANEL_SQL.format(drop=drop))
    con.execute(RETURNS_SQL.format(drop=drop))
    con.execute(SURVEY_SQL.format(drop=drop))
    con.execute(DID_VIEW)


def trends(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Mean, 95% t-interval and n per cell; cells of fewer than MIN_CELL people are blanked."""
    table = con.sql(TRENDS_SQL).df()
    half = stats.t.ppf(0.975, (table["n"] - 1).clip(lower=1)) * table["sd"] / table["n"] ** 0.5
    table = table.assign(
        ci_low=table["mean"] - half, ci_high=table["mean"] + half, suppressed=(table["n"] < MIN_CELL).astype(int)
    )
    table.loc[table["suppressed"] == 1, ["mean", "ci_low", "ci_high"]] = None
    return table.assign(n=table["n"].where(table["suppressed"] == 0).astype("Int64")).drop(columns="sd")


def did_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The admin panel (`did_panel`: treated × post), with an integer employer code in place of the label."""
    return con.sql(
        "SELECT * EXCLUDE (employer_id), dense_rank() OVER (ORDER BY employer_id) AS employer FROM did_panel"
    ).df()


def main(
    start: float,
    doc: str,
    fit_dids: Callable[[pd.DataFrame], dict[str, dict]] | None = None,
    fit_in_database: Callable[[duckdb.DuckDBPyConnection], dict[str, dict]] | None = None,
    memory_limit: str | None = None,
) -> None:
    """Read, trends, DiDs (``fit_dids`` on the frame of :func:`did_frame`, or ``fit_in_database`` on the view
    ``did_panel`` where the rows are); print the seconds and estimates as one JSON object (``start``: the clock
    when the script began, so imports count; ``memory_limit``: DuckDB's, past which it spills)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("drop", type=Path)
    parser.add_argument("--out", type=Path, help="also write trends.csv and effects.csv here")
    args = parser.parse_args()
    seconds = {"start": time.perf_counter() - start}
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{tempfile.mkdtemp(prefix='ad-analyst-')}'")  # beyond memory: spilled
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    clock = time.perf_counter()
    load(con, args.drop.resolve())
    seconds["read"] = time.perf_counter() - clock
    clock = time.perf_counter()
    table = trends(con)
    seconds["trends"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if fit_in_database is not None:
        effects, admin_rows = fit_in_database(con), _count(con, "panel")
    else:
        assert fit_dids is not None
        frame = did_frame(con)
        effects, admin_rows = fit_dids(frame), len(frame)
    seconds["effects"] = time.perf_counter() - clock
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "trends.csv", index=False)
        pd.DataFrame.from_dict(effects, orient="index").rename_axis("indicator_id").to_csv(args.out / "effects.csv")
    seconds["total"] = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "effects": effects, "trend_cells": len(table), "admin_rows": admin_rows}))


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
