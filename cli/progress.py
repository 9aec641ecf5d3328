"""Progress of a long command on stderr: which step runs, its rows and the time, while the command works.

On a terminal a rich status line shows the running step and the time since the start, and each finished
step leaves one line; in a log (stderr not a terminal) every start and end is one plain line; with
``--quiet`` nothing. stdout keeps the command's result alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cli.common import err_console, plain

if TYPE_CHECKING:
    from pipelines.progress import StepEvent


@contextmanager
def step_progress(quiet: bool) -> Iterator[Callable[[StepEvent], None] | None]:
    """A reporter for `pipelines.progress` step events (None with ``quiet``)."""
    if quiet:
        yield None
        return
    if not err_console.is_terminal:
        yield lambda event: err_console.print(plain(event.line()), markup=False, highlight=False)
        return
    with err_console.status("starting the run") as status:

        def report(event: StepEvent) -> None:
            if event.status == "started":
                status.update(f"{plain(event.step)} running (at {event.elapsed:.0f} s)")
            else:
                err_console.print(plain(event.line()), markup=False, highlight=False)

        yield report


@contextmanager
def stage(label: str, quiet: bool) -> Iterator[None]:
    """One stage of a command without steps of its own: a status on a terminal, a start and an end line in
    a log, nothing with ``quiet``."""
    if quiet:
        yield
        return
    start = time.perf_counter()
    if err_console.is_terminal:
        with err_console.status(plain(label)):
            yield
    else:
        err_console.print(plain(f"{label} ..."), markup=False, highlight=False)
        yield
    err_console.print(plain(f"{label}: done in {time.perf_counter() - start:.1f} s"), markup=False, highlight=False)
