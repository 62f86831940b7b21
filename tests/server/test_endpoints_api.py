"""Endpoints over REST (what the panel's Endpoints view and test console use): a real Jupyter
server with token auth, the example's scoring notebook served after its model is trained by
the project's own prepare + train steps. Every reply is validated against openapi.yaml."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory) -> Path:
    """The example project with data and model made by its prepare and train steps (once)."""
    from jupyter_mlprod.project import Project

    root = tmp_path_factory.mktemp("served") / "loan"
    shutil.copytree(REPO / "example_notebooks", root, ignore=shutil.ignore_patterns(
        ".mlprod", "data", "models", "reports", ".ipynb_checkpoints"))
    project = Project(root)
    try:
        run = project.start_run(steps=["prepare", "train"], parameters={"n_rows": 400},
                                trigger="test", from_text=False)
        final = project.runs.wait(run["id"], timeout=240)
        assert final["status"] == "succeeded", final
    finally:
        project.close()
    assert (root / "models" / "model.joblib").exists()
    return root


@pytest.fixture
def project_root(trained_root) -> Path:
    return trained_root


APPLICATION = {"age": 41, "income": 61000.0, "loan_amount": 12000.0, "term_months": 24,
               "credit_score": 690, "employment_years": 3.0, "debt_to_income": 0.31}


async def test_serve_this_notebook_test_console_traffic_and_errors(api):
    created = await api.post("/endpoints", json_body={"name": "loan", "notebook": "score.ipynb",
                                                      "description": "loan decisions"})
    assert created.status == 201, created.body
    view = created.body
    assert view["traffic"]["weights"] == {"v1": 100} and view["mode"] == "mlprod"
    assert view["sample"]["credit_score"] == 710 and "income" in view["input_schema"]["required"]

    listed = await api.get("/endpoints")
    assert [e["name"] for e in listed.body["endpoints"]] == ["loan"]
    assert (await api.get("/endpoints/{name}", name="loan")).body["description"] == "loan decisions"
    again = await api.post("/endpoints", json_body={"name": "loan", "notebook": "score.ipynb"})
    assert again.status == 409

    # the test console, without a server: scored in-process exactly as the server would
    tested = await api.post("/endpoints/{name}/test", name="loan",
                            json_body={"request": APPLICATION})
    assert tested.status == 200, tested.body
    result = tested.body
    assert result["status"] == 200 and result["via"] == "in-process"
    assert 0.0 <= result["body"]["probability"] <= 1.0
    assert result["body"]["decision"] in ("approve", "decline")
    bad = await api.post("/endpoints/{name}/test", name="loan",
                         json_body={"request": dict(APPLICATION, income="lots")})
    assert bad.status == 200 and bad.body["status"] == 400
    assert bad.body["body"]["error"]["field"] == "income"

    # versions and traffic
    added = await api.post("/endpoints/{name}/versions", name="loan",
                           json_body={"notebook": "score.ipynb", "version": "v2"})
    assert added.status == 201 and added.body["weight"] == 0
    versions = await api.get("/endpoints/{name}/versions", name="loan")
    assert [v["version"] for v in versions.body["versions"]] == ["v1", "v2"]
    split = await api.put("/endpoints/{name}/traffic", name="loan",
                          json_body={"weights": {"v1": 80, "v2": 20}})
    assert split.status == 200 and split.body["traffic"]["weights"] == {"v1": 80, "v2": 20}
    wrong = await api.put("/endpoints/{name}/traffic", name="loan",
                          json_body={"weights": {"v1": 50, "v9": 50}})
    assert wrong.status == 400 and wrong.error["field"] == "weights.v9"
    negative = await api.put("/endpoints/{name}/traffic", name="loan",
                             json_body={"weights": {"v1": -5}})
    assert negative.status == 400 and negative.error["field"].startswith("weights")
    missing = await api.put("/endpoints/{name}/traffic", name="loan", json_body={"shadow": "v2"})
    assert missing.status == 400 and missing.error["field"] == "weights"
    history = await api.get("/endpoints/{name}/traffic", name="loan")
    assert history.body["traffic"]["weights"] == {"v1": 80, "v2": 20}
    assert history.body["history"][0]["current"] and len(history.body["history"]) == 2
    rolled = await api.post("/endpoints/{name}/rollback", name="loan")
    assert rolled.status == 200 and rolled.body["traffic"]["weights"] == {"v1": 100}
    promoted = await api.post("/endpoints/{name}/promote", name="loan", json_body={"version": "v2"})
    assert promoted.body["traffic"]["weights"] == {"v2": 100}

    # unknown endpoint, bad fields
    for route in ("/endpoints/{name}", "/endpoints/{name}/versions", "/endpoints/{name}/keys",
                  "/endpoints/{name}/traffic", "/endpoints/{name}/stats"):
        reply = await api.get(route, name="nope")
        assert reply.status == 404 and reply.error["field"] == "name", route
    unknown = await api.post("/endpoints", json_body={"name": "x", "notebok": "score.ipynb"})
    assert unknown.status == 400 and unknown.error["field"] == "notebok"
    bad_name = await api.post("/endpoints", json_body={"name": "Bad Name"})
    assert bad_name.status == 400 and bad_name.error["field"] == "name"
    no_score = await api.post("/endpoints", json_body={"name": "train", "notebook": "train.ipynb"})
    assert no_score.status == 400 and no_score.error["field"] == "notebook"
    bad_option = await api.put("/endpoints/{name}", name="loan",
                               json_body={"options": {"timeout_ms": -1}})
    assert bad_option.status == 400 and bad_option.error["field"] == "options.timeout_ms"
    updated = await api.put("/endpoints/{name}", name="loan", json_body={"description": "v2 live"})
    assert updated.body["description"] == "v2 live"
    doc = await api.get("/endpoints/{name}/openapi", name="loan")
    assert "/loan/predict" in doc.body["paths"]


async def test_keys_are_shown_once_and_revoked(api):
    await api.post("/endpoints", json_body={"name": "keyed", "notebook": "score.ipynb"})
    made = await api.post("/endpoints/{name}/keys", name="keyed", json_body={"label": "panel"})
    assert made.status == 201 and made.body["key"].startswith("mlp_")
    listed = await api.get("/endpoints/{name}/keys", name="keyed")
    [key] = listed.body["keys"]
    assert key["key_id"] == made.body["key_id"] and "key" not in key
    assert made.body["key"] not in str(listed.body)
    assert (await api.get("/endpoints/{name}", name="keyed")).body["keys"] == 1
    revoked = await api.delete("/endpoints/{name}/keys/{id}", name="keyed", id=key["key_id"])
    assert revoked.status == 200 and revoked.body["revoked_at"]
    twice = await api.delete("/endpoints/{name}/keys/{id}", name="keyed", id=key["key_id"])
    assert twice.status == 404 and twice.error["field"] == "key_id"
    assert (await api.get("/endpoints/{name}", name="keyed")).body["keys"] == 0
    gone = await api.delete("/endpoints/{name}", name="keyed")
    assert gone.status == 204
    assert (await api.get("/endpoints/{name}", name="keyed")).status == 404


async def test_start_a_server_send_through_it_read_live_stats_and_stop_it(api):
    bad = await api.post("/servers", json_body={"notebook": "score.ipynb", "workers": 0})
    assert bad.status == 400 and bad.error["field"] == "workers"
    started = await api.post("/servers", json_body={"notebook": "score.ipynb", "workers": 1})
    assert started.status == 201, started.body
    server = started.body
    try:
        assert server["alive"] and server["endpoints"] == ["score"]
        servers = await api.get("/servers")
        assert [s["server_id"] for s in servers.body["servers"]] == [server["server_id"]]
        assert servers.body["servers"][0]["started_here"]
        view = await api.get("/endpoints/{name}", name="score")
        assert view.body["servers"] == [{"server_id": server["server_id"], "url": server["url"]}]
        for _ in range(3):
            tested = await api.post("/endpoints/{name}/test", name="score",
                                    json_body={"request": APPLICATION})
            assert tested.body["via"] == server["url"] and tested.body["status"] == 200
            assert 0.0 <= tested.body["body"]["probability"] <= 1.0
        stats = await api.get("/endpoints/{name}/stats", name="score")
        assert stats.status == 200
        assert stats.body["versions"]["v1"]["requests"] == 3
    finally:
        stopped = await api.delete("/servers/{id}", id=server["server_id"])
    assert stopped.status == 204
    assert (await api.get("/servers")).body["servers"] == []
    again = await api.delete("/servers/{id}", id=server["server_id"])
    assert again.status == 404


async def test_serve_this_notebook_in_one_call_gives_a_warm_url_and_stats_over_minutes(api):
    bad = await api.post("/endpoints", json_body={"name": "oneshot", "serve": "yes",
                                                  "notebook": "score.ipynb"})
    assert bad.status == 400 and bad.error["field"] == "serve"
    served = await api.post("/endpoints", json_body={"name": "oneshot", "notebook": "score.ipynb",
                                                     "serve": True})
    assert served.status == 201, served.body
    view = served.body
    (server,) = view["servers"]
    try:
        assert server["url"].startswith("http://127.0.0.1:")
        assert [v["status"] for v in view["versions"]] == ["ready"]  # warm: setup ran
        for _ in range(4):
            tested = await api.post("/endpoints/{name}/test", name="oneshot",
                                    json_body={"request": APPLICATION})
            assert tested.body["via"] == server["url"] and tested.body["status"] == 200
        # the panel polls every 2 s: a later look still covers those requests
        for _ in range(3):
            stats = (await api.get("/endpoints/{name}/stats", name="oneshot")).body
            v1 = stats["versions"]["v1"]
            assert v1["requests"] == 4 and v1["errors"] == 0
            assert v1["req_per_s"] > 0 and v1["latency_ms"]["p50"] > 0
            assert v1["latency_ms"]["p95"] >= v1["latency_ms"]["p50"]
            assert stats["window_s"] > 0
        # serving it again reuses the server (no 409, no second server)
        again = await api.post("/endpoints", json_body={"name": "oneshot",
                                                        "notebook": "score.ipynb", "serve": True})
        assert again.status == 201 and again.body["servers"] == view["servers"]
    finally:
        await api.delete("/servers/{id}", id=server["server_id"])
