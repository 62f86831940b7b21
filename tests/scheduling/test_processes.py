"""Scheduler processes: two on one PostgreSQL store fire every due scenario exactly once; a
`kill -9` in the middle of a run, then a restart: the zombie run is reconciled, the retry and
misfire policies are applied; SIGTERM stops a scheduler gracefully."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from jupyter_mlprod.store.schema import runs
from jupyter_mlprod.store.schema_scheduling import scenario_fires

from .conftest import fires_of, wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def spawn(tmp_path):
    procs = []

    def _spawn(root, store_url, name, *extra):
        log = open(tmp_path / f"scheduler-{name}.log", "w")
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlprod.scheduling", "--root", str(root),
             "--store-url", store_url, "--name", name, "--poll-interval", "0.2", *extra],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(REPO), start_new_session=True)
        proc.log_path = tmp_path / f"scheduler-{name}.log"
        procs.append(proc)
        return proc

    yield _spawn
    for proc in procs:   # the scheduler and whatever it left (workers, kernels)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)


def stop(proc, timeout=60) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"scheduler did not stop:\n{proc.log_path.read_text()[-3000:]}")


def test_two_scheduler_processes_on_postgresql_fire_each_due_time_exactly_once(
        tmp_path, make_step, open_project, pg_url, spawn):
    make_step(tmp_path, "work", "pass")
    project = open_project(tmp_path, store_url=pg_url)
    start = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=3)).replace(microsecond=0)
    names = ["every-1s-a", "every-1s-b", "every-1s-c"]
    for name in names:
        project.scenarios.create({"name": name, "run": {}, "triggers": [
            {"type": "interval", "every": 1, "start_at": start.isoformat()}]})
    a = spawn(tmp_path, pg_url, "alpha", "--dry-run")
    b = spawn(tmp_path, pg_url, "beta", "--dry-run")
    time.sleep(15)
    assert stop(a) == 0 and stop(b) == 0, a.log_path.read_text()[-2000:]

    fired = fires_of(project)
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        fire_runs = conn.execute(sa.select(scenario_fires.c.run_id)
                                 .where(scenario_fires.c.run_id.is_not(None))).scalars().all()
        scenario_runs = conn.execute(sa.select(runs.c.id, runs.c.scenario_id)
                                     .where(runs.c.scenario_id.is_not(None))).all()
    engine.dispose()
    by_scenario = defaultdict(list)
    for f in fired:
        by_scenario[f["scenario"]].append(f)
    assert sorted(by_scenario) == names
    for name, items in by_scenario.items():
        dues = sorted(dt.datetime.fromisoformat(f["due_at"].replace("Z", "+00:00")) for f in items)
        assert len(dues) == len(set(dues)), f"{name}: a due time fired twice"
        assert dues[0] == start, name
        steps = {(later - earlier).total_seconds() for earlier, later in zip(dues, dues[1:])}
        assert steps == {1.0}, f"{name}: gaps in {dues}"
        assert len(dues) >= 8, f"{name} fired only {len(dues)} times"
        assert all(f["status"] == "done" and f["outcome"] == "succeeded" for f in items), items
    # one run per fire and one fire per run
    assert len(fire_runs) == len(set(fire_runs)) == len(fired) == len(scenario_runs)
    assert set(fire_runs) == {r.id for r in scenario_runs}
    workers = Counter(f["created_by"] for f in fired) + Counter(f["claimed_by"] for f in fired)
    assert set(workers) == {"alpha", "beta"}, workers           # both took a share
    latencies = sorted(f["latency"] for f in fired)
    assert latencies[len(latencies) // 2] < 1.0, latencies


def test_kill_9_mid_run_then_restart_reconciles_retries_and_applies_misfire(
        tmp_path, make_step, open_project, spawn):
    make_step(tmp_path, "work", "import os, time\nwhile os.path.exists('hold'): time.sleep(0.05)\n"
                                "open('done.txt', 'a').write('x')")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    project = open_project(tmp_path, store_url=store)
    start = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)).replace(microsecond=0)
    project.scenarios.create({
        "name": "every-4s", "run": {"force": True},
        "triggers": [{"type": "interval", "every": 4, "start_at": start.isoformat()}],
        "policies": {"misfire_grace": 1, "retries": 1, "retry_delay": 0, "overlap": "skip"}})
    (tmp_path / "hold").write_text("")
    first = spawn(tmp_path, store, "first")

    def running_step():
        listed = project.list_runs()["runs"]
        if listed:
            run = project.get_run(listed[0]["id"])   # newest first
            if run["steps"] and run["steps"][0]["status"] == "running":
                return run
        return None

    zombie = wait_for(running_step, 60, interval=0.2, message="a running step")
    os.kill(first.pid, signal.SIGKILL)                          # no goodbye
    first.wait(10)
    killed_at = time.time()
    time.sleep(6)                                               # downtime over >= 1 due time
    (tmp_path / "hold").unlink()
    assert project.get_run(zombie["id"])["status"] == "running"   # nobody closed it yet

    second = spawn(tmp_path, store, "second", "--stop-timeout", "2")
    closed = wait_for(lambda: project.get_run(zombie["id"])["status"] != "running" and
                      project.get_run(zombie["id"]), 60, message="the zombie to be reconciled")
    assert closed["status"] == "failed"
    assert f":{first.pid}) stopped without finishing it" in closed["error"]
    assert closed["steps"][0]["status"] == "skipped"
    assert closed["steps"][0]["reason"] == "the run's process stopped"

    def retried():
        done = [f for f in fires_of(project) if f["kind"] == "retry" and f["outcome"]]
        return done[0] if done else None

    retry = wait_for(retried, 60, interval=0.2, message="the retry to run")
    assert retry["outcome"] == "succeeded" and retry["attempt"] == 2
    fired = fires_of(project)
    lost = next(f for f in fired if f["run_id"] == zombie["id"])
    assert lost["status"] == "retried" and lost["outcome"] == "failed"
    assert lost["reason"].startswith("its run was lost: attempt 2 of 2")
    assert retry["details"] == {"retry_of": lost["id"], "why": "its run was lost"}
    # the due times missed while no scheduler ran are recorded once, by the misfire policy:
    # catch up once (coalesced into the retry, which already runs the pipeline)
    missed = [f for f in fired if f["details"].get("missed")]
    assert len(missed) == 1, missed
    downtime = dt.datetime.fromtimestamp(killed_at, dt.timezone.utc)
    assert missed[0]["due_at"] >= downtime.isoformat()[:19]
    assert missed[0]["status"] == "skipped" and missed[0]["scenario"] == "every-4s"
    # no run ran twice at once, none is left running
    spans = sorted((r["id"], r["status"]) for r in project.list_runs(limit=500)["runs"])
    assert [s for s in spans if s[1] == "succeeded"]

    # graceful stop in the middle of a run: stopped, recorded, exit 0
    (tmp_path / "hold").write_text("")
    busy = wait_for(lambda: (r := running_step()) and r["id"] != zombie["id"] and r, 60,
                    interval=0.2, message="another running step")
    assert stop(second) == 0
    ended = project.get_run(busy["id"])
    assert ended["status"] == "cancelled" and ended["steps"][0]["status"] == "cancelled"
    assert all(r["status"] not in ("queued", "running")
               for r in project.list_runs(limit=500)["runs"])
    last = next(f for f in fires_of(project) if f["run_id"] == busy["id"])
    assert (last["status"], last["outcome"]) == ("done", "cancelled")
    assert "stopping: cancelling run" in second.log_path.read_text()
