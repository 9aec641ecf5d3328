"""Scale benchmark: the whole pipeline on simulated drops of N employee-months, against hand-written scripts.

    .venv/bin/python benchmarks/run.py --sizes 10000,100000,1000000 [--keep] [--cold-only]

For each size: `pilot simulate` writes a drop of ~N `admin` rows (40 employers, employees per employer chosen
from a small calibration drop, 4 questionnaire indicators so that survey rows stay proportional to
employees); `pilot run` evaluates it twice in a fresh AD_PILOT_DATA (cold: new instance and warehouse; warm:
the same drop again into a new OUT); `benchmarks/pyfixest_script.py` (DuckDB + pyfixest, the peer an analyst
would pick) and `benchmarks/baseline.py` (DuckDB + PanelOLS; up to BASELINE_MAX_ROWS) do the same analysis by
hand; `benchmarks/sql_script.py` does it with the toolkit's out-of-core SQL route (the DiDs where the rows are). Each command runs in its own process; its peak RSS is sampled every 50 ms, as the largest sum over its
process tree and as its largest single process (the contract's `peak_rss_gb`). Stage times come from the Dagster run that `pilot run` recorded. Results are also
saved to benchmarks/results.json (per machine), so that a later run at 1M can judge growth from 100k.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from measure import Measured, latest_run_steps, machine, run_measured, versions
from printout import print_header, print_size, print_targets

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PILOT = str(BIN / "pilot")
EMPLOYERS = 40  # ≥ 30 clusters: the pipeline's few-cluster wild bootstrap is not triggered
SURVEY_INDICATORS = 4
SEED = 1
#: PanelOLS needs ~20 s and 3.5 GB per indicator at 1M rows, and grows faster than the rows: not run beyond.
BASELINE_MAX_ROWS = 2_000_000
#: A run is not started when its predicted peak exceeds this share of the machine's memory.
MEMORY_SHARE = 0.8
STAGES = {
    "ingest": ("drop_files", "ingest_drop"),
    "trends": ("indicator_trends",),
    "effects": ("effects", "event_study", "balance"),
    "report": ("toc_diagrams", "evaluation_outputs"),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", required=True, help="admin rows per drop, comma-separated: 10000,100000,1000000")
    parser.add_argument("--keep", action="store_true", help="keep the drops, outputs, instances and logs")
    parser.add_argument("--cold-only", action="store_true", help="no warm run (the same drop again): large sizes")
    parser.add_argument(
        "--results",
        type=Path,
        default=Path(__file__).with_name("results.json"),
        help="where to store the figures per size (growth is judged against earlier sizes)",
    )
    args = parser.parse_args()
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    return args


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="ad-bench-"))
    host = machine()
    print_header(host, versions(), EMPLOYERS, SURVEY_INDICATORS, work if args.keep else None)
    per_employee = calibrate(work)
    stored = load_results(args.results, host)
    try:
        for size in args.sizes:
            result = bench_size(size, work / f"n{size}", per_employee, not args.cold_only, stored)
            print_size(result)
            stored[str(size)] = result
            save_results(args.results, host, stored)
        print_targets(stored, args.sizes)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def calibrate(work: Path) -> float:
    """Admin rows per employee of the simulator (seed 1), from a small drop of 40 × 25 employees."""
    drop = work / "calibration"
    simulate(drop, 25, work)
    return count_rows(drop)["admin"] / (EMPLOYERS * 25)


def simulate(drop: Path, per_employer: int, logs: Path) -> Measured:
    cmd = [
        PILOT,
        "simulate",
        "--out",
        str(drop),
        "--seed",
        str(SEED),
        "--employers",
        str(EMPLOYERS),
        "--employees-per-employer",
        str(per_employer),
        "--survey-indicators",
        str(SURVEY_INDICATORS),
    ]
    logs.mkdir(parents=True, exist_ok=True)
    measured = run_measured(cmd, "simulate", logs)
    if measured.returncode:
        sys.exit(f"pilot simulate failed:\n{measured.stderr[-2000:]}")
    return measured


def count_rows(drop: Path) -> dict[str, int]:
    """Non-blank data rows per CSV table of the drop."""
    counts = {}
    for path in sorted(drop.glob("*.csv")):
        with open(path, "rb") as fh:
            counts[path.stem] = sum(1 for line in fh if line.strip()) - 1
    return counts


def bench_size(size: int, folder: Path, per_employee: float, warm: bool = True, stored: dict | None = None) -> dict:
    per_employer = max(1, round(size / (EMPLOYERS * per_employee)))
    drop = folder / "drop"
    progress(f"{size:,} rows: simulating {EMPLOYERS} employers x {per_employer:,} employees")
    sim = simulate(drop, per_employer, folder / "logs")
    rows = count_rows(drop)
    result: dict = {"size": size, "employees_per_employer": per_employer, "rows": rows, "simulate_seconds": sim.wall}
    data = folder / "pilot-data"
    admin = rows.get("admin", 0)
    # twice the rows counted here: the contract counts lines its own way (a limit is a ceiling, not a count)
    limits = [f"{table}={2 * n}" for table, n in rows.items() if n > contract_rows(table)]
    for label in ("cold", "warm") if warm else ("cold",):
        if too_large := beyond_memory(stored or {}, "cold", admin):
            result[label] = {"ok": False, "skipped": True, "wall": math.nan, "reason": too_large}
            continue
        progress(f"{size:,} rows: pilot run ({label})")
        result[label] = run_pipeline(drop, folder / f"out-{label}", data, folder / "logs", label, limits)
    if not warm:
        result["warm"] = {"ok": False, "skipped": True, "wall": math.nan}
    if too_large := beyond_memory(stored or {}, "pyfixest", admin):
        result["pyfixest"] = {"ok": False, "skipped": True, "wall": math.nan, "reason": too_large}
    else:
        progress(f"{size:,} rows: pyfixest script")
        result["pyfixest"] = run_script("pyfixest_script.py", drop, folder / "logs")
    progress(f"{size:,} rows: the SQL route (DuckDB where the rows are)")
    result["sql"] = run_script("sql_script.py", drop, folder / "logs")
    if admin <= BASELINE_MAX_ROWS:
        progress(f"{size:,} rows: PanelOLS baseline")
        result["baseline"] = run_script("baseline.py", drop, folder / "logs")
    else:
        result["baseline"] = {"ok": False, "skipped": True, "wall": math.nan}
    estimates = folder / "out-cold" / "estimates.csv"
    result["check"] = compare_effects(estimates, result["pyfixest"].get("effects", {}))
    result["check_baseline"] = compare_effects(estimates, result["baseline"].get("effects", {}))
    result["check_sql"] = compare_effects(estimates, result["sql"].get("effects", {}))
    return result


def beyond_memory(stored: dict, key: str, admin_rows: int) -> str | None:
    """Why run `key` ('cold': the pipeline, 'pyfixest') is not started at this size: its largest process,
    scaled linearly from the largest size it completed on this machine, would not fit in MEMORY_SHARE of the
    machine's memory (the kernel would kill it, or other work, after minutes). None: run it."""
    done = [(s["rows"]["admin"], s[key]["peak_process_rss"]) for s in stored.values() if s.get(key, {}).get("ok")]
    if not done:
        return None
    rows, peak = max(done)
    need, have = peak * admin_rows / rows, psutil.virtual_memory().total
    if need <= MEMORY_SHARE * have:
        return None
    return (
        f"needs ~{need / 1e9:.0f} GB (from {peak / 1e9:.2f} GB at {rows:,} rows), this machine has {have / 1e9:.1f} GB"
    )


