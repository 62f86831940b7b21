"""The run service: the one place that starts, resumes, cancels and reads runs."""
from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Callable

from ..audit import audited, current_actor
from ..clock import Clock
from ..errors import Conflict, InvalidInput, NotFound
from ..hashing import FileHasher
from .dag import Pipeline
from .executors import Executor
from .plan import RunPlan, StepPlan, effective_parameters, resolve_parameters
from .runner import RunExecution
from .views import run_view

log = logging.getLogger(__name__)
OWNER = f"{socket.gethostname()}:{os.getpid()}"
STALE_AFTER_SECONDS = 60


class RunService:
    def __init__(self, settings, repo, pipeline_loader: Callable[[], Pipeline],
                 executor_factory: Callable[[], Executor], clock: Clock, *, audit_trail=None,
                 after_step: Callable | None = None, before_step: Callable | None = None):
        self.settings = settings
        self.audit_trail = audit_trail
        self.repo = repo
        self.load_pipeline = pipeline_loader
        self._executor_factory = executor_factory
        self._executor: Executor | None = None
        self._executor_lock = threading.Lock()
        self.clock = clock
        self.after_step = after_step  # monitoring: records metrics, judges checks
        self.before_step = before_step  # monitoring: drift check of a step's input table
        self.hasher = FileHasher(settings.root, settings.state_dir / "cache" / "file-hashes.json")
        self._threads: dict[int, threading.Thread] = {}
        # Recording a run and registering its thread are one step for reconcile(): a scheduler
        # in this process must never see a brand-new run before its thread and close it.
        self._registering = threading.Lock()
        self._kernels: set[str] | None = None

    @property
    def executor(self) -> Executor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = self._executor_factory()
            return self._executor

    # -- starting -------------------------------------------------------------------------
    @audited("run.start", "run", lambda **kwargs: None)
    def start(self, **kwargs) -> dict:
        return self._start(**kwargs)

    def _start(self, *, steps: list[str] | None = None, from_step: str | None = None,
              parameters: dict | None = None, force: bool = False, trigger: str = "api",
              from_text: bool = False, wait: bool = False, resumed_from: int | None = None,
              on_update: Callable[[int], None] | None = None,
              scenario_id: int | None = None) -> dict:
        """Validate everything, record the run, then execute it (in this thread when `wait`)."""
        if steps is not None and (not isinstance(steps, list) or not steps or
                                  not all(isinstance(s, str) for s in steps)):
            raise InvalidInput("steps must be a non-empty list of step names (leave it out to "
                               "run the whole pipeline)", field="steps")
        if from_step is not None and (not isinstance(from_step, str) or not from_step):
            raise InvalidInput("from must be a step name", field="from")
        if not isinstance(force, bool):
            raise InvalidInput("force must be true or false", field="force")
        executor = self.executor  # an unknown or unreachable executor fails before a run is recorded
        pipeline = self.load_pipeline()
        pipeline.require_valid()
        selected = pipeline.select(steps, from_step)
        order = pipeline.topological(selected)
        self._check_external_inputs(pipeline, selected)
        overrides, given = resolve_parameters(pipeline, order, parameters, from_text=from_text)
        step_plans = {}
        for name in order:
            kernel = self._kernel_for(pipeline, name)
            step_plans[name] = StepPlan(name, kernel, overrides[name],
                                        effective_parameters(pipeline, name, overrides[name]))
        self.reconcile()
        active = self.repo.active_runs()
        if active:
            raise Conflict(f"run {active[0]['id']} is still {active[0]['status']}; wait for it or "
                           "cancel it first", field="run", code="run_active")
        plan = RunPlan(order, step_plans, given, force, self.repo.last_successes(order))
        now = self.clock.now()
        with self._registering:
            run_id = self.repo.create_run(
                dict(status="queued", trigger=trigger, created_by=current_actor()[:200],
                     created_at=now,
                     parameters=given, selection={"steps": steps, "from": from_step},
                     force=force, resumed_from=resumed_from, owner=OWNER, heartbeat_at=now,
                     scenario_id=scenario_id),
                [dict(step=name, path=pipeline.steps[name].path, position=i, status="pending",
                      attempt=0, parameters=step_plans[name].effective)
                 for i, name in enumerate(order)],
                audit=self.audit_trail.event(
                    "run.resume" if resumed_from else "run.start", "run",
                    after={"steps": order, "parameters": given, "force": force,
                           "trigger": trigger, "resumed_from": resumed_from}))
            execution = RunExecution(run_id=run_id, plan=plan, pipeline=pipeline, repo=self.repo,
                                     executor=executor, hasher=self.hasher,
                                     settings=self.settings, clock=self.clock,
                                     on_update=on_update, after_step=self.after_step,
                                     before_step=self.before_step)
            if wait:  # runs in this thread, which reconcile() must see as the run's owner
                self._threads[run_id] = threading.current_thread()
            else:
                thread = threading.Thread(target=execution.run, name=f"mlprod-run-{run_id}",
                                          daemon=True)
                self._threads[run_id] = thread
                thread.start()
        if wait:
            execution.run()
        return self.get(run_id)

    @audited("run.resume", "run")
    def resume(self, run_id: int, *, trigger: str = "api", wait: bool = False,
               on_update=None) -> dict:
        old = self.get(run_id)
        if old["status"] in ("queued", "running"):
            raise Conflict(f"run {run_id} is still {old['status']}; only a finished run can be "
                           "resumed", field="run", code="run_active")
        todo = [s["step"] for s in old["steps"] if s["status"] not in ("succeeded", "up_to_date")]
        if not todo:
            raise Conflict(f"run {run_id} has no failed or unrun steps to resume", field="run",
                           code="nothing_to_resume")
        pipeline = self.load_pipeline()
        gone = [name for name in todo if name not in pipeline.steps]
        if gone:
            raise InvalidInput(f"step {gone[0]!r} of run {run_id} no longer exists in the project",
                               field="steps", code="unknown_step")
        return self._start(steps=todo, parameters=_applicable(old["parameters"], pipeline, todo),
                          force=old["force"], trigger=trigger, wait=wait, resumed_from=run_id,
                          on_update=on_update)

    @audited("run.cancel", "run")
    def cancel(self, run_id: int) -> dict:
        run = self.get(run_id)
        if run["status"] not in ("queued", "running"):
            raise Conflict(f"run {run_id} is already {run['status']}", field="run",
                           code="run_finished")
        flag = self.settings.runs_dir / str(run_id) / "CANCEL"
        flag.parent.mkdir(parents=True, exist_ok=True)
        flag.write_text(current_actor())
        # A file, not an SQL write: the runner reads the flag; the event follows it.
        self.audit_trail.record("run.cancel", object_type="run", object_id=run_id,
                                before={"status": run["status"]})
        return run

    def wait(self, run_id: int, timeout: float | None = None) -> dict:
        thread = self._threads.get(run_id)
        if thread and thread is not threading.current_thread():
            thread.join(timeout)
        return self.get(run_id)

    # -- reading --------------------------------------------------------------------------
    def get(self, run_id: int) -> dict:
        row = self.repo.get_run(_run_id(run_id))
        if row is None:
            raise NotFound(f"run {run_id} does not exist", field="run")
        if self.close_orphans([row]):
            row = self.repo.get_run(row["id"])
        return run_view(row)

    def list(self, limit: int = 50, offset: int = 0) -> dict:
        if not (isinstance(limit, int) and 1 <= limit <= 500):
            raise InvalidInput("limit must be a whole number from 1 to 500", field="limit")
        if not (isinstance(offset, int) and offset >= 0):
            raise InvalidInput("offset must be a whole number >= 0", field="offset")
        rows, total = self.repo.list_runs(limit, offset)
        if self.close_orphans(rows):
            rows, total = self.repo.list_runs(limit, offset)
        return {"runs": [run_view(r) for r in rows], "total": total}

    # -- housekeeping ---------------------------------------------------------------------
    def reconcile(self) -> list[int]:
        """Mark runs whose owning process is gone as failed, so none stays running forever."""
        host = socket.gethostname()
        now = self.clock.now()
        closed = []
        with self._registering:
            active = self.repo.active_runs()
        for run in active:
            owner = run.get("owner") or ""
            owner_host, _, pid = owner.rpartition(":")
            if owner == OWNER and run["id"] in self._threads and self._threads[run["id"]].is_alive():
                continue
            dead = False
            if owner_host == host and pid.isdigit():
                dead = not _pid_alive(int(pid)) or (owner == OWNER and run["id"] not in self._threads)
            beat = run.get("heartbeat_at")
            if beat is not None and (now - beat).total_seconds() > STALE_AFTER_SECONDS:
                dead = True
            if dead:
                self._close_lost(run, now)
                closed.append(run["id"])
        return closed

    def close_orphans(self, rows: list[dict] | None = None) -> list[int]:
        """For reads: close the active runs (of `rows`, or all) whose owning process on this
        host is gone, so no view shows a dead run as running. Only a pid check: a run owned by
        another host waits for its heartbeat to go stale (reconcile)."""
        if rows is None:
            rows = self.repo.active_runs()
        host = socket.gethostname()
        closed = []
        for run in rows:
            if run["status"] not in ("queued", "running"):
                continue
            owner_host, _, pid = (run.get("owner") or "").rpartition(":")
            if owner_host == host and pid.isdigit() and not _pid_alive(int(pid)):
                self._close_lost(run, self.clock.now())
                closed.append(run["id"])
        return closed

    def _close_lost(self, run: dict, now) -> None:
        # Only while still active: the owner may have closed it just before it exited.
        self.repo.finish_run(run["id"], "failed", now,
                             f"the process running it ({run.get('owner') or ''}) stopped without "
                             "finishing it", "skipped", "the run's process stopped",
                             only_if_active=True)

    def shutdown(self) -> None:
        with self._executor_lock:
            if self._executor is not None:
                self._executor.shutdown()
                self._executor = None

    def _kernel_for(self, pipeline: Pipeline, name: str) -> str:
        kernel = pipeline.notebooks[pipeline.steps[name].path].kernel_name or self.settings.kernel_name
        environment = getattr(self.settings, "environment_kernel", "")
        if environment and kernel in ("python3", self.settings.kernel_name):
            kernel = environment  # a bundle deployed with its own environment (env=recreate)
        if self._kernels is None or kernel not in self._kernels:
            from jupyter_client.kernelspec import KernelSpecManager

            self._kernels = set(KernelSpecManager().find_kernel_specs())
        if kernel not in self._kernels:
            raise InvalidInput(f"step {name!r} needs kernel {kernel!r}, which is not installed "
                               f"(installed: {', '.join(sorted(self._kernels)) or 'none'})",
                               field="kernel", code="missing_kernel")
        return kernel

    def _check_external_inputs(self, pipeline: Pipeline, selected: set[str]) -> None:
        for name, pattern in pipeline.unmet_inputs(selected):
            makers = sorted(pipeline.upstream[name] - selected)
            hint = f"; run step {makers[0]!r} first or include it" if makers else ""
            raise InvalidInput(f"step {name!r} needs {pattern!r}, which does not exist{hint}",
                               field="steps", code="missing_input")


def _applicable(parameters: dict, pipeline: Pipeline, steps: list[str]) -> dict:
    """Keep the resumed run's parameters that still mean something for the steps left to run."""
    names = {p.name for s in steps for p in pipeline.notebooks[pipeline.steps[s].path].parameters}
    return {k: v for k, v in (parameters or {}).items()
            if (k.rpartition(".")[0] in steps and k.rpartition(".")[2] in names)
            or ("." not in k and k in names)}


def _run_id(value) -> int:
    try:
        run_id = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"run id must be a number, got {value!r}", field="run") from None
    if not 0 < run_id < 2**31:  # ids are positive INTEGERs; larger ones overflow the driver
        raise NotFound(f"run {value} does not exist", field="run")
    return run_id


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
