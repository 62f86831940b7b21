"""Metrics from a step run on a Dask LocalCluster: the values travel in the executed notebook,
the run service records them and judges the checks, as with the local pool."""
from __future__ import annotations

import pytest

from monitoring_helpers import set_step_meta

distributed = pytest.importorskip("distributed")


def test_metrics_and_probes_of_a_step_run_on_dask(tmp_path, make_step, open_project):
    path = make_step(tmp_path, "evaluate", [
        "import jupyter_mlprod as mlprod",
        "mlprod.log_metric('roc_auc', 0.79)\nopen('scores.csv', 'w').write('score\\n1\\n2\\n')"],
        outputs=["scores.csv"])
    set_step_meta(path, checks=[{"metric": "roc_auc", "min": 0.8}])
    make_step(tmp_path, "publish", "pass", inputs=["scores.csv"])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1",
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        project = open_project(tmp_path, executor="dask", dask_address=cluster.scheduler_address)
        run = project.start_run(wait=True)
    assert {s["step"]: s["status"] for s in run["steps"]} == {"evaluate": "failed",
                                                              "publish": "skipped"}
    metrics = {m["name"]: m["value"] for m in project.metrics.run_metrics(run["id"])["metrics"]}
    assert metrics["roc_auc"] == 0.79
    assert metrics["scores.csv:rows"] == 2 and metrics["scores.csv:score:max"] == 2
    [check] = project.metrics.run_checks(run["id"])["checks"]
    assert check["outcome"] == "ERROR" and check["value"] == 0.79
