"""Runs and problems on small projects written by the tests (real kernels, trivial code)."""
from __future__ import annotations

import pytest


@pytest.fixture
def project_root(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    return root


async def test_failed_step_then_resume(api, project_root, make_step):
    make_step(project_root, "a", "open('a.txt', 'w').write('a')", outputs=["a.txt"])
    make_step(project_root, "b", "import os\nassert os.path.exists(need), f'missing {need}'",
              inputs=["a.txt"], parameters="need = 'ok.flag'  # file that must exist")
    reply = await api.post("/runs", json_body={"parameters": {"need": "flag.txt"}})
    assert reply.status == 202, reply.body
    failed = await api.wait_run(reply.body["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == "step b failed"
    a, b = failed["steps"]
    assert (a["status"], b["status"]) == ("succeeded", "failed")
    # In [3]: the parameters cell ran as In [1], papermill's injected one as In [2]
    assert b["error"] == {"cell_index": 1, "execution_count": 3, "cell_source": "import os",
                          "ename": "AssertionError", "evalue": "missing flag.txt"}
    assert b["has_output"]
    log = await api.get("/runs/{id}/steps/{step}/log", id=failed["id"], step="b")
    assert "AssertionError" in log.body and "--- failed ---" in log.body
    html = await api.get("/runs/{id}/steps/{step}/notebook", id=failed["id"], step="b",
                         params={"format": "html"})
    assert html.status == 200 and "missing flag.txt" in html.body
    view = (await api.get("/pipeline")).body
    assert {s["name"]: s["latest"]["status"] for s in view["steps"]} == {"a": "succeeded",
                                                                        "b": "failed"}

    reply = await api.post("/runs/{id}/resume", id=failed["id"], json_body={"steps": ["a"]})
    assert (reply.status, reply.error["field"]) == (400, "steps")  # resume takes no fields
    reply = await api.post("/runs/{id}/resume", id=failed["id"], raw="{oops")
    assert (reply.status, reply.error["field"]) == (400, "body")

    (project_root / "flag.txt").write_text("fixed")
    reply = await api.post("/runs/{id}/resume", id=failed["id"], json_body={})
    assert reply.status == 202, reply.body
    assert reply.body["resumed_from"] == failed["id"]
    assert reply.body["selection"] == {"steps": ["b"], "from": None}
    assert reply.body["parameters"] == {"need": "flag.txt"}
    assert reply.headers["Location"].endswith(f"/runs/{reply.body['id']}")
    resumed = await api.wait_run(reply.body["id"])
    assert resumed["status"] == "succeeded"
    assert [(s["step"], s["status"]) for s in resumed["steps"]] == [("b", "succeeded")]
    reply = await api.post("/runs/{id}/resume", id=resumed["id"])
    assert (reply.status, reply.error["code"]) == (409, "nothing_to_resume")
    assert await api.total_runs() == 2


async def test_cancel_an_active_run(api, project_root, make_step):
    make_step(project_root, "slow", "import time\ntime.sleep(120)", outputs=["never.txt"])
    reply = await api.post("/runs", json_body={"steps": ["slow"], "force": True})
    assert reply.status == 202, reply.body
    run_id = reply.body["id"]
    assert reply.body["force"] is True and reply.body["selection"]["steps"] == ["slow"]

    busy = await api.post("/runs", json_body={})
    assert (busy.status, busy.error["code"], busy.error["field"]) == (409, "run_active", "run")
    busy = await api.post("/runs/{id}/resume", id=run_id)
    assert (busy.status, busy.error["code"]) == (409, "run_active")

    reply = await api.post("/runs/{id}/cancel", id=run_id)
    assert reply.status == 202, reply.body
    assert reply.body["id"] == run_id
    done = await api.wait_run(run_id, timeout=60)
    assert done["status"] == "cancelled"
    assert done["steps"][0]["status"] == "cancelled"
    reply = await api.post("/runs/{id}/cancel", id=run_id)
    assert (reply.status, reply.error["code"]) == (409, "run_finished")
    assert await api.total_runs() == 1


async def test_problems_are_listed_and_block_runs(api, project_root, make_step):
    make_step(project_root, "a", "pass", after=["c"])
    make_step(project_root, "b", "pass", after=["a"])
    make_step(project_root, "c", "pass", after=["b"])
    make_step(project_root, "d", "pass")
    (project_root / "broken.ipynb").write_text('{"cells": [')

    view = (await api.get("/pipeline")).body
    by_code = {p["code"]: p for p in view["problems"]}
    assert set(by_code) == {"malformed_notebook", "cycle"}, view["problems"]
    assert "broken.ipynb" in by_code["malformed_notebook"]["message"]
    assert set(by_code["cycle"]["steps"]) == {"a", "b", "c"}
    assert [s["name"] for s in view["steps"]] == ["a", "b", "c", "d"]

    reply = await api.post("/runs", json_body={})
    assert reply.status == 400 and "broken.ipynb" in reply.error["message"], reply.body

    (project_root / "broken.ipynb").unlink()
    for body in ({}, {"steps": ["d"]}):
        reply = await api.post("/runs", json_body=body)
        assert (reply.status, reply.error["code"]) == (400, "cycle"), reply.body
        assert set(reply.error["details"]["steps"]) == {"a", "b", "c"}
        for step in ("a", "b", "c"):
            assert step in reply.error["message"]
    assert await api.total_runs() == 0
