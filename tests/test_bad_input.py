"""Nasty deliveries end to end through `pilot run`: nothing lost, no one identifiable, same answer every time,
and a run killed halfway leaves a warehouse the next run completes on."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from measures.evaluation.simulate import SimulationSpec, write_drop

PILOT = str(Path(sys.executable).with_name("pilot"))
# Planted identifiers that must never be stored, logged or shown anywhere.
NAMES = ["Jantine Vermeulen-Bakker", "Pieterbert Oosterhuis"]
BSNS = ["111222333", "123456782"]  # pass the 11-proof
EMAILS = ["jantine.vermeulen@voorbeeld.nl"]
PHONES = ["06-41234567", "+31 6 4123 4567"]
ADDRESSES = ["Kerkstraat 12", "3511 AB 12"]
BIRTH_DATES = ["1967-03-14"]
PLANTED = NAMES + BSNS + EMAILS + PHONES + ADDRESSES + BIRTH_DATES + ["NL91ABNA0417164300"]


def _nasty_drop(folder: Path) -> dict[str, int]:
    """A valid simulated drop turned into what HR departments send; returns non-blank data rows per table."""
    write_drop(SimulationSpec(seed=41, employers=6, employees_per_employer=20, survey_indicators=3), folder)
    employers = pd.read_csv(folder / "employers.csv", dtype=str)
    employers.loc[0, "approach"] = (
        f"Contact {EMAILS[0]} of {PHONES[0]}, dhr. Oosterhuis, {ADDRESSES[1]}, BSN {BSNS[0]}, IBAN NL91ABNA0417164300"
    )
    employers["contactpersoon"] = NAMES[0]  # a column outside the contract
    employers.to_excel(folder / "employers.xlsx", index=False, sheet_name="employers")
    (folder / "employers.csv").unlink()

    cases = pd.read_csv(folder / "cases.csv", dtype=str)
    cases["naam"], cases["bsn"], cases["email"], cases["telefoon"] = NAMES[1], BSNS[1], EMAILS[0], PHONES[1]
    cases["adres"], cases["geboortedatum"] = ADDRESSES[0], BIRTH_DATES[0]
    cases.loc[3, "employee_id"] = BSNS[1]  # an identifier that is a BSN
    cases.loc[4, "inclusion_date"] = "31-02-2026"  # a date that does not exist
    cases.loc[5, "employer_id"] = "WG99"  # an unknown employer
    cases = pd.concat([cases, cases.iloc[[6]]])  # a duplicate key
    cases.to_parquet(folder / "cases.parquet", index=False)
    (folder / "cases.csv").unlink()

    admin = pd.read_csv(folder / "admin.csv", dtype=str)
    admin.loc[10, "ao_pct"], admin.loc[11, "absence_days"] = "130", "veel"
    lines = [";".join(admin.columns)] + [
        ";".join(v.replace(".", ",") for v in row) for row in admin.astype(str).to_numpy()
    ]
    lines.insert(20, "")  # a blank line
    lines.insert(30, lines[30] + ";extra;velden")  # too many fields
    (folder / "admin.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")  # Dutch Excel style, BOM

    survey = pd.read_csv(folder / "survey.csv", dtype=str)
    survey.loc[0, "indicator_id"], survey.loc[1, "value"] = "geen_indicator", "9"
    survey.to_csv(folder / "survey.csv", index=False)
    (folder / "notities.txt").write_text(f"Vragen? Bel {PHONES[0]}", encoding="utf-8")  # not a table: ignored
    return {
        "employers": len(employers),
        "cases": len(cases),
        "admin": len(admin),
        "survey": len(survey),
        "activities": len(pd.read_csv(folder / "activities.csv")),
    }


def _pilot(*args, env, timeout=900):
    return subprocess.run([PILOT, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def env(tmp_path):
    data = tmp_path / "data"
    return os.environ | {"AD_PILOT_DATA": str(data), "DAGSTER_HOME": str(data / "dagster_home")}


def test_nasty_drop_nothing_lost_no_one_identifiable(tmp_path, env):
    drop, out = tmp_path / "levering", tmp_path / "out"
    rows = _nasty_drop(drop)
    proc = _pilot("run", "--data", drop, "--out", out, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]

    ingest = json.loads((out / "ingest.json").read_text())
    for table, n in rows.items():
        assert ingest[table]["rows_in"] == n + (1 if table == "admin" else 0), table  # + the too-many-fields line
        assert ingest[table]["rows_in"] == ingest[table]["loaded"] + ingest[table]["quarantined"]
    assert ingest["employers"]["dropped_columns"] == ["column 7"]  # positions: a header may be an identifier
    assert ingest["cases"]["dropped_columns"] == [f"column {i}" for i in range(7, 13)]  # after 6 (1.1: end_reason)
    reasons = pd.read_csv(out / "quarantine.csv")
    found = set(zip(reasons["table"], reasons["reason"], strict=True))
    assert {
        ("cases", "bsn_like"),
        ("cases", "bad_date"),
        ("cases", "unknown_employer"),
        ("cases", "duplicate"),
        ("admin", "out_of_range"),
        ("admin", "not_a_number"),
        ("admin", "too_many_fields"),
        ("survey", "unknown_indicator"),
        ("survey", "out_of_range"),
    } <= found

    stored = [p for p in Path(env["AD_PILOT_DATA"]).rglob("*") if p.is_file()] + [
        p for p in out.rglob("*") if p.is_file()
    ]
    leaks = {(value, str(p)) for p in stored for value in PLANTED if value.encode() in p.read_bytes()}
    logs = proc.stdout + proc.stderr
    leaks |= {(value, "console") for value in PLANTED if value in logs}
    assert leaks == set()

    trends = pd.read_csv(out / "trends.csv")
    shown = trends.loc[trends["suppressed"] == 0, "n"]
    assert (shown >= 10).all() and trends.loc[trends["suppressed"] == 1, "mean"].isna().all()


def test_file_level_problem_fails_cleanly(tmp_path, env):
    drop, out = tmp_path / "levering", tmp_path / "out"
    write_drop(SimulationSpec(seed=2, employers=4, employees_per_employer=12, survey_indicators=2), drop)
    (drop / "medewerkers.csv").write_text("naam,bsn\nJan,111222333\n", encoding="utf-8")
    proc = _pilot("run", "--data", drop, "--out", out, env=env)
    assert proc.returncode == 1
    assert "medewerkers.csv" in proc.stderr and "unknown table" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_killed_run_leaves_a_warehouse_the_next_run_completes_on(tmp_path, env):
    drop, out = tmp_path / "levering", tmp_path / "out"
    write_drop(SimulationSpec(seed=8, employers=8, employees_per_employer=40, survey_indicators=8), drop)
    warehouse = Path(env["AD_PILOT_DATA"]) / "warehouse.duckdb"
    run = subprocess.Popen(
        [PILOT, "run", "--data", str(drop), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    while time.time() < deadline and not _has_table(warehouse, "admin"):
        time.sleep(0.5)
    os.killpg(run.pid, signal.SIGKILL)  # halfway: the contract tables are in, the effects are not yet
    run.wait()
    assert not (out / "effects.csv").exists()

    again = _pilot("run", "--data", drop, "--out", out, env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    ingest = json.loads((out / "ingest.json").read_text())
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for table in ("cases", "admin", "survey"):
            stored = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert stored == ingest[table]["loaded"], table  # one delivery, loaded once: no half or double rows
    with _instance(env) as instance:  # the killed run is marked failed, not left STARTED forever
        statuses = sorted(r.status.value for r in instance.get_runs())
    assert statuses == ["FAILURE", "SUCCESS"]


@contextlib.contextmanager
def _instance(env: dict):
    import dagster as dg

    old = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance
    finally:
        if old is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = old


def _has_table(path: Path, table: str) -> bool:
    if not path.exists():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            return bool(
                conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()[
                    0
                ]
            )
    except duckdb.Error:  # the running pipeline holds the file
        return False


def test_two_runs_at_once_both_succeed(tmp_path, env):
    drops = [tmp_path / "a", tmp_path / "b"]
    for seed, drop in enumerate(drops):
        write_drop(SimulationSpec(seed=seed, employers=4, employees_per_employer=15, survey_indicators=2), drop)
    runs = [
        subprocess.Popen(
            [PILOT, "run", "--data", str(d), "--out", str(d.with_name(d.name + "-out"))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d in drops
    ]
    results = [(r.wait(timeout=900), r.stderr.read()) for r in runs]
    assert [code for code, _ in results] == [0, 0], [err[-1500:] for _, err in results]
    a, b = (pd.read_csv(d.with_name(d.name + "-out") / "effects.csv").set_index("indicator_id") for d in drops)
    assert a.loc["ao_pct", "n_employees"] <= 60 and b.loc["ao_pct", "n_employees"] <= 60
    assert a.loc["ao_pct", "estimate"] != b.loc["ao_pct", "estimate"]
