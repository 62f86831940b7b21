"""Metrics and checks through the REST API, every reply validated against the contract."""
from __future__ import annotations

import pytest


async def test_metrics_checks_and_history_of_the_example_pipeline(api):
    reply = await api.post("/runs", json_body={"parameters": {"n_rows": 300}})
    assert reply.status == 202, reply.body
    run = await api.wait_run(reply.body["id"])
    assert run["status"] == "succeeded", run

    metrics = (await api.get("/runs/{id}/metrics", id=run["id"])).body
    names = {(m["step"], m["name"]): m for m in metrics["metrics"]}
    assert names[("evaluate", "roc_auc")]["source"] == "logged"
    assert 0.7 <= names[("evaluate", "roc_auc")]["value"] <= 1
    assert names[("prepare", "data/applications.csv:rows")]["value"] == 300
    assert names[("prepare", "data/applications.csv:income:nulls")]["value"] == 0
    only = (await api.get("/runs/{id}/metrics", id=run["id"], params={"step": "evaluate"})).body
    assert {m["step"] for m in only["metrics"]} == {"evaluate"}

    checks = (await api.get("/runs/{id}/checks", id=run["id"])).body
    assert [(c["step"], c["metric"]) for c in checks["checks"]] == [
        ("prepare", "data/applications.csv:rows"), ("prepare", "data/applications.csv:income:nulls"),
        ("evaluate", "roc_auc"), ("evaluate", "roc_auc")]
    assert checks["outcome"] in ("OK", "WARNING", "EMPTY")

    history = (await api.get("/steps/{step}/metrics", step="evaluate",
                             params={"metric": "roc_auc", "last": "5"})).body
    [series] = history["series"]
    assert series["metric"] == "roc_auc" and series["source"] == "logged"
    assert [p["run_id"] for p in series["points"]] == [run["id"]]
    assert series["points"][0]["parameters"] == {"n_rows": 300}

    pipeline = (await api.get("/pipeline")).body
    evaluate = next(s for s in pipeline["steps"] if s["name"] == "evaluate")
    assert evaluate["latest_checks"]["run_id"] == run["id"]
    assert evaluate["checks"][0] == {"metric": "roc_auc", "min": 0.7, "warn_below": 0.85}


@pytest.mark.parametrize("route, values, params, status, field", [
    ("/runs/{id}/metrics", {"id": 999}, None, 404, "run"),
    ("/runs/{id}/metrics", {"id": "abc"}, None, 400, "run"),
    ("/runs/{id}/checks", {"id": 999}, None, 404, "run"),
    ("/steps/{step}/metrics", {"step": "evaluate"}, {"last": "0"}, 400, "last"),
    ("/steps/{step}/metrics", {"step": "evaluate"}, {"last": "many"}, 400, "last"),
    ("/steps/{step}/metrics", {"step": "no way"}, None, 400, "step"),
])
async def test_bad_metric_requests_are_4xx_naming_the_field(api, route, values, params, status,
                                                           field):
    reply = await api.get(route, params=params, **values)
    assert reply.status == status
    assert reply.error["field"] == field


async def test_tagging_a_step_with_a_bad_check_is_refused_naming_the_field(api):
    reply = await api.put("/notebooks/step", params={"path": "evaluate.ipynb"}, json_body={
        "step": "evaluate", "inputs": ["models/model.joblib", "data/test_split.csv"],
        "checks": [{"metric": "roc_auc", "min": "high"}]})
    assert reply.status == 400
    assert reply.error["field"] == "step.checks[0].min"
    reply = await api.put("/notebooks/step", params={"path": "evaluate.ipynb"}, json_body={
        "step": "evaluate", "inputs": ["models/model.joblib", "data/test_split.csv"],
        "outputs": ["reports/metrics.json"], "checks": [{"metric": "roc_auc", "min": 0.75}],
        "probes": {"columns": ["income"]}})
    assert reply.status == 200, reply.body
    assert reply.body["step"]["checks"] == [{"metric": "roc_auc", "min": 0.75}]
    assert reply.body["step"]["probes"] == {"columns": ["income"]}
