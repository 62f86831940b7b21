"""Runs through the REST API, on the example project, with papermill and real kernels."""
from __future__ import annotations

import json

import pytest

PARAMS = {"n_rows": 300, "train.C": 0.5}
STEPS = ["prepare", "train", "batch_score", "evaluate"]


async def test_pipeline_run_end_to_end(api, project_root):
    """One real run shared by every check that needs one: start, 409 while active, poll to
    success, outputs served, pipeline colours, history, then a no-op rerun (all up_to_date)."""
    assert await api.total_runs() == 0
    reply = await api.post("/runs", json_body={"parameters": PARAMS})
    assert reply.status == 202, reply.body
    run = reply.body
    assert run["status"] in ("queued", "running")
    assert run["trigger"] == "panel"
    assert run["parameters"] == {"n_rows": 300, "train.C": 0.5}
    assert run["selection"] == {"steps": None, "from": None}
    assert [s["step"] for s in run["steps"]] == STEPS
    assert reply.headers["Location"].endswith(f"/mlprod/api/v1/runs/{run['id']}")

    busy = await api.post("/runs", json_body={})
    assert busy.status == 409
    assert busy.error["code"] == "run_active"
    assert str(run["id"]) in busy.error["message"]

    done = await api.wait_run(run["id"])
    assert done["status"] == "succeeded", json.dumps(done, indent=1)
    assert [(s["step"], s["status"]) for s in done["steps"]] == [(s, "succeeded") for s in STEPS]
    for step in done["steps"]:
        assert step["has_output"] and step["attempt"] == 1 and step["duration"] > 0
        assert step["error"] is None
    prepare = done["steps"][0]
    assert prepare["parameters"] == {"n_rows": 300, "seed": 42}
    assert done["steps"][1]["parameters"]["C"] == 0.5
    assert (project_root / "reports" / "metrics.json").exists()

    # outputs of a step run: html, ipynb, log
    reply = await api.get("/runs/{id}/steps/{step}/notebook", id=run["id"], step="prepare",
                          params={"format": "html"})
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert "<html" in reply.body and "wrote data/applications.csv: 300 rows" in reply.body
    reply = await api.get("/runs/{id}/steps/{step}/notebook", id=run["id"], step="prepare",
                          params={"format": "ipynb"})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/x-ipynb+json")
    injected = [c for c in reply.body["cells"]
                if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "n_rows = 300" in "".join(injected[0]["source"])
    default = await api.get("/runs/{id}/steps/{step}/notebook", id=run["id"], step="prepare")
    assert default.status == 200 and default.body == reply.body  # ipynb by default
    reply = await api.get("/runs/{id}/steps/{step}/log", id=run["id"], step="train")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain")
    assert "--- succeeded ---" in reply.body

    # bad output requests
    reply = await api.get("/runs/{id}/steps/{step}/notebook", id=run["id"], step="prepare",
                          params={"format": "pdf"})
    assert (reply.status, reply.error["field"]) == (400, "format")
    for route in ("/runs/{id}/steps/{step}/notebook", "/runs/{id}/steps/{step}/log"):
        reply = await api.get(route, id=run["id"], step="nope")
        assert (reply.status, reply.error["field"]) == (404, "step")

    # the DAG's colours
    view = (await api.get("/pipeline")).body
    assert {s["name"]: (s["latest"]["run_id"], s["latest"]["status"]) for s in view["steps"]} \
        == {s: (run["id"], "succeeded") for s in STEPS}

    # a finished run cannot be cancelled, nor resumed (nothing failed)
    reply = await api.post("/runs/{id}/cancel", id=run["id"])
    assert (reply.status, reply.error["code"]) == (409, "run_finished")
    reply = await api.post("/runs/{id}/resume", id=run["id"])
    assert (reply.status, reply.error["code"]) == (409, "nothing_to_resume")

    # the same request again: nothing changed, so every step is up to date
    reply = await api.post("/runs", json_body={"parameters": PARAMS, "force": False})
    assert reply.status == 202, reply.body
    again = await api.wait_run(reply.body["id"])
    assert again["status"] == "succeeded"
    assert [(s["step"], s["status"]) for s in again["steps"]] == [(s, "up_to_date") for s in STEPS]
    assert all(not s["has_output"] for s in again["steps"])
    reply = await api.get("/runs/{id}/steps/{step}/log", id=again["id"], step="prepare")
    assert reply.status == 404 and "did not execute" in reply.error["message"]

    # history, newest first, paged
    reply = await api.get("/runs", params={"limit": "1"})
    assert reply.status == 200
    assert reply.body["total"] == 2 and [r["id"] for r in reply.body["runs"]] == [again["id"]]
    reply = await api.get("/runs", params={"limit": "5", "offset": "1"})
    assert [r["id"] for r in reply.body["runs"]] == [run["id"]]
    for params, field in [({"limit": "abc"}, "limit"), ({"limit": "0"}, "limit"),
                          ({"limit": "501"}, "limit"), ({"limit": ""}, "limit"),
                          ({"limit": "1.5"}, "limit"), ({"offset": "-1"}, "offset"),
                          ({"offset": "x"}, "offset")]:
        reply = await api.get("/runs", params=params)
        assert (reply.status, reply.error["field"]) == (400, field), (params, reply.body)


BAD_RUNS = [
    # (body or raw text, status, field, code, a word the message must contain)
    ("{not json", 400, "body", "invalid", "JSON"),
    ("[1, 2]", 400, "body", "invalid", "object"),
    ('{"parameters": {"C": NaN}}', 400, "body", "invalid", "NaN"),
    ({"colour": "red"}, 400, "colour", "invalid", "colour"),
    ({"steps": "prepare"}, 400, "steps", "invalid", "steps"),
    ({"steps": [1]}, 400, "steps", "invalid", "steps"),
    ({"steps": ["nope"]}, 404, "steps", "unknown_step", "nope"),
    ({"from": "nope"}, 404, "from", "unknown_step", "nope"),
    ({"from": 3}, 400, "from", "invalid", "from"),
    ({"steps": ["prepare"], "from": "train"}, 400, "from", "invalid", "from"),
    ({"force": "yes"}, 400, "force", "invalid", "force"),
    ({"parameters": [1]}, 400, "parameters", "invalid", "parameters"),
    ({"parameters": {"n_rows": "many"}}, 400, "parameters.n_rows", "invalid_parameter", "many"),
    ({"parameters": {"n_rows": True}}, 400, "parameters.n_rows", "invalid_parameter", "an int"),
    ({"parameters": {"n_rows": 1.5}}, 400, "parameters.n_rows", "invalid_parameter", "1.5"),
    ({"parameters": {"nope": 1}}, 400, "parameters.nope", "unknown_parameter", "nope"),
    ({"parameters": {"train.nope": 1}}, 400, "parameters.train.nope", "unknown_parameter",
     "nope"),
    ({"parameters": {"ghost.C": 1}}, 400, "parameters.ghost.C", "unknown_step", "ghost"),
    ({"steps": ["prepare"], "parameters": {"C": 1.0}}, 400, "parameters.C", "unknown_parameter",
     "'C'"),
    # train needs data/applications.csv, which only prepare makes
    ({"steps": ["train"]}, 400, "steps", "missing_input", "data/applications.csv"),
]


async def test_bad_run_requests_record_nothing(api, project_root):
    for body, status, field, code, word in BAD_RUNS:
        kwargs = {"raw": body} if isinstance(body, str) else {"json_body": body}
        reply = await api.post("/runs", **kwargs)
        case = f"POST /runs {body!r} -> {reply.status} {reply.body}"
        assert (reply.status, reply.error["field"], reply.error["code"]) == (status, field, code), \
            case
        assert word in reply.error["message"], case
    assert await api.total_runs() == 0
    assert not (project_root / ".mlprod" / "runs").exists()


@pytest.mark.parametrize("run_id,status", [
    ("999", 404), ("0", 404), ("-1", 404), ("99999999999999999999", 404), ("abc", 400),
    ("1.5", 400)])
async def test_unknown_or_malformed_run_ids(api, run_id, status):
    for method, route in [("GET", "/runs/{id}"), ("POST", "/runs/{id}/resume"),
                          ("POST", "/runs/{id}/cancel"),
                          ("GET", "/runs/{id}/steps/{step}/notebook"),
                          ("GET", "/runs/{id}/steps/{step}/log")]:
        reply = await api.request(method, route, id=run_id, step="prepare")
        assert reply.status == status, (method, route, reply.body)
        assert reply.error["field"] == "run"
