"""The scheduler: turns due triggers into fires and fires into runs, closes fires whose run
ended, and sends reports. Runs in the Jupyter server (the server extension starts one) or
headless (`python -m jupyter_mlprod.scheduling`, wrapped by `mlprod scheduler`).

All its state is in the store, so several schedulers may share one (PostgreSQL) store: each due
fire is created once (locked trigger rows + unique key), launched once (launch lock), finished
once (locked fire rows). `tick()` is one synchronous pass (tests drive it with an injected
clock); `start()` runs three threads: the loop (fires, launches, finishes), the poller (file
and SQL triggers, which may be slow) and the reporter (sends)."""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import weakref

from sqlalchemy.exc import SQLAlchemyError

from ..errors import MlprodError
from ..hashing import FileHasher
from ..store.scenarios import ScenarioRepository
from .claims import launch_lock
from .config import SchedulerConfig
from .delivery import Deliverer
from .finishing import Finisher
from .firing import Firer, timed_kinds
from .launchers import create_launcher
from .steps.sequencer import Sequencer

log = logging.getLogger(__name__)
TERMINAL = ("succeeded", "failed", "cancelled")
BATCH = 500
_live: "weakref.WeakSet[Scheduler]" = weakref.WeakSet()


def wake_schedulers(project) -> None:
    """Tell schedulers of this process that scenarios changed (e.g. one was created)."""
    for scheduler in list(_live):
        if scheduler.project is project or scheduler.repo.project == project.settings.name:
            scheduler.wake()


