"""Metrics and checks in real runs (papermill, real kernels, SQLite)."""
from __future__ import annotations

import pytest

from monitoring_helpers import set_step_meta
from jupyter_mlprod.errors import InvalidInput

PREPARE = """
import os
os.makedirs('data', exist_ok=True)
rows = ['id,income,city'] + [f"{i},{'' if i % 10 == 0 else i * 100},c{i % 3}" for i in range(n)]
open('data/applications.csv', 'w').write('\\n'.join(rows) + '\\n')
open('data/notes.txt', 'w').write('hello')
"""


def _by_name(metrics):
    return {m["name"]: m for m in metrics}


def _statuses(run):
    return {s["step"]: s["status"] for s in run["steps"]}


def test_logged_metrics_and_probes_are_recorded_and_checks_judge_them(tmp_path, make_step,
                                                                       open_project):
    make_step(tmp_path, "prepare", PREPARE, parameters="n = 50",
              outputs=["data/applications.csv", "data/notes.txt"])
    set_step_meta(tmp_path / "prepare.ipynb", checks=[
        {"metric": "data/applications.csv:rows", "min": 10},
        {"metric": "data/applications.csv:income:nulls", "warn_above": 0}])
    evaluate = make_step(tmp_path, "evaluate", [
        "import jupyter_mlprod as mlprod",
        "mlprod.log_metric('roc_auc', 0.83)",
        "mlprod.log_metrics({'f1': 0.7, 'rows_scored': 50})"], inputs=["data/applications.csv"])
    set_step_meta(evaluate, checks=[{"metric": "roc_auc", "min": 0.8, "warn_below": 0.85},
                                    {"metric": "f1", "min": 0.5},
                                    {"metric": "precision", "min": 0.5}])
    project = open_project(tmp_path)
    run = project.start_run(wait=True)
    assert run["status"] == "succeeded", run
    metrics = _by_name(project.metrics.run_metrics(run["id"], "evaluate")["metrics"])
    assert {n: m["value"] for n, m in metrics.items()} == {"roc_auc": 0.83, "f1": 0.7,
                                                            "rows_scored": 50.0}
    assert {m["source"] for m in metrics.values()} == {"logged"}
    probes = _by_name(project.metrics.run_metrics(run["id"], "prepare")["metrics"])
    assert probes["data/applications.csv:rows"]["value"] == 50
    assert probes["data/applications.csv:columns"]["value"] == 3
    assert probes["data/applications.csv:income:nulls"]["value"] == 5
    assert probes["data/applications.csv:income:min"]["value"] == 100
    assert probes["data/applications.csv:income:max"]["value"] == 4900
    assert probes["data/applications.csv:city:distinct"]["value"] == 3
    assert "data/applications.csv:city:mean" not in probes  # text column: no numbers
    assert probes["data/notes.txt:size"]["value"] == 5
    assert "data/notes.txt:rows" not in probes
    checks = project.metrics.run_checks(run["id"])
    outcomes = {(c["step"], c["metric"]): (c["outcome"], c["value"]) for c in checks["checks"]}
    assert outcomes == {
        ("prepare", "data/applications.csv:rows"): ("OK", 50.0),
        ("prepare", "data/applications.csv:income:nulls"): ("WARNING", 5.0),
        ("evaluate", "roc_auc"): ("WARNING", 0.83),
        ("evaluate", "f1"): ("OK", 0.7),
        ("evaluate", "precision"): ("EMPTY", None)}
    assert checks["outcome"] == "WARNING"
    warning = next(c for c in checks["checks"] if c["metric"] == "roc_auc")
    assert "0.83" in warning["message"] and "warn_below 0.85" in warning["message"]
    # the DAG view carries each step's latest check outcome (the panel's badges)
    view = {s["name"]: s for s in project.pipeline_view()["steps"]}
    assert view["evaluate"]["latest_checks"]["outcome"] == "WARNING"
    assert view["evaluate"]["checks"][0] == {"metric": "roc_auc", "min": 0.8, "warn_below": 0.85}


