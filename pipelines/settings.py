"""Where the pipeline keeps its files. One place, so that the CLI, the code location and the tests agree.

Everything lives under the project's data directory (`<repo>/data`, ignored by git), unless
`AD_PILOT_DATA` points elsewhere: the landing folder for drops, the DuckDB warehouse, the registry of
deliveries, the run outputs and the Dagster instance (`DAGSTER_HOME`, unless already set).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    return Path(os.environ.get("AD_PILOT_DATA", PROJECT_ROOT / "data")).resolve()


def landing_dir() -> Path:
    return Path(os.environ.get("AD_PILOT_LANDING", data_dir() / "landing")).resolve()


def warehouse_path() -> Path:
    return data_dir() / "warehouse.duckdb"


def registry_path() -> Path:
    return data_dir() / "deliveries.json"


def outputs_dir() -> Path:
    return data_dir() / "outputs"


def dagster_home() -> Path:
    """The Dagster instance directory; created with an embedded (SQLite) configuration if new."""
    home = Path(os.environ.get("DAGSTER_HOME", data_dir() / "dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(EMBEDDED_INSTANCE, encoding="utf-8")
    return home


# The embedded deployment: SQLite storage in DAGSTER_HOME, runs queued and launched by the daemon that
# `pilot ui` starts. The team deployment swaps storage for PostgreSQL (see README). One run per study at a
# time (runs carry the tag `pilot/study`): deliveries of a study are loaded in the order they were registered.
# Run monitoring (the daemon) fails a run that never started or has run for six hours; a `pilot run` killed
# with -9 is marked failed by the next `pilot run` (`pipelines.run.fail_dead_runs`), since its worker was the
# CLI process itself.
EMBEDDED_INSTANCE = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 2
    tag_concurrency_limits:
      - key: pilot/study
        value:
          applyLimitPerUniqueValue: true
        limit: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  max_runtime_seconds: 21600
  poll_interval_seconds: 60
"""
