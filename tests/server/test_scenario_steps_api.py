"""Scenario steps through the REST API (real Jupyter server with its embedded scheduler, every
response validated against openapi.yaml): bad steps refused at save time naming the field,
the example's retrain scenario accepted, a scenario run read with its steps, and approvals:
403 for a user not among the approvers, 409 for a run not waiting, a rejection that ends the
run as `rejected`."""
from __future__ import annotations

import asyncio

import pytest
import yaml

MANUAL = [{"type": "manual"}]
RUN = {"kind": "run", "steps": ["prepare", "train", "evaluate"]}


def spec(name: str, steps: list) -> dict:
    return {"name": name, "triggers": MANUAL, "steps": steps}


async def until(api, fire_id: int, statuses, timeout: float = 30) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        reply = await api.get("/scenarios/fires/{id}", id=fire_id)
        if reply.body["status"] in statuses:
            return reply.body
        assert loop.time() < deadline, reply.body
        await asyncio.sleep(0.2)


BAD = [
    ("unknown kind", [RUN, {"kind": "retrain"}], "steps[1].kind", "unknown_kind"),
    ("compare with an unregistered node",
     [RUN, {"kind": "compare", "target": {"node": "nowhere"}, "metrics": {"rmse": {}}}],
     "steps[1].target.node", "unknown_node"),
    ("compare on a metric no step records",
     [RUN, {"kind": "compare", "target": {"endpoint": "score"}, "metrics": {"rmse": {}}}],
     "steps[1].metrics.rmse", "unknown_metric"),
    ("threshold of the wrong type",
     [RUN, {"kind": "compare", "target": {"endpoint": "score"},
            "metrics": {"roc_auc": {"min_absolute_change": "0.01"}}}],
     "steps[1].metrics.roc_auc.min_absolute_change", "invalid"),
    ("endpoint step naming an unknown endpoint",
     [RUN, {"kind": "bundle"}, {"kind": "endpoint", "endpoint": "scoring"}],
     "steps[2].endpoint", "unknown_endpoint"),
    ("deploy without a bundle before it", [RUN, {"kind": "deploy", "target": {"folder": "/tmp"}}],
     "steps[1].kind", "no_bundle"),
    ("deploy into an environment mode that does not exist",
     [RUN, {"kind": "bundle"}, {"kind": "deploy", "target": {"folder": "/tmp"}, "env": "rebuild"}],
     "steps[2].env", "invalid"),
    ("check before any run", [{"kind": "check", "checks": [{"metric": "roc_auc", "min": 0.8}]}],
     "steps[0].checks[0].metric", "unknown_metric"),
    ("unknown placeholder", [RUN, {"kind": "notify", "message": "auc {aucc}"}],
     "steps[1].message", "unknown_placeholder"),
]


@pytest.fixture
def project_root(example_project):
    from jupyter_mlprod.project import Project

    project = Project(example_project)
    project.endpoints.create("score", notebook="score.ipynb")
    project.close()
    return example_project


@pytest.mark.parametrize("what,steps,field,code", BAD, ids=[b[0] for b in BAD])
async def test_bad_steps_are_refused_at_save_time_naming_the_field(api, what, steps, field,
                                                                   code):
    reply = await api.post("/scenarios", json_body=spec("bad", steps))
    assert (reply.status, reply.error["field"], reply.error["code"]) == (400, field, code), \
        reply.body
    listed = await api.get("/scenarios")
    assert listed.body["scenarios"] == []          # nothing stored
    checked = await api.post("/scenarios/validate", json_body=spec("bad", steps))
    assert checked.status == 200 and not checked.body["valid"]
    assert any(e["field"] == field for e in checked.body["errors"])


async def test_the_example_retrain_scenario_is_accepted(api, project_root):
    from jupyter_mlprod.project import Project

    project = Project(project_root)
    project.bundles.register_node("production", "http://127.0.0.1:9", "PROD_NODE_TOKEN")
    project.close()
    example = yaml.safe_load((project_root / "scenarios" / "retrain.yaml").read_text())
    reply = await api.post("/scenarios", json_body=example)
    assert reply.status == 201, reply.body
    assert [s["kind"] for s in reply.body["steps"]] == [
        "run", "check", "compare", "bundle", "approve", "deploy", "endpoint", "notify"]
    assert reply.body["steps"][2]["metrics"]["roc_auc"]["min_absolute_change"] == 0.0


async def test_scenario_run_approvals_refuse_outsiders_and_finished_runs(api):
    assert (await api.get("/scenarios/fires/{id}", id=999)).status == 404
    assert (await api.get("/scenarios/fires/{id}", id="abc")).status == 400
    assert (await api.post("/scenarios/fires/{id}/approval", id=999,
                           json_body={"decision": "approve"})).status == 404
    created = await api.post("/scenarios", json_body=spec("gate", [
        {"kind": "approve", "approvers": ["alice"]}, {"kind": "notify", "message": "go"}]))
    assert created.status == 201, created.body
    queued = await api.post("/scenarios/{id}/trigger", id="gate")
    run = queued.body
    assert queued.status == 202
    assert queued.headers["Location"].endswith(f"/scenarios/fires/{run['id']}")
    assert run["status"] == "pending" and [s["status"] for s in run["steps"]] in ([], [
        "pending", "pending"])
    run = await until(api, run["id"], ("waiting_approval",))
    assert run["steps"][0]["approval"]["approvers"] == ["alice"]
    assert run["steps"][0]["approval"]["deadline"]
    refused = await api.post("/scenarios/fires/{id}/approval", id=run["id"],
                             json_body={"decision": "approve"})
    assert (refused.status, refused.error["code"]) == (403, "not_an_approver")
    bad = await api.post("/scenarios/fires/{id}/approval", id=run["id"],
                         json_body={"decision": "maybe"})
    assert (bad.status, bad.error["field"]) == (400, "decision")
    fires = (await api.get("/scenarios/{id}/fires", id="gate")).body["fires"]
    assert fires[0]["status"] == "waiting_approval"
    assert [s["status"] for s in fires[0]["steps"]] == ["waiting", "pending"]

    open_gate = await api.post("/scenarios", json_body=spec("open", [
        {"kind": "approve"}, {"kind": "notify", "message": "go"}]))
    assert open_gate.status == 201
    edited = await api.put("/scenarios/{id}", id="open", json_body=dict(
        open_gate.body, steps=[{"kind": "approve", "timeout": 600},
                               {"kind": "notify", "message": "go"}]))
    assert edited.status == 200 and edited.body["steps"][0]["timeout"] == 600
    refused = await api.put("/scenarios/{id}", id="open", json_body={"steps": [{"kind": "x"}]})
    assert (refused.status, refused.error["field"]) == (400, "steps[0].kind")
    run = (await api.post("/scenarios/{id}/trigger", id="open")).body
    run = await until(api, run["id"], ("waiting_approval",))
    decided = await api.post("/scenarios/fires/{id}/approval", id=run["id"],
                             json_body={"decision": "reject", "message": "not today"})
    assert decided.status == 200 and decided.body["steps"][0]["approval"]["decision"] == "reject"
    run = await until(api, run["id"], ("rejected",))
    assert [s["status"] for s in run["steps"]] == ["rejected", "skipped"]
    late = await api.post("/scenarios/fires/{id}/approval", id=run["id"],
                          json_body={"decision": "approve"})
    assert (late.status, late.error["code"]) == (409, "not_waiting")
