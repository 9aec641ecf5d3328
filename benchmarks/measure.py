"""Measuring a command: wall time, CPU time, peak RSS of its whole process tree and of its largest single
process; the Dagster step times of the run `pilot run` recorded; and the machine the numbers come from.

The tree sum counts a forked child (Graphviz `dot`, a Dagster subprocess) at its parent's size although it
shares its pages, so the contract's figure is the largest single process (``peak_process_rss``). The command
starts a session of its own, and every process of that session counts, also one re-parented to init (until
2026-12-01 `pilot run` launched a code server and a run worker that outlived it that way)."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds, start of the process to its exit
    cpu: float  # user + system seconds of the process and the children it waited for, and of the other
    # processes of its session as last sampled (a launched run's worker is nobody's waited-for child)
    peak_rss: int  # bytes: the largest sum of RSS over the process and all its descendants (sampled)
    peak_process_rss: int  # bytes: the largest RSS of any single process of the tree (sampled, and wait4's)
    returncode: int
    stdout: str
    stderr: str
    samples: list[tuple[float, int, int]]  # (time.time(), tree RSS, largest process RSS) every SAMPLE_SECONDS

    def peak_between(self, start: float, end: float) -> int:
        """Largest sampled tree RSS between two wall-clock times (0 when no sample fell inside)."""
        return max((rss for t, rss, _ in self.samples if start <= t <= end), default=0)


def run_measured(cmd: list[str], name: str, log_dir: Path, env: dict[str, str] | None = None) -> Measured:
    """Run `cmd`, sampling the RSS of its process tree every SAMPLE_SECONDS.

    The sampled peak is raised to the kernel's high-water mark of the largest single process (from
    wait4), so a spike shorter than a sample in the main process is not missed.
    """
    out_path, err_path = Path(log_dir) / f"{name}.out", Path(log_dir) / f"{name}.err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, start_new_session=True)
        samples, status, usage, orphans_cpu = _sample_until_exit(proc.pid)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 above
    high_water = usage.ru_maxrss * 1024  # the largest of the process and the descendants it waited for
    return Measured(
        wall,
        usage.ru_utime + usage.ru_stime + orphans_cpu,
        max([high_water, *(rss for _, rss, _ in samples)]),
        max([high_water, *(largest for _, _, largest in samples)]),
        proc.returncode,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        samples,
    )


def _sample_until_exit(pid: int) -> tuple[list[tuple[float, int, int]], int, object, float]:
    """RSS samples until ``pid`` exits, its wait status and usage, and the CPU seconds (last sampled) of the
    processes of its session that are not its descendants."""
    root = psutil.Process(pid)
    samples: list[tuple[float, int, int]] = []
    cpu: dict[int, float] = {}
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return samples, status, usage, sum(cpu.values())
        samples.append((time.time(), *tree_rss(root)))
        _orphans_cpu(root, cpu)
        time.sleep(SAMPLE_SECONDS)


def _orphans_cpu(root: psutil.Process, cpu: dict[int, float]) -> None:
    """Update ``cpu`` (pid -> user + system seconds) for the session's processes outside the root's tree."""
    try:
        tree = {p.pid for p in [root, *root.children(recursive=True)]}
    except psutil.Error:
        return
    for proc in session_of(root.pid):
        if proc.pid not in tree:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                cpu[proc.pid] = times.user + times.system + times.children_user + times.children_system


def tree_rss(root: psutil.Process) -> tuple[int, int]:
    """RSS of a process, its descendants and every other process of its session (shared pages count once per
    process), and the largest RSS of one process among them."""
    sizes = []
    try:
        family = {root, *root.children(recursive=True), *session_of(root.pid)}
    except psutil.Error:
        return 0, 0
    for proc in family:
        with contextlib.suppress(psutil.Error):
            sizes.append(proc.memory_info().rss)
    return sum(sizes), max(sizes, default=0)


def session_of(pid: int) -> list[psutil.Process]:
    """The processes of the session that ``pid`` leads (re-parented ones too)."""
    try:
        sid = os.getsid(pid)
    except OSError:
        return []
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if os.getsid(proc.pid) == sid:
                found.append(proc)
    return found


@dataclass(frozen=True)
class RunSteps:
    run_id: str
    status: str
    steps: dict[str, float]  # step key -> seconds
    spans: dict[str, tuple[float, float]]  # step key -> (start, end) as time.time()
    ingest_split: dict[str, float]  # read_seconds, validate_seconds, load_seconds when the asset exposes them


SPLIT_KEYS = ("read_seconds", "validate_seconds", "load_seconds")


def latest_run_steps(dagster_home: Path) -> RunSteps:
    """Per-step durations of the latest run in the instance at `dagster_home`."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        spans = {s.step_key: (s.start_time or 0.0, s.end_time or 0.0) for s in instance.get_run_step_stats(run.run_id)}
        split = _ingest_split(instance, run.run_id)
    steps = {k: end - start for k, (start, end) in spans.items()}
    return RunSteps(run.run_id, run.status.value, steps, spans, split)


def _ingest_split(instance, run_id: str) -> dict[str, float]:
    """The ingest asset's read/validate/load seconds. One value repeated on every table's materialization
    is taken once; different values (per table) are summed."""
    import dagster as dg

    values: dict[str, list[float]] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        if entry.step_key != "ingest_drop":
            continue
        metadata = entry.asset_materialization.metadata
        for key in SPLIT_KEYS:
            if key in metadata:
                values.setdefault(key, []).append(float(metadata[key].value))
    return {k: (v[0] if len(set(v)) == 1 else sum(v)) for k, v in values.items()}


def machine() -> str:
    """CPU model, cores, RAM, Python and OS in one line."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = f"{psutil.cpu_count(logical=False)} cores / {psutil.cpu_count()} threads"
    if hasattr(os, "sched_getaffinity"):
        cores += f" ({len(os.sched_getaffinity(0))} usable)"
    ram = psutil.virtual_memory().total / 2**30
    return (
        f"{model}, {cores}, {ram:.1f} GiB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} ({platform.machine()})"
    )


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    names = ("dagster", "duckdb", "pandas", "numpy", "linearmodels", "pyarrow")
    found = []
    for name in names:
        with contextlib.suppress(PackageNotFoundError):
            found.append(f"{name} {version(name)}")
    return ", ".join(found)
