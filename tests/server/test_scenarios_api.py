"""Scenarios through the REST API (real Jupyter server, token auth on, every response validated
against openapi.yaml): validation as you type, CRUD, bad input by field with nothing stored,
secrets masked, run now on the example pipeline (real kernels) reported to a real webhook
receiver, and the monitoring timeline. (The scheduler embedded in the server firing on its own:
test_scheduler_embedded.py.)"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlprod_api import PREFIX

SECRET = "hunter2-S3CRET"
STEPS = ["prepare", "train", "batch_score", "evaluate"]


def cron_spec(name="nightly", **extra) -> dict:
    spec = {"name": name, "triggers": [{"type": "cron", "cron": "0 6 * * 1-5",
                                        "timezone": "Europe/Paris"}],
            "run": {"steps": ["prepare"], "parameters": {"n_rows": 50}}}
    spec.update(extra)
    return spec


async def eventually(check, timeout: float, what: str, state=lambda: None,
                     interval: float = 0.3):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, f"timed out waiting for {what}: {state()}"
        await asyncio.sleep(interval)


@pytest.fixture
def webhook():
    """A real HTTP receiver on loopback collecting the JSON bodies POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received = received
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/{SECRET}"
    yield server
    server.shutdown()
    server.server_close()


# -- validation as you type ---------------------------------------------------------------------
BAD = {
    # name: (spec change, the field the error names)
    "invalid cron": ({"triggers": [{"type": "cron", "cron": "61 * * * *"}]}, "triggers[0].cron"),
    "bad time zone": ({"triggers": [{"type": "cron", "cron": "0 6 * * *",
                                     "timezone": "Mars/Olympus"}]}, "triggers[0].timezone"),
    "webhook not http": ({"reporters": [{"type": "webhook", "url": "ftp://example.com/x"}]},
                         "reporters[0].url"),
    "unknown step": ({"run": {"steps": ["prepare", "nope"]}}, "run.steps[1]"),
    "bad parameter type": ({"run": {"parameters": {"n_rows": "many"}}},
                           "run.parameters.n_rows"),
}


async def test_validate_describes_triggers_and_names_each_bad_field(api):
    reply = await api.post("/scenarios/validate", json_body=cron_spec(
        triggers=[{"type": "cron", "cron": "0 6 * * 1-5", "timezone": "Europe/Paris"},
                  {"type": "interval", "every": "15m"}, {"type": "manual"}]))
    assert reply.status == 200, reply.body
    result = reply.body
    assert result["valid"] and result["errors"] == []
    cron, interval, manual = result["triggers"]
    assert cron["description"] == "At 06:00, Monday through Friday (Europe/Paris)"
    assert len(cron["next"]) == 5
    # 06:00 in Paris is 05:00 or 04:00 UTC (winter / summer time), on weekdays only
    import datetime as dt
    for at in cron["next"]:
        when = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        assert when.weekday() < 5 and when.minute == 0 and when.hour in (4, 5), at
    assert interval["description"] == "every 15 min" and len(interval["next"]) == 5
    assert manual == {"index": 2, "type": "manual", "description": "manually (run now)",
                      "next": []}
    assert result["spec"]["triggers"][1]["every"] == 900

    for name, (change, field) in BAD.items():
        reply = await api.post("/scenarios/validate", json_body=cron_spec(**change))
        assert reply.status == 200, (name, reply.body)        # validation never refuses
        assert not reply.body["valid"] and reply.body["spec"] is None, name
        assert field in [e["field"] for e in reply.body["errors"]], (name, reply.body["errors"])

    # several problems at once, each with its field; deep validation is allowed
    reply = await api.post("/scenarios/validate", params={"deep": "true"}, json_body={
        "name": "2bad", "triggers": [{"type": "cron", "cron": "* *", "tz": "UTC"}],
        "run": {"from": "nope"}})
    assert reply.status == 200
    fields = {e["field"] for e in reply.body["errors"]}
    assert {"name", "triggers[0].tz", "triggers[0].cron", "run.from"} <= fields, fields
    assert "timezone" in next(e["message"] for e in reply.body["errors"]
                              if e["field"] == "triggers[0].tz")   # did you mean...

    reply = await api.post("/scenarios/validate", params={"deep": "maybe"}, json_body={})
    assert (reply.status, reply.error["field"]) == (400, "deep")
    reply = await api.post("/scenarios/validate", raw="{not json")
    assert (reply.status, reply.error["field"]) == (400, "body")
    reply = await api.post("/scenarios/validate", params={"current": "ghost"},
                           json_body=cron_spec())
    assert reply.status == 404


