"""ScenarioRunService: reading scenario runs with their steps, and deciding approvals. Reached
through `project.scenario_runs`; every door (REST, CLI, magics) calls it."""
from __future__ import annotations

from ...audit import audited, current_actor
from ...clock import isoformat
from ...errors import Conflict, Forbidden, NotFound
from ...store.scenario_fires import FireStore
from ...store.scenario_steps import ScenarioStepRepository
from ...store.scenarios import ScenarioRepository
from ..finishing import trigger_text
from ..views import query_limit

RUN_STATUS = {"pending": "pending", "launching": "pending", "launched": "running",
              "running": "running", "waiting_approval": "waiting_approval", "retried": "failed",
              "skipped": "skipped", "error": "error"}


class ScenarioRunService:
    def __init__(self, project):
        self.project = project
        self.clock = project.clock
        self.fires: FireStore = ScenarioRepository(project.engine, project.settings.name)
        self.repo = ScenarioStepRepository(project.engine, project.settings.name, self.fires)
        self.audit_trail = project.audit_trail

    # -- reading ----------------------------------------------------------------------------
    def get(self, fire_id: int) -> dict:
        fire = self._fire(fire_id)
        steps = self.repo.steps_of([fire["id"]])[fire["id"]]
        return run_view(fire, steps, self.repo.approvals_of(fire["id"]) if steps else {})

    def list(self, scenario, limit: int = 20) -> list[dict]:
        row = self.project.scenarios._row(scenario)
        fires = self.fires.list_fires(scenario_id=row["id"], limit=query_limit(limit))
        steps = self.repo.steps_of([f["id"] for f in fires])
        return [run_view(f, steps[f["id"]], {}) for f in fires]

    def with_steps(self, fire_views: list[dict]) -> list[dict]:
        """Fire views (GET /scenarios/{id}/fires) with their steps' outcomes."""
        steps = self.repo.steps_of([f["id"] for f in fire_views])
        for view in fire_views:
            view["steps"] = [summary_view(s) for s in steps[view["id"]]]
            if view["steps"] and view["status"] == "done" and view["outcome"] == "rejected":
                view["reason"] = view["reason"] or "rejected"
        return fire_views

    # -- approvals --------------------------------------------------------------------------
    @audited("approval.grant", "scenario_run", lambda self, fire_id, *a, **k: str(fire_id))
    def decide(self, fire_id: int, decision: str, message: str | None = None) -> dict:
        """Approve or reject the waiting approve step. The same decision sent twice counts
        once (the second answers the run as it is); anything else on a run not waiting is a
        Conflict; a user not in the step's `approvers` is refused."""
        if decision not in ("approve", "reject"):
            from ...errors import InvalidInput

            raise InvalidInput("decision must be 'approve' or 'reject'", field="decision")
        fire = self._fire(fire_id)
        user = current_actor()
        steps = self.repo.steps_of([fire["id"]])[fire["id"]]
        specs = (fire.get("details") or {}).get("steps") or []
        approvals = self.repo.approvals_of(fire["id"])
        waiting = next((s for s in steps if s["kind"] == "approve" and s["status"] == "waiting"),
                       None)
        if waiting is None:
            state = run_view(fire, steps, approvals)["status"]
            if state == "running" and any(a["decision"] == decision and a["decided_by"] == user
                                          for a in approvals.values()):
                return self.get(fire["id"])   # a repeat the scheduler has not seen yet
            raise Conflict(f"scenario run {fire['id']} is not waiting for an approval "
                           f"(it is {state})", field="id", code="not_waiting")
        approvers = specs[waiting["position"]].get("approvers") or [] \
            if waiting["position"] < len(specs) else []
        if approvers and user not in approvers:
            raise Forbidden(f"{user} may not decide on scenario run {fire['id']} "
                                   f"(approvers: {', '.join(approvers)})", field="decision",
                                   code="not_an_approver")
        action = "approval.grant" if decision == "approve" else "approval.deny"
        audit = self.audit_trail.event(action, "scenario_run", fire["id"],
                                       after={"decision": decision, "message": message},
                                       details={"scenario": fire["scenario_name"],
                                                "step": waiting["name"]})
        recorded = self.repo.decide(fire["id"], waiting["position"], {
            "decision": decision, "decided_by": user, "message": message,
            "decided_at": self.clock.now()}, audit)
        if recorded is None and approvals.get(waiting["position"], {}).get("decision") \
                != decision:
            raise Conflict(f"scenario run {fire['id']} was already decided otherwise",
                           field="decision", code="already_decided")
        from ..scheduler import wake_schedulers

        wake_schedulers(self.project)
        return self.get(fire["id"])

    def _fire(self, fire_id) -> dict:
        fire = self.fires.get_fire(int(fire_id))
        if fire is None:
            raise NotFound(f"scenario run {fire_id} does not exist", field="id")
        return fire


def run_status(fire: dict) -> str:
    if fire["status"] == "done":
        return fire["outcome"] or "failed"
    return RUN_STATUS.get(fire["status"], fire["status"])


def run_view(fire: dict, steps: list[dict], approvals: dict) -> dict:
    specs = (fire.get("details") or {}).get("steps") or []
    error = fire.get("reason") if fire["status"] in ("done", "error", "skipped") and \
        (fire.get("outcome") or "failed") != "succeeded" else None
    return {"id": fire["id"], "scenario_id": fire["scenario_id"],
            "scenario": fire.get("scenario_name"), "status": run_status(fire),
            "trigger": trigger_text(fire, {"triggers": []}),
            "started_at": isoformat(fire.get("started_at")),
            "finished_at": isoformat(fire.get("finished_at")), "error": error,
            "steps": [step_view(s, specs[s["position"]] if s["position"] < len(specs) else {},
                                approvals.get(s["position"])) for s in steps]}


def summary_view(step: dict) -> dict:
    return {"index": step["position"], "kind": step["kind"], "name": step["name"],
            "status": step["status"]}


def step_view(step: dict, spec: dict, decision: dict | None) -> dict:
    values = dict(step["values"] or {})
    approval = None
    if step["kind"] == "approve":
        deadline = None
        if step["started_at"] is not None:
            import datetime as dt

            from .kinds_release import APPROVE_TIMEOUT

            deadline = isoformat(step["started_at"] + dt.timedelta(
                seconds=spec.get("timeout") or APPROVE_TIMEOUT))
        approval = {"approvers": spec.get("approvers") or [], "deadline": deadline,
                    "decision": (decision or {}).get("decision"),
                    "decided_by": (decision or {}).get("decided_by"),
                    "message": (decision or {}).get("message")}
    return dict(summary_view(step), started_at=isoformat(step["started_at"]),
                finished_at=isoformat(step["finished_at"]), error=step["error"], values=values,
                comparison=values.get("comparison") if step["kind"] == "compare" else None,
                approval=approval)
