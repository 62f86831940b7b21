"""Saving scenarios: validation with exact fields, as-you-type previews, CRUD and secrets.
No kernel runs here."""
from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from jupyter_mlprod.errors import Conflict, InvalidInput, NotFound

from .conftest import free_port


@pytest.fixture
def project(tmp_path, make_step, open_project, clock):
    make_step(tmp_path, "prepare", "open('a.txt','w').write('a')", outputs=["a.txt"],
              parameters="n_rows = 10\nrate = 0.5")
    make_step(tmp_path, "train", "pass", inputs=["a.txt"], parameters="epochs = 3")
    return open_project(tmp_path, clock=clock)


def spec(**changes):
    base = {"name": "nightly", "triggers": [{"type": "cron", "cron": "0 6 * * 1-5",
                                             "timezone": "Europe/Paris"}],
            "run": {"steps": ["prepare"], "parameters": {"n_rows": 100}}}
    base.update(changes)
    return base


BAD = [
    (dict(triggers=[{"type": "cron", "cron": "61 6 * * *"}]), "triggers[0].cron",
     "minute 61 is out of range 0-59"),
    (dict(triggers=[{"type": "cron", "cron": "0 6 * 1-13 *"}]), "triggers[0].cron",
     "month 13 is out of range 1-12"),
    (dict(triggers=[{"type": "cron", "cron": "*/0 6 * * *"}]), "triggers[0].cron",
     "minute step '0'"),
    (dict(triggers=[{"type": "cron", "cron": "0 6 * * funday"}]), "triggers[0].cron",
     "day-of-week 'funday'"),
    (dict(triggers=[{"type": "cron", "cron": "0 6 * *"}]), "triggers[0].cron", "5 fields"),
    (dict(triggers=[{"type": "manual"}, {"type": "cron", "cron": "0 6 * * *",
                                         "timezone": "Mars/Olympus"}]),
     "triggers[1].timezone", "Mars/Olympus"),
    (dict(triggers=[{"type": "crom", "cron": "0 6 * * *"}]), "triggers[0].type", "crom"),
    (dict(triggers=[{"type": "cron", "cron": "0 6 * * *", "tz": "UTC"}]), "triggers[0].tz",
     "did you mean 'timezone'"),
    (dict(triggers=[{"type": "interval", "every": "soon"}]), "triggers[0].every", "duration"),
    (dict(triggers=[{"type": "files", "paths": ["../outside.csv"]}]), "triggers[0].paths[0]",
     "leaves the project"),
    (dict(triggers=[{"type": "files", "paths": ["/etc/passwd"]}]), "triggers[0].paths[0]",
     "absolute"),
    (dict(triggers=[{"type": "sql", "url": "not a url", "query": "SELECT 1"}]), "triggers[0].url",
     "SQLAlchemy URL"),
    (dict(triggers=[{"type": "run_finished", "scenario": "ghost"}]), "triggers[0].scenario",
     "unknown scenario"),
    (dict(triggers=[]), "triggers", "at least one trigger"),
    (dict(run={"steps": ["prepare", "nope"]}), "run.steps[1]", "unknown step 'nope'"),
    (dict(run={"from": "nope"}), "run.from", "unknown step"),
    (dict(run={"steps": ["prepare"], "parameters": {"n_rows": "many"}}), "run.parameters.n_rows",
     "n_rows"),
    (dict(run={"steps": ["train"], "parameters": {"n_rows": 5}}), "run.parameters.n_rows",
     "no step in this run"),
    (dict(run={"steps": ["prepare"], "parameters": {"prepare.epochs": 5}}),
     "run.parameters.prepare.epochs", "no parameter"),
    (dict(reporters=[{"type": "webhook", "url": "ftp://hooks.example.com/x"}]), "reporters[0].url",
     "http"),
    (dict(reporters=[{"type": "webhook", "url": "https://h/x", "when": "sometimes"}]),
     "reporters[0].when", "always"),
    (dict(reporters=[{"type": "webhook", "url": "https://h/x", "template": "{scenario} {oops}"}]),
     "reporters[0].template", "{oops}"),
    (dict(reporters=[{"type": "email", "to": ["a@b.c"], "host": "smtp", "user": "bot",
                      "password": "hunter2"}]), "reporters[0].password", "never stored"),
    (dict(reporters=[{"type": "email", "to": ["not-an-address"], "host": "smtp"}]),
     "reporters[0].to[0]", "e-mail address"),
    (dict(reporters=[{"type": "email", "to": ["a@b.c"], "host": "smtp", "user": "bot"}]),
     "reporters[0].password_env", "password_env"),
    (dict(policies={"misfire": "sometimes"}), "policies.misfire", "catch_up_once"),
    (dict(policies={"retries": -1}), "policies.retries", "retries"),
    (dict(name="9lives"), "name", "letter"),
]


