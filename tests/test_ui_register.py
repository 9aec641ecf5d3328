"""Deliveries added from the UI, over GraphQL against a real webserver: `register_delivery` with a good folder
adds a partition and evaluates it; a bad folder or study, or a partition key typed into "Add partition", fails
with one line and leaves no partition behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pipeline_support import dagster_webserver, isolate, simulate

from pipelines import settings
from pipelines.deliveries import Delivery, register

WORKSPACE = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  ... on RepositoryLocation { repositories { name } } } } } } }"""
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
ADD_PARTITION = """mutation($repo: RepositorySelector!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: "delivery", partitionKey: $key) {
    __typename } }"""
PARTITIONS = """query($repo: RepositorySelector!) { partitionSetsOrError(repositorySelector: $repo,
  pipelineName: "pilot_evaluation") { ... on PartitionSets { results { partitionsOrError {
  ... on Partitions { results { name } } } } } } }"""
DRY_RUN = """mutation($selector: ScheduleSelector!, $at: Float) { scheduleDryRun(selectorData: $selector,
  timestamp: $at) { __typename ... on DryRunInstigationTick { evaluationResult { skipReason error { message }
  runRequests { runKey tags { key value } } } } ... on PythonError { message } } }"""
RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status tags { key value } } } }"""
FAILURES = """query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events { __typename
  ... on ExecutionStepFailureEvent { error { message } } } } } }"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """The webserver on a fresh instance."""
    tmp = tmp_path_factory.mktemp("register")
    monkeypatch = pytest.MonkeyPatch()
    data = isolate(monkeypatch, tmp)
    with dagster_webserver(data, tmp / "webserver.log") as gql:
        [entry] = gql(WORKSPACE)["workspaceOrError"]["locationEntries"]
        repo = {
            "repositoryLocationName": entry["name"],
            "repositoryName": entry["locationOrLoadError"]["repositories"][0]["name"],
        }
        yield gql, repo, tmp
    monkeypatch.undo()


def _launch(gql, repo, job: str, run_config: dict, partition: str | None = None) -> str:
    tags = [{"key": "dagster/partition", "value": partition}] if partition else []
    params = {"selector": {**repo, "jobName": job}, "runConfigData": run_config, "executionMetadata": {"tags": tags}}
    launched = gql(LAUNCH, params=params)["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def _finished(gql, run_id: str, timeout: float = 600) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = gql(RUN, id=run_id)["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            return run
        time.sleep(2)
    raise AssertionError(f"run {run_id} did not finish")


def _failure(gql, run_id: str) -> str:
    events = gql(FAILURES, id=run_id)["logsForRun"]["events"]
    [failure] = [e["error"]["message"] for e in events if e["__typename"] == "ExecutionStepFailureEvent"]
    return failure


def _partitions(gql, repo) -> list[str]:
    [partition_set] = gql(PARTITIONS, repo=repo)["partitionSetsOrError"]["results"]
    return [p["name"] for p in partition_set["partitionsOrError"]["results"]]


def _register(folder: str, study: str = "") -> dict:
    return {"ops": {"register_folder": {"config": {"folder": folder, "study": study}}}}


@pytest.mark.parametrize(
    ("folder", "study", "says"),
    [
        ("/nergens/levering", "akc-pilot", "folder: no such drop folder"),
        ("levering", "akc-pilot", "full path"),
        ("EMPTY", "", "no table files"),
        ("DROP", "AKC pilot", "a study id is"),
    ],
)
def test_a_bad_folder_or_study_is_one_line_and_adds_no_partition(ui, folder, study, says):
    gql, repo, tmp = ui
    if folder == "EMPTY":
        folder = str(tmp / "leeg")
        Path(folder).mkdir(exist_ok=True)
    if folder == "DROP":
        folder = str(tmp / "goed")
        simulate(Path(folder), seed=6, employers=4, employees_per_employer=12, survey_indicators=2)
    before = _partitions(gql, repo)
    run_id = _launch(gql, repo, "register_delivery", _register(folder, study))
    assert _finished(gql, run_id)["status"] == "FAILURE"
    message = _failure(gql, run_id)
    assert says in message and "Traceback" not in message and len(message.strip().splitlines()) == 1
    assert _partitions(gql, repo) == before


def test_a_registered_folder_becomes_a_partition_and_is_evaluated(ui):
    gql, repo, tmp = ui
    drop = tmp / "levering"  # outside the landing folder: the evaluation finds it because it was handed down
    simulate(drop, seed=5, employers=6, employees_per_employer=20, survey_indicators=2)
    run_id = _launch(gql, repo, "register_delivery", _register(str(drop), "akc-pilot"))
    run = _finished(gql, run_id)
    assert run["status"] == "SUCCESS", _failure(gql, run_id)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    key = tags["pilot/registered_delivery"]
    assert Delivery.parse(key).study == "akc-pilot" and key in _partitions(gql, repo)
    evaluation = _finished(gql, tags["pilot/evaluation_run"])
    assert evaluation["status"] == "SUCCESS"
    assert {"key": "dagster/partition", "value": key} in evaluation["tags"]


def test_a_key_typed_into_add_partition_fails_in_one_line_and_is_removed(ui):
    gql, repo, _ = ui
    assert gql(ADD_PARTITION, repo=repo, key="levering-maart")["addDynamicPartition"]["__typename"] == (
        "AddDynamicPartitionSuccess"
    )
    run_id = _launch(gql, repo, "pilot_evaluation", {}, partition="levering-maart")
    assert _finished(gql, run_id)["status"] == "FAILURE"
    message = _failure(gql, run_id)
    assert "'levering-maart' is not a delivery partition key" in message and "register_delivery" in message
    assert len(message.strip().splitlines()) == 1
    assert "levering-maart" not in _partitions(gql, repo)


def test_previewing_a_schedule_tick_creates_nothing(ui):
    """The UI's "Preview tick result" is a schedule evaluation: it may ask for runs, never add a partition or a
    delivery."""
    gql, repo, tmp = ui
    drop = tmp / "voorbeeld"
    simulate(drop, seed=9, employers=4, employees_per_employer=12, survey_indicators=2)
    delivery = register(drop, "preview-study")
    registry = settings.registry_path().read_bytes()
    selector = {**repo, "scheduleName": "weekly_refresh"}

    def preview() -> list[str]:
        tick = gql(DRY_RUN, selector=selector, at=time.time())["scheduleDryRun"]
        assert tick["__typename"] == "DryRunInstigationTick", tick
        result = tick["evaluationResult"]
        assert result["error"] is None, result["error"]
        return [t["value"] for r in result["runRequests"] or [] for t in r["tags"] if t["key"] == "dagster/partition"]

    before = _partitions(gql, repo)
    assert delivery.key not in preview()  # no partition yet: nothing to refresh, and none is added
    assert _partitions(gql, repo) == before and settings.registry_path().read_bytes() == registry
    gql(ADD_PARTITION, repo=repo, key=delivery.key)
    assert delivery.key in preview()  # an evaluated study is asked for again
    assert _partitions(gql, repo) == [*before, delivery.key] and settings.registry_path().read_bytes() == registry
