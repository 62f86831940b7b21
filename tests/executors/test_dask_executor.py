"""The Dask executor on a real LocalCluster (2 worker processes on this machine)."""
from __future__ import annotations

import json
import socket

import pytest

from executor_helpers import RECORD_PID, live_kernels, process_alive, statuses, step_of, wait_for
from jupyter_mlprod.errors import Unavailable
from jupyter_mlprod.pipelines.executors import create_executor
from jupyter_mlprod.settings import Settings

distributed = pytest.importorskip("distributed")

OUTPUTS = ["data/applications.csv", "models/model.joblib", "data/test_split.csv",
           "reports/metrics.json", "data/scored.csv"]


@pytest.fixture(scope="module")
def cluster():
    # dashboard_address=None drops the dashboard but the scheduler's HTTP server (/health,
    # /metrics) still binds 8787 unless given a port: take a free one, so parallel sessions
    # do not collide.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1",
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as local:
        yield local


@pytest.fixture
def dask_project(open_project, cluster):
    def _open(root, **overrides):
        overrides.setdefault("parallelism", 2)
        return open_project(root, executor="dask", dask_address=cluster.scheduler_address,
                            **overrides)
    return _open


def test_the_example_pipeline_runs_on_the_cluster(example_project, dask_project, cluster):
    project = dask_project(example_project)
    run = project.start_run(wait=True, parameters={"n_rows": 400})
    assert run["status"] == "succeeded", run
    assert statuses(run) == {name: "succeeded" for name in
                             ("prepare", "train", "evaluate", "batch_score")}
    for rel in OUTPUTS:
        assert (example_project / rel).is_file(), rel
    metrics = json.loads((example_project / "reports/metrics.json").read_text())
    assert 0.5 < metrics["accuracy"] <= 1
    run_dir = example_project / ".mlprod" / "runs" / str(run["id"])
    for step in run["steps"]:
        assert step["has_output"] and step["attempt"] == 1
        assert step["cell"]["count"] and step["cell"]["index"] == step["cell"]["count"] - 1
        executed = json.loads((run_dir / f"{step['step']}.ipynb").read_text())
        assert not executed["metadata"]["papermill"].get("exception")
        assert all(c["execution_count"] for c in executed["cells"] if c["cell_type"] == "code")
        assert (run_dir / f"{step['step']}.log").is_file()
    prepared = json.loads(project.output_notebook(run["id"], "prepare")[1])
    assert any("n_rows = 400" in "".join(c["source"]) for c in prepared["cells"])
    # each step ran once, in a Dask worker process (the claim file names it)
    worker_pids = {ws.pid for ws in cluster.scheduler.workers.values()}
    for step in run["steps"]:
        [claim] = run_dir.glob(f".{step['step']}.attempt-1.*.claim")
        assert int(claim.read_text().strip().rpartition(":")[2]) in worker_pids, claim
    # a second run finds everything up to date and starts nothing on the cluster
    again = project.start_run(wait=True, parameters={"n_rows": 400})
    assert set(statuses(again).values()) == {"up_to_date"}


def test_a_failing_step_reports_cell_ename_and_evalue(tmp_path, make_step, dask_project):
    make_step(tmp_path, "ok", "open('ok.txt', 'w').write('ok')", outputs=["ok.txt"])
    make_step(tmp_path, "bad", ["x = 1", "raise KeyError('no column income')"], inputs=["ok.txt"],
              outputs=["bad.txt"], parameters="limit = 3")
    make_step(tmp_path, "later", "pass", inputs=["bad.txt"])
    project = dask_project(tmp_path)
    run = project.start_run(wait=True)
    assert run["status"] == "failed" and run["error"] == "step bad failed"
    assert statuses(run) == {"ok": "succeeded", "bad": "failed", "later": "skipped"}
    # index 2 in the user's notebook: parameters cell, x = 1, then the raise
    assert step_of(run, "bad")["error"] == {"cell_index": 2, "execution_count": 3,
                                            "cell_source": "raise KeyError('no column income')",
                                            "ename": "KeyError", "evalue": "'no column income'"}
    assert "KeyError" in project.step_log(run["id"], "bad")


def test_cancel_reaches_the_kernel_on_the_worker(tmp_path, make_step, dask_project):
    make_step(tmp_path, "long", [RECORD_PID.format(name="long"), "time.sleep(60)"],
              outputs=["long.txt"])
    make_step(tmp_path, "next", "pass", inputs=["long.txt"])
    project = dask_project(tmp_path)
    run = project.start_run(wait=False)
    pid_file = tmp_path / "long.pid"
    assert wait_for(pid_file.exists, 30), "the long step never started"
    kernel_pid = int(wait_for(pid_file.read_text, 5))
    assert kernel_pid in {p.pid for p in live_kernels()}  # a kernel below a Dask worker
    project.cancel_run(run["id"])
    done = project.wait_run(run["id"], timeout=30)
    assert done["status"] == "cancelled", done
    assert statuses(done) == {"long": "cancelled", "next": "cancelled"}
    assert wait_for(lambda: not process_alive(kernel_pid), 5)


def test_a_dying_worker_does_not_rerun_the_notebook_behind_our_back(tmp_path, make_step,
                                                                    dask_project, cluster):
    """Dask reschedules a task whose worker died (up to allowed-failures = 3 times), whatever
    `retries=` says; the executor turns that into one failed attempt and our retries decide."""
    count = ("from pathlib import Path\ncounter = Path('executions.txt')\n"
             "n = int(counter.read_text()) + 1 if counter.exists() else 1\ncounter.write_text(str(n))")
    kill_worker = "import os, signal\nif n == 1:\n    os.kill(os.getppid(), signal.SIGKILL)"
    make_step(tmp_path, "fragile", [count, kill_worker, "open('fragile.txt', 'w').write(str(n))"],
              outputs=["fragile.txt"], retries=1)
    project = dask_project(tmp_path)
    run = project.start_run(wait=False)
    done = project.wait_run(run["id"], timeout=90)
    fragile = step_of(done, "fragile")
    assert done["status"] == "succeeded", done
    assert fragile["status"] == "succeeded" and fragile["attempt"] == 2
    assert (tmp_path / "executions.txt").read_text() == "2"  # not 1 + 3 reschedules
    log = project.step_log(run["id"], "fragile")
    assert "attempt 1: WorkerDied" in log and "--- attempt 2 of step fragile" in log
    cluster.wait_for_workers(2, timeout=30)  # the nanny restarts the dead worker


def test_an_unreachable_scheduler_fails_the_run_naming_dask_address(tmp_path, make_step,
                                                                    open_project):
    make_step(tmp_path, "a", "pass")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with socket.socket() as silent:  # accepts TCP connections but never speaks Dask
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        for address in (f"tcp://127.0.0.1:{closed_port}", f"tcp://127.0.0.1:{silent.getsockname()[1]}"):
            project = open_project(tmp_path, executor="dask", dask_address=address)
            run = project.start_run(wait=False)
            done = project.wait_run(run["id"], timeout=30)  # it gives up rather than hang
            assert done["status"] == "failed", (address, done)
            assert "dask_address" in done["error"] and address in done["error"]
            assert "internal error" not in done["error"]
            project.close()


def test_an_empty_address_is_a_clear_error(tmp_path):
    settings = Settings.load(tmp_path, {"executor": "dask"}, environ={})
    with pytest.raises(Unavailable) as info:
        create_executor("dask", settings).submit(None)
    assert info.value.field == "dask_address" and "MLPROD_DASK_ADDRESS" in info.value.message
