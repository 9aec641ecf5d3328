"""The hand-written baseline: what an analyst would write for the same outputs, without the toolkit.

    .venv/bin/python benchmarks/baseline.py DROP [--out DIR]

DuckDB reads the drop's CSVs, adds the months after a return to work (AO% 0, 0 absence days, up to the last
month of the data: contract 1.1) and computes the trends (mean, n and a 95% t-interval per indicator × group ×
month relative to inclusion, and per wave for the questionnaire); linearmodels PanelOLS fits the pilot DiD
for each administrative indicator: employee fixed effects (EntityEffects), period effects as dummies
C(rel) plus a constant, treated × post, clustered by employer (debiased + group_debias: CR1 as fixest).
Prints one JSON object: the time of each phase and the estimates (run.py checks them against the pipeline).
Nothing of the toolkit is imported: this is the yardstick, not a second implementation to maintain.
"""

from __future__ import annotations

import time

START = time.perf_counter()

import argparse  # after START: imports count towards the baseline, as they would for an analyst
import json
from pathlib import Path

import duckdb
import pandas as pd
from linearmodels.panel import PanelOLS
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


def load(con: duckdb.DuckDBPyConnection, drop: Path) -> None:
    con.execute(PANEL_SQL.format(drop=drop))
    con.execute(RETURNS_SQL.format(drop=drop))
    con.execute(SURVEY_SQL.format(drop=drop))


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
    """The admin panel indexed by (employee, month), with treated × post and an integer employer code."""
    frame = con.sql("""
        SELECT employee_id, month, rel, ao_pct, absence_days, loonwaarde_pct,
               CAST(grp = 'intervention' AND rel >= 0 AS DOUBLE) AS treated_post,
               dense_rank() OVER (ORDER BY employer_id) AS employer
        FROM panel""").df()
    return frame.set_index(["employee_id", "month"])


def did(frame: pd.DataFrame, indicator: str) -> dict:
    frame = frame.dropna(subset=[indicator])  # else C(rel) may hold a month with no answers: a zero column
    model = PanelOLS.from_formula(f"{indicator} ~ 1 + treated_post + C(rel) + EntityEffects", data=frame)
    fit = model.fit(cov_type="clustered", clusters=frame[["employer"]], debiased=True, group_debias=True)
    return {
        "estimate": float(fit.params["treated_post"]),
        "se": float(fit.std_errors["treated_post"]),
        "n_obs": int(fit.nobs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drop", type=Path)
    parser.add_argument("--out", type=Path, help="also write trends.csv and effects.csv here")
    args = parser.parse_args()
    seconds = {"start": time.perf_counter() - START}
    con = duckdb.connect()
    clock = time.perf_counter()
    load(con, args.drop.resolve())
    seconds["read"] = time.perf_counter() - clock
    clock = time.perf_counter()
    table = trends(con)
    seconds["trends"] = time.perf_counter() - clock
    clock = time.perf_counter()
    frame = did_frame(con)
    effects = {ind: did(frame, ind) for ind in ADMIN_INDICATORS}
    seconds["effects"] = time.perf_counter() - clock
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "trends.csv", index=False)
        pd.DataFrame.from_dict(effects, orient="index").rename_axis("indicator_id").to_csv(args.out / "effects.csv")
    seconds["total"] = time.perf_counter() - START
    print(json.dumps({"seconds": seconds, "effects": effects, "trend_cells": len(table), "admin_rows": len(frame)}))


if __name__ == "__main__":
    main()
