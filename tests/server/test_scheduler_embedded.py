"""The scenario scheduler embedded in the Jupyter server: on by default, it fires an interval
scenario while the server runs (real kernels, bounded wait); `scheduler_enabled=False` starts
nothing."""
from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def project_root(tmp_path):
    root = tmp_path / "small"
    root.mkdir()
    return root


async def eventually(check, timeout: float, what: str, interval: float = 0.5):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(interval)


def the_app(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_mlprod"]
    return app


async def test_embedded_scheduler_fires_an_interval_scenario(api, project_root, make_step,
                                                             jp_serverapp):
    make_step(project_root, "tick", "open('ticks.txt', 'a').write('x')", outputs=["ticks.txt"])
    reply = await api.post("/scenarios", json_body={
        "name": "every-2s", "triggers": [{"type": "interval", "every": 2}],
        "run": {"force": True}, "policies": {"overlap": "skip", "misfire": "skip"}})
    assert reply.status == 201, reply.body
    sid = reply.body["id"]
    assert the_app(jp_serverapp).scheduler is not None

    async def two_runs():
        fires = (await api.get("/scenarios/{id}/fires", id=sid)).body["fires"]
        return fires if sum(f["outcome"] == "succeeded" for f in fires) >= 2 else None

    fires = await eventually(two_runs, 60, "two interval fires to run")
    assert {f["kind"] for f in fires} == {"interval"}
    assert all(f["claimed_by"] for f in fires if f["run_id"])
    runs = (await api.get("/runs")).body["runs"]
    assert len(runs) >= 2 and {r["scenario_id"] for r in runs} == {sid}
    assert {r["trigger"] for r in runs} == {"scenario:interval"}
    assert len((project_root / "ticks.txt").read_text()) >= 2
    timeline = (await api.get("/scenarios/timeline")).body["fires"]
    assert {f["id"] for f in fires} <= {f["id"] for f in timeline}

    # disabled, it stops firing; the server then stops with no run left behind
    assert (await api.post("/scenarios/{id}/disable", id=sid)).status == 200

    async def idle():
        runs = (await api.get("/runs")).body["runs"]
        return all(r["status"] not in ("queued", "running") for r in runs)

    await eventually(idle, 30, "the last run to finish")


@pytest.mark.parametrize("mlprod_config", [{"scheduler_enabled": False}])
async def test_nothing_fires_when_the_scheduler_is_disabled(api, project_root, make_step,
                                                            jp_serverapp):
    make_step(project_root, "tick", "pass")
    reply = await api.post("/scenarios", json_body={
        "name": "every-1s", "triggers": [{"type": "interval", "every": 1}]})
    assert reply.status == 201, reply.body
    assert the_app(jp_serverapp).scheduler is None
    await asyncio.sleep(2.5)
    assert (await api.get("/scenarios/{id}/fires", id="every-1s")).body == {"fires": []}
    assert await api.total_runs() == 0


async def test_stopping_the_server_stops_the_scheduler(api, project_root, make_step, jp_serverapp):
    make_step(project_root, "tick", "pass")
    assert (await api.get("/scenarios")).status == 200       # opens the project
    app = the_app(jp_serverapp)
    scheduler = app.scheduler
    assert scheduler is not None and all(t.is_alive() for t in scheduler._threads)
    threads = list(scheduler._threads)
    await app.stop_extension()
    assert app.scheduler is None and not any(t.is_alive() for t in threads)
