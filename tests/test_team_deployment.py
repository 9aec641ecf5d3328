"""The team deployment for real: a PostgreSQL server, a Dagster instance stored in it with the queued run
coordinator, and the daemon that launches the queued run. The run and its materialisations are then
found in PostgreSQL itself."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from pipeline_support import dagster_process, free_port, isolate, simulate

from pipelines.deliveries import DELIVERY_PARTITIONS, register

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _pg_bin(name: str) -> str:
    [path] = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1:] or [shutil.which(name)]
    assert path, f"{name} not found: install the postgresql package (./setup does)"
    return path


@pytest.fixture
def postgres():
    """A throwaway PostgreSQL server on a free port; initdb and pg_ctl refuse root, so they run as postgres
    (in a temporary folder of its own: pytest's temporary root is private to the user running the tests)."""
    base = Path(tempfile.mkdtemp(prefix="pilot-pg-"))
    os.chmod(base, 0o777)
    data, port = base / "data", free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_postgres, _pg_bin("initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_postgres,
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "pg.log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [*as_postgres, _pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "dagster"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/dagster"
    finally:
        subprocess.run([*as_postgres, _pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _team_instance(home: Path, url: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        # the driver named in the URL: SQLAlchemy 2.1 would otherwise pick psycopg 3, which Dagster's
        # storage does not support (dagster-postgres installs psycopg2)
        f"storage:\n  postgres:\n    postgres_url: {url.replace('postgresql://', 'postgresql+psycopg2://')}\n"
        "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: QueuedRunCoordinator\n"
        "  config:\n    max_concurrent_runs: 2\n"
    )


def test_pipeline_on_a_postgres_instance_with_queue_and_daemon(postgres, monkeypatch, tmp_path):
    data = isolate(monkeypatch, tmp_path)
    home = data / "dagster_home"
    _team_instance(home, postgres)
    drop = data / "landing" / "levering"  # a run in another process finds a delivery's files in the landing folder
    simulate(drop, seed=31, employers=6, employees_per_employer=20, survey_indicators=3)
    delivery = register(drop)
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(DELIVERY_PARTITIONS.name, [delivery.key])

    launch = subprocess.run(
        [
            str(BIN / "dagster"),
            "job",
            "launch",
            "-w",
            "workspace.yaml",
            "-j",
            "pilot_evaluation",
            "--tags",
            json.dumps({"dagster/partition": delivery.key}),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert launch.returncode == 0, launch.stderr[-1500:]
    [run] = instance.get_runs(filters=dg.RunsFilter(job_name="pilot_evaluation"))
    assert run.status == dg.DagsterRunStatus.QUEUED  # nothing runs until the daemon takes it

    command = [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"]
    with dagster_process(command, tmp_path / "daemon.log", ROOT) as daemon:
        deadline = time.time() + 600
        while time.time() < deadline and not instance.get_run_by_id(run.run_id).is_finished:
            assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-2000:]
            time.sleep(2)
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.SUCCESS

    with psycopg2.connect(postgres) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM runs WHERE run_id = %s", (run.run_id,))
        assert cur.fetchone() == ("SUCCESS",)
        cur.execute(
            "SELECT DISTINCT asset_key FROM event_logs WHERE run_id = %s AND dagster_event_type = "
            "'ASSET_MATERIALIZATION'",
            (run.run_id,),
        )
        keys = {dg.AssetKey.from_db_string(row[0]).to_user_string() for row in cur.fetchall()}
    assert {"drop_files", "admin", "effects", "indicator_trends", "evaluation_outputs"} <= keys
