"""A sector's panel in parts (`pipelines/defs/sector.py`): each part a mapped step in a process of its own,
combined exactly into the DiD of the whole panel; a folder without parts fails in one line."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pytest
from pipeline_support import isolate
from test_did import simulate_panel

from measures.estimation.did import fit_twfe, prepare_panel
from pipelines.run import instance

JOB = dg.build_reconstructable_job("pipelines.definitions", "evaluation_job", reconstructable_args=("sector_did",))


def _config(folder) -> dict:
    panel = {"folder": str(folder), "outcome": "y", "entity": "employee", "time": "period", "treated": "treated"}
    return {"ops": {"sector__did": {"ops": {"sector_parts": {"config": panel | {"cluster": "employer"}}}}}}


def test_parts_as_mapped_steps_give_the_whole_panels_did(monkeypatch, tmp_path):
    isolate(monkeypatch, tmp_path)
    data = simulate_panel(seed=9, employers=14, employees=8, periods=7, drop=0.2)
    parts = tmp_path / "sector"
    parts.mkdir()
    for i, employers in enumerate([range(0, 4), range(4, 9), range(9, 14)]):
        part = data[data["employer"].isin(employers)]
        if i == 1:  # parts may come as CSV (a Dutch one here) or Parquet
            part.to_csv(parts / f"deel-{i}.csv", sep=";", decimal=",", index=False)
        else:
            part.to_parquet(parts / f"deel-{i}.parquet", index=False)
    result = dg.execute_job(JOB, instance(), run_config=_config(parts))
    assert result.success
    starts = [e for e in result.all_events if e.event_type_value == "STEP_START"]
    assert sum(e.step_key.startswith("sector__did.part_clusters[") for e in starts) == 3
    assert len({e.pid for e in starts}) == len(starts)  # every step in a process of its own
    [materialization] = result.asset_materializations_for_node("sector__did")
    meta = {k: v.value for k, v in materialization.metadata.items()}
    whole = fit_twfe(prepare_panel(data, "y", "employee", "period", ["treated"], "employer"), "cluster", "within")
    assert meta["estimate"] == pytest.approx(whole.params[0], abs=1e-10)
    assert meta["se"] == pytest.approx(np.sqrt(whole.vcov[0, 0]), abs=1e-10)
    assert (meta["n_obs"], meta["n_clusters"], meta["parts"]) == (whole.n_obs, whole.n_clusters, 3)
    assert meta["flags"] == "few_clusters_no_wild"  # 14 employers: no wild bootstrap out of core


def test_a_folder_without_parts_fails_in_one_line(monkeypatch, tmp_path):
    isolate(monkeypatch, tmp_path)
    (tmp_path / "leeg").mkdir()
    result = dg.execute_job(JOB, instance(), run_config=_config(tmp_path / "leeg"), raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "leeg: no .csv or .parquet parts" in failure.step_failure_data.error.message
