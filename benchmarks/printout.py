"""The benchmark's printed tables: the setup, one block per size with the contract's line, and the targets.

Per size the contract's line (`size <rows> pipeline_s <x> pyfixest_s <x> ratio_pyfixest <x> peak_rss_gb <x>`,
the cold pipeline run against the pyfixest script of the same run; peak RSS of the pipeline's largest single
process) and the `ratio <x>` line (pipeline / PanelOLS baseline) are printed."""

from __future__ import annotations

import math
from pathlib import Path

GB = 1e9
TARGET_SIZE = 1_000_000
TARGETS = {"ratio": 1.0, "wall": 30.0, "peak_rss": 1.5 * GB, "exponent": 1.1}
#: Issue "Speed at every size": admin rows -> (wall seconds, pipeline / pyfixest, peak GB of one process), cold.
SPEED_TARGETS = {
    10_000: (8.0, 2.0, None),
    1_000_000: (12.0, 1.2, None),
    10_000_000: (60.0, None, 4.0),
    50_000_000: (None, None, 8.0),
}
COLUMNS = ("ingest", "validate", "trends", "effects", "report", "overhead", "total")


def print_header(host: str, libs: str, employers: int, indicators: int, kept: Path | None) -> None:
    lines = [
        f"machine: {host}",
        f"libraries: {libs}",
        (
            f"data: pilot simulate --seed 1 --employers {employers} --employees-per-employer M --survey-indicators {indicators};"
            f" M from a {employers} x 25 calibration drop so that admin ≈ N rows. The questionnaire is fixed at "
            f"{indicators} indicators, so survey rows grow with the employees, not with the catalogue."
        ),
        (
            "pipeline: pilot run --data DROP --out OUT in a fresh AD_PILOT_DATA (DAGSTER_HOME inside). cold = first run "
            "(new instance and warehouse); warm = the same drop again into a new OUT."
        ),
        (
            "stages (seconds, from the Dagster run's step stats): ingest = drop_files + ingest_drop (minus validate when "
            "ingest_drop reports validate_seconds; else validate is '-' and inside ingest), trends = indicator_trends, "
            "effects = effects + event_study + balance, report = toc_diagrams + evaluation_outputs, "
            "overhead = wall - sum of steps (interpreter, imports, Dagster)."
        ),
        (
            "pyfixest: benchmarks/pyfixest_script.py (DuckDB read_csv + SQL trends, pyfixest feols DiD per admin "
            "indicator, CRV1 by employer); baseline: benchmarks/baseline.py (the same with PanelOLS, up to 2M rows); "
            "SQL route: benchmarks/sql_script.py (the same DiDs by the toolkit's fit_twfe_sql, in DuckDB where the "
            "rows are); ingest = read, overhead = interpreter start and imports."
        ),
        (
            "peak RSS, sampled every 50 ms: tree = largest sum over the command's processes (its session: a re-parented "
            "process too), largest = largest single process (the contract's peak_rss_gb); GB = 10^9 bytes."
        ),
    ]
    if kept:
        lines.append(f"kept: {kept}")
    print("\n".join(lines), flush=True)


