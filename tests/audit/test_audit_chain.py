"""The audit trail's hash chain on a real store (SQLite file and PostgreSQL): tampering with
raw SQL is found and the row named; concurrent writers (threads and processes) keep one valid
chain; filters and the JSON lines export."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from jupyter_mlprod.audit import AuditTrail, acting_as
from jupyter_mlprod.clock import SYSTEM_CLOCK
from jupyter_mlprod.errors import InvalidInput, NotFound
from jupyter_mlprod.store import create_store_engine, migrate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def trail(store_url):
    engine = create_store_engine(store_url)
    migrate(engine)
    yield AuditTrail(engine, "audited", SYSTEM_CLOCK)
    engine.dispose()


def write_events(trail: AuditTrail, n: int, actor: str) -> None:
    with acting_as(actor):
        for i in range(n):
            trail.record("scenario.edit", object_type="scenario", object_id=f"s{i % 3}",
                         before={"n": i}, after={"n": i + 1})


def tamper(trail: AuditTrail, sql: str) -> None:
    with trail.repo.engine.begin() as conn:
        conn.execute(sa.text(sql))


def test_an_edited_row_and_a_deleted_row_are_named(trail):
    write_events(trail, 6, "ada")
    assert trail.verify() == {"ok": True, "checked": 6, "problems": []}
    ids = [e["id"] for e in reversed(trail.list()["events"])]

    tamper(trail, f"UPDATE mlprod_audit_events SET actor = 'mallory' WHERE id = {ids[1]}")
    result = trail.verify()
    assert not result["ok"]
    assert [(p["id"], p["problem"]) for p in result["problems"]] == [(ids[1], "edited")]
    assert f"row {ids[1]} was edited" in result["problems"][0]["message"]

    tamper(trail, f"DELETE FROM mlprod_audit_events WHERE id = {ids[3]}")
    problems = trail.verify()["problems"]
    # the deleted row is named by its position (seq 4), and the row that follows it by id
    assert [(p["id"], p["problem"]) for p in problems] == [(ids[1], "edited"), (ids[4], "deleted")]
    assert "seq 4" in problems[1]["message"] and f"row {ids[4]}" in problems[1]["message"]


def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(trail):
    from jupyter_mlprod.audit.chain import event_hash

    write_events(trail, 3, "ada")
    first = dict(next(trail.repo.chain_rows()), actor="mallory")
    forged = event_hash(first)
    tamper(trail, f"UPDATE mlprod_audit_events SET actor = 'mallory', hash = '{forged}' "
                  f"WHERE id = {first['id']}")
    problems = trail.verify()["problems"]
    assert [p["problem"] for p in problems] == ["broken_link"]
    assert problems[0]["id"] == first["id"] + 1 or problems[0]["seq"] == 2


def test_deleting_the_newest_rows_is_found_by_the_chain_head(trail):
    write_events(trail, 4, "ada")
    newest = trail.list(limit=1)["events"][0]["id"]
    tamper(trail, f"DELETE FROM mlprod_audit_events WHERE id = {newest}")
    result = trail.verify()
    assert not result["ok"] and result["checked"] == 3
    assert result["problems"][0]["problem"] == "deleted"
    assert "seq 4" in result["problems"][0]["message"]


def test_concurrent_threads_and_processes_keep_one_valid_chain(trail, store_url, tmp_path):
    script = ("import sys\n"
              "from jupyter_mlprod.audit import AuditTrail, acting_as\n"
              "from jupyter_mlprod.clock import SYSTEM_CLOCK\n"
              "from jupyter_mlprod.store import create_store_engine\n"
              "trail = AuditTrail(create_store_engine(sys.argv[1]), 'audited', SYSTEM_CLOCK)\n"
              "with acting_as(sys.argv[2]):\n"
              "    for i in range(25):\n"
              "        trail.record('run.start', object_type='run', object_id=str(i))\n")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen([sys.executable, "-c", script, store_url, f"proc{i}"], env=env)
             for i in range(2)]
    threads = [threading.Thread(target=write_events, args=(trail, 25, f"thread{i}"))
               for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]

    result = trail.verify()
    assert result == {"ok": True, "checked": 100, "problems": []}
    rows = list(trail.repo.chain_rows())
    assert [r["seq"] for r in rows] == list(range(1, 101))
    by_actor = {}
    for r in rows:
        by_actor[r["actor"]] = by_actor.get(r["actor"], 0) + 1
    assert by_actor == {"proc0": 25, "proc1": 25, "thread0": 25, "thread1": 25}


def test_filters_export_and_refusals(trail):
    with acting_as("ada"):
        trail.record("scenario.create", object_type="scenario", object_id="nightly",
                     after={"name": "nightly"})
    with acting_as("scheduler:nightly"):
        trail.record("run.start", object_type="run", object_id="7")
    with acting_as("bob"), pytest.raises(NotFound):
        with trail.refusals("scenario.delete", "scenario", "ghost"):
            raise NotFound("scenario 'ghost' does not exist", field="scenario")

    def actions(**filters):
        return [e["action"] for e in trail.list(**filters)["events"]]

    assert actions(object="scenario:nightly") == ["scenario.create"]
    assert actions(object="7") == ["run.start"]
    assert actions(actor="scheduler:nightly") == ["run.start"]
    assert actions(action="scenario.*") == ["scenario.delete", "scenario.create"]
    assert actions(since="1h") == ["scenario.delete", "run.start", "scenario.create"]
    assert actions(since="2999-01-01") == []
    for bad in ("last tuesday", "99999999999999999999d", "0001-01-01T00:00:00+05:00"):
        with pytest.raises(InvalidInput) as caught:
            trail.list(since=bad)
        assert caught.value.field == "since"
    refused = trail.list(outcome="refused")["events"]
    assert [(e["actor"], e["object_id"], e["reason"]) for e in refused] == [
        ("bob", "ghost", "scenario 'ghost' does not exist")]

    lines = list(trail.export_lines(actor="ada"))
    assert len(lines) == 1
    exported = json.loads(lines[0])
    assert exported["after"] == {"name": "nightly"} and exported["seq"] == 1
    assert len(exported["hash"]) == 64 and exported["prev_hash"] == "0" * 64


def test_existing_events_are_chained_by_the_migration(tmp_path):
    """A store made before 0005 (bundle events only) is chained on upgrade and verifies."""
    from alembic import command
    from alembic.config import Config

    from jupyter_mlprod.store.db import MIGRATIONS

    engine = create_store_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004_serving")
        conn.execute(sa.text(
            "INSERT INTO mlprod_audit_events (owner, at, actor, action, object_type, outcome, "
            "details) VALUES ('audited', '2026-01-02 03:04:05.000000', 'ada', 'bundle.create', "
            "'bundle', 'ok', '{}'), ('audited', '2026-01-02 03:04:06.000000', 'ada', "
            "'bundle.deploy', 'deployment', 'ok', '{}')"))
        conn.commit()
    migrate(engine)
    trail = AuditTrail(engine, "audited", SYSTEM_CLOCK)
    trail.record("node.register", object_type="node", object_id="prod")
    assert trail.verify() == {"ok": True, "checked": 3, "problems": []}
    engine.dispose()