def progress(text: str) -> None:
    """Which step of the benchmark runs, on stderr (stdout holds the results)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def contract_rows(table: str) -> int:
    """The contract's row limit of a table (a drop of 10M admin rows holds more survey rows than it allows)."""
    from measures.contract.tables import TABLES

    return TABLES[table].max_rows


def run_pipeline(drop: Path, out: Path, data: Path, logs: Path, label: str, limits: list[str]) -> dict:
    """`pilot run` on the drop, with `--max-rows TABLE=N` for the tables above the contract's limits."""
    env = {**os.environ, "AD_PILOT_DATA": str(data), "DAGSTER_HOME": str(data / "dagster_home")}
    env.pop("AD_PILOT_LANDING", None)
    cmd = [PILOT, "run", "--data", str(drop), "--out", str(out), *(f"--max-rows={limit}" for limit in limits)]
    m = run_measured(cmd, f"pipeline-{label}", logs, env)
    figures = _figures(m)
    if m.returncode:
        return figures | {"error": (m.stderr.strip() or m.stdout.strip()).splitlines()[-1:]}
    run = latest_run_steps(data / "dagster_home")
    step_rss = {k: m.peak_between(*span) for k, span in run.spans.items()}
    return figures | {
        "steps": run.steps,
        "step_rss": step_rss,
        "split": run.ingest_split,
        "stages": pipeline_stages(run.steps, run.ingest_split, m.wall),
    }