async def test_saving_bad_input_is_a_400_naming_the_field_and_stores_nothing(api):
    for name, (change, field) in BAD.items():
        reply = await api.post("/scenarios", json_body=cron_spec(**change))
        assert reply.status == 400, (name, reply.body)
        assert reply.error["field"] == field, (name, reply.error)
    reply = await api.post("/scenarios", json_body={"name": "x", "triggers": []})
    assert (reply.status, reply.error["field"]) == (400, "triggers")
    reply = await api.post("/scenarios", raw="[1, 2")
    assert (reply.status, reply.error["field"]) == (400, "body")
    reply = await api.post("/scenarios", json_body=cron_spec(reporters=[
        {"type": "email", "to": ["ops@example.com"], "host": "smtp.example.com",
         "password": "plain"}]))
    assert (reply.status, reply.error["field"]) == (400, "reporters[0].password")
    assert (await api.get("/scenarios")).body == {"scenarios": []}
    assert await api.total_runs() == 0


# -- CRUD, enable/disable, secrets --------------------------------------------------------------
async def test_crud_enable_disable_with_secrets_masked(api, project_root, jp_fetch):
    db = project_root / "orders.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, ts TEXT)")
        conn.execute("INSERT INTO orders VALUES (1, '2025-01-01')")
    conn.close()
    spec = cron_spec(
        description="refresh the model",
        triggers=[{"type": "cron", "cron": "0 6 * * 1-5", "timezone": "Europe/Paris"},
                  {"type": "sql", "url": f"sqlite://reader:{SECRET}@/orders.db",
                   "query": "SELECT max(ts), count(*) FROM orders", "poll": 30},
                  {"type": "files", "paths": ["data/*.csv"]}],
        reporters=[{"type": "webhook", "url": f"https://hooks.example.com/services/{SECRET}",
                    "when": "failure"},
                   {"type": "email", "to": "ops@example.com", "host": "smtp.example.com",
                    "user": "bot", "password_env": "SMTP_PASSWORD", "when": "change"}],
        policies={"overlap": "queue", "retries": 1})
    bodies: list[str] = []

    def seen(reply):
        bodies.append(json.dumps(reply.body))
        return reply

    reply = seen(await api.post("/scenarios", json_body=spec))
    assert reply.status == 201, reply.body
    created = reply.body
    sid = created["id"]
    assert reply.headers["Location"].endswith(f"/{PREFIX}/scenarios/{sid}")
    assert created["name"] == "nightly" and created["enabled"] and created["version"] == 1
    assert created["run"] == {"steps": ["prepare"], "from": None, "parameters": {"n_rows": 50},
                              "force": False}
    assert created["policies"]["overlap"] == "queue" and created["policies"]["retries"] == 1
    assert created["triggers"][1]["url"] == "sqlite://reader:***@/orders.db"
    assert created["reporters"][0]["url"] == "https://hooks.example.com/***"
    assert created["reporters"][1]["to"] == ["ops@example.com"]
    status = created["trigger_status"]
    assert [s["type"] for s in status] == ["cron", "sql", "files"]
    assert status[0]["description"] == "At 06:00, Monday through Friday (Europe/Paris)"
    assert created["next_fire_at"] == status[0]["next_fire_at"] is not None
    assert status[1]["next_check_at"] and status[1]["next_fire_at"] is None
    assert created["last"] is None and created["last_outcome"] is None

    by_name = seen(await api.get("/scenarios/{id}", id="nightly"))
    assert by_name.status == 200 and by_name.body["id"] == sid
    listed = seen(await api.get("/scenarios"))
    assert [s["name"] for s in listed.body["scenarios"]] == ["nightly"]

    # a duplicate name is refused by field
    reply = await api.post("/scenarios", json_body=cron_spec())
    assert (reply.status, reply.error["field"], reply.error["code"]) == \
        (400, "name", "duplicate_name")

    # editing: the view sent back (masked secrets and all) keeps the stored secrets
    view = dict(by_name.body, description="refresh the model at dawn")
    reply = seen(await api.post("/scenarios/validate", params={"current": str(sid)},
                                json_body=view))
    assert reply.body["valid"], reply.body["errors"]
    reply = seen(await api.put("/scenarios/{id}", id=sid, json_body=view))
    assert reply.status == 200, reply.body
    assert reply.body["version"] == 2 and reply.body["description"] == "refresh the model at dawn"
    reply = await api.put("/scenarios/{id}", id=sid, json_body=view)   # version 1 is stale now
    assert (reply.status, reply.error["code"], reply.error["field"]) == \
        (409, "stale_version", "version")
    reply = await api.put("/scenarios/{id}", id=sid, json_body={
        "triggers": [{"type": "cron", "cron": "0 25 * * *"}]})
    assert (reply.status, reply.error["field"]) == (400, "triggers[0].cron")
    unchanged = seen(await api.get("/scenarios/{id}", id=sid)).body
    assert unchanged["version"] == 2 and unchanged["triggers"][0]["cron"] == "0 6 * * 1-5"

    # disable / enable
    reply = seen(await api.post("/scenarios/{id}/disable", id=sid))
    assert reply.status == 200 and not reply.body["enabled"]
    assert reply.body["next_fire_at"] is None
    reply = seen(await api.post("/scenarios/{id}/enable", id="nightly", json_body={}))
    assert reply.status == 200 and reply.body["enabled"] and reply.body["next_fire_at"]
    reply = await api.post("/scenarios/{id}/enable", id=sid, json_body={"now": True})
    assert (reply.status, reply.error["field"]) == (400, "now")

    # the stored secrets are intact (only the responses mask them) and never leave the server
    from jupyter_mlprod.project import Project

    project = Project(project_root)
    try:
        stored = project.scenarios.repo.get_scenario(sid=sid)["spec"]
    finally:
        project.close()
    assert SECRET in stored["triggers"][1]["url"] and SECRET in stored["reporters"][0]["url"]
    assert bodies and not [b for b in bodies if SECRET in b]
    raw = await jp_fetch(PREFIX, "scenarios", method="GET")
    assert SECRET not in raw.body.decode()

    # fires, timeline (nothing fired: the cron is in the future), remove
    assert (await api.get("/scenarios/{id}/fires", id=sid)).body == {"fires": []}
    assert (await api.get("/scenarios/timeline")).body == {"fires": []}
    reply = await api.get("/scenarios/timeline", params={"since": "yesterday"})
    assert (reply.status, reply.error["field"]) == (400, "since")
    reply = await api.get("/scenarios/fires/{id}/deliveries", id="x")
    assert (reply.status, reply.error["field"]) == (400, "id")
    reply = await api.delete("/scenarios/{id}", id=sid)
    assert reply.status == 204
    for route in ("/scenarios/{id}", "/scenarios/{id}/fires"):
        assert (await api.get(route, id=sid)).status == 404
    assert (await api.post("/scenarios/{id}/trigger", id=sid)).status == 404
    assert (await api.delete("/scenarios/{id}", id="nightly")).status == 404
    assert await api.total_runs() == 0


