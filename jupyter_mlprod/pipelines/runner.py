"""Drives one run: dispatches steps in topological order to an executor, in parallel up to
the limit, skips up-to-date steps, retries, cancels, and persists every event it hears of."""
from __future__ import annotations

import json
import logging
import os
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Callable

from ..clock import Clock
from ..errors import InvalidInput, MlprodError
from ..paths import resolve_inside
from .executors import Executor, StepJob, StepResult
from .fingerprint import outputs_digest, outputs_present, step_fingerprint

log = logging.getLogger(__name__)

TERMINAL = {"succeeded", "failed", "skipped", "up_to_date", "cancelled"}
_POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 5.0


class RunExecution:
    def __init__(self, *, run_id: int, plan, pipeline, repo, executor: Executor, hasher,
                 settings, clock: Clock, on_update: Callable[[int], None] | None = None,
                 after_step: Callable | None = None, before_step: Callable | None = None):
        self.run_id = run_id
        self.plan = plan
        self.pipeline = pipeline
        self.repo = repo
        self.executor = executor
        self.hasher = hasher
        self.settings = settings
        self.clock = clock
        self.on_update = on_update or (lambda run_id: None)
        self.run_dir = settings.runs_dir / str(run_id)
        self.cancel_flag = self.run_dir / "CANCEL"
        self.status: dict[str, str] = {name: "pending" for name in plan.order}
        self.attempts: dict[str, int] = {name: 0 for name in plan.order}
        self.executed: set[str] = set()
        self.running: dict[Future, tuple[str, str]] = {}  # future -> (step, fingerprint)
        self.progress_seen: dict[str, tuple] = {}
        # (run_id, step spec, executed notebook) -> why the step's checks fail it, or None
        self.after_step = after_step
        # (run_id, step spec) -> why the step must not run (its input drifts), or None
        self.before_step = before_step
        self.check_failures: dict[str, str] = {}

    # -- main loop ------------------------------------------------------------------------
    def run(self) -> str:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        now = self.clock.now()
        self.repo.update_run(self.run_id, status="running", started_at=now, heartbeat_at=now)
        self.on_update(self.run_id)
        outcome, error = "failed", None
        try:
            outcome, error = self._loop()
        except MlprodError as exc:  # e.g. the executor's backend (Dask scheduler) is unreachable
            log.warning("run %s stopped: %s", self.run_id, exc.message)
            outcome, error = "failed", exc.message
            for future in self.running:
                future.cancel()
        except Exception as exc:  # an internal fault must still close the run record
            log.exception("run %s crashed", self.run_id)
            outcome, error = "failed", f"internal error: {type(exc).__name__}: {exc}"
            for future in self.running:
                future.cancel()
        finally:
            self.hasher.save()
            reason = "the run was cancelled" if outcome == "cancelled" else (error or "the run stopped")
            self.repo.finish_run(self.run_id, outcome, self.clock.now(), error,
                                 "cancelled" if outcome == "cancelled" else "skipped", reason)
            self.on_update(self.run_id)
        return outcome

    def _loop(self) -> tuple[str, str | None]:
        last_beat = self.clock.monotonic()
        cancelled = False
        while True:
            if not cancelled and self.cancel_flag.exists():
                cancelled = True  # workers see the same flag and kill their kernels
            if not cancelled:
                self._dispatch_ready()
            if not self.running:
                break
            done, _ = wait(list(self.running), timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                self._collect(future, cancelled)
            self._poll_progress()
            if self.clock.monotonic() - last_beat > HEARTBEAT_SECONDS:
                self.repo.update_run(self.run_id, heartbeat_at=self.clock.now())
                last_beat = self.clock.monotonic()
        if cancelled:
            return "cancelled", None
        failed = sorted(n for n, s in self.status.items() if s == "failed")
        if failed:
            return "failed", f"step {failed[0]} failed" if len(failed) == 1 else \
                f"steps {', '.join(failed)} failed"
        return "succeeded", None

    # -- dispatch -------------------------------------------------------------------------
    def _dispatch_ready(self) -> None:
        for name in self.plan.order:
            if self.status[name] != "pending":
                continue
            upstream = self.pipeline.upstream[name] & set(self.plan.order)
            if any(self.status[u] not in TERMINAL for u in upstream):
                continue
            broken = sorted(u for u in upstream if self.status[u] in ("failed", "skipped", "cancelled"))
            if broken:
                why = self.check_failures.get(broken[0])
                self._set(name, "skipped", reason=f"upstream step {broken[0]} " + (
                          f"failed its checks ({why})" if why else "did not succeed"),
                          finished_at=self.clock.now())
                continue
            if len(self.running) >= self.settings.parallelism:
                return
            self._start(name, upstream_ran=bool(upstream & self.executed))

    def _start(self, name: str, upstream_ran: bool) -> None:
        spec = self.pipeline.steps[name]
        notebook = self.pipeline.notebooks[spec.path]
        step_plan = self.plan.steps[name]
        try:
            missing = [p for p in spec.inputs if not self.hasher.expand(p)]
            if missing:
                self._set(name, "failed", reason=f"input {missing[0]} does not exist",
                          error_ename="MissingInput", error_evalue=f"input {missing[0]} does not "
                          "exist", finished_at=self.clock.now())
                return
            resolve_inside(self.hasher.root, spec.path, "path")
            for field, patterns in (("inputs", spec.inputs), ("outputs", spec.outputs)):
                for pattern in patterns:  # also where a file not written yet would go
                    resolve_inside(self.hasher.root, pattern, f"{name}.{field}")
            fingerprint = step_fingerprint(spec, notebook, step_plan.effective, step_plan.kernel,
                                           self.hasher)
            present = outputs_present(spec, self.hasher)
        except InvalidInput as exc:  # a path resolving outside the project (a symlink)
            self._set(name, "failed", reason=exc.message, error_ename="PathOutsideProject",
                      error_evalue=exc.message, finished_at=self.clock.now())
            return
        last = self.plan.last_successes.get(name)
        if (not self.plan.force and not upstream_ran and last and last["fingerprint"] == fingerprint
                and present
                and last.get("outputs_digest") == outputs_digest(spec, self.hasher)):
            self._set(name, "up_to_date", fingerprint=fingerprint, finished_at=self.clock.now(),
                      reason=f"unchanged since run {last['run_id']}")
            return
        refusal = self._precheck(name)
        if refusal:
            self.check_failures[name] = refusal
            self._set(name, "failed", reason=refusal, error_ename="DriftCheckFailed",
                      error_evalue=refusal, finished_at=self.clock.now())
            return
        self._submit(name, fingerprint)

    def _precheck(self, name: str) -> str | None:
        if self.before_step is None or not self.pipeline.steps[name].drift:
            return None
        try:
            return self.before_step(self.run_id, self.pipeline.steps[name])
        except Exception as exc:  # noqa: BLE001 - a check that cannot run refuses the step
            log.exception("run %s: the drift check of step %s failed", self.run_id, name)
            return f"drift check could not run: {type(exc).__name__}: {exc}"

    def _submit(self, name: str, fingerprint: str) -> None:
        spec = self.pipeline.steps[name]
        self.attempts[name] += 1
        attempt = self.attempts[name]
        base = self.run_dir / name
        job = StepJob(run_id=self.run_id, step=name, notebook=str(self.settings.root / spec.path),
                      output=str(base.with_suffix(".ipynb")), log=str(base.with_suffix(".log")),
                      progress=str(base.with_suffix(".progress.json")),
                      cancel_flag=str(self.cancel_flag), cwd=str(self.settings.root),
                      parameters=self.plan.steps[name].overrides,
                      kernel_name=self.plan.steps[name].kernel,
                      timeout=spec.timeout or self.settings.default_timeout, attempt=attempt)
        fields = dict(attempt=attempt, cell_index=None, cell_count=None,
                      output_path=_rel(self.settings.root, job.output),
                      log_path=_rel(self.settings.root, job.log))
        if attempt == 1:
            fields["started_at"] = self.clock.now()
        self._set(name, "running", **fields)
        future = self.executor.submit(job)
        self.running[future] = (name, fingerprint)

    # -- results --------------------------------------------------------------------------
    def _collect(self, future: Future, cancelled: bool) -> None:
        name, fingerprint = self.running.pop(future)
        try:
            result: StepResult = future.result()
        except (Exception, KeyboardInterrupt) as exc:  # the worker itself died (not the kernel)
            result = StepResult("failed", 0.0, 0.0, None,
                                {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)})
        self._poll_progress(only=name)
        finished = self.clock.now()
        if result.status == "succeeded":
            self.executed.add(name)
            failure = self._judge(name)
            if failure:
                self.check_failures[name] = failure
                self._set(name, "failed", finished_at=self.clock.now(), reason=failure,
                          error_cell_index=None, error_ename="CheckFailed", error_evalue=failure)
                return
            self._set(name, "succeeded", fingerprint=fingerprint, finished_at=finished, reason=None,
                      error_cell_index=None, error_execution_count=None, error_cell_source=None,
                      error_ename=None, error_evalue=None,
                      outputs_digest=outputs_digest(self.pipeline.steps[name], self.hasher))
            return
        error = result.error or {}
        retries = self.pipeline.steps[name].retries
        if result.status in ("failed", "timeout") and not cancelled and self.attempts[name] <= retries:
            self._set(name, "running", reason=f"attempt {self.attempts[name]} failed "
                      f"({error.get('ename')}: {error.get('evalue')}); retrying")
            self._submit(name, fingerprint)
            return
        status = "cancelled" if (result.status == "cancelled" or cancelled) else "failed"
        self.executed.add(name)
        self._set(name, status, finished_at=finished,
                  reason="timed out" if result.status == "timeout" else None,
                  error_cell_index=error.get("cell_index"),
                  error_execution_count=error.get("execution_count"),
                  error_cell_source=error.get("cell_source"), error_ename=error.get("ename"),
                  error_evalue=error.get("evalue"))

    def _judge(self, name: str) -> str | None:
        """Record the step's metrics and run its checks; a failing ERROR check fails it."""
        if self.after_step is None:
            return None
        try:
            return self.after_step(self.run_id, self.pipeline.steps[name],
                                   self.run_dir / f"{name}.ipynb")
        except Exception:  # recording metrics must never break the run itself
            log.exception("run %s: recording the metrics of step %s failed", self.run_id, name)
            return None

    def _poll_progress(self, only: str | None = None) -> None:
        names = [only] if only else [n for n, _ in self.running.values()]
        for name in names:
            path = self.run_dir / f"{name}.progress.json"
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            key = (data.get("cell"), data.get("count"))
            if self.progress_seen.get(name) != key:
                self.progress_seen[name] = key
                self.repo.update_step(self.run_id, name, cell_index=key[0], cell_count=key[1])
                self.on_update(self.run_id)

    def _set(self, name: str, status: str, **fields) -> None:
        self.status[name] = status
        self.repo.update_step(self.run_id, name, status=status, **fields)
        self.on_update(self.run_id)


def _rel(root: Path, path: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")
