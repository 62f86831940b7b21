"""Carrying out scenario runs, step by step. A fire of a scenario with steps becomes a scenario
run (`begin`: its step rows, fire status `running`); each scheduler pass (`advance_all`, under
the launch lock, so one scheduler at a time) moves every open scenario run as far as it can
without waiting. Every step change is one transaction with its audit event, and a step's
`values` hold what resuming needs, so a scheduler killed mid-sequence is replaced by the next
one taking the lock, which resumes from the first unfinished step."""
from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

from ...errors import MlprodError
from ...store.scenario_steps import ScenarioStepRepository
from .. import policies
from ..triggers.events import RunFinishedTrigger
from .registry import Outcome, get_kind

log = logging.getLogger(__name__)
FINAL = ("succeeded", "failed", "skipped", "rejected", "timed_out")
FAILED = ("failed", "timed_out")
MAX_MOVES = 20   # advances of one step in one pass (each must change its values to go on)


class ScenarioRunContext:
    """What a step kind sees of its scenario run."""

    def __init__(self, sequencer, fire: dict, steps: list[dict], approvals: dict):
        self.sequencer = sequencer
        self.project = sequencer.project
        self.fire = fire
        self.steps = steps
        self.approvals = approvals
        self.actor = f"scheduler:{fire['scenario_name']}"
        self.label = f"scenario {fire['scenario_name']} run {fire['id']}"

    def announce(self, step: dict) -> None:
        approvers = step.get("approvers") or []
        who = ", ".join(approvers) if approvers else "anyone"
        self.notify(f"{self.label} waits for an approval ({step['name']}; {who} may decide): "
                    f"{self.sequencer.link(self.fire['id'])} or `mlprod approve "
                    f"{self.fire['id']}`", approval=True)

    def notify(self, text: str, approval: bool = False) -> int:
        return self.sequencer.queue_report(self.fire, text, approval=approval)

    def bundle_tree(self, bundle_id: str) -> Path:
        """The bundle's files in a folder of this project's state (an endpoint version reads
        its notebook and models from there)."""
        folder = self.project.settings.state_dir / "scenario-bundles" / bundle_id
        if folder.is_dir():
            return folder
        bundles = self.project.bundles
        partial = folder.with_name(bundle_id + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        for entry in bundles.manifest(bundle_id)["files"]:
            dest = partial / entry["path"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bundles.blobs.path(entry["sha256"]), dest)
        partial.rename(folder)
        return folder


class Sequencer:
    def __init__(self, project, fire_repo, config, clock, name: str, run_updated=None,
                 launched=None):
        self.project = project
        # a run step's run changed: the scheduler's next pass, now
        self.run_updated = run_updated or (lambda run_id: None)
        # a run step started a run in this process: a graceful stop waits for it or cancels it
        self.launched = launched or (lambda run_id: None)
        self.fires = fire_repo
        self.config = config
        self.clock = clock
        self.name = name
        self.repo = ScenarioStepRepository(project.engine, project.settings.name, fire_repo)

    # -- starting ---------------------------------------------------------------------------
    def begin(self, fire: dict) -> bool:
        now = self.clock.now()
        specs = fire["scenario_spec"]["steps"]
        rows = [{"position": i, "kind": s["kind"], "name": s["name"], "status": "pending",
                 "started_at": None, "finished_at": None, "values": {}, "error": None}
                for i, s in enumerate(specs)]
        details = dict(fire.get("details") or {}, steps=specs)   # the steps as they were
        audit = self.project.audit_trail.event(
            "scenario.step", "scenario", fire["scenario_name"], actor=f"scheduler:"
            f"{fire['scenario_name']}", after={"status": "running"},
            details={"fire_id": fire["id"], "steps": len(specs)})
        return self.repo.begin(fire["id"], rows, {"status": "running", "started_at": now,
                                                  "claimed_by": self.name, "claimed_at": now,
                                                  "details": details, "reason": None}, audit)

    # -- advancing --------------------------------------------------------------------------
    def advance_all(self, stop=None) -> int:
        moved = 0
        for fire in self.repo.active_fires():
            if stop is not None and stop.is_set():
                break
            try:
                moved += self.advance(fire)
            except Exception:  # noqa: BLE001 - one scenario run must not stop the others
                log.exception("scenario run %s could not advance", fire["id"])
        return moved

    def advance(self, fire: dict) -> int:
        fid = fire["id"]
        steps = self.repo.steps_of([fid])[fid]
        specs = (fire.get("details") or {}).get("steps") or fire["scenario_spec"]["steps"]
        run = ScenarioRunContext(self, fire, steps, self.repo.approvals_of(fid))
        failed = any(s["status"] in FAILED for s in steps)
        moved = 0
        for step in steps:
            if step["status"] in FINAL:
                continue
            spec = dict(specs[step["position"]], index=step["position"])
            now = self.clock.now()
            if step["status"] == "pending":
                wanted = spec["if"] == "always" or (spec["if"] == "failure") == failed
                if not wanted:
                    self._save(fire, step, status="skipped", finished_at=now)
                    continue
                self._save(fire, step, status="running", started_at=now)
            outcome = self._move(run, step, spec, now)
            moved += 1
            if outcome.status in ("running", "waiting"):
                fire_status = "waiting_approval" if outcome.status == "waiting" else "running"
                if fire_status != fire["status"]:
                    fire["status"] = fire_status
                    self._save(fire, step, fire_values={"status": fire_status})
                return moved
            if outcome.status == "rejected":
                self._finish(fire, steps, "rejected", outcome.error)
                return moved
            if fire["status"] != "running":   # the approval came: no longer waiting for it
                fire["status"] = "running"
                self._save(fire, step, fire_values={"status": "running"})
            failed = failed or outcome.status in FAILED
        errors = [s["error"] for s in steps if s["status"] in FAILED and s["error"]]
        self._finish(fire, steps, "failed" if failed else "succeeded",
                     errors[0] if errors else None)
        return moved

    def _move(self, run, step: dict, spec: dict, now) -> Outcome:
        kind = get_kind(spec["kind"])
        timeout = spec.get("timeout") or kind.default_timeout
        for _ in range(MAX_MOVES):
            if timeout and step["started_at"] and \
                    now - step["started_at"] > dt.timedelta(seconds=timeout):
                outcome = Outcome("timed_out", error=f"{spec['name']} took longer than "
                                  f"{timeout} s" + (" without a decision"
                                                    if spec["kind"] == "approve" else ""))
                try:   # what the step left half done is undone (a run, a canary)
                    kind.abandon(run, spec, dict(step["values"]))
                except MlprodError as exc:
                    log.warning("scenario run %s: %s could not be undone: %s", run.fire["id"],
                                spec["name"], exc.message)
            else:
                try:
                    outcome = kind.advance(run, spec, dict(step["values"]))
                except MlprodError as exc:
                    outcome = Outcome("failed", error=exc.message)
                except Exception as exc:  # noqa: BLE001 - recorded on the step, we keep going
                    log.exception("scenario run %s: step %s crashed", run.fire["id"],
                                  spec["name"])
                    outcome = Outcome("failed", error=f"internal error: {type(exc).__name__}: "
                                                      f"{exc}")
            values = dict(step["values"], **outcome.values)
            changed = values != step["values"]
            status = outcome.status
            final = status not in ("running", "waiting")
            update = {"values": values, "status": status, "error": outcome.error}
            if final:
                update["finished_at"] = self.clock.now()
            fire_values = {"run_id": values["run_id"]} if spec["kind"] == "run" and \
                values.get("run_id") and run.fire.get("run_id") != values["run_id"] else None
            if changed or final or status != step["status"]:
                self._save(run.fire, step, fire_values=fire_values, **update)
            if final or not changed:
                return outcome
        return outcome

    def _save(self, fire: dict, step: dict, *, fire_values: dict | None = None, **values):
        audit = None
        if "status" in values and values["status"] != step["status"]:
            audit = self.project.audit_trail.event(
                "scenario.step", "scenario", fire["scenario_name"],
                actor=f"scheduler:{fire['scenario_name']}",
                before={"status": step["status"]}, after={"status": values["status"]},
                details={"fire_id": fire["id"], "step": step["name"], "kind": step["kind"],
                         "error": values.get("error")})
        if fire_values and "run_id" in fire_values:
            fire["run_id"] = fire_values["run_id"]
        self.repo.save_step(fire["id"], step["position"], values, fire_values=fire_values,
                            audit=audit)
        step.update(values)

    def _finish(self, fire: dict, steps: list[dict], outcome: str, reason: str | None) -> None:
        now = self.clock.now()
        left = [s["position"] for s in steps if s["status"] not in FINAL]
        for s in steps:
            if s["position"] in left:
                s["status"] = "skipped"
        audit = self.project.audit_trail.event(
            "scenario.step", "scenario", fire["scenario_name"],
            actor=f"scheduler:{fire['scenario_name']}", after={"status": outcome},
            details={"fire_id": fire["id"], "reason": reason})
        deliveries = self._deliveries(fire, outcome, reason, now)

        def after(watchers) -> list[dict]:   # run_finished triggers naming this scenario
            judged = "failed" if outcome == "rejected" else outcome
            return [{"scenario_id": w["scenario_id"], "kind": "run_finished",
                     "trigger_position": w["position"], "due_at": now,
                     "due_key": f"after:{fire['id']}",
                     "details": {"scenario": fire["scenario_name"], "run_id": fire.get("run_id"),
                                 "outcome": outcome}}
                    for w in watchers if w["spec"].get("scenario") == fire["scenario_name"]
                    and RunFinishedTrigger.matches(w["spec"], judged)]

        if self.repo.finish(fire["id"], {"status": "done", "outcome": outcome,
                                         "finished_at": now, "reason": reason},
                            left, now, deliveries, audit, after, self.name):
            log.info("scenario %s: run %s %s", fire["scenario_name"], fire["id"], outcome)

    # -- reports ----------------------------------------------------------------------------
    def link(self, fire_id: int) -> str:
        """The scenario run in the panel (where its Approve / Reject buttons are)."""
        return f"{self.config.base_url.rstrip('/')}/lab?mlprod-scenario-run={fire_id}"

    def _deliveries(self, fire: dict, outcome: str, reason, now) -> list[dict]:
        from ..reporters import should_report

        spec = fire["scenario_spec"]
        wanted = [(i, r) for i, r in enumerate(spec.get("reporters", []))
                  if should_report(r.get("when", "always"), "failed" if outcome == "rejected"
                                   else outcome, None, None)]
        return [self._delivery(fire, i, r, self._report(fire, outcome, reason), now)
                for i, r in wanted]

    def _report(self, fire: dict, outcome: str, text: str | None) -> dict:
        from .. import messages

        report = messages.build_report(
            project=self.project.settings.name,
            scenario={"id": fire["scenario_id"], "name": fire["scenario_name"]},
            fire={"id": fire["id"], "kind": fire["kind"], "attempt": fire.get("attempt", 1),
                  "due_at": policies._iso(fire["due_at"]), "outcome": outcome, "reason": text},
            run=None, previous=None, link=self.link(fire["id"]),
            trigger_text=fire["kind"])
        if text:
            report["summary"] = text
            report["text"] = text + "\n\n" + report["text"]
        return report

    def queue_report(self, fire: dict, text: str, approval: bool = False) -> int:
        """Send `text` now through every reporter of the scenario (a notify step, or the
        announcement of an approval); their `when` conditions do not apply."""
        now = self.clock.now()
        reporters = fire["scenario_spec"].get("reporters", [])
        base = 1000 + len(self.fires.deliveries([fire["id"]]))   # after the final report's
        rows = [self._delivery(fire, base + i, r,
                               self._report(fire, "waiting_approval" if approval else "running",
                                            text), now)
                for i, r in enumerate(reporters)]
        self.repo.queue_deliveries(rows)
        return len(rows)

    @staticmethod
    def _delivery(fire, position, reporter, report, now) -> dict:
        return {"fire_id": fire["id"], "scenario_id": fire["scenario_id"], "position": position,
                "kind": reporter["type"], "reporter": reporter, "report": report,
                "status": "pending", "attempts": 0, "next_attempt_at": now, "lease_until": None,
                "last_error": None, "created_at": now, "sent_at": None}
