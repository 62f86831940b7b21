"""Turning triggers into fires: due times of cron and interval triggers (misfire policy), and
polls of file and SQL triggers (fingerprint changes). Each fire is created in the transaction
that advances the trigger's persisted state, so it exists exactly once."""
from __future__ import annotations

import datetime as dt
import logging

from . import policies
from .triggers import PollEnv, TriggerError, get_trigger, trigger_kinds
from ..words import counted

log = logging.getLogger(__name__)
BATCH = 500


def timed_kinds() -> list[str]:
    return [k for k in trigger_kinds() if get_trigger(k).timed]


def polled_kinds() -> list[str]:
    return [k for k in trigger_kinds() if get_trigger(k).polled]


class Firer:
    def __init__(self, project, repo, clock, name: str, hasher, environ):
        self.project = project
        self.repo = repo
        self.clock = clock
        self.name = name
        self.hasher = hasher
        self.environ = environ

    def _due(self, kinds) -> bool:
        """A cheap read before taking any lock: is a trigger of these kinds due?"""
        due = self.repo.next_due_at(kinds)
        return due is not None and due <= self.clock.now()

    # -- cron / interval --------------------------------------------------------------------
    def fire_due(self) -> list[dict]:
        created: list[dict] = []
        kinds = timed_kinds()
        if not self._due(kinds):
            return created
        while True:
            now = self.clock.now()
            rows, fires = self.repo.claim_due(now, kinds, BATCH, lambda r: self._plan(r, now),
                                              self.name)
            created.extend(fires)
            if len(rows) < BATCH:
                return created

    def _plan(self, rows: list[dict], now: dt.datetime):
        updates, fires = [], []
        for row in rows:
            trigger = get_trigger(row["kind"])
            pol = row["scenario_spec"]["policies"]
            try:
                plan = policies.plan_due(trigger, row["spec"], row["next_at"], row["anchor_at"],
                                         now, pol)
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
                log.exception("trigger %s of scenario %s cannot compute its due times",
                              row["position"], row["scenario_name"])
                updates.append({"id": row["id"], "next_at": None,
                                "last_error": f"{type(exc).__name__}: {exc}", "error_since": now})
                continue
            base = {"scenario_id": row["scenario_id"], "trigger_position": row["position"],
                    "kind": row["kind"]}
            if plan.fires and plan.fires[0]["details"].get("catch_up"):
                log.warning("scenario %s: missed %s while no scheduler ran; catching up once",
                            row["scenario_name"],
                            counted(plan.fires[0]["details"]["missed"], "due time"))
            for f in plan.fires:
                fires.append(dict(base, due_at=f["due_at"], details=f["details"],
                                  due_key=f"{row['key'][:12]}@{policies._iso(f['due_at'])}"))
            if plan.skipped:
                s = plan.skipped
                fires.append(dict(base, due_at=s["due_at"], details=s["details"], status="skipped",
                                  reason=s["reason"], finished_at=now, coalesce=False,
                                  due_key=f"{row['key'][:12]}@{policies._iso(s['due_at'])}"))
                log.warning("scenario %s: %s", row["scenario_name"], s["reason"])
            update = {"id": row["id"], "next_at": plan.next_at}
            if plan.fires:
                update["last_fired_at"] = now
            updates.append(update)
        return updates, fires

    # -- files / sql ------------------------------------------------------------------------
    def poll_due(self, stop=None) -> list[dict]:
        now = self.clock.now()
        kinds = polled_kinds()
        if not self._due(kinds):
            return []

        def plan(rows):
            return [{"id": r["id"], "next_at": now + dt.timedelta(
                seconds=get_trigger(r["kind"]).poll_seconds(r["spec"]))} for r in rows], []

        rows, _ = self.repo.claim_due(now, kinds, BATCH, plan, self.name)
        created = []
        env = PollEnv(self.project.root, self.hasher, self.environ, project=self.project)
        for row in rows:
            if stop is not None and stop.is_set():
                break
            created.extend(self.poll_one(row, env))
        self.hasher.save()
        return created

    def poll_one(self, row: dict, env: PollEnv) -> list[dict]:
        trigger = get_trigger(row["kind"])
        try:
            value, state = trigger.fingerprint(row["spec"], env)
            error = None
        except TriggerError as exc:
            value, state, error = None, None, exc.message
        except Exception as exc:  # noqa: BLE001 - recorded like any trigger error
            log.exception("trigger %s of scenario %s crashed", row["position"],
                          row["scenario_name"])
            value, state, error = None, None, f"internal error: {type(exc).__name__}: {exc}"
        now = self.clock.now()

        def decide(current):
            if not current["enabled"]:
                return {"last_checked_at": now}, []
            base = {"scenario_id": current["scenario_id"], "trigger_position": current["position"],
                    "kind": current["kind"]}
            if error is not None:
                values = {"last_checked_at": now, "last_error": error}
                if current["last_error"] is None:   # report the transition to failing, once
                    values["error_since"] = now
                    log.warning("scenario %s: trigger %s fails: %s", current["scenario_name"],
                                current["position"], error)
                    return values, [dict(base, due_at=now, status="launched", coalesce=False,
                                         due_key=f"error:{current['id']}@{policies._iso(now)}",
                                         details={"trigger_error": error})]
                return values, []
            values = {"last_checked_at": now, "last_error": None, "error_since": None,
                      "fingerprint": value, "state": state}
            if current["fingerprint"] is None or current["fingerprint"] == value:
                return values, []           # baseline, or nothing changed
            values["last_fired_at"] = now
            details = trigger.changes(current["state"], state)
            return values, [dict(base, due_at=now, details=details,
                                 due_key=f"{current['kind']}:{current['id']}:{value[:16]}@"
                                         f"{policies._iso(now)}")]

        return self.repo.with_trigger(row["id"], decide, now, self.name)
