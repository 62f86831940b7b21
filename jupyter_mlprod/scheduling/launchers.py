"""Launchers turn a waiting fire into a run, chosen by name:

- "runs" (default): the run service (`RunService.start`, papermill and real kernels), one run at
  a time per project, overlap policy and global limit applied;
- "dry-run": records a finished run per fire without executing any step. For the benchmark
  (it measures the scheduler, not papermill) and for rehearsing schedules on a production node.

Both are called with the launch lock held (claims.launch_lock)."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import getpass
import logging

from ..audit import acting_as
from ..errors import Conflict, MlprodError

log = logging.getLogger(__name__)


@dataclasses.dataclass
class LaunchState:
    """What the launcher knows of runs in flight; updated as it launches."""

    own: dict[int, int]        # scenario id -> its run in flight
    project_busy: int | None   # a run of the project in flight (any)
    global_count: int
    limit: int


@dataclasses.dataclass
class Result:
    status: str                # launched | waiting | skipped
    reason: str | None = None
    run: dict | None = None


class RunLauncher:
    name = "runs"

    def __init__(self, ctx):
        self.ctx = ctx   # the Scheduler or the ScenarioService: project, repo, clock, name

    def state(self) -> LaunchState:
        ctx = self.ctx
        ctx.project.runs.reconcile()
        active = ctx.project.repo.active_runs()
        return LaunchState(own=ctx.repo.active_scenario_runs(),
                           project_busy=active[0]["id"] if active else None,
                           global_count=ctx.repo.count_active_scenario_runs(),
                           limit=ctx.config.max_concurrent_runs)

    def launch(self, fires: list[dict], manual: bool = False) -> list[Result]:
        state = self.state()
        return [self.launch_one(fire, state, manual) for fire in fires]

    def launch_one(self, fire: dict, state: LaunchState, manual: bool = False) -> Result:
        ctx = self.ctx
        spec = fire["scenario_spec"]
        sid = fire["scenario_id"]
        if not fire.get("enabled", True) and not manual:
            return self._skip(fire, "the scenario is disabled")
        if spec.get("steps"):   # a scenario run of steps: the sequencer carries it out
            return self._begin_steps(fire, manual)
        if sid in state.own:
            if spec["policies"]["overlap"] == "skip" or manual:
                return self._skip(fire, f"run {state.own[sid]} of this scenario was still running"
                                        + ("" if manual else " (overlap: skip)"))
            return self._wait(fire, f"waiting for run {state.own[sid]} of this scenario to "
                                    "finish (overlap: queue)")
        if state.project_busy is not None:
            return self._wait(fire, f"waiting: run {state.project_busy} of the project is still "
                                    "going (the project runs one run at a time)")
        if state.global_count >= state.limit:
            return self._wait(fire, f"waiting: {state.global_count} scenario runs are in flight "
                                    f"(max_concurrent_runs = {state.limit})")
        now = ctx.clock.now()
        if not ctx.repo.set_fire(fire["id"], expect="pending", status="launching",
                                 claimed_by=ctx.name, claimed_at=now):
            return Result("skipped", "another scheduler took it")
        run_spec = spec["run"]
        # automatic fires act as the scheduler; "run now" keeps the person who asked
        actor = None if manual else f"scheduler:{fire.get('scenario_name') or sid}"
        try:
            with acting_as(actor) if actor else contextlib.nullcontext():
                run = ctx.project.runs.start(
                    steps=run_spec.get("steps"), from_step=run_spec.get("from"),
                    parameters=run_spec.get("parameters") or None,
                    force=run_spec.get("force", False),
                    trigger=f"scenario:{fire['kind']}"[:40], wait=False, scenario_id=sid,
                    on_update=lambda run_id, fid=fire["id"]: ctx.run_updated(fid, run_id))
        except Conflict as exc:   # a run was started by hand meanwhile
            ctx.repo.set_fire(fire["id"], status="pending", claimed_by=None, claimed_at=None,
                              reason=f"waiting: {exc.message}")
            return Result("waiting", exc.message)
        except MlprodError as exc:
            return self._failed_start(fire, now, exc.message)
        except Exception as exc:  # noqa: BLE001 - recorded on the run, the scheduler keeps going
            log.exception("scenario %s: starting its run crashed", fire.get("scenario_name"))
            return self._failed_start(fire, now, f"internal error: {type(exc).__name__}: {exc}")
        ctx.repo.set_fire(fire["id"], status="launched", run_id=run["id"], started_at=now,
                          reason=None)
        log.info("scenario %s: fire %s (%s, due %s) started run %s", fire.get("scenario_name"),
                 fire["id"], fire["kind"], fire["due_at"].isoformat(), run["id"])
        state.own[sid] = run["id"]
        state.project_busy = run["id"]
        state.global_count += 1
        ctx.launched(run["id"])
        return Result("launched", run=run)

    def _begin_steps(self, fire: dict, manual: bool) -> Result:
        sequencer = self.ctx.sequencer
        busy = next((f["id"] for f in sequencer.repo.active_fires()
                     if f["scenario_id"] == fire["scenario_id"]), None)
        if busy is not None:
            if fire["scenario_spec"]["policies"]["overlap"] == "skip" or manual:
                return self._skip(fire, f"scenario run {busy} was still going")
            return self._wait(fire, f"waiting for scenario run {busy} to finish (overlap: queue)")
        if not sequencer.begin(fire):
            return Result("skipped", "another scheduler took it")
        return Result("launched")

    def _failed_start(self, fire: dict, now, message: str) -> Result:
        """The run could not start (a step was removed, a parameter no longer fits...): the error
        is recorded on a failed run, which is then reported like any other failure."""
        ctx = self.ctx
        run_spec = fire["scenario_spec"]["run"]
        run = run_row(fire, now, status="failed", owner=ctx.name,
                      error=f"the scenario's run could not start: {message}", run_spec=run_spec)
        [run_id] = ctx.repo.record_runs([({"id": fire["id"], "status": "launched",
                                           "started_at": now, "reason": message}, run)])
        log.warning("scenario %s: run %s could not start: %s", fire.get("scenario_name"), run_id,
                    message)
        return Result("launched", message, {"id": run_id, "status": "failed"})

    def _skip(self, fire: dict, reason: str) -> Result:
        log.info("scenario %s: fire %s skipped: %s", fire.get("scenario_name"), fire["id"], reason)
        self.ctx.repo.set_fire(fire["id"], expect="pending", status="skipped", reason=reason,
                               finished_at=self.ctx.clock.now())
        return Result("skipped", reason)

    def _wait(self, fire: dict, reason: str) -> Result:
        if fire.get("reason") != reason:
            self.ctx.repo.set_fire(fire["id"], expect="pending", reason=reason)
        return Result("waiting", reason)


class DryRunLauncher(RunLauncher):
    """Records a succeeded run per fire (no step executes), in one transaction per batch."""

    name = "dry-run"

    def launch(self, fires: list[dict], manual: bool = False) -> list[Result]:
        ctx = self.ctx
        results, items = [], []
        now = ctx.clock.now()
        for fire in fires:
            if not fire.get("enabled", True) and not manual:
                results.append(self._skip(fire, "the scenario is disabled"))
                continue
            run = run_row(fire, now, status="succeeded", owner=ctx.name, error=None,
                          run_spec=fire["scenario_spec"]["run"])
            items.append(({"id": fire["id"], "status": "launched", "started_at": now,
                           "claimed_by": ctx.name, "claimed_at": now, "reason": None}, run))
        for run_id in ctx.repo.record_runs(items):
            results.append(Result("launched", run={"id": run_id, "status": "succeeded"}))
        return results


def run_row(fire: dict, now, *, status: str, owner: str, error: str | None, run_spec: dict) -> dict:
    return dict(status=status, trigger=f"scenario:{fire['kind']}"[:40], created_by=_user(),
                created_at=now, started_at=now, finished_at=now,
                parameters=run_spec.get("parameters") or {},
                selection={"steps": run_spec.get("steps"), "from": run_spec.get("from")},
                force=bool(run_spec.get("force")), resumed_from=None, error=error, owner=owner,
                heartbeat_at=None, scenario_id=fire["scenario_id"])


LAUNCHERS = {"runs": RunLauncher, "dry-run": DryRunLauncher}


def create_launcher(name: str, ctx):
    from ..errors import InvalidInput

    if name not in LAUNCHERS:
        raise InvalidInput(f"unknown launcher {name!r} (choose one of: {', '.join(LAUNCHERS)})",
                           field="launcher")
    return LAUNCHERS[name](ctx)


@functools.lru_cache(maxsize=1)
def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "unknown"