class Scheduler:
    def __init__(self, project, *, clock=None, poll_interval: float | None = None,
                 name: str | None = None, launcher: str | None = None,
                 config: SchedulerConfig | None = None, environ=None, **settings):
        self.project = project
        self.clock = clock or project.clock
        self.config = config or SchedulerConfig.load(
            project.root, dict(settings, poll_interval=poll_interval, launcher=launcher))
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        project.scenarios.use_config(self.config)   # "run now" reports use the same links
        self.environ = os.environ if environ is None else environ
        self.repo = ScenarioRepository(project.engine, project.settings.name)
        self.launcher = create_launcher(self.config.launcher, self)
        self.finisher = Finisher(project, self.repo, self.config, self.clock, self.name)
        self.deliverer = Deliverer(self.repo, self.config, self.clock, self.environ)
        self.sequencer = Sequencer(project, self.repo, self.config, self.clock, self.name,
                                   run_updated=lambda run_id: self.run_updated(None, run_id),
                                   launched=self.launched)
        hasher = FileHasher(project.root, project.settings.state_dir / "cache" /
                            "scheduler-file-hashes.json")
        self.firer = Firer(project, self.repo, self.clock, self.name, hasher, self.environ)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._wake_reports = threading.Event()
        self._threads: list[threading.Thread] = []
        self._runs: set[int] = set()
        self._runs_lock = threading.Lock()
        self._last_reconcile = None
        _live.add(self)

    # -- callbacks from launchers -----------------------------------------------------------
    def launched(self, run_id: int) -> None:
        with self._runs_lock:
            self._runs.add(run_id)

    def run_updated(self, fire_id: int, run_id: int) -> None:
        run = self.project.repo.get_run(run_id)
        if run is not None and run["status"] in TERMINAL:
            with self._runs_lock:
                self._runs.discard(run_id)
            self.wake()

    def wake(self) -> None:
        self._wake.set()

    # -- one pass ---------------------------------------------------------------------------
    def tick(self) -> dict:
        """One synchronous evaluation pass: reconcile, finish, fire, poll, launch, report."""
        summary = self._pass()
        summary["polled"] = len(self.firer.poll_due())
        summary["launched"] += self._launch()
        summary["finished"] += len(self.finisher.finish())
        summary.update(self.deliverer.deliver_due())
        return summary

    def _pass(self) -> dict:
        self._reconcile()
        finished = len(self.finisher.finish())
        fired = self.firer.fire_due()
        launched = self._launch()
        stepped = self._advance_steps()
        return {"finished": finished, "fired": len(fired), "launched": launched,
                "steps": stepped}

    def _advance_steps(self) -> int:
        """Move open scenario runs on, with the launch lock held: one scheduler at a time, and
        the one that replaces a dead scheduler resumes its scenario runs."""
        if self._stop.is_set() or not self.sequencer.repo.has_active():
            return 0
        with launch_lock(self.project.engine) as held:
            if not held:
                return 0
            moved = self.sequencer.advance_all(self._stop)
        if moved:
            self._wake_reports.set()
        return moved

    def _reconcile(self, force: bool = False) -> None:
        now = self.clock.monotonic()
        if force or self._last_reconcile is None or \
                now - self._last_reconcile >= self.config.reconcile_interval:
            self._last_reconcile = now
            closed = self.project.runs.reconcile()
            if closed:
                log.warning("runs %s had lost their process: marked failed", closed)

    def _launch(self) -> int:
        if self._stop.is_set():
            return 0
        if not self.repo.has_fires(("pending",), self.clock.now()) and \
                not self.repo.has_fires(("launching",)):
            return 0
        launched = 0
        with launch_lock(self.project.engine) as held:
            if not held:
                return 0
            self._recover_interrupted_launches()
            while not self._stop.is_set():
                pending = self.repo.pending_fires(self.clock.now(), BATCH)
                results = self.launcher.launch(pending) if pending else []
                done = sum(1 for r in results if r.status == "launched")
                launched += done
                if len(pending) < BATCH or not done:
                    break
        return launched

    def _recover_interrupted_launches(self) -> None:
        """With the launch lock held, a fire still 'launching' was left by a dead launcher."""
        import datetime as dt

        for fire in self.repo.fires_in(("launching",)):
            since = (fire["claimed_at"] or fire["created_at"]) - dt.timedelta(seconds=1)
            run = self.repo.orphan_run(fire["scenario_id"], since)
            if run is not None:
                self.repo.set_fire(fire["id"], status="launched", run_id=run["id"],
                                   started_at=run["created_at"])
                log.warning("fire %s: adopted run %s left by a stopped launcher", fire["id"],
                            run["id"])
            else:
                self.repo.set_fire(fire["id"], status="pending", claimed_by=None, claimed_at=None,
                                   reason="its launcher stopped before starting a run; "
                                          "launching again")

    # -- background -------------------------------------------------------------------------
    def start(self) -> "Scheduler":
        if self._threads:
            return self
        self._stop.clear()
        for name, target in (("loop", self._loop), ("poller", self._poll_loop),
                             ("reporter", self._report_loop)):
            thread = threading.Thread(target=target, name=f"mlprod-scheduler-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        log.info("scheduler %s started (project %s, launcher %s)", self.name,
                 self.project.settings.name, self.launcher.name)
        return self

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                summary = self._pass()
                if summary["finished"]:
                    self._wake_reports.set()
                failures = 0
            except (MlprodError, SQLAlchemyError, OSError) as exc:
                failures += 1
                log.warning("scheduler pass failed (%s in a row): %s", failures, exc)
            except Exception:  # noqa: BLE001 - the scheduler keeps going
                failures += 1
                log.exception("scheduler pass crashed (%s in a row)", failures)
            self._sleep(self._wait_seconds(failures))

    def _wait_seconds(self, failures: int) -> float:
        interval = self.config.poll_interval
        if failures:
            return min(interval * 2 ** failures, 30.0)
        try:
            due = self.repo.next_due_at(timed_kinds())
        except SQLAlchemyError:
            return interval
        if due is None:
            return interval
        return max(0.0, min(interval, (due - self.clock.now()).total_seconds() + 0.001))

    def _sleep(self, seconds: float) -> None:
        if self._wake.wait(seconds):
            self._wake.clear()

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.firer.poll_due(stop=self._stop):
                    self.wake()
            except Exception:  # noqa: BLE001
                log.exception("polling triggers failed")
            self._stop.wait(min(1.0, self.config.poll_interval))

    def _report_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliverer.deliver_due(stop=self._stop)
            except Exception:  # noqa: BLE001
                log.exception("sending reports failed")
            if self._wake_reports.wait(min(1.0, self.config.poll_interval)):
                self._wake_reports.clear()

    def stop(self, timeout: float | None = None) -> None:
        """Stop launching; let this scheduler's runs finish for up to `timeout` s, then cancel
        them and wait until the run service has recorded it; finish their fires; send what is
        due. Nothing is left half-written: every write is a transaction."""
        timeout = self.config.stop_timeout if timeout is None else timeout
        self._stop.set()
        self._wake.set()
        self._wake_reports.set()
        for thread in self._threads:
            thread.join(max(timeout, 5.0))
        self._threads = []
        with self._runs_lock:
            mine = list(self._runs)
        deadline = self.clock.monotonic() + timeout
        for run_id in mine:
            self.project.runs.wait(run_id, max(0.0, deadline - self.clock.monotonic()))
        for run_id in mine:
            run = self.project.repo.get_run(run_id)
            if run is not None and run["status"] not in TERMINAL:
                log.warning("stopping: cancelling run %s", run_id)
                try:
                    self.project.runs.cancel(run_id)
                except MlprodError:
                    pass
        for run_id in mine:
            self.project.runs.wait(run_id, 60)
        try:
            self.finisher.finish()
            self.deliverer.deliver_due()
        except (MlprodError, SQLAlchemyError, OSError) as exc:
            log.warning("stopping: last pass failed: %s", exc)
        _live.discard(self)
        log.info("scheduler %s stopped", self.name)

    def run_forever(self) -> int:
        """Foreground (the headless daemon): SIGTERM / SIGINT stop it gracefully."""
        stop = threading.Event()

        def handler(signum, _frame):
            log.info("signal %s: stopping", signal.Signals(signum).name)
            stop.set()

        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, handler)
        try:
            self.start()
            while not stop.wait(0.5):
                if not any(t.is_alive() for t in self._threads):
                    log.error("scheduler threads died")
                    break
        finally:
            self.stop()
            for sig, old in previous.items():
                signal.signal(sig, old)
        return 0
