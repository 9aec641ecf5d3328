"""`pilot` on the command line: validate (good drop, file errors, bad rows) and the JSON contracts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from drops import copy_row, drop_column, make_drop, set_cell
from typer.testing import CliRunner

from cli.pilot import app
from measures.contract.tables import TABLES
from measures.indicators.catalogue import load_catalogue

PILOT = str(Path(sys.executable).with_name("pilot"))
runner = CliRunner()


def _pilot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PILOT, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_drop(tmp_path_factory.mktemp("cli") / "drop")


@pytest.fixture
def drop(base, tmp_path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "drop"))


def test_validate_a_good_drop_exits_0_and_lists_every_table(base):
    done = _pilot("validate", str(base), "--strict")
    assert done.returncode == 0, done.stderr
    for name in TABLES:
        assert re.search(rf"\b{name}\b.*\b{name}\.csv\b", done.stdout), name
    assert "row" not in done.stdout.replace("rows", "")  # no bad rows printed


def test_a_missing_required_column_is_one_line_naming_file_and_column(drop):
    drop_column(drop, "cases", "inclusion_date")
    done = _pilot("validate", str(drop))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines() == ["error: cases.csv: missing required column 'inclusion_date'"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("foo.csv", "a,b\n1,2\n", "foo.csv: unknown table"),
        ("employers.csv", "", "employers.csv: empty file"),
    ],
)
def test_other_file_errors_are_one_line_too(drop, name, content, message):
    (drop / name).write_text(content, encoding="utf-8")
    done = runner.invoke(app, ["validate", str(drop)])
    assert done.exit_code == 1
    assert not isinstance(done.exception, Exception) or isinstance(done.exception, SystemExit)  # no traceback
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}")


def test_validate_prints_each_bad_row_with_file_row_column_and_reason(drop):
    set_cell(drop, "admin", 5, "ao_pct", "130")
    set_cell(drop, "employers", 3, "group", "x")
    copy = copy_row(drop, "cases", 4)
    done = _pilot("validate", str(drop))
    assert done.returncode == 0, done.stderr  # bad rows are quarantined; the drop can still be evaluated
    lines = done.stdout.splitlines()
    assert "admin.csv row 5, column ao_pct: out_of_range (must be between 0 and 100)" in lines
    assert "employers.csv row 3, column group: not_allowed (must be one of intervention, comparison)" in lines
    assert f"cases.csv row {copy}, column employee_id: duplicate (same employee_id as row 4)" in lines
    assert "130" not in done.stdout


def test_validate_json_and_strict(drop):
    set_cell(drop, "survey", 6, "value", "6")
    done = runner.invoke(app, ["validate", str(drop), "--json", "--strict"])
    assert done.exit_code == 1
    report = json.loads(done.stdout)
    assert report["bad_rows"] == [
        {
            "table": "survey",
            "source_file": "survey.csv",
            "row": 6,
            "column": "value",
            "reason": "out_of_range",
            "detail": "must be between 1 and 5",
        }
    ]
    survey = report["tables"]["survey"]
    assert survey["rows_in"] == survey["loaded"] + survey["quarantined"] and survey["quarantined"] == 1
    assert survey["reasons"] == {"out_of_range": 1}


#: Where an indicator's values come from: the pilot's, and what the study designs add (issue 18).
SOURCES = {"admin", "questionnaire_employee", "questionnaire_employer", "process"} | {
    "questionnaire_professional",
    "questionnaire_manager",
    "case_file",
    "monitoring",
}


def test_indicators_json():
    done = runner.invoke(app, ["indicators", "--json"])
    assert done.exit_code == 0
    indicators = json.loads(done.stdout)
    assert [i["id"] for i in indicators] == [i.id for i in load_catalogue()]
    for ind in indicators:
        assert {"id", "nodes", "source", "scale", "label_nl"} <= set(ind)
        assert ind["nodes"] and all(re.fullmatch(r"[a-z][a-z0-9-]*/[a-z][a-z0-9_]*", ref) for ref in ind["nodes"])
        assert ind["source"] in SOURCES
    regie = next(i for i in indicators if i["id"] == "regie_ervaren")
    assert (regie["source"], regie["scale"]) == ("questionnaire_employee", "likert5")
    assert "werknemer-vroegtijdig/employee_takes_control" in regie["nodes"]


def test_business_case_json_keys():
    done = runner.invoke(app, ["business-case", "--json"])
    assert done.exit_code == 0
    data = json.loads(done.stdout)
    assert {
        "daily_wage",
        "cost_per_person",
        "savings_by_month",
        "savings_total",
        "savings_average",
        "replacement_per_month",
        "replacement_savings",
        "by_daily_wage",
    } <= set(data)
    assert all({"daily_wage", "savings_total", "savings_average"} <= set(row) for row in data["by_daily_wage"])


def test_power_json_keys():
    done = runner.invoke(
        app, ["power", "--employers", "10", "--employees-per-employer", "20", "--icc", "0.05", "--json"]
    )
    assert done.exit_code == 0
    data = json.loads(done.stdout)
    assert {
        "mde_sd",
        "design_effect",
        "n_total",
        "df",
        "employers",
        "employees_per_employer",
        "icc",
        "by_employers",
    } <= set(data)
    assert (data["employers"], data["employees_per_employer"], data["n_total"]) == (10, 20, 200)
    assert data["by_employers"] and all({"employers", "mde_sd"} <= set(row) for row in data["by_employers"])
