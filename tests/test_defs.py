"""The code location loads, through the Python API and through every CLI that finds it from the repo root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from measures.designs.load import DEFAULT_DESIGN, design_ids
from pipelines.definitions import defs
from pipelines.design_assets import prefix_of

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STAGES = {"drop", "warehouse", "panels", "trends", "effects", "integrity", "toc", "outputs", "sector"}
#: Every other study design's assets form a group of their own, named by the design (`pipelines.design_assets`).
DESIGN_GROUPS = {prefix_of(d) for d in design_ids() if d != DEFAULT_DESIGN}


def test_definitions_are_loadable():
    dg.Definitions.validate_loadable(defs)


def test_cli_loaders_find_the_same_code_location():
    for command in (
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        [str(BIN / "dagster"), "definitions", "validate"],
        [str(BIN / "dg"), "check", "defs"],
    ):
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{' '.join(command[1:])}: {proc.stderr[-800:]}"


def test_assets_are_grouped_by_stage_and_documented():
    specs = list(defs.resolve_all_asset_specs())
    assert {s.group_name for s in specs} == STAGES | DESIGN_GROUPS
    for spec in specs:
        assert spec.description, f"{spec.key} has no description"
        assert spec.owners == ["team:evaluatie"], spec.key
        assert spec.kinds, f"{spec.key} has no kinds"
    groups = {s.key.to_user_string(): s.group_name for s in specs}
    assert (
        groups["admin"] == "warehouse" and groups["effects"] == "effects" and groups["evaluation_outputs"] == "outputs"
    )


def test_contract_tables_carry_their_column_schema():
    specs = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}
    schema = specs["admin"].metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns] == [
        "employee_id",
        "employer_id",
        "month",
        "absence_days",
        "ao_pct",
        "loonwaarde_pct",
    ]


def test_checks_schedules_and_sensor():
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {
        "rows_accounted",
        "contract_columns",
        "ao_pct_estimated",
        "parallel_pre_trends",
        "baseline_balance",
        "assumptions_hold",
        "preregistration_intact",
    } <= checks
    schedules = {s.name: s for s in defs.schedules}
    assert list(schedules) == ["weekly_refresh"]
    assert schedules["weekly_refresh"].execution_timezone == "Europe/Amsterdam"
    # the monthly interim results add cut-off partitions, which a schedule must not: a sensor
    assert sorted(s.name for s in defs.sensors) == ["landing_sensor", "monthly_interim"]
