"""`pilot erase`: an employee who withdrew consent is found in no byte of the data folder afterwards, the erasure
is recorded without the pseudonym, and the next evaluation equals one of data that never held the employee."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from pipeline_support import isolate, simulate
from study_support import assert_same_effects, read_drop, write_drop

from measures.contract.privacy import new_key, pseudonymise
from pipelines.erasure import erase_employee, files_holding
from pipelines.run import run_study
from toc.errors import UserError

PILOT = str(Path(sys.executable).with_name("pilot"))


def _pseudonymised(whole: Path, folder: Path) -> Path:
    """The drop with employee ids as the deliverer makes them (keyed HMAC pseudonyms, as `pilot pseudonymise`):
    ids like these are stored as they are, where short sequential ids compress beyond recognition."""
    tables = read_drop(whole)
    key = bytes.fromhex(new_key())
    for name in ("cases", "admin", "survey"):
        tables[name]["employee_id"] = pseudonymise(tables[name]["employee_id"], key)
    return write_drop(folder, tables)


def test_an_erased_employee_is_found_in_no_byte_and_the_next_evaluation_never_held_them(monkeypatch, tmp_path):
    data = isolate(monkeypatch, tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    whole = tmp_path / "whole"
    simulate(whole, seed=31, survey_indicators=2)
    drop = _pseudonymised(whole, tmp_path / "drop")
    tables = read_drop(drop)
    employee = tables["cases"]["employee_id"].iloc[3]
    run_study("withdrawn", drop, tmp_path / "out1", dagster_instance=instance, log_level="ERROR")
    held = files_holding(data, employee)
    assert "warehouse.duckdb" in held and any(p.startswith("panels/") for p in held), held  # the test can fail

    done = subprocess.run(
        [PILOT, "erase", "--study", "withdrawn", "--employee", employee], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert employee not in done.stdout + done.stderr
    rows = {t: int((tables[t]["employee_id"] == employee).sum()) for t in ("cases", "admin", "survey")}
    assert f"erased {sum(rows.values())} rows" in done.stdout
    assert files_holding(data, employee) == []
    assert not [p for p in data.rglob("*") if p.is_file() and employee.encode() in p.read_bytes()]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        recorded = dict(conn.execute('SELECT "table", "rows" FROM erasures WHERE study = ?', ["withdrawn"]).fetchall())
    assert recorded == {t: n for t, n in rows.items() if n}

    again = run_study("withdrawn", None, tmp_path / "out2", dagster_instance=instance, log_level="ERROR")
    assert again.delivery.study == "withdrawn" and again.not_evaluable is None
    kept = {t: f.loc[f["employee_id"] != employee] if "employee_id" in f else f for t, f in tables.items()}
    never = write_drop(tmp_path / "never", kept)
    run_study(None, never, tmp_path / "never-out", dagster_instance=instance, log_level="ERROR")
    assert_same_effects(tmp_path / "out2", tmp_path / "never-out")
    assert files_holding(data, employee) == []  # nor after evaluating again

    with pytest.raises(UserError, match="no rows of that employee"):
        erase_employee("withdrawn", employee)
