"""Shared by the scenario steps tests: carry a scenario run out with `Scheduler.tick()`."""
from __future__ import annotations

import time

from jupyter_mlprod.scheduling import Scheduler


def carry_out(project, fire_id: int, statuses, scheduler=None, timeout: float = 60) -> dict:
    """Tick until the scenario run's status is one of `statuses`; its view."""
    scheduler = scheduler or Scheduler(project, poll_interval=0.05)
    deadline = time.monotonic() + timeout
    while True:
        scheduler.tick()
        view = project.scenario_runs.get(fire_id)
        if view["status"] in statuses:
            return view
        if time.monotonic() > deadline:
            raise AssertionError(view)
        time.sleep(0.02)
