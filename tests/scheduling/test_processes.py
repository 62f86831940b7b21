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

import psutil
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
        done = [f for f in items if f["status"] == "done"]
        assert all(f["outcome"] == "succeeded" for f in done), done
        # On a loaded machine a pass can lag: a due time may then be coalesced into a fire still
        # waiting (once, as policy says), or be left pending as the schedulers stop. Never twice.
        late = [(f["due_at"], f["status"], f["reason"]) for f in items if f["status"] != "done"]
        assert all(status == "pending" or (status == "skipped" and reason.startswith("coalesced"))
                   for _, status, reason in late), late
        assert len(done) >= 5, f"{name}: only {len(done)} fires launched"
    # one run per launched fire and one fire per run
    launched = [f for f in fired if f["status"] == "done"]
    assert len(fire_runs) == len(set(fire_runs)) == len(launched) == len(scenario_runs)
    assert set(fire_runs) == {r.id for r in scenario_runs}
    workers = Counter(f["created_by"] for f in fired) + Counter(f["claimed_by"] for f in launched)
    assert set(workers) == {"alpha", "beta"}, workers           # both took a share
    # (fire latency is a duration: benchmarks/ measures it, not this test)


def test_two_scheduler_processes_with_real_runs_start_one_run_per_due_time(
        tmp_path, make_step, open_project, pg_url, spawn):
    # The dry-run launcher above skips the claim that guards real launches: here both
    # schedulers launch real runs (a trivial step, papermill and a kernel) from one store.
    make_step(tmp_path, "work", "pass")
    project = open_project(tmp_path, store_url=pg_url)
    start = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=3)).replace(microsecond=0)
    project.scenarios.create({"name": "every-4s", "run": {"force": True}, "triggers": [
        {"type": "interval", "every": 4, "start_at": start.isoformat()}]})
    a = spawn(tmp_path, pg_url, "alpha")
    b = spawn(tmp_path, pg_url, "beta")

    def finished():
        done = [f for f in fires_of(project) if f["outcome"]]
        return len(done) >= 2 and done
    wait_for(finished, 180, interval=0.2, message="two fires with finished runs")
    assert stop(a) == 0 and stop(b) == 0, a.log_path.read_text()[-2000:]

    fired = [f for f in fires_of(project) if f["outcome"]]
    dues = [f["due_at"] for f in fired]
    assert len(dues) == len(set(dues)), f"a due time fired twice: {dues}"
    assert all(f["status"] == "done" and f["outcome"] == "succeeded" for f in fired), fired
    # exactly one run per due time: one run per fire, and no run that no fire accounts for
    all_fires = fires_of(project)
    run_ids = [f["run_id"] for f in all_fires if f["run_id"]]
    assert len(run_ids) == len(set(run_ids)), f"two fires share a run: {all_fires}"
    listed = project.list_runs(limit=500)["runs"]
    assert sorted(r["id"] for r in listed) == sorted(run_ids), (listed, all_fires)
    assert {f["run_id"] for f in fired} <= set(run_ids)
    assert_no_overlap(listed)


def assert_no_overlap(listed: list[dict]) -> None:
    """No two runs of the project were running at the same time. A run still going (the
    interval trigger keeps firing) counts as running until the end of time: it must be the
    last one."""
    spans = sorted((r["started_at"], r["finished_at"] or "9999", r["id"]) for r in listed
                   if r["started_at"])
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        assert end <= begin, f"runs {first} and {second} ran at the same time: {spans}"


def test_kill_9_mid_run_then_restart_reconciles_retries_and_applies_misfire(
        tmp_path, make_step, open_project, spawn):
    make_step(tmp_path, "work", "import os, time\nopen('kernel.pid', 'w').write(str(os.getpid()))\n"
                                "while os.path.exists('hold'): time.sleep(0.05)\n"
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
    kernel = int(wait_for(lambda: (tmp_path / "kernel.pid").exists() and
                          (tmp_path / "kernel.pid").read_text(), 60, message="the kernel"))
    descendants = psutil.Process(first.pid).children(recursive=True)  # forkserver, worker, kernel
    assert kernel in {p.pid for p in descendants} and len(descendants) >= 3, descendants
    os.kill(first.pid, signal.SIGKILL)                          # no goodbye
    first.wait(10)
    killed_at = time.time()
    # nothing the scheduler started outlives it, and no kernel goes on to write outputs
    wait_for(lambda: not [p for p in descendants if p.is_running() and
                          p.status() != psutil.STATUS_ZOMBIE], 15, message="its processes to die")
    time.sleep(6)                                               # downtime over >= 1 due time
    (tmp_path / "hold").unlink()
    time.sleep(0.5)
    assert not (tmp_path / "done.txt").exists()
    # its owner is gone: reads say so at once, before any scheduler is back
    lost_run = project.get_run(zombie["id"])
    assert lost_run["status"] == "failed"

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
    # (a loaded machine may start the first scheduler late enough to miss a due time too)
    downtime = dt.datetime.fromtimestamp(killed_at, dt.timezone.utc).isoformat()[:19]
    missed = [f for f in fired if f["details"].get("missed") and f["due_at"] >= downtime]
    assert len(missed) == 1, missed
    assert missed[0]["status"] == "skipped" and missed[0]["scenario"] == "every-4s"
    # no two runs ran at once, and the retry succeeded
    listed = project.list_runs(limit=500)["runs"]
    assert [r for r in listed if r["status"] == "succeeded"]
    assert_no_overlap(listed)

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
