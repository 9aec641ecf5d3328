"""The audit's run-level findings through `pilot run`: every stored byte searched for what was planted, one line
for a refused delivery (and the warehouse untouched), folders checked before anything is computed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from drops import read_rows, write_rows
from hostile import BSN, COMPOSITE_PLANTED, HOSTILE, _composite
from typer.testing import CliRunner

from cli.pilot import app
from measures.evaluation.simulate import SimulationSpec, write_drop

PILOT = str(Path(sys.executable).with_name("pilot"))
runner = CliRunner()


@pytest.fixture
def env(tmp_path):
    data = tmp_path / "data"
    return os.environ | {"AD_PILOT_DATA": str(data), "DAGSTER_HOME": str(data / "dagster_home")}


def _pilot(*args, env):
    return subprocess.run([PILOT, *map(str, args)], capture_output=True, text=True, timeout=900, env=env)


def _drop(folder: Path) -> Path:
    write_drop(SimulationSpec(seed=5, employers=6, employees_per_employer=12, survey_indicators=3), folder)
    return folder


def _stored(env: dict, out: Path, skip: tuple[str, ...] = ()) -> list[Path]:
    files = [*Path(env["AD_PILOT_DATA"]).rglob("*"), *out.rglob("*")]
    return [p for p in files if p.is_file() and p.name not in skip]


def _leaks(paths: list[Path], planted: tuple[str, ...], console: str) -> set[tuple[str, str]]:
    """Each planted string found in a file (as UTF-8 or Windows-1252 bytes, any case) or on the console."""
    found = set()
    for path in paths:
        data = path.read_bytes().lower()
        for value in planted:
            forms = {value.lower().encode("utf-8"), value.lower().encode("cp1252", errors="ignore")}
            if any(form and form in data for form in forms):
                found.add((value, str(path)))
    found |= {(value, "console") for value in planted if value.lower() in console.lower()}
    return found


def test_corpus_pilot_run_stores_no_planted_identifier(tmp_path, env):
    drop, out = _composite(_drop(tmp_path / "levering")), tmp_path / "out"
    done = _pilot("run", "--data", drop, "--out", out, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _leaks(_stored(env, out), COMPOSITE_PLANTED, done.stdout + done.stderr) == set()

    quarantine = pd.read_csv(out / "quarantine.csv")
    reasons = set(zip(quarantine["table"], quarantine["reason"], strict=True))
    expected = {"bsn_like", "email_like", "name_like", "phone_like", "too_many_fields"}
    assert expected <= {r for t, r in reasons if t == "cases"}
    warnings = pd.read_csv(out / "warnings.csv")
    assert set(warnings["reason"]) == {"identifier_removed"} and len(warnings) == 4
    balance = pd.read_csv(out / "balance.csv")
    hidden = balance.loc[balance["suppressed"] == 1]
    assert hidden[["n_intervention", "n_comparison"]].isna().all().all()
    assert (balance.loc[balance["suppressed"] == 0, ["n_intervention", "n_comparison"]] >= 10).all().all()


def test_corpus_a_folder_named_after_a_person_is_stored_nowhere(tmp_path, env):
    drop = HOSTILE["folder-name"].build(_drop(tmp_path / "levering"))
    out = tmp_path / "out"
    done = _pilot("run", "--data", drop, "--out", out, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    # not in the key, the registry (deliveries.json), the manifest, the event log or any output
    assert _leaks(_stored(env, out), ("Vries", BSN), done.stdout + done.stderr) == set()


def test_a_refused_delivery_is_one_line_and_leaves_the_warehouse_as_it_was(tmp_path, env):
    good = _drop(tmp_path / "goed")
    assert _pilot("run", "--data", good, "--out", tmp_path / "out-goed", env=env).returncode == 0
    warehouse = Path(env["AD_PILOT_DATA"]) / "warehouse.duckdb"
    before = warehouse.read_bytes()

    bad = _drop(tmp_path / "fout")
    rows = read_rows(bad, "admin")
    column = rows[0].index("ao_pct")
    write_rows(bad, "admin", [rows[0]] + [[*r[:column], "130", *r[column + 1 :]] for r in rows[1:]])
    done = _pilot("run", "--data", bad, "--out", tmp_path / "out-fout", "--quiet", env=env)  # no progress lines
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert re.fullmatch(
        r"error: asset ingest_drop failed: delivery \d{4}-\d\d-\d\d-drop-[0-9a-f]{12} not loaded: admin\.csv: no "
        r"usable row; most often out_of_range \(first admin\.csv row 2, column ao_pct\)",
        line,
    ), line
    assert warehouse.read_bytes() == before
    assert not (tmp_path / "out-fout" / "effects.csv").exists()


@pytest.fixture
def small_drop(tmp_path) -> Path:
    return Path(shutil.copytree(_drop(tmp_path / "bron"), tmp_path / "drop"))


def _refused(args: list[str], monkeypatch, data: Path) -> str:
    monkeypatch.setenv("AD_PILOT_DATA", str(data))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    done = runner.invoke(app, ["run", *args])
    assert done.exit_code == 1, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.output
    return lines[0]


def test_out_inside_the_drop_is_refused_before_anything_is_computed(small_drop, tmp_path, monkeypatch):
    line = _refused(["--data", str(small_drop), "--out", str(small_drop / "uitvoer")], monkeypatch, tmp_path / "d")
    assert "lies inside the drop" in line
    assert not (small_drop / "uitvoer").exists() and not (tmp_path / "d" / "warehouse.duckdb").exists()


def test_out_holding_a_link_is_refused(small_drop, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").symlink_to(tmp_path / "elders.html")
    line = _refused(["--data", str(small_drop), "--out", str(out)], monkeypatch, tmp_path / "d")
    assert "holds a link (report.html)" in line and not (tmp_path / "elders.html").exists()


def test_an_unwritable_data_folder_is_one_line(small_drop, tmp_path, monkeypatch):
    line = _refused(["--data", str(small_drop), "--out", str(tmp_path / "out")], monkeypatch, Path("/proc/pilot"))
    assert line.startswith("error: the data folder /proc/pilot: cannot write there")
