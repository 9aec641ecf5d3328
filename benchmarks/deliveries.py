"""What one more delivery costs: a study at N admin rows, and the same data as one fresh drop.

    .venv/bin/python benchmarks/deliveries.py --size 1000000 [--keep]

A drop of ~N admin rows is simulated (as benchmarks/run.py does: 40 employers, 4 questionnaire indicators) and
evaluated three ways, each `pilot run` in its own process with its peak RSS sampled:

- fresh: the whole drop on its own in an empty data folder (AD_PILOT_DATA);
- first delivery: everything but the last calendar months that hold about a twelfth of the admin rows, as
  delivery 1 of a study (another empty data folder);
- extra delivery: those months' admin rows, as delivery 2 of that study: what a monthly delivery costs once
  the study holds the earlier months. It evaluates the whole study again (every estimate is over all rows);
- study again: `pilot run --study` without new data.

The study after the extra delivery must give the fresh run's effects (checked to 1e-9).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import run_measured
from run import EMPLOYERS, PILOT, calibrate, count_rows, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="admin rows of the whole drop")
    parser.add_argument("--keep", action="store_true", help="keep the drops, data folders and logs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ad-deliveries-"))
    try:
        per_employer = max(1, round(args.size / (EMPLOYERS * calibrate(work))))
        whole = work / "whole"
        simulate(whole, per_employer, work / "logs")
        first, extra = _split(whole, work)
        print(
            f"admin rows: whole {count_rows(whole)['admin']:,}, first {count_rows(first)['admin']:,}, "
            f"extra {count_rows(extra)['admin']:,}"
        )
        fresh = _run(["--data", whole], work / "out-fresh", work / "data-fresh", work, "fresh")
        one = _run(["--data", first, "--study", "bench"], work / "out-1", work / "data-study", work, "first")
        two = _run(["--data", extra, "--study", "bench"], work / "out-2", work / "data-study", work, "extra")
        again = _run(["--study", "bench"], work / "out-3", work / "data-study", work, "again")
        for label, m in (("fresh", fresh), ("first delivery", one), ("extra delivery", two), ("study again", again)):
            print(f"{label:>15}: wall {m.wall:6.1f} s, cpu {m.cpu:6.1f} s, peak RSS {m.peak_rss / 1e9:.2f} GB")
        print(f"ratio extra/fresh {two.wall / fresh.wall:.2f}")
        a, b = (pd.read_csv(work / o / "effects.csv").set_index("indicator_id") for o in ("out-fresh", "out-2"))
        numbers = ["estimate", "se", "ci_low", "ci_high", "p_value"]
        print(
            f"largest difference of the study's effects from the fresh run's: {(a[numbers] - b[numbers]).abs().max().max():.2g}"
        )
    finally:
        if args.keep:
            print(f"kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _split(whole: Path, work: Path) -> tuple[Path, Path]:
    """(first, extra): the whole drop without its last months of admin rows (about a twelfth), and those."""
    first, extra = work / "first", work / "extra"
    shutil.copytree(whole, first)
    extra.mkdir()
    admin = pd.read_csv(whole / "admin.csv", dtype=str, keep_default_na=False)
    per_month = admin["month"].value_counts().sort_index(ascending=False).cumsum()
    since = per_month.index[int((per_month < len(admin) / 12).sum())]  # the earliest month of the extra part
    admin.loc[admin["month"] < since].to_csv(first / "admin.csv", index=False, lineterminator="\n")
    admin.loc[admin["month"] >= since].to_csv(extra / "admin.csv", index=False, lineterminator="\n")
    return first, extra


def _run(args: list, out: Path, data: Path, work: Path, label: str):
    env = {**os.environ, "AD_PILOT_DATA": str(data), "DAGSTER_HOME": str(data / "dagster_home")}
    env.pop("AD_PILOT_LANDING", None)
    measured = run_measured([PILOT, "run", *map(str, args), "--out", str(out)], label, work / "logs", env)
    if measured.returncode:
        sys.exit(f"pilot run ({label}) failed:\n{measured.stderr[-2000:]}")
    return measured


if __name__ == "__main__":
    main()
