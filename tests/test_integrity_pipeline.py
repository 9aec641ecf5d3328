"""Evaluation integrity in a real run: the plan compared, the assumptions tested, the narrative written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from pipeline_support import isolate, materialize, simulate

from measures.evaluation.assumptions import ASSUMPTION_COLUMNS
from measures.evaluation.preregistration import build_plan
from measures.indicators.catalogue import CATALOGUE_PATH
from pipelines import settings
from pipelines.deliveries import digest_of, file_checksums, own_study
from pipelines.preregistration import STUDY_TOCS, git_commit, register, registrations, settings_of_run
from pipelines.warehouse import Warehouse
from toc.lang import number
from toc.load import DATA_DIR

PILOT = Path(sys.executable).with_name("pilot")


@pytest.fixture
def data(monkeypatch, tmp_path):
    return isolate(monkeypatch, tmp_path)


def checks_of(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {c.check_name: c for c in result.get_asset_check_evaluations()}


def test_a_run_without_a_plan_says_so_and_writes_every_integrity_output(data, tmp_path):
    drop = tmp_path / "levering"
    simulate(drop, seed=4)
    result, delivery, out = materialize(drop, data, dg.DagsterInstance.ephemeral())
    assert result.success
    study = delivery.study  # a drop on its own: drop-<digest>, never the folder's name
    run = json.loads((out / "run.json").read_text())
    prereg = run["preregistration"]
    assert {"plan_sha256", "intact", "changes"} <= set(prereg)
    assert prereg["plan_sha256"] is None and prereg["intact"] is False
    assert prereg["changes"] == [{"kind": "plan", "id": study, "change": "missing"}]
    check = checks_of(result)["preregistration_intact"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN

    table = pd.read_csv(out / "assumptions.csv")
    assert list(table.columns) == ASSUMPTION_COLUMNS
    assert set(table["toc_id"]) == set(STUDY_TOCS) and set(table["status"]) <= {"holds", "fails", "untested"}
    rhythm = table.set_index(["toc_id", "item_id"]).loc[("werknemer-vroegtijdig", "employee_retains_work_rhythm")]
    assert rhythm["status"] == "holds" and rhythm["threshold"] == 0.8  # the simulation includes at 4-6 months
    assert checks_of(result)["assumptions_hold"].severity == dg.AssetCheckSeverity.WARN

    effects = pd.read_csv(out / "effects.csv").set_index("indicator_id")
    for lang in ("nl", "en"):
        text = (out / f"narrative.{lang}.md").read_text(encoding="utf-8")
        ao = effects.loc["ao_pct"]
        assert f"{number(ao['estimate'], 2, lang, sign=True)} [{number(ao['ci_low'], 2, lang, sign=True)};" in text
    # the results-annotated ToC marks its notes by the outcome of their checks
    svg = (out / "toc" / "werknemer-vroegtijdig-results.svg").read_text(encoding="utf-8")
    assert "✓" in svg and "?" in svg
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="assumptions"' in report and 'id="contribution"' in report
    assert f"Geen vooraf geregistreerd analyseplan voor studie &#39;{study}&#39;" in report


def test_a_catalogue_changed_after_registration_breaks_the_plan_in_the_run(data, tmp_path):
    """REQUIRED: a changed catalogue line after pre-registration makes `intact` false and names the change."""
    drop = tmp_path / "levering"
    simulate(drop, seed=4)
    study = own_study(digest_of(file_checksums(drop)))
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    old = "    label_en: Days of absence per month\n"
    assert text.count(old) == 1
    registered_catalogue = text.replace(old, "    label_en: Absence days per month\n").encode("utf-8")  # as it was
    warehouse = Warehouse(database=str(data / "warehouse.duckdb"))
    plan = build_plan(
        study,
        {f"toc/data/{t}.yaml": (DATA_DIR / f"{t}.yaml").read_bytes() for t in STUDY_TOCS},
        registered_catalogue,
        cutoffs=["2026-06-30"],
        registered_on="2026-01-15",
        git_commit=git_commit(),
        **settings_of_run(),
    )
    register(warehouse, plan)
    result, _, out = materialize(drop, data, dg.DagsterInstance.ephemeral())
    prereg = json.loads((out / "run.json").read_text())["preregistration"]
    assert prereg["intact"] is False and prereg["version"] == 1
    assert prereg["changes"] == [{"kind": "indicator", "id": "absence_days", "change": "changed"}]
    check = checks_of(result)["preregistration_intact"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    report = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "wijkt af van het vooraf geregistreerde analyseplan" in report and "indicator absence_days gewijzigd" in report
    )
    assert (
        (out / "preregistration.nl.md")
        .read_text(encoding="utf-8")
        .startswith(f"# Analyseplan (pre-registratie): {study}")
    )


def pilot(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {"AD_PILOT_DATA": str(data), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(PILOT), *args], capture_output=True, text=True, env=env)


def test_preregister_keeps_every_version_and_says_what_moved(tmp_path, monkeypatch):
    data = tmp_path / "data"
    first = pilot("preregister", "--study", "akc-pilot", "--cutoff", "2026-06-30", "--json", data=data)
    assert first.returncode == 0, first.stderr
    one = json.loads(first.stdout)
    assert one["version"] == 1 and one["replaces"] is None and one["changes"] == []
    folder = Path(one["folder"])
    plan = json.loads((folder / "preregistration.json").read_text(encoding="utf-8"))
    assert plan["study"] == "akc-pilot" and plan["cutoffs"] == ["2026-06-30"] and plan["primary_indicator"] == "ao_pct"
    assert {"preregistration.nl.md", "preregistration.en.md"} <= {p.name for p in folder.iterdir()}

    again = pilot("preregister", "--study", "akc-pilot", "--primary-indicator", "absence_days", data=data)
    assert again.returncode == 0, again.stderr
    assert "registered version 2 of the plan of study akc-pilot" in again.stdout
    assert "re-registration: replaces version 1" in again.stdout
    assert "moved: primary indicator changed: ao_pct → absence_days" in again.stdout
    assert 'moved: planned cut-offs changed: ["2026-06-30"] → []' in again.stdout
    monkeypatch.setenv("AD_PILOT_DATA", str(data))
    warehouse = Warehouse(database=str(settings.warehouse_path()))
    assert [r.version for r in registrations(warehouse, "akc-pilot")] == [1, 2]  # never overwritten
    earlier = (folder / "preregistration.en.md").read_text(encoding="utf-8")
    assert "## Earlier registrations" in earlier and one["plan_sha256"] in earlier

    for bad, words in (
        (["--study", "AKC pilot"], "is not a study id"),
        (["--study", "x", "--primary-indicator", "nope"], "not in the indicator catalogue"),
    ):
        proc = pilot("preregister", *bad, data=data)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr and words in proc.stderr