def test_an_error_check_fails_the_step_and_skips_downstream_with_the_reason(
        tmp_path, make_step, open_project):
    make_step(tmp_path, "prepare", PREPARE, parameters="n = 5",
              outputs=["data/applications.csv", "data/notes.txt"])
    set_step_meta(tmp_path / "prepare.ipynb",
                  checks=[{"metric": "data/applications.csv:rows", "min": 1000}])
    make_step(tmp_path, "train", "open('model.txt', 'w').write('m')",
              inputs=["data/applications.csv"], outputs=["model.txt"])
    project = open_project(tmp_path)
    run = project.start_run(wait=True)
    assert run["status"] == "failed" and run["error"] == "step prepare failed"
    assert _statuses(run) == {"prepare": "failed", "train": "skipped"}
    prepare, train = run["steps"]
    assert prepare["error"]["ename"] == "CheckFailed"
    assert "data/applications.csv:rows = 5 is below the minimum (min 1000)" in prepare["reason"]
    assert train["reason"].startswith("upstream step prepare failed its checks (check failed:")
    assert not (tmp_path / "model.txt").exists()
    # the failing step's metrics are still recorded
    rows = _by_name(project.metrics.run_metrics(run["id"])["metrics"])
    assert rows["data/applications.csv:rows"]["value"] == 5


def test_max_drop_compares_with_the_last_successful_run(tmp_path, make_step, open_project):
    path = make_step(tmp_path, "evaluate", ["import jupyter_mlprod as mlprod",
                                            "mlprod.log_metric('roc_auc', auc)"],
                     parameters="auc = 0.9")
    set_step_meta(path, checks=[{"metric": "roc_auc", "max_drop": 0.02}])
    project = open_project(tmp_path)
    first = project.start_run(wait=True)
    assert first["status"] == "succeeded"
    [check] = project.metrics.run_checks(first["id"])["checks"]
    assert check["outcome"] == "EMPTY" and "no earlier successful run" in check["message"]
    second = project.start_run(wait=True, parameters={"auc": 0.89}, force=True)
    assert second["status"] == "succeeded"
    assert project.metrics.run_checks(second["id"])["checks"][0]["outcome"] == "OK"
    third = project.start_run(wait=True, parameters={"auc": 0.85}, force=True)
    assert third["status"] == "failed"
    [check] = project.metrics.run_checks(third["id"])["checks"]
    assert check["outcome"] == "ERROR"
    assert f"below 0.89 of run {second['id']}" in check["message"]
    # the failed run is not the baseline: 0.88 is compared with 0.89 again
    fourth = project.start_run(wait=True, parameters={"auc": 0.88}, force=True)
    assert fourth["status"] == "succeeded", fourth
    history = project.metrics.history("evaluate", "roc_auc")
    [series] = history["series"]
    assert [p["value"] for p in series["points"]] == [0.9, 0.89, 0.85, 0.88]
    assert series["points"][2]["step_status"] == "failed"
    assert series["points"][1]["parameters"] == {"auc": 0.89}


@pytest.mark.parametrize("call, message", [
    ("mlprod.log_metric('auc', float('nan'))", "must be a finite number"),
    ("mlprod.log_metric('', 0.5)", "non-empty"),
    ("mlprod.log_metric('x' * 300, 0.5)", "the limit is 200"),
    ("mlprod.log_metrics({'auc': 'high'})", "must be a number"),
])
def test_a_bad_metric_fails_the_step_naming_the_cell(tmp_path, make_step, open_project, call,
                                                     message):
    make_step(tmp_path, "evaluate", ["import jupyter_mlprod as mlprod", call])
    project = open_project(tmp_path)
    run = project.start_run(wait=True)
    [step] = run["steps"]
    assert step["status"] == "failed"
    assert step["error"]["cell_index"] == 1 and step["error"]["ename"] == "InvalidInput"
    assert message in step["error"]["evalue"]