@pytest.mark.parametrize("changes,field,words", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_input_is_refused_at_save_with_the_exact_field(project, changes, field, words):
    with pytest.raises(InvalidInput) as info:
        project.scenarios.create(spec(**changes))
    assert info.value.field == field, info.value.message
    assert words in info.value.message
    checked = project.scenarios.validate(spec(**changes))
    assert not checked["valid"] and checked["errors"][0]["field"] == field
    assert project.scenarios.list() == []


def test_validate_reports_every_error_and_previews_triggers_without_saving(project):
    result = project.scenarios.validate({
        "name": "x", "triggers": [
            {"type": "cron", "cron": "30 2 * * *", "timezone": "Europe/Paris"},
            {"type": "cron", "cron": "0 25 * * *"},
            {"type": "interval", "every": "1h30m"},
            {"type": "webhook"}],
        "run": {"steps": ["zz"]},
        "reporters": [{"type": "webhook", "url_env": "NOT_SET_ANYWHERE_42"}]})
    assert not result["valid"] and result["spec"] is None
    assert [e["field"] for e in result["errors"]] == ["triggers[1].cron", "triggers[3].type",
                                                      "run.steps[0]"]
    assert [w["field"] for w in result["warnings"]] == ["reporters[0].url_env"]
    cron, bad, interval, _ = result["triggers"]
    assert cron["description"] == "At 02:30 (Europe/Paris)"
    # the clock is 2025-01-06 04:59:30Z; 02:30 in Paris is 01:30Z in winter
    assert cron["next"] == ["2025-01-07T01:30:00Z", "2025-01-08T01:30:00Z",
                            "2025-01-09T01:30:00Z", "2025-01-10T01:30:00Z",
                            "2025-01-11T01:30:00Z"]
    assert bad["description"] is None and bad["next"] == []
    assert interval["description"] == "every 1 h 30 min"
    assert interval["next"][:2] == ["2025-01-06T06:29:30Z", "2025-01-06T07:59:30Z"]
    assert project.scenarios.list() == []

    ok = project.scenarios.validate(spec())
    assert ok["valid"] and ok["errors"] == []
    assert ok["triggers"][0]["description"] == "At 06:00, Monday through Friday (Europe/Paris)"
    assert ok["triggers"][0]["next"][0] == "2025-01-06T05:00:00Z"


def test_cron_follows_daylight_saving_time(project, clock):
    import datetime as dt

    clock.set(dt.datetime(2025, 3, 29, 12, 0, tzinfo=dt.timezone.utc))
    preview = project.scenarios.validate(spec(triggers=[
        {"type": "cron", "cron": "0 6 * * *", "timezone": "Europe/Paris"}]))["triggers"][0]
    # 06:00 Paris is 05:00Z before the change of 30 March 2025 and 04:00Z after it
    assert preview["next"][:3] == ["2025-03-30T04:00:00Z", "2025-03-31T04:00:00Z",
                                   "2025-04-01T04:00:00Z"]


def test_create_get_list_update_enable_disable_remove(project):
    svc = project.scenarios
    made = svc.create(spec(description="refresh the model", reporters=[
        {"type": "webhook", "url": "https://hooks.example.com/services/T0/B0/secret",
         "when": "failure"}]))
    assert made["name"] == "nightly" and made["enabled"] and made["version"] == 1
    assert made["run"] == {"steps": ["prepare"], "from": None, "parameters": {"n_rows": 100},
                           "force": False}
    assert made["policies"]["misfire"] == "catch_up_once" and made["policies"]["overlap"] == "skip"
    assert made["next_fire_at"] == "2025-01-06T05:00:00Z"
    assert made["trigger_status"][0]["description"].startswith("At 06:00")
    assert made["last_outcome"] is None and made["active_run_id"] is None
    # the webhook's secret path is not shown back...
    assert made["reporters"][0]["url"] == "https://hooks.example.com/***"
    assert svc.get("nightly") == svc.get(made["id"]) == svc.get(str(made["id"]))
    assert [s["name"] for s in svc.list()] == ["nightly"]

    # ...and sending the view back keeps it
    view = svc.get("nightly")
    view["run"] = {"steps": ["prepare"], "parameters": {"n_rows": 7}}
    updated = svc.update("nightly", view)
    assert updated["version"] == 2 and updated["run"]["parameters"] == {"n_rows": 7}
    from jupyter_mlprod.store.scenarios import ScenarioRepository

    stored = ScenarioRepository(project.engine, project.settings.name).get_scenario(name="nightly")
    assert stored["spec"]["reporters"][0]["url"].endswith("/T0/B0/secret")
    with pytest.raises(Conflict) as info:   # someone else saved version 2 meanwhile
        svc.update("nightly", dict(view, description="stale edit"))
    assert info.value.field == "version"

    off = svc.disable("nightly")
    assert off["enabled"] is False and off["next_fire_at"] is None
    assert svc.enable("nightly")["next_fire_at"] == "2025-01-06T05:00:00Z"

    with pytest.raises(InvalidInput) as info:
        svc.create(spec())
    assert info.value.field == "name" and info.value.code == "duplicate_name"
    svc.create(spec(name="after", triggers=[{"type": "run_finished", "scenario": "nightly",
                                              "on": "failure"}]))
    with pytest.raises(InvalidInput) as info:   # a loop of run_finished triggers
        svc.update("nightly", {"triggers": [{"type": "run_finished", "scenario": "after"}]})
    assert info.value.field == "triggers[0].scenario" and info.value.code == "cycle"
    with pytest.raises(Conflict):
        svc.remove("nightly")        # "after" waits for it
    with pytest.raises(Conflict):
        svc.update("nightly", {"name": "renamed"})
    assert svc.remove("after")["name"] == "after"
    assert svc.remove("nightly")["name"] == "nightly"
    with pytest.raises(NotFound):
        svc.get("nightly")
    with pytest.raises(NotFound):
        svc.get(99999999999)


def test_sql_triggers_are_checked_at_save(project, tmp_path, pg_url):
    db = tmp_path / "warehouse.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, updated TEXT)")
        conn.execute("INSERT INTO orders VALUES (1, '2025-01-01')")
    svc = project.scenarios
    cases = [
        ({"url": f"postgresql://nobody@127.0.0.1:{free_port()}/none", "query": "SELECT 1"},
         "triggers[0].url", "cannot connect"),
        ({"url": "sqlite:///missing.db", "query": "SELECT 1"}, "triggers[0].url", "does not exist"),
        ({"url": "sqlite:///warehouse.db", "query": "SELECT max(x) FROM nowhere"},
         "triggers[0].query", "the query failed"),
        ({"url": f"{pg_url}", "query": "SELECT * FROM no_such_table"}, "triggers[0].query",
         "no_such_table"),
        ({"url": "sqlite:///warehouse.db", "query": "UPDATE orders SET id = 2"},
         "triggers[0].query", "readonly"),
        ({"url": f"{pg_url}", "query": "CREATE TABLE sneaky (x int)"},
         "triggers[0].query", "read-only"),
    ]
    for trigger, field, words in cases:
        with pytest.raises(InvalidInput) as info:
            svc.create(spec(triggers=[dict(type="sql", **trigger)]))
        assert (info.value.field, words in info.value.message) == (field, True), info.value.message
    with sqlite3.connect(db) as conn:   # the failed checks wrote nothing
        assert conn.execute("SELECT id FROM orders").fetchall() == [(1,)]

    made = svc.create(spec(name="orders", triggers=[
        {"type": "sql", "url": "sqlite:///warehouse.db",
         "query": "SELECT max(updated), count(*) FROM orders WHERE updated LIKE '2025%'"}]))
    assert made["trigger_status"][0]["last_checked_at"] is not None
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE events (id int, at timestamptz)"))
    engine.dispose()
    password_url = pg_url.replace("postgres@", "postgres:s3cret@")
    made = svc.create(spec(name="events", triggers=[
        {"type": "sql", "url": password_url,
         "query": "SELECT count(*), max(at)::date FROM events"}]))
    assert "s3cret" not in str(made) and "***" in made["triggers"][0]["url"]
    assert "s3cret" not in str(svc.validate(dict(made, name="x")))
