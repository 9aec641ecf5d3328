"""A real dagster-webserver on 127.0.0.1: a run launched through its GraphQL API succeeds, and the
effects metadata is read back through GraphQL."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from pipeline_support import dagster_webserver, isolate, simulate

from pipelines.deliveries import register


@pytest.fixture
def webserver(monkeypatch, tmp_path):
    data = isolate(monkeypatch, tmp_path)
    with dagster_webserver(data, tmp_path / "webserver.log") as gql:
        yield gql, data


LOCATION = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  __typename ... on RepositoryLocation { repositories { name } } ... on PythonError { message } } } } } }"""
ADD_PARTITION = """mutation($repo: RepositorySelector!, $defName: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $defName, partitionKey: $key) {
    __typename ... on PythonError { message } } }"""
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
METADATA = """query($key: AssetKeyInput!, $partition: String!) { assetOrError(assetKey: $key) { ... on Asset {
  assetMaterializations(partitions: [$partition]) { partition metadataEntries { label
    ... on FloatMetadataEntry { floatValue } ... on MarkdownMetadataEntry { mdStr } } } } } }"""


def test_run_launched_through_graphql_succeeds_and_reports_its_effects(webserver, tmp_path):
    gql, data = webserver
    [entry] = gql(LOCATION)["workspaceOrError"]["locationEntries"]
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
    repo = {
        "repositoryLocationName": entry["name"],
        "repositoryName": entry["locationOrLoadError"]["repositories"][0]["name"],
    }

    drop = data / "landing" / "levering"  # a run in another process finds a delivery's files in the landing folder
    simulate(drop, seed=13, employers=6, employees_per_employer=20, survey_indicators=3)
    delivery = register(drop)
    added = gql(ADD_PARTITION, repo=repo, defName="delivery", key=delivery.key)["addDynamicPartition"]
    assert added["__typename"] == "AddDynamicPartitionSuccess", added

    params = {
        "selector": {**repo, "jobName": "pilot_evaluation"},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": delivery.key}]},
    }
    launched = gql(LAUNCH, params=params)["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    deadline, status = time.time() + 600, None
    while time.time() < deadline:
        status = gql(STATUS, id=run_id)["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    assert status == "SUCCESS", f"run {run_id} ended {status}"

    asset = gql(METADATA, key={"path": ["effects"]}, partition=delivery.key)["assetOrError"]
    [materialization] = asset["assetMaterializations"]
    entries = {e["label"]: e for e in materialization["metadataEntries"]}
    written = pd.read_csv(data / "outputs" / delivery.key / "effects.csv").set_index("indicator_id")
    assert entries["ao_pct_estimate"]["floatValue"] == pytest.approx(written.loc["ao_pct", "estimate"], rel=1e-9)
    assert "data:image/png;base64," in entries["forest_plot"]["mdStr"]
    assert "data:image/png;base64," in entries["effects_over_time"]["mdStr"]  # the study's estimate over time
    assert delivery.key in entries["evaluations"]["mdStr"]
