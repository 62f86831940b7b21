"""The audit trail through REST: every state-changing action of the panel's API writes exactly
one event, by the Jupyter user who asked; refused attempts are recorded with their reason;
`GET /audit` filters, `GET /audit/export` gives JSON lines, `GET /audit/verify` checks the chain.
A real Jupyter server with token auth; every reply is checked against openapi.yaml."""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from traitlets.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))
from serving_helpers import write_scoring_notebook  # noqa: E402

STEP = ("import os, time\n"
        "if os.path.exists('slow.flag'):\n"
        "    time.sleep(120)\n"
        "if os.path.exists('fail.flag'):\n"
        "    raise ValueError('asked to fail')\n")


@pytest.fixture
def project_root(tmp_path, make_step) -> Path:
    root = tmp_path / "audited"
    root.mkdir()
    (root / "mlprod.toml").write_text('[project]\nname = "audited"\n')
    make_step(root, "a", STEP)
    make_step(root, "b", "x = 1")
    write_scoring_notebook(root / "score.ipynb", setup=["FACTOR = 2"],
                           sample="request = {'x': 1}", score="response = {'y': request['x'] * FACTOR}")
    return root


class NamedUser(IdentityProvider):
    """Token auth as usual, but one named person (a token-only request is otherwise a new
    anonymous user each time, which a browser session with its cookie is not)."""

    async def get_user(self, handler):
        user = await super().get_user(handler)
        return User(username="ada", name="Ada Lovelace") if user else None


@pytest.fixture
def jp_server_config(mlprod_config) -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_mlprod": True},
                                 "identity_provider_class": NamedUser},
                   "MlprodApp": dict(mlprod_config)})


async def whoami(jp_fetch) -> str:
    reply = await jp_fetch("api", "me")
    return json.loads(reply.body)["identity"]["username"]


async def events(api, **params) -> list[dict]:
    reply = await api.get("/audit", params={"limit": "500", **params})
    assert reply.status == 200, reply.body
    return reply.body["events"]


async def test_every_action_is_one_event_by_the_jupyter_user(api, jp_fetch, project_root):
    user = await whoami(jp_fetch)
    assert await events(api) == []

    # steps: untag then tag again
    assert (await api.delete("/notebooks/step", params={"path": "b.ipynb"})).status == 204
    tagged = await api.put("/notebooks/step", params={"path": "b.ipynb"},
                           json_body={"name": "b", "after": ["a"]})
    assert tagged.status == 200, tagged.body

    # runs: a failed run, resumed; a slow run, cancelled
    (project_root / "fail.flag").write_text("")
    run = (await api.post("/runs", json_body={"steps": ["a"]})).body
    assert (await api.wait_run(run["id"]))["status"] == "failed"
    (project_root / "fail.flag").unlink()
    resumed = await api.post("/runs/{id}/resume", id=run["id"])
    assert resumed.status == 202, resumed.body
    assert (await api.wait_run(resumed.body["id"]))["status"] == "succeeded"
    (project_root / "slow.flag").write_text("")
    slow = (await api.post("/runs", json_body={"steps": ["a"], "force": True})).body
    assert (await api.post("/runs/{id}/cancel", id=slow["id"])).status == 202
    assert (await api.wait_run(slow["id"]))["status"] == "cancelled"
    (project_root / "slow.flag").unlink()

    # scenarios: create, edit, disable, enable, trigger, delete
    spec = {"name": "nightly", "triggers": [{"type": "manual"}], "run": {"steps": ["b"]},
            "reporters": [{"type": "webhook", "url": "https://hooks.example/x?token=s3cret"}]}
    assert (await api.post("/scenarios", json_body=spec)).status == 201
    assert (await api.put("/scenarios/{id}", id="nightly",
                          json_body={"description": "every night"})).status == 200
    assert (await api.post("/scenarios/{id}/disable", id="nightly")).status == 200
    assert (await api.post("/scenarios/{id}/enable", id="nightly")).status == 200
    fired = await api.post("/scenarios/{id}/trigger", id="nightly")
    assert fired.status == 202, fired.body
    await api.wait_run(fired.body["id"])
    assert (await api.delete("/scenarios/{id}", id="nightly")).status == 204

    # nodes
    assert (await api.post("/nodes", json_body={"name": "prod", "url": "http://127.0.0.1:9"})
            ).status == 201
    assert (await api.delete("/nodes/{name}", name="prod")).status == 204

    # endpoints and keys
    created = await api.post("/endpoints", json_body={"name": "doubler"})
    assert created.status == 201, created.body
    for _ in range(2):
        assert (await api.post("/endpoints/{name}/versions", name="doubler",
                               json_body={"notebook": "score.ipynb"})).status == 201
    assert (await api.put("/endpoints/{name}/traffic", name="doubler",
                          json_body={"weights": {"v1": 50, "v2": 50}})).status == 200
    assert (await api.post("/endpoints/{name}/promote", name="doubler",
                           json_body={"version": "v2"})).status == 200
    assert (await api.post("/endpoints/{name}/rollback", name="doubler")).status == 200
    key = await api.post("/endpoints/{name}/keys", name="doubler", json_body={"label": "ci"})
    assert key.status == 201, key.body
    assert (await api.delete("/endpoints/{name}/keys/{id}", name="doubler",
                             id=key.body["key_id"])).status == 200
    assert (await api.delete("/endpoints/{name}", name="doubler")).status == 204

    trail = list(reversed(await events(api)))
    assert {e["actor"] for e in trail} == {user}
    assert all(e["outcome"] == "ok" for e in trail), [e for e in trail if e["outcome"] != "ok"]
    assert Counter(e["action"] for e in trail) == Counter({
        "step.untag": 1, "step.tag": 1, "run.start": 3, "run.resume": 1, "run.cancel": 1,
        "scenario.create": 1, "scenario.edit": 1, "scenario.disable": 1, "scenario.enable": 1,
        "scenario.trigger": 1, "scenario.delete": 1, "node.register": 1, "node.remove": 1,
        "endpoint.create": 1, "endpoint.version": 2, "endpoint.traffic": 2,  # v1 activated
        "endpoint.promote": 1, "endpoint.rollback": 1, "key.create": 1, "key.revoke": 1,
        "endpoint.delete": 1})
    # run.start x3: the failed run, the slow run and the scenario's run

    by_action = {e["action"]: e for e in trail}
    assert by_action["step.tag"]["object_id"] == "b.ipynb"
    assert by_action["step.tag"]["before"] is None and by_action["step.tag"]["after"]["step"] == "b"
    assert by_action["step.untag"]["before"]["step"] == "b"
    assert by_action["run.resume"]["object_id"] == str(resumed.body["id"])
    assert by_action["run.cancel"]["object_id"] == str(slow["id"])
    assert by_action["scenario.edit"]["before"]["description"] != \
        by_action["scenario.edit"]["after"]["description"] == "every night"
    assert by_action["endpoint.promote"]["after"]["weights"] == {"v2": 100}
    assert by_action["key.create"]["object_id"] == key.body["key_id"]
    text = json.dumps(trail)
    assert "s3cret" not in text and key.body["key"] not in text  # no secret in the trail

    assert (await api.get("/audit/verify")).body == {"ok": True, "checked": len(trail),
                                                     "problems": []}


