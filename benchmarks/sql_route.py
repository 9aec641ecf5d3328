"""The out-of-core route at sector sizes: the TWFE DiD as SQL on a DuckDB file larger than its memory limit.

    .venv/bin/python benchmarks/sql_route.py --sizes 1000000,10000000,50000000 [--memory-limit 4GB]

For each size, a fresh process (so that its peak RSS is its own) writes a panel of N employee-months to a
DuckDB file by SQL alone (employees observed for 24 months, 5 % of the months missing, 400 employers of which
half start the intervention in month 12, a planted effect of -2.0 with noise), then fits it with
`measures.estimation.did_sql.fit_twfe_sql` under `SET memory_limit` (DuckDB spills joins and group-bys to a
temp directory beyond it). It prints per size one line: `size N sql_s X peak_rss_gb Y estimate Z se W`, and,
up to 2M rows, the largest difference from the in-memory within engine on the same rows (`max_abs_diff`).
With `--parts N` the panel is also written as N Parquet parts by employer and fitted by the `sector_did` job
(each part's passes in processes of their own, combined exactly): its wall time and largest step process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MONTHS, START, EMPLOYERS, PLANTED = 24, 12, 400, -2.0
COMPARE_MAX_ROWS = 2_000_000

PANEL = f"""
CREATE TABLE panel AS
WITH rows AS (
    SELECT e, t, e % {EMPLOYERS} AS employer, hash(e, t) AS h
    FROM range($employees) r(e), range({MONTHS}) m(t))
SELECT e AS employee, t AS period, employer,
       CASE WHEN employer < {EMPLOYERS // 2} AND t >= {START} THEN 1.0 ELSE 0.0 END AS treated,
       (e % 97) * 0.05 + t * 0.1 + CASE WHEN employer < {EMPLOYERS // 2} AND t >= {START} THEN {PLANTED} ELSE 0 END
         + ((h >> 8) % 1000000) / 1000000.0 - 0.5 AS y
FROM rows WHERE h % 100 >= 5
"""


def one(size: int, memory_limit: str, parts: int = 0) -> dict:
    """Write the panel, fit it, report (run in a process of its own)."""
    import duckdb

    from measures.estimation.did_sql import fit_twfe_sql

    with tempfile.TemporaryDirectory(prefix="ad-sql-route-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "warehouse.duckdb"))
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{Path(tmp) / 'spill'}'")
        con.execute("SET preserve_insertion_order = false")  # no order needed: lets DuckDB spill more freely
        start = time.perf_counter()
        employees = round(size / (MONTHS * 0.95))
        con.execute(PANEL.replace("$employees", str(employees)))
        written = time.perf_counter() - start
        (rows,) = con.execute("SELECT count(*) FROM panel").fetchone() or (0,)
        start = time.perf_counter()
        fit = fit_twfe_sql(con, "panel", "y", "employee", "period", ["treated"], "employer")
        seconds = time.perf_counter() - start
        result = {
            "size": rows,
            "write_s": written,
            "sql_s": seconds,
            "estimate": float(fit.params[0]),
            "se": float(fit.vcov[0, 0] ** 0.5),
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
        }
        if rows <= COMPARE_MAX_ROWS:
            result["max_abs_diff"] = _against_memory(con, fit)
        if parts:
            result |= _in_parts(con, Path(tmp), parts, fit)
        return result


def _in_parts(con, tmp: Path, parts: int, whole) -> dict:
    """The same panel as Parquet parts by employer, fitted by the `sector_did` job (each part a process)."""
    import os

    import dagster as dg

    folder = tmp / "parts"
    folder.mkdir()
    for i in range(parts):
        con.execute(f"COPY (SELECT * FROM panel WHERE employer % {parts} = {i}) TO '{folder}/part-{i}.parquet'")
    con.close()
    os.environ["DAGSTER_HOME"] = str(tmp / "dagster_home")
    (tmp / "dagster_home").mkdir()
    job = dg.build_reconstructable_job("pipelines.definitions", "evaluation_job", reconstructable_args=("sector_did",))
    panel = {"folder": str(folder), "outcome": "y", "entity": "employee", "time": "period", "treated": "treated"}
    config = {"ops": {"sector__did": {"ops": {"sector_parts": {"config": panel | {"cluster": "employer"}}}}}}
    start = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(job, instance, run_config=config)
        seconds = time.perf_counter() - start
        [materialization] = result.asset_materializations_for_node("sector__did")
    estimate = materialization.metadata["estimate"].value
    return {
        "parts": parts,
        "parts_s": seconds,
        "parts_diff": abs(float(estimate) - float(whole.params[0])),  # type: ignore[arg-type]
        "parts_peak_rss_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9,
    }


def _against_memory(con, fit) -> float:
    """The in-memory within engine on the same rows: the largest difference in coefficient and variance."""
    import numpy as np

    from measures.estimation.did import fit_twfe, prepare_panel

    data = con.execute("SELECT * FROM panel").df()
    memory = fit_twfe(prepare_panel(data, "y", "employee", "period", ["treated"], "employer"), "cluster", "within")
    return float(max(np.abs(memory.params - fit.params).max(), np.abs(memory.vcov - fit.vcov).max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", required=True, help="employee-months per panel, comma-separated")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's memory_limit (it spills beyond it)")
    parser.add_argument("--parts", type=int, default=0, help="also fit the panel as N Parquet parts (sector_did)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process of one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.memory_limit, args.parts)))
        return
    print(f"memory_limit {args.memory_limit}; planted effect {PLANTED}; {EMPLOYERS} employers, {MONTHS} months")
    for size in (int(s.replace("_", "")) for s in args.sizes.split(",")):
        child = [sys.executable, __file__, "--sizes", str(size), "--memory-limit", args.memory_limit]
        child += ["--parts", str(args.parts)]
        done = subprocess.run([*child, "--one", str(size)], capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"size {size} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        line = (
            f"size {r['size']} sql_s {r['sql_s']:.2f} peak_rss_gb {r['peak_rss_gb']:.2f} "
            f"estimate {r['estimate']:.6f} se {r['se']:.6f} write_s {r['write_s']:.2f}"
        )
        if "max_abs_diff" in r:
            line += f" max_abs_diff {r['max_abs_diff']:.1e}"
        if "parts" in r:
            line += (
                f" | {r['parts']} parts (sector_did, multiprocess) {r['parts_s']:.2f} s, largest step process "
                f"{r['parts_peak_rss_gb']:.2f} GB, difference {r['parts_diff']:.1e}"
            )
        print(line, flush=True)


if __name__ == "__main__":
    main()
