"""Shared by the scenario steps tests: carry a scenario run out with `Scheduler.tick()`."""
from __future__ import annotations

from jupyter_mlprod.scheduling import Scheduler


def carry_out(project, fire_id: int, statuses, scheduler=None, passes: int = 50) -> dict:
    """Tick until the scenario run's status is one of `statuses`; its view."""
    scheduler = scheduler or Scheduler(project, poll_interval=0.05)
    for _ in range(passes):
        scheduler.tick()
        view = project.scenario_runs.get(fire_id)
        if view["status"] in statuses:
            return view
    raise AssertionError(view)
