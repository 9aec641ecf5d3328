"""What a run is doing while it runs, read from its event log: the step that runs, the rows it reported, the
time since the launch.

`pilot run` launches the run (step `launch`: the code server and the run worker start) and waits for the run
that its worker process executes; while it waits it reads the events past its cursor (one query per poll, nothing re-read) and hands each step's start and end to a reporter. Rows are what
the step recorded: the loaded rows of the tables of the ingest (`dagster/row_count`), the employee-months of
the panels (`admin_rows`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import dagster as dg

ROW_KEYS = ("dagster/row_count", "admin_rows")
WATCHED = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_SKIPPED,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.STEP_OUTPUT,
}
Status = Literal["started", "done", "failed", "skipped"]
_STATUS: dict[dg.DagsterEventType, Status] = {
    dg.DagsterEventType.STEP_START: "started",
    dg.DagsterEventType.STEP_SUCCESS: "done",
    dg.DagsterEventType.STEP_FAILURE: "failed",
    dg.DagsterEventType.STEP_SKIPPED: "skipped",
}


@dataclass(frozen=True)
class StepEvent:
    """One step started or ended: ``elapsed`` seconds since the launch; ``seconds`` the step's own time and
    ``rows`` the rows it reported, once it has ended."""

    step: str
    status: Status
    elapsed: float
    seconds: float | None = None
    rows: int | None = None

    def line(self) -> str:
        """The event as one plain line (for a log)."""
        text = f"[{self.elapsed:7.1f} s] {self.step} {self.status}"
        if self.seconds is not None:
            text += f" in {self.seconds:.1f} s"
        if self.rows is not None:
            text += f" ({self.rows:,} rows)"
        return text


Reporter = Callable[[StepEvent], None]


class RunWatcher:
    """Reads a run's new step events on each :meth:`poll` and hands them to ``report``."""

    def __init__(self, inst: dg.DagsterInstance, run_id: str, report: Reporter, start: float | None = None):
        self.inst, self.run_id, self.report = inst, run_id, report
        self.start = time.time() if start is None else start
        self.cursor: str | None = None
        self.started: dict[str, float] = {}
        self.rows: dict[str, int] = {}

    def poll(self) -> None:
        while True:
            page = self.inst.get_records_for_run(self.run_id, cursor=self.cursor, of_type=WATCHED, limit=200)
            for record in page.records:
                self._handle(record.event_log_entry)
            self.cursor = page.cursor
            if not page.has_more:
                return

    def _handle(self, entry) -> None:
        event, step = entry.dagster_event, entry.step_key
        if event is None or step is None:
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            metadata = event.step_materialization_data.materialization.metadata
            found = [int(metadata[k].value) for k in ROW_KEYS if k in metadata]
            if found:
                self.rows[step] = self.rows.get(step, 0) + found[0]
            return
        if kind == dg.DagsterEventType.STEP_OUTPUT:
            metadata = event.step_output_data.metadata
            if "admin_rows" in metadata:
                self.rows[step] = int(metadata["admin_rows"].value)
            return
        status = _STATUS[kind]
        if status == "started":
            self.started[step] = entry.timestamp
            self.report(StepEvent(step, "started", entry.timestamp - self.start))
            return
        began = self.started.get(step)
        seconds = entry.timestamp - began if began is not None else None
        self.report(StepEvent(step, status, entry.timestamp - self.start, seconds, self.rows.get(step)))