def pipeline_stages(steps: dict[str, float], split: dict[str, float], wall: float) -> dict:
    """Seconds per stage; validation separately only when the ingest asset reports its split."""
    stages = {name: sum(steps.get(s, 0.0) for s in keys) for name, keys in STAGES.items()}
    stages["validate"] = split.get("validate_seconds")
    if stages["validate"] is not None:
        stages["ingest"] -= stages["validate"]
    stages["overhead"] = wall - sum(steps.values())
    stages["total"] = wall
    return stages


def _figures(m: Measured) -> dict:
    return {
        "wall": m.wall,
        "cpu": m.cpu,
        "peak_rss": m.peak_rss,
        "peak_process_rss": m.peak_process_rss,
        "ok": m.returncode == 0,
    }


def run_script(script: str, drop: Path, logs: Path) -> dict:
    """A hand-written yardstick (baseline.py, pyfixest_script.py) on the drop: its figures, stages and estimates."""
    cmd = [sys.executable, str(Path(__file__).with_name(script)), str(drop)]
    m = run_measured(cmd, script.removesuffix(".py"), logs)
    figures = _figures(m)
    if m.returncode:
        return figures | {"error": m.stderr.strip().splitlines()[-1:]}
    report = json.loads(m.stdout.strip().splitlines()[-1])
    s = report["seconds"]
    stages = {
        "ingest": s["read"],
        "validate": None,
        "trends": s["trends"],
        "effects": s["effects"],
        "report": None,
        "overhead": m.wall - s["read"] - s["trends"] - s["effects"],
        "total": m.wall,
    }
    return figures | {"stages": stages, "effects": report["effects"]}


def compare_effects(estimates_csv: Path, baseline: dict) -> dict:
    """Largest absolute difference between the pipeline's TWFE estimates (estimates.csv's twfe rows, the model the
    baseline fits) and the baseline's."""
    if not estimates_csv.exists() or not baseline:
        return {}
    import pandas as pd

    rows = pd.read_csv(estimates_csv)
    table = rows.loc[rows["estimator"] == "twfe"].set_index("indicator_id")
    diffs = {
        ind: abs(float(table.at[ind, "estimate"]) - b["estimate"]) for ind, b in baseline.items() if ind in table.index
    }
    return {"max_abs_diff": max(diffs.values(), default=math.nan), "indicators": sorted(diffs)}


def load_results(path: Path, host: str) -> dict:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return saved.get("sizes", {}) if saved.get("machine") == host else {}


def save_results(path: Path, host: str, sizes: dict) -> None:
    path.write_text(json.dumps({"machine": host, "sizes": sizes}, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
