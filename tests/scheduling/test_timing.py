"""Time logic with an injected clock: cron in a time zone, intervals, persisted next fire times,
restarts, misfire policies, overlap, the global limit; file and SQL change triggers."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from .conftest import UTC, fires_of, wait_for

DAY0 = dt.datetime(2025, 1, 6, 4, 59, 30, tzinfo=UTC)


@pytest.fixture
def root(tmp_path, make_step):
    make_step(tmp_path, "work", "print('working')", parameters="n_rows = 10")
    return tmp_path


def cron(name, expr, tz="UTC", **policies):
    return {"name": name, "triggers": [{"type": "cron", "cron": expr, "timezone": tz}],
            "run": {"parameters": {"n_rows": 1}}, "policies": policies}


def test_cron_fires_once_at_its_local_time_and_a_restart_neither_loses_nor_repeats(
        root, open_project, schedulers, clock):
    project = open_project(root, clock=clock)
    project.scenarios.create(cron("paris", "0 6 * * 1-5", "Europe/Paris"))
    project.scenarios.create(cron("tokyo", "0 14 * * *", "Asia/Tokyo"))   # 05:00Z too
    scheduler = schedulers(project, clock=clock, launcher="dry-run")
    assert scheduler.tick()["fired"] == 0
    clock.advance(30)                                        # 05:00:00Z
    assert scheduler.tick()["fired"] == 2
    assert scheduler.tick()["fired"] == 0
    fired = fires_of(project)
    assert sorted((f["scenario"], f["due_at"], f["status"], f["outcome"]) for f in fired) == [
        ("paris", "2025-01-06T05:00:00Z", "done", "succeeded"),
        ("tokyo", "2025-01-06T05:00:00Z", "done", "succeeded")]
    assert all(f["run_id"] and f["latency"] == 0 for f in fired)
    assert project.get_run(fired[0]["run_id"])["trigger"] == "scenario:cron"

    # a restart: a new process opens the same store; what fired stays fired, what is due fires
    scheduler.stop(timeout=1)
    clock.advance(hours=24, seconds=20)                      # 2025-01-07 05:00:20Z
    again = open_project(root, clock=clock)
    assert again.scenarios.get("paris")["next_fire_at"] == "2025-01-07T05:00:00Z"
    restarted = schedulers(again, clock=clock, launcher="dry-run")
    assert restarted.tick()["fired"] == 2 and restarted.tick()["fired"] == 0
    dues = sorted((f["scenario"], f["due_at"]) for f in fires_of(again))
    assert dues == [("paris", "2025-01-06T05:00:00Z"), ("paris", "2025-01-07T05:00:00Z"),
                    ("tokyo", "2025-01-06T05:00:00Z"), ("tokyo", "2025-01-07T05:00:00Z")]
    assert again.scenarios.get("paris")["next_fire_at"] == "2025-01-08T05:00:00Z"
    listed = {s["name"]: s for s in again.scenarios.list()}
    assert listed["tokyo"]["last_outcome"] == "succeeded"
    assert listed["tokyo"]["next_fire_at"] == "2025-01-08T05:00:00Z"


def test_misfire_catch_up_once_or_skip_after_downtime(root, open_project, schedulers, clock):
    project = open_project(root, clock=clock)
    project.scenarios.create(cron("catchup", "0 * * * *"))
    project.scenarios.create(cron("skipper", "0 * * * *", misfire="skip"))
    scheduler = schedulers(project, clock=clock, launcher="dry-run")
    clock.advance(40)                                         # 05:00:10Z: on time for both
    assert scheduler.tick()["fired"] == 2
    clock.set(dt.datetime(2025, 1, 6, 8, 30, tzinfo=UTC))    # down from 05:00 to 08:30
    scheduler.tick()
    late = [f for f in fires_of(project) if f["due_at"] != "2025-01-06T05:00:00Z"]
    catchup = [f for f in late if f["scenario"] == "catchup"]
    skipped = [f for f in late if f["scenario"] == "skipper"]
    assert len(catchup) == 1 and catchup[0]["status"] == "done" and catchup[0]["run_id"]
    assert catchup[0]["due_at"] == "2025-01-06T08:00:00Z"
    assert catchup[0]["details"] == {"missed": "3", "first_missed": "2025-01-06T06:00:00Z",
                                     "last_missed": "2025-01-06T08:00:00Z", "catch_up": True}
    assert "catching up 3 missed" in catchup[0]["trigger"]
    assert len(skipped) == 1 and skipped[0]["status"] == "skipped" and not skipped[0]["run_id"]
    assert "missed 3 due times" in skipped[0]["reason"] and "skip" in skipped[0]["reason"]
    for name in ("catchup", "skipper"):
        assert project.scenarios.get(name)["next_fire_at"] == "2025-01-06T09:00:00Z"
    clock.set(dt.datetime(2025, 1, 6, 9, 0, 30, tzinfo=UTC))  # within the 60 s grace
    assert scheduler.tick()["launched"] == 2


def test_interval_fires_on_its_grid_without_drift(root, open_project, schedulers, clock):
    project = open_project(root, clock=clock)
    project.scenarios.create({"name": "every10", "run": {}, "triggers": [
        {"type": "interval", "every": "10m", "start_at": "2025-01-06T05:00:00Z"}]})
    scheduler = schedulers(project, clock=clock, launcher="dry-run")
    for _ in range(50):                       # ticks every 73 s for about an hour
        clock.advance(73)
        scheduler.tick()
    fired = sorted(fires_of(project), key=lambda f: f["due_at"])
    assert [f["due_at"][11:19] for f in fired] == ["05:00:00", "05:10:00", "05:20:00", "05:30:00",
                                                   "05:40:00", "05:50:00", "06:00:00"]
    assert all(0 <= f["latency"] < 73 and f["outcome"] == "succeeded" for f in fired)


def test_overlap_skip_queue_coalescing_and_the_global_limit(
        tmp_path, make_step, open_project, schedulers, clock):
    hold = "import os, time\nwhile os.path.exists('hold'): time.sleep(0.05)"
    a, b = tmp_path / "a", tmp_path / "b"
    make_step(a, "work", hold)
    make_step(b, "other", "print('b')")
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    project = open_project(a, clock=clock, store_url=store)
    other = open_project(b, clock=clock, store_url=store)
    every = [{"type": "interval", "every": 60, "start_at": "2025-01-06T05:00:00Z"}]
    project.scenarios.create({"name": "skipper", "triggers": every, "run": {}})
    project.scenarios.create({"name": "queuer", "triggers": every, "run": {},
                              "policies": {"overlap": "queue"}})
    other.scenarios.create({"name": "elsewhere", "triggers": every, "run": {}})
    scheduler = schedulers(project, clock=clock)
    limited = schedulers(other, clock=clock, max_concurrent_runs=1)
    (a / "hold").write_text("")
    clock.advance(30)                                           # 05:00:00Z
    scheduler.tick()                                            # skipper starts, queuer waits
    first = wait_for(lambda: project.scenarios.get("skipper")["active_run_id"], 30, message="run")
    limited.tick()                                              # the store-wide limit is 1
    [waiting] = fires_of(other)
    assert waiting["status"] == "pending" and "max_concurrent_runs = 1" in waiting["reason"]
    clock.advance(60)                                           # 05:01:00Z
    scheduler.tick()
    fired = {(f["scenario"], f["due_at"][11:19]): f for f in fires_of(project, None)
             if f["scenario_id"]}
    assert fired[("skipper", "05:00:00")]["status"] == "launched"
    assert fired[("skipper", "05:01:00")]["status"] == "skipped"
    assert fired[("skipper", "05:01:00")]["reason"] == \
        f"run {first} of this scenario was still running (overlap: skip)"
    queued = fired[("queuer", "05:00:00")]
    assert queued["status"] == "pending" and f"run {first} of the project" in queued["reason"]
    coalesced = fired[("queuer", "05:01:00")]
    assert coalesced["status"] == "skipped"
    assert coalesced["details"]["coalesced_into"] == queued["id"]

    (a / "hold").unlink()
    wait_for(lambda: project.get_run(first)["status"] == "succeeded", 60, message="run 1 ends")
    scheduler.tick()                       # finishes skipper's fire, launches the queued one
    assert project.scenarios.get("skipper")["last_outcome"] == "succeeded"
    second = wait_for(lambda: project.scenarios.get("queuer")["active_run_id"] or
                      project.scenarios.get("queuer")["last"], 10, message="queued launch")
    wait_for(lambda: scheduler.tick() and project.scenarios.get("queuer")["last_outcome"], 60,
             message="queued run ends")
    assert second
    limited.tick()
    wait_for(lambda: limited.tick() and other.scenarios.get("elsewhere")["last_outcome"], 60,
             message="the other project's run")
    assert other.scenarios.get("elsewhere")["last_outcome"] == "succeeded"


def test_file_trigger_fires_on_content_change_not_on_touch(root, open_project, schedulers, clock):
    data = root / "data"
    data.mkdir()
    (data / "a.csv").write_text("x\n1\n")
    project = open_project(root, clock=clock)
    project.scenarios.create({"name": "on-data", "run": {}, "triggers": [
        {"type": "files", "paths": ["data/*.csv"], "poll": 10}]})
    scheduler = schedulers(project, clock=clock, launcher="dry-run")
    clock.advance(11)
    scheduler.tick()
    import os
    os.utime(data / "a.csv", (1, 1))                         # a touch: same bytes
    clock.advance(11)
    scheduler.tick()
    assert fires_of(project) == []
    status = project.scenarios.get("on-data")["trigger_status"][0]
    assert status["last_checked_at"] == "2025-01-06T04:59:52Z" and status["error"] is None
    (data / "a.csv").write_text("x\n2\n")
    (data / "b.csv").write_text("y\n")
    clock.advance(11)
    scheduler.tick()
    [fire] = fires_of(project)
    assert fire["kind"] == "files" and fire["outcome"] == "succeeded"
    assert fire["details"] == {"added": ["data/b.csv"], "removed": [], "changed": ["data/a.csv"]}
    clock.advance(11)
    scheduler.tick()
    assert len(fires_of(project)) == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sql_trigger_fires_on_result_change_and_survives_a_broken_database(
        kind, root, open_project, schedulers, clock, webhook, request):
    if kind == "sqlite":
        url = "sqlite:///warehouse.db"
        engine = sa.create_engine(f"sqlite:///{root / 'warehouse.db'}")
    else:
        url = request.getfixturevalue("pg_url")
        engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE orders (id int, amount numeric)"))
        conn.execute(sa.text("INSERT INTO orders VALUES (1, 9.5)"))
    project = open_project(root, clock=clock)
    project.scenarios.create({"name": "on-orders", "run": {}, "triggers": [
        {"type": "sql", "url": url, "query": "SELECT count(*), sum(amount) FROM orders",
         "poll": 30}], "reporters": [{"type": "webhook", "url": webhook.url + "/hook",
                                      "when": "failure"}]})
    project.scenarios.create(cron("heartbeat", "*/1 * * * *"))
    scheduler = schedulers(project, clock=clock, launcher="dry-run")

    def step():
        clock.advance(31)
        return scheduler.tick()

    step()
    assert [f["scenario"] for f in fires_of(project)] == ["heartbeat"]   # unchanged: no fire
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders VALUES (2, 1.25)"))
    step()
    changed = [f for f in fires_of(project) if f["scenario"] == "on-orders"]
    assert len(changed) == 1 and changed[0]["kind"] == "sql"
    assert changed[0]["outcome"] == "succeeded"
    assert changed[0]["details"]["rows"] == 1

    with engine.begin() as conn:                       # the watched table disappears
        conn.execute(sa.text("ALTER TABLE orders RENAME TO orders_old"))
    before = len([f for f in fires_of(project) if f["scenario"] == "heartbeat"])
    step()
    step()
    status = project.scenarios.get("on-orders")["trigger_status"][0]
    assert "orders" in status["error"] and status["error_since"] == "2025-01-06T05:01:03Z"
    errors = [f for f in fires_of(project)
              if f["scenario"] == "on-orders" and f["status"] == "error"]
    assert len(errors) == 1 and errors[0]["outcome"] == "error"  # reported once, not per poll
    assert "the query failed" in errors[0]["reason"]
    assert len([f for f in fires_of(project) if f["scenario"] == "heartbeat"]) > before  # going on
    [report] = webhook.received("/hook")
    assert "on-orders could not be evaluated" in report["body"]["text"]
    assert "the query failed" in report["body"]["text"]

    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE orders_old RENAME TO orders"))
    step()
    assert project.scenarios.get("on-orders")["trigger_status"][0]["error"] is None
    assert len([f for f in fires_of(project) if f["scenario"] == "on-orders"]) == 2  # unchanged
    engine.dispose()
