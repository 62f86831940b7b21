"""Following a run in the foreground, shared by `mlprod run` and `%mlprod run`.

The run executes in the run service's thread; this thread polls the run (woken early by the
service's `on_update` callback) and hands every view to `on_change`, so terminal and notebook
output are only ever written from the caller's thread. The first Ctrl-C (or kernel interrupt)
asks the service to cancel and keeps following until the run is closed; a second one gives up.
"""
from __future__ import annotations

import threading
from typing import Callable

from ..errors import Conflict
from .output import ACTIVE

POLL_SECONDS = 0.5


def follow_run(project, start: Callable[[Callable[[int], None]], dict],
               on_change: Callable[[dict], None],
               on_interrupt: Callable[[dict], None] | None = None) -> tuple[dict, bool]:
    """`start(on_update)` starts the run (without waiting) and returns its view.
    Returns the finished run's view and whether the user interrupted it."""
    changed = threading.Event()
    run = start(lambda _run_id: changed.set())
    run_id = run["id"]
    interrupted = False
    on_change(run)
    while True:
        try:
            changed.wait(POLL_SECONDS)
            changed.clear()
            run = project.get_run(run_id)
            on_change(run)
            if run["status"] not in ACTIVE:
                project.wait_run(run_id, timeout=30)  # let the service's thread close cleanly
                return run, interrupted
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            if on_interrupt:
                on_interrupt(run)
            try:
                project.cancel_run(run_id)
            except Conflict:
                pass  # it finished in the meantime
