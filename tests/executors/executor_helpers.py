"""Shared helpers of the executor tests: run views, polling, kernel process checks."""
from __future__ import annotations

import time

import psutil


def statuses(run: dict) -> dict:
    return {s["step"]: s["status"] for s in run["steps"]}


def step_of(run: dict, name: str) -> dict:
    return next(s for s in run["steps"] if s["step"] == name)


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def process_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def live_kernels(project=None) -> list[psutil.Process]:
    """ipykernel processes below this test process (pool workers and Dask workers included),
    except the spare pre-started kernels of `project`'s local executor (no step took them)."""
    spare = set()
    executor = getattr(getattr(project, "runs", None), "_executor", None)
    if getattr(executor, "kernels", None) is not None:
        spare = executor.kernels.spare_pids()
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.pid not in spare and proc.status() != psutil.STATUS_ZOMBIE and \
                    any("ipykernel_launcher" in part for part in proc.cmdline()):
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


# A first cell that records the kernel's pid, so a test can check that the kernel is gone.
RECORD_PID = "import os, time\nopen('{name}.pid', 'w').write(str(os.getpid()))"


def idle_pids():
    """The pids of the idle kernels of this process's (a Dask worker's) kernel pool."""
    from jupyter_mlprod.pipelines.executors.kernel_pool import worker_pool

    pool = worker_pool()
    return pool.idle_pids() if pool is not None else None
