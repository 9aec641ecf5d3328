"""What a run is doing while it runs, from the events it yields: the step that runs, the rows it reported, the
time since the launch.

`pilot run` creates the run (step `launch`) and executes it in its own process; each event the execution
yields is handed to a `StepWatcher`, which tells a reporter each step's start and end (no query of the event
log). Rows are what the step recorded: the loaded rows of the tables of the ingest (`dagster/row_count`), the
employee-months of the panels (`admin_rows`).
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


class StepWatcher:
    """Hands each step's start and end to ``report``, from the events of a run as it executes them."""

    def __init__(self, report: Reporter, start: float | None = None):
        self.report = report
        self.start = time.time() if start is None else start
        self.started: dict[str, float] = {}
        self.rows: dict[str, int] = {}

    def handle(self, event: dg.DagsterEvent) -> None:
        kind, step, now = event.event_type, event.step_key, time.time()
        if kind not in WATCHED or step is None:
            return
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            metadata = event.step_materialization_data.materialization.metadata
            found = [int(str(metadata[k].value)) for k in ROW_KEYS if k in metadata]
            if found:
                self.rows[step] = self.rows.get(step, 0) + found[0]
            return
        if kind == dg.DagsterEventType.STEP_OUTPUT:
            metadata = event.step_output_data.metadata
            if "admin_rows" in metadata:
                self.rows[step] = int(str(metadata["admin_rows"].value))
            return
        status = _STATUS[kind]
        if status == "started":
            self.started[step] = now
            self.report(StepEvent(step, "started", now - self.start))
            return
        began = self.started.get(step)
        seconds = now - began if began is not None else None
        self.report(StepEvent(step, status, now - self.start, seconds, self.rows.get(step)))
