"""`kill -9` of `mlprod run`: nothing it started outlives it (forkserver, pool workers, kernels),
no step output is written afterwards, and reads show the run failed at once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil

from cli_helpers import cli_env, mlprod, mlprod_json, statuses

STEP = ["import os, time\nopen('started.txt', 'w').write(str(os.getpid()))",
        "while os.path.exists('hold'): time.sleep(0.05)\nopen('late.txt', 'w').write('late')"]


def wait_until(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_kill_9_of_mlprod_run_leaves_nothing_running_and_the_run_failed(tmp_path, make_step):
    root = tmp_path / "crash"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "crash"\n')
    make_step(root, "slow", STEP, outputs=["late.txt"])
    (root / "hold").write_text("")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_mlprod.cli", "run"], cwd=root,
                            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    descendants: list[psutil.Process] = []
    try:
        wait_until(lambda: (root / "started.txt").exists(), 120, "the step's kernel to start")
        kernel_pid = int(wait_until(lambda: (root / "started.txt").read_text(), 10, "its pid"))
        descendants = psutil.Process(proc.pid).children(recursive=True)
        # forkserver, pool worker(s), the kernel: all recorded before the kill
        assert kernel_pid in {p.pid for p in descendants}, descendants
        assert len(descendants) >= 3, descendants
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        wait_until(lambda: not alive(descendants), 15,
                   f"the run's processes to die: {alive(descendants)}")
        (root / "hold").unlink()           # a surviving kernel would now write its output
        time.sleep(0.5)
        assert not (root / "late.txt").exists()

        # the owner is gone: every read says so at once, before any new run or scheduler
        run = mlprod_json("show", "1", cwd=root)
        assert run["status"] == "failed" and statuses(run) == {"slow": "skipped"}
        assert "stopped without finishing it" in run["error"]
        listed = mlprod("runs", cwd=root)
        assert listed.returncode == 0 and "running" not in listed.stdout, listed.stdout
    finally:
        for process in [psutil.Process(proc.pid)] if proc.poll() is None else []:
            process.kill()
        for process in alive(descendants):
            process.kill()


SERVE = """
import sys, time
from pathlib import Path
from jupyter_mlprod.project import Project
project = Project(Path(sys.argv[1]))
project.endpoints.create("echo", notebook="echo.ipynb")
server = project.endpoints.serve(["echo"], workers=2, poll_interval=0.2)
print(server.pid, flush=True)
time.sleep(600)
"""


def test_kill_9_of_the_process_that_started_a_server_stops_the_server(tmp_path):
    # The server runs in its own session (so Ctrl-C in a notebook does not reach it), but it
    # must not outlive the JupyterLab, kernel or node that started it.
    root = tmp_path / "served"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "served"\n')
    (root / "echo.ipynb").write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {"tags": ["mlprod-score"]}, "source":
             "response = {'echo': request}", "outputs": [], "execution_count": None}]}))
    starter = subprocess.Popen([sys.executable, "-c", SERVE, str(root)], env=cli_env(),
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    server: list[psutil.Process] = []
    try:
        server_pid = int(starter.stdout.readline())
        supervisor = psutil.Process(server_pid)
        server = [supervisor] + supervisor.children(recursive=True)
        assert len(server) >= 3, server            # the supervisor and its two workers
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(10)
        wait_until(lambda: not alive(server), 30, f"the server to stop: {alive(server)}")
    finally:
        if starter.poll() is None:
            starter.kill()
        for process in alive(server):
            process.kill()
