"""Every study design end to end: its simulated drop through its own Dagster job recovers the planted effect on
its primary indicator, writes its own tables and report sections, shows its own figures in the UI; its CLI
(`pilot simulate/contract --design`) and the coverage rule of its ToCs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yaml
from pipeline_support import isolate

from measures.designs.load import DEFAULT_DESIGN, design_ids, load_design
from measures.evaluation.design.simulate import write_design_drop
from measures.evaluation.effects import EFFECT_COLUMNS
from pipelines.definitions import defs
from pipelines.deliveries import DELIVERY_PARTITIONS, design_of, register
from pipelines.design_assets import job_name, prefix_of
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DESIGNS = [d for d in design_ids() if d != DEFAULT_DESIGN]
#: What each design writes beside the common outputs, the report sections it has, the figures the UI shows.
OWN = {
    "passend-werk": (["survival.csv"], ["cohorts", "survival"], ["cohorts_rtw_12m_case", "survival"]),
    "eigen-regie": (["milestones.csv", "survival.csv"], ["timeline", "survival"], ["timeline", "survival"]),
    "tweede-spoor": (["milestones.csv", "survival.csv"], ["timeline", "survival"], ["timeline", "survival"]),
    "symptoommonitor": (["trajectories.csv", "survival.csv"], ["use", "trajectories"], ["levels", "trajectories"]),
}


def test_the_four_studies_are_shipped():
    assert DESIGNS == ["eigen-regie", "passend-werk", "symptoommonitor", "tweede-spoor"]
    assert {load_design(d).design for d in DESIGNS} == {"cohort-did", "case-file-timeline", "feasibility-monitoring"}


@pytest.mark.parametrize("design", DESIGNS)
def test_a_design_runs_through_its_job_and_recovers_the_planted_effect(design, monkeypatch, tmp_path):
    data = isolate(monkeypatch, tmp_path)
    drop = tmp_path / "drop"
    truth = write_design_drop(design, drop, seed=7)
    delivery = register(drop, None, None, design)
    assert design_of(delivery.study) == design
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(DELIVERY_PARTITIONS.name, [delivery.key])
    out = data / "out"
    result = defs.resolve_job_def(job_name(design)).execute_in_process(
        instance=instance,
        partition_key=delivery.key,
        resources={
            "warehouse": Warehouse(database=str(data / "warehouse.duckdb")),
            "options": RunOptions(out_dir=str(out)),
        },
    )
    assert result.success
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["primary_estimated"] and checks["rows_accounted"]

    effects = pd.read_csv(out / "effects.csv")
    assert list(effects.columns) == EFFECT_COLUMNS  # the same columns for every design
    primary = effects.set_index("indicator_id").loc[truth["primary_indicator"]]
    assert primary["ci_low"] <= truth["effect"] <= primary["ci_high"], (primary.to_dict(), truth["effect"])
    assert primary["ci_high"] - primary["ci_low"] < 0.5  # a share or a rate: an interval that says something

    files, sections, figures = OWN[design]
    for name in ["trends.csv", "estimates.csv", "assumptions.csv", "quarantine.csv", "run.json", *files]:
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.html").read_text(encoding="utf-8")
    for section in sections:
        assert f'<section id="{section}">' in report, section
    assert "http://" not in report and "https://" not in report
    assert json.loads((out / "run.json").read_text())["design"] == design

    shown = result.asset_materializations_for_node(f"{prefix_of(design)}__figures")[0].metadata
    for figure in figures:
        assert shown[figure].value.startswith("![") or hasattr(shown[figure], "md_str"), figure
    suppressed = pd.read_csv(out / "trends.csv")
    people = suppressed.loc[suppressed["n"].notna() & ~suppressed["indicator_id"].isin(_process(design)), "n"]
    assert (people >= 10).all()  # small cells of people never shown


def _process(design: str) -> list[str]:
    from measures.designs.load import design_indicators

    return [i.id for i in design_indicators(load_design(design)) if i.source == "process"]


def _pilot(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pilot"), *args], capture_output=True, text=True, timeout=300, **kw)


@pytest.mark.parametrize("design", DESIGNS)
def test_simulate_writes_the_design_drop_and_its_truth(design, tmp_path):
    proc = _pilot("simulate", "--design", design, "--out", str(tmp_path / "drop"), "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    truth = json.loads((tmp_path / "drop" / "truth.json").read_text())
    contract = load_design(design).contract
    assert truth["primary_indicator"] == load_design(design).primary_indicator and truth["seed"] == 3
    assert isinstance(truth["effect"], float)
    written = {p.stem for p in (tmp_path / "drop").glob("*.csv")}
    assert written <= set(contract.by_name) and {t.name for t in contract.tables if t.required} <= written
    checked = _pilot("validate", "--design", design, "--strict", "--json", str(tmp_path / "drop"))
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr
    result = json.loads(checked.stdout)
    assert result["bad_rows"] == [] and result["warnings"] == []  # a simulated drop is clean
    assert all(t["rows_in"] == t["loaded"] for t in result["tables"].values())


def test_contract_of_a_design(tmp_path):
    proc = _pilot("contract", "--design", "symptoommonitor", "--templates", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for table in load_design("symptoommonitor").contract.tables:
        assert f"## `{table.name}`" in proc.stdout
        assert (tmp_path / f"{table.name}.csv").exists()
    assert "## `admin`" not in proc.stdout
    unknown = _pilot("contract", "--design", "no-such-study")
    assert unknown.returncode != 0 and "no study design 'no-such-study'" in unknown.stdout + unknown.stderr


def test_coverage_fails_for_a_study_whose_toc_has_an_unmeasured_effect(tmp_path):
    ok = subprocess.run([str(BIN / "toc"), "coverage", "--json"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["uncovered"] == []
    raw = yaml.safe_load((ROOT / "studies" / "eigen-regie.yaml").read_text(encoding="utf-8"))
    dropped = raw["indicators"].pop(raw["indicators"].index("werkvermogen"))
    raw["primary_indicator"] = raw["indicators"][0]
    path = tmp_path / "eigen-regie.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run(
        [str(BIN / "toc"), "coverage", "--study", str(path), "--json"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    missing = json.loads(proc.stdout)["uncovered"]
    assert missing and all(ref.startswith("eigen-regie/") for ref in missing), (dropped, missing)
