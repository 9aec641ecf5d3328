"""`pilot ui` for real: a stop signal (SIGTERM from a service manager, SIGINT from Ctrl-C) ends the webserver, the
daemon and every process they started within a few seconds."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from pipeline_support import free_port, isolate, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
#: What "a few seconds" means here: the grace `dagster dev` gets, plus time to die on a busy machine.
STOPPED_WITHIN = 10


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_pilot_ui_stops_with_everything_it_started(monkeypatch, tmp_path, signum):
    isolate(monkeypatch, tmp_path)
    port, log = free_port(), tmp_path / "ui.log"
    command = [str(Path(sys.executable).with_name("pilot")), "ui", "--port", str(port)]
    with open(log, "w") as out:
        # a session of its own, as a terminal or service manager would start it
        pilot = subprocess.Popen(
            command, cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=out, start_new_session=True
        )
    started: list[psutil.Process] = []
    try:
        wait_until_up(port, pilot, log)
        started = psutil.Process(pilot.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in started)
        assert "dagster_webserver" in names and "dagster._daemon" in names, names
        sent = time.monotonic()
        pilot.send_signal(signum)
        code = pilot.wait(timeout=STOPPED_WITHIN)
        _, alive = psutil.wait_procs(started, timeout=max(0.1, STOPPED_WITHIN - (time.monotonic() - sent)))
        assert alive == [], [" ".join(p.cmdline()) for p in alive]
        assert code == 128 + signum
        assert time.monotonic() - sent < STOPPED_WITHIN
    finally:  # when the test failed: leave no server behind either
        for proc in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        if pilot.poll() is None:
            pilot.kill()
        pilot.wait()
