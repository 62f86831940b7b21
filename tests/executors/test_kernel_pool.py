"""Pre-started kernels (kernel_pool.py) with real kernels: every step still gets a kernel no
step used, the pool refills, it can be turned off, timeouts and cancel kill a pooled kernel,
a `kill -9` of the process holding the pool leaves no kernel, and `preload` imports ahead."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import psutil

from executor_helpers import RECORD_PID, live_kernels, process_alive, step_of, wait_for

# What a step sees of its kernel: pid, whether a global of an earlier step is there, its
# environment's step marker, its working folder, and whether the preload module was imported before the step imported anything.
PROBE = ("import os, sys, json\n"
         "json.dump({'pid': os.getpid(), 'leftover': 'left_by_a_step' in globals(),\n"
         "           'marker': os.environ.get('MLPROD_STEP_RUN'), 'cwd': os.getcwd(),\n"
         "           'preloaded': 'warm_module' in sys.modules},\n"
         "          open('{name}.probe.json', 'w'))\n"
         "left_by_a_step = 1")


def _chain(root, make_step, names):
    for i, name in enumerate(names):
        make_step(root, name, PROBE.replace("{name}", name), after=[names[i - 1]] if i else [])


def _probe(root, name) -> dict:
    return json.loads((root / f"{name}.probe.json").read_text())


def _first_count(project, run_id, name) -> int:
    """The execution count the output notebook shows for the step's first cell: 1 unless
    code ran in the kernel with history before the step."""
    cells = json.loads(project.output_notebook(run_id, name)[1])["cells"]
    return next(c for c in cells if c["cell_type"] == "code")["execution_count"]


def _pool(project):
    return project.runs.executor.kernels


def test_each_step_takes_a_pre_started_kernel_no_step_used(tmp_path, make_step, open_project):
    names = ["first", "second", "third"]
    _chain(tmp_path, make_step, names)
    project = open_project(tmp_path, parallelism=1, prestart_kernels=3)
    pool = _pool(project)
    assert project.start_run(wait=True)["status"] == "succeeded"   # the pool fills meanwhile
    assert wait_for(lambda: len(pool.idle_pids()) == 3, 30), "the pool did not fill"
    waiting = set(pool.idle_pids())

    run = project.start_run(wait=True, force=True)
    assert run["status"] == "succeeded", run
    probes = [_probe(tmp_path, name) for name in names]
    pids = [p["pid"] for p in probes]
    assert len(set(pids)) == 3 and set(pids) <= waiting, (pids, waiting)  # pooled, one each
    for name, probe in zip(names, probes):
        assert probe["leftover"] is False                 # nothing of the previous step
        assert probe["marker"] == f"{run['id']}:{name}"   # set when handed out
        assert probe["cwd"] == str(tmp_path)
        assert _first_count(project, run["id"], name) == 1  # set-up code left no trace
        assert probe["preloaded"] is False
    # the steps' kernels are gone; the pool refilled to its size with new kernels
    assert wait_for(lambda: not any(process_alive(pid) for pid in pids), 5)
    assert wait_for(lambda: len(pool.idle_pids()) == 3, 30), pool.idle_pids()
    assert not set(pool.idle_pids()) & set(pids)
    # a step's kernel output still reaches the step's log
    assert "--- attempt 1 of step third" in project.step_log(run["id"], "third")


def test_prestart_kernels_0_starts_each_kernel_in_the_step(tmp_path, make_step, open_project):
    _chain(tmp_path, make_step, ["only"])
    project = open_project(tmp_path, parallelism=1, prestart_kernels=0)
    run = project.start_run(wait=True)
    assert run["status"] == "succeeded", run
    assert _pool(project).started == 0 and _pool(project).spare_pids() == set()
    probe = _probe(tmp_path, "only")
    assert probe["marker"] == f"{run['id']}:only" and _first_count(project, run["id"], "only") == 1
    # started by the pool worker, as before (not by this process)
    assert probe["pid"] not in {p.pid for p in psutil.Process().children()}


def test_timeout_and_cancel_kill_a_pooled_kernel(tmp_path, make_step, open_project):
    make_step(tmp_path, "warm", "pass")
    make_step(tmp_path, "slow", [RECORD_PID.format(name="slow"), "time.sleep(60)"], timeout=3)
    make_step(tmp_path, "long", [RECORD_PID.format(name="long"), "time.sleep(60)"])
    project = open_project(tmp_path, parallelism=1, prestart_kernels=2)
    pool = _pool(project)
    assert project.start_run(wait=True, steps=["warm"])["status"] == "succeeded"
    assert wait_for(lambda: len(pool.idle_pids()) == 2, 30)
    waiting = set(pool.idle_pids())

    slow = step_of(project.start_run(wait=True, steps=["slow"]), "slow")
    assert slow["status"] == "failed" and slow["reason"] == "timed out", slow
    assert slow["error"]["ename"] == "TimeoutError"
    slow_pid = int((tmp_path / "slow.pid").read_text())
    assert slow_pid in waiting
    assert wait_for(lambda: not process_alive(slow_pid), 5), "the timed-out kernel is alive"

    run = project.start_run(wait=False, steps=["long"])
    assert wait_for((tmp_path / "long.pid").exists, 30), "the long step never started"
    long_pid = int(wait_for((tmp_path / "long.pid").read_text, 5))
    project.cancel_run(run["id"])
    done = project.wait_run(run["id"], timeout=30)
    assert done["status"] == "cancelled" and step_of(done, "long")["status"] == "cancelled"
    assert wait_for(lambda: not process_alive(long_pid), 5), "the cancelled kernel is alive"
    assert wait_for(lambda: live_kernels(project) == [], 5), live_kernels(project)


def test_preload_imports_before_the_step_runs(tmp_path, make_step, open_project):
    (tmp_path / "warm_module.py").write_text("VALUE = 42\n")
    _chain(tmp_path, make_step, ["uses"])
    project = open_project(tmp_path, parallelism=1, prestart_kernels=1, preload=["warm_module"])
    assert project.start_run(wait=True)["status"] == "succeeded"  # cold: nothing pooled yet
    assert _probe(tmp_path, "uses")["preloaded"] is False
    assert wait_for(lambda: len(_pool(project).idle_pids()) == 1, 30)
    run = project.start_run(wait=True, force=True)
    assert run["status"] == "succeeded", run
    probe = _probe(tmp_path, "uses")
    assert probe["preloaded"] is True and probe["leftover"] is False
    assert _first_count(project, run["id"], "uses") == 1


def test_kill_9_of_the_process_holding_the_pool_leaves_no_kernel(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from jupyter_mlprod.pipelines.executors.kernel_pool import KernelPool
        pool = KernelPool(2, cwd=sys.argv[1])
        pool.warm("python3")
        while len(pool.idle_pids()) < 2:
            time.sleep(0.05)
        print(*pool.idle_pids(), flush=True)
        time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    try:
        pids = [int(pid) for pid in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(process_alive(pid) for pid in pids)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert wait_for(lambda: not any(process_alive(pid) for pid in pids), 5), pids