async def test_refusals_filters_and_export(api, jp_fetch):
    user = await whoami(jp_fetch)
    missing = await api.delete("/scenarios/{id}", id="ghost")
    assert missing.status == 404
    bad = await api.post("/scenarios", json_body={"name": "bad", "triggers": []})
    assert bad.status == 400
    assert (await api.post("/nodes", json_body={"name": "prod", "url": "ftp://x"})).status == 400
    assert (await api.post("/nodes", json_body={"name": "prod", "url": "http://127.0.0.1:9"})
            ).status == 201

    refused = await events(api, outcome="refused")
    assert [(e["action"], e["object_id"], e["actor"]) for e in refused] == [
        ("node.register", "prod", user), ("scenario.create", "bad", user),
        ("scenario.delete", "ghost", user)]
    assert refused[2]["reason"] == missing.error["message"]
    assert refused[1]["details"]["field"] == bad.error["field"]

    assert [e["action"] for e in await events(api, object="scenario:ghost")] == \
        ["scenario.delete"]
    assert [e["outcome"] for e in await events(api, object="node:prod")] == ["ok", "refused"]
    assert len(await events(api, actor=user)) == 4
    assert await events(api, actor="somebody-else") == []
    assert len(await events(api, since="2020-01-01T00:00:00Z")) == 4
    assert await events(api, since="2999-01-01") == []
    assert [e["action"] for e in await events(api, action="scenario.*")] == \
        ["scenario.create", "scenario.delete"]
    wrong = await api.get("/audit", params={"since": "last tuesday"})
    assert wrong.status == 400 and wrong.error["field"] == "since"

    export = await api.get("/audit/export", params={"object": "node:prod"})
    assert export.status == 200
    lines = [json.loads(line) for line in export.body.splitlines()]
    assert [(e["seq"], e["outcome"]) for e in lines] == [(3, "refused"), (4, "ok")]
    assert lines[1]["prev_hash"] == lines[0]["hash"]


async def test_a_change_refused_by_the_door_itself_is_recorded(api, jp_fetch):
    """Refused before any action ran (a field the route does not take): `request.refused`."""
    import asyncio

    user = await whoami(jp_fetch)
    reply = await api.post("/nodes", json_body={"name": "prod", "url": "http://x:1", "tokn": 1})
    assert reply.status == 400 and reply.error["field"] == "tokn"
    assert (await api.post("/scenarios/validate", raw="{not json")).status == 400  # no change
    for _ in range(100):   # written right after the answer, off the event loop
        refused = await events(api, action="request.refused")
        if refused:
            break
        await asyncio.sleep(0.1)
    assert [(e["object_id"].split(" ")[0], e["object_id"].rsplit("/mlprod/", 1)[1], e["actor"],
             e["reason"]) for e in refused] == [("POST", "api/v1/nodes", user,
                                                 reply.error["message"])]
    assert len(await events(api)) == 1   # the validation changed nothing and is not recorded
