"""Shared by the pipeline tests: an isolated data directory, simulated drops, a materialised delivery."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pandas as pd

from measures.evaluation.simulate import SimulationSpec, write_drop
from pipelines.definitions import defs
from pipelines.deliveries import DELIVERY_PARTITIONS, Delivery, register
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[1]
#: A small pilot that still has G = 8 clusters and enough people per cell.
SMALL = {"employers": 8, "employees_per_employer": 25, "survey_indicators": 6}


def isolate(monkeypatch, tmp_path: Path) -> Path:
    """Point every pipeline path (warehouse, registry, landing, outputs, DAGSTER_HOME) into tmp_path."""
    data = tmp_path / "data"
    monkeypatch.setenv("AD_PILOT_DATA", str(data))
    monkeypatch.setenv("AD_PILOT_LANDING", str(data / "landing"))
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    return data


def simulate(folder: Path, seed: int = 7, **overrides) -> dict:
    spec = SimulationSpec(**({"seed": seed} | SMALL | overrides))
    return write_drop(spec, folder)


def materialize(
    drop: Path, data: Path, instance: dg.DagsterInstance, cutoff=None, min_cell: int = 10
) -> tuple[dg.ExecuteInProcessResult, Delivery, Path]:
    """Register the drop (a study of its own) and materialise every asset of its delivery in-process."""
    delivery = register(drop).with_cutoff(cutoff)
    instance.add_dynamic_partitions(DELIVERY_PARTITIONS.name, [delivery.key])
    out = data / "out" / delivery.key
    job = defs.resolve_job_def("pilot_evaluation")
    result = job.execute_in_process(
        instance=instance,
        partition_key=delivery.key,
        resources={
            "warehouse": Warehouse(database=str(data / "warehouse.duckdb")),
            "options": RunOptions(out_dir=str(out), min_cell=min_cell),
        },
    )
    return result, delivery, out


def effects(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "effects.csv").set_index("indicator_id")


def truth(drop: Path) -> dict:
    return json.loads((drop / "truth.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dagster_process(command: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen]:
    """A Dagster server (webserver, daemon) started for real in a session of its own, its output in `log`;
    on exit the whole process group goes (the server and the code server it started)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            command, cwd=cwd, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
            with contextlib.suppress(ProcessLookupError):  # a code server that outlived its parent's SIGTERM
                os.killpg(proc.pid, signal.SIGKILL)


def wait_until_up(port: int, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Until the Dagster webserver on `port` answers (failing with the end of `log` if `proc` died first)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, f"server exited: {log.read_text()[-2000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"server did not come up: {log.read_text()[-2000:]}")


# A test instance launches runs straight away (the embedded default queues them for the daemon).
TEST_INSTANCE = "telemetry:\n  enabled: false\nrun_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"


class GraphQL:
    """Queries to a running webserver's GraphQL API; a query with errors fails the test."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/graphql"

    def __call__(self, query: str, **variables) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload["errors"]
        return payload["data"]


@contextmanager
def dagster_webserver(data: Path, log: Path) -> Iterator[GraphQL]:
    """dagster-webserver on the workspace and the test instance in `data` (AD_PILOT_DATA), on a free port."""
    home = data / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(TEST_INSTANCE)
    port = free_port()
    command = [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml"]
    with dagster_process([*command, "-h", "127.0.0.1", "-p", str(port)], log, ROOT) as proc:
        wait_until_up(port, proc, log)
        yield GraphQL(port)