async def test_scenario_routes_require_the_token(api):
    for method, route in (("GET", "/scenarios"), ("POST", "/scenarios"),
                          ("POST", "/scenarios/validate"), ("GET", "/scenarios/timeline"),
                          ("POST", "/scenarios/{id}/trigger"), ("DELETE", "/scenarios/{id}")):
        for credentials in ("", "token wrong"):
            body = {"json_body": cron_spec()} if method == "POST" else {}
            reply = await api.request(method, route, id=1, headers={"Authorization": credentials},
                                      **body)
            assert reply.status in (401, 403), (method, route, reply.body)
    assert (await api.get("/scenarios")).body == {"scenarios": []}


# -- run now, reports, timeline -----------------------------------------------------------------
async def test_trigger_runs_the_pipeline_reports_it_and_the_timeline_lists_it(
        api, webhook, jp_http_port):
    reply = await api.post("/scenarios", json_body={
        "name": "refresh", "triggers": [{"type": "manual"}],
        "run": {"parameters": {"n_rows": 200, "train.C": 0.5}},
        "reporters": [{"type": "webhook", "url": webhook.url, "format": "json"}]})
    assert reply.status == 201, reply.body
    sid = reply.body["id"]

    reply = await api.post("/scenarios/{id}/trigger", id="refresh")
    assert reply.status == 202, reply.body
    run = reply.body
    assert reply.headers["Location"].endswith(f"/{PREFIX}/runs/{run['id']}")
    assert run["scenario_id"] == sid and run["trigger"] == "scenario:manual"
    assert [s["step"] for s in run["steps"]] == STEPS
    busy = await api.post("/scenarios/{id}/trigger", id=sid)
    assert (busy.status, busy.error["code"]) == (409, "run_active")
    active = (await api.get("/scenarios/{id}", id=sid)).body
    assert active["active_run_id"] == run["id"]

    done = await api.wait_run(run["id"])
    assert done["status"] == "succeeded", json.dumps(done, indent=1)
    assert done["scenario_id"] == sid
    assert {r["id"]: r["scenario_id"] for r in (await api.get("/runs")).body["runs"]} == \
        {run["id"]: sid}

    seen: list = []

    async def closed():
        fires = (await api.get("/scenarios/timeline")).body["fires"]
        seen.append(fires)
        mine = [f for f in fires if f["run_id"] == run["id"]]
        return fires if mine and mine[0]["status"] == "done" else None

    fires = await eventually(closed, 30, "the fire to be closed", lambda: seen[-1])
    # newest first: the "run now" refused while the run went, then the run's own fire
    refused, fire = fires
    assert (refused["status"], refused["run_id"]) == ("skipped", None)
    assert "still running" in refused["reason"]
    assert (fire["scenario"], fire["kind"], fire["outcome"], fire["run_status"]) == \
        ("refresh", "manual", "succeeded", "succeeded")
    assert fire["run_id"] == run["id"] and fire["status"] == "done"
    assert fire["duration"] > 0 and fire["trigger"].startswith("run now")
    assert (await api.get("/scenarios/{id}/fires", id=sid)).body["fires"] == fires
    other = await api.get("/scenarios/timeline", params={"scenario": "refresh", "limit": "1"})
    assert other.body["fires"] == [refused]
    past = await api.get("/scenarios/timeline", params={"until": "2001-01-01T00:00:00Z"})
    assert past.body == {"fires": []}
    view = (await api.get("/scenarios/{id}", id=sid)).body
    assert view["last_outcome"] == "succeeded" and view["last"]["run_id"] == run["id"]
    assert view["active_run_id"] is None

    async def sent():
        reply = await api.get("/scenarios/fires/{id}/deliveries", id=fire["id"])
        return reply.body["deliveries"] if reply.body["deliveries"] and \
            reply.body["deliveries"][0]["status"] == "sent" else None

    [delivery] = await eventually(sent, 30, "the report to be sent")
    assert (delivery["type"], delivery["attempts"]) == ("webhook", 1)
    [report] = webhook.received
    assert report["scenario"] == "refresh" and report["outcome"] == "succeeded"
    assert report["run_id"] == run["id"]
    # the link to the run is this server's own URL (MlprodApp.base_url not configured)
    assert f":{jp_http_port}/" in report["run_url"], report["run_url"]
    assert report["run_url"].endswith(f"/lab?mlprod-run={run['id']}")
