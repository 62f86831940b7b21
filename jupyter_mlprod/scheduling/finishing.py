"""Closing fires whose run ended: outcome, retry (policy), reports to queue (reporter
conditions), and the fires of scenarios waiting for this one (run_finished triggers). All of it
in the transaction that marks the fire done, so it happens exactly once."""
from __future__ import annotations

import logging

from . import messages, policies
from .reporters import should_report
from .triggers import get_trigger
from .triggers.events import RunFinishedTrigger

log = logging.getLogger(__name__)
OUTCOMES = ("succeeded", "failed", "cancelled")
BATCH = 500


class Finisher:
    def __init__(self, project, repo, config, clock, name: str):
        self.name = name
        self.project = project
        self.repo = repo
        self.config = config
        self.clock = clock

    def finish(self, fire_id: int | None = None) -> list[dict]:
        """Finish every launched fire whose run ended (or just `fire_id`); returns them."""
        rows: list[dict] = []
        if fire_id is None and not self.repo.has_finished_runs():
            return rows
        while True:
            batch, _ = self.repo.finalize(self._decide, self.clock.now(), self.name,
                                          fire_id=fire_id, limit=BATCH)
            rows.extend(batch)
            if len(batch) < BATCH:
                break
        for row in rows:
            log.info("scenario %s: fire %s %s", row["scenario_name"], row["id"],
                     row.get("_outcome"))
        return rows

    def _decide(self, rows: list[dict], previous: dict, watchers: list[dict]):
        now = self.clock.now()
        updates, new, deliveries = [], [], []
        for row in rows:
            spec = row["scenario_spec"]
            trigger_error = (row.get("details") or {}).get("trigger_error")
            if row["run_id"] is None and trigger_error:
                outcome, reason, status = "error", trigger_error, "error"
            elif row.get("run_status") in OUTCOMES:
                outcome, reason, status = row["run_status"], row.get("reason"), "done"
            else:
                outcome, reason, status = "failed", "its run record is gone", "done"
            row["_outcome"] = outcome
            run = {"status": row.get("run_status"), "error": row.get("run_error")}
            retry = policies.retry_of(row, run, outcome, spec["policies"], now)
            update = {"id": row["id"], "status": status, "outcome": outcome, "finished_at": now,
                      "reason": reason}
            if retry:
                update["status"] = "retried"
                update["reason"] = (f"{retry['details']['why']}: attempt {retry['attempt']} of "
                                    f"{spec['policies']['retries'] + 1} is due at "
                                    f"{policies._iso(retry['due_at'])}")
                new.append(dict(retry, scenario_id=row["scenario_id"], parent_id=row["id"],
                                trigger_position=row.get("trigger_position"),
                                due_key=f"retry:{row['id']}", coalesce=True))
                updates.append(update)
                continue
            updates.append(update)
            before = previous.get(row["scenario_id"])
            previous[row["scenario_id"]] = outcome
            deliveries.extend(self._deliveries(row, spec, outcome, before, now))
            for w in watchers:
                if w["spec"].get("scenario") == row["scenario_name"] and \
                        RunFinishedTrigger.matches(w["spec"], outcome):
                    new.append({"scenario_id": w["scenario_id"], "kind": "run_finished",
                                "trigger_position": w["position"], "due_at": now,
                                "due_key": f"after:{row['id']}",
                                "details": {"scenario": row["scenario_name"],
                                            "run_id": row["run_id"], "outcome": outcome}})
        return updates, new, deliveries

    def _deliveries(self, row, spec, outcome, before, now) -> list[dict]:
        reporters = spec.get("reporters", [])
        monitoring = self._monitoring(row["run_id"]) if reporters else None
        checks = monitoring["outcome"] if monitoring else None
        wanted = [(i, r) for i, r in enumerate(reporters)
                  if should_report(r.get("when", "always"), outcome, before, checks)]
        if not wanted:
            return []
        run = None
        if row["run_id"] is not None:
            try:
                run = self.project.runs.get(row["run_id"])
            except Exception:  # noqa: BLE001 - a report without run details beats no report
                log.exception("run %s could not be read for its report", row["run_id"])
        fire = {"id": row["id"], "kind": row["kind"], "attempt": row.get("attempt", 1),
                "due_at": policies._iso(row["due_at"]), "outcome": outcome,
                "reason": (row.get("details") or {}).get("trigger_error") or row.get("reason")}
        report = messages.build_report(
            project=self.project.settings.name,
            scenario={"id": row["scenario_id"], "name": row["scenario_name"]}, fire=fire, run=run,
            previous=before, link=self.config.link(row["run_id"]),
            trigger_text=trigger_text(row, spec), monitoring=monitoring)
        return [{"fire_id": row["id"], "scenario_id": row["scenario_id"], "position": i,
                 "kind": r["type"], "reporter": r, "report": report, "status": "pending",
                 "attempts": 0, "next_attempt_at": now, "lease_until": None, "last_error": None,
                 "created_at": now, "sent_at": None} for i, r in wanted]


    def _monitoring(self, run_id: int | None) -> dict | None:
        """The run's key metrics and check outcomes, which every report carries."""
        if run_id is None:
            return None
        try:
            return self.project.metrics.report(run_id)
        except Exception:  # noqa: BLE001 - a report without metrics beats no report
            log.exception("the metrics of run %s could not be read for its report", run_id)
            return None


def trigger_text(fire: dict, spec: dict) -> str:
    """Words for what fired a fire, for reports and the timeline."""
    details = fire.get("details") or {}
    kind = fire["kind"]
    if kind == "manual":
        return f"run now by {fire.get('created_by') or 'someone'}"
    if kind == "retry":
        return f"retry of fire {details.get('retry_of')} ({details.get('why', 'it failed')})"
    position = fire.get("trigger_position")
    triggers = spec.get("triggers", [])
    text = kind
    if position is not None and position < len(triggers) and triggers[position]:
        try:
            text = get_trigger(triggers[position]["type"]).describe(triggers[position])
        except Exception:  # noqa: BLE001
            text = kind
    if kind == "run_finished" and details.get("run_id"):
        text += f" (run {details['run_id']} {details.get('outcome')})"
    if kind == "drift" and details.get("checks"):
        text += ": " + "; ".join(details["checks"])
    if details.get("catch_up"):
        text += f", catching up {details.get('missed')} missed"
    return text
