"""`pilot run` tells which step runs, its rows and the time while it works (plain lines on stderr in a log)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from pipeline_support import simulate

PILOT = str(Path(sys.executable).with_name("pilot"))
LINE = re.compile(
    r"\[ *\d+\.\d s\] (?P<step>\w+) (?P<status>started|done)(?: in \d+\.\d s)?(?: \((?P<rows>[\d,]+) rows\))?"
)


def test_run_reports_each_step_with_its_rows_and_time(tmp_path):
    drop, out, data = tmp_path / "drop", tmp_path / "out", tmp_path / "data"
    simulate(drop)
    env = os.environ | {"AD_PILOT_DATA": str(data), "DAGSTER_HOME": str(data / "dagster_home")}
    done = subprocess.run(
        [PILOT, "run", "--data", str(drop), "--out", str(out)], capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "started" not in done.stdout  # stdout keeps the result alone
    lines = [LINE.fullmatch(line) for line in done.stderr.splitlines()]
    assert all(lines), done.stderr
    steps = {m["step"] for m in lines if m}
    assert steps >= {"launch", "drop_files", "ingest_drop", "panels", "effects", "event_study", "evaluation_outputs"}
    for step in steps:
        order = [m["status"] for m in lines if m and m["step"] == step]
        assert order == ["started", "done"], step
    rows = {m["step"]: int(m["rows"].replace(",", "")) for m in lines if m and m["rows"]}
    admin = len(pd.read_csv(drop / "admin.csv"))
    ingested = sum(len(pd.read_csv(path)) for path in drop.glob("*.csv"))
    assert rows["ingest_drop"] == ingested  # every table's loaded rows (the simulated drop has no bad row)
    assert rows["panels"] >= admin  # the admin months, and the months after a return to work
