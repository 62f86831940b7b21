"""The scenario policies, as pure functions of times and records (no I/O).

- misfire: a due time later than `misfire_grace` seconds is missed (the scheduler was down or
  stuck). `catch_up_once` (default) fires once for all the missed ones; `skip` records them as
  skipped. Due times within the grace fire normally, each once.
- overlap: when the scenario's previous run is still going, `skip` (default) records the fire as
  skipped, `queue` keeps it waiting. At most one fire per scenario waits: a later one is
  coalesced into it (recorded as skipped, pointing at the waiting one).
- a run of the project that is not this scenario's (the run service runs one at a time per
  project), or the global `max_concurrent_runs`, make a fire wait; it is never lost.
- retries: a failed run is fired again after `retry_delay` s, up to `retries` times, when it was
  lost (`retry_on: lost`, its process died) or for any failure (`retry_on: failure`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from ..words import counted

MAX_ENUMERATED = 10_000   # due times enumerated after a long downtime before jumping ahead
LOST_MARK = "stopped without finishing it"   # jupyter_mlprod.pipelines.service.RunService.reconcile


@dataclasses.dataclass
class DuePlan:
    fires: list[dict]          # {"due_at", "details"} to create as pending fires
    skipped: dict | None       # one skipped record standing for missed due times, or None
    next_at: dt.datetime       # the trigger's next due time, strictly after now


def plan_due(trigger, spec: dict, next_at: dt.datetime, anchor, now: dt.datetime,
             policies: dict) -> DuePlan:
    grace = dt.timedelta(seconds=policies.get("misfire_grace", 60))
    dues, cursor = [], next_at
    while cursor <= now and len(dues) < MAX_ENUMERATED:
        dues.append(cursor)
        cursor = trigger.next_due(spec, cursor, anchor)
    overflow = cursor <= now
    if overflow:            # a very long downtime: do not walk every due time
        cursor = trigger.next_due(spec, now, anchor)
    missed = [d for d in dues if now - d > grace]
    on_time = [d for d in dues if now - d <= grace]
    fires = [{"due_at": d, "details": {}} for d in on_time]
    skipped = None
    if missed:
        count = f"{len(missed)}{'+' if overflow else ''}"
        span = {"missed": count, "first_missed": _iso(missed[0]), "last_missed": _iso(missed[-1])}
        if policies.get("misfire") == "catch_up_once" and not on_time:
            fires.insert(0, {"due_at": missed[-1], "details": dict(span, catch_up=True)})
        else:
            why = ("a fire on time covers them" if on_time and policies.get("misfire") ==
                   "catch_up_once" else "misfire policy: skip")
            skipped = {"due_at": missed[-1], "details": span,
                       "reason": f"missed {counted(count, 'due time')} from {span['first_missed']} to "
                                 f"{span['last_missed']} while no scheduler ran ({why})"}
    return DuePlan(fires, skipped, cursor)


def is_lost(run: dict | None) -> bool:
    return bool(run and run.get("status") == "failed" and LOST_MARK in (run.get("error") or ""))


def retry_of(fire: dict, run: dict | None, outcome: str, policies: dict,
             now: dt.datetime) -> dict | None:
    """The retry fire to create for a finished fire, or None."""
    if outcome != "failed" or fire.get("attempt", 1) > policies.get("retries", 0):
        return None
    lost = is_lost(run)
    if policies.get("retry_on", "lost") == "lost" and not lost:
        return None
    why = "its run was lost" if lost else "its run failed"
    return {"due_at": now + dt.timedelta(seconds=policies.get("retry_delay", 60)),
            "attempt": fire.get("attempt", 1) + 1, "kind": "retry",
            "details": {"retry_of": fire["id"], "why": why}}


def backoff(attempts: int, base: float, cap: float = 600.0) -> float:
    """Seconds before resend number `attempts` (1, 2, ...): base, 2 base, 4 base... capped."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