def print_size(r: dict) -> None:
    rows = r["rows"]
    print(f"\n== {r['size']:,} admin rows asked: 40 employers x {r['employees_per_employer']:,} employees")
    print(
        "   drop: "
        + " · ".join(f"{t} {n:,}" for t, n in sorted(rows.items(), key=lambda kv: -kv[1]))
        + f"  (simulate {r['simulate_seconds']:.1f} s)"
    )
    print(
        f"   {'run':<14}"
        + "".join(f"{c:>9}" for c in COLUMNS)
        + f"{'tree RSS':>10}{'largest':>10}{'CPU s':>8}{'admin rows/s':>14}"
    )
    for label, key in (
        ("pipeline cold", "cold"),
        ("pipeline warm", "warm"),
        ("pyfixest", "pyfixest"),
        ("baseline", "baseline"),
        ("SQL route", "sql"),
    ):
        if key in r:
            print(_figure_row(label, r[key], rows.get("admin", 0)))
    for key in ("cold", "warm"):
        if r[key].get("steps"):
            steps = r[key]["steps"]
            split = ", ".join(f"{k.removesuffix('_seconds')} {v:.1f}" for k, v in r[key].get("split", {}).items())
            rss = r[key].get("step_rss", {})
            print(
                f"   steps {key} (s, peak GB): "
                + ", ".join(f"{k} {v:.1f}" + (f"/{rss[k] / GB:.2f}" if rss.get(k) else "") for k, v in steps.items())
                + f" (sum {sum(steps.values()):.1f} s)"
                + (f"; ingest_drop reports {split}" if split else "")
            )
    if not any(r[k].get("split") for k in ("cold", "warm")):
        print("   validation: inside ingest (ingest_drop reports no read/validate/load split)")
    for key, name in (("check", "pyfixest"), ("check_baseline", "PanelOLS baseline"), ("check_sql", "SQL route")):
        if r.get(key):
            print(
                f"   check: pipeline and {name} DiD estimates differ by at most {r[key]['max_abs_diff']:.1e} "
                f"({', '.join(r[key]['indicators'])})"
            )
    print(contract_line(r))
    print(ratio_line(r), flush=True)


def contract_line(r: dict) -> str:
    """`size N pipeline_s X pyfixest_s X ratio_pyfixest X peak_rss_gb X` (cold run; nan where one failed)."""
    cold, peer = r["cold"], r.get("pyfixest", {"ok": False})
    pipeline_s = cold["wall"] if cold["ok"] else math.nan
    pyfixest_s = peer["wall"] if peer["ok"] else math.nan
    peak = cold.get("peak_process_rss", math.nan) / GB if cold["ok"] else math.nan
    return (
        f"size {r['rows'].get('admin', r['size'])} pipeline_s {pipeline_s:.2f} pyfixest_s {pyfixest_s:.2f} "
        f"ratio_pyfixest {pipeline_s / pyfixest_s:.2f} peak_rss_gb {peak:.2f}"
    )


