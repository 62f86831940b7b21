"""Automatic actions are audited as the scheduler acting for its scenario: a due fire's run
start is recorded with the actor `scheduler:<scenario>` (a person's "run now" keeps the person)."""
from __future__ import annotations

from .conftest import fires_of, wait_for


def test_a_scheduled_run_is_started_by_scheduler_scenario(tmp_path, make_step, open_project,
                                                          schedulers, clock):
    make_step(tmp_path, "work", "x = 1")
    project = open_project(tmp_path, clock=clock)
    project.scenarios.create({"name": "hourly", "triggers": [{"type": "interval", "every": 60}],
                              "run": {"steps": ["work"]}})
    scheduler = schedulers(project, clock=clock, launcher="runs")
    clock.advance(61)
    assert scheduler.tick()["fired"] == 1
    wait_for(lambda: any(f["run_id"] for f in fires_of(project)), message="a run started")

    starts = project.audit_trail.list(action="run.start")["events"]
    assert [(e["actor"], e["outcome"]) for e in starts] == [("scheduler:hourly", "ok")]
    run_id = next(f["run_id"] for f in fires_of(project) if f["run_id"])
    assert starts[0]["object_id"] == str(run_id)
    created = project.audit_trail.list(action="scenario.create")["events"]
    assert created[0]["actor"] != "scheduler:hourly"   # the person who made it
    project.runs.wait(run_id, timeout=120)
