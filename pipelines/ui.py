"""`pilot ui`: Dagster's webserver and daemon (`dagster dev`) for the project's instance, stopped as a whole.

`dagster dev` runs in a process group of its own, with everything it starts (webserver, daemon, code servers,
runs launched from the UI). When `pilot ui` gets SIGINT (Ctrl-C), SIGTERM or SIGHUP, or `dagster dev` ends on
its own, the whole group gets SIGINT (Dagster's own way to stop) and, `GRACE_SECONDS` later, SIGKILL for
whatever is left. So stopping `pilot ui` never leaves a webserver, daemon or code server behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines import settings

#: How long the group may take to stop after SIGINT before it is killed. `dagster dev` tells the webserver and the
#: daemon to stop and they do within a second; its own exit and the code servers' take longer than a user waits.
GRACE_SECONDS = 4
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def dagster_dev_command(port: int) -> list[str]:
    return [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-w",
        str(settings.PROJECT_ROOT / "workspace.yaml"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def serve(command: list[str], env: dict[str, str], cwd: Path) -> int:
    """Run `command` in a new process group until it ends or this process is told to stop, then stop the whole
    group; returns its exit code (128 + the signal when a signal stopped it, as a shell reports it)."""
    proc = subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)
    received: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _frame: received.append(signum)) for s in FORWARDED}
    try:
        while proc.poll() is None and not received:
            time.sleep(0.2)
    finally:
        stop_group(proc)
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 + received[0] if received else int(proc.returncode)


def stop_group(proc: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """SIGINT to every process of `proc`'s group (Dagster stops on it as on Ctrl-C; it does not on SIGTERM), and
    SIGKILL to whatever is left `grace` seconds later."""
    deadline = time.monotonic() + grace
    alive = _signal_group(proc.pid, signal.SIGINT)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        proc.poll()  # reap our own child, or it would count as left
        alive = _signal_group(proc.pid, 0)  # signal 0: is anyone left?
    if alive:
        _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to the group; False when the group has no process left."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:  # only zombies left, waiting to be reaped by init
        return False
    return True