def _figure_row(label: str, f: dict, admin_rows: int) -> str:
    if f.get("skipped"):
        return f"   {label:<14}not run at this size" + (f": {f['reason']}" if f.get("reason") else "")
    if not f["ok"]:
        return f"   {label:<14}FAILED after {f['wall']:.1f} s: {' '.join(f.get('error', []))[:200]}"
    cells = "".join(f"{_seconds(f['stages'].get(c)):>9}" for c in COLUMNS)
    largest = f.get("peak_process_rss", math.nan) / GB
    return (
        f"   {label:<14}{cells}{f['peak_rss'] / GB:>7.2f} GB{largest:>7.2f} GB{f['cpu']:>8.1f}"
        f"{admin_rows / f['wall']:>14,.0f}"
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def ratio_line(r: dict) -> str:
    cold, warm, base = r["cold"], r["warm"], r["baseline"]
    if base.get("skipped"):
        return f"size {r['size']}: ratio nan (the PanelOLS baseline is not run at this size)"
    if not (cold["ok"] and base["ok"]):
        return f"size {r['size']}: ratio nan (pipeline ok: {cold['ok']}, baseline ok: {base['ok']})"
    warm_text = f"; warm {warm['wall']:.1f} s = {warm['wall'] / base['wall']:.2f}x baseline" if warm["ok"] else ""
    return (
        f"size {r['size']}: ratio {cold['wall'] / base['wall']:.2f} "
        f"(pipeline cold {cold['wall']:.1f} s / baseline {base['wall']:.1f} s{warm_text})"
    )


def print_speed_targets(stored: dict, sizes: list[int]) -> None:
    """The issue's targets for the sizes of this run that have one (cold run, same-run pyfixest ratio)."""
    for size in sizes:
        if size not in SPEED_TARGETS or str(size) not in stored:
            continue
        wall, ratio, memory = SPEED_TARGETS[size]
        r = stored[str(size)]
        cold, peer = r["cold"], r.get("pyfixest", {"ok": False})
        verdicts = []
        if wall is not None:
            verdicts.append(
                f"wall <= {wall:g} s: " + _judge(cold["wall"] if cold["ok"] else math.nan, wall, "{:.1f} s")
            )
        if ratio is not None:
            value = cold["wall"] / peer["wall"] if cold["ok"] and peer["ok"] else math.nan
            verdicts.append(f"pipeline / pyfixest <= {ratio:g}: " + _judge(value, ratio, "{:.2f}"))
        if memory is not None:
            value = cold["peak_process_rss"] / GB if cold["ok"] else math.nan
            verdicts.append(f"largest process <= {memory:g} GB: " + _judge(value, memory, "{:.2f} GB"))
        print(f"targets at {size:,} rows (cold): " + "; ".join(verdicts))


def print_targets(stored: dict, sizes: list[int]) -> None:
    print_speed_targets(stored, sizes)
    big = [s for s in sizes if s >= TARGET_SIZE]
    if not big:
        print(
            f"\ntargets apply at {TARGET_SIZE:,} admin rows: run --sizes {TARGET_SIZE} (growth is judged from "
            "the 100,000 figure saved by this run)"
        )
        return
    for size in big:
        r = stored[str(size)]
        small = stored.get(str(TARGET_SIZE // 10))
        print(f"\ntargets at {size:,} admin rows ({r['rows']['admin']:,} measured), 2 cores: cold | warm")
        for name, verdict in _verdicts(r, small):
            print(f"   {name:<50}{verdict}")


def _verdicts(r: dict, small: dict | None) -> list[tuple[str, str]]:
    base = r["baseline"]["wall"] if r["baseline"]["ok"] else math.nan
    rows = []
    rows.append(("pipeline / baseline <= 1.0", _both(r, lambda f: f["wall"] / base, TARGETS["ratio"], "{:.2f}")))
    rows.append(("wall time <= 30 s", _both(r, lambda f: f["wall"], TARGETS["wall"], "{:.1f} s")))
    rows.append(("peak RSS <= 1.5 GB", _both(r, lambda f: f["peak_rss"] / GB, TARGETS["peak_rss"] / GB, "{:.2f} GB")))
    rows.extend(
        _growth(r, small)
        if small
        else [("growth 100k -> 1M close to linear", "n/a: no 100,000 figure on this machine (run --sizes 100000)")]
    )
    return rows


def _growth(r: dict, small: dict) -> list[tuple[str, str]]:
    """Exponent b of time ~ rows^b between the 100k and the 1M drop (1 = linear); the target is on the
    pipeline's own work (sum of steps), wall time and RSS are shown for information."""
    scale = math.log(r["rows"]["admin"] / small["rows"]["admin"])
    measures = {
        "step time": lambda f: sum(f["steps"].values()),
        "wall time": lambda f: f["wall"],
        "peak RSS": lambda f: f["peak_rss"],
    }
    rows = []
    for label, pick in measures.items():
        cells = [
            _judge(_exponent(pick, r[k], small[k], scale), TARGETS["exponent"], "{:.2f}") for k in ("cold", "warm")
        ]
        note = " (the target)" if label == "step time" else " (for information)"
        rows.append((f"growth exponent of {label} 100k->1M <= 1.1", " | ".join(cells) + note))
    return rows


def _exponent(pick, big: dict, small: dict, scale: float) -> float:
    return _safe(lambda: math.log(pick(big) / pick(small)) / scale)


def _both(r: dict, value, limit: float, fmt: str) -> str:
    return " | ".join(
        _judge(_safe(lambda k=k: value(r[k])) if r[k]["ok"] else math.nan, limit, fmt) for k in ("cold", "warm")
    )


def _safe(compute) -> float:
    try:
        return float(compute())
    except (KeyError, ZeroDivisionError, ValueError, TypeError):
        return math.nan


def _judge(value: float, limit: float, fmt: str) -> str:
    if math.isnan(value):
        return "n/a MISS"
    return f"{fmt.format(value)} {'PASS' if value <= limit else 'MISS'}"