def test_probes_read_parquet_follow_the_step_settings_and_never_crash_on_bad_tables(
        tmp_path, make_step, open_project):
    code = """
import os
import pandas as pd
os.makedirs('data', exist_ok=True)
pd.DataFrame({'income': [1.0, None, 3.0], 'city': ['a', 'b', None]}).to_parquet('data/t.parquet')
open('data/broken.parquet', 'w').write('not parquet at all')
"""
    path = make_step(tmp_path, "prepare", code, outputs=["data/t.parquet", "data/broken.parquet"])
    set_step_meta(path, probes={"columns": ["income"]},
                  checks=[{"metric": "data/broken.parquet:rows", "min": 1}])
    make_step(tmp_path, "quiet", "open('q.csv', 'w').write('a\\n1\\n')", outputs=["q.csv"])
    set_step_meta(tmp_path / "quiet.ipynb", probes=False)
    project = open_project(tmp_path)
    run = project.start_run(wait=True)
    assert run["status"] == "succeeded", run
    metrics = _by_name(project.metrics.run_metrics(run["id"], "prepare")["metrics"])
    assert metrics["data/t.parquet:rows"]["value"] == 3
    assert metrics["data/t.parquet:columns"]["value"] == 2
    assert metrics["data/t.parquet:income:nulls"]["value"] == 1
    assert metrics["data/t.parquet:income:mean"]["value"] == 2.0
    assert not any(":city:" in name for name in metrics)   # only the configured columns
    broken = metrics["data/broken.parquet:rows"]
    assert broken["value"] is None and broken["note"].startswith("cannot read the table")
    [check] = project.metrics.run_checks(run["id"])["checks"]
    assert check["outcome"] == "EMPTY" and "cannot read the table" in check["message"]
    assert project.metrics.run_metrics(run["id"], "quiet")["metrics"] == []


@pytest.mark.parametrize("checks, field", [
    ([{"metric": "auc", "minimum": 0.8}], "step.checks[0].minimum"),
    ([{"metric": "auc", "min": "high"}], "step.checks[0].min"),
    ([{"metric": "auc"}], "step.checks[0]"),
    ([{"min": 1}], "step.checks[0].metric"),
    ("auc > 0.8", "step.checks"),
])
def test_tagging_refuses_bad_checks_naming_the_field(tmp_path, make_step, open_project, checks,
                                                     field):
    make_step(tmp_path, "evaluate", "pass")
    project = open_project(tmp_path)
    with pytest.raises(InvalidInput) as caught:
        project.tag_step("evaluate.ipynb", {"step": "evaluate", "checks": checks})
    assert caught.value.field == field
    saved = project.tag_step("evaluate.ipynb", {"step": "evaluate", "checks": [
        {"metric": "auc", "min": 0.8}], "probes": False})
    assert saved["step"]["checks"] == [{"metric": "auc", "min": 0.8}]
    assert saved["step"]["probes"] is False


def test_outside_a_kernel_log_metric_shows_the_value_and_records_nothing(capsys):
    import jupyter_mlprod as mlprod

    mlprod.log_metric("roc_auc", 0.91)
    assert capsys.readouterr().out == "metric roc_auc = 0.91\n"


def test_a_loop_logging_1000_metrics_records_them_all_as_one_output(tmp_path, make_step,
                                                                    open_project):
    make_step(tmp_path, "evaluate", [
        "import jupyter_mlprod as mlprod\nfor i in range(1000):\n    mlprod.log_metric(f'm{i}', i)\n"
        "mlprod.log_metric('m0', -1)", "print('after')"])
    project = open_project(tmp_path)
    run = project.start_run(wait=True)
    assert run["status"] == "succeeded", run
    metrics = project.metrics.run_metrics(run["id"])["metrics"]
    assert len(metrics) == 1000
    assert _by_name(metrics)["m0"]["value"] == -1 and _by_name(metrics)["m999"]["value"] == 999
    import json

    executed = json.loads((tmp_path / ".mlprod/runs" / str(run["id"]) / "evaluate.ipynb").read_text())
    loop = [c for c in executed["cells"] if "range(1000)" in "".join(c["source"])][0]
    assert len(loop["outputs"]) == 1   # one display for the whole cell, in that cell
