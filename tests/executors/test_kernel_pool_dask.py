"""Pre-started kernels on Dask: each worker keeps its own pool (KernelPoolPlugin) and a step
takes its kernel from the worker it runs on."""
from __future__ import annotations

import json

import pytest

# idle_pids runs on the worker: it lives in an importable module (this file is imported by
# path under --import-mode=importlib, so a worker could not import a function of it)
from executor_helpers import idle_pids, process_alive, wait_for

distributed = pytest.importorskip("distributed")

PROBE = ("import os, json\n"
         "json.dump({'pid': os.getpid(), 'parent': os.getppid(),\n"
         "           'marker': os.environ.get('MLPROD_STEP_RUN')}, open('probe.json', 'w'))")


def test_a_dask_worker_hands_its_step_a_pre_started_kernel(tmp_path, make_step, open_project):
    make_step(tmp_path, "probe", PROBE)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1",
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        project = open_project(tmp_path, executor="dask", dask_address=cluster.scheduler_address,
                               parallelism=1, prestart_kernels=1)
        assert project.start_run(wait=True)["status"] == "succeeded"  # registers the plugin
        [worker] = client.scheduler_info()["workers"]
        worker_pid = client.run(lambda: __import__("os").getpid())[worker]

        def idle() -> list:
            return client.run(idle_pids)[worker] or []

        assert wait_for(lambda: len(idle()) == 1, 30), "the worker's pool did not fill"
        [waiting] = idle()
        run = project.start_run(wait=True, force=True)
        assert run["status"] == "succeeded", run
        probe = json.loads((tmp_path / "probe.json").read_text())
        assert probe["pid"] == waiting and probe["parent"] == worker_pid
        assert probe["marker"] == f"{run['id']}:probe"
        assert wait_for(lambda: not process_alive(waiting), 5)
        assert wait_for(lambda: len(idle()) == 1 and idle() != [waiting], 30)  # refilled
        spare = idle()
        project.close()
    # the worker is gone, and its pool's kernels with it
    assert wait_for(lambda: not any(process_alive(pid) for pid in spare), 10), spare
