"""Step timeouts, with the injected clock (the only fake): an approval nobody gives fails its
step and the `if: failure` notify still runs; a canary that gets no traffic in time is taken
off the endpoint again (its traffic rolled back). And a scheduler stopped gracefully cancels
the run of a run step, which the next scheduler records on the scenario run."""
from __future__ import annotations

import sys
from pathlib import Path

from jupyter_mlprod.project import Project
from jupyter_mlprod.scheduling import Scheduler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from serving.serving_helpers import write_scoring_notebook  # noqa: E402

from .conftest import wait_for  # noqa: E402
from .steps_helpers import carry_out  # noqa: E402


def later(project, scheduler, fire_id, statuses, clock, seconds) -> dict:
    clock.advance(seconds)
    return carry_out(project, fire_id, statuses, scheduler)


def test_an_approval_nobody_gives_times_out_and_the_failure_branch_runs(tmp_path, clock,
                                                                        make_step):
    make_step(tmp_path, "noop", "x = 1")
    project = Project.create(tmp_path, name="timeouts", clock=clock)
    try:
        project.scenarios.create({"name": "gate", "triggers": [{"type": "manual"}], "steps": [
            {"kind": "approve", "timeout": 60},
            {"kind": "notify", "message": "never deployed"},
            {"kind": "notify", "name": "tell", "if": "failure", "message": "nobody decided"}]})
        project.scenarios.create({"name": "follow", "steps": [{"kind": "notify", "message": "x"}],
                                  "triggers": [{"type": "run_finished", "scenario": "gate",
                                                "on": "failure"}]})
        scheduler = Scheduler(project, poll_interval=0.05)
        fire_id = project.scenarios.trigger("gate")["id"]
        carry_out(project, fire_id, ("waiting_approval",), scheduler)
        clock.advance(59)
        assert carry_out(project, fire_id, ("waiting_approval",), scheduler)
        view = later(project, scheduler, fire_id, ("failed",), clock, 2)
        assert [s["status"] for s in view["steps"]] == ["timed_out", "skipped", "succeeded"]
        assert view["error"] == "approve0 took longer than 60 s without a decision"
        assert view["steps"][2]["values"]["message"] == "nobody decided"
        [after] = project.scenarios.fires("follow")   # a scenario waiting for this one fires
        assert after["kind"] == "run_finished" and after["details"]["outcome"] == "failed"
        assert carry_out(project, after["id"], ("succeeded",), scheduler)
    finally:
        project.close()


def test_a_canary_without_traffic_in_time_is_rolled_back(tmp_path, clock, make_step):
    make_step(tmp_path, "noop", "x = 1")
    write_scoring_notebook(tmp_path / "score.ipynb", setup=[], sample="request = {}",
                           score="response = {'ok': 1}")
    project = Project.create(tmp_path, name="canary", clock=clock)
    try:
        project.endpoints.create("score", notebook="score.ipynb")
        project.scenarios.create({"name": "ship", "triggers": [{"type": "manual"}], "steps": [
            {"kind": "bundle", "message": "candidate"},
            {"kind": "endpoint", "endpoint": "score", "weight": 25, "timeout": 300,
             "promote_after": {"requests": 100}}]})
        scheduler = Scheduler(project, poll_interval=0.05)
        fire_id = project.scenarios.trigger("ship")["id"]
        view = carry_out(project, fire_id, ("running",), scheduler)
        version = view["steps"][1]["values"]["version"]
        weights = project.endpoints.get("score")["traffic"]["weights"]
        assert weights[version] == 25 and sum(weights.values()) == 100
        view = later(project, scheduler, fire_id, ("failed",), clock, 301)
        assert view["steps"][1]["status"] == "timed_out"
        assert version not in project.endpoints.get("score")["traffic"]["weights"]
    finally:
        project.close()


def test_a_graceful_stop_cancels_a_run_step_s_run_and_the_next_scheduler_records_it(
        tmp_path, make_step):
    make_step(tmp_path, "slow", "import time\ntime.sleep(60)")
    project = Project.create(tmp_path, name="stopping")
    try:
        project.scenarios.create({"name": "long", "triggers": [{"type": "manual"}],
                                  "steps": [{"kind": "run"}]})
        scheduler = Scheduler(project, poll_interval=0.1).start()
        fire_id = project.scenarios.trigger("long")["id"]

        def started_run():
            steps = project.scenario_runs.get(fire_id)["steps"]   # none until it begins
            return steps and steps[0]["values"].get("run_id")

        run_id = wait_for(started_run, 30, message="the run step's run")
        wait_for(lambda: project.get_run(run_id)["steps"][0]["status"] == "running", 30,
                 message="its step to run")
        scheduler.stop(timeout=0.5)                 # SIGTERM: the run is cancelled, recorded
        assert project.get_run(run_id)["status"] == "cancelled"
        view = carry_out(project, fire_id, ("failed",))
        assert view["error"] == f"run {run_id} cancelled"
    finally:
        project.close()
